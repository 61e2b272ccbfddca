"""The encoder's fast paths against the TypeScript reference, byte for byte.

The hypothesis documents rarely reach them: a string column long enough to be
scanned as a whole (8 rows or more), every quoting rule inside such a column,
short inline arrays formatted item by item (up to 16) next to longer ones, a key
recurring at several depths (field-line prefixes are kept per depth), and more
distinct short strings than the encoder remembers.
"""

from __future__ import annotations

from typing import Any

import pytest

import toon_tools
from tests.codec.test_differential import Oracle, oracle  # noqa: F401  (fixture)
from toon_tools.codec._encoder import Encoder

#: Each forces quoting by a different rule of §7.2, or looks as if it might.
TRICKY = [
    "", " lead", "trail ", "tab\t", "-dash", "#hash", "12", "-3", "1e5", "+7",
    "05", "true", "null", "falsey", "a:b", 'q"q', "back\\slash", "[x]", "{y}", "a,b", "a|b",
    "ctl\x01", "nl\nx", "nbsp\u00a0x", "zwsp\u200bx", "é", "日本", "plain",
]
SAFE = [f"user{i}@example.com" for i in range(12)]


def _cases() -> list[Any]:
    rows = [{"id": i, "s": s, "safe": SAFE[i % len(SAFE)]} for i, s in enumerate(TRICKY)]
    keyed = {f"k{i}": {"s": s, "n": i} for i, s in enumerate(TRICKY)}
    return [
        {"rows": rows},  # every rule inside one long column
        {"rows": [{"s": s} for s in SAFE]},  # a long column that needs no quotes
        {"rows": [{"s": s} for s in SAFE[:7] + ["a,b|c"]]},  # the one unsafe row is last
        {"keyed": keyed},
        {"short": TRICKY[:16], "long": TRICKY[:17], "mixed": [1, 2.5, True, None, "x", -0.0]},
        {"items": [TRICKY[:3], [1, "a:b"], {"first": TRICKY[5], "then": TRICKY[12]}]},
        {"a": 1, "b": {"a": "x y", "b": {"a": [1, 2], "c": {"a": "true"}}}, "c": [{"a": 1}]},
        [{"a": TRICKY[i], "b": i} if i % 2 else {"b": TRICKY[i], "a": i}
         for i in range(len(TRICKY))],
        {"many": [{"v": f"v{i}", "w": f"v{i % 7}"} if i % 3 else {"v": f"v{i}"}
                  for i in range(2500)]},
    ]


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
@pytest.mark.parametrize("case", range(len(_cases())))
def test_fast_paths_match_reference(oracle: Oracle, case: int, delimiter: str) -> None:  # noqa: F811
    value = _cases()[case]
    expected = oracle.ask({"op": "encode", "value": value, "options": {"delimiter": delimiter}})
    assert toon_tools.encode(value, delimiter=delimiter) == expected
    assert Encoder(delimiter=delimiter).text(value) == expected


def test_a_leading_byte_order_mark_is_quoted_in_a_long_column() -> None:
    """Our one deliberate difference from the reference (see ``encode``)."""
    value = {"rows": [{"s": s} for s in SAFE[:9] + ["\ufeffbom"]]}
    text = toon_tools.encode(value)
    assert '"\ufeffbom"' in text
    assert toon_tools.decode(text) == value


@pytest.mark.parametrize("where", ["column", "short", "field"])
def test_a_lone_surrogate_is_refused_on_every_path(where: str) -> None:
    bad = "x\ud800y"
    value: Any = {
        "column": {"rows": [{"s": s} for s in SAFE[:9] + [bad]]},
        "short": {"tags": ["a", bad]},
        "field": {"s": bad},
    }[where]
    with pytest.raises(ValueError, match="U\\+D800"):
        toon_tools.encode(value)
