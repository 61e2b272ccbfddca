"""Hypothesis properties of the codec over the JSON data model."""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

import toon_tools
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


def test_streaming_encoder_hands_out_lines_lazily() -> None:
    rows = [{"id": i, "name": f"n{i}"} for i in range(10)]
    value = {f"k{i}": {"nested": [1, {"a": i}]} for i in range(10_000)}
    lines = toon_tools.encode_lines(value)
    assert next(lines) == "k0:"
    assert toon_tools.encode({"rows": rows}).count("\n") == 10
