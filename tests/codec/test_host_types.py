"""§3 / Appendix F.3: how Python values map onto the JSON data model (README table)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import decimal
import enum
import math
import uuid
from collections import OrderedDict
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from toon_tools.codec._host import format_duration


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


@dataclasses.dataclass
class User:
    id: int
    name: str
    joined: datetime.date


class Point(NamedTuple):
    x: int
    y: int


@pytest.mark.parametrize(("value", "expected"), [
    ({"v": math.nan}, "v: null"),
    ({"v": math.inf}, "v: null"),
    ({"v": -math.inf}, "v: null"),
    ({"v": -0.0}, "v: 0"),
    ({"v": 1e-7}, "v: 1e-7"),
    ({"v": 1e21}, "v: 1e+21"),
    ({"v": 1e20}, "v: 100000000000000000000"),
    ({"v": 0.000001}, "v: 0.000001"),
    ({"v": 2**70}, "v: 1180591620717411303424"),
    ({"v": decimal.Decimal("1.2500")}, "v: 1.25"),
    ({"v": decimal.Decimal("12345678901234567890.123456789")},
     "v: 12345678901234567890.123456789"),
    ({"v": decimal.Decimal("1E+30")}, "v: 1e+30"),
    ({"v": decimal.Decimal("-0.0000001")}, "v: -1e-7"),
    ({"v": decimal.Decimal("NaN")}, "v: null"),
    ({"v": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)},
     'v: "2025-01-02T03:04:05+00:00"'),
    ({"v": datetime.date(2025, 1, 2)}, "v: 2025-01-02"),
    ({"v": {3, 1, 2}}, "v[3]: 1,2,3"),
    ({"v": frozenset({"b", "a"})}, "v[2]: a,b"),
    ({"v": (1, 2)}, "v[2]: 1,2"),
    ({"v": Point(1, 2)}, "v:\n  x: 1\n  y: 2"),
    ({"v": [Point(1, 2), Point(3, 4)]}, "v[2]{x,y}:\n  1,2\n  3,4"),
    ({"v": collections.namedtuple("Pair", "a b")("p", None)}, "v:\n  a: p\n  b: null"),
    ({"v": datetime.timedelta(0)}, "v: PT0S"),
    ({"v": datetime.timedelta(days=400, hours=1, seconds=1, microseconds=500000)},
     "v: P400DT1H1.5S"),
    ({"v": datetime.timedelta(microseconds=-1)}, 'v: "-PT0.000001S"'),
    ({"v": datetime.timedelta(minutes=2)}, "v: PT2M"),
    ({"v": uuid.UUID(int=0xA1)}, "v: 00000000-0000-0000-0000-0000000000a1"),
    ({"v": Color.RED, "w": Level.HIGH}, "v: red\nw: 3"),
    ({"v": PurePosixPath("a/b.toon")}, "v: a/b.toon"),
    (OrderedDict([("b", 1), ("a", 2)]), "b: 1\na: 2"),
    ({1: "x", True: "y"}, '"1": y'),
    ({2: "x", None: "y", 1.5: "z"}, '"2": x\nnull: y\n"1.5": z'),
])
def test_mapping(value: Any, expected: str) -> None:
    assert toon_tools.encode(value) == expected


def test_dataclasses_become_tables() -> None:
    users = [User(1, "Ada", datetime.date(2020, 1, 1)), User(2, "Bob", datetime.date(2021, 2, 2))]
    assert toon_tools.encode({"users": users}) == (
        "users[2]{id,name,joined}:\n  1,Ada,2020-01-01\n  2,Bob,2021-02-02"
    )


def test_default_hook_takes_unknown_types() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    out = toon_tools.encode({"price": Money(250)}, default=lambda m: {"cents": m.cents})
    assert out == "price:\n  cents: 250"


def test_unknown_type_without_hook_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Object of type object is not TOON serializable"):
        toon_tools.encode({"x": object()})


def test_unhashable_or_odd_keys_are_type_errors() -> None:
    with pytest.raises(TypeError, match="keys must be"):
        toon_tools.encode({(1, 2): "x"})


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        toon_tools.encode({"s": "\ud800"})


def test_decimal_decodes_losslessly_with_parse_float() -> None:
    text = toon_tools.encode({"v": decimal.Decimal("0.1000000000000000000000000001")})
    assert toon_tools.decode(text, parse_float=decimal.Decimal) == {
        "v": decimal.Decimal("0.1000000000000000000000000001")
    }


def test_prototype_keys_are_ordinary() -> None:
    """§15: __proto__ and friends are plain keys both ways."""
    value = {"__proto__": {"admin": True}, "constructor": 1}
    assert toon_tools.decode(toon_tools.encode(value)) == value


# ---------------------------------------------------------------- timedelta, UUID

@given(st.timedeltas())
@settings(max_examples=200, deadline=None)
def test_durations_are_what_pydantic_reads_back(td: datetime.timedelta) -> None:
    """ISO 8601 durations: pydantic reads ours back exactly and, below a year
    (where it starts writing ``Y``, a unit of no fixed length), writes the same."""
    from pydantic import TypeAdapter

    text = format_duration(td)
    adapter = TypeAdapter(datetime.timedelta)
    assert adapter.validate_python(text) == td
    assert adapter.validate_json(f'"{text}"') == td
    if abs(td.days) < 365:
        assert text == adapter.dump_python(td, mode="json")
    assert toon_tools.decode(toon_tools.encode({"v": td})) == {"v": text}


# ---------------------------------------------------------------- pydantic models

class Item(pydantic.BaseModel):
    sku: str = pydantic.Field(alias="SKU")
    price: decimal.Decimal
    note: str | None = None

    @pydantic.computed_field  # type: ignore[prop-decorator]
    @property
    def label(self) -> str:
        return self.sku.lower()


class Order(pydantic.BaseModel):
    id: uuid.UUID
    at: datetime.datetime
    wait: datetime.timedelta
    items: list[Item]


ORDER = Order(id=uuid.UUID(int=1), at=datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),
              wait=datetime.timedelta(hours=1, seconds=1.5),
              items=[Item(SKU="A1", price=decimal.Decimal("9.90")), Item(SKU="B", price=1, note="x")])


def test_pydantic_model_encodes_as_its_json_by_alias() -> None:
    """Aliases, computed fields and nulls kept, Decimal a string: model_dump_json's
    data (by alias), and a list of models is a table."""
    assert toon_tools.encode(ORDER) == (
        "id: 00000000-0000-0000-0000-000000000001\n"
        'at: "2025-01-02T03:04:05Z"\n'
        "wait: PT1H1.5S\n"
        "items[2]{SKU,price,note,label}:\n"
        '  A1,"9.90",null,a1\n'
        '  B,"1",x,b'
    )
    assert toon_tools.encode(ORDER) == toon_tools.encode(ORDER.model_dump(mode="json", by_alias=True))


def test_pydantic_serialize_by_alias_false_is_honoured() -> None:
    class Named(pydantic.BaseModel):
        model_config = pydantic.ConfigDict(serialize_by_alias=False, validate_by_name=True)
        user_name: str = pydantic.Field(alias="userName")

    assert toon_tools.encode(Named(userName="a")) == "user_name: a"


def test_pydantic_field_serializers_and_root_models_apply() -> None:
    class Temp(pydantic.BaseModel):
        celsius: float

        @pydantic.field_serializer("celsius")
        def one_decimal(self, v: float) -> str:
            return f"{v:.1f} C"

    assert toon_tools.encode([Temp(celsius=21.25)]) == "[1]{celsius}:\n  21.2 C"
    assert toon_tools.encode(pydantic.RootModel[list[int]]([1, 2])) == "[2]: 1,2"


def test_pydantic_dataclass_goes_through_pydantic() -> None:
    @pydantic.dataclasses.dataclass
    class Reading:
        at: datetime.date
        value: decimal.Decimal = pydantic.Field(alias="v")

    assert toon_tools.encode(Reading(at=datetime.date(2020, 1, 1), v=decimal.Decimal("1.5"))) == (
        'at: 2020-01-01\nv: "1.5"'
    )


class Opaque:
    pass


class Holder(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    thing: Opaque


def test_value_pydantic_cannot_serialize_is_a_type_error_or_goes_to_default() -> None:
    with pytest.raises(TypeError, match="Holder is not TOON serializable.*Opaque"):
        toon_tools.encode(Holder(thing=Opaque()))

    def default(o: Any) -> Any:
        if isinstance(o, Opaque):
            return "opaque"
        raise TypeError(type(o).__name__)

    assert toon_tools.encode(Holder(thing=Opaque()), default=default) == "thing: opaque"


# ---------------------------------------------------------------- default= precedence

def test_default_never_sees_what_encode_mapped_before_it_took_models() -> None:
    """``default=str``, the usual catch-all, keeps every earlier mapping:
    Decimal stays a number, a datetime keeps its ``T``."""
    value = {"d": decimal.Decimal("1.5"), "t": datetime.datetime(2025, 1, 2, 3, 4),
             "e": Color.RED, "p": Point(1, 2), "u": User(1, "Ada", datetime.date(2020, 1, 1)),
             "s": {2, 1}, "path": PurePosixPath("a"), "b": Level.HIGH}
    seen: list[Any] = []

    def default(o: Any) -> str:
        seen.append(o)
        return str(o)

    assert toon_tools.encode(value, default=default) == toon_tools.encode(value)
    assert seen == []


def test_default_is_asked_first_for_models_uuids_and_durations() -> None:
    """These reached default= before encode mapped them; a hook for them keeps its output."""
    out = toon_tools.encode({"o": ORDER, "u": uuid.UUID(int=1), "t": datetime.timedelta(1)},
                            default=lambda o: f"<{type(o).__name__}>")
    assert out == "o: <Order>\nu: <UUID>\nt: <timedelta>"


def test_default_raising_type_error_hands_back_to_the_mapping() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    def default(o: Any) -> Any:
        if isinstance(o, Money):
            return {"cents": o.cents}
        raise TypeError(f"cannot serialize {type(o).__name__}")

    value = {"m": Money(5), "u": uuid.UUID(int=1), "o": Item(SKU="A", price=1)}
    assert toon_tools.encode(value, default=default) == (
        "m:\n  cents: 5\nu: 00000000-0000-0000-0000-000000000001\n"
        'o:\n  SKU: A\n  price: "1"\n  note: null\n  label: a'
    )
    with pytest.raises(TypeError, match="cannot serialize object"):
        toon_tools.encode({"x": object()}, default=default)


def test_each_model_in_a_list_is_dumped_once() -> None:
    """A list of models is normalized once, whether it ends up inline, tabular or
    expanded: dumping is the costly part of encoding models."""
    pydantic = pytest.importorskip("pydantic")
    calls = []

    class Row(pydantic.BaseModel):
        n: int

        @pydantic.field_serializer("n")
        def count(self, n: int) -> int:
            calls.append(n)
            return n

    class Nested(pydantic.BaseModel):
        row: Row

    for value in ([Row(n=i) for i in range(100)], {"rows": [Row(n=i) for i in range(100)]},
                  [[Row(n=i)] for i in range(100)], [Nested(row=Row(n=i)) for i in range(100)]):
        calls.clear()
        toon_tools.encode(value)
        assert len(calls) == 100
