"""JSON and JSON Lines <-> TOON, through the codec."""

from __future__ import annotations

import json
from typing import Any

from ..codec import decode, encode
from .registry import ConversionError, Converter, register


def load_json(data: bytes, name: str) -> Any:
    try:
        return json.loads(data)
    except json.JSONDecodeError as e:
        raise ConversionError(f"{name}:{e.lineno}:{e.colno}: invalid JSON: {e.msg}") from None
    except UnicodeDecodeError as e:
        raise ConversionError(f"{name}: invalid JSON: not UTF-8 text ({e.reason})") from None
    except RecursionError:
        raise ConversionError(f"{name}: invalid JSON: nested too deeply") from None


@register
class JsonToToon(Converter):
    source, target = "json", "toon"
    description = "JSON document to TOON"

    def convert(self, data: bytes, name: str) -> str:
        return encode(load_json(data, name))


@register
class ToonToJson(Converter):
    source, target = "toon", "json"
    description = "TOON document to pretty JSON"

    def convert(self, data: bytes, name: str) -> str:
        return json.dumps(decode(data), indent=2, ensure_ascii=False)


@register
class JsonlToToon(Converter):
    source, target = "jsonl", "toon"
    description = "JSON Lines to one TOON array (tabular when the records are uniform)"

    def convert(self, data: bytes, name: str) -> str:
        records = []
        for number, line in enumerate(data.split(b"\n"), 1):
            if line.strip():
                try:
                    records.append(json.loads(line))
                except (json.JSONDecodeError, UnicodeDecodeError) as e:
                    msg = getattr(e, "msg", None) or getattr(e, "reason", str(e))
                    raise ConversionError(f"{name}:{number}: invalid JSON line: {msg}") from None
        return encode(records)


@register
class ToonToJsonl(Converter):
    source, target = "toon", "jsonl"
    description = "TOON array to JSON Lines, one record per line (other roots: one line)"

    def convert(self, data: bytes, name: str) -> str:
        value = decode(data)
        records = value if isinstance(value, list) else [value]
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
