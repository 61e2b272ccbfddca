"""The formatter (``format_text``, ``toon fmt``) never changes data, delimiters or
comments: the properties of issue 10, on hand-written documents with mixed
per-array delimiters and comments at random places."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toon_tools
from tests.json_model import json_equal
from tests.strategies import documents, messy_documents
from toon_tools.codec import ToonDecodeError, format_text
from toon_tools.codec._decoder import decode_text

END = ("<end>",)


def _lines(text: str) -> list[str]:
    return [ln[:-1] if ln.endswith("\r") else ln for ln in text.split("\n")]


def comments_with_anchors(text: str, indent: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Each comment (text after its indentation) with the data path of the content
    line it precedes, END when none follows."""
    trace: dict[int, tuple[Any, ...]] = {}
    decode_text(text.removeprefix("\ufeff"), indent_size=indent, trace=trace)
    found: list[tuple[str, tuple[Any, ...]]] = []
    pending: list[str] = []
    for number, line in enumerate(_lines(text.removeprefix("\ufeff")), 1):
        if line.lstrip(" ").startswith("#"):
            pending.append(line.lstrip(" "))
        elif line.strip(" \t") and pending:
            found.extend((c, trace[number]) for c in pending)
            pending = []
    return found + [(c, END) for c in pending]


def array_delimiters(text: str, indent: int) -> dict[tuple[Any, ...], str]:
    """Data path -> delimiter of every non-empty array's header."""
    arrays: dict[int, tuple[str, Any]] = {}
    value = decode_text(text.removeprefix("\ufeff"), indent_size=indent, arrays=arrays)
    found: dict[tuple[Any, ...], str] = {}
    pending: list[tuple[tuple[Any, ...], Any]] = [((), value)]
    while pending:
        path, v = pending.pop()
        if isinstance(v, list):
            if v and id(v) in arrays:
                found[path] = arrays[id(v)][0]
            pending.extend((path + (i,), x) for i, x in enumerate(v))
        elif isinstance(v, dict):
            pending.extend((path + (k,), x) for k, x in v.items())
    return found


def assert_formatter_invariants(source: str, indent: int) -> str:
    formatted = format_text(source, indent_size=indent)
    before = toon_tools.decode(source, indent_size=indent)
    after = toon_tools.decode(formatted, indent_size=indent)
    assert json_equal(after, before, ordered_keys=False)
    assert array_delimiters(formatted, indent) == array_delimiters(source, indent)
    assert comments_with_anchors(formatted, indent) == comments_with_anchors(source, indent)
    assert format_text(formatted, indent_size=indent) == formatted
    return formatted


@given(messy_documents())
def test_formatting_keeps_data_delimiters_and_comments(doc: tuple[str, int]) -> None:
    assert_formatter_invariants(*doc)


@given(messy_documents(comments=False))
def test_without_comments_the_result_is_canonical(doc: tuple[str, int]) -> None:
    """Only comments can hold the formatter back; then it always gives the
    encoder's form (when one delimiter is asked for)."""
    source, indent = doc
    value = toon_tools.decode(source, indent_size=indent)
    formatted = format_text(source, indent_size=indent, delimiter="|")
    expected = toon_tools.encode(value, indent_size=indent, delimiter="|")
    assert formatted == (expected + "\n" if expected else "")


@given(value=documents, data=st.data())
def test_comments_in_canonical_text_are_never_moved(value: Any, data: st.DataObject) -> None:
    text = toon_tools.encode(value)
    lines = text.split("\n") if text else []
    for n in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(lines)))
        lines.insert(at, " " * data.draw(st.integers(0, 5)) + f"# note {n}")
    source = "\n".join(lines)
    formatted = assert_formatter_invariants(source, 2)
    # canonical text only gets its comments re-indented: never left as it was
    assert [ln for ln in formatted.splitlines() if not ln.lstrip().startswith("#")] == (
        text.split("\n") if text else [])


@pytest.mark.parametrize(("source", "indent", "expected"), [
    # a tab-delimited inline array followed by a comment (was not idempotent)
    ("[2\t]:\t\n#[1]\n\t", 1, '[2\t]: ""\t""\n#[1]\n'),
    # a comment followed by a whitespace-only line (was dropped)
    ("#\n\t", 2, "#\n"),
    ("a: 1\n  # last\n \t \n", 2, "a: 1\n# last\n"),
    # a nested header keeps its own delimiter (was made comma-delimited)
    ("a:\n  e[1|]{a|b}:\n    1|2\nb[2]: x,y\n", 2, "a:\n  e[1|]{a|b}:\n    1|2\nb[2]: x,y\n"),
    ("x[2|]: a,b|c\ny[1]: \"q|r\"\nz: a|b\n", 2, 'x[2|]: a,b|c\ny[1]: q|r\nz: "a|b"\n'),
    # comments stay between the indented lines they were between
    ("a:\n  b: 1\n  # on c\n  c: 2\n    # on d\nd: 3\n", 2,
     "a:\n  b: 1\n  # on c\n  c: 2\n# on d\nd: 3\n"),
    ("l[2]:\n  - 1\n  # second\n  - x\n", 2, "l[2]:\n  - 1\n  # second\n  - x\n"),
    ("\ufeffa:   1\r\n# end\r\n", 2, "a: 1\n# end\n"),
])
def test_known_cases(source: str, indent: int, expected: str) -> None:
    assert format_text(source, indent_size=indent) == expected
    assert_formatter_invariants(source, indent)


def test_a_comment_with_no_line_of_its_own_leaves_the_document_unchanged() -> None:
    # The list becomes a table: the comment between the item's fields has no place.
    source = "rows[2]:\n  - a: 1\n    # about b\n    b: 2\n  - a: 3\n    b: 4\n"
    assert format_text(source) == source
    # Without that comment the same document is formatted.
    plain = source.replace("    # about b\n", "")
    assert format_text(plain) == "rows[2]{a,b}:\n  1,2\n  3,4\n"
    # A comment before a whole item keeps its row.
    before_item = plain.replace("  - a: 3", "  # third\n  - a: 3")
    assert format_text(before_item) == "rows[2]{a,b}:\n  1,2\n  # third\n  3,4\n"


def test_an_explicit_delimiter_rewrites_every_array() -> None:
    source = "a[2|]: 1|2\nb:\n  c[1\t]{x}:\n    q,r\n"
    assert format_text(source, delimiter=",") == 'a[2]: 1,2\nb:\n  c[1]{x}:\n    "q,r"\n'


def test_invalid_input_raises_and_huge_numbers_are_refused_with_a_position() -> None:
    with pytest.raises(ToonDecodeError) as info:
        format_text("a: 1\n  b: 2\n")
    assert (info.value.line, info.value.column) == (2, 3)
    with pytest.raises(ToonDecodeError) as info:
        format_text("# x\na[" + "1" * 5000 + "]: x\n")
    assert (info.value.line, info.value.column) == (2, 3)
    with pytest.raises(ToonDecodeError) as info:
        format_text("t[1]{a}:\n  " + "9" * 5000 + "\n")
    assert (info.value.line, info.value.column) == (2, 3)
