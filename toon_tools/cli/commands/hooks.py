"""``toon hooks install [--force]`` and ``toon hooks run`` (the standalone git hook,
for teams without the pre-commit framework; see :mod:`toon_tools.hooks.standalone`)."""

from __future__ import annotations

from pathlib import Path

import click

from .._output import escape


@click.group()
def hooks() -> None:
    """Install or run the standalone git pre-commit hook."""


@hooks.command()
@click.option("--force", is_flag=True,
              help="Replace a pre-commit hook that toon did not write. It is kept as "
                   "pre-commit.before-toon (or .before-toon.1, ... if that name is taken) "
                   "and no longer runs: the new hook does not chain to it.")
def install(force: bool) -> int:
    """Write .git/hooks/pre-commit (respecting core.hooksPath).

    A pre-commit hook that toon did not write is refused unless --force. With
    --force it is kept as pre-commit.before-toon but no longer run (not chained):
    if you still need it, call it from your own hook instead, or use the
    pre-commit framework (see the README).
    """
    from ...hooks.standalone import install as install_hook

    done = install_hook(Path.cwd(), force=force)
    if done.backup is not None:
        click.echo(f"kept the previous hook as {escape(str(done.backup))}; it is no longer "
                   "run (run it from there, or call it from your own hook, if you still "
                   "need it)")
    click.echo(f"installed {escape(str(done.hook))}")
    return 0


@hooks.command()
def run() -> int:
    """What the standalone hook runs: check, format, twins and budgets of the
    staged .toon files, staging its changes itself."""
    from ...hooks.standalone import run as run_hook
    from .._hook_report import print_report

    return print_report(run_hook(Path.cwd()))
