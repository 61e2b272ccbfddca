"""Reading a model's reply against a step's shape (issue 12, item 3): the replies
a user would accept are accepted (a fenced block with prose around it, a JSON
object, ``tags: a, b, c``, a miscounted ``[N]`` over complete rows), with a
warning wherever something was corrected; what is really wrong is rejected with
a short positioned message, the one a re-ask shows the model."""

from __future__ import annotations

import datetime
import enum
import gc
import json
import weakref
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field, field_validator
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import TRICKY_STRINGS
from toon_tools.codec import encode
from toon_tools.errors import Finding
from toon_tools.pipeline.replies import (
    Accepted,
    Partial,
    RejectedReply,
    TruncatedReply,
    cut_table,
    merge_rows,
    read_reply,
    read_rows,
    salvage_prompt,
)
from toon_tools.pipeline.shape import OutputShape

ANY = OutputShape.parse(["title", "tags[]"])
THREE = OutputShape.parse(["title", "tags[3]"])
DUNE = {"title": "Dune", "tags": ["sand", "worm", "spice"]}
BODY = "title: Dune\ntags[3]: sand,worm,spice"

ACCEPTED: list[tuple[str, str, OutputShape, dict[str, Any], tuple[str, ...]]] = [
    # rule 2: the last fenced block anywhere, any fence and info string
    ("a fenced block with a sentence around it",
     f"Here is the reply:\n```toon\n{BODY}\n```\nI hope it helps!", THREE, DUNE, ()),
    ("a tilde fence with no info string", f"~~~\n{BODY}\n~~~", THREE, DUNE, ()),
    ("the last of two fenced blocks",
     f"First try:\n```\ntitle: Nope\ntags[1]: x\n```\nBetter:\n```toon\n{BODY}\n```",
     THREE, DUNE, ()),
    ("a fence left open runs to the end", f"Sure.\n```toon\n{BODY}\n", THREE, DUNE, ()),
    ("an indented fence loses its indentation",
     "1. The reply:\n   ```toon\n   title: Dune\n   tags[3]: sand,worm,spice\n   ```",
     THREE, DUNE, ()),
    ("a longer closing fence, an inner shorter one is content",
     "````\ntitle: Dune\ntags[3]: sand,worm,spice\n````", THREE, DUNE, ()),
    ("no fence: the whole reply, stripped and dedented",
     "\n\n  title: Dune\n  tags[3]: sand,worm,spice  \n\n", THREE, DUNE, ()),
    ("a fenced block with CRLF line endings",
     "Here:\r\n```toon\r\ntitle: Dune\r\ntags[3]: sand,worm,spice\r\n```\r\n", THREE, DUNE, ()),
    ("CRLF line endings", "title: Dune\r\ntags[3]: sand,worm,spice\r\n", THREE, DUNE, ()),
    # rule 3: a JSON object
    ("a JSON object", json.dumps(DUNE), THREE, DUNE, ()),
    ("a JSON object in a json fence", f"```json\n{json.dumps(DUNE, indent=2)}\n```",
     THREE, DUNE, ()),
    ("a JSON object with a comma-separated list",
     '{"title": "Dune", "tags": "sand, worm, spice"}', THREE, DUNE,
     ("tags: one text read as 3 comma-separated items",)),
    # rule 4: a wrong [N] over complete values or rows
    ("a miscounted inline list", "title: Dune\ntags[4]: sand,worm,spice", THREE, DUNE,
     ("tags[4] declared 4 items, found 3: corrected",)),
    ("an overcounted inline list", "title: Dune\ntags[2]: sand,worm,spice", ANY, DUNE,
     ("tags[2] declared 2 items, found 3: corrected",)),
    ("an undercounted list of items", "title: Dune\ntags[1]:\n  - sand\n  - worm\n  - spice",
     ANY, DUNE, ("tags[1] declared 1 item, found 3: corrected",)),
    ("an overcounted list of items", "title: Dune\ntags[5]:\n  - sand\n  - worm\n  - spice",
     ANY, DUNE, ("tags[5] declared 5 items, found 3: corrected",)),
    ("miscounted rows in a field beyond the declared ones",
     f"{BODY}\nscenes[3]{{n,what}}:\n  1,arrival\n  2,desert",
     THREE, {**DUNE, "scenes": [{"n": 1, "what": "arrival"}, {"n": 2, "what": "desert"}]},
     ("scenes[3] declared 3 rows, found 2: corrected",)),
    ("two miscounted headers",
     "title: Dune\ntags[9]: sand,worm,spice\nmore[1]: a,b",
     ANY, {**DUNE, "more": ["a", "b"]},
     ("tags[9] declared 9 items, found 3: corrected",
      "more[1] declared 1 item, found 2: corrected")),
    ("a miscount on a line with a quoted key",
     '"title": Dune\n"tags"[10]: sand,worm,spice', ANY, DUNE,
     ("tags[10] declared 10 items, found 3: corrected",)),
    # rule 5: the shape, leniently
    ("a comma-separated text for a list", "title: Dune\ntags: sand, worm, spice", THREE, DUNE,
     ("tags: one text read as 3 comma-separated items",)),
    ("one text for a list of any count", "title: Dune\ntags: sand", ANY,
     {"title": "Dune", "tags": ["sand"]}, ()),
    ("a number and a boolean as texts", "title: 1984\ntags[3]: 1,2.5,true", THREE,
     {"title": "1984", "tags": ["1", "2.5", "true"]}, ()),
    ("quoted texts", 'title: "Dune: Part 1"\ntags[3]: "a, b",c,"say \\"hi\\""', THREE,
     {"title": "Dune: Part 1", "tags": ["a, b", "c", 'say "hi"']}, ()),
    ("fields beyond the declared ones are kept, declared ones first",
     "note: hi\ntags[3]: sand,worm,spice\ntitle: Dune", THREE, {**DUNE, "note": "hi"}, ()),
    ("a JSON number as a text", '{"title": 1984, "tags": ["a", 2]}', ANY,
     {"title": "1984", "tags": ["a", "2"]}, ()),
]


