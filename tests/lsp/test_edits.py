"""Minimal text edits (lsp/edits.py): applying them gives the new text, they
leave unchanged lines alone, and never split a CRLF."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from toon_tools.codec import format_text
from toon_tools.lsp.edits import apply, offset_edits, text_edits

LINES = st.lists(st.sampled_from(["a: 1", "b: 2", "  c: 😀", "", "# x", "d[2]: 1,2"]), max_size=8)
ENDINGS = st.sampled_from(["\n", "\r\n"])


@settings(max_examples=150, deadline=None)
@given(LINES, LINES, ENDINGS, ENDINGS)
def test_edits_turn_old_into_new(a: list[str], b: list[str], ea: str, eb: str) -> None:
    old, new = ea.join(a), eb.join(b)
    edits = text_edits(old, new)
    assert apply(old, edits) == new
    for start, end, _ in offset_edits(old, new):
        assert not (0 < start < len(old) and old[start - 1:start + 1] == "\r\n")
        assert not (0 < end < len(old) and old[end - 1:end + 1] == "\r\n")


def test_one_changed_character_is_one_small_edit() -> None:
    old = "a: 1\nb:  2\nc: 3\n"
    [edit] = text_edits(old, format_text(old))
    assert (edit.range.line, edit.range.column, edit.range.end_line, edit.range.end_column,
            edit.new_text) == (2, 4, 2, 5, "")


def test_identical_texts_need_no_edit() -> None:
    assert text_edits("a: 1\n", "a: 1\n") == []


def test_lines_between_changes_are_untouched() -> None:
    old = "a:  1\nkeep: me\nb:  2\n"
    edits = text_edits(old, format_text(old))
    assert [e.range.line for e in edits] == [1, 3]
