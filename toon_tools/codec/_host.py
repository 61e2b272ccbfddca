"""Host-type normalization (spec §3, Appendix F.3).

The mapping from Python values to the JSON data model, one level at a time; the
encoder calls :func:`normalize` only for values whose type is not already a JSON
type, so plain data never pays for it. README.md documents the table.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Final

from ._scalars import format_decimal, format_float, format_int
from ._types import JSON_TYPES, Number


_MAX_DEFAULT_CHAIN: Final = 100


def normalize(value: Any, default: Callable[[Any], Any] | None) -> Any:
    """Map one host value onto a JSON-model value (children are left as they are)."""
    for _ in range(_MAX_DEFAULT_CHAIN):
        t = type(value)
        if t in JSON_TYPES:
            return value
        if isinstance(value, enum.Enum):
            value = value.value
            continue
        if isinstance(value, int):
            return int.__int__(value)
        if isinstance(value, float):
            return float.__float__(value)
        if isinstance(value, str):
            return str.__str__(value)
        if isinstance(value, Decimal):
            return Number(format_decimal(value))
        if isinstance(value, Mapping):
            return dict(value)
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, (set, frozenset)):
            return _sorted_set(value)
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if default is None:
            raise TypeError(f"Object of type {t.__name__} is not TOON serializable")
        value = default(value)
    raise ValueError("default= hook did not produce a serializable value")


def _sorted_set(values: set[Any] | frozenset[Any]) -> list[Any]:
    """Sets have no order; sort them so that the same set always encodes the same."""
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, repr(v)))


def key_to_str(key: Any) -> str:
    """Object keys must be strings; coerce the same key types ``json`` does."""
    if isinstance(key, str):
        return str.__str__(key)
    if key is True:
        return "true"
    if key is False:
        return "false"
    if key is None:
        return "null"
    if isinstance(key, int):
        return format_int(int.__int__(key))
    if isinstance(key, float):
        return format_float(key)
    if isinstance(key, enum.Enum):
        return key_to_str(key.value)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
