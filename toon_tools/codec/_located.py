"""Located decoding: the value of a TOON document and where each part of it sits.

:func:`decode_located` returns the decoded value and a map from every JSON
pointer (RFC 6901) in it to the text of its key and of its value, so that schema
errors, type errors and editors can point into the TOON text. The decoder records
the positions in the same pass that builds the value (``_decoder.SpanRecord``);
this module only gives them names. Pointer strings and cell positions are
worked out on the first lookup, so a caller that never looks pays little.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from typing import Any as _Any

from ._decoder import SpanLog, SpanRecord, pointer_token


@dataclass(frozen=True, slots=True)
class Range:
    """A stretch of the text: 1-based ``line`` and ``column``; ``end_column`` is one
    past the last character (so an empty range has ``end_column == column``)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Span:
    """Where one value stands.

    ``key`` is its key token (quotes included), or None for the root, list items,
    inline array values and tabular cells. ``value`` is a primitive's token
    exactly; for an object or array it runs from its key (or from its list item's
    content, or its root header) to the end of its last line.
    """

    key: Range | None
    value: Range


def _span(record: SpanRecord) -> Span:
    kl, kc, ke, line, column, end_line, end_column = record
    key = Range(kl, kc, kl, ke) if kl else None
    return Span(key, Range(line, column, end_line, end_column))


#: Lookups answered by a walk of the log (:func:`lookup`) before the whole map
#: is built: a checker places a few problems, an editor's hover reads many spans.
#: A walk costs 1/17 to 1/4 of building the map (3.6 MB list of objects: 37 ms
#: against 640 ms; smaller documents less): eight stays below one build.
LAZY_LOOKUPS = 8


class SpanMap(Mapping[str, Span]):
    """JSON pointer -> :class:`Span`. The first few lookups walk the decoder's
    log for their one pointer (on a 1 MB table, a few ms each, against ~150 ms
    to build every pointer); after :data:`LAZY_LOOKUPS` of them, or on iteration, the whole
    map is built once."""

    __slots__ = ("_log", "_map", "_lookups")

    def __init__(self, log: SpanLog) -> None:
        self._log = log
        self._map: dict[str, SpanRecord] | None = None
        self._lookups = 0

    @property
    def _records(self) -> dict[str, SpanRecord]:
        if self._map is None:
            self._map = self._log.expand()
        return self._map

    def record(self, pointer: str) -> SpanRecord | None:
        """The span record of ``pointer``, or None when no value stands there."""
        if self._map is None and self._lookups < LAZY_LOOKUPS:
            self._lookups += 1
            return lookup(self._log, pointer)
        return self._records.get(pointer)

    def __getitem__(self, pointer: str) -> Span:
        found = self.record(pointer) if isinstance(pointer, str) else None
        if found is None:
            raise KeyError(pointer)
        return _span(found)

    def __contains__(self, pointer: object) -> bool:
        return isinstance(pointer, str) and self.record(pointer) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)


@dataclass(frozen=True)
class Located:
    """A decoded document (``value``, exactly what ``decode`` returns) and the
    span of every value in it (``spans``, keyed by JSON pointer; "" is the root)."""

    value: Any
    spans: SpanMap

    def find(self, pointer: str) -> tuple[str, Span]:
        """The span of ``pointer`` or, when no value stands there (a missing key,
        an index past the end), of its nearest enclosing value, with the pointer
        actually found."""
        while True:
            found = self.spans.record(pointer)
            if found is not None:
                return pointer, _span(found)
            pointer = pointer[: pointer.rfind("/")] if "/" in pointer else ""


def json_pointer(path: Iterable[str | int]) -> str:
    """The JSON pointer of a path of keys and indexes: ``("a/b", 0)`` -> ``/a~1b/0``."""
    return "".join(f"/{p}" if isinstance(p, int) else "/" + pointer_token(p) for p in path)


def lookup(log: SpanLog, pointer: str) -> SpanRecord | None:
    """The span record :meth:`SpanLog.expand` gives ``pointer``, worked out for
    that pointer alone: one walk over the containers (matching each one's key
    against the pointer's tokens by identity of its parent), then the
    primitives' lines and the table rows of the matched containers. Where two
    values share a pointer, the same one wins as in ``expand`` (a cell over a
    primitive over a container; the later over the earlier)."""
    tokens = pointer.split("/")[1:] if pointer else []
    n = len(tokens)
    depth: dict[int, int] = {}  # id of a container whose pointer is tokens[:d] -> d
    container: _Any = None
    for rec in log.values:
        parent = rec.parent
        if parent is None:
            d = 0
        else:
            pd = depth.get(id(parent))
            if pd is None or pd >= n:
                continue
            key = rec.key
            if (str(key) if isinstance(key, int) else pointer_token(key)) != tokens[pd]:
                continue
            d = pd + 1
        depth[id(rec)] = d
        if d == n:
            container = rec
    numbers, indents = log.line_numbers, log.indents
    for row_rec, i, start, cells, names, groups in reversed(log.cells):
        row_depth = depth.get(id(row_rec))
        if row_depth is None or row_depth >= n:
            continue
        suffix = "".join("/" + t for t in tokens[row_depth:])
        width = len(cells) if names is None else min(len(cells), len(names))
        line = numbers[i]
        col = indents[i] + start + 1
        spans: list[tuple[int, int]] = []
        for k in range(width):
            t = cells[k]
            first = col + len(t) - len(t.lstrip(" "))
            spans.append((first, first + len(t.strip(" "))))
            col += len(t) + 1
        for name, a, b in reversed(groups):
            if name == suffix and b < len(spans):
                return (0, 0, 0, line, spans[a][0], line, spans[b][1])
        for k in reversed(range(width)):
            if (names[k] if names is not None else f"/{k}") == suffix:
                return (0, 0, 0, line, spans[k][0], line, spans[k][1])
    if n:
        last = tokens[-1]
        leaf_key, leaf_parent = log.leaf_key, log.leaf_parent
        for i in reversed(range(len(leaf_key))):
            name = leaf_key[i]
            if name is None:
                continue
            owner = leaf_parent[i]
            if owner is None or depth.get(id(owner)) != n - 1:
                continue
            if (str(name) if isinstance(name, int) else pointer_token(name)) == last:
                return _leaf_record(log, i)
    else:
        for i in reversed(range(len(log.leaf_key))):
            if log.leaf_key[i] is not None and log.leaf_parent[i] is None:
                return _leaf_record(log, i)
    if container is None:
        return None
    if container.i < 0:  # the empty document
        return (0, 0, 0, 1, 1, 1, 1)
    i = container.i
    line = numbers[i]
    base = indents[i] + 1
    end_col = indents[container.end_i] + 1 + container.end
    if container.ks >= 0:
        return (line, base + container.ks, base + container.ke, line, base + container.start,
                numbers[container.end_i], end_col)
    return (0, 0, 0, line, base + container.start, numbers[container.end_i], end_col)


def _leaf_record(log: SpanLog, i: int) -> SpanRecord:
    line = log.line_numbers[i]
    base = log.indents[i] + 1
    ks = log.leaf_ks[i]
    start = base + log.leaf_start[i]
    end = base + log.leaf_end[i]
    if ks >= 0:
        return (line, base + ks, base + log.leaf_ke[i], line, start, line, end)
    return (0, 0, 0, line, start, line, end)
