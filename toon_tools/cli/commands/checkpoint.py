"""``toon checkpoint [--repo DIR] [-o FILE]``: a TOON snapshot of a git repository."""

from __future__ import annotations

import sys

import click

from ...files import atomic_write
from .._output import FINDINGS, fail


@click.command()
@click.option("--repo", default=".", show_default=True, help="The repository.")
@click.option("--output", "-o", default="-", metavar="FILE", help="Write here (atomically).")
@click.option("--tasks", "task_files", multiple=True, metavar="FILE",
              help="Markdown task lists to read [default: TASKLIST.md and TODO.md].")
@click.option("--commits", default=10, show_default=True, type=click.IntRange(0),
              help="How many recent commits.")
def checkpoint(repo: str, output: str, task_files: tuple[str, ...], commits: int) -> None:
    """Snapshot branch, upstream, changes, submodules, commits and open tasks."""
    from ...codec import encode
    from ...convert.checkpoint import DEFAULT_TASK_FILES, checkpoint as snapshot
    from ...convert.registry import ConversionError

    try:
        text = encode(snapshot(repo, task_files or DEFAULT_TASK_FILES, commits))
    except ConversionError as e:
        fail(str(e), FINDINGS)
    if output == "-":
        sys.stdout.write(text + "\n")
        return
    try:
        atomic_write(output, text + "\n")
    except OSError as e:
        fail(f"{output}: {e.strerror or e}")
