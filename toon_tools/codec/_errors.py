"""The codec's one exception type, modelled on ``json.JSONDecodeError``."""

from __future__ import annotations

from ..errors import Finding


class ToonDecodeError(Finding, ValueError):
    """A document broke a rule of the TOON spec.

    ``line`` and ``column`` are 1-based and point into the original text (before
    comment removal), so editors and ``toon check`` can show the exact spot.
    When an array's items, rows or values disagree with its header's ``[N]``,
    ``declared`` is N and ``found`` the count seen (None when there were more:
    decoding stops at the first extra one); both are None for other errors.
    """

    msg: str
    line: int
    column: int
    declared: int | None
    found: int | None

    def __init__(self, msg: str, line: int, column: int, declared: int | None = None,
                 found: int | None = None) -> None:
        ValueError.__init__(self, f"{msg} (line {line}, column {column})")
        self.msg = self.message = msg
        self.line = line
        self.column = column
        self.declared = declared
        self.found = found

    # json.JSONDecodeError spells these lineno/colno; accept both spellings.
    @property
    def lineno(self) -> int:
        return self.line

    @property
    def colno(self) -> int:
        return self.column

    def __reduce__(
        self,
    ) -> tuple[type[ToonDecodeError], tuple[str, int, int, int | None, int | None]]:
        # Errors cross process-pool boundaries (hooks, convert); keep them picklable.
        return (type(self), (self.msg, self.line, self.column, self.declared, self.found))
