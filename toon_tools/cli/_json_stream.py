"""Decode events -> JSON text: the writer behind ``toon decode``'s streaming output.

:func:`write_json` writes, piece by piece, exactly the text that
``json.dumps(value, ensure_ascii=False, indent=indent or None,
separators=None if indent else (",", ":"))`` gives for the value the events
describe, without the value ever existing whole: memory is the open containers'
stack plus an output buffer. The events are :func:`toon_tools.codec._stream.
iter_events`'s ``(kind, payload)`` pairs, ``whole_values=True`` included (a
VALUE event carries one complete container, e.g. a tabular row's dict).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from json.encoder import encode_basestring  # the C function when available
from typing import Any

from ..codec._stream import (
    END_ARRAY,
    END_OBJECT,
    KEY,
    PRIMITIVE,
    START_ARRAY,
    START_OBJECT,
    VALUE,
)

#: Pieces gathered before one write: large enough that writes are few, small
#: enough that memory stays bounded (pieces are a key, a scalar, a row).
FLUSH_PIECES = 32768

_INF = float("inf")


class _Pads(dict[int, str]):
    """depth -> the line break and indentation that start a line at that depth
    ("" in compact output), made on first use."""

    def __init__(self, indent: int) -> None:
        super().__init__()
        self.indent = indent

    def __missing__(self, depth: int) -> str:
        pad = "\n" + " " * (self.indent * depth) if self.indent else ""
        self[depth] = pad
        return pad


def _float(v: float) -> str:
    # json's floatstr (allow_nan=True): the decoder never yields these, a
    # caller's parse_float might.
    if v != v:
        return "NaN"
    if v == _INF:
        return "Infinity"
    if v == -_INF:
        return "-Infinity"
    return float.__repr__(v)


def scalar(v: Any) -> str:
    """One primitive as json.dumps writes it."""
    t = type(v)
    if t is str:
        return encode_basestring(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if t is int:
        return int.__repr__(v)
    if t is float:
        return _float(v)
    return json.dumps(v, ensure_ascii=False)  # int/float subclasses; TypeError for others


class _Dumper:
    """Whole containers (VALUE events) in json.dumps's layout, at a given depth."""

    def __init__(self, indent: int, pads: _Pads) -> None:
        self.pads = pads
        self.key_sep = ": " if indent else ":"
        self.compact = None if indent else json.JSONEncoder(
            ensure_ascii=False, separators=(",", ":")).encode

    def dump(self, v: Any, depth: int) -> str:
        if self.compact is not None:  # layout does not depend on depth: the C encoder
            return self.compact(v)
        return self._dump(v, depth)

    def _dump(self, v: Any, depth: int) -> str:
        t = type(v)
        if t is dict:
            if not v:
                return "{}"
            inner = self.pads[depth + 1]
            ksep = self.key_sep
            parts = []
            for k, x in v.items():
                tx = type(x)
                parts.append(encode_basestring(k) + ksep + (
                    encode_basestring(x) if tx is str else
                    self._dump(x, depth + 1) if tx is dict or tx is list else scalar(x)))
            return "{" + inner + ("," + inner).join(parts) + self.pads[depth] + "}"
        if t is list:
            if not v:
                return "[]"
            inner = self.pads[depth + 1]
            items = [encode_basestring(x) if type(x) is str else
                     self._dump(x, depth + 1) if type(x) in (dict, list) else scalar(x)
                     for x in v]
            return "[" + inner + ("," + inner).join(items) + self.pads[depth] + "]"
        return scalar(v)


def write_json(events: Iterable[tuple[int, Any]], write: Callable[[str], object],
               indent: int) -> None:
    """Write the JSON text of ``events`` through ``write``, in pieces of bounded size.

    ``indent`` 0 is json.dumps's compact form. If the events raise (a decode
    error), the exception propagates and what was gathered since the last write
    is dropped: a document whose error comes early writes nothing at all.
    """
    pads = _Pads(indent)
    dumper = _Dumper(indent, pads)
    dump = dumper.dump
    key_sep = dumper.key_sep
    enc = encode_basestring
    out: list[str] = []
    append = out.append
    # One entry per open container: True until its first member is written.
    empty: list[bool] = []
    depth = 0
    after_key = False
    for kind, payload in events:
        if kind == KEY:
            if empty[-1]:
                empty[-1] = False
                append(pads[depth] + enc(payload) + key_sep)
            else:
                append("," + pads[depth] + enc(payload) + key_sep)
            after_key = True
            continue
        if kind == END_OBJECT or kind == END_ARRAY:
            depth -= 1
            close = "}" if kind == END_OBJECT else "]"
            append(close if empty.pop() else pads[depth] + close)
            continue
        # A value: after its key in an object, else an item of an array (or the root).
        if after_key:
            after_key = False
        elif empty:
            if empty[-1]:
                empty[-1] = False
                append(pads[depth])
            else:
                append("," + pads[depth])
        if kind == VALUE:
            append(dump(payload, depth))
        elif kind == PRIMITIVE:
            append(scalar(payload))
        elif kind == START_OBJECT:
            append("{")
            empty.append(True)
            depth += 1
        elif kind == START_ARRAY:
            append("[")
            empty.append(True)
            depth += 1
        else:
            raise ValueError(f"unknown event kind {kind!r}")
        if len(out) >= FLUSH_PIECES:
            write("".join(out))
            out.clear()
    if out:
        write("".join(out))
