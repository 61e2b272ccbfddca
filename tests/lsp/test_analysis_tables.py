"""The "convert to a table" code action (issue 14): an expanded list of uniform
objects with primitive values becomes the §9.3 table the encoder would write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import keys, primitives
from toon_tools.codec import Range, decode, decode_located, encode, encode_key, format_primitive
from toon_tools.lsp.analysis import Action, Outline, TextEdit, table_actions

EVERYWHERE = Range(1, 1, 10_000, 1)


def actions(text: str, rng: Range = EVERYWHERE) -> list[Action]:
    return table_actions(Outline(text, decode_located(text)), rng)


def apply(text: str, edit: TextEdit) -> str:
    """Apply an edit given in codec positions (1-based, code points, CR LF aware)."""
    lines = text.split("\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    r = edit.range
    a = starts[r.line - 1] + r.column - 1
    b = starts[r.end_line - 1] + r.end_column - 1
    return text[:a] + edit.new_text + text[b:]


def convert(text: str, rng: Range = EVERYWHERE) -> str:
    (action,) = actions(text, rng)
    assert (action.title, action.kind) == ("Convert to a table", "refactor.rewrite")
    (edit,) = action.edits
    return apply(text, edit)


def same(a: Any, b: Any) -> bool:
    """Equal data, types included (1 is not 1.0 nor True)."""
    return json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def test_converts_to_what_the_encoder_writes() -> None:
    data = {"a": 1, "users": [{"id": 1, "name": "Ada L", "note": "x,y"},
                              {"id": 2, "name": "", "note": "-0"}], "z": True}
    expanded = ("a: 1\nusers[2]:\n  - id: 1\n    name: Ada L\n    note: \"x,y\"\n"
                "  - id: 2\n    name: \"\"\n    note: \"-0\"\nz: true")
    assert decode(expanded) == data
    assert convert(expanded) == encode(data)


@pytest.mark.parametrize("mark,delim", [("|", "|"), ("\t", "\t")])
def test_keeps_the_arrays_delimiter(mark: str, delim: str) -> None:
    text = f"rows[2{mark}]:\n  - a: x{delim}y\n    b: 1\n  - a: \"p,q\"\n    b: 2"
    out = convert(text)
    assert out.splitlines()[0] == f"rows[2{mark}]{{a{delim}b}}:"
    assert same(decode(out), decode(text))
    quoted = format_primitive(f"x{delim}y", delim)
    assert quoted.startswith('"') and f"\n  {quoted}{delim}1\n" in out  # quoted in a cell (§11.1)


def test_in_a_list_item_and_nested_under_objects() -> None:
    text = ("items[2]:\n  - rows[2]:\n      - a: 1\n        b: x\n      - a: 2\n        b: y\n"
            "    z: q\n  - k: 1\n    more[1]:\n      - \"q k\": 1\n")
    acts = actions(text)
    assert len(acts) == 2
    out = convert(text, Range(3, 1, 3, 1))  # only the first list touches line 3
    assert "  - rows[2]{a,b}:\n      1,x\n      2,y\n    z: q" in out
    assert same(decode(out), decode(text))
    out = convert(text, Range(9, 5, 9, 5))
    assert '    more[1]{"q k"}:\n      1' in out and same(decode(out), decode(text))


def test_root_list_and_crlf() -> None:
    text = "[2]:\r\n  - a: 1\r\n  - a: 2\r\n"
    (action,) = actions(text)
    assert action.edits[0].new_text == "[2]{a}:\r\n  1\r\n  2"
    assert same(decode(apply(text, action.edits[0])), decode(text))


def test_non_ascii_columns() -> None:
    text = "é😀: 1\nl[1]:\n  - é: 😀\n    b: z"
    out = convert(text)
    assert out == 'é😀: 1\nl[1]{"é",b}:\n  😀,z'


@pytest.mark.parametrize("text", [
    "l[2]:\n  - a: 1\n    # why\n    b: 2\n  - a: 3\n    b: 4",  # a comment would be lost
    "l[2]:\n  - a: 1\n    b: 2\n  - b: 3\n    a: 4",  # keys in another order
    "l[2]:\n  - a: 1\n  - b: 2",  # other keys
    "l[2]:\n  - a: 1\n    b[1]: 2\n  - a: 3\n    b[1]: 4",  # a nested value
    "l[2]:\n  - a: 1\n    b:\n      c: 2\n  - a: 3\n    b:\n      c: 4",
    "l[2]:\n  - a: 1\n  - 5",  # not all objects
    "l[2]:\n  - a: 1\n  -",  # an empty object
    "l[2]{a,b}:\n  1,2\n  3,4",  # already a table
    "l[2]: 1,2",
    "l[0]:",
    "outer[1]:\n  - [2]:\n    - a: 1\n    - a: 2",  # a list item: no keyless table there
])
def test_not_offered(text: str) -> None:
    decode(text)
    assert actions(text) == []


def test_only_where_the_range_touches() -> None:
    text = "x: 1\nl[1]:\n  - a: 1\ny: 2"
    assert actions(text, Range(1, 1, 1, 3)) == []
    assert actions(text, Range(4, 1, 4, 1)) == []
    assert len(actions(text, Range(3, 4, 1, 1))) == 1  # a reversed range is read as its lines


def test_invalid_document_offers_nothing() -> None:
    assert table_actions(Outline("l[2]:\n  - a: 1", None), EVERYWHERE) == []


# ------------------------------------------------------------------ property

_PLACES = ["root-key", "nested", "item-first", "item-later", "root-list"]


@st.composite
def uniform_lists(draw: Any) -> tuple[str, str, str]:
    """(expanded TOON text, delimiter mark, the array's key token) holding a uniform list of objects
    with primitive values, placed somewhere in a document."""
    names = draw(st.lists(keys(), min_size=1, max_size=4, unique=True))
    cells = st.tuples(*[primitives] * len(names))
    rows = [dict(zip(names, r)) for r in draw(st.lists(cells, min_size=1, max_size=4))]
    mark = draw(st.sampled_from(["", "|", "\t"]))
    place = draw(st.sampled_from(_PLACES))
    key = encode_key(draw(keys()))

    def items(pad: str) -> list[str]:
        out = []
        for row in rows:
            for n, (k, v) in enumerate(row.items()):
                lead = pad + "- " if n == 0 else pad + "  "
                out.append(f"{lead}{encode_key(k)}: {format_primitive(v)}")
        return out

    head = f"[{len(rows)}{mark}]:"
    if place == "root-list":
        key = ""
        lines = [head, *items("  ")]
    elif place == "root-key":
        lines = ["before: 1", key + head, *items("  "), "after: 2"]
    elif place == "nested":
        lines = ["o:", "  p:", "    " + key + head, *items("      "), "  q: 1"]
    elif place == "item-first":
        lines = ["xs[1]:", "  - " + key + head, *items("      "), "    tail: 1"]
    else:
        lines = ["xs[2]:", "  - first: 1", "    " + key + head, *items("      "), "  - 2"]
    return "\n".join(lines), mark, key


@settings(max_examples=150, deadline=None)
@given(uniform_lists())
def test_conversion_keeps_the_data(doc: tuple[str, str, str]) -> None:
    text, mark, key = doc
    before = decode(text)
    (action,) = actions(text)
    (edit,) = action.edits
    out = apply(text, edit)
    assert same(decode(out), before), out
    header, *rows = edit.new_text.split("\n")
    assert header.startswith(f"{key}[{len(rows)}{mark}]{{") and header.endswith("}:")
