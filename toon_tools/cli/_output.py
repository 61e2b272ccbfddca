"""How the CLI reports: exit codes, one-line errors, diagnostics with a caret.

Every message that names a file or quotes a file's text goes through
:func:`escape`, so a file name or a binary file can never send control
sequences to the terminal.
"""

from __future__ import annotations

import re
import sys
from typing import NoReturn

import click

from ..errors import ERROR, FINDINGS, ToolError, exit_code_of

OK = 0
__all__ = ["ERROR", "FINDINGS", "OK", "CliError", "describe", "diagnostic", "error", "escape",
           "exit_code_of", "fail", "position", "read_bytes", "warning"]

# C0 controls but tab, DEL, C1 controls, and the line/paragraph separators that
# some terminals and editors treat as line breaks.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_one(m: re.Match[str]) -> str:
    ch = m.group()
    return {"\n": "\\n", "\r": "\\r"}.get(ch) or (
        f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")


def escape(text: str) -> str:
    """``text`` with control characters written as escapes (``\\n``, ``\\x1b``), and
    undecodable bytes (surrogate escapes) as ``\\xNN``: safe to print on one line."""
    text = _CONTROL.sub(_escape_one, text)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = "".join(f"\\x{ord(ch) - 0xdc00:02x}" if "\udc80" <= ch <= "\udcff" else ch
                       for ch in text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class CliError(click.ClickException):
    """A one-line ``toon: error: ...`` message; exit code 2 unless told otherwise."""

    exit_code = ERROR

    def __init__(self, message: str, exit_code: int = ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click declares a class default

    def show(self, file: object = None) -> None:
        error(self.format_message())


def fail(message: str, exit_code: int = ERROR) -> NoReturn:
    """Stop with a one-line error: ERROR (2) for usage and I/O, FINDINGS (1) for
    input that is not a valid document. ``message`` is escaped when printed."""
    raise CliError(message, exit_code)


def error(message: str) -> None:
    """``toon: error: message`` on stderr, escaped, on one line."""
    click.echo(f"toon: error: {escape(message)}", err=True)


def warning(message: str) -> None:
    click.echo(f"toon: warning: {escape(message)}", err=True)


def position(path: str | None, line: int | None, column: int | None, message: str) -> str:
    """``path:line:col: message`` (the parts that are known), escaped, one line."""
    where = ":".join(str(p) for p in (path, line, column) if p is not None)
    return escape(f"{where}: {message}" if where else message)


def describe(err: BaseException, path: str | None = None) -> str:
    """One line for any error toon-tools reports: its position (``path`` when the
    error does not name its own file) and its message."""
    if isinstance(err, ToolError):
        return position(err.path or path, err.line, err.column, err.message)
    if isinstance(err, OSError):
        name = err.filename if err.filename is not None else path
        reason = "is a directory" if isinstance(err, IsADirectoryError) else (
            err.strerror or str(err))
        return position(str(name) if name is not None else None, None, None, reason)
    return position(path, None, None, str(err))


def diagnostic(path: str, line: int, column: int, message: str, source: str | None) -> str:
    """``path:line:col: message`` then the offending line and a caret under the column."""
    head = position(path, line, column, message)
    if source is None:
        return head
    lines = source.split("\n")
    if not 1 <= line <= len(lines):
        return head
    text = lines[line - 1].rstrip("\r")
    # Keep tabs so the caret lines up under the same column in a terminal; any
    # other control character is shown escaped, and the caret follows it.
    shown = [ch if ch == "\t" else escape(ch) for ch in text]
    pad = "".join("\t" if ch == "\t" else " " * len(ch) for ch in shown[: column - 1])
    return f"{head}\n  {''.join(shown)}\n  {pad}^"


def os_error_message(path: str, e: OSError) -> str:
    return describe(e if e.filename is not None else OSError(e.errno, e.strerror, path))


def read_bytes(path: str) -> bytes:
    """Read a file, or stdin for ``-``; OSError becomes a CliError."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as e:
        fail(os_error_message(path, e))


def write_output(path: str, text: str) -> None:
    """Write a command's result to stdout for ``-``, else atomically to ``path``
    (a temporary file renamed); OSError becomes a CliError naming ``path``."""
    if path == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from ..files import atomic_write

    try:
        atomic_write(path, text)
    except OSError as e:  # name the output, not the temporary file beside it
        fail(describe(OSError(e.errno, e.strerror, path)))
