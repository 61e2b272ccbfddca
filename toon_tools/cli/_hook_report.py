"""How the standalone hook's report is printed, by ``toon hooks run`` and
``toon twins --add`` alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ._output import describe, diagnostic, error, escape

if TYPE_CHECKING:
    from ..hooks.standalone import HookReport


def print_report(report: HookReport) -> int:
    """Print what the hook found and did; return its exit code."""
    for problem in report.problems:
        err = problem.error
        if problem.source is not None and err.path and err.line and err.column:
            click.echo(diagnostic(err.path, err.line, err.column, err.message, problem.source))
        else:
            error(describe(err))
    for f in report.formatted:
        click.echo(f"formatted {escape(f.path)}" if f.worktree else
                   f"formatted {escape(f.path)} in the index; its unstaged edits are untouched")
    for twin in report.staged_twins:
        click.echo(f"staged twin {escape(twin)}")
    for twin in report.removed_orphans:
        click.echo(f"removed orphaned twin {escape(twin)}")
    for overrun in report.overruns:
        click.echo(f"over budget: {escape(str(overrun))}", err=True)
    if report.emptied:
        error("nothing left to commit: the staged changes were formatting only, and once "
              "formatted the files are as in HEAD")
    return report.exit_code
