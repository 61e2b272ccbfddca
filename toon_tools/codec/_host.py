"""Host-type normalization (spec §3, Appendix F.3).

The mapping from Python values to the JSON data model, one level at a time; the
encoder calls :func:`normalize` only for values whose type is not already a JSON
type, so plain data never pays for it. README.md carries this table:

==========================================  ============================================
Python                                      TOON
==========================================  ============================================
``dict`` and other ``Mapping``s             object, in iteration order
``list``, ``tuple``                         array
named tuples (``typing.NamedTuple``,        object of their fields, in order (a list of
``collections.namedtuple``)                 them becomes a table)
``set``, ``frozenset``                      array, sorted (by value, else by type name
                                            and ``repr``)
``str``, ``int``, ``float``, ``bool``,      as themselves (subclasses first become the
``None``                                    base type)
``decimal.Decimal``                         number, every digit kept
``enum.Enum``                               its ``.value``, converted in turn
``datetime``, ``date``, ``time``            ISO 8601 string from ``.isoformat()``
``os.PathLike`` (``pathlib.Path``)          string from ``os.fspath()``
dataclass instances                         object of their fields, in definition order
pydantic v2 models and pydantic             what ``model_dump_json(by_alias=True)``
dataclasses                                 writes, in TOON (see below)
``datetime.timedelta``                      ISO 8601 duration in days, hours, minutes and
                                            seconds: ``P1DT2H3M4.5S``, ``-PT0.000001S``,
                                            ``PT0S`` (pydantic reads it back exactly)
``uuid.UUID``                               string, ``str(uuid)`` (lowercase, hyphens)
anything else                               ``default=``, else ``TypeError``
==========================================  ============================================

**``default=`` and the mapping.** As with ``json.dumps``, ``default=`` never sees
a JSON type or a subclass of one. It does not see the types the encoder mapped
before it took pydantic models either (enums, ``Decimal``, date/time, paths, sets,
named tuples, dataclasses): that mapping is what users rely on, and ``default=str``,
the common catch-all, would otherwise turn ``Decimal("1.5")`` into a quoted string
and a datetime into ``str()``'s form with a space. For everything else, pydantic
models, ``timedelta`` and ``UUID`` included, ``default=`` is asked first, as it was
before these were mapped, so a hook written for them keeps its output; a hook that
raises ``TypeError`` (``json``'s way of saying "not mine") hands the value back to
the mapping, so a hook for one type of your own does not switch pydantic support off.

**pydantic.** A model is dumped by pydantic itself, in JSON mode, so its field
serializers, ``ser_json_*`` settings and computed fields apply exactly as in its
JSON; ``decode(text, type=Model)`` validates in JSON mode too, which makes
``decode(encode(m), type=Model) == m`` hold for the models whose JSON round trip
holds. Keys are the aliases (``by_alias=True``) unless the model sets
``serialize_by_alias``: validation reads aliases by default, so names would not
come back. ``None`` fields are kept (a null is data, and dropping it would break
tables). Like its JSON, a ``Decimal`` field is a string. Values pydantic cannot
serialize go to ``default=``, then ``TypeError``. pydantic is never imported
here: a model is recognised by its class's ``__pydantic_serializer__``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import uuid
import weakref
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Callable, Final

from ._scalars import format_decimal, format_float, format_int
from ._types import JSON_TYPES, Number


_MAX_DEFAULT_CHAIN: Final = 100
_UNKNOWN: Final = object()
#: pydantic model classes seen, and their by_alias (weakly: models made by
#: create_model may go).
_MODEL_TYPES: Final[weakref.WeakKeyDictionary[type, bool]] = weakref.WeakKeyDictionary()


def normalize(value: Any, default: Callable[[Any], Any] | None) -> Any:
    """Map one host value onto a JSON-model value (children are left as they are)."""
    for _ in range(_MAX_DEFAULT_CHAIN):
        t = type(value)
        if t in JSON_TYPES:
            return value
        if default is None:  # a list of models: one lookup, not every check below
            by_alias = _MODEL_TYPES.get(t)
            if by_alias is not None:
                return _pydantic_dump(value, t.__pydantic_serializer__, None, by_alias)
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
        if isinstance(value, tuple) and isinstance(getattr(t, "_fields", None), tuple):
            # A named tuple is a record: its field names are its meaning.
            return dict(zip(t._fields, value))
        if isinstance(value, (list, tuple)):
            return list(value)
        if isinstance(value, (set, frozenset)):
            return _sorted_set(value)
        if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
            return value.isoformat()
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            serializer = _pydantic_serializer(t)
            if serializer is not None:  # a pydantic dataclass: its own serializer
                return _pydantic_dump(value, serializer, default)
            return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if default is None:
            mapped = _late(value, None)
            if mapped is _UNKNOWN:
                raise TypeError(f"Object of type {t.__name__} is not TOON serializable")
            return mapped
        try:
            value = default(value)
        except TypeError:
            mapped = _late(value, default)
            if mapped is _UNKNOWN:
                raise
            return mapped
    raise ValueError("default= hook did not produce a serializable value")


def _late(value: Any, default: Callable[[Any], Any] | None) -> Any:
    """The mapping ``default=`` is asked before (see the module docstring), or
    ``_UNKNOWN``."""
    serializer = _pydantic_serializer(type(value))
    if serializer is not None:
        return _pydantic_dump(value, serializer, default)
    if isinstance(value, datetime.timedelta):
        return format_duration(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    return _UNKNOWN


def _pydantic_serializer(t: type) -> Any:
    """The pydantic v2 serializer of instances of ``t``, or None (duck-typed: a
    pydantic class carries a ``SchemaSerializer``; pydantic itself is not imported)."""
    serializer = getattr(t, "__pydantic_serializer__", None)
    return serializer if callable(getattr(serializer, "to_python", None)) else None


def _pydantic_dump(value: Any, serializer: Any, default: Callable[[Any], Any] | None,
                   by_alias: bool | None = None) -> Any:
    cls = type(value)
    if by_alias is None:
        config = getattr(cls, "model_config", None) or getattr(cls, "__pydantic_config__", None) or {}
        configured = config.get("serialize_by_alias")
        by_alias = True if configured is None else bool(configured)
        if not dataclasses.is_dataclass(cls):  # a pydantic dataclass comes before default=
            _MODEL_TYPES[cls] = by_alias
    try:
        # fallback= (pydantic 2.11+) only when there is a hook to hand it.
        extra = {} if default is None else {"fallback": default}
        return serializer.to_python(value, mode="json", by_alias=by_alias, **extra)
    except ValueError as exc:
        # PydanticSerializationError (a ValueError): a value in the model that
        # neither pydantic nor default= can serialize. encode's contract says TypeError.
        if type(exc).__name__ != "PydanticSerializationError":
            raise
        raise TypeError(f"{cls.__name__} is not TOON serializable: {exc}") from exc


def format_duration(td: datetime.timedelta) -> str:
    """ISO 8601 duration (``[-]PnDTnHnMn.nS``), days as the largest unit, since a
    year or month has no fixed length; a negative duration is the negation of its
    magnitude, as pydantic writes and reads it."""
    sign = "-" if td < datetime.timedelta(0) else ""
    td = abs(td)
    hours, rest = divmod(td.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    date = f"{td.days}D" if td.days else ""
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or td.microseconds:
        time += f"{seconds}.{td.microseconds:06d}".rstrip("0").rstrip(".") + "S"
    if not date and not time:
        return "PT0S"
    return f"{sign}P{date}" + (f"T{time}" if time else "")


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
