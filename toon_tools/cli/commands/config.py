"""``toon config``: every setting, its value, and where the value came from."""

from __future__ import annotations

import json

import click

from ...config import SETTINGS, load_config


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def config(as_json: bool) -> int:
    """Print the resolved settings and where each came from."""
    cfg = load_config()  # a bad config file is reported by main() (exit 2)
    if as_json:
        click.echo(json.dumps({s.key: {"value": cfg[s.key], "from": cfg.origins[s.key]}
                               for s in SETTINGS}, indent=2))
        return 0
    click.echo(f"config file: {cfg.file or '(none)'}")
    width = max(len(s.key) for s in SETTINGS)
    for s in SETTINGS:
        value = cfg[s.key]
        shown = json.dumps(value) if value is not None else "(unset)"
        if s.key == "cache-dir" and value is None:
            shown = f"(default) {cfg.cache_dir()}"
        click.echo(f"{s.key:<{width}}  {shown:<28}  from {cfg.origins[s.key]}")
    return 0
