"""Findings as data, and the output formats they print in (``--format``).

A command collects :class:`Diagnostic` values; a format turns them into text.
``text`` prints each one as it comes (``path:line:col: message [rule]`` and a
caret line); ``json`` prints one document at the end, a list of objects with
``path, line, column, end_line, end_column, severity, code, message`` (issue 14),
plus a finding's own keys (``rule`` and ``pointer`` for a schema violation,
``declared`` and ``found`` for an array cut short). Exit codes never depend on
the format. New formats (github, sarif) add a renderer to :data:`FORMATS`.

Errors that stop a file from being checked at all (unreadable file, unusable
schema) are not findings: they stay one-line ``toon: error:`` messages on
stderr in every format, and exit 2.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import click

from ._output import diagnostic


@dataclass(frozen=True)
class Diagnostic:
    """One finding in one file; positions are 1-based, ``end_column`` one past
    the last character. ``rule`` (a schema path) is shown in brackets."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    code: str
    severity: str = "error"
    rule: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path, "line": self.line, "column": self.column,
            "end_line": self.end_line, "end_column": self.end_column,
            "severity": self.severity, "code": self.code, "message": self.message}
        if self.rule is not None:
            out["rule"] = self.rule
        out.update(self.extra)
        return out

    def text(self, source: str | None) -> str:
        """``path:line:col: message [rule]`` and, with ``source``, the line and a caret."""
        message = f"{self.message} [{self.rule}]" if self.rule else self.message
        return diagnostic(self.path, self.line, self.column, message, source)


def _print_json(diagnostics: Sequence[Diagnostic]) -> None:
    import json  # only for --format json: `toon check` starts without it

    click.echo(json.dumps([d.as_dict() for d in diagnostics], indent=2, ensure_ascii=False))


#: Format name -> what prints the collected diagnostics at the end (None: each
#: file's text report is printed as it comes).
FORMATS: dict[str, Callable[[Sequence[Diagnostic]], None] | None] = {
    "text": None,
    "json": _print_json,
}


def format_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--format text|json`` (default text)."""
    return click.option(
        "--format", "output_format", type=click.Choice(list(FORMATS)), default="text",
        show_default=True,
        help="text: path:line:col: message with a caret, as found; json: one JSON list of "
             "{path, line, column, end_line, end_column, severity, code, message} on stdout "
             "at the end. Exit codes are the same.")(command)
