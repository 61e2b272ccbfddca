"""JSON and JSON Lines <-> TOON, through the codec."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any, Final

from ..codec import decode, encode
from .registry import ConversionError, Converter, register


#: Python refuses to turn longer digit strings into ints (CVE-2020-10735); the
#: limit is the interpreter's, and we never change it.
_INT_LIMIT_MESSAGE: Final = "Exceeds the limit"

# JSON tokens that matter for locating a problem the parser does not position:
# whole strings (skipped, or searched for escapes), numbers and brackets.
_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|[\[{]|[\]}]'
                           r'|-?Infinity|NaN', re.S)
_ESCAPE: Final = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.S)
_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")
#: What Python's JSON parser reads as floats although JSON has no such values.
_CONSTANTS: Final = frozenset({"NaN", "Infinity", "-Infinity"})


def read_json(data: bytes, name: str) -> Any:
    """One JSON document as Python values, or a :class:`ConversionError` (a
    ``Finding``, exit 1) naming ``name``, line and column, for everything that
    cannot become TOON: invalid JSON, text that is not UTF-8 (nor the UTF-16/32
    that RFC 8259 readers accept), a lone surrogate escape (``"\\ud800"``: TOON
    text is UTF-8, which cannot hold one), an integer longer than Python's
    digit limit (refused, never rounded; the limit is left as it is), and
    nesting deeper than the parser's stack allows. ``NaN``, ``Infinity`` and
    ``-Infinity`` are refused (Python's parser takes them, but they are not
    JSON: RFC 8259 §6), and so is a number past a float's range (``1e999``:
    never turned into null or infinity; TOON's decoder refuses it too). A number
    too small for a float (``1e-999``) reads as 0, as every JSON reader does.

    ``toon encode`` and ``toon convert`` both read JSON through here, so they
    report the same error the same way.
    """
    return _parse(_text(data, name), name)


def read_json_lines(data: bytes, name: str) -> list[Any]:
    """The records of a JSON Lines file (blank lines skipped); errors as for
    :func:`read_json`, positioned in the whole file."""
    records = []
    for number, line in enumerate(_text(data, name).split("\n"), 1):
        if line.strip():
            records.append(_parse(line, name, number))
    return records


def _text(data: bytes, name: str) -> str:
    encoding = json.detect_encoding(data)  # utf-8-sig drops a byte order mark
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as e:
        line, column = _where(data[: e.start].decode(encoding, "replace"), None)
        label = "UTF-8" if encoding.startswith("utf-8") else encoding.upper()
        raise ConversionError(f"invalid JSON: not {label} text: byte 0x{data[e.start]:02x} "
                              f"({e.reason})", path=name, line=line, column=column) from None


def _parse(text: str, name: str, first_line: int = 1) -> Any:
    def error(message: str, pos: int) -> ConversionError:
        line, column = _where(text, pos)
        return ConversionError(message, path=name, line=line + first_line - 1, column=column)

    try:
        value = json.loads(text, parse_float=_float, parse_constant=_constant)
    except _NotAFloat as e:
        pos = _number_at(text, e.token)
        message = (f"invalid JSON: {e.token} is not a JSON number (RFC 8259)"
                   if e.token in _CONSTANTS else
                   f"number is out of the range of a float: {e.token[:40]}")
        raise error(message, pos) from None
    except json.JSONDecodeError as e:
        raise error(f"invalid JSON: {e.msg}", e.pos) from None
    except RecursionError:
        raise error("invalid JSON: nested too deeply", _deepest(text)) from None
    except ValueError as e:  # only the int digit limit raises a plain ValueError here
        if _INT_LIMIT_MESSAGE not in str(e):
            raise
        pos, digits = _huge_int(text)
        raise error(f"integer with {digits:,} digits: over Python's limit of "
                    f"{sys.get_int_max_str_digits():,} digits, so it cannot be kept exactly",
                    pos) from None
    if _SURROGATE_ESCAPE.search(text):
        at = _lone_surrogate(text)
        if at is not None:
            raise error(f"lone surrogate {text[at:at + 6]} in a string: TOON is UTF-8 text, "
                        "which cannot hold it", at)
    return value


class _NotAFloat(Exception):
    """A number token that TOON cannot hold, raised out of the parser."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _float(token: str) -> float:
    value = float(token)
    if math.isinf(value):
        raise _NotAFloat(token)
    return value


def _constant(token: str) -> float:
    raise _NotAFloat(token)  # NaN, Infinity, -Infinity


def _number_at(text: str, token: str) -> int:
    """Offset of the first number token in ``text`` that is ``token`` (the
    parser reads left to right, so the first is the one it stopped at)."""
    for m in _TOKEN.finditer(text):
        if m.group() == token:
            return m.start()
    return 0


def _encode(value: Any, name: str) -> str:
    try:
        return encode(value)
    except ValueError as e:  # nested deeper than the codec's max_depth
        raise ConversionError(str(e), path=name) from None


def _where(text: str, pos: int | None) -> tuple[int, int]:
    """1-based (line, column) of ``text[pos]`` (of the end of ``text`` for None)."""
    if pos is None:
        pos = len(text)
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _lone_surrogate(text: str) -> int | None:
    """Offset of the first ``\\uD800``-``\\uDFFF`` escape that is not one half of a
    pair (json.loads keeps such escapes as lone surrogates)."""
    pending = -1  # offset of a high surrogate escape waiting for its low half
    for m in _ESCAPE.finditer(text):
        code = int(m.group(1)[1:], 16) if len(m.group(1)) == 5 else -1
        if pending >= 0:
            if 0xDC00 <= code <= 0xDFFF and m.start() == pending + 6:
                pending = -1
                continue
            return pending
        if 0xD800 <= code <= 0xDBFF:
            pending = m.start()
        elif 0xDC00 <= code <= 0xDFFF:
            return m.start()
    return pending if pending >= 0 else None


def _huge_int(text: str) -> tuple[int, int]:
    """(offset, digits) of the first integer over the interpreter's digit limit."""
    limit = sys.get_int_max_str_digits()
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] in "-0123456789" and token.lstrip("-").isdigit():
            digits = len(token.lstrip("-"))
            if digits > limit:
                return m.start(), digits
    return 0, 0


def _deepest(text: str) -> int:
    """Offset of the first bracket at the greatest nesting depth."""
    depth = best = at = 0
    for m in _TOKEN.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > best:
                best, at = depth, m.start()
        elif ch in "]}":
            depth -= 1
    return at


@register
class JsonToToon(Converter):
    source, target = "json", "toon"
    description = "JSON document to TOON"
    suffixes, output_suffix = (".json",), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        return _encode(read_json(data, name), name)


@register
class ToonToJson(Converter):
    source, target = "toon", "json"
    description = "TOON document to pretty JSON"
    suffixes, output_suffix = (".toon",), ".json"

    def convert(self, data: bytes, name: str) -> str:
        return json.dumps(decode(data), indent=2, ensure_ascii=False)


@register
class JsonlToToon(Converter):
    source, target = "jsonl", "toon"
    description = "JSON Lines to one TOON array (tabular when the records are uniform)"
    suffixes, output_suffix = (".jsonl", ".ndjson"), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        return _encode(read_json_lines(data, name), name)


@register
class ToonToJsonl(Converter):
    source, target = "toon", "jsonl"
    description = "TOON array to JSON Lines, one record per line (other roots: one line)"
    suffixes, output_suffix = (".toon",), ".jsonl"

    def convert(self, data: bytes, name: str) -> str:
        value = decode(data)
        records = value if isinstance(value, list) else [value]
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
