"""Reading the one document from stdin: ``toon check -`` and ``toon fmt -``.

``--stdin-filename PATH`` names it, as ruff, black and prettier have it: for
messages (``-`` otherwise, as ruff shows it), for ``[tool.toon] exclude`` (with
``--force-exclude``: the hooks' and editors' convention) and for which schema
applies. Like ruff, ``--stdin-filename`` without FILES reads stdin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

STDIN = "-"


def stdin_option(command: F) -> F:
    return click.option(
        "--stdin-filename", metavar="PATH", default=None,
        help="The name of the document read from stdin ('-'): shown in messages (else "
             "'-'), matched by [tool.toon] exclude with --force-exclude, and by "
             "[tool.toon.schemas]. Without FILES, stdin is read.")(command)


def reads_stdin(files: tuple[str, ...], stdin_filename: str | None) -> bool:
    """Whether the command reads stdin; '-' mixed with files, or
    ``--stdin-filename`` with files, is a usage error (exit 2)."""
    if STDIN in files:
        if len(files) > 1:
            raise click.UsageError("'-' (stdin) cannot be mixed with files")
        return True
    if stdin_filename is not None:
        if files:
            raise click.UsageError("--stdin-filename is only for '-' (stdin), not with files")
        return True
    return False


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()
