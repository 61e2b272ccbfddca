"""Hostile input never raises: any text, any position, any range, and a located
value that belongs to another version of the text (a stale one)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import messy_documents
from toon_tools.codec import Located, Range, ToonDecodeError, decode_located
from toon_tools.lsp.analysis import (Outline, document_symbols, folding_ranges, hover_at,
                                     table_actions)

_TOONISH = st.text(st.sampled_from(list("ab:-[]{}|,\t\"\\#\r\n 01é😀")), max_size=80)
_texts = st.one_of(_TOONISH, messy_documents().map(lambda d: d[0]))
_ints = st.integers(-3, 40) | st.sampled_from([0, 10**9, -(10**9)])


def _located(text: str) -> Located | None:
    try:
        return decode_located(text, strict=False)
    except ToonDecodeError:
        return None


def _everything(outline: Outline, points: list[tuple[int, int]]) -> None:
    folding_ranges(outline.text)
    document_symbols(outline)
    for line, column in points:
        hover_at(outline, line, column)
        table_actions(outline, Range(line, column, column, line))


@settings(max_examples=150, deadline=None)
@given(_texts, st.lists(st.tuples(_ints, _ints), max_size=12))
def test_any_text_any_position(text: str, points: list[tuple[int, int]]) -> None:
    _everything(Outline(text, _located(text)), points)


@settings(max_examples=80, deadline=None)
@given(_texts, _texts, st.lists(st.tuples(_ints, _ints), max_size=8))
def test_a_stale_located_value(old: str, new: str, points: list[tuple[int, int]]) -> None:
    _everything(Outline(new, _located(old)), points)


def test_edges() -> None:
    for text in ["", "\n", "\r", "\r\n", "#", "  ", "[", "a:", "-", "[0]:", '""']:
        outline = Outline(text, _located(text))
        _everything(outline, [(0, 0), (1, 1), (1, 0), (2, 1), (-1, -1), (10**9, 10**9)])
    assert hover_at(Outline("", _located("")), 1, 1) is None
    assert folding_ranges("") == []
