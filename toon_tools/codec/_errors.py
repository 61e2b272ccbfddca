"""The codec's one exception type, modelled on ``json.JSONDecodeError``."""

from __future__ import annotations

from ..errors import Finding


class ToonDecodeError(Finding, ValueError):
    """A document broke a rule of the TOON spec.

    ``line`` and ``column`` are 1-based and point into the original text (before
    comment removal), so editors and ``toon check`` can show the exact spot.
    """

    msg: str
    line: int
    column: int

    def __init__(self, msg: str, line: int, column: int) -> None:
        ValueError.__init__(self, f"{msg} (line {line}, column {column})")
        self.msg = self.message = msg
        self.line = line
        self.column = column

    # json.JSONDecodeError spells these lineno/colno; accept both spellings.
    @property
    def lineno(self) -> int:
        return self.line

    @property
    def colno(self) -> int:
        return self.column

    def __reduce__(self) -> tuple[type[ToonDecodeError], tuple[str, int, int]]:
        # Errors cross process-pool boundaries (hooks, convert); keep them picklable.
        return (type(self), (self.msg, self.line, self.column))
