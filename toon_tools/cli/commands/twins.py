"""``toon twins [FILES...] [--check] [--all] [--add]``: keep Markdown twins current
(the work is :func:`toon_tools.hooks.twins.update`)."""

from __future__ import annotations

import errno
import os
import shlex
from pathlib import Path

import click

from .._diagnostics import Diagnostic, formats_option, whole_file
from .._completion import toon_paths
from .._files import file_options
from .._watch import watch_option
from .._output import ERROR, FINDINGS, OK, describe, diagnostic, error, escape


@click.command()
@click.argument("files", nargs=-1, metavar="[FILES...]",
                shell_complete=toon_paths((".toon", ".md")))
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 on a missing, stale, orphaned or conflicting twin (CI).")
@click.option("--all", "every", is_flag=True, help="Every .toon file git knows, not just FILES.")
@click.option("--add", "stage", is_flag=True,
              help="Standalone hooks: build twins from the staged sources and stage them.")
@click.option("--skip-invalid", is_flag=True,
              help="Pass over invalid .toon files silently (the pre-commit hooks pass this: "
                   "toon check reports them).")
@formats_option("For twins the findings are invalid sources and conflicting files and, "
                 "with --check, stale, missing and orphaned twins; each names a file that "
                 "exists (a missing twin: its source). Not with --add.")
@file_options
@watch_option
def twins(files: tuple[str, ...], check_only: bool, every: bool, stage: bool,
          skip_invalid: bool, output_format: str, force_exclude: bool) -> int:
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
    from .._diagnostics import FORMATS

    printer = FORMATS[output_format]
    if stage and printer is not None:
        raise click.UsageError(f"--add reports as the standalone hook does; --format "
                               f"{output_format} is for --check and plain runs")
    cfg = load_config(Path(files[0]).resolve().parent if files else None)
    if stage:
        from ...hooks.standalone import run
        from .._hook_report import print_report

        return print_report(run(Path.cwd(), only_twins=True))
    from ...hooks.git import GitError, toplevel
    from ...hooks.twins import update

    # A named path that is not there is an error, as in check and fmt: a typo in
    # a CI step must not pass as "every twin current". The rest still runs.
    missing = [f for f in files if not os.path.lexists(f)]
    for name in missing:
        error(describe(FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)))
    files = tuple(f for f in files if f not in missing)
    try:
        root = toplevel(Path.cwd())
    except GitError:
        root = Path.cwd()
    from ...errors import ToolError

    try:
        done = update(files, cfg, root=root, check=check_only, every=every,
                      force_exclude=force_exclude)
    except ToolError as e:
        if printer is None:
            raise
        error(describe(e))
        printer([])  # a consumer of a machine format always gets its document
        return ERROR

    # With a machine format stdout holds its document only: what a person reads
    # (what was written, the git add to run) goes to stderr.
    machine = printer is not None
    found: list[Diagnostic] = []
    status = OK
    written: list[str] = []
    for r in done.results:
        if r.problem is not None:
            if r.state == "invalid" and skip_invalid:
                continue
            p = r.problem
            if p.exit_code == FINDINGS and p.path:
                if p.line and p.column:
                    found.append(_decode_finding(p.path, p.line, p.column, p.message))
                else:
                    found.append(whole_file(p.path, p.message, f"twin-{r.state}"))
            if machine and p.exit_code == FINDINGS and p.path:
                pass  # in the document
            elif r.source_text is not None and p.path and p.line and p.column:
                click.echo(diagnostic(p.path, p.line, p.column, p.message, r.source_text))
            else:
                error(describe(p))
            status = max(status, p.exit_code)
        elif r.state in ("created", "updated"):
            click.echo(f"{r.state} twin {escape(r.twin)}", err=machine)
            written.append(r.twin)
        elif r.state != "current":  # --check
            if r.state == "missing":  # annotate a file that exists: the source
                found.append(whole_file(r.source, f"its twin {r.twin} is missing",
                                        "twin-missing"))
            else:
                found.append(whole_file(r.twin, f"{r.state} twin of {r.source}",
                                        f"twin-{r.state}"))
            if not machine:
                click.echo(f"{escape(r.twin)}: {r.state} twin of {escape(r.source)}")
            status = max(status, FINDINGS)
    for orphan in done.orphans:
        if check_only:
            found.append(whole_file(orphan, "orphaned twin (its source is gone)",
                                    "twin-orphaned"))
            if not machine:
                click.echo(f"{escape(orphan)}: orphaned twin (its source is gone)")
            status = max(status, FINDINGS)
        else:
            click.echo(f"removed orphaned twin {escape(orphan)}", err=machine)
            written.append(orphan)
    for problem in done.problems:
        error(describe(problem))
        status = ERROR
    if missing:
        status = ERROR
    if written:
        click.echo("then run: git add -A -- " + escape(" ".join(shlex.quote(p) for p in written)),
                   err=machine)
        status = max(status, FINDINGS)
    if printer is not None:
        printer(found)
    return status


def _decode_finding(path: str, line: int, column: int, message: str) -> Diagnostic:
    """An invalid source as ``toon check`` reports it (an array cut short is a
    "count" finding with ``declared`` and ``found``): the twin upkeep keeps only
    the message and position, so the file is decoded again (it was just read,
    and only invalid sources come here). As it was if that now tells otherwise."""
    from ...codec import ToonDecodeError, decode
    from .check import decode_diagnostic

    try:
        with open(path, "rb") as fh:
            decode(fh.read())
    except ToonDecodeError as e:
        if (e.line, e.column) == (line, column):
            return decode_diagnostic(path, e)
    except OSError:
        pass
    return Diagnostic(path, line, column, line, column + 1, message, "decode")