@pytest.mark.parametrize(("content", "shape", "value", "warnings"),
                         [case[1:] for case in ACCEPTED], ids=[case[0] for case in ACCEPTED])
def test_accepted(content: str, shape: OutputShape, value: dict[str, Any],
                  warnings: tuple[str, ...]) -> None:
    accepted = read_reply(content, shape)
    assert accepted == Accepted(value, warnings)
    assert list(accepted.value) == list(value)  # declared fields first, in order


REJECTED: list[tuple[str, str, OutputShape, str, int | None, int | None]] = [
    ("a truncated row",
     f"{BODY}\nscenes[2]{{n,what}}:\n  1,arrival\n  2", THREE,
     "scenes[2]: row has 1 values but the header declares 2 fields", 5, 3),
    ("prose with no TOON", "I'm sorry, but I can't help with that.", ANY,
     "no TOON reply: expected the fields title, tags", None, None),
    ("prose over several lines", "Sure! Here is a title.\nIt is Dune.", ANY,
     "no TOON reply: expected the fields title, tags", None, None),
    ("an empty reply", "  \n", ANY, "empty reply: expected the fields title, tags", None, None),
    ("an empty fenced block", "Here:\n```\n```", ANY,
     "empty reply: expected the fields title, tags", None, None),
    ("a missing field, at the object that lacks it", "title: Dune", ANY, "no field 'tags'",
     1, 1),
    ("a field named in another case", "Title: Dune\ntags[1]: a", ANY,
     "no field 'title' (found 'Title')", 1, 1),
    ("a missing field in JSON", '{"tags": ["a"]}', ANY, "no field 'title'", None, None),
    ("a fixed count not met", "title: Dune\ntags[2]: sand,worm", THREE,
     "tags: expected 3 items, got 2", 2, 1),
    ("a fixed count not met by a comma-separated text", "title: Dune\ntags: sand, worm",
     THREE, "tags: expected 3 items, got 2", 2, 7),
    ("a fixed count not met in JSON", '{"title": "Dune", "tags": ["a"]}', THREE,
     "tags: expected 3 items, got 1", None, None),
    ("an empty list", "title: Dune\ntags: []", ANY, "tags: expected 1 or more items, got 0",
     2, 7),
    ("null for a text, at the value", "title: null\ntags[1]: a", ANY,
     "title: expected a text, got null", 1, 8),
    ("an object for a text", "title:\n  a: 1\ntags[1]: a", ANY,
     "title: expected a text, got an object", 1, 1),
    ("a list for a text", "title[1]: a\ntags[1]: b", ANY,
     "title: expected a text, got a list", 1, 1),
    ("an object in a list, at its row", "title: Dune\ntags[1]{a}:\n  1", ANY,
     "tags/0: expected a text, got an object", 3, 3),
    ("null in a list, at the item", "title: Dune\ntags[2]: a,null", ANY,
     "tags/1: expected a text, got null", 2, 12),
    ("null for a list", "title: Dune\ntags: null", ANY,
     "tags: expected a list, got null", 2, 7),
    ("a root list", "[2]: a,b", ANY, "expected the fields title, tags, got a list", None, None),
    ("an unterminated string", 'title: "Dune\ntags[1]: a', ANY, "unterminated string", 1, 8),
    ("a duplicate key", "title: a\ntitle: b\ntags[1]: a", ANY, "duplicate key 'title'", 2, 1),
    ("invalid JSON", '{"title": "Dune", "tags": ["a",]}', ANY,
     "invalid JSON: Expecting value", 1, 32),
    ("a lone surrogate in JSON", '{"title": "\\ud800", "tags": ["a"]}', ANY,
     "a text holds a lone surrogate (U+D800)", None, None),
    ("NaN in JSON", '{"title": "x", "tags": ["a"], "n": NaN}', ANY,
     "invalid JSON: NaN is not a number", None, None),
    ("a miscount corrected, then an error further on",
     "title: Dune\ntags[4]: sand,worm,spice\n  bad: indent", ANY,
     "unexpected indentation: the line above opens no scope", 3, 3),
    ("an error after a correction on the same line keeps the reply's columns",
     'title: Dune\ntags[1000]: a,b,"c', ANY, "unterminated string", 2, 17),
    ("the skeleton copied back", "title: <text>\ntags[1]: a", ANY,
     "title: the placeholder <text> was not replaced", 1, 8),
    ("a placeholder copied into a list", 'title: Dune\ntags[2]: a,"<text>"', ANY,
     "tags/1: the placeholder <text> was not replaced", 2, 12),
    ("a placeholder in a comma-separated text", "title: Dune\ntags: a, <text>", ANY,
     "tags/1: the placeholder <text> was not replaced", 2, 7),
    ("the JSON skeleton filled with placeholders", '{"title": "<text>", "tags": ["x"]}', ANY,
     "title: the placeholder <text> was not replaced", None, None),
    ("every failing field is told, the first at its position",
     "title: null\ntags[2]: a,null", ANY,
     "title: expected a text, got null (and 1 more)", 1, 8),
]


