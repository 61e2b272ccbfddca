"""§3 / Appendix F.3: how Python values map onto the JSON data model (README table)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import math
from collections import OrderedDict
from pathlib import PurePosixPath
from typing import Any, NamedTuple

import pytest

import toon_tools


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
    ({"v": Point(1, 2)}, "v[2]: 1,2"),
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
