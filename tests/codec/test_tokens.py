"""The public token API (toon_tools.codec): one token read and written exactly as
the decoder and the encoder do."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toon_tools
from toon_tools.codec import (
    DEFAULT_MAX_DEPTH,
    ToonDecodeError,
    encode_key,
    find_closing_quote,
    format_primitive,
    parse_primitive,
    quote_string,
    unescape_string,
)
from tests.json_model import json_equal
from tests.strategies import primitives


@pytest.mark.parametrize(("token", "value"), [
    ("42", 42), ("-3.5", -3.5), ("1E+3", 1000.0), ("05", "05"), ("-0", 0), ("true", True),
    ("false", False), ("null", None), ("hello world", "hello world"), ('"a\\tb"', "a\tb"),
    ('"42"', "42"), ("  padded  ", "padded"), ('""', ""), ("+5", "+5"),
])
def test_parse_primitive_reads_a_value_as_the_decoder_does(token: str, value: Any) -> None:
    assert json_equal(parse_primitive(token), value)
    assert json_equal(toon_tools.decode(f"k: {token}")["k"], value)


@pytest.mark.parametrize(("token", "column", "message"), [
    ('"abc', 1, "unterminated string"),
    ('  "a\\q"', 5, "invalid escape sequence \\q"),
    ('"a"b', 4, "unexpected characters after closing quote"),
    ('"\\ud800"', 2, "surrogate escape"),
    ("1" * 5000, 1, "integer has 5000 digits"),
])
def test_parse_primitive_refuses_with_a_position(token: str, column: int, message: str) -> None:
    with pytest.raises(ToonDecodeError) as info:
        parse_primitive(token)
    assert (info.value.line, info.value.column) == (1, column)
    assert message in info.value.msg


@given(primitives, st.sampled_from([",", "\t", "|"]))
def test_format_then_parse_is_the_identity(value: Any, delimiter: str) -> None:
    text = format_primitive(value, delimiter)
    assert json_equal(parse_primitive(text), value)
    # exactly what the encoder writes for that value in an inline array
    line = toon_tools.encode({"a": [value, value]}, delimiter=delimiter)
    assert line.split(": ", 1)[1] == delimiter.join([text, text])


@pytest.mark.parametrize(("value", "delimiter", "text"), [
    ("a,b", ",", '"a,b"'), ("a,b", "|", "a,b"), ("a|b", "|", '"a|b"'), (1.0, ",", "1"),
    (1e21, ",", "1e+21"), (None, ",", "null"), ("", ",", '""'), ("\ufeffx", ",", '"\ufeffx"'),
    (Decimal("1.50"), ",", "1.5"), ("-", ",", '"-"'),
])
def test_format_primitive_quotes_when_7_2_requires(value: Any, delimiter: str, text: str) -> None:
    assert format_primitive(value, delimiter) == text


def test_an_empty_token_is_the_empty_string() -> None:
    assert parse_primitive("") == "" and parse_primitive("   ") == ""


def test_format_primitive_refuses_what_is_not_a_primitive() -> None:
    with pytest.raises(TypeError, match="not dict"):
        format_primitive({"a": 1})
    with pytest.raises(ValueError, match="delimiter"):
        format_primitive(1, ";")
    with pytest.raises(ValueError, match="lone surrogate U\\+D800"):
        format_primitive("x\ud800")


def test_keys_and_quoted_strings() -> None:
    assert encode_key("plain_key.sub") == "plain_key.sub"
    assert encode_key("my-key") == '"my-key"'
    assert encode_key("") == '""'
    assert quote_string("x") == '"x"'
    assert quote_string('a"\n\x01') == '"a\\"\\n\\u0001"'


def test_find_closing_quote_and_unescape_string() -> None:
    text = 'k: "a\\"b" rest'
    end = find_closing_quote(text, 3)
    assert text[end] == '"' and end == 8
    assert unescape_string(text, 4, end) == 'a"b'
    with pytest.raises(ToonDecodeError) as info:
        find_closing_quote('x "abc', 2)
    assert (info.value.line, info.value.column) == (1, 3)
    with pytest.raises(ToonDecodeError) as info:
        unescape_string('ab\\x', 0, 4)
    assert (info.value.line, info.value.column, info.value.msg) == (
        1, 3, "invalid escape sequence \\x")


def test_one_default_max_depth() -> None:
    from toon_tools.codec import _decoder, _encoder, _scalars

    assert DEFAULT_MAX_DEPTH == _scalars.DEFAULT_MAX_DEPTH == 1000
    assert not hasattr(_decoder, "_MISSING") and not hasattr(_encoder, "_DONE")
    assert not hasattr(_encoder, "_TooDeep")