@pytest.mark.parametrize(("content", "shape", "message", "line", "column"),
                         [case[1:] for case in REJECTED], ids=[case[0] for case in REJECTED])
def test_rejected(content: str, shape: OutputShape, message: str, line: int | None,
                  column: int | None) -> None:
    with pytest.raises(RejectedReply) as e:
        read_reply(content, shape)
    assert type(e.value) is RejectedReply
    assert (e.value.message, e.value.line, e.value.column) == (message, line, column)


def test_a_rejection_is_a_finding_told_to_the_model_with_its_position() -> None:
    with pytest.raises(RejectedReply) as e:
        read_reply("title: Dune\ntags[2]: sand,worm", THREE)
    assert isinstance(e.value, Finding)
    assert e.value.text == "title: Dune\ntags[2]: sand,worm"
    assert e.value.for_model() == "tags: expected 3 items, got 2"
    assert (e.value.line, e.value.column) == (2, 1)
    with pytest.raises(RejectedReply) as e:
        read_reply("title: Dune", THREE)
    assert e.value.for_model() == "no field 'tags'"


def test_a_long_message_is_cut_to_one_short_line() -> None:
    key = "k" * 150
    with pytest.raises(RejectedReply) as e:
        read_reply(f'title: Dune\n"{key}\\nx": 1\n"{key}\\nx": 2', ANY)
    assert len(e.value.message) <= 100 and "\n" not in e.value.message
    assert e.value.message.startswith("duplicate key")


def test_positions_point_into_the_text_parsed_not_the_whole_reply() -> None:
    with pytest.raises(RejectedReply) as e:
        read_reply('Here:\n\n```toon\ntitle: "Dune\ntags[1]: a\n```\nThanks', ANY)
    assert (e.value.line, e.value.column) == (1, 8)
    assert e.value.text == 'title: "Dune\ntags[1]: a'


