"""``toon twins [FILES...] [--check] [--add]``: keep Markdown twins current."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import click

from ...config import ConfigError, load_config
from ...files import commit_temps
from .._output import ERROR, FINDINGS, OK, fail


def _candidates_for_orphans(root: Path, suffix: str) -> list[str]:
    """Files git knows (tracked, or untracked and not ignored) with ``suffix``."""
    from ...hooks.git import GitError, git

    try:
        out = git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard",
                  "--", f"*{suffix}")
    except GitError:
        return []
    rels = [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]
    return [os.path.relpath(root / p) for p in rels if (root / p).is_file()]


@click.command()
@click.argument("files", nargs=-1, metavar="[FILES...]")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 on a missing, stale or orphaned twin (CI).")
@click.option("--all", "every", is_flag=True, help="Every .toon file git knows, not just FILES.")
@click.option("--add", "stage", is_flag=True,
              help="Standalone hooks: build twins from the staged sources and stage them.")
def twins(files: tuple[str, ...], check_only: bool, every: bool, stage: bool) -> None:
    """Regenerate the Markdown twins of .toon files, and remove orphaned twins.

    FILES may include twins (a hand-edited twin is regenerated from its source).
    Orphaned twins (whose source is gone) are looked for in every run, so a hook
    that runs on a commit that only deletes sources still cleans up. A run that
    writes anything exits 1 and prints the `git add` to run (pre-commit only
    notices changes to tracked files; a new twin would otherwise stay untracked).
    """
    from ...hooks.git import GitError, toplevel
    from ...parallel import TWINS, map_in_order
    from ...hooks.twins import examine, find_orphans, plan

    try:
        cfg = load_config(Path(files[0]).resolve().parent if files else None)
    except ConfigError as e:
        fail(str(e))
    if stage:
        from .hooks import run_standalone

        raise SystemExit(run_standalone(only_twins=True))
    try:
        root = toplevel(Path.cwd())
    except GitError:
        root = Path.cwd()
    paths = list(files)
    if every:
        paths += _candidates_for_orphans(root, ".toon")  # tracked and untracked, not ignored
    from functools import partial

    pairs = plan(paths, cfg)
    results = map_in_order(partial(examine, write=not check_only), pairs, TWINS)
    try:
        commit_temps([(r.temp, r.twin) for r in results if r.temp is not None])
    except OSError as e:
        for r in results:
            if r.temp is not None and os.path.exists(r.temp):
                os.unlink(r.temp)
        fail(f"writing twins failed: {e.strerror or e}")
    orphans = find_orphans(_candidates_for_orphans(root, cfg["twins.suffix"]))

    status = OK
    written: list[str] = []
    for r in results:
        if r.error:
            click.echo(f"toon: error: {r.error}", err=True)
            status = max(status, FINDINGS if r.state == "invalid" else ERROR)
        elif r.state in ("created", "updated"):
            click.echo(f"{r.state} twin {r.twin}")
            written.append(r.twin)
        elif r.state != "current":  # --check
            click.echo(f"{r.twin}: {r.state} twin of {r.source}")
            status = max(status, FINDINGS)
    for orphan in orphans:
        if check_only:
            click.echo(f"{orphan}: orphaned twin (its source is gone)")
            status = max(status, FINDINGS)
            continue
        try:
            os.unlink(orphan)
        except OSError as e:
            click.echo(f"toon: error: {orphan}: {e.strerror or e}", err=True)
            status = ERROR
            continue
        click.echo(f"removed orphaned twin {orphan}")
        written.append(orphan)
    if written:
        click.echo("then run: git add -A -- " + " ".join(shlex.quote(p) for p in written))
        status = max(status, FINDINGS)
    raise SystemExit(status)
