"""Streaming decode (issue 16): ``decode_events`` and ``iter_events`` against ``decode``.

``decode`` is the specification here: a value built from the events must equal
its value, and every error must be its error (message, line, column).
"""

from __future__ import annotations

import io
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from tests.codec.test_conformance import _decode_opts
from tests.codec.test_differential import oracle  # noqa: F401 (the fixture)
from tests.conftest import fixture_cases
from tests.json_model import json_equal
from tests.strategies import documents, messy_documents
from toon_tools.codec import ToonDecodeError, decode, decode_events, encode
from toon_tools.codec._stream import (
    END_ARRAY,
    END_OBJECT,
    KEY,
    START_ARRAY,
    START_OBJECT,
    VALUE,
    iter_events,
    lines_of,
)


def build(events: Iterator[tuple[str, Any]]) -> Any:
    """The value the reference's ``buildValueFromEvents`` would build."""
    stack: list[Any] = []
    keys: list[str] = []
    root: list[Any] = []
    for kind, value in events:
        if kind in ("endObject", "endArray"):
            stack.pop()
            continue
        if kind == "key":
            keys.append(value)
            continue
        v = {} if kind == "startObject" else [] if kind == "startArray" else value
        if not stack:
            root.append(v)
        elif isinstance(stack[-1], list):
            stack[-1].append(v)
        else:
            stack[-1][keys.pop()] = v
        if kind in ("startObject", "startArray"):
            stack.append(v)
    assert not stack and len(root) == 1
    return root[0]


def build_whole(events: Iterator[tuple[int, Any]]) -> Any:
    """Like :func:`build`, for ``iter_events(whole_values=True)``."""
    names = {START_OBJECT: "startObject", END_OBJECT: "endObject", START_ARRAY: "startArray",
             END_ARRAY: "endArray", KEY: "key"}
    return build((names.get(k, "primitive"), v) for k, v in events)


def outcome(run: Any) -> tuple[Any, ...]:
    try:
        return ("ok", run())
    except ToonDecodeError as e:
        return ("error", e.msg, e.line, e.column, e.declared, e.found)


def assert_same(text: str, **opts: Any) -> None:
    """decode(text) and every streaming way in agree, value or error."""
    expected = outcome(lambda: decode(text, **opts))
    ways = [
        lambda: build(decode_events(text, **opts)),
        lambda: build(decode_events(text.encode("utf-8"), **opts)),
        lambda: build(decode_events(iter(text.split("\n")), **opts)),
        lambda: build_whole(iter_events(
            lines_of(io.BytesIO(text.encode()), strict=opts.get("strict", True), chunk_size=7),
            whole_values=True, **opts)),
    ]
    for way in ways:
        got = outcome(way)
        if expected[0] == "ok" and got[0] == "ok":
            assert json_equal(got[1], expected[1]), (text, got[1], expected[1])
        else:
            assert got == expected, text


# ---------------------------------------------------------------- conformance


@pytest.mark.parametrize("case", fixture_cases("decode"))
def test_conformance_fixture(conformance: Any, case: dict[str, Any]) -> None:
    assert_same(case["input"], **_decode_opts(case.get("options", {})))


# ---------------------------------------------------------------- properties


_GRAMMAR = ':"-,[]{}|# \t\\'


def _mutate(text: str, how: int, at: int, by: int) -> str:
    """One realistic edit of a valid document: drop, duplicate, indent or
    dedent a line, insert a blank line, change an array's count, or insert a
    character the grammar cares about."""
    lines = text.split("\n")
    i = at % len(lines)
    if how == 0:
        del lines[i]
    elif how == 1:
        lines.insert(i, lines[i])
    elif how == 2:
        lines[i] = " " * by + lines[i]
    elif how == 3:
        lines[i] = lines[i][by:]
    elif how == 4:
        lines.insert(i, "" if by % 2 else "  ")
    elif how == 5:
        lines[i] = lines[i].replace("[", f"[{by}", 1).replace("]", "", 1) if by > 3 else \
            lines[i].replace("[1", "[2", 1).replace("[2", "[1", 1)
    elif how == 6:
        lines[i] = "\t" + lines[i] if by % 2 else lines[i] + "," + "x" * by
    else:  # one character that means something to the grammar
        line = lines[i]
        cut = (at * 7 + by) % (len(line) + 1)
        lines[i] = line[:cut] + _GRAMMAR[(at + by) % len(_GRAMMAR)] + line[cut:]
    return "\n".join(lines)


mutations = st.tuples(st.integers(0, 8), st.integers(0, 200), st.integers(1, 5))


@settings(max_examples=80, deadline=None)
@given(documents, st.sampled_from([",", "\t", "|"]), st.sampled_from([1, 2, 4]),
       st.lists(mutations, min_size=1, max_size=2), st.booleans(), st.sampled_from([3, 1000]))
def test_events_agree_with_decode(value: Any, delimiter: str, indent: int,
                                  edits: list[tuple[int, int, int]], strict: bool,
                                  max_depth: int) -> None:
    text = encode(value, delimiter=delimiter, indent_size=indent)
    for how, at, by in edits:
        text = _mutate(text, how, at, by)
    assert_same(text, indent_size=indent, strict=strict, max_depth=max_depth)