@pytest.mark.parametrize("content", [BODY, "title: Du", json.dumps(DUNE), ""])
def test_a_reply_cut_off_at_the_token_limit_is_never_parsed(content: str) -> None:
    with pytest.raises(TruncatedReply) as e:
        read_reply(content, THREE, finish_reason="length")
    assert isinstance(e.value, RejectedReply)
    assert e.value.message == "the reply was cut off at the token limit (finish_reason: length)"
    assert read_reply(BODY, THREE, finish_reason="stop").value == DUNE


# ---------------------------------------------------------------- properties

_FRAGMENTS = st.sampled_from([
    "```", "```toon\n", "~~~", "\n", "\r\n", "  ", "title: ", "tags", "[", "]", "3", "0",
    "999999999999999999999", "]: ", ",", "- ", "  - ", "{", "}", '"', "\\", ":", "1984",
    "null", "true", "rows[2]{a,b}:\n", "  1,2\n", "# c\n", '{"title": "x"}', "[2]:",
    '{"title": 1, "tags": "a,b"}', "\t", "|", "\ud800", "\x00", "é", "🚀", "\u2028",
    "tags[1]:\n  - a\n  - b", "[1]:\n  - ", '"a":', "\\u00e9", "-", "1e400", "{" * 30,
])
_TEXTS = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(_FRAGMENTS, st.text(max_size=4)), max_size=25).map("".join),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["title", "tags", "x"]), inner, max_size=3),
                 max_leaves=8).map(lambda v: encode(v) if not isinstance(v, str) else v),
)
_SHAPES = st.sampled_from([ANY, THREE, OutputShape.parse(["tags[1]", "x"])])


@settings(max_examples=200, deadline=None)
@given(content=_TEXTS, shape=_SHAPES, finish=st.sampled_from([None, "stop"]))
def test_any_reply_is_accepted_or_rejected_with_a_position_inside_the_text(
        content: str, shape: OutputShape, finish: str | None) -> None:
    try:
        accepted = read_reply(content, shape, finish_reason=finish)
    except RejectedReply as e:
        assert "\n" not in e.message and "\r" not in e.message and len(e.message) <= 100
        assert (e.line is None) == (e.column is None)
        if e.line is not None:
            assert e.text is not None
            lines = e.text.split("\n")
            assert 1 <= e.line <= len(lines)
            assert 1 <= e.column <= len(lines[e.line - 1]) + 1
        return
    assert isinstance(accepted.value, dict)
    encode(accepted.value)  # always storable as TOON
    for f in shape.fields:
        v = accepted.value[f.name]
        if f.is_list:
            assert isinstance(v, list) and all(isinstance(x, str) for x in v)
            assert len(v) == f.count if f.count is not None else len(v) >= 1
        else:
            assert isinstance(v, str)


# Any text but the skeleton's placeholder, which is never an answer.
_TEXT = st.one_of(st.text(), st.sampled_from(TRICKY_STRINGS)).filter(
    lambda t: t.strip() != "<text>")


def values_of(shape: OutputShape) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for f in shape.fields:
        if not f.is_list:
            fields[f.name] = _TEXT
        elif f.count is None:
            fields[f.name] = st.lists(_TEXT, min_size=1, max_size=6)
        else:
            fields[f.name] = st.lists(_TEXT, min_size=f.count, max_size=f.count)
    return st.fixed_dictionaries(fields)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), shape=_SHAPES)
def test_any_value_of_the_shape_round_trips(data: st.DataObject, shape: OutputShape) -> None:
    value = data.draw(values_of(shape))
    assert read_reply(encode(value), shape) == Accepted(value, ())
    assert read_reply(json.dumps(value), shape) == Accepted(value, ())


# ---------------------------------------------------------------- a table cut short (issue 13, item 7)

SCENES = OutputShape.from_schema({
    "type": "object", "required": ["title", "scenes"],
    "properties": {
        "title": {"type": "string"},
        "scenes": {"type": "array", "items": {
            "type": "object", "required": ["title", "pov"],
            "properties": {"title": {"type": "string", "description": "A short title"},
                           "pov": {"type": "string"}}}}}})
ROWS = [{"title": f"title {i}", "pov": f"pov {i}"} for i in range(1, 11)]
WHOLE = encode({"title": "Tides", "scenes": ROWS})


