"""Canonical formatting that keeps the data, each array's delimiter and every
comment in its place (``toon fmt``).

The document is decoded, re-encoded canonically (§2, §7-§12) and decoded again.
What the formatter promises, and checks on every run:

- the data: the re-encoded document decodes to the same value (keys of tabular
  rows may take the header's order, §9.3);
- delimiters: each array and keyed table keeps the delimiter its header declared
  (§6, §11); the document delimiter that decides the quoting of field values
  (§11.1) is the one of the first non-empty array, so it is stable from run to run;
- comments (§5.1): a full-line comment belongs to the next content line after
  it (blank lines skipped), or to the end of the document. Each such line starts
  one element (the decoder's ``trace`` gives its data path); the comment goes
  right before the output line that starts the same element, indented like it,
  in the original order.

When a comment's element has no line of its own in the canonical form (a field
of a list-item object that becomes a tabular row, say), no place keeps the
comment where it was: the document is then returned unchanged, never damaged.
"""

from __future__ import annotations

import codecs
from typing import Any

from ._decoder import decode_text
from ._encoder import Encoder
from ._scalars import COMMENT_LINE, DEFAULT_MAX_DEPTH, utf8_text

Path = tuple[Any, ...]


def format_text(
    text: str | bytes,
    *,
    indent_size: int = 2,
    delimiter: str | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> str:
    """Return ``text`` in canonical form, as file content: it ends with one
    newline (POSIX text files; the document itself has none, §12), or is empty
    for an empty document.

    ``delimiter`` (``","``, ``"\\t"``, ``"|"``) rewrites every array with that
    delimiter; by default each keeps its own. Raises :class:`ToonDecodeError`
    for an invalid document (strict mode always: formatting guesses nothing).
    Returns ``text`` itself when formatting could not keep every comment in its
    place (see the module docstring); ``format_text(format_text(t))`` is always
    ``format_text(t)``. ``bytes`` must be UTF-8 (§4): they are decoded first,
    and the result is text all the same.
    """
    if not isinstance(text, str):
        data = bytes(text)
        # keep the mark in ``text``: an unchanged document is returned as it came
        text = ("\ufeff" if data.startswith(codecs.BOM_UTF8) else "") + utf8_text(data)
    source = text[1:] if text.startswith("\ufeff") else text
    lines = source.split("\n")
    if "\r" in source:  # §12: a CR before LF belongs to the line terminator
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    has_comments = "#" in source and any(COMMENT_LINE.match(line) for line in lines)
    trace: dict[int, Path] | None = {} if has_comments else None
    arrays: dict[int, tuple[str, Any]] | None = None if delimiter else {}
    value = decode_text(source, indent_size=indent_size, max_depth=max_depth,
                        trace=trace, arrays=arrays)
    if arrays is not None:
        delimiter = _document_delimiter(arrays)
    assert delimiter is not None
    encoder = Encoder(indent_size=indent_size, delimiter=delimiter, max_depth=max_depth,
                      array_delimiters=arrays)
    out = [line for chunk in encoder.chunks(value) for line in chunk]
    out_trace: dict[int, Path] | None = {} if has_comments else None
    again = decode_text("\n".join(out), indent_size=indent_size, max_depth=max_depth,
                        trace=out_trace) if out else {}
    if not same_data(value, again):  # a bug, never the user's: keep their file
        return text
    if trace is None or out_trace is None:
        return "\n".join(out) + "\n" if out else ""
    placed = _with_comments(lines, trace, out, out_trace)
    return text if placed is None else placed


def _document_delimiter(arrays: dict[int, tuple[str, Any]]) -> str:
    """The delimiter of the first non-empty array (§11.1 document delimiter).

    Every non-empty array has a header in any TOON text, in value order, so this
    is the same before and after formatting (an empty array or a keyed table may
    lose or gain its header)."""
    for delim, container in arrays.values():
        if type(container) is list and container:
            return delim
    return ","


def _with_comments(
    lines: list[str], trace: dict[int, Path], out: list[str], out_trace: dict[int, Path]
) -> str | None:
    """``out`` with the comments of ``lines`` put back, or None if one of them
    has no place that keeps it with its line."""
    line_of: dict[Path, int] = {}
    for number in sorted(out_trace):
        line_of.setdefault(out_trace[number], number)
    before: dict[int, list[str]] = {}
    pending: list[str] = []
    last = 0
    for number, line in enumerate(lines, 1):
        if COMMENT_LINE.match(line):
            pending.append(line.lstrip(" "))
        elif pending and line.strip(" \t"):  # a content line (§12 blank: spaces/tabs)
            path = trace.get(number)
            anchor = line_of.get(path) if path is not None else None
            if anchor is None or anchor < last:
                return None
            before.setdefault(anchor, []).extend(pending)
            pending = []
            last = anchor
    result: list[str] = []
    for number, line in enumerate(out, 1):
        comments = before.get(number)
        if comments is not None:
            indent = line[: len(line) - len(line.lstrip(" "))]
            result.extend(indent + comment for comment in comments)
        result.append(line)
    result.extend(pending)  # comments after the last content line stay at the end
    return "\n".join(result) + "\n" if result else ""


def same_data(a: Any, b: Any) -> bool:
    """JSON-model equality (§2): types, values and keys; key order is free, as
    tabular rows take the header's order (§9.3); an integral float and the int
    it is written as (``1e20``) are the same number."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        tx, ty = type(x), type(y)
        if tx is dict:
            if ty is not dict or x.keys() != y.keys():
                return False
            pending.extend((v, y[k]) for k, v in x.items())
        elif tx is list:
            if ty is not list or len(x) != len(y):
                return False
            pending.extend(zip(x, y))
        elif tx is not ty:
            if not (tx in (int, float) and ty in (int, float)):
                return False
            try:
                if float(x) != float(y):
                    return False
            except OverflowError:
                return False
        elif x != y:
            return False
    return True
