"""read_json: every JSON that cannot become TOON is one positioned Finding."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toon_tools.convert.json_toon import read_json, read_json_lines
from toon_tools.convert.registry import ConversionError
from toon_tools.errors import Finding

LIMIT = sys.get_int_max_str_digits()


def error_of(data: bytes, reader=read_json) -> ConversionError:  # type: ignore[no-untyped-def]
    with pytest.raises(ConversionError) as info:
        reader(data, "d.json")
    err = info.value
    assert isinstance(err, Finding) and err.exit_code == 1
    assert err.path == "d.json"
    assert "\n" not in err.message
    return err


def test_valid_json_and_a_byte_order_mark() -> None:
    assert read_json(b'{"a": [1, 2.5, "\\ud83d\\ude00"]}', "d.json") == {"a": [1, 2.5, "\U0001f600"]}
    assert read_json(b"\xef\xbb\xbf[1]", "d.json") == [1]
    assert read_json('{"a": "é"}'.encode("utf-16-le"), "d.json") == {"a": "é"}


@pytest.mark.parametrize(("data", "line", "column", "message"), [
    (b'{"a": 1,}', 1, 9, "invalid JSON: Expecting property name enclosed in double quotes"),
    (b"", 1, 1, "invalid JSON: Expecting value"),
    (b'{"a":\n  "x\xff"}', 2, 5, "invalid JSON: not UTF-8 text: byte 0xff (invalid start byte)"),
    (b'[1,\n "ok", "\\ud800"]', 2, 9,
     "lone surrogate \\ud800 in a string: TOON is UTF-8 text, which cannot hold it"),
    (b'{"k\\udc00": 1}', 1, 4,
     "lone surrogate \\udc00 in a string: TOON is UTF-8 text, which cannot hold it"),
    (b'["\\ud800\\ud800"]', 1, 3,
     "lone surrogate \\ud800 in a string: TOON is UTF-8 text, which cannot hold it"),
    (b'["\\ud83d\\ude00", "\\\\ud800 is text", "x\\ude00"]', 1, 39,
     "lone surrogate \\ude00 in a string: TOON is UTF-8 text, which cannot hold it"),
])
def test_positioned_errors(data: bytes, line: int, column: int, message: str) -> None:
    err = error_of(data)
    assert (err.line, err.column, err.message) == (line, column, message)


def test_an_integer_over_the_digit_limit_is_refused_where_it_stands() -> None:
    huge = "7" * (LIMIT + 1)
    data = f'{{"note": "{huge}",\n "n": -{huge}}}'.encode()
    err = error_of(data)
    assert (err.line, err.column) == (2, 7)
    assert err.message == (f"integer with {LIMIT + 1:,} digits: over Python's limit of "
                           f"{LIMIT:,} digits, so it cannot be kept exactly")
    assert sys.get_int_max_str_digits() == LIMIT  # never changed
    # A float is no int: its digits have no limit.
    assert read_json(f"[{'9' * LIMIT}, 0.{huge}]".encode(), "d.json") == \
        [int("9" * LIMIT), 0.7777777777777778]


def test_nesting_too_deep() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    err = error_of(data)
    assert err.message == "invalid JSON: nested too deeply"
    assert err.line == 1 and err.column is not None and err.column > 1


def test_json_lines_positions_are_in_the_whole_file() -> None:
    assert read_json_lines(b'{"id": 1}\n\n{"id": 2}\r\n', "d.json") == [{"id": 1}, {"id": 2}]
    err = error_of(b'{"id": 1}\n{oops}\n', read_json_lines)
    assert (err.line, err.column) == (2, 2)
    err = error_of(b'{"id": 1}\n\n["\\udc00"]\n', read_json_lines)
    assert (err.line, err.column) == (3, 3)
    err = error_of(b'{"id": 1}\n[1]\xfe\n', read_json_lines)
    assert (err.line, err.column) == (2, 4)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=4),
    max_leaves=20)


@given(json_values)
def test_reads_what_json_writes(value: object) -> None:
    for ensure_ascii in (True, False):
        text = json.dumps(value, ensure_ascii=ensure_ascii)
        assert read_json(text.encode(), "d.json") == value


@given(st.binary(max_size=40))
def test_any_bytes_give_a_value_or_a_finding(data: bytes) -> None:
    try:
        read_json(data, "d.json")
    except ConversionError as e:
        assert e.line is not None and e.line >= 1 and e.column is not None and e.column >= 1



# -- numbers TOON cannot hold: NaN and the infinities (not JSON: RFC 8259 §6),
# and numbers past a float's range (TOON's decoder refuses them too) ----------------

@pytest.mark.parametrize(("data", "line", "column", "message"), [
    (b'{"a": NaN}', 1, 7, "invalid JSON: NaN is not a JSON number (RFC 8259)"),
    (b'[1,\n  Infinity]', 2, 3, "invalid JSON: Infinity is not a JSON number (RFC 8259)"),
    (b'{"NaN": "Infinity", "x": -Infinity}', 1, 26,
     "invalid JSON: -Infinity is not a JSON number (RFC 8259)"),
    (b'{"a": 1e999, "b": -1e400}', 1, 7, "number is out of the range of a float: 1e999"),
    (b'{"1e999": "1e999",\n "n": [0.5, -1.5e400]}', 2, 13,
     "number is out of the range of a float: -1.5e400"),
    (b'[' + b'9' * 400 + b'.0]', 1, 2, "number is out of the range of a float: " + "9" * 40),
])
def test_numbers_toon_cannot_hold(data: bytes, line: int, column: int, message: str) -> None:
    err = error_of(data)
    assert (err.line, err.column, err.message) == (line, column, message)


def test_numbers_that_underflow_read_as_zero_and_big_integers_stay_exact() -> None:
    assert read_json(b"[1e-999, -1e-400, 1e308, 100000000000000000000000]", "d.json") == \
        [0.0, -0.0, 1e308, 10**23]


def test_json_lines_refuse_them_in_place() -> None:
    err = error_of(b'{"id": 1}\n\n{"id": 2, "v": 1E+999}\n', read_json_lines)
    assert (err.line, err.column, err.message) == \
        (3, 16, "number is out of the range of a float: 1E+999")
    err = error_of(b'{"id": 1}\n[NaN]\n', read_json_lines)
    assert (err.line, err.column) == (2, 2)


def test_encode_refuses_them_in_one_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.cli.conftest import run_toon

    src = tmp_path / "inf.json"
    src.write_text('{"a": 1e999, "b": -1e400, "c": NaN, "d": Infinity}\n')
    r = run_toon("encode", str(src))
    assert (r.code, r.out, r.err) == (
        1, "", f"toon: error: {src}:1:7: number is out of the range of a float: 1e999\n")
    r = run_toon("encode", stdin='{"c": NaN}')
    assert (r.code, r.out, r.err) == (
        1, "", "toon: error: <stdin>:1:7: invalid JSON: NaN is not a JSON number (RFC 8259)\n")
    r = run_toon("convert", str(src))
    assert (r.code, r.out) == (1, "") and r.err.count("\n") == 1
    assert r.err.startswith(f"toon: error: {src}:1:7: number is out of the range")
