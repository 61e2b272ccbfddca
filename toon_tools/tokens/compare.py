"""The same data as pretty JSON, compact JSON and TOON with each delimiter, and
what TOON saves: what ``toon tokens --compare`` shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .counter import TokenCounter

#: The forms compared, in the order they are shown.
FORMS = ("json_pretty", "json_compact", "toon_comma", "toon_tab", "toon_pipe")


@dataclass(frozen=True)
class Comparison:
    path: str
    tokens: dict[str, int]  # form -> tokens, for every name in FORMS

    def saving(self, baseline: str) -> float:
        """Percent of ``baseline``'s tokens that the best TOON form saves."""
        best = min(self.tokens["toon_comma"], self.tokens["toon_tab"], self.tokens["toon_pipe"])
        base = self.tokens[baseline]
        return round(100.0 * (base - best) / base, 1) if base else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, **self.tokens,
                "saving_vs_pretty": self.saving("json_pretty"),
                "saving_vs_compact": self.saving("json_compact")}


def compare(counter: TokenCounter, path: str, data: bytes) -> Comparison | None:
    """The comparison for one ``.json`` or ``.toon`` file's bytes; None for other
    files and for data that does not parse (that is ``toon check``'s business)."""
    from .. import codec

    value: Any
    try:
        if path.endswith(".json"):
            value = json.loads(data)
        elif path.endswith(".toon"):
            value = codec.decode(data)
        else:
            return None
    except (ValueError, RecursionError):
        return None
    try:
        forms = [
            json.dumps(value, indent=2, ensure_ascii=False),
            json.dumps(value, separators=(",", ":"), ensure_ascii=False),
            codec.encode(value),
            codec.encode(value, delimiter="\t"),
            codec.encode(value, delimiter="|"),
        ]
        counts = counter.count_many(forms)
    except (ValueError, RecursionError):  # e.g. a lone surrogate that UTF-8 cannot hold
        return None
    return Comparison(path, dict(zip(FORMS, counts)))
