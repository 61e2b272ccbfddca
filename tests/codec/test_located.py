"""Located decoding: every value of a document and where its key and value stand."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from toon_tools.codec import (
    Range,
    Span,
    ToonDecodeError,
    decode_located,
    json_pointer,
    parse_primitive,
    unescape_string,
)
from tests.conftest import fixture_cases
from tests.json_model import json_equal
from tests.strategies import json_values, messy_documents


def pointers(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (JSON pointer, value) of ``value``, the root first."""
    yield prefix, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from pointers(v, prefix + json_pointer([k]))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from pointers(v, f"{prefix}/{i}")


def cut(text: str, r: Range) -> str:
    """The text a range covers (lines split like the decoder splits them)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if r.line == r.end_line:
        return lines[r.line - 1][r.column - 1 : r.end_column - 1]
    first = lines[r.line - 1][r.column - 1 :]
    return "\n".join([first, *lines[r.line : r.end_line - 1], lines[r.end_line - 1][: r.end_column - 1]])


def check_spans(text: str, **opts: Any) -> None:
    """The invariants of a located decode of ``text``."""
    check_lookups(text, **opts)
    loc = decode_located(text, **opts)
    assert json_equal(loc.value, toon_tools.decode(text, **opts))
    expected = dict(pointers(loc.value))
    assert set(loc.spans) == set(expected)
    for ptr, value in expected.items():
        span = loc.spans[ptr]
        r = span.value
        assert (r.line, r.column) <= (r.end_line, r.end_column), ptr
        if not isinstance(value, (dict, list)):
            token = cut(text, r)
            assert token == token.strip(" "), (ptr, token)
            assert json_equal(parse_primitive(token), value), (ptr, token)
        if span.key is not None:
            key = cut(text, span.key)
            name = unescape_string(key, 1, len(key) - 1) if key.startswith('"') else key
            assert ptr.endswith(json_pointer([name])), (ptr, key)
        parent = ptr[: ptr.rfind("/")] if ptr else None
        if parent is not None:  # a value lies inside its parent's value
            outer = loc.spans[parent].value
            assert (outer.line, outer.column) <= (r.line, r.column), ptr
            assert (r.end_line, r.end_column) <= (outer.end_line, outer.end_column), ptr


def check_lookups(text: str, **opts: Any) -> None:
    """A lookup of one pointer (before the whole map is built) gives what the
    whole map gives, for every pointer in the document and for missing ones."""
    from toon_tools.codec._located import lookup

    log = decode_located(text, **opts).spans._log
    every = decode_located(text, **opts).spans._records
    for ptr, record in every.items():
        assert lookup(log, ptr) == record, ptr
        for missing in (ptr + "/zz~1q", ptr + "/999999", ptr + "/~0"):
            if missing not in every:
                assert lookup(log, missing) is None, missing
    lazy = decode_located(text, **opts)
    for ptr in list(every)[:3]:
        assert lazy.find(ptr + "/nope") == (ptr, decode_located(text, **opts).spans[ptr]) \
            or ptr + "/nope" in every


DOC = """\
# a comment line does not shift line numbers
a: 1
b:
  c[2]: x, "y"
  d[2]{p,q}:
    1, "z"
    3,4
e[2]:
  - f: 1
    g: hi
  - 5