@settings(max_examples=60, deadline=None)
@given(messy_documents(), st.lists(mutations, max_size=2), st.booleans())
def test_messy_documents_agree_with_decode(doc: tuple[str, int],
                                           edits: list[tuple[int, int, int]],
                                           strict: bool) -> None:
    text, indent = doc
    for how, at, by in edits:
        text = _mutate(text, how, at, by)
    assert_same(text, indent_size=indent, strict=strict)


# ---------------------------------------------------------------- error ranking


@pytest.mark.parametrize("text", [
    # A parse error (count) early, a bad indentation later: decode reports the
    # indentation, found by its pre-pass over the whole text.
    "a[3]: 1,2\nb: 1\n   c: 2",
    "a:\n  b: 1\n    c: 2\n\td: 1",
    "items[2]:\n  - 1\n\n  - 2\nz:\n\tq: 1",
])
def test_errors_ranked_as_decode_ranks_them(text: str) -> None:
    assert_same(text)


def test_invalid_utf8_outranks_everything() -> None:
    data = b"a[3]: 1,2\n   b: 1\nc: \xff\xfe\n"
    with pytest.raises(ToonDecodeError) as want:
        decode(data)
    with pytest.raises(ToonDecodeError) as got:
        list(decode_events(io.BytesIO(data)))
    assert (got.value.msg, got.value.line, got.value.column) == (
        want.value.msg, want.value.line, want.value.column)
    assert got.value.msg.startswith("invalid UTF-8")


@pytest.mark.parametrize("data", [
    b"\xef\xbb\xbfa: 1\r\nb: x\r\n", b"a: \xe2\x82\nb: 1", b"a: \xe2\x82", b"", b"\n\n",
    b"k: caf\xc3\xa9\r\r\n", "a: 世界\nb[2]: é,🚀".encode(),
])
@pytest.mark.parametrize("chunk_size", [1, 2, 5, 1 << 20])
def test_lines_of_reads_bytes_as_decode_does(data: bytes, chunk_size: int) -> None:
    for strict in (True, False):
        expected = outcome(lambda: decode(data, strict=strict))
        got = outcome(lambda: build_whole(iter_events(
            lines_of(io.BytesIO(data), strict=strict, chunk_size=chunk_size), strict=strict)))
        assert got == expected or (got[0] == expected[0] == "ok"
                                   and json_equal(got[1], expected[1]))


# ---------------------------------------------------------------- the API


def test_events_are_the_references() -> None:
    text = "users[2]{id,name}:\n  1,Ada\n  2,Bob\nok: true\ntags[0]:"
    assert list(toon_tools.decode_events(text)) == [
        ("startObject", None), ("key", "users"), ("startArray", 2),
        ("startObject", None), ("key", "id"), ("primitive", 1), ("key", "name"),
        ("primitive", "Ada"), ("endObject", None),
        ("startObject", None), ("key", "id"), ("primitive", 2), ("key", "name"),
        ("primitive", "Bob"), ("endObject", None), ("endArray", None),
        ("key", "ok"), ("primitive", True), ("key", "tags"), ("startArray", 0),
        ("endArray", None), ("endObject", None),
    ]


def test_whole_values_yield_rows_and_inline_arrays_whole() -> None:
    text = "t[2]{a,b{c}}:\n  1,x\n  2,y\nk[1:]{v}:\n  z: 3\ni[2]: 1,2"
    assert list(iter_events(text, whole_values=True)) == [
        (START_OBJECT, None), (KEY, "t"), (START_ARRAY, 2),
        (VALUE, {"a": 1, "b": {"c": "x"}}), (VALUE, {"a": 2, "b": {"c": "y"}}),
        (END_ARRAY, None), (KEY, "k"), (START_OBJECT, None), (KEY, "z"), (VALUE, {"v": 3}),
        (END_OBJECT, None), (KEY, "i"), (VALUE, [1, 2]), (END_OBJECT, None),
    ]


def test_bad_indent_size_is_refused_at_the_call() -> None:
    with pytest.raises(ValueError):
        decode_events("a: 1", indent_size=0)


# ---------------------------------------------------------------- laziness, memory

ROWS = 1_000_000


def _table(n: int, counter: list[int]) -> Iterator[str]:
    yield f"rows[{n}]{{id,name,score}}:"
    for i in range(n):
        counter[0] += 1
        yield f"  {i},name{i},{i}.5"


def test_first_events_come_before_the_input_ends() -> None:
    consumed = [0]
    events = decode_events(_table(ROWS, consumed))
    first = [next(events) for _ in range(12)]
    assert first[:3] == [("startObject", None), ("key", "rows"), ("startArray", ROWS)]
    assert consumed[0] < 10


def test_rows_are_not_kept() -> None:
    n = 50_000
    consumed = [0]
    tracemalloc.start()
    try:
        count = 0
        for kind, _ in iter_events(_table(n, consumed), whole_values=True):
            count += kind == VALUE
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n == consumed[0]
    assert peak < 1_000_000, peak  # a few rows' worth, never the table (~10 MB as values)


# ---------------------------------------------------------------- the reference


@settings(max_examples=40, deadline=None)
@given(documents)
def test_events_equal_the_references_decode_stream(oracle: Any, value: Any) -> None:
    text = encode(value)
    want = oracle.ask({"op": "events", "text": text})
    got = [{"type": k, **_payload(k, v)} for k, v in decode_events(text)]
    assert json_equal(got, want)


def _payload(kind: str, value: Any) -> dict[str, Any]:
    if kind == "startArray":
        return {"length": value}
    if kind == "key":
        return {"key": value}
    if kind == "primitive":
        return {"value": value}
    return {}
