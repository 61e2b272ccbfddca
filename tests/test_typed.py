"""decode(text, type=T): a validated T, every problem at its line:col (issue 13)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import json
import os
import subprocess
import sys
import uuid
from pathlib import PurePosixPath
from typing import Any, Literal, NamedTuple

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from toon_tools import typed
from toon_tools.errors import ToolError, exit_code_of
from toon_tools.schema.violation import ToonValidationError


def violations(text: str, type_: Any) -> list[tuple[str, int, int, int, int, str]]:
    with pytest.raises(ToonValidationError) as info:
        toon_tools.decode(text, type=type_)
    return [(v.message, v.line, v.column, v.end_line, v.end_column, v.rule)
            for v in info.value.violations]


# ---------------------------------------------------------------- round trips

class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 3


class Point(NamedTuple):
    x: int
    y: int


Pair = collections.namedtuple("Pair", "a b")


@dataclasses.dataclass
class Tag:
    name: str
    weight: float


class Line(pydantic.BaseModel):
    sku: str = pydantic.Field(alias="SKU")
    qty: int
    price: decimal.Decimal
    note: str | None = None


class Everything(pydantic.BaseModel):
    at: datetime.datetime
    naive: datetime.datetime
    day: datetime.date
    clock: datetime.time
    wait: datetime.timedelta
    id: uuid.UUID
    amount: decimal.Decimal
    path: PurePosixPath
    color: Color
    level: Level
    pair: tuple[int, str]
    point: Point
    ids: set[int]
    frozen: frozenset[str]
    tag: Tag
    lines: list[Line]
    by_name: dict[str, Line]
    kind: Literal["a", "b"]
    blob: bytes
    nothing: int | None


EVERYTHING = Everything(
    at=datetime.datetime(2025, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
    naive=datetime.datetime(2025, 1, 2, 3, 4, 5),
    day=datetime.date(2024, 2, 29),
    clock=datetime.time(23, 59, 1, 5),
    wait=datetime.timedelta(days=-2, seconds=7, microseconds=1),
    id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    amount=decimal.Decimal("12345678901234567890.123456789"),
    path=PurePosixPath("data/a b.toon"),
    color=Color.BLUE, level=Level.HIGH, pair=(1, "1"), point=Point(3, 4),
    ids={3, 1, 2}, frozen=frozenset({"b", "a"}), tag=Tag("t", 0.1),
    lines=[Line(SKU="A-1", qty=2, price=decimal.Decimal("9.90")),
           Line(SKU="true", qty=0, price=decimal.Decimal("-0.5"), note="")],
    by_name={"x y": Line(SKU="", qty=-1, price=decimal.Decimal("1E+3"), note="a, b")},
    kind="b", blob=b"bytes", nothing=None,
)


def test_every_host_type_round_trips_through_a_model() -> None:
    text = toon_tools.encode(EVERYTHING)
    assert toon_tools.decode(text, type=Everything) == EVERYTHING
    assert "lines[2]{SKU,qty,price,note}:" in text  # a list of models is a table


@pytest.mark.parametrize(("value", "type_"), [
    ([Line(SKU="a", qty=1, price=decimal.Decimal("2"))] * 2, list[Line]),
    ({"k": Line(SKU="a", qty=1, price=decimal.Decimal("2"))}, dict[str, Line]),
    (Tag("a", 1.5), Tag),
    ([Tag("a", 1.5), Tag("b", 2)], list[Tag]),
    (Point(1, 2), Point),
    (Pair(1, "x"), Pair),
    ((1, "x", None), tuple[int, str, None]),
    (datetime.date(2020, 1, 1), datetime.date),
    ([uuid.UUID(int=1), uuid.UUID(int=2)], list[uuid.UUID]),
    ({"a": datetime.timedelta(seconds=90)}, dict[str, datetime.timedelta]),
    ([Color.RED, Color.BLUE], list[Color]),
])
def test_top_level_types_round_trip(value: Any, type_: Any) -> None:
    decoded = toon_tools.decode(toon_tools.encode(value), type=type_)
    assert decoded == value
    assert type(decoded) is type(value)


class Leaf(pydantic.BaseModel):
    n: int
    f: float
    s: str
    flag: bool
    maybe: str | None


class Tree(pydantic.BaseModel):
    name: str
    when: datetime.datetime
    amount: decimal.Decimal
    leaves: list[Leaf]
    index: dict[str, int]
    tags: list[str]
    span: datetime.timedelta


_text = st.text(max_size=12)
_leaf = st.builds(Leaf, n=st.integers(), f=st.floats(allow_nan=False, allow_infinity=False),
                  s=_text, flag=st.booleans(), maybe=st.none() | _text)
_tree = st.builds(
    Tree, name=_text,
    when=st.datetimes(timezones=st.sampled_from([None, datetime.timezone.utc,
                                                 datetime.timezone(datetime.timedelta(hours=5, minutes=30))])),
    amount=st.decimals(allow_nan=False, allow_infinity=False),
    leaves=st.lists(_leaf, max_size=4), index=st.dictionaries(_text, st.integers(), max_size=4),
    tags=st.lists(_text, max_size=4), span=st.timedeltas(),
)


@given(_tree)
@settings(max_examples=150, deadline=None)
def test_decode_of_encode_is_the_model(tree: Tree) -> None:
    assert toon_tools.decode(toon_tools.encode(tree), type=Tree) == tree


# ---------------------------------------------------------------- positions

class Lead(pydantic.BaseModel):
    age: int


class Team(pydantic.BaseModel):
    name: str
    lead: Lead


class User(pydantic.BaseModel):
    id: int
    name: str
    age: int


class Entry(pydantic.BaseModel):
    id: int
    qty: int


class Doc(pydantic.BaseModel):
    team: Team
    tags: list[str]
    scores: list[int]
    users: list[User]
    items: list[Entry]


DOC = """\
# comment lines count
team:
  name: Core
  lead:
    age: old
