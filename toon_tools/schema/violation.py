"""One way a document breaks its contract, placed in the TOON text.

Schema validation (jsonschema), type validation (pydantic) and pipeline replies
all report problems as :class:`Violation`; a located decode
(:func:`toon_tools.codec.decode_located`) turns a data path into a line:col.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import Finding

if TYPE_CHECKING:
    from ..codec import Located


@dataclass(frozen=True)
class Violation:
    """A problem at ``pointer`` (RFC 6901; "" is the root), 1-based position in the
    text, ``end_column`` one past the last character. ``rule`` names what was
    broken: a schema path (``properties/age/minimum``) or a pydantic error type."""

    pointer: str
    message: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str = ""

    @classmethod
    def at(cls, located: Located, pointer: str, message: str, rule: str = "", *,
           on_key: bool = False) -> Violation:
        """The problem placed at the value ``pointer`` names (at its key token with
        ``on_key``, when it has one), or, when that value is absent (a missing
        key), at the nearest enclosing value that exists: at its key when it
        has one (an entry of a keyed table, §9.5, is its key, not its cells)."""
        found, span = located.find(pointer)
        r = span.value
        if span.key is not None and (on_key or found != pointer):
            r = span.key
        return cls(pointer, message, r.line, r.column, r.end_line, r.end_column, rule)


def readable_path(parts: Iterable[str | int]) -> str:
    """A data path as messages show it: keys and indexes joined by ``/``, a key
    written as TOON writes it (quoted when it holds a ``/``, a space, a quote, or
    is not a plain identifier), so ``("a/b", 0, "c")`` reads ``"a/b"/0/c``
    rather than the JSON pointer's escaped ``a~1b/0/c``."""
    from ..codec import encode_key

    return "/".join(str(p) if isinstance(p, int) else encode_key(p) for p in parts)


class ToonValidationError(Finding, ValueError):
    """The document decoded but breaks its contract; ``violations`` lists every
    problem, each at its own position. ``line``/``column`` are the first one's."""

    def __init__(self, violations: list[Violation], *, path: str | None = None) -> None:
        if not violations:
            raise ValueError("ToonValidationError needs at least one violation")
        first = violations[0]
        more = len(violations) - 1
        message = first.message + (f" (and {more} more problem{'s' * (more != 1)})" if more else "")
        super().__init__(message, path=path, line=first.line, column=first.column)
        self.violations = violations

    def __str__(self) -> str:
        return "\n".join(f"{v.line}:{v.column}: {v.message}" for v in self.violations)
