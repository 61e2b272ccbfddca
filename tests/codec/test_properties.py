"""Hypothesis properties of the codec over the JSON data model."""

from __future__ import annotations

import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toon_tools
from toon_tools import ToonDecodeError
from tests.json_model import json_equal
from tests.strategies import json_values

values = st.one_of(st.dictionaries(st.text(max_size=8), json_values(js_safe=False), max_size=5),
                   json_values(js_safe=False))
options = st.fixed_dictionaries({
    "delimiter": st.sampled_from([",", "\t", "|"]),
    "indent_size": st.integers(1, 4),
})


@given(value=values, opts=options)
def test_round_trip(value: Any, opts: dict[str, Any]) -> None:
    text = toon_tools.encode(value, **opts)
    back = toon_tools.decode(text, indent_size=opts["indent_size"])
    assert json_equal(back, value, ordered_keys=False)


@given(value=values, opts=options)
def test_encoding_is_canonical(value: Any, opts: dict[str, Any]) -> None:
    """Encoding what we decoded reproduces the text: the output is a fixed point."""
    text = toon_tools.encode(value, **opts)
    again = toon_tools.encode(toon_tools.decode(text, indent_size=opts["indent_size"]), **opts)
    assert again == text


@given(value=values)
def test_output_invariants(value: Any) -> None:
    """§12: LF only, no trailing spaces, no trailing newline; §5.1: no comment lines."""
    text = toon_tools.encode(value)
    assert "\r" not in text.replace("\\r", "")
    assert not text.endswith("\n")
    for line in text.split("\n"):
        assert line == line.rstrip(" ")
        assert not line.lstrip(" ").startswith("#")


@given(value=values)
def test_encode_lines_and_dump_agree_with_encode(value: Any) -> None:
    text = toon_tools.encode(value)
    assert "\n".join(toon_tools.encode_lines(value)) == text
    buf = io.StringIO()
    toon_tools.dump(value, buf)
    assert buf.getvalue() == text
    assert json_equal(toon_tools.load(io.StringIO(text)), toon_tools.decode(text))


@given(value=values)
def test_bytes_and_str_decode_alike(value: Any) -> None:
    text = toon_tools.encode(value)
    assert json_equal(toon_tools.decode(text.encode("utf-8")), toon_tools.decode(text))
    crlf = text.replace("\n", "\r\n").encode("utf-8")
    assert json_equal(toon_tools.decode(b"\xef\xbb\xbf" + crlf), toon_tools.decode(text))


class _Exploding(list):  # type: ignore[type-arg]
    """A list whose contents must not be looked at before they are needed."""

    def __iter__(self) -> Any:
        raise AssertionError("the encoder walked past the lines it had handed out")

    def __len__(self) -> int:
        raise AssertionError("the encoder walked past the lines it had handed out")


def test_streaming_encoder_hands_out_lines_lazily() -> None:
    """encode_lines yields the first chunk before it walks the rest of the value:
    an eager encoder (one that builds every line, then yields) reaches the
    exploding list at the end and fails."""
    value: dict[str, Any] = {f"k{i}": {"nested": [1, {"a": i}]} for i in range(10_000)}
    value["last"] = {"boom": _Exploding([{"x": 1}, 2])}
    lines = toon_tools.encode_lines(value, default=list)
    assert next(lines) == "k0:"
    first = [next(lines) for _ in range(1000)]
    assert first[:2] == ["  nested[2]:", "    - 1"]
    with pytest.raises(AssertionError, match="walked past"):
        list(lines)


# ---------------------------------------------------------------- hostile input (issue 10)

_TOON_ALPHABET = st.sampled_from(list(" \t\n\r-#:,|[]{}\"\\0123456789aeE.+ntruefalsx") +
                                 ["\ufeff", "\u200b", "\x00", "\x1b", "é", "\u2028",
                                  "[2]", "[1|]", "[2\t]", "{a,b}", "- ", "  ", "\n  ", "\n- ",
                                  "1" * 30, "\\u", "\\ud800"])


def _assert_positioned(e: ToonDecodeError, text: str) -> None:
    lines = text.split("\n")
    assert 1 <= e.line <= len(lines), (e.line, len(lines))
    assert 1 <= e.column <= len(lines[e.line - 1]) + 1, (e.column, lines[e.line - 1])


@given(st.lists(_TOON_ALPHABET, max_size=40).map("".join), st.sampled_from([1, 2, 4]),
       st.booleans())
