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


class SpanMap(Mapping[str, Span]):
    """JSON pointer -> :class:`Span`, built on first use from the decoder's log."""

    __slots__ = ("_log", "_map")

    def __init__(self, log: SpanLog) -> None:
        self._log = log
        self._map: dict[str, SpanRecord] | None = None

    @property
    def _records(self) -> dict[str, SpanRecord]:
        if self._map is None:
            self._map = self._log.expand()
        return self._map

    def __getitem__(self, pointer: str) -> Span:
        return _span(self._records[pointer])

    def __contains__(self, pointer: object) -> bool:
        return pointer in self._records

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
        while pointer not in self.spans:
            pointer = pointer[: pointer.rfind("/")] if "/" in pointer else ""
        return pointer, self.spans[pointer]


def json_pointer(path: Iterable[str | int]) -> str:
    """The JSON pointer of a path of keys and indexes: ``("a/b", 0)`` -> ``/a~1b/0``."""
    return "".join(f"/{p}" if isinstance(p, int) else "/" + pointer_token(p) for p in path)