def _cut(after_row: int, tail: str) -> str:
    """WHOLE up to row ``after_row`` of its table, then ``tail``."""
    lines = WHOLE.split("\n")
    return "\n".join(lines[:2 + after_row]) + "\n" + tail


def _partial(content: str, finish: str | None) -> Any:
    with pytest.raises(RejectedReply) as e:
        read_reply(content, SCENES, finish_reason=finish)
    return e.value.partial


@pytest.mark.parametrize(("content", "finish", "rows"), [
    (_cut(4, "  tit"), "length", 4),  # mid-row 5
    (_cut(4, "  title 5,pov"), "length", 4),  # the cut row looks whole: still cut
    (_cut(4, "  title 5,pov 5"), "length", 4),  # no line break after it: may be longer
    (_cut(5, ""), "length", 5),  # cut right after a line break: row 5 is whole
    (_cut(4, "  title 5"), "stop", 4),  # the model stopped mid-row
    (_cut(4, '  "title 5,po'), None, 4),  # an open quote
    ("```toon\n" + _cut(4, "  tit"), "length", 4),  # a fence left open
])
def test_a_table_cut_short_keeps_its_complete_rows(content: str, finish: str | None,
                                                    rows: int) -> None:
    partial = _partial(content, finish)
    assert partial is not None
    assert (partial.key, partial.declared, partial.head) == ("scenes", 10, {"title": "Tides"})
    assert list(partial.rows) == ROWS[:rows]


@pytest.mark.parametrize(("content", "finish"), [
    (_cut(0, "  tit"), "length"),  # no row came back whole: ask it all again
    ("title: Ti", "length"),  # cut before the table
    (_cut(4, "  title 5,pov 5,extra\n  title 6,pov 6"), "stop"),  # a broken row, not a cut
    (WHOLE.replace("title: Tides\n", "") + "\n", "length"),  # a required field never came
    ('{"title": "Tides", "scenes": [{"title": "a", "po', "length"),  # JSON: not a table
    (encode({"title": "T", "tags": ["a", "b"]}), "length"),  # not a field of the contract
])
def test_nothing_to_salvage(content: str, finish: str) -> None:
    assert _partial(content, finish) is None


def test_complete_rows_short_of_their_count_are_a_miscount_when_the_model_stopped() -> None:
    accepted = read_reply(_cut(4, ""), SCENES, finish_reason="stop")
    assert accepted.value["scenes"] == ROWS[:4]
    assert accepted.warnings == ("scenes[10] declared 10 rows, found 4: corrected",)


def test_the_salvage_prompt_asks_for_the_missing_rows_alone() -> None:
    partial = _partial(_cut(4, "  tit"), "length")
    assert salvage_prompt(SCENES, partial, partial.rows) == (
        "Your last reply was cut off in scenes after row 4 of 10. Row 4, the last that arrived:\n"
        "  title 4,pov 4\n"
        "Continue with rows 5-10 of 10 only (nothing before them):\n"
        "Reply with only this TOON, each <text> replaced; # lines describe the field below them"
        " and may be left out:\n"
        "# title: A short title\n"
        "scenes[6]{title,pov}:\n"
        "  <text>,<text>\n"
        "  ...\n"
        "Write exactly 6 rows in scenes.\n"
        'Double-quote texts holding , : or " (" as \\").')
    # A later round counts from the rows kept so far; few rows are spelled out.
    assert "rows 8-10 of 10" in salvage_prompt(SCENES, partial, ROWS[:7])
    assert "scenes[3]{title,pov}:\n" + "  <text>,<text>\n" * 3 in \
        salvage_prompt(SCENES, partial, ROWS[:7])


