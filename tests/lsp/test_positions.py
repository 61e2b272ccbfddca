"""Codec positions <-> LSP positions (lsp/positions.py), against independent
counts: UTF-16 code units from Python's own codec, UTF-8 bytes, code points."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toon_tools.codec import Range, ToonDecodeError, decode
from toon_tools.lsp.positions import UTF8, UTF16, UTF32, LineIndex

WIDTH = {UTF16: lambda s: len(s.encode("utf-16-le")) // 2,
         UTF8: lambda s: len(s.encode("utf-8")), UTF32: len}


@pytest.mark.parametrize("encoding", [UTF8, UTF16, UTF32])
def test_astral_characters_and_tabs(encoding: str) -> None:
    text = "a: 1\n\tk: \"😀x\U0001F600é\"\r\nlast"
    index = LineIndex(text, encoding)
    line = "\tk: \"😀x\U0001F600é\""
    for column in range(1, len(line) + 2):
        pos = index.to_lsp(2, column)
        assert (pos.line, pos.character) == (1, WIDTH[encoding](line[:column - 1]))
        assert index.from_lsp(pos.line, pos.character) == (2, column)
    # CRLF is one terminator: the third line starts after both characters
    assert index.line_text(1) == line and index.line_text(2) == "last"


def test_a_position_inside_a_surrogate_pair_counts_the_character_as_passed() -> None:
    index = LineIndex("😀b", UTF16)
    assert index.from_lsp(0, 1) == (1, 2)


def test_a_byte_order_mark_is_not_a_column() -> None:
    text = "\ufeffa[2]: 1\n"
    with pytest.raises(ToonDecodeError) as caught:
        decode(text)
    index = LineIndex(text, UTF16)
    pos = index.to_lsp(caught.value.line, caught.value.column)
    # the editor's text holds the mark (one UTF-16 unit) before the column
    assert pos.character == caught.value.column
    assert index.from_lsp(pos.line, pos.character) == (caught.value.line, caught.value.column)


def test_positions_past_the_end_are_clamped() -> None:
    index = LineIndex("ab\ncd", UTF16)
    end = index.to_lsp(9, 1)
    assert (end.line, end.character) == (1, 2)
    assert index.from_lsp(7, 0) == (2, 3)
    assert index.from_lsp(0, 99) == (1, 3)
    assert index.range_from_lsp((0, 0), (1, 1)) == Range(1, 1, 2, 2)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r😀é\u2028"), max_size=40),
       st.sampled_from([UTF8, UTF16, UTF32]))
def test_offsets_round_trip(text: str, encoding: str) -> None:
    index = LineIndex(text, encoding)
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
            continue  # no position stands between CR and LF
        line, column = index.position(offset)
        assert index.offset(line, column) == offset
        pos = index.to_lsp(line, column)
        assert index.from_lsp(pos.line, pos.character) == (line, column)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r😀é\u2028\u0085\x0c"), max_size=60))
def test_line_starts_are_lsps_line_breaks_however_they_are_found(text: str) -> None:
    # Texts without CR take a faster path than the regex walk: both must find
    # exactly LSP's line starts (after \r\n, \r or \n; never after U+2028).
    import re

    index = LineIndex(text)
    expected = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    assert index._starts == expected
    lf_only = text.replace("\r", "")
    assert LineIndex(lf_only)._starts == [0] + [m.end() for m in re.finditer("\n", lf_only)]
