"""``toon checkpoint [--repo DIR] [-o FILE]``: a TOON snapshot of a git repository.

A folder that is not a repository is an environment error (exit 2), raised as
``GitError`` and reported by ``toon_tools.cli.main`` in one line.
"""

from __future__ import annotations


import click

from .._output import OK, write_output


@click.command()
@click.option("--repo", default=".", show_default=True, help="The repository.")
@click.option("--output", "-o", default="-", metavar="FILE",
              help="Write here (atomically) instead of stdout.")
@click.option("--tasks", "task_files", multiple=True, metavar="FILE",
              help="Markdown task lists to read [default: TASKLIST.md and TODO.md].")
@click.option("--commits", default=10, show_default=True, type=click.IntRange(0),
              help="How many recent commits.")
def checkpoint(repo: str, output: str, task_files: tuple[str, ...], commits: int) -> int:
    """Snapshot branch, upstream, changes, submodules, commits and open tasks."""
    from ...codec import encode
    from ...convert.checkpoint import DEFAULT_TASK_FILES, checkpoint as snapshot

    write_output(output, encode(snapshot(repo, task_files or DEFAULT_TASK_FILES, commits)) + "\n")
    return OK