@pytest.mark.parametrize(("content", "finish", "rows", "warnings"), [
    ("scenes[6]{title,pov}:\n" + "\n".join(f"  title {i},pov {i}" for i in range(5, 11)),
     "stop", ROWS[4:], ()),
    ("Here:\n```\ntitle 5,pov 5\ntitle 6,pov 6\n```", "stop", ROWS[4:6], ()),  # bare rows
    ("scenes[3]{title,pov}:\n  title 4,pov 4\n  title 5,pov 5\n  title 6,po", "length",
     ROWS[4:5], ("scenes: row 4, shown for continuity, was written again: dropped",)),
    ("\n".join(f"  title {i},pov {i}" for i in range(5, 13)), "stop", ROWS[4:],
     ("scenes: 2 more rows than the 6 asked: dropped",)),
    ("I cannot continue.", "stop", [], ()),
    ("", "stop", [], ()),
])
def test_a_follow_up_brings_complete_rows(content: str, finish: str, rows: list[Any],
                                          warnings: tuple[str, ...]) -> None:
    partial = _partial(_cut(4, "  tit"), "length")
    got, said = read_rows(content, SCENES, partial, partial.rows, finish_reason=finish)
    assert (got, tuple(said)) == (rows, warnings)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=len("title: Tides\nscenes[10]{title,pov}:\n  title 1,pov 1\n"),
                   max_value=len(WHOLE) - 1))
def test_a_cut_anywhere_in_the_table_keeps_only_true_rows_and_merges_whole(at: int) -> None:
    partial = _partial(WHOLE[:at], "length")
    assert partial is not None and 1 <= len(partial.rows) < 10
    assert list(partial.rows) == ROWS[:len(partial.rows)]
    merged = merge_rows(partial, [*partial.rows, *ROWS[len(partial.rows):]])
    assert read_reply(merged, SCENES) == Accepted({"title": "Tides", "scenes": ROWS}, ())


def _rows_text(rows: list[dict[str, Any]], header: bool = True) -> str:
    text = encode({"scenes": rows})
    return text if header else "\n".join(x.strip() for x in text.split("\n")[1:])


@pytest.mark.parametrize(("content", "finish", "rows", "warnings"), [
    # The model starts over from row 1 (the whole table, or cut on its way).
    (_rows_text(ROWS), "stop", ROWS[4:],
     ("scenes: rows 1-4, which had arrived, were written again: dropped",)),
    (_rows_text(ROWS[:7]) + "\n  title 8,po", "length", ROWS[4:7],
     ("scenes: rows 1-4, which had arrived, were written again: dropped",)),
    (_rows_text(ROWS[2:], header=False), "stop", ROWS[4:],  # from row 3, bare rows
     ("scenes: rows 3-4, which had arrived, were written again: dropped",)),
    # It starts over with other rows; the continuity row placed what follows it.
    (_rows_text([{"title": f"other {i}", "pov": "x"} for i in range(1, 4)] + ROWS[3:]),
     "stop", ROWS[4:], ("scenes: 4 rows up to row 4 (shown for continuity) were written "
                        "again: dropped",)),
    # Rows that arrived, never reaching row 4: nothing can be placed.
    (_rows_text(ROWS[:3]), "length", [],
     ("scenes: the rows sent could not be placed after row 4: none kept",)),
    (_rows_text(ROWS[:6]), "stop", ROWS[4:6],  # 6 rows as asked, but from row 1
     ("scenes: rows 1-4, which had arrived, were written again: dropped",)),
])
def test_a_follow_up_that_starts_over_keeps_only_the_rows_after_those_held(
        content: str, finish: str, rows: list[Any], warnings: tuple[str, ...]) -> None:
    partial = _partial(_cut(4, "  tit"), "length")
    got, said = read_rows(content, SCENES, partial, partial.rows, finish_reason=finish)
    assert (got, tuple(said)) == (rows, warnings)
    if got:
        merged = read_reply(merge_rows(partial, [*partial.rows, *got]), SCENES).value
        assert merged["scenes"] == ROWS[:4 + len(got)]


def test_rows_that_cannot_be_placed_with_confidence_are_not_merged() -> None:
    # Rows 2 and 3 are alike: "B,B,C" may repeat row 3 or rows 2-3 before row 4.
    a, b, c = ({"title": x, "pov": x} for x in "ABC")
    partial = Partial("scenes", 6, (a, b, b), {"title": "T"})
    got, said = read_rows(_rows_text([b, b, c]) + "\n", SCENES, partial, list(partial.rows),
                          finish_reason="length")
    assert (got, said) == ([], ["scenes: the rows sent could not be placed after row 3: "
                                "none kept"])
    # Complete, the count places them: rows 2-3 again, then rows 4-6.
    got, _ = read_rows(_rows_text([b, b, c, a, a]), SCENES, partial, list(partial.rows),
                       finish_reason="stop")
    assert got == [c, a, a]


_CELLS = st.tuples(st.integers(0, 3), st.sampled_from(["a", "b", "c,d", ""]))


