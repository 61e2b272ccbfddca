"""The encoder's fast paths against the TypeScript reference, byte for byte.

The hypothesis documents rarely reach them: a string column long enough to be
scanned as a whole (8 rows or more), every quoting rule inside such a column,
short inline arrays formatted item by item (up to 16) next to longer ones, a key
recurring at several depths (field-line prefixes are kept per depth), and more
distinct short strings than the encoder remembers; floats written from their
hundredths (the fast path of format_float) next to floats that only look like
them; the streaming lines against the one-string text.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from tests.codec.test_differential import Oracle, oracle  # noqa: F401  (fixture)
from toon_tools.codec._encoder import Encoder, _string_column
from toon_tools.codec._scalars import (
    _ESCAPE_TABLE,
    UNSAFE_CHAR,
    _format_float_repr,
    format_float,
    has_unsafe_char,
    needs_quote,
    quote,
)

#: Each forces quoting by a different rule of §7.2, or looks as if it might.
TRICKY = [
    "", " lead", "trail ", "tab\t", "-dash", "#hash", "12", "-3", "1e5", "+7",
    "05", "true", "null", "falsey", "a:b", 'q"q', "back\\slash", "[x]", "{y}", "a,b", "a|b",
    "ctl\x01", "nl\nx", "nbsp\u00a0x", "zwsp\u200bx", "é", "日本", "plain",
]
SAFE = [f"user{i}@example.com" for i in range(12)]
#: Hundredths and near misses: 0.29 * 100 is not 29.0, 2.675 is not 267.5 / 100,
#: the bounds of the fast path (|x| < 1e13), negative zero, an exponent form.
FLOATS = [0.29, -0.05, 0.1, 2.675, 0.015, 100.0, -0.0, 57.83, 1e12 + 0.01,
          9999999999999.99, 1e13, -1e13, 123.456, 1e-7, 5e-324, 1.5e300, 0.3333333333333333]


def _cases() -> list[Any]:
    rows = [{"id": i, "s": s, "safe": SAFE[i % len(SAFE)]} for i, s in enumerate(TRICKY)]
    keyed = {f"k{i}": {"s": s, "n": i} for i, s in enumerate(TRICKY)}
    return [
        {"rows": rows},  # every rule inside one long column
        {"rows": [{"s": s} for s in SAFE]},  # a long column that needs no quotes
        {"rows": [{"s": s} for s in SAFE[:7] + ["a,b|c"]]},  # the one unsafe row is last
        {"keyed": keyed},
        {"short": TRICKY[:16], "long": TRICKY[:17], "mixed": [1, 2.5, True, None, "x", -0.0]},
        {"items": [TRICKY[:3], [1, "a:b"], {"first": TRICKY[5], "then": TRICKY[12]}]},
        {"a": 1, "b": {"a": "x y", "b": {"a": [1, 2], "c": {"a": "true"}}}, "c": [{"a": 1}]},
        [{"a": TRICKY[i], "b": i} if i % 2 else {"b": TRICKY[i], "a": i}
         for i in range(len(TRICKY))],
        {"many": [{"v": f"v{i}", "w": f"v{i % 7}"} if i % 3 else {"v": f"v{i}"}
                  for i in range(2500)]},
        {"floats": FLOATS, "rows": [{"x": x, "neg": -x} for x in FLOATS]},
    ]


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
@pytest.mark.parametrize("case", range(len(_cases())))
def test_fast_paths_match_reference(oracle: Oracle, case: int, delimiter: str) -> None:  # noqa: F811
    value = _cases()[case]
    expected = oracle.ask({"op": "encode", "value": value, "options": {"delimiter": delimiter}})
    assert toon_tools.encode(value, delimiter=delimiter) == expected
    assert Encoder(delimiter=delimiter).text(value) == expected


def test_a_leading_byte_order_mark_is_quoted_in_a_long_column() -> None:
    """Our one deliberate difference from the reference (see ``encode``)."""
    value = {"rows": [{"s": s} for s in SAFE[:9] + ["\ufeffbom"]]}
    text = toon_tools.encode(value)
    assert '"\ufeffbom"' in text
    assert toon_tools.decode(text) == value


@pytest.mark.parametrize("where", ["column", "short", "field"])
def test_a_lone_surrogate_is_refused_on_every_path(where: str) -> None:
    bad = "x\ud800y"
    value: Any = {
        "column": {"rows": [{"s": s} for s in SAFE[:9] + [bad]]},
        "short": {"tags": ["a", bad]},
        "field": {"s": bad},
    }[where]
    with pytest.raises(ValueError, match="U\\+D800"):
        toon_tools.encode(value)


@pytest.mark.parametrize("case", range(len(_cases())))
def test_streamed_lines_are_the_text(case: int) -> None:
    """encode_lines cuts the encoder's pieces into lines, in chunks of about
    4096 pieces: the lines joined are the one-string text (the "many" case
    crosses chunk boundaries)."""
    value = _cases()[case]
    assert "\n".join(toon_tools.encode_lines(value)) == toon_tools.encode(value)


#: Every character up to U+02FF, the C1 controls and the lone surrogates among
#: them, line separators, a byte order mark, an astral character.
CHARACTERS = [chr(c) for c in range(0x300)] + [
    "\ud800", "\udbff", "\udc00", "\udfff", "\u2028", "\u2029", "\ufeff", "\U0001f600"]


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_character_scans_agree_with_the_rules(delimiter: str) -> None:
    """has_unsafe_char and quote scan the UTF-8 bytes (one translate), not the
    characters: each character, alone and inside ASCII or non-ASCII text, is
    judged as the §7.2 character class and the §7.1 escapes judge it."""
    unsafe = UNSAFE_CHAR[delimiter]
    for c in CHARACTERS:
        for s in (c, f"ab{c}cd", f"é{c}", f"{c}日本"):
            assert has_unsafe_char(s, unsafe) == (unsafe.search(s) is not None), repr(s)
            if "\ud800" <= c <= "\udfff":
                with pytest.raises(ValueError, match="lone surrogate"):
                    quote(s)
            else:
                assert quote(s) == f'"{s.translate(_ESCAPE_TABLE)}"', repr(s)


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_whole_column_scan_agrees_with_each_string(delimiter: str) -> None:
    """A string column is scanned whole for unsafe characters, then by shape:
    each rule, met by one string first, inside or last in an otherwise plain
    column, decides as the per-string test does."""
    unsafe = UNSAFE_CHAR[delimiter]
    odd = TRICKY + ["true", "false", "null", "+1", "01", "x ", "\ufeffx", "-", "#", "truex",
                    "\x7f", "a\x7fb", "a\x7f", "\x7f1", "São Paulo"]
    for s in odd:
        for col in ([s, *SAFE[:9]], [*SAFE[:5], s, *SAFE[5:9]], [*SAFE[:9], s], [s] * 9):
            expected = [quote(x) if needs_quote(x, unsafe) else x for x in col]
            assert _string_column(col, unsafe) == expected, (s, col.index(s))


def _nested(depth: int, shape: str) -> Any:
    """``depth`` containers, each holding the next as its first, middle or last
    field, or as a list item's object's first or last field."""
    value: Any = {}
    for _ in range(depth - 1):
        value = {"first": {"a": value, "z": 1}, "middle": {"x": 1, "a": value, "z": 2},
                 "last": {"x": 1, "a": value}, "item_first": [{"a": value, "z": 1}],
                 "item_last": [{"x": 1, "a": value}]}[shape]
    return value


@pytest.mark.parametrize("shape", ["first", "middle", "last", "item_first", "item_last"])
def test_depth_limit_counts_every_container(shape: str) -> None:
    """Objects are written in a native loop, their frame pushed only when a
    field opens a scope: the encoder still counts the depth the decoder does,
    wherever the nested value sits."""
    for depth in range(8, 13):
        value = _nested(depth, shape)
        try:
            text = toon_tools.encode(value, max_depth=10)
        except ValueError:
            with pytest.raises(toon_tools.ToonDecodeError):
                toon_tools.decode(toon_tools.encode(value), max_depth=10)
        else:
            assert toon_tools.decode(text, max_depth=10) == value


def _doubles(n: int) -> list[float]:
    rng = random.Random(16)
    bits = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(n)]
    return (bits + [rng.randint(-10**15, 10**15) / 100 for _ in range(n)]
            + [round(rng.uniform(-1e6, 1e6), rng.randint(0, 4)) for _ in range(n)])


def test_float_fast_path_agrees_with_repr() -> None:
    for x in FLOATS + _doubles(3000):
        assert format_float(x) == _format_float_repr(x), x


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True) | st.integers(-10**15, 10**15).map(
    lambda c: c / 100))
def test_float_fast_path_agrees_with_repr_property(x: float) -> None:
    assert format_float(x) == _format_float_repr(x)
