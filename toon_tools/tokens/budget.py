"""The one budget evaluator: ``toon tokens``, the pre-commit hook and the
standalone hook all ask this module whether counts are over budget, so they
agree on the same files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Overrun:
    """One budget exceeded: a file's (``path``) or the total's (``path`` None)."""

    path: str | None
    tokens: int
    limit: int

    def __str__(self) -> str:
        over = self.tokens - self.limit
        if self.path is None:
            return (f"total: {self.tokens:,} tokens, {over:,} over the budget "
                    f"of {self.limit:,}")
        return (f"{self.path}: {self.tokens:,} tokens, {over:,} over the per-file "
                f"budget of {self.limit:,}")


def over_budget(counts: Mapping[str, int], budget: int | None,
                per_file_budget: int | None) -> list[Overrun]:
    """Every budget that ``counts`` (path -> tokens) exceed: files first, in the
    order given, then the total. Empty when all are within budget."""
    found = []
    if per_file_budget is not None:
        found += [Overrun(path, n, per_file_budget) for path, n in counts.items()
                  if n > per_file_budget]
    total = sum(counts.values())
    if budget is not None and total > budget:
        found.append(Overrun(None, total, budget))
    return found