"""


def test_spans_of_each_kind_of_value() -> None:
    loc = decode_located(DOC)
    assert loc.spans["/a"] == Span(Range(2, 1, 2, 2), Range(2, 4, 2, 5))
    assert loc.spans["/b/c/1"] == Span(None, Range(4, 12, 4, 15))  # the quoted token, quotes included
    assert loc.spans["/b/d/0/q"] == Span(None, Range(6, 8, 6, 11))  # a tabular cell, not the row
    assert loc.spans["/b/d/1"].value == Range(7, 5, 7, 8)  # a row
    assert loc.spans["/b/d"].value == Range(5, 3, 7, 8)  # a table: header to last row
    assert loc.spans["/e/0"].value == Range(9, 5, 10, 10)  # an item object: after "- "
    assert loc.spans["/e/0/g"] == Span(Range(10, 5, 10, 6), Range(10, 8, 10, 10))
    assert loc.spans[""].value == Range(2, 1, 11, 6)
    check_spans(DOC)


def test_find_falls_back_to_the_enclosing_value() -> None:
    loc = decode_located(DOC)
    assert loc.find("/b/d/1/missing") == ("/b/d/1", loc.spans["/b/d/1"])
    assert loc.find("/e/7/x")[0] == "/e"
    assert loc.find("/nope")[0] == ""


def test_keys_that_need_escaping_in_a_pointer() -> None:
    text = '"a/b":\n  "c~d": 1\n"x y"[1]: 2\nrows[1]{"k/1"}:\n  3'
    loc = decode_located(text)
    assert loc.spans["/a~1b/c~0d"].key == Range(2, 3, 2, 8)
    assert loc.spans["/x y/0"].value == Range(3, 11, 3, 12)
    assert loc.spans["/rows/0/k~11"].value == Range(5, 3, 5, 4)
    check_spans(text)


def test_keyed_rows_nested_groups_and_root_forms() -> None:
    keyed = "users[2:]{name,addr{city,zip}}:\n  u1: Ada,Paris,75\n  \"u 2\": Bob, Rome ,1"
    loc = decode_located(keyed)
    assert loc.spans["/users/u1"].key == Range(2, 3, 2, 5)
    assert loc.spans["/users/u1"].value == Range(2, 7, 2, 19)
    assert loc.spans["/users/u1/addr"].value == Range(2, 11, 2, 19)
    assert loc.spans["/users/u 2"].key == Range(3, 3, 3, 8)
    assert loc.spans["/users/u 2/addr/city"].value == Range(3, 15, 3, 19)
    for text in [keyed, keyed.removeprefix("users"), "[2]: 1,2", "[2]:\n  - a\n  - [1]: b", "[]", "plain", "", "[1|]{a|b}:\n  1|2",
                 "k[0]:", "x:\n  y:\n\n  z: 1", "a: 1\r\nb[1]:\r\n  - c: 2\r\n"]:
        check_spans(text)


def test_tabs_and_indent_size() -> None:
    check_spans("t[2\t]{a\tb}:\n    1\t x \n    2\t\"y\"", indent_size=4)


def test_short_arrays_carry_declared_and_found() -> None:
    for text, declared, found in [("a[3]{x}:\n  1\n  2", 3, 2), ("a[3]: 1,2", 3, 2),
                                  ("a[2]:\n  - 1", 2, 1), ("a[2:]{x}:\n  k: 1", 2, 1),
                                  ("a[1]:\n  - 1\n  - 2", 1, None)]:
        with pytest.raises(ToonDecodeError) as info:
            decode_located(text)
        assert (info.value.declared, info.value.found) == (declared, found), text
    with pytest.raises(ToonDecodeError) as info:
        decode_located("a: \"open")
    assert (info.value.declared, info.value.found) == (None, None)


@settings(max_examples=150, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), json_values(js_safe=False), max_size=4)
       | json_values(js_safe=False),
       delimiter=st.sampled_from([",", "\t", "|"]), indent=st.integers(1, 4))
def test_encoded_documents(value: Any, delimiter: str, indent: int) -> None:
    check_spans(toon_tools.encode(value, delimiter=delimiter, indent_size=indent), indent_size=indent)


@settings(max_examples=150, deadline=None)
@given(doc=messy_documents())
def test_hand_written_documents(doc: tuple[str, int]) -> None:
    """Mixed delimiters, spacing and comments, as people write them."""
    text, indent = doc
    check_spans(text, indent_size=indent)


@pytest.mark.parametrize("case", fixture_cases("decode", errors=False))
def test_conformance_fixtures(conformance: Path, case: dict[str, Any]) -> None:
    options = case.get("options", {})
    check_spans(case["input"], strict=options.get("strict", True),
                indent_size=options.get("indentSize", 2))