tags[3]: a,b,c
scores[3]: 1,x,3
users[2]{id,name,age}:
  1,Ada,36
  2,Bob,forty
items[2]:
  - id: 1
    qty: 2
  - id: two
    qty: 3.5"""

INT = "Input should be a valid integer, unable to parse string as an integer"


def test_every_problem_is_its_own_violation_at_its_value() -> None:
    """A nested field, an inline array item, a tabular cell (not the row), a list
    item's field: each at its token, all reported together, in document order."""
    assert violations(DOC, Doc) == [
        (f"team/lead/age: {INT}", 5, 10, 5, 13, "int_parsing"),
        (f"scores/1: {INT}", 7, 14, 7, 15, "int_parsing"),
        (f"users/1/age: {INT}", 10, 9, 10, 14, "int_parsing"),
        (f"items/1/id: {INT}", 14, 9, 14, 12, "int_parsing"),
        ("items/1/qty: Input should be a valid integer, got a number with a fractional part",
         15, 10, 15, 13, "int_from_float"),
    ]


def test_the_error_says_where_and_lists_every_problem() -> None:
    with pytest.raises(ToonValidationError) as info:
        toon_tools.decode(DOC, type=Doc)
    err = info.value
    assert (err.line, err.column) == (5, 10)
    assert err.message == f"team/lead/age: {INT} (and 4 more problems)"
    assert str(err).splitlines()[2] == f"10:9: users/1/age: {INT}"
    assert exit_code_of(err) == 1


def test_missing_key_is_placed_at_its_object() -> None:
    text = "users[2]{id,name}:\n  1,Ada\n  2,Bob\nteam:\n  name: x"
    got = violations(text, dict[str, list[User] | Team])
    assert ("users/0/age (as list[User]): Field required", 2, 3, 2, 8, "missing") in got
    assert violations("id: 1\nname: a", User) == [("age: Field required", 1, 1, 2, 8, "missing")]


