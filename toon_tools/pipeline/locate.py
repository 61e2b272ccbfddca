"""Where a key or a value of a decoded TOON document sits in its text.

The decoder returns plain data, so the pipeline validator asks this module for
the position of what it refuses (``steps[2].batch`` -> line 14, column 12). It
reads only the structure it needs: object fields at one depth (§8), expanded
list items with their first field on the hyphen line (§10) and tabular rows
(§9.3). It runs on text that already decoded, so it may assume the document is
valid, with the indentation it decoded with (§12); comment lines are skipped
(§5.1). Keys are unique within an object (§14.3), so a key names one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

Keys = tuple[str | int, ...]

_ESCAPES: Final = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class _Scope:
    start: int  # first line (0-based) of the scope's own lines
    end: int  # one past its last line
    column: int  # column (0-based) where its fields or items begin
    hyphen: int | None = None  # a list item's hyphen line, which carries its first field
    rows: tuple[str, ...] | None = None  # a tabular array: the header's field names
    header: int | None = None  # ... and the header's line
    row: bool = False  # one row of a tabular array


@dataclass(frozen=True)
class _Found:
    line: int
    key_column: int
    value_column: int | None  # None when the value starts on later lines
    scope: _Scope


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _significant(line: str) -> bool:
    content = line.strip(" ")
    return bool(content) and not content.startswith("#")


def _key_token(content: str) -> tuple[str, int] | None:
    """The key at the start of a field line's content, and where the key ends."""
    if content.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(content):
            ch = content[i]
            if ch == '"':
                return "".join(out), i + 1
            if ch == "\\" and i + 1 < len(content):
                out.append(_ESCAPES.get(content[i + 1], content[i + 1]))
                i += 2
                continue
            out.append(ch)
            i += 1
        return None
    ends = [i for i in (content.find(":"), content.find("[")) if i >= 0]
    if not ends:
        return None
    end = min(ends)
    return content[:end].rstrip(" "), end


def _header_fields(rest: str) -> tuple[str, ...] | None:
    """The field names of a tabular header's ``{...}`` segment, if there is one."""
    close = rest.find("]")
    if not rest.startswith("[") or close < 0 or not rest.startswith("{", close + 1):
        return None
    inner = rest[close + 2:rest.find("}", close)]
    delimiter = next((d for d in ("\t", "|") if d in rest[:close]), ",")
    fields = []
    for part in inner.split(delimiter):
        part = part.strip()
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except ValueError:
                pass
        fields.append(part)
    return tuple(fields)


class Locator:
    """Positions (1-based line and column) of keys and values in one TOON text."""

    def __init__(self, text: str, indent_size: int = 2) -> None:
        self.lines = [line.rstrip("\r") for line in text.split("\n")]
        self.step = indent_size

    def _end(self, after: int, column: int, limit: int) -> int:
        """The first line after ``after`` that is back at ``column`` or less."""
        for i in range(after + 1, limit):
            if _significant(self.lines[i]) and _indent(self.lines[i]) <= column:
                return i
        return limit

    def _field(self, scope: _Scope, key: str) -> _Found | None:
        candidates: list[tuple[int, int]] = []
        if scope.hyphen is not None:
            candidates.append((scope.hyphen, _indent(self.lines[scope.hyphen]) + 2))
        for i in range(scope.start, scope.end):
            line = self.lines[i]
            if _significant(line) and _indent(line) == scope.column:
                candidates.append((i, scope.column))
        for i, col in candidates:
            content = self.lines[i][col:]
            token = _key_token(content)
            if token is None or token[0] != key:
                continue
            rest = content[token[1]:]
            colon = rest.find(":") if not rest.startswith("[") else rest.find(":", rest.find("]"))
            after = rest[colon + 1:] if colon >= 0 else ""
            value = col + token[1] + colon + 1 + (len(after) - len(after.lstrip(" ")))
            end = self._end(i, col, scope.end)
            child = _Scope(i + 1, end, col + self.step, rows=_header_fields(rest),
                           header=i)
            return _Found(i, col, value if after.strip(" ") else None, child)
        return None

    def _item(self, scope: _Scope, index: int) -> _Found | None:
        seen = 0
        for i in range(scope.start, scope.end):
            line = self.lines[i]
            if not _significant(line) or _indent(line) != scope.column:
                continue
            content = line[scope.column:]
            if scope.rows is not None:
                if seen == index:
                    return _Found(i, scope.column, scope.column,
                                  _Scope(i, i, scope.column, rows=scope.rows, header=scope.header,
                                         row=True))
            elif not (content == "-" or content.startswith("- ")):
                continue
            elif seen == index:
                end = self._end(i, scope.column, scope.end)
                first = i if content.strip() != "-" else None
                return _Found(i, scope.column, scope.column + 2 if first is not None else None,
                              _Scope(i + 1, end, scope.column + self.step, hyphen=first))
            seen += 1
        return None

    def _row_field(self, scope: _Scope, key: str, value: bool) -> _Found:
        """In a tabular row: the row itself for a value (cells are not split), the
        header's field name for a key."""
        if value or scope.header is None:
            return _Found(scope.start, scope.column, scope.column, scope)
        line = self.lines[scope.header]
        fields = line.find("{")
        at = line.find(key, fields)
        return _Found(scope.header, at if at >= 0 else fields, None, scope)

    def position(self, keys: Keys, *, value: bool = False) -> tuple[int, int] | None:
        """Line and column of the last key of ``keys`` (or of its value, when it
        starts on the same line), or of the deepest part of the path that exists;
        None when not even the first part is found."""
        scope = _Scope(0, len(self.lines), 0)
        found: _Found | None = None
        for n, key in enumerate(keys, 1):
            if isinstance(key, int):
                nxt = self._item(scope, key)
            elif scope.row:
                nxt = self._row_field(scope, key, value and n == len(keys))
            else:
                nxt = self._field(scope, key)
            if nxt is None:
                break
            found, scope = nxt, nxt.scope
        if found is None:
            return None
        column = found.value_column if value and found.value_column is not None else found.key_column
        return found.line + 1, column + 1
