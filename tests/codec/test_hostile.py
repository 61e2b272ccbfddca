"""Hostile input: deep nesting, bad bytes, and the shape of every error."""

from __future__ import annotations

from typing import Any

import pytest

import toon_tools
from toon_tools import ToonDecodeError


def _nested_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _nested_dict(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("make", [_nested_list, _nested_dict])
def test_encode_of_very_deep_value_is_a_value_error(make: Any) -> None:
    with pytest.raises(ValueError, match="max_depth=1000") as info:
        toon_tools.encode(make(100_000))
    assert not isinstance(info.value, RecursionError)


def test_encode_of_a_cycle_is_a_value_error() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(ValueError, match="max_depth"):
        toon_tools.encode(loop)


def test_deep_table_columns_are_bounded_too() -> None:
    rows = [{"x": _nested_dict(5000)}, {"x": _nested_dict(5000)}]
    with pytest.raises(ValueError, match="max_depth"):
        toon_tools.encode({"rows": rows})


def _deep_document(depth: int) -> str:
    return "\n".join("  " * i + "a:" for i in range(depth))


def test_decode_of_5000_levels_is_a_decode_error() -> None:
    with pytest.raises(ToonDecodeError, match="max_depth=1000") as info:
        toon_tools.decode(_deep_document(5000))
    assert info.value.line == 1000  # the line that opens the 1001st container


def test_deep_field_groups_are_bounded() -> None:
    header = "t[1]{" + "a{" * 5000 + "b" + "}" * 5001 + ":\n  1"
    with pytest.raises(ToonDecodeError, match="max_depth"):
        toon_tools.decode(header)


def test_max_depth_can_be_raised_without_recursion() -> None:
    deep = _nested_dict(3000)
    text = toon_tools.encode(deep, max_depth=5000)
    assert text.count("\n") == 2999
    back = toon_tools.decode(text, max_depth=5000)
    for _ in range(3000):
        back = back["a"]
    assert back == {}


def test_invalid_utf8_is_an_error_with_position() -> None:
    with pytest.raises(ToonDecodeError, match="invalid UTF-8") as info:
        toon_tools.decode(b"a: 1\nname: caf\xe9!\n")
    assert (info.value.line, info.value.column) == (2, 10)


def test_surrogate_bytes_are_invalid_utf8() -> None:
    with pytest.raises(ToonDecodeError, match="invalid UTF-8"):
        toon_tools.decode(b"a: \xed\xa0\x80")


def test_non_strict_replaces_invalid_utf8() -> None:
    assert toon_tools.decode(b"a: caf\xe9", strict=False) == {"a": "caf\ufffd"}


def test_bom_and_crlf() -> None:
    assert toon_tools.decode(b"\xef\xbb\xbfa: 1\r\nb[2]: x,y\r\n") == {"a": 1, "b": ["x", "y"]}
    assert toon_tools.decode("\ufeffa: 1") == {"a": 1}


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ("users[3]{id}:\n  1\n  2", "users[3]: expected 3 rows, found 2", 1, 1),
    ("tags[3]: a,b", "tags[3]: expected 3 values, found 2", 1, 1),
    ("items[2]:\n  - a", "items[2]: expected 2 list items, found 1", 1, 1),
    ("m[2:]{v}:\n  a: 1", "m[2:]: expected 2 entries, found 1", 1, 1),
    ("t[1]{a,b}:\n  1", "t[1]: row has 1 values but the header declares 2 fields", 2, 3),
    ('a: "x\\qy"', "invalid escape sequence \\q", 1, 6),
    ('a:\n  b: "open', "unterminated string", 2, 6),
    ("a: 1\na: 2", "duplicate key 'a'", 2, 1),
    ("a:\n   b: 1", "indentation of 3 spaces is not a multiple of 2", 2, 4),
    ("a:\n\tb: 1", "tab character in indentation", 2, 1),
    ("a: 1\n  b: 2", "unexpected indentation: the line above opens no scope", 2, 3),
    ("a:\n  user", "expected ':' after key", 2, 7),
    ("key[03]: a", "array length must not have leading zeros", 1, 5),
    ("items[2]:\n  - a\n\n  - b", "blank line inside an array", 3, 1),
    ("[1]: x\ny: 2", "unexpected content after the root array", 2, 1),
    ("n: 1e999", "number is out of the range of a float: 1e999", 1, 4),
])
def test_error_messages_name_the_rule(text: str, message: str, line: int, column: int) -> None:
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode(text)
    assert (info.value.msg, info.value.line, info.value.column) == (message, line, column)
    assert str(info.value) == f"{message} (line {line}, column {column})"


def test_error_lines_count_comment_lines() -> None:
    """Positions point into the original text, comments included (§5.1)."""
    with pytest.raises(ToonDecodeError) as info:
        toon_tools.decode("# one\n# two\na: 1\na: 2")
    assert info.value.line == 4


def test_errors_pickle() -> None:
    import pickle

    err = ToonDecodeError("bad", 3, 4)
    back = pickle.loads(pickle.dumps(err))
    assert (back.msg, back.line, back.column, str(back)) == ("bad", 3, 4, str(err))


@pytest.mark.parametrize("text", [
    "a" * 200_000 + ": " + "b" * 200_000,
    "t[1]: " + ",".join(["x"] * 100_000)[:-2] + "xx",
    "\n" * 200_000 + "a: 1",
    '"' + "\\\\" * 100_000 + '": 1',
])
def test_long_lines_and_many_blanks_decode(text: str) -> None:
    toon_tools.decode(text, strict=False)


@pytest.mark.parametrize("make", [_nested_list, _nested_dict])
def test_encoder_and_decoder_agree_on_the_depth_limit(make: Any) -> None:
    """Whatever encodes under max_depth decodes under the same max_depth."""
    for depth in (8, 9, 10, 11, 12):
        value = make(depth)
        try:
            text = toon_tools.encode(value, max_depth=10)
        except ValueError:
            with pytest.raises(ToonDecodeError):
                toon_tools.decode(toon_tools.encode(value), max_depth=10)
        else:
            assert toon_tools.decode(text, max_depth=10) == value
