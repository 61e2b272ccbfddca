"""``toon twins [FILES...] [--check] [--all] [--add]``: keep Markdown twins current
(the work is :func:`toon_tools.hooks.twins.update`)."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from .._files import file_options
from .._watch import watch_option
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape


@click.command()
@click.argument("files", nargs=-1, metavar="[FILES...]")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 on a missing, stale, orphaned or conflicting twin (CI).")
@click.option("--all", "every", is_flag=True, help="Every .toon file git knows, not just FILES.")
@click.option("--add", "stage", is_flag=True,
              help="Standalone hooks: build twins from the staged sources and stage them.")
@click.option("--skip-invalid", is_flag=True,
              help="Pass over invalid .toon files silently (the pre-commit hooks pass this: "
                   "toon check reports them).")
@file_options
@watch_option
def twins(files: tuple[str, ...], check_only: bool, every: bool, stage: bool,
          skip_invalid: bool, force_exclude: bool) -> int:
    """Regenerate the Markdown twins of .toon files, and remove orphaned twins.

    FILES may include twins (a hand-edited twin is regenerated from its source)
    and folders (searched for .toon files). A file in a twin's place that is not
    a twin of that source is reported and never replaced. Orphaned twins (whose
    source is gone) are looked for in every run, so a hook that runs on a commit
    that only deletes sources still cleans up. A run that writes anything exits 1
    and prints the `git add` to run (pre-commit only notices changes to tracked
    files; a new twin would otherwise stay untracked).
    """
    from ...config import load_config

    cfg = load_config(Path(files[0]).resolve().parent if files else None)
    if stage:
        from ...hooks.standalone import run
        from .._hook_report import print_report

        return print_report(run(Path.cwd(), only_twins=True))
    from ...hooks.git import GitError, toplevel
    from ...hooks.twins import update

    try:
        root = toplevel(Path.cwd())
    except GitError:
        root = Path.cwd()
    done = update(files, cfg, root=root, check=check_only, every=every,
                  force_exclude=force_exclude)

    status = OK
    written: list[str] = []
    for r in done.results:
        if r.problem is not None:
            if r.state == "invalid" and skip_invalid:
                continue
            p = r.problem
            if r.source_text is not None and p.path and p.line and p.column:
                click.echo(diagnostic(p.path, p.line, p.column, p.message, r.source_text))
            else:
                error(describe(p))
            status = max(status, p.exit_code)
        elif r.state in ("created", "updated"):
            click.echo(f"{r.state} twin {escape(r.twin)}")
            written.append(r.twin)
        elif r.state != "current":  # --check
            click.echo(f"{escape(r.twin)}: {r.state} twin of {escape(r.source)}")
            status = max(status, FINDINGS)
    for orphan in done.orphans:
        if check_only:
            click.echo(f"{escape(orphan)}: orphaned twin (its source is gone)")
            status = max(status, FINDINGS)
        else:
            click.echo(f"removed orphaned twin {escape(orphan)}")
            written.append(orphan)
    for problem in done.problems:
        error(describe(problem))
        status = ERROR
    if written:
        click.echo("then run: git add -A -- " + escape(" ".join(shlex.quote(p) for p in written)))
        status = max(status, FINDINGS)
    return status
