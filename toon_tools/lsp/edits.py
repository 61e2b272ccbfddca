"""Minimal text edits that turn one text into another, for formatting and code
actions: a line diff (difflib's SequenceMatcher over lines), each changed block
then trimmed to the characters that differ, so that an editor keeps its cursor,
folds and undo history everywhere else.

A line terminator is never split: ``\\r\\n`` is replaced whole, because LSP
positions cannot point between its two characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from ..codec import Range
from .positions import LineIndex


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace ``range`` (codec positions) with ``new_text``."""

    range: Range
    new_text: str


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, limit: int) -> int:
    n = min(len(a), len(b)) - limit
    i = 0
    while i < n and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def _trimmed(start: int, end: int, before: str, after: str) -> tuple[int, int, str]:
    """``before`` (at start..end) -> ``after``, without their common ends."""
    p = _common_prefix(before, after)
    if 0 < p < len(before) and before[p - 1] == "\r" and before[p] == "\n":
        p -= 1
    s = _common_suffix(before, after, p)
    cut = len(before) - s
    if 0 < s and 0 < cut < len(before) and before[cut - 1] == "\r" and before[cut] == "\n":
        s -= 1
    return start + p, end - s, after[p:len(after) - s]


def offset_edits(old: str, new: str) -> list[tuple[int, int, str]]:
    """(start, end, replacement) on ``old``, in order, non-overlapping."""
    if old == new:
        return []
    a = old.splitlines(keepends=True)
    b = new.splitlines(keepends=True)
    starts = [0]
    for line in a:
        starts.append(starts[-1] + len(line))
    edits: list[tuple[int, int, str]] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i2 - i1 == j2 - j1:
            # as many lines on each side (re-spaced, re-quoted lines): line by
            # line, so that an untouched line between two changed ones stays
            blocks = [(i, i + 1, j, j + 1) for i, j in zip(range(i1, i2), range(j1, j2))]
        else:
            blocks = [(i1, i2, j1, j2)]
        for a1, a2, b1, b2 in blocks:
            start, end = starts[a1], starts[a2]
            before, after = old[start:end], "".join(b[b1:b2])
            if before == after:
                continue
            edits.append(_trimmed(start, end, before, after))
    return edits


def text_edits(old: str, new: str, index: LineIndex | None = None) -> list[TextEdit]:
    """The edits that turn ``old`` into ``new``, with codec ranges on ``old``
    (``index`` is ``old``'s, when the caller has one)."""
    index = index or LineIndex(old)
    found = []
    for start, end, replacement in offset_edits(old, new):
        line, column = index.position(start)
        end_line, end_column = index.position(end)
        found.append(TextEdit(Range(line, column, end_line, end_column), replacement))
    return found


def apply(text: str, edits: list[TextEdit]) -> str:
    """``text`` with ``edits`` (non-overlapping, codec ranges on ``text``) applied:
    what an editor does with them."""
    index = LineIndex(text)
    spans = sorted(((index.offset(e.range.line, e.range.column),
                     index.offset(e.range.end_line, e.range.end_column), e.new_text)
                    for e in edits), reverse=True)
    for start, end, replacement in spans:
        text = text[:start] + replacement + text[end:]
    return text