def test_decode_of_arbitrary_text_raises_only_positioned_decode_errors(
        text: str, indent: int, strict: bool) -> None:
    try:
        toon_tools.decode(text, indent_size=indent, strict=strict)
    except ToonDecodeError as e:
        _assert_positioned(e, text.removeprefix("\ufeff"))


@given(st.lists(_TOON_ALPHABET, max_size=30).map("".join))
def test_format_text_raises_only_decode_errors_and_is_idempotent(text: str) -> None:
    try:
        formatted = toon_tools.format_text(text)
    except ToonDecodeError as e:
        _assert_positioned(e, text.removeprefix("\ufeff"))
        return
    assert toon_tools.format_text(formatted) == formatted


@given(st.binary(max_size=80))
def test_decode_of_arbitrary_bytes_raises_only_positioned_decode_errors(data: bytes) -> None:
    try:
        toon_tools.decode(data)
    except ToonDecodeError as e:
        _assert_positioned(e, data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", "replace"))


# Format characters (Cf), BOM, zero-width and the code points next to the
# surrogate block: where a reader may drop, split or choke.
_INVISIBLE = ["\ufeff", "\u200b", "\u200c", "\u200d", "\u2060", "\u00ad", "\u202e",
              "\u2028", "\u2029", "\x85", "\ud7ff", "\ue000", "\uffff", "\U00010000",
              "\U0010ffff", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]
_edgy = st.lists(st.one_of(st.sampled_from(_INVISIBLE), st.sampled_from([" ", "a", "-", "1", ","])),
                 max_size=5).map("".join)


@given(st.one_of(_edgy, st.dictionaries(_edgy, st.one_of(_edgy, st.lists(_edgy, max_size=3),
                                                          st.lists(st.fixed_dictionaries(
                                                              {"a": _edgy, "b": _edgy}),
                                                              max_size=3)), max_size=3)),
       st.sampled_from([",", "\t", "|"]))
def test_round_trip_of_invisible_and_surrogate_adjacent_characters(value: Any,
                                                                   delimiter: str) -> None:
    text = toon_tools.encode(value, delimiter=delimiter)
    assert json_equal(toon_tools.decode(text), value, ordered_keys=False)
    assert json_equal(toon_tools.decode(text.encode("utf-8")), value, ordered_keys=False)
    assert toon_tools.format_text(text, delimiter=delimiter) == (text + "\n" if text else "")


@pytest.mark.parametrize("value", ["\ufeff", "\ufeff 1", "\ufeffa: b", "\u200b", ["\ufeff"],
                                   {"k": "\ufeff"}, {"\ufeff": 1}])
def test_a_leading_byte_order_mark_survives(value: Any) -> None:
    text = toon_tools.encode(value)
    assert json_equal(toon_tools.decode(text), value)
    assert json_equal(toon_tools.decode(b"\xef\xbb\xbf" + text.encode()), value)


@pytest.mark.parametrize("value", ["\ud800", "a\udfffb", {"k": ["\udc00"]}, {"\ud800": 1},
                                   [{"a": "\ud800", "b": 1}, {"a": "x", "b": 2}]])
def test_a_lone_surrogate_is_refused_with_a_value_error_naming_it(value: Any) -> None:
    with pytest.raises(ValueError, match="lone surrogate U\\+D[89A-F][0-9A-F]{2} at index"):
        toon_tools.encode(value)


@pytest.mark.parametrize("value", [10**5000, -(10**5000), {"a": 10**5000}, [10**5000, 1],
                                   [{"a": 10**5000}, {"a": 1}], {10**5000: 1}],
                         ids=["root", "negative", "field", "inline", "table", "key"])
def test_an_integer_past_the_digit_limit_is_refused_with_a_clear_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match="more than 4300 digits.*decimal.Decimal"):
        toon_tools.encode(value)


def test_huge_integers_are_kept_exactly_through_decimal() -> None:
    from decimal import Decimal

    big = 10**5000 + 7
    text = toon_tools.encode({"n": Decimal(big)})  # exponent form (§2), every digit
    assert toon_tools.decode(text, parse_float=Decimal)["n"] == Decimal(big)
    with pytest.raises(ToonDecodeError, match="out of the range of a float") as info:
        toon_tools.decode(text)
    assert (info.value.line, info.value.column) == (1, 4)
    plain = "n: " + "9" * 5001
    assert toon_tools.decode(plain, parse_int=Decimal)["n"] == Decimal("9" * 5001)
    with pytest.raises(ToonDecodeError, match="integer has 5001 digits") as info:
        toon_tools.decode(plain)
    assert (info.value.line, info.value.column) == (1, 4)