def test_extra_and_bad_dict_keys_are_placed_at_the_key() -> None:
    class Strict(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(extra="forbid")
        counts: dict[int, int]

    assert violations("counts:\n  a: 1\n  \"2\": x\nbogus: 1", Strict) == [
        (f"counts/a (key): {INT}", 2, 3, 2, 4, "int_parsing"),
        (f'counts/"2": {INT}', 3, 8, 3, 9, "int_parsing"),  # as the file writes the key
        ("bogus: Extra inputs are not permitted", 4, 1, 4, 6, "extra_forbidden"),
    ]


def test_union_members_are_named_and_the_value_placed() -> None:
    class Cat(pydantic.BaseModel):
        kind: Literal["cat"]
        lives: int

    class Dog(pydantic.BaseModel):
        kind: Literal["dog"]
        bark: int

    class Pets(pydantic.BaseModel):
        key: int | str
        pets: list[Cat | Dog]

    got = violations("key[1]: 1\npets[1]:\n  - kind: cat\n    lives: many", Pets)
    assert got[:2] == [
        ("key (as int): Input should be a valid integer", 1, 1, 1, 10, "int_type"),
        ("key (as str): Input should be a valid string", 1, 1, 1, 10, "string_type"),
    ]
    assert (f"pets/0/lives (as Cat): {INT}", 4, 12, 4, 16, "int_parsing") in got


def test_a_model_validator_error_is_at_the_root() -> None:
    class Range(pydantic.BaseModel):
        lo: int
        hi: int

        @pydantic.model_validator(mode="after")
        def ordered(self) -> Range:
            if self.lo > self.hi:
                raise ValueError("lo is above hi")
            return self

    assert violations("lo: 2\nhi: 1", Range) == [
        ("Value error, lo is above hi", 1, 1, 2, 6, "value_error")
    ]


def test_json_mode_strictness() -> None:
    """A strict model still reads dates, tuples and UUIDs from TOON's strings and
    lists (as from JSON), but a quoted number is not an int."""
    class Strict(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(strict=True)
        day: datetime.date
        pair: tuple[int, int]
        id: uuid.UUID
        n: int

    text = 'day: 2024-01-01\npair[2]: 1,2\nid: 00000000-0000-0000-0000-000000000001\nn: 42'
    assert toon_tools.decode(text, type=Strict) == Strict(
        day=datetime.date(2024, 1, 1), pair=(1, 2), id=uuid.UUID(int=1), n=42)
    assert violations(text.replace("n: 42", 'n: "42"'), Strict) == [
        ("n: Input should be a valid integer", 4, 4, 4, 8, "int_type")
    ]


# ---------------------------------------------------------------- the rest of the contract

def test_a_document_that_is_not_toon_is_a_decode_error() -> None:
    with pytest.raises(toon_tools.ToonDecodeError) as info:
        toon_tools.decode("a[2]: 1", type=dict[str, list[int]])
    assert info.value.line == 1


def test_number_hooks_do_not_apply() -> None:
    with pytest.raises(TypeError, match="parse_float"):
        toon_tools.decode("a: 1.5", type=dict, parse_float=decimal.Decimal)


def test_decode_options_pass_through() -> None:
    assert toon_tools.decode(b"a:\n    b: 1", type=dict[str, dict[str, int]], indent_size=4) == {"a": {"b": 1}}


def test_adapters_are_cached_per_type() -> None:
    assert typed._adapter(list[Line]) is typed._adapter(list[Line])


_HIDE_PYDANTIC = """
import importlib.abc, json, sys

class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("pydantic", "pydantic_core"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hide())
import toon_tools
from toon_tools.errors import exit_code_of
out = {"plain": toon_tools.decode(toon_tools.encode({"a": [1, 2]}))}
try:
    toon_tools.decode("a: 1", type=dict)
except Exception as exc:
    out["error"] = [type(exc).__name__, str(exc), exit_code_of(exc)]
out["loaded"] = sorted(m for m in sys.modules if m.startswith("pydantic"))
print(json.dumps(out))
"""


def test_without_pydantic_asking_for_a_type_names_the_extra() -> None:
    proc = subprocess.run([sys.executable, "-c", _HIDE_PYDANTIC], capture_output=True, text=True,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, check=True)
    out = json.loads(proc.stdout)
    assert out == {
        "plain": {"a": [1, 2]},
        "error": ["ToolError", "decoding into a Python type needs pydantic 2: "
                               "pip install 'toon-tools[types]'", 2],
        "loaded": [],
    }
    assert issubclass(ToolError, Exception)


def test_the_codec_and_typed_do_not_import_pydantic_until_asked() -> None:
    code = ("import sys, toon_tools, toon_tools.typed; toon_tools.decode(toon_tools.encode({'a': 1}));"
            "print(any(m.startswith('pydantic') for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"


def test_nesting_past_pydantics_json_parser_is_a_tool_error() -> None:
    deep: Any = 1
    for _ in range(typed._JSON_DEPTH):
        deep = [deep]
    text = toon_tools.encode(deep)
    assert toon_tools.decode(text, type=Any) == deep
    with pytest.raises(ToolError, match="nests deeper than pydantic's JSON parser allows") as info:
        toon_tools.decode(toon_tools.encode([deep]), type=Any)
    assert exit_code_of(info.value) == 2


def test_cells_of_keyed_and_root_tables_are_placed() -> None:
    """§9.5 keyed tables and a root tabular array: the cell, not the row; a key
    missing from a keyed row is placed at the row's key (the entry it names)."""
    assert violations("[2:]{id,name}:\n  a: 1,x\n  b: z,y", dict[str, User]) == [
        ("a/age: Field required", 2, 3, 2, 4, "missing"),
        (f"b/id: {INT}", 3, 6, 3, 7, "int_parsing"),
        ("b/age: Field required", 3, 3, 3, 4, "missing"),
    ]
    assert violations("[2]{id,name,age}:\n  1,a,2\n  x,b,3", list[User]) == [
        (f"1/id: {INT}", 3, 3, 3, 4, "int_parsing"),
    ]


def test_paths_in_messages_read_as_keys_not_as_escaped_pointers() -> None:
    assert violations('"a/b": x\n"~": y\nplain: z\n', dict[str, int]) == [
        (f'"a/b": {INT}', 1, 8, 1, 9, "int_parsing"),
        (f'"~": {INT}', 2, 6, 2, 7, "int_parsing"),
        (f"plain: {INT}", 3, 8, 3, 9, "int_parsing"),
    ]
