"""How the CLI reports: exit codes, one-line errors, diagnostics with a caret."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

OK = 0
FINDINGS = 1
ERROR = 2


class CliError(click.ClickException):
    """A one-line ``toon: error: ...`` message; exit code 2 unless told otherwise."""

    exit_code = ERROR

    def __init__(self, message: str, exit_code: int = ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a class default

    def show(self, file: object = None) -> None:
        click.echo(f"toon: error: {self.format_message()}", err=True)


def fail(message: str, exit_code: int = ERROR) -> NoReturn:
    """Stop with a one-line error: ERROR (2) for usage and I/O, FINDINGS (1) for
    input that is not a valid document."""
    raise CliError(message, exit_code)


def os_error_message(path: str, e: OSError) -> str:
    reason = e.strerror or str(e)
    return f"{path}: {reason}"


def diagnostic(path: str, line: int, column: int, message: str, source: str | None) -> str:
    """``path:line:col: message`` then the offending line and a caret under the column."""
    head = f"{path}:{line}:{column}: {message}"
    if source is None:
        return head
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return head
    text = lines[line - 1].rstrip("\r")
    # Keep tabs so the caret lines up under the same column in a terminal.
    pad = "".join(ch if ch == "\t" else " " for ch in text[: column - 1])
    return f"{head}\n  {text}\n  {pad}^"


def read_bytes(path: str) -> bytes:
    """Read a file, or stdin for ``-``; OSError becomes a CliError."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except IsADirectoryError:
        fail(f"{path}: is a directory")
    except OSError as e:
        fail(os_error_message(path, e))
