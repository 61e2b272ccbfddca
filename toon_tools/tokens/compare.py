"""The same data as pretty JSON, compact JSON and TOON with each delimiter, and
what TOON saves: what ``toon tokens --compare`` shows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import Finding

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


class NotComparable(Finding):
    """A ``.json`` or ``.toon`` file that cannot be compared, and why (its
    position, when the reason has one)."""


def compare(counter: TokenCounter, path: str, data: bytes) -> Comparison | None:
    """The comparison for one ``.json`` or ``.toon`` file's bytes; None for other
    files. :class:`NotComparable` when the data does not parse or cannot be
    written in every form."""
    from .. import codec

    value: Any
    try:
        if path.endswith(".json"):
            value = json.loads(data)
        elif path.endswith(".toon"):
            value = codec.decode(data)
        else:
            return None
    except codec.ToonDecodeError as e:
        raise NotComparable(f"not compared: not a valid TOON document: {e.message}",
                            path=path, line=e.line, column=e.column) from None
    except json.JSONDecodeError as e:
        raise NotComparable(f"not compared: not valid JSON: {e.msg}", path=path,
                            line=e.lineno, column=e.colno) from None
    except UnicodeDecodeError as e:
        raise NotComparable(f"not compared: invalid UTF-8 at byte {e.start}", path=path) from None
    except ValueError as e:
        raise NotComparable(f"not compared: {_why(e)}", path=path) from None
    except RecursionError:
        raise NotComparable("not compared: nested too deeply", path=path) from None
    try:
        forms = [
            json.dumps(value, indent=2, ensure_ascii=False),
            json.dumps(value, separators=(",", ":"), ensure_ascii=False),
            codec.encode(value),
            codec.encode(value, delimiter="\t"),
            codec.encode(value, delimiter="|"),
        ]
        counts = counter.count_many(forms)
    except UnicodeEncodeError as e:  # a lone surrogate, which UTF-8 cannot hold
        lone = e.object[e.start:e.end] if isinstance(e.object, str) else ""
        shown = "".join(f"\\u{ord(c):04x}" for c in lone)
        raise NotComparable(f"not compared: a string holds a lone surrogate"
                            f"{f' ({shown})' if shown else ''}, which UTF-8 cannot encode",
                            path=path) from None
    except ValueError as e:
        raise NotComparable(f"not compared: {_why(e)}", path=path) from None
    except RecursionError:
        raise NotComparable("not compared: nested too deeply", path=path) from None
    return Comparison(path, dict(zip(FORMS, counts)))


def _why(e: ValueError) -> str:
    """``e`` in our words where Python's are about its own knobs."""
    text = str(e)
    if "integer string conversion" in text:
        import sys

        return f"an integer has more than {sys.get_int_max_str_digits()} digits"
    return text
