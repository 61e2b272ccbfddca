"""What a run would do, without calling a model: for each step, whether it would
call the model or come from the cache and why, and its prompt tokens.

A step re-runs when it has no finished earlier run, when the step itself changed
(its :func:`fingerprint`), when an input its templates read changed, or when a
step it needs re-runs (its prompt then changes). Otherwise every call it makes
is a cache hit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..errors import ToolError
from .prices import PriceTable
from .spec import Pipeline, Step, StepError, lookup, render


#: Reply tokens assumed per call that sets no max_tokens, before a run has
#: seen how long its replies are (for budgets and cost estimates).
COMPLETION_GUESS: Final = 256


def fingerprint(pipeline: Pipeline, step: Step) -> str:
    """What decides a step's result besides its inputs and upstream artifacts. A
    contract counts by its content (an edited schema file changes the step); the
    ``required`` shorthand as it is written, as before contracts were schemas."""
    shape = step.shape
    contract: Any = step.required if shape is None or shape.shorthand \
        else [shape.schema, shape.model]
    return hashlib.sha256(json.dumps(
        [step.prompt, step.system, step.model or pipeline.model, pipeline.params, step.params,
         contract, step.foreach, step.batch, step.python, step.samples,
         pipeline.structured_of(step)],
        sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class SavedRun:
    """A run folder as the runner leaves it: ``state.json`` and ``<step>.toon``."""

    status: str = ""
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    used_tokens: int = 0
    used_usd: float = 0.0
    error: str | None = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)  # state.json as read

    @classmethod
    def read(cls, folder: Path) -> SavedRun:
        """The run's state; ToolError (exit 2) when there is no readable state.json."""
        where = folder / "state.json"
        try:
            data = json.loads(where.read_bytes())
        except OSError as e:
            raise ToolError(f"no readable state.json ({e.strerror or e})",
                            path=str(folder)) from None
        except ValueError as e:
            raise ToolError(f"not a run's state: {e}", path=str(where)) from None
        steps = data.get("steps") if isinstance(data, dict) else None
        if not isinstance(steps, dict) or not all(isinstance(s, dict) for s in steps.values()):
            raise ToolError("not a run's state: no 'steps'", path=str(where))
        inputs = data.get("inputs")
        used = data.get("used_tokens")
        usd = data.get("used_usd")
        error = data.get("error")
        return cls(status=str(data.get("status", "")), steps=steps,
                   inputs=inputs if isinstance(inputs, dict) else {},
                   used_tokens=used if isinstance(used, int) else 0,
                   used_usd=float(usd) if isinstance(usd, (int, float)) else 0.0,
                   error=str(error) if error is not None else None, data=data)

    @classmethod
    def read_if_any(cls, folder: Path, pipeline: Pipeline) -> SavedRun:
        """Whatever an earlier run left (nothing when there was none), with the
        artifacts of ``pipeline``'s steps."""
        from ..codec import ToonDecodeError, decode

        try:
            saved = cls.read(folder)
        except ToolError:
            saved = cls()
        for sid in pipeline.steps:
            try:
                saved.artifacts[sid] = decode((folder / f"{sid}.toon").read_bytes())
            except (OSError, ToonDecodeError):
                pass
        return saved


@dataclass
class Estimate:
    """Prompt tokens of a step: rendered, per item times items, or the bare template."""

    tokens: int
    items: int | None = None  # a foreach step: the number of items
    per_item: int | None = None
    template_only: bool = False  # an upstream artifact is missing: the template alone

    def __str__(self) -> str:
        if self.template_only:
            return f"~{self.tokens:,} (template)"
        if self.items is not None:
            return f"{self.tokens:,} ({self.items} x {self.per_item:,})"
        return f"{self.tokens:,}"


