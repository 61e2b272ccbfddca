"""The decoder's fast paths (issue 16) must agree with its exact paths at their edges:
each case sits just inside or just outside a shortcut (a plain quoted string, a
machine-size integer, a literal, an indentation of spaces only, line numbers
before and after a dropped comment)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from toon_tools import ToonDecodeError
from toon_tools.codec._scalars import NUMBER, UNQUOTED_KEY, number_kind
from toon_tools.codec._syntax import unquoted_key


@pytest.mark.parametrize(
    ("token", "value"),
    [
        ('"plain"', "plain"),
        ('""', ""),
        ('"a\\"b"', 'a"b'),  # an escaped quote: the exact path
        ('"tab\there"', "tab\there"),  # a raw tab is allowed (§7.1) but not printable
        ('"nbsp\u00a0é"', "nbsp\u00a0é"),  # not printable, still no control character
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("05", "05"),  # a forbidden leading zero is a string (§4)
        ("999999999999999999", 999999999999999999),  # 18 digits: the fast path
        ("1234567890123456789012", 1234567890123456789012),  # past it: exact int
        ("\u0661\u0662", "\u0661\u0662"),  # Arabic-Indic digits are not a number
        ("1000000000000000000", 1000000000000000000),  # 19 digits: exact int
        ("12a", "12a"),  # digits, then not: a string
        ("-", "-"),
        ("00", "00"),
        ("1.5", 1.5),
        ("-0", 0),
        ("true", True),
        ("false", False),
        ("null", None),
        ("tru", "tru"),
        ("falsey", "falsey"),
        ("nul", "nul"),
        ("t", "t"),
    ],
)
def test_a_primitive_decodes_as_the_spec_says(token: str, value: Any) -> None:
    got = toon_tools.decode(f"k: {token}")["k"]
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "line", ['k: "bell\x07"', 'k: "nul\x00"', 'k: "a\\x"', 'k: "open', 'k: "a"b'])
def test_a_bad_quoted_value_is_still_refused(line: str) -> None:
    with pytest.raises(ToonDecodeError):
        toon_tools.decode(line)


def test_a_control_character_is_kept_in_non_strict_mode() -> None:
    assert toon_tools.decode('k: "bell\x07"', strict=False) == {"k": "bell\x07"}


def test_spacing_around_a_value_is_trimmed() -> None:
    text = "a:  two\nb: trail  \nc:\t x\nd: 1 \n"
    assert toon_tools.decode(text, strict=False) == {"a": "two", "b": "trail", "c": "\t x", "d": 1}


def test_indentation_is_spaces_only() -> None:
    # lstrip() also removes other whitespace: the content must keep it.
    assert toon_tools.decode("a:\n  \u00a0b: 1") == {"a": {"\u00a0b": 1}}
    deep = "".join(f"{'  ' * d}k{d}:\n" for d in range(40)) + "  " * 40 + "v: 1"
    value: Any = toon_tools.decode(deep)
    for d in range(40):
        value = value[f"k{d}"]
    assert value == {"v": 1}
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode("a:\n \t b: 1")
    assert (info.value.line, info.value.column) == (2, 2)


def test_line_numbers_count_dropped_comments() -> None:
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode("a: 1\nb: 2\n# note\n\nc: \"open")
    assert info.value.line == 5
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode("a: 1\nb: \"open")
    assert info.value.line == 2
    located = toon_tools.decode_located("# head\na: 1\n# mid\nb: 2")
    assert located.spans["/b"].value.line == 4


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('a:\n  b: "open', 2, 6),
        ('a:\n  b[2]: 1,"x', 2, 11),
        ("a:\n  b[x]: 1", 2, 4),
        ("a:\n  [2]: 1,2", 2, 3),
        ('a:\n  "k"x: 1', 2, 6),
        ("a:\n  b: 1\n  c", 3, 4),
        ("a:\n  b: 1\n  c[2]{x,x}:", 3, 11),
        ("a:\n  b: 1\n  b: 2", 3, 3),
        ('a:\n  b:   "x" y', 2, 11),
        ('items[1]:\n  -   k: "open', 2, 10),
        ("items[1]:\n  - k[2]: 1", 2, 5),
        ('items[1]:\n  -   "open', 2, 7),
        ("items[1]:\n  -   k: 1\n    k: 2", 3, 5),
        ("x[1]:\n  - [2]: 1", 2, 5),
        ('x[1]:\n  -   [2]: 1,"', 2, 14),
        ('# c\na:\n  # c\n  b: 1\n  c: "o', 5, 6),
        ('a:\r\n  b: 1\r\n  c: "o', 3, 6),
    ],
)
def test_an_indented_line_is_read_in_place_with_its_columns(text: str, line: int,
                                                             column: int) -> None:
    # Fields and list items are parsed from an offset into the line as written
    # (no copy of its content): every column must still count the indentation.
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode(text)
    assert (info.value.line, info.value.column) == (line, column)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a.b_c[2]: 1,2", {"a.b_c": [1, 2]}),
        ("_x9[1]: 1", {"_x9": [1]}),
        ("Z.[1]: 1", {"Z.": [1]}),
        # Not an unquoted key (§7.3), so not a header: the prefix is a literal key.
        ("a-b[2]: 1,2", {"a-b[2]": "1,2"}),
        ("9x[1]: 1", {"9x[1]": 1}),
        ("\u00e9[1]: 1", {"\u00e9[1]": 1}),
        ("a\u00e9[1]: 1", {"a\u00e9[1]": 1}),
        ("a b[1]: 1", {"a b[1]": 1}),
        # A quote in an unquoted key: the general scan (quotes hide ':' and '[').
        ('a"x:y": 1', {'a"x:y"': 1}),
        ('a"x:y"[2]: 1,2', {'a"x:y"[2]': "1,2"}),
        ('ab"[1]": 1', {'ab"[1]"': 1}),
        ("k :1", {"k": 1}),
    ],
)
def test_a_header_key_is_an_unquoted_key(text: str, value: Any) -> None:
    assert toon_tools.decode(text) == value


_NUMBERISH = st.text(alphabet="-+.eE0123456789a\u0661", min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(_NUMBERISH | st.sampled_from(["0", "-0", "01", "-", "1.", ".5", "1e", "1e+", "1E-7",
                                      "-0.0e0", "1.5e3x", "00.1", "1..2", "1ee2"]))
def test_the_compiled_number_scan_is_the_number_grammar(tok: str) -> None:
    kind = number_kind(tok, len(tok))
    assert (kind > 0) == bool(NUMBER.match(tok))
    assert kind != 1 or tok.lstrip("-").isdigit()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="aZ_9.-\u00e9 ", min_size=1, max_size=6))
def test_the_compiled_key_test_is_the_unquoted_key_grammar(key: str) -> None:
    text = f"[{key}]"
    assert unquoted_key(text, 1, len(text) - 1) == bool(UNQUOTED_KEY.match(key))
