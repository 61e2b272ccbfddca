"""Running a pipeline: a DAG of steps on asyncio, every model call memoised.

- Independent steps and the items of a ``foreach`` run concurrently, bounded by
  ``jobs`` (a semaphore) and a thread pool of the same size for the blocking
  HTTP client.
- Every call is cached on disk under the sha256 of canonical JSON of all that
  changes its answer: provider, base_url, model, parameters, the rendered
  messages and the sample index. A finished call is in the cache before the
  next begins, so a run killed with ``kill -9`` resumes without repeating it;
  an unchanged pipeline re-runs with zero calls, and a changed step re-runs only
  itself and what depends on it (their prompts changed, nothing else's did).
- Before each uncached call the prompt's tokens are counted; the run stops,
  with its state saved, rather than exceed ``budget_tokens``.
- Artifacts stay in memory and are written once each, as ``<step>.toon`` with a
  Markdown twin, into the run folder, beside ``state.json`` and ``events.jsonl``
  (written by a single writer task, so lines never interleave).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from ..codec import ToonDecodeError, decode, encode
from ..errors import Finding
from ..files import atomic_write
from .cache import CachedReply, ReplyCache
from .plan import fingerprint
from .providers import Provider
from .spec import VARIABLE, Pipeline, Step, StepError, lookup, render

_FENCE: Final = re.compile(r"\A\s*```[a-zA-Z]*\n(.*?)\n```\s*\Z", re.S)


class BudgetExceeded(Finding):
    """The next call would exceed ``budget_tokens``: the run stops (exit 1)."""


@dataclass
class StepStats:
    state: str = "pending"  # pending, running, done, failed, stopped
    calls: int = 0
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasks: int = 0
    items: int = 0  # foreach items (or batches) in all
    items_done: int = 0
    seconds: float = 0.0
    fingerprint: str = ""
    error: str | None = None


@dataclass
class RunState:
    pipeline: str
    steps: dict[str, StepStats] = field(default_factory=dict)
    status: str = "running"
    error: str | None = None


def call_key(provider: str, base_url: str, model: str, params: dict[str, Any],
             messages: list[dict[str, str]], sample: int) -> str:
    """The cache key: everything that changes the answer, as canonical JSON."""
    canonical = json.dumps({"provider": provider, "base_url": base_url, "model": model,
                            "params": params, "messages": messages, "sample": sample},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "llm:" + hashlib.sha256(canonical.encode()).hexdigest()


def parse_reply(content: str, required: list[str]) -> Any:
    """A reply must be TOON (optionally in a ```toon fence) with the required fields."""
    m = _FENCE.match(content)
    text = m.group(1) if m else content
    value = decode(text)
    if required:
        if not isinstance(value, dict):
            raise ValueError("the reply must be a TOON object with fields "
                             + ", ".join(f.rstrip("[]") for f in required))
        for f in required:
            name = f[:-2] if f.endswith("[]") else f
            if name not in value:
                raise ValueError(f"the reply has no field '{name}'")
            if f.endswith("[]") and not isinstance(value[name], list):
                raise ValueError(f"field '{name}' must be an array")
    return value


class Runner:
    """One run of a pipeline (a Runner runs once). ``cache`` None calls the model
    every time; ``count_tokens`` counts a prompt for the budget (default: a
    quarter of its length); ``progress`` is told of every call's start and end."""

    def __init__(self, pipeline: Pipeline, inputs: dict[str, Any], provider: Provider, *,
                 cache: ReplyCache | None, run_dir: Path, jobs: int = 8,
                 budget_tokens: int | None = None,
                 count_tokens: Callable[[str], int] | None = None,
                 progress: Callable[[RunState, int], None] | None = None) -> None:
        pipeline.check_inputs(inputs)
        self.pipeline = pipeline
        self.inputs = inputs
        self.provider = provider
        self.cache = cache
        self.run_dir = run_dir
        self.jobs = jobs
        self.budget = budget_tokens
        self.count = count_tokens or (lambda s: len(s) // 4)
        self.progress = progress
        self.used_tokens = 0
        self.in_flight = 0
        self.state = RunState(pipeline.name, {s: StepStats() for s in pipeline.steps})
        self.artifacts: dict[str, Any] = {}
        # asyncio primitives bind to the running loop on first use, not here.
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._budget_lock = asyncio.Lock()
        self._sem = asyncio.Semaphore(jobs)
        # Threads for the blocking HTTP calls, plus a few for cache writes; started lazily.
        self._pool = ThreadPoolExecutor(max_workers=jobs + 4, thread_name_prefix="toon-llm")
        # Per foreach step that another streams from: the futures of its items.
        self._streams: dict[str, asyncio.Future[list[asyncio.Future[Any]]]] = {}
        self._done: dict[str, asyncio.Future[None]] = {}
        self._started = False

    # ------------------------------------------------------------ events and state

    def event(self, kind: str, **data: Any) -> None:
        self._events.put_nowait({"t": round(time.time(), 3), "event": kind, **data})

    async def _writer(self) -> None:
        """The only writer of events.jsonl: one line per event, never interleaved."""
        with open(self.run_dir / "events.jsonl", "a", encoding="utf-8") as fh:
            while True:
                ev = await self._events.get()
                if ev is None:
                    break
                fh.write(json.dumps(ev, ensure_ascii=False) + "\n")
                fh.flush()

    def save_state(self) -> None:
        data = {"pipeline": self.state.pipeline, "status": self.state.status,
                "error": self.state.error, "used_tokens": self.used_tokens, "inputs": self.inputs,
                "steps": {k: asdict(v) for k, v in self.state.steps.items()}}
        atomic_write(self.run_dir / "state.json", json.dumps(data, indent=2) + "\n")

    # ------------------------------------------------------------ the run

    def run(self) -> RunState:
        """Run every step; the state says how it ended (done, failed, stopped).
        Raises ProviderSetupError (exit 2) before anything runs when the provider
        cannot answer at all."""
        if self._started:
            raise RuntimeError("a Runner runs once")
        self._started = True
        self.provider.check()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return asyncio.run(self._run())

    async def _run(self) -> RunState:
        writer = asyncio.create_task(self._writer())
        loop = asyncio.get_running_loop()
        steps = self.pipeline.steps
        self._done.update({s: loop.create_future() for s in steps})
        self._streams.update({s.id: loop.create_future() for s in steps.values()
                              if any(self._streams_from(d) == s.id for d in steps.values())})
        self.event("run_start", pipeline=self.pipeline.name, provider=self.provider.name)
        tasks = [asyncio.create_task(self._step(steps[s])) for s in steps]
        try:
            await asyncio.gather(*tasks)
            self.state.status = "done"
        except BudgetExceeded as e:
            self.state.status, self.state.error = "stopped", str(e)
        except Exception as e:  # a provider or step error: stop, keeping what is done
            self.state.status, self.state.error = "failed", str(e)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._pool.shutdown(wait=False, cancel_futures=True)
            for s in self.state.steps.values():
                if s.state == "running":
                    s.state = "stopped"
            self.save_state()
            self.event("run_end", status=self.state.status, error=self.state.error,
                       used_tokens=self.used_tokens)
            self._events.put_nowait(None)
            await writer
        return self.state

    def _streamable(self, step: Step) -> bool:
        """Items of this foreach step can be handed on one by one as they finish."""
        return step.foreach is not None and step.batch == 1 and step.samples == 1

    def _streams_from(self, step: Step) -> str | None:
        """The upstream foreach step whose items this step can start on one by one,
        without waiting for the whole list (``foreach: <that step>``)."""
        source = step.foreach
        steps = self.pipeline.steps
        if source is None or source not in steps or not self._streamable(step):
            return None
        if not self._streamable(steps[source]):
            return None
        used = {v.split(".", 1)[0] for v in VARIABLE.findall((step.prompt or "") + (step.system or ""))}
        return None if source in used else source  # the template wants the whole list

    async def _step(self, step: Step) -> None:
        streamed = self._streams_from(step)
        for need in step.needs:
            if need != streamed:
                await self._done[need]
        stats = self.state.steps[step.id]
        stats.state = "running"
        stats.fingerprint = fingerprint(self.pipeline, step)
        started = time.monotonic()
        self.event("step_start", step=step.id)
        mine: list[asyncio.Future[Any]] = []
        try:
            scope = {"inputs": self.inputs,
                     **{n: self.artifacts[n] for n in step.needs if n != streamed}}
            if step.python is not None:
                value = await asyncio.get_running_loop().run_in_executor(
                    self._pool, _call_python, step.python, scope)
            elif step.foreach is not None and self._streamable(step):
                value = await self._foreach_items(step, scope, streamed, mine)
            elif step.foreach is not None:
                items = self._items(step, scope)
                batches = [items[i:i + step.batch] for i in range(0, len(items), step.batch)]
                stats.items = len(batches)

                async def batch_call(b: list[Any]) -> Any:
                    result = await self._ask(step, {**scope, "item": b[0], "items": b})
                    stats.items_done += 1
                    return result

                results = await asyncio.gather(*(batch_call(b) for b in batches))
                value = [r for b, r in zip(batches, results)
                         for r in (r if step.batch > 1 and isinstance(r, list) else [r])]
            else:
                value = await self._ask(step, scope)
        except BaseException as e:
            failure = StepError(f"upstream step '{step.id}' did not finish")
            for fut in [self._streams.get(step.id), *mine]:
                if fut is not None and not fut.done():
                    fut.set_exception(failure)
            stats.state = "stopped" if isinstance(e, (BudgetExceeded, asyncio.CancelledError)) else "failed"
            stats.error = str(e) or type(e).__name__
            stats.seconds = round(time.monotonic() - started, 3)
            self.event("step_end", step=step.id, state=stats.state, error=stats.error)
            raise
        self.artifacts[step.id] = value
        self._write_artifact(step.id, value)
        stats.state = "done"
        stats.seconds = round(time.monotonic() - started, 3)
        self.save_state()
        self.event("step_end", step=step.id, state="done", calls=stats.calls,
                   cache_hits=stats.cache_hits)
        self._done[step.id].set_result(None)

    def _items(self, step: Step, scope: dict[str, Any]) -> list[Any]:
        assert step.foreach is not None
        items = lookup(scope, step.foreach)
        if not isinstance(items, list):
            raise StepError(f"step '{step.id}': foreach '{step.foreach}' is not an "
                                f"array but {type(items).__name__}")
        return items

    async def _foreach_items(self, step: Step, scope: dict[str, Any], streamed: str | None,
                             mine: list[asyncio.Future[Any]]) -> list[Any]:
        """One call per item; each result is handed on to a downstream step that
        streams from this one as soon as it is ready."""
        loop = asyncio.get_running_loop()
        if streamed is not None:
            sources = await self._streams[streamed]
        else:
            sources = []
            for item in self._items(step, scope):
                ready = loop.create_future()
                ready.set_result(item)
                sources.append(ready)
        if step.id in self._streams:
            mine.extend(loop.create_future() for _ in sources)
            self._streams[step.id].set_result(mine)
        stats = self.state.steps[step.id]
        stats.items = len(sources)

        async def one(i: int, source: asyncio.Future[Any]) -> Any:
            item = await source
            result = await self._ask(step, {**scope, "item": item, "items": [item]})
            stats.items_done += 1
            if mine:
                mine[i].set_result(result)
            return result

        return list(await asyncio.gather(*(one(i, src) for i, src in enumerate(sources))))

    def _write_artifact(self, step_id: str, value: Any) -> None:
        from ..convert.twin_render import to_markdown

        text = encode(value)
        atomic_write(self.run_dir / f"{step_id}.toon", text + "\n")
        data = (text + "\n").encode()
        atomic_write(self.run_dir / f"{step_id}.md", to_markdown(value, f"{step_id}.toon", data))

    # ------------------------------------------------------------ one model call

    def messages(self, step: Step, scope: dict[str, Any]) -> list[dict[str, str]]:
        assert step.prompt is not None
        msgs = []
        if step.system:
            msgs.append({"role": "system", "content": render(step.system, scope)})
        prompt = render(step.prompt, scope)
        if step.required:
            # Say what the reply must hold; `name[]` is an array.
            prompt += ("\n\nReply with only a TOON document with the fields: "
                       + ", ".join(step.required) + ".")
        msgs.append({"role": "user", "content": prompt})
        return msgs

    async def _ask(self, step: Step, scope: dict[str, Any]) -> Any:
        messages = self.messages(step, scope)
        values = [await self._ask_sample(step, messages, i) for i in range(step.samples)]
        return values[0] if step.samples == 1 else values

    async def _ask_sample(self, step: Step, messages: list[dict[str, str]], sample: int) -> Any:
        stats = self.state.steps[step.id]
        model = step.model or self.pipeline.model
        params = {**self.pipeline.params, **step.params}
        for attempt in range(step.max_reasks + 1):
            content = await self._call(step, model, params, messages, sample, stats)
            try:
                return parse_reply(content, step.required)
            except (ToonDecodeError, ValueError) as e:
                if attempt == step.max_reasks:
                    raise StepError(f"step '{step.id}': no valid TOON reply after "
                                        f"{attempt + 1} tries: {e}") from None
                stats.reasks += 1
                messages = [*messages, {"role": "assistant", "content": content},
                            {"role": "user", "content": f"That reply is not valid: {e}. Answer "
                             "again with only a TOON document"
                             + (" with the fields: " + ", ".join(step.required) if step.required else "")
                             + "."}]
        raise AssertionError("unreachable")

    async def _call(self, step: Step, model: str, params: dict[str, Any],
                    messages: list[dict[str, str]], sample: int, stats: StepStats) -> str:
        key = call_key(self.provider.name, self.provider.base_url, model, params, messages, sample)
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            stats.cache_hits += 1
            stats.prompt_tokens += hit["prompt_tokens"]
            stats.completion_tokens += hit["completion_tokens"]
            return str(hit["content"])
        prompt_tokens = sum(self.count(m["content"]) for m in messages)
        async with self._budget_lock:
            if self.budget is not None and self.used_tokens + prompt_tokens > self.budget:
                raise BudgetExceeded(
                    f"the next call of step '{step.id}' ({prompt_tokens:,} prompt tokens) would "
                    f"exceed --budget-tokens {self.budget:,} ({self.used_tokens:,} used)")
            self.used_tokens += prompt_tokens  # reserved before the call, so callers cannot overshoot
        async with self._sem:
            self.in_flight += 1
            self.event("call_start", step=step.id, prompt_tokens=prompt_tokens)
            if self.progress:
                self.progress(self.state, self.in_flight)
            try:
                reply = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self.provider.complete, model, messages, params, step.required)
            finally:
                self.in_flight -= 1
        # Replace the estimate with what the API reports, when it reports it.
        self.used_tokens += (reply.prompt_tokens or prompt_tokens) - prompt_tokens + reply.completion_tokens
        record: CachedReply = {"content": reply.content,
                               "prompt_tokens": reply.prompt_tokens or prompt_tokens,
                               "completion_tokens": reply.completion_tokens}
        if self.cache is not None:
            # Durable before this call counts as done; in the pool, since an
            # SQLite commit would otherwise stall every other call's progress.
            await asyncio.get_running_loop().run_in_executor(self._pool, self.cache.set, key, record)
        stats.calls += 1
        stats.prompt_tokens += record["prompt_tokens"]
        stats.completion_tokens += record["completion_tokens"]
        self.event("call_end", step=step.id, prompt_tokens=record["prompt_tokens"],
                   completion_tokens=record["completion_tokens"])
        if self.progress:
            self.progress(self.state, self.in_flight)
        return str(reply.content)


def _call_python(target: str, scope: dict[str, Any]) -> Any:
    module, _, name = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise StepError(f"python step '{target}': {e}") from None
    return fn(scope)
