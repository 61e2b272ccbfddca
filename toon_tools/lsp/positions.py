"""Codec positions <-> LSP positions, exactly.

The codec counts 1-based lines and 1-based columns in code points, with
``end_column`` one past the last character (:class:`toon_tools.codec.Range`).
LSP counts 0-based lines and characters in the position encoding negotiated at
``initialize``: UTF-16 code units by default (an emoji is two), UTF-32 (code
points) or UTF-8 (bytes) when the client offers them. A tab is one character in
every encoding.

Lines: LSP ends a line at ``\\r\\n``, ``\\r`` or ``\\n``; the codec at ``\\n``,
with a ``\\r`` before it part of the terminator (§12). They agree except on a lone
``\\r`` inside a line, which no valid document holds. A leading byte order mark is
skipped by the codec (its columns on line 1 start after it) but kept in the text
an editor may send; :class:`LineIndex` accounts for it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add

from ..codec import Range

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"
ENCODINGS = (UTF8, UTF16, UTF32)

_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class LspPosition:
    line: int  # 0-based
    character: int  # in the negotiated encoding's units


@dataclass(frozen=True, slots=True)
class LspRange:
    start: LspPosition
    end: LspPosition


def units(text: str, encoding: str) -> int:
    """How many units of ``encoding`` ``text`` takes."""
    if encoding == UTF32 or text.isascii():
        return len(text)
    if encoding == UTF16:
        return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)
    return len(text.encode("utf-8", "surrogatepass"))


def code_points(line: str, count: int, encoding: str) -> int:
    """How many code points of ``line`` make up its first ``count`` units of
    ``encoding`` (clamped to the line; a position inside a character counts the
    character as passed, as the LSP spec asks clients to round)."""
    if encoding == UTF32 or line.isascii():
        return max(0, min(count, len(line)))
    seen = 0
    for i, ch in enumerate(line):
        if seen >= count:
            return i
        cp = ord(ch)
        if encoding == UTF16:
            seen += 2 if cp > 0xFFFF else 1
        else:
            seen += 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
    return len(line)


class LineIndex:
    """One text's line starts, built once per document version, for converting
    offsets, codec positions and LSP positions into one another."""

    __slots__ = ("text", "encoding", "_starts", "_bom")

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        if "\r" in text:
            starts = [0]
            starts.extend(m.end() for m in _BREAK.finditer(text))
        else:
            # Only LF breaks: each line's length plus one, summed in C (a third of
            # the time of the regex walk on 1 MB; it runs on every keystroke).
            lengths = map(len, text.split("\n")[:-1])
            starts = [0, *accumulate(map(add, lengths, repeat(1)))]
        self._starts = starts
        self._bom = 1 if text.startswith("\ufeff") else 0

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_text(self, line0: int) -> str:
        """Line ``line0`` (0-based) without its terminator; "" past the end."""
        if line0 < 0 or line0 >= len(self._starts):
            return ""
        start = self._starts[line0]
        end = self._starts[line0 + 1] if line0 + 1 < len(self._starts) else len(self.text)
        text = self.text[start:end]
        if text.endswith("\n"):
            text = text[:-1]
        if text.endswith("\r"):
            text = text[:-1]
        return text

    # ----------------------------------------------------------- offsets

    def offset(self, line: int, column: int) -> int:
        """The offset in the text of a codec position (1-based, code points),
        clamped to the line and to the text."""
        line0 = min(max(line - 1, 0), len(self._starts) - 1)
        if line < 1:
            return 0
        if line > len(self._starts):
            return len(self.text)
        col = max(column - 1, 0) + (self._bom if line0 == 0 else 0)
        return self._starts[line0] + min(col, len(self.line_text(line0)))

    def position(self, offset: int) -> tuple[int, int]:
        """The codec position (1-based line, 1-based column) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line0 = bisect_right(self._starts, offset) - 1
        col = offset - self._starts[line0]
        if line0 == 0:
            col -= self._bom
        return line0 + 1, max(col, 0) + 1

    # ------------------------------------------------------- codec <-> LSP

    def to_lsp(self, line: int, column: int) -> LspPosition:
        """A codec position as an LSP position. A column past the end of its line
        is kept as the line's end (clients clamp too); a line past the end of the
        text becomes the end of the text."""
        if line > len(self._starts):
            last = len(self._starts) - 1
            return LspPosition(last, units(self.line_text(last), self.encoding))
        line0 = max(line - 1, 0)
        text = self.line_text(line0)
        cp = max(column - 1, 0) + (self._bom if line0 == 0 else 0)
        return LspPosition(line0, units(text[:cp], self.encoding))

    def range_to_lsp(self, r: Range) -> LspRange:
        return LspRange(self.to_lsp(r.line, r.column), self.to_lsp(r.end_line, r.end_column))

    def from_lsp(self, line0: int, character: int) -> tuple[int, int]:
        """An LSP position as a codec position (1-based line and column)."""
        if line0 >= len(self._starts):
            last = len(self._starts) - 1
            return last + 1, len(self.line_text(last)) + 1 - (self._bom if last == 0 else 0)
        line0 = max(line0, 0)
        cp = code_points(self.line_text(line0), character, self.encoding)
        if line0 == 0:
            cp = max(cp - self._bom, 0)
        return line0 + 1, cp + 1

    def range_from_lsp(self, start: tuple[int, int], end: tuple[int, int]) -> Range:
        """LSP (line, character) start and end as a codec :class:`Range`."""
        line, column = self.from_lsp(*start)
        end_line, end_column = self.from_lsp(*end)
        return Range(line, column, end_line, end_column)
