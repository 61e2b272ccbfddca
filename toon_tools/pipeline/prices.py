"""What a call costs, in US dollars, from a price table.

Prices are per million tokens: ``input`` (prompt tokens read fresh),
``cached_input`` (prompt tokens read from the provider's prompt cache),
``cache_write`` (prompt tokens written to it; Anthropic bills them above
``input``) and ``output``. The built-in table covers common OpenAI, Anthropic
and Gemini models at their list prices as published on :data:`AS_OF` (standard
tier, prompts under 200k tokens); list prices change, so a team's own table in
``[tool.toon.pipeline.prices]`` or the pipeline file's ``prices:`` wins.

A model is found by its exact name, else by the longest name it starts with
(``gpt-4o-mini-2024-07-18`` is priced as ``gpt-4o-mini``). A local model has no
price: its cost is unknown, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

AS_OF: Final = "2025-11-01"
#: What a batch job's call costs against the list price: OpenAI's Batch API and
#: Anthropic's Message Batches both bill half (every kind of token).
BATCH_DISCOUNT: Final = 0.5


@dataclass(frozen=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None  # None: the same as input
    cache_write: float | None = None  # None: the same as input

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0,
             cache_write_tokens: int = 0) -> float:
        """Dollars for one call's usage; ``prompt_tokens`` includes the cached ones."""
        fresh = max(prompt_tokens - cached_tokens - cache_write_tokens, 0)
        cached = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        return (fresh * self.input + cached_tokens * cached + cache_write_tokens * write
                + completion_tokens * self.output) / 1_000_000

    def batch(self) -> Price:
        """The price of a call sent in a batch job (BATCH_DISCOUNT of every part)."""
        def part(v: float | None) -> float | None:
            return None if v is None else v * BATCH_DISCOUNT

        return Price(self.input * BATCH_DISCOUNT, self.output * BATCH_DISCOUNT,
                     part(self.cached_input), part(self.cache_write))


BUILTIN: Final[Mapping[str, Price]] = {
    # OpenAI
    "gpt-5": Price(1.25, 10.00, 0.125),
    "gpt-5-mini": Price(0.25, 2.00, 0.025),
    "gpt-5-nano": Price(0.05, 0.40, 0.005),
    "gpt-4.1": Price(2.00, 8.00, 0.50),
    "gpt-4.1-mini": Price(0.40, 1.60, 0.10),
    "gpt-4.1-nano": Price(0.10, 0.40, 0.025),
    "gpt-4o": Price(2.50, 10.00, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
    "o3": Price(2.00, 8.00, 0.50),
    "o4-mini": Price(1.10, 4.40, 0.275),
    # Anthropic (cache writes of the 5-minute cache: 1.25x input)
    "claude-opus-4-1": Price(15.00, 75.00, 1.50, 18.75),
    "claude-opus-4": Price(15.00, 75.00, 1.50, 18.75),
    "claude-sonnet-4-5": Price(3.00, 15.00, 0.30, 3.75),
    "claude-sonnet-4": Price(3.00, 15.00, 0.30, 3.75),
    "claude-3-7-sonnet": Price(3.00, 15.00, 0.30, 3.75),
    "claude-haiku-4-5": Price(1.00, 5.00, 0.10, 1.25),
    "claude-3-5-haiku": Price(0.80, 4.00, 0.08, 1.00),
    # Gemini
    "gemini-2.5-pro": Price(1.25, 10.00, 0.31),
    "gemini-2.5-flash": Price(0.30, 2.50, 0.075),
    "gemini-2.5-flash-lite": Price(0.10, 0.40, 0.025),
    "gemini-2.0-flash": Price(0.10, 0.40, 0.025),
}

_KEYS: Final = ("input", "output", "cached_input", "cache_write")


def parse_prices(value: Any) -> dict[str, Price]:
    """A price table as a configuration or a pipeline file gives it:
    ``{model: {input: 0.15, output: 0.6, cached_input: 0.075}}``; ValueError
    saying what is wrong otherwise."""
    if not isinstance(value, dict):
        raise ValueError("expected a table of models, each with input and output prices")
    table: dict[str, Price] = {}
    for model, entry in value.items():
        if not isinstance(entry, dict):
            raise ValueError(f"model '{model}': expected a table with input and output")
        unknown = sorted(set(entry) - set(_KEYS))
        if unknown:
            raise ValueError(f"model '{model}': unknown key '{unknown[0]}' "
                             f"(known: {', '.join(_KEYS)})")
        for key in ("input", "output"):
            if key not in entry:
                raise ValueError(f"model '{model}': no '{key}' price (dollars per million tokens)")
        for key, v in entry.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise ValueError(f"model '{model}': '{key}' must be a number of dollars "
                                 "per million tokens, 0 or more")
        table[str(model)] = Price(float(entry["input"]), float(entry["output"]),
                                  _opt(entry.get("cached_input")), _opt(entry.get("cache_write")))
    return table


def _opt(v: Any) -> float | None:
    return None if v is None else float(v)


class PriceTable:
    """Built-in prices under the configuration's, under the pipeline file's."""

    def __init__(self, *overrides: Mapping[str, Price]) -> None:
        self._table: dict[str, Price] = dict(BUILTIN)
        for layer in overrides:
            self._table.update(layer)

    def price(self, model: str) -> Price | None:
        if model in self._table:
            return self._table[model]
        # A dated or suffixed name: the longest known name it starts with.
        best = max((name for name in self._table if model.startswith(name + "-")
                    or model.startswith(name + "@")), key=len, default=None)
        return self._table[best] if best is not None else None
