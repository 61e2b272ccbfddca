"""Pipeline files: steps, their dependencies and prompt templates, validated before
any model is called.

A pipeline file is TOON (or JSON)::

    name: snowflake
    inputs[1]: premise
    provider: offline            # or openai, with base_url, api_key_env
    model: gpt-4o-mini
    steps[2]:
      - id: sentence
        prompt: "Write one sentence for: {{ inputs.premise }}"
        output:
          required[1]: sentence
      - id: scenes
        needs[1]: sentence
        foreach: sentence.beats     # fan out over an upstream array
        batch: 5                    # items per request
        prompt: "Expand {{ item }} given {{ sentence.sentence }}"

Templates use ``{{ name.path }}``: ``inputs.<k>``, an upstream step id, ``item``
(and ``items`` for a batch) inside a ``foreach`` step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..codec import ToonDecodeError, decode

STEP_ID: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]*\Z")
VARIABLE: Final = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_STEP_KEYS: Final = {"id", "needs", "prompt", "system", "model", "params", "output", "foreach",
                     "batch", "python", "samples", "max_reasks", "provider", "base_url"}
_TOP_KEYS: Final = {"name", "inputs", "provider", "model", "base_url", "api_key_env", "params",
                    "steps", "max_reasks"}


class PipelineError(ValueError):
    """The pipeline file is invalid; raised before any model is called."""


@dataclass
class Step:
    id: str
    needs: list[str]
    prompt: str | None = None
    system: str | None = None
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    required: list[str] = field(default_factory=list)
    foreach: str | None = None
    batch: int = 1
    python: str | None = None
    samples: int = 1
    max_reasks: int = 2


@dataclass
class Pipeline:
    name: str
    inputs: list[str]
    provider: str
    model: str
    base_url: str | None
    api_key_env: str
    params: dict[str, Any]
    steps: dict[str, Step]
    path: Path

    def waves(self) -> list[list[str]]:
        """Steps grouped in execution waves (all of a wave's needs come earlier)."""
        done: set[str] = set()
        waves = []
        remaining = dict(self.steps)
        while remaining:
            wave = sorted(s for s, step in remaining.items() if set(step.needs) <= done)
            waves.append(wave)
            done.update(wave)
            for s in wave:
                del remaining[s]
        return waves

    def downstream(self, step_id: str) -> set[str]:
        out = {step_id}
        changed = True
        while changed:
            changed = False
            for s in self.steps.values():
                if s.id not in out and out & set(s.needs):
                    out.add(s.id)
                    changed = True
        return out


def load_pipeline(path: str | Path) -> Pipeline:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise PipelineError(f"{path}: {e.strerror or e}") from None
    try:
        raw = json.loads(data) if path.suffix == ".json" else decode(data)
    except ToonDecodeError as e:
        raise PipelineError(f"{path}:{e.line}:{e.column}: {e.msg}") from None
    except json.JSONDecodeError as e:
        raise PipelineError(f"{path}:{e.lineno}:{e.colno}: {e.msg}") from None
    return parse_pipeline(raw, path)


def _fail(path: Path, msg: str) -> PipelineError:
    return PipelineError(f"{path}: {msg}")


def parse_pipeline(raw: Any, path: Path) -> Pipeline:
    if not isinstance(raw, dict):
        raise _fail(path, "a pipeline is an object with 'steps'")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise _fail(path, f"unknown key '{sorted(unknown)[0]}'")
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise _fail(path, "'steps' must be a non-empty array")
    steps: dict[str, Step] = {}
    for i, rs in enumerate(raw_steps):
        if not isinstance(rs, dict):
            raise _fail(path, f"steps[{i}] must be an object")
        bad = set(rs) - _STEP_KEYS
        if bad:
            raise _fail(path, f"steps[{i}]: unknown key '{sorted(bad)[0]}'")
        sid = rs.get("id")
        if not isinstance(sid, str) or not STEP_ID.match(sid):
            raise _fail(path, f"steps[{i}]: id {sid!r} must be letters, digits, '_' or '-' "
                              "(it names files in the run folder)")
        if sid in steps or sid in ("inputs", "item", "items"):
            raise _fail(path, f"step id '{sid}' is used twice or reserved")
        output = rs.get("output") or {}
        step = Step(
            id=sid, needs=list(rs.get("needs") or []), prompt=rs.get("prompt"),
            system=rs.get("system"), model=rs.get("model"), params=dict(rs.get("params") or {}),
            required=list(output.get("required") or []) if isinstance(output, dict) else [],
            foreach=rs.get("foreach"), batch=int(rs.get("batch") or 1), python=rs.get("python"),
            samples=int(rs.get("samples") or 1),
            max_reasks=int(rs.get("max_reasks", raw.get("max_reasks", 2)) or 0),
        )
        if (step.prompt is None) == (step.python is None):
            raise _fail(path, f"step '{sid}' needs exactly one of 'prompt' or 'python'")
        if step.python is not None and ":" not in step.python:
            raise _fail(path, f"step '{sid}': python must be 'module:function'")
        if step.batch < 1 or step.samples < 1:
            raise _fail(path, f"step '{sid}': batch and samples must be at least 1")
        steps[sid] = step
    inputs = list(raw.get("inputs") or [])
    for step in steps.values():
        for need in step.needs:
            if need not in steps:
                raise _fail(path, f"step '{step.id}' needs '{need}', which is not a step")
        if step.foreach is not None:
            head, _, field_name = step.foreach.partition(".")
            if head not in step.needs:
                raise _fail(path, f"step '{step.id}': foreach '{step.foreach}' must start with "
                                  "one of its needs")
            upstream = steps[head]
            declared = upstream.required
            if field_name and declared and f"{field_name}[]" not in declared:
                kind = "a single value" if field_name in declared else "no such field"
                raise _fail(path, f"step '{step.id}': foreach '{step.foreach}' is not an array: "
                                  f"step '{head}' declares {kind} (an array is '{field_name}[]')")
        for template in (step.prompt, step.system):
            for var in VARIABLE.findall(template or ""):
                head = var.split(".", 1)[0]
                known = (head in step.needs or (head in ("item", "items") and step.foreach)
                         or (head == "inputs" and "." in var and var.split(".")[1] in inputs))
                if not known:
                    raise _fail(path, f"step '{step.id}': unknown template variable '{{{{ {var} }}}}'")
    _check_acyclic(steps, path)
    return Pipeline(
        name=str(raw.get("name") or path.stem), inputs=inputs,
        provider=str(raw.get("provider") or "offline"), model=str(raw.get("model") or "offline-1"),
        base_url=raw.get("base_url"), api_key_env=str(raw.get("api_key_env") or "OPENAI_API_KEY"),
        params=dict(raw.get("params") or {}), steps=steps, path=path)


def _check_acyclic(steps: dict[str, Step], path: Path) -> None:
    state: dict[str, int] = {}
    for start in steps:
        if state.get(start):
            continue
        stack = [(start, iter(steps[start].needs))]
        trail = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                trail.pop()
                continue
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):] + [nxt]
                raise _fail(path, "dependency cycle: " + " -> ".join(cycle))
            if not state.get(nxt):
                state[nxt] = 1
                trail.append(nxt)
                stack.append((nxt, iter(steps[nxt].needs)))


def render(template: str, scope: dict[str, Any]) -> str:
    """Fill ``{{ a.b }}`` from ``scope``; strings go in as they are, structures
    as TOON (what the model reads most cheaply)."""
    from ..codec import encode

    def value(m: re.Match[str]) -> str:
        parts = m.group(1).split(".")
        v: Any = scope
        for p in parts:
            if isinstance(v, dict) and p in v:
                v = v[p]
            elif isinstance(v, list) and p.isdigit() and int(p) < len(v):
                v = v[int(p)]
            else:
                raise PipelineError(f"template variable '{m.group(1)}' has no value here")
        return v if isinstance(v, str) else encode(v)

    return VARIABLE.sub(value, template)


def lookup(scope: dict[str, Any], dotted: str) -> Any:
    v: Any = scope
    for p in dotted.split("."):
        if isinstance(v, dict) and p in v:
            v = v[p]
        else:
            raise PipelineError(f"'{dotted}' has no value")
    return v