@settings(max_examples=150, deadline=None)
@given(table=st.lists(_CELLS, min_size=2, max_size=12, unique=True), data=st.data())
def test_a_follow_up_from_any_row_up_to_the_first_missing_merges_to_the_true_table(
        table: list[tuple[int, str]], data: st.DataObject) -> None:
    # Distinct rows (a table whose rows repeat cannot tell a restart from a repeat).
    true = [{"title": t, "pov": str(n)} for n, t in table]
    held = data.draw(st.integers(1, len(true) - 1))
    start = data.draw(st.integers(0, held))  # 0-based: where the follow-up starts
    partial = Partial("scenes", len(true), tuple(true[:held]), {"title": "T"})
    header = data.draw(st.booleans())
    cut = data.draw(st.integers(start + 1, len(true)))  # the follow-up may stop short
    body = _rows_text(true[start:cut], header)
    finish = "stop" if cut == len(true) else "length"
    got, _ = read_rows(body + ("\n" if finish == "length" else ""), SCENES, partial,
                       list(partial.rows), finish_reason=finish)
    rows = [*partial.rows, *got]
    assert rows == true[:len(rows)]  # never a wrong row
    if cut == len(true):
        assert read_reply(merge_rows(partial, rows), SCENES).value == {"title": "T",
                                                                        "scenes": true}
    else:
        assert len(rows) == max(held, cut)


@pytest.mark.parametrize(("items", "declared", "message"), [
    ({"maxItems": 10}, 100, "scenes: declared 100 rows; the contract allows at most 10"),
    ({"minItems": 10, "maxItems": 10}, 12, "scenes: declared 12 rows; the contract asks for "
                                            "exactly 10"),
    ({"minItems": 5}, 3, "scenes: declared 3 rows; the contract asks for at least 5"),
])
@pytest.mark.parametrize("finish", ["length", "stop"])
def test_a_declared_count_the_contract_cannot_accept_is_refused_not_salvaged(
        items: dict[str, int], declared: int, message: str, finish: str) -> None:
    schema = {**SCENES.schema, "properties": {**SCENES.schema["properties"], "scenes": {
        **SCENES.schema["properties"]["scenes"], **items}}}
    shape = OutputShape.from_schema(schema)
    content = _cut(2, "  tit").replace("scenes[10]", f"scenes[{declared}]")
    with pytest.raises(RejectedReply) as e:
        read_reply(content, shape, finish_reason=finish)
    assert not isinstance(e.value, TruncatedReply) and e.value.partial is None
    assert (e.value.message, e.value.line, e.value.column) == (message, 2, 8)
    assert cut_table(content, shape, length=finish == "length") is None
    # A count the contract accepts is salvaged as before.
    fine = content.replace(f"scenes[{declared}]", "scenes[10]")
    with pytest.raises(RejectedReply) as e:
        read_reply(fine, shape, finish_reason=finish)
    assert e.value.partial is not None and e.value.partial.declared == 10


# ------------------------------------------------------------ model contracts (issue 13, item 5)

class Mood(str, enum.Enum):
    DARK = "dark"
    LIGHT = "light"


class Beat(BaseModel):
    n: int
    what: str


class Where(BaseModel):
    pts: list[int] = Field(min_length=2, max_length=2)


class StrictScene(BaseModel):
    """A strict model: only JSON mode takes a date or a tuple from TOON text."""

    model_config = ConfigDict(strict=True)
    when: datetime.date
    pair: tuple[int, int]
    beats: list[Beat]


class CheckedScene(BaseModel):
    """Problems only the model sees: a validator, a date's format."""

    title: str
    when: datetime.date
    beats: list[Beat]

    @field_validator("title")
    @classmethod
    def _no_x(cls, v: str) -> str:
        if "x" in v:
            raise ValueError("no x in titles")
        return v


class NestedScene(BaseModel):
    """Every nested model and enum is a ``$ref`` in the model's JSON Schema."""

    mood: Mood
    where: Where
    beats: list[Beat]


def _model_shape(cls: type[BaseModel]) -> OutputShape:
    return OutputShape.from_schema(cls.model_json_schema(), model=f"{__name__}:{cls.__name__}")


