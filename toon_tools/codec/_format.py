"""Canonical formatting that keeps the user's comments (``toon fmt``).

A plain decode-then-encode would delete full-line comments (§5.1). Instead each
comment block is anchored to the data path of the line that follows it (the
decoder's ``trace``), and put back before the line that starts the same path in
the canonical output, indented like that line. When the path no longer has a
line of its own (a nested object collapsed into a keyed table row, say), the
block goes before the line of its nearest enclosing path.
"""

from __future__ import annotations

from typing import Any

from ._decoder import decode_text
from ._encoder import Encoder
from ._scalars import COMMENT_LINE as _COMMENT, DEFAULT_MAX_DEPTH, HEADER_MARK


def detect_delimiter(text: str) -> str:
    """The delimiter the document's first array header declares (comma if none)."""
    m = HEADER_MARK.search(text)
    return m.group(1) or "," if m else ","


def format_text(
    text: str,
    *,
    indent_size: int = 2,
    delimiter: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """Return ``text`` in canonical form, comments kept, as file content.

    The result ends with one newline (POSIX text files; the document itself has
    none, §12), or is empty for an empty document. Raises ToonDecodeError for an
    invalid document; strict mode always, since formatting guesses nothing.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    has_comments = "#" in text and any(_COMMENT.match(line) for line in lines)
    trace: dict[int, tuple[Any, ...]] | None = {} if has_comments else None
    value = decode_text(text, indent_size=indent_size, max_depth=max_depth, trace=trace)
    encoder = Encoder(
        indent_size=indent_size,
        delimiter=delimiter or detect_delimiter(text),
        max_depth=max_depth,
    )
    out = [line for chunk in encoder.chunks(value) for line in chunk]
    if trace is None:
        return "\n".join(out) + "\n" if out else ""
    return _with_comments(lines, trace, out, indent_size, max_depth)


def _with_comments(
    lines: list[str],
    trace: dict[int, tuple[Any, ...]],
    out: list[str],
    indent_size: int,
    max_depth: int,
) -> str:
    out_trace: dict[int, tuple[Any, ...]] = {}
    if out:
        decode_text("\n".join(out), indent_size=indent_size, max_depth=max_depth, trace=out_trace)
    line_of: dict[tuple[Any, ...], int] = {}
    for number in sorted(out_trace):
        line_of.setdefault(out_trace[number], number)

    before: dict[int, list[str]] = {}
    pending: list[str] = []
    for number, line in enumerate(lines, 1):
        if _COMMENT.match(line):
            pending.append(line.lstrip(" "))
        elif line.strip(" ") and pending:
            before.setdefault(_anchor(trace.get(number, ()), line_of), []).extend(pending)
            pending = []

    result: list[str] = []
    for number, line in enumerate(out, 1):
        if number in before:
            indent = line[: len(line) - len(line.lstrip(" "))]
            result.extend(indent + comment for comment in before[number])
        result.append(line)
    result.extend(pending)  # comments after the last line stay at the end
    return "\n".join(result) + "\n" if result else ""


def _anchor(path: tuple[Any, ...], line_of: dict[tuple[Any, ...], int]) -> int:
    while path:
        if path in line_of:
            return line_of[path]
        path = path[:-1]
    return line_of.get((), 1)