@dataclass
class PlannedStep:
    wave: int
    step: Step
    runs: bool  # False: every call would be a cache hit
    why: str
    estimate: Estimate | None  # None for a python step
    usd: float | None = None  # estimated dollars of the calls it would make; None: no price

    @property
    def kind(self) -> str:
        if self.step.python:
            return "python"
        return f"foreach {self.step.foreach}" if self.step.foreach else "call"

    @property
    def decision(self) -> str:
        return f"{'runs' if self.runs else 'cached'}: {self.why}"


def _why_it_runs(step: Step, pipeline: Pipeline, given: Mapping[str, Any], before: SavedRun,
                 changed: set[str]) -> str | None:
    """Why ``step`` would call the model, or None when it would not."""
    last = before.steps.get(step.id)
    if last is None or last.get("state") != "done":
        return "no finished earlier run"
    if last.get("fingerprint") != fingerprint(pipeline, step):
        return "the step itself changed"
    for k in step.inputs_used():
        if given.get(k) != before.inputs.get(k):
            return f"input '{k}' changed"
    upstream = sorted(set(step.needs) & changed)
    if upstream:
        return f"its input '{upstream[0]}' changes"
    return None


def _estimate(step: Step, scope: dict[str, Any], count: Callable[[str], int]) -> Estimate | None:
    if step.prompt is None:
        return None
    # What the runner sends: the template and the reply's skeleton.
    template = "\n\n".join(filter(None, [step.system, step.prompt,
                                          step.shape.skeleton() if step.shape else None]))
    try:
        if step.foreach is None:
            return Estimate(count(render(template, scope)))
        items = lookup(scope, step.foreach)
        n = len(items) if isinstance(items, list) else 1
        first = items[0] if isinstance(items, list) and items else ""
        one = count(render(template, {**scope, "item": first, "items": [first]}))
        return Estimate(one * n, items=n, per_item=one)
    except StepError:  # an upstream artifact that no earlier run left
        return Estimate(count(template), template_only=True)


def _cost(step: Step, pipeline: Pipeline, estimate: Estimate | None, runs: bool,
          prices: PriceTable) -> float | None:
    """Dollars of a step's calls: its prompt tokens, and per call a reply of
    ``max_tokens`` (or :data:`COMPLETION_GUESS`); 0 when it would come from the cache."""
    price = prices.price(pipeline.model_of(step))
    if estimate is None or price is None or pipeline.provider == "offline":
        return None  # a python step, an unpriced model, or the offline provider: nothing billed
    if not runs:
        return 0.0
    calls = (estimate.items or 1) * step.samples
    params = {**pipeline.params, **step.params}
    reply = params.get("max_completion_tokens", params.get("max_tokens", COMPLETION_GUESS))
    reply = reply if isinstance(reply, int) else COMPLETION_GUESS
    return price.cost(estimate.tokens * step.samples, calls * reply)


def plan(pipeline: Pipeline, given: Mapping[str, Any], run_dir: Path,
         count_tokens: Callable[[str], int], prices: PriceTable | None = None
         ) -> list[PlannedStep]:
    """Every step, wave by wave, with what a run into ``run_dir`` would do.

    Estimates render each prompt with the inputs and, where an earlier run left
    them, its artifacts (a foreach step: one item times the number of items);
    otherwise they count the template alone.
    """
    prices = prices or PriceTable(pipeline.prices)
    before = SavedRun.read_if_any(run_dir, pipeline)
    scope: dict[str, Any] = {"inputs": dict(given), **before.artifacts}
    changed: set[str] = set()
    planned = []
    for number, wave in enumerate(pipeline.waves(), 1):
        for sid in wave:
            step = pipeline.steps[sid]
            why = _why_it_runs(step, pipeline, given, before, changed)
            if why is not None:
                changed.add(sid)
            estimate = _estimate(step, scope, count_tokens)
            planned.append(PlannedStep(number, step, why is not None,
                                       why or "nothing it depends on changed", estimate,
                                       _cost(step, pipeline, estimate, why is not None, prices)))
    return planned