STRICT_REPLY = "when: 2024-01-02\npair[2]: 1,2\nbeats[2]{n,what}:\n  1,a\n  2,b"
STRICT_VALUE = {"when": "2024-01-02", "pair": [1, 2],
                "beats": [{"n": 1, "what": "a"}, {"n": 2, "what": "b"}]}


@pytest.mark.parametrize("content", [STRICT_REPLY, json.dumps(STRICT_VALUE)])
def test_a_strict_model_reads_its_reply_as_json_gives_it(content: str) -> None:
    # TOON has no other way to write a date or a tuple than JSON's: a text, a list.
    assert read_reply(content, _model_shape(StrictScene)) == Accepted(STRICT_VALUE, ())


def test_a_strict_model_still_refuses_a_number_given_as_text() -> None:
    with pytest.raises(RejectedReply) as e:
        read_reply(STRICT_REPLY.replace("  2,b", '  "2",b'), _model_shape(StrictScene))
    assert e.value.for_model() == "beats/1/n: expected an integer, got a text"
    assert (e.value.line, e.value.column) == (5, 3)


def test_every_model_error_is_placed_at_its_value_in_the_reply() -> None:
    text = "title: xylophone\nwhen: 2024-13-02\nbeats[1]{n,what}:\n  1,a"
    with pytest.raises(RejectedReply) as e:
        read_reply(text, _model_shape(CheckedScene))
    (p1, m1), (p2, m2) = e.value.problems
    assert (p1, m1) == ("/title", "title: Value error, no x in titles")
    assert p2 == "/when" and m2.startswith("when: Input should be a valid date")
    assert e.value.positions == ((1, 8), (2, 7))
    assert (e.value.line, e.value.column) == (1, 8)
    assert e.value.message == "title: Value error, no x in titles (and 1 more)"


def test_a_json_reply_s_model_errors_are_told_without_a_position() -> None:
    value = {"title": "box", "when": "2024-01-02", "beats": [{"n": 1, "what": "a"}]}
    with pytest.raises(RejectedReply) as e:
        read_reply(json.dumps(value), _model_shape(CheckedScene))
    assert e.value.problems == (("/title", "title: Value error, no x in titles"),)
    assert e.value.positions == ((None, None),)


@pytest.mark.parametrize(("reply", "said", "at"), [
    ("mood: dark\nwhere:\n  pts[2]: 1,2\nbeats[2]{n,what}:\n  1,a\n  q,b",
     "beats/1/n: expected an integer, got a text", (6, 3)),
    ("mood: grey\nwhere:\n  pts[2]: 1,2\nbeats[1]{n,what}:\n  1,a",
     "mood: expected one of dark, light, got grey", (1, 7)),
    ("mood: dark\nwhere:\n  pts[3]: 1,2,3\nbeats[1]{n,what}:\n  1,a",
     "where/pts: expected 2 items, got 3", (3, 3)),
])
def test_a_reask_says_what_was_expected_through_a_ref(reply: str, said: str,
                                                      at: tuple[int, int]) -> None:
    with pytest.raises(RejectedReply) as e:
        read_reply(reply, _model_shape(NestedScene))
    assert e.value.for_model() == said
    assert (e.value.line, e.value.column) == at


def test_a_run_s_failure_line_joins_the_failing_fields_readably() -> None:
    text = "title: xylophone\nwhen: 2024-13-02\nbeats[1]{n,what}:\n  1,a"
    with pytest.raises(RejectedReply) as e:
        read_reply(text, _model_shape(CheckedScene))
    summary = e.value.summary()
    assert summary.startswith("title: Value error, no x in titles; when: Input should be ")
    assert "\n" not in summary and "\\n" not in summary
    with pytest.raises(RejectedReply) as e:
        read_reply("title: Dune\ntags[2]: sand,worm", THREE)
    assert e.value.summary() == "tags: expected 3 items, got 2"


def test_a_contract_s_validator_lives_no_longer_than_its_shape() -> None:
    shape = OutputShape.from_schema({"type": "object", "properties": {"t": {"type": "integer"}}})
    with pytest.raises(RejectedReply):
        read_reply("t: x", shape)
    gone = weakref.ref(shape)
    del shape
    gc.collect()
    assert gone() is None
    # A new shape (perhaps at the same address) gets its own validator.
    other = OutputShape.from_schema({"type": "object", "properties": {"t": {"type": "string"}}})
    assert read_reply("t: x", other).value == {"t": "x"}
