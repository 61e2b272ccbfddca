"""Running a pipeline: a DAG of steps on asyncio, every accepted reply memoised.

- Independent steps and the items of a ``foreach`` run concurrently, bounded by
  ``jobs`` (a semaphore) and a thread pool for the blocking HTTP clients.
- A prompt ends with the skeleton of the reply its step declares (``shape``);
  a reply is read leniently (``replies.read_reply``) and a rejected one is kept
  in ``rejected/`` and re-asked with its error and the skeleton, never with the
  whole bad reply, so a re-ask costs about what the first ask did.
- A reply cut short in a table that ends it (at the token limit, or mid-row)
  keeps its complete rows, and a follow-up asks for the missing rows alone
  ("rows 5-10 of 10", the last row shown for continuity), round after round
  while each adds a row (at most MAX_SALVAGE_ROUNDS); the merged reply is then
  read like any other. A salvage that stalls falls back to a re-ask, as with
  salvage off, while re-asks remain. Every follow-up is a call: reserved, paid, counted, an
  event (``salvage``). With no complete row, the whole call is asked again with
  twice the max_tokens, as before.
- An accepted reply is cached under the key of the step's first ask: the sha256
  of canonical JSON of provider, base_url, model, parameters, structured mode,
  the rendered messages and the sample index. It is in the cache before the
  call counts as done, so a killed run resumes without repeating it and an
  unchanged pipeline re-runs with zero calls. Rejected replies are never cached.
- Money: a call reserves its estimated tokens (and dollars) against the budgets
  only once it holds a concurrency slot, and settles with the usage the API
  reports. A call that does not fit waits for calls in flight to settle; when
  nothing is in flight and it still does not fit, the run stops.
- Stopping (the first failure, a budget stop, Ctrl-C, SIGTERM): no new call is
  sent; calls in flight get ``grace`` seconds to answer, and every answer that
  comes back is read and cached; then the rest are aborted. No call is sent twice.
- Artifacts stay in memory and are written once each, as ``<step>.toon`` with a
  Markdown twin, into the run folder, beside ``state.json`` (written at the
  start, after every step, on a stop and at the end) and ``events.jsonl``
  (written by a single writer task, so lines never interleave).
- Batch jobs (``batch=True``, ``toon pipeline run --batch``): a call that
  would go to the model is held instead (its tokens reserved at batch prices);
  when the steps that can run have run, the held calls go out as one job
  (``batch.py``), the run's state says ``batched`` and records the job. The
  next run polls the recorded jobs first (with or without ``batch``): still
  running, it runs no step; finished, each reply is counted at batch prices
  and, when it reads as accepted, cached under its call's key, and the steps
  run again: a call whose reply a job returned gets that reply (so a rejected
  one is re-asked, through the same acceptance path as a direct reply), and
  the calls still missing make the next job, or go direct where
  ``batch_fallback`` is ``direct`` (re-asks and follow-ups) or ``batch`` is off.
  A call whose job expired, failed or errored goes in one more job, and fails
  its step after that.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from ..codec import encode
from ..errors import Finding, ToolError
from ..files import atomic_write
from .batch import (
    MAX_SUBMISSIONS,
    BatchClient,
    BatchRecord,
    Outcome,
    batch_client,
    describe,
    load_outcome,
    load_records,
    new_record,
    request_id,
)
from .cache import CachedReply, ReplyCache
from .plan import COMPLETION_GUESS, fingerprint
from .prices import Price, PriceTable
from .providers import CallCancelled, CallControl, Provider, ProviderError, Reply, Request
from .replies import (
    Partial,
    RejectedReply,
    TruncatedReply,
    merge_rows,
    read_reply,
    read_rows,
    rows_shape,
    salvage_prompt,
)
from .shape import TEXT_SHAPE, ContractError, OutputShape, text_gbnf
from .spec import VARIABLE, Pipeline, Step, StepError, lookup, render

#: Seconds that calls in flight get to answer once the run stops.
GRACE: Final = 10.0
#: A truncated reply is asked again with twice the max_tokens, up to this.
MAX_TOKENS_LIMIT: Final = 32_768
#: Under a budget, the reply limit of a call whose step sets no max_tokens.
BUDGET_REPLY_TOKENS: Final = 4096
#: The shortest reply worth a call when a budget is nearly spent.
MIN_REPLY_TOKENS: Final = 256
#: Tokens a chat template adds per message, beside its text.
MESSAGE_OVERHEAD: Final = 4
#: The longest rejection quoted in a re-ask, in characters.
REASK_ERROR_CHARS: Final = 80
#: Follow-ups that ask for the missing rows of a table cut short, at most per
#: reply (each must add a row, or the step fails).
MAX_SALVAGE_ROUNDS: Final = 8


class _Stopped(Exception):
    """The run is stopping: this call or step does not start (or is cut short)."""


class _Deferred(Exception):
    """This call goes in the run's batch job: its step waits for the job."""


class _Upstream(Exception):
    """A step this one needs did not finish."""


class SalvageError(StepError):
    """A table cut short that follow-ups could not complete: ``declared`` rows
    in its header, ``found`` complete ones when the step gave up."""

    def __init__(self, message: str, *, declared: int, found: int) -> None:
        super().__init__(message)
        self.declared = declared
        self.found = found


@dataclass
class StepStats:
    state: str = "pending"  # pending, running, done, failed, skipped, cancelled, batched
    calls: int = 0
    batch_calls: int = 0  # of the calls: replies a batch job returned (batch prices)
    batch_cost_usd: float | None = None  # their cost, in cost_usd too
    cache_hits: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None  # None: no call with a known price
    reasks: int = 0
    salvages: int = 0  # follow-ups that asked for the missing rows of a table cut short
    retries: int = 0
    rejected: int = 0
    items: int = 0  # foreach items (or batches) in all
    items_done: int = 0
    seconds: float = 0.0
    fingerprint: str = ""
    error: str | None = None
    item: str | None = None  # the foreach item that failed: "3 (\"short value\")"

    def count_call(self, reply: Reply, cost: float | None, *, batch: bool = False) -> None:
        """One answered call: its tokens and cost (``batch``: a reply a batch job
        returned, at batch prices, counted in ``batch_*`` too)."""
        self.calls += 1
        self.prompt_tokens += reply.prompt_tokens
        self.completion_tokens += reply.completion_tokens
        self.cached_tokens += reply.cached_tokens
        if cost is not None:
            self.cost_usd = (self.cost_usd or 0.0) + cost
        if batch:
            self.batch_calls += 1
            if cost is not None:
                self.batch_cost_usd = (self.batch_cost_usd or 0.0) + cost


@dataclass
class RunState:
    pipeline: str
    steps: dict[str, StepStats] = field(default_factory=dict)
    status: str = "running"  # running, done, failed, stopped, batched (waits for a job)
    error: str | None = None
    failed_step: str | None = None


@dataclass(frozen=True)
class Item:
    """Which foreach item (or batch) a call serves, for messages and file names."""

    index: int
    value: Any

    def __str__(self) -> str:
        return f"item {self.index} ({short(self.value)})"


def short(value: Any, width: int = 40) -> str:
    """A value in one short line: JSON, cut with '...'."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:
        text = type(value).__name__
    return text if len(text) <= width else text[:width - 3] + "..."


def call_key(provider: str, base_url: str, model: str, params: dict[str, Any],
             messages: list[dict[str, str]], sample: int, structured: str = "off") -> str:
    """The cache key: everything that changes the answer, as canonical JSON."""
    what = {"provider": provider, "base_url": base_url, "model": model, "params": params,
            "messages": messages, "sample": sample}
    if structured != "off":
        what["structured"] = structured
    canonical = json.dumps(what, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "llm:" + hashlib.sha256(canonical.encode()).hexdigest()


def _limit_name(model: str) -> str:
    """The parameter that bounds a reply for ``model``: OpenAI's reasoning models
    and GPT-5 refuse ``max_tokens``."""
    return "max_completion_tokens" if model.startswith(("o1", "o3", "o4", "gpt-5")) \
        else "max_tokens"


def _max_tokens(params: dict[str, Any]) -> tuple[str, int | None]:
    """The parameter that bounds a reply's length, and its value if set."""
    for name in ("max_completion_tokens", "max_tokens"):
        v = params.get(name)
        if isinstance(v, int) and not isinstance(v, bool):
            return name, v
    return "max_tokens", None


def _lock_folder(run_dir: Path) -> int | None:
    """Hold ``run_dir`` for this run (an exclusive ``flock`` on the folder itself,
    which the system drops when the process ends, kill -9 too): two runs of one
    folder would send the same calls twice (two batch jobs, one of them never
    recorded) and overwrite each other's state. ToolError (exit 2) while another
    run holds it; None where there is no ``flock`` (Windows: no lock)."""
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ToolError("another run is using this run folder; wait for it to end, or give "
                        "another --run-dir", path=str(run_dir)) from None
    return fd


class Runner:
    """One run of a pipeline (a Runner runs once).

    ``cache`` None calls the model every time; ``read_cache`` False calls the
    model every time but still stores what it accepts (``--no-cache``);
    ``count_tokens`` counts a prompt for the budget (default: a quarter of its
    length); ``progress`` is told of every call's start and end.
    """

    def __init__(self, pipeline: Pipeline, inputs: dict[str, Any], provider: Provider, *,
                 cache: ReplyCache | None, run_dir: Path, jobs: int = 8,
                 budget_tokens: int | None = None, budget_usd: float | None = None,
                 prices: PriceTable | None = None, read_cache: bool = True,
                 count_tokens: Callable[[str], int] | None = None,
                 progress: Callable[[RunState, int], None] | None = None,
                 grace: float = GRACE, salvage: bool = True, batch: bool = False,
                 batch_fallback: str = "batch") -> None:
        pipeline.check_inputs(inputs)
        self.pipeline = pipeline
        self.inputs = inputs
        self.provider = provider
        self.cache = cache
        self.read_cache = read_cache
        self.run_dir = run_dir
        self.jobs = jobs
        self.budget = budget_tokens
        self.budget_usd = budget_usd
        self.prices = prices or PriceTable(pipeline.prices)
        self.count = count_tokens or (lambda s: len(s) // 4)
        self.progress = progress
        self.grace = grace
        #: Continue a table cut short with its missing rows (else ask it all again).
        self.salvage = salvage
        self.used_tokens = 0  # settled: what answered calls consumed
        self.used_usd = 0.0
        self._reserved_tokens = 0  # held by calls in flight
        self._reserved_usd = 0.0
        self._longest_reply = 0
        self.in_flight = 0
        self.state = RunState(pipeline.name, {s: StepStats() for s in pipeline.steps})
        self.artifacts: dict[str, Any] = {}
        if budget_usd is not None:
            self._check_prices()
        # asyncio primitives bind to the running loop on first use, not here.
        self._events: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._money = asyncio.Condition()
        self._sem = asyncio.Semaphore(jobs)
        # Threads for the blocking HTTP calls (one per slot), plus a few for file
        # and cache writes; started lazily.
        self._pool = ThreadPoolExecutor(max_workers=jobs + 4, thread_name_prefix="toon-llm")
        # Cache lookups apart: with a shared cache, a lookup waits while another
        # machine holds the call's lease. In ``_pool`` such waits would fill it and
        # this run's own leased calls would queue behind them (two machines: a
        # deadlock until the wait limit, then duplicate calls).
        self._lookups = ThreadPoolExecutor(max_workers=max(32, 4 * jobs),
                                           thread_name_prefix="toon-cache")
        # Per foreach step that another streams from: the futures of its items.
        self._streams: dict[str, asyncio.Future[list[asyncio.Future[Any]]]] = {}
        self._done: dict[str, asyncio.Future[bool]] = {}
        self._controls: set[CallControl] = set()
        self._pending: dict[str, asyncio.Future[Any]] = {}  # calls in flight, by cache key
        self._stopping = False
        self._abort_task: asyncio.Task[None] | None = None
        self._started = False
        #: Send the calls a run would make as one batch job (see the module's doc).
        self.batch = batch
        #: Re-asks and follow-ups: "batch" (the next job) or "direct".
        self.batch_fallback = batch_fallback
        #: The one line a run that waits for a batch job ends with.
        self.batch_line: str | None = None
        #: What the caller should tell the user (results that no longer match).
        self.notes: list[str] = []
        self._client: BatchClient | None = None
        self._records: list[BatchRecord] = []
        self._results: dict[str, Reply] = {}  # by custom_id, from collected jobs
        self._errors: dict[str, str] = {}
        self._jobs_of: dict[str, int] = {}  # custom_id -> jobs it went in
        self._held: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}  # the next job
        self._fresh: dict[str, dict[str, Any]] = {}  # collected by this run
        self._collected_keys: set[str] = set()  # cached by this run's collection
        self._asked_keys: set[str] = set()
        self._replayed: set[str] = set()
        self._waiting = False

    def _check_prices(self) -> None:
        if self.provider.name == "offline":
            return
        for step in self.pipeline.steps.values():
            model = self.pipeline.model_of(step)
            if step.prompt is not None and self.prices.price(model) is None:
                raise ToolError(f"--budget-usd: no price for model '{model}' (give one in "
                                "[tool.toon.pipeline.prices] or the pipeline's 'prices')")

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
                fh.write(json.dumps(ev, ensure_ascii=False, default=str) + "\n")
                fh.flush()

    def state_dict(self) -> dict[str, Any]:
        """The run's state as ``state.json`` holds it (and ``--json`` prints it)."""
        return {"pipeline": self.state.pipeline, "status": self.state.status,
                "error": self.state.error, "failed_step": self.state.failed_step,
                "used_tokens": self.used_tokens, "used_usd": round(self.used_usd, 6),
                "inputs": self.inputs,
                "steps": {k: asdict(v) for k, v in self.state.steps.items()},
                "batch": self.batch_line,
                "batches": [r.to_dict() for r in self._records]}

    def save_state(self) -> None:
        atomic_write(self.run_dir / "state.json", json.dumps(self.state_dict(), indent=2) + "\n")

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
        folder = _lock_folder(self.run_dir)
        try:
            self._records = load_records(self.run_dir / "state.json")
            if self._records or self.batch:
                self._open_batches()
            try:
                asyncio.run(self._run())
            finally:
                self._pool.shutdown(wait=True)
                self._lookups.shutdown(wait=True)
            if self.state.status == "batched" and self._held:
                self._submit()
        finally:
            if folder is not None:
                os.close(folder)  # the lock goes with it
        return self.state

    # ------------------------------------------------------------ batch jobs

    def _batches(self) -> BatchClient:
        if self._client is None:
            self._client = batch_client(self.provider)
        return self._client

    def _open_batches(self) -> None:
        """Poll the jobs state.json records and collect the finished ones; a job
        still running makes this run wait (it runs no step)."""
        here = (self.provider.name, self.provider.base_url)
        for record in self._records:
            if (record.provider, record.base_url) != here and not record.collected:
                raise ToolError(f"{self.run_dir / 'state.json'} records batch job {record.id} "
                                f"at {record.provider} {record.base_url}: run with that "
                                "provider to collect it")
        # Replies a job of another provider returned answer none of this one's calls.
        self._records = [r for r in self._records if (r.provider, r.base_url) == here]
        if not self._records and not self.batch:
            return
        client = self._batches()
        folder = self.run_dir / "batches"
        running = []
        for record in self._records:
            for cid in record.calls:
                self._jobs_of[cid] = self._jobs_of.get(cid, 0) + 1
            if record.collected:
                self._remember(load_outcome(folder / f"{record.id}.outcome.json"))
                continue
            progress = client.poll(record.id)
            record.status, record.done = progress.status, progress.done
            self.event("batch_poll", batch=record.id, status=progress.status,
                       done=progress.done, total=progress.total)
            if not progress.ended:
                running.append(f"{record.id} {describe(progress)}")
                continue
            folder.mkdir(exist_ok=True)
            outcome = client.collect(record.id, folder)
            atomic_write(folder / f"{record.id}.outcome.json", json.dumps({
                "replies": {k: asdict(v) for k, v in outcome.replies.items()},
                "errors": outcome.errors}) + "\n")
            record.collected = True
            # Missing from both files (a job that failed as a whole): an error.
            for cid in record.calls:
                if cid not in outcome.replies and cid not in outcome.errors:
                    outcome.errors[cid] = f"no result (the job ended {progress.status})"
            self._remember(outcome)
            self.event("batch_collect", batch=record.id, status=progress.status,
                       replies=len(outcome.replies), errors=len(outcome.errors))
            self._accept_collected(record, outcome)
        if running:
            self._waiting = True
            self.state.status = "batched"
            self.batch_line = "; ".join(running) + "; run again to collect"

    def _remember(self, outcome: Outcome) -> None:
        self._results.update(outcome.replies)
        for cid, reason in outcome.errors.items():
            if cid not in self._results:
                self._errors[cid] = reason

    def _accept_collected(self, record: BatchRecord, outcome: Outcome) -> None:
        """Count what a job returned at batch prices, and cache every reply that
        reads as accepted under its call's key now (paid for: never lost, even if
        this run stops before it reaches the call, or the step changed since)."""
        for cid, reply in outcome.replies.items():
            meta = record.calls.get(cid)
            if meta is None:
                continue
            self._fresh[cid] = meta
            if not reply.prompt_tokens:
                reply.prompt_tokens = int(meta.get("estimate") or 0)
            self.used_tokens += reply.prompt_tokens + reply.completion_tokens
            price = self._price(str(meta.get("model")), batch=True)
            cost = None
            if price is not None:
                cost = price.cost(reply.prompt_tokens, reply.completion_tokens,
                                  reply.cached_tokens, reply.cache_write_tokens)
                self.used_usd += cost
            step = self.pipeline.steps.get(str(meta.get("step")))
            stats = self.state.steps.get(str(meta.get("step")))
            if stats is not None:
                stats.count_call(reply, cost, batch=True)
            if step is None or meta.get("salvage") is not None or self.cache is None:
                continue  # a follow-up's rows are merged by the run that asked them
            try:
                self._read(step, reply.content, reply.finish_reason, None, None)
            except RejectedReply:
                continue  # read again, and re-asked, by the run that reaches it
            key = str(meta["key"])
            self.cache.set(key, {"content": reply.content, "prompt_tokens": reply.prompt_tokens,
                                 "completion_tokens": reply.completion_tokens,
                                 "cached_tokens": reply.cached_tokens,
                                 "finish_reason": reply.finish_reason,
                                 "attempts": int(meta.get("attempt") or 1),
                                 "salvage_rounds": 0})
            self._collected_keys.add(key)

    def _submit(self) -> None:
        """Send the held calls as one job and record it; a job that cannot be
        started fails the run (nothing was sent for it to answer)."""
        lines = [(cid, body) for cid, (body, _) in self._held.items()]
        try:
            batch_id = self._batches().submit(lines)
        except ProviderError as e:
            self.state.status, self.state.error = "failed", f"batch job not started: {e}"
            self.batch_line = None
        else:
            self._records.append(new_record(self.provider.name, self.provider.base_url,
                                            batch_id, {c: m for c, (_, m) in self._held.items()}))
            n = len(lines)
            self.batch_line = (f"submitted {n} call{'s' if n != 1 else ''} as {batch_id}; "
                               "run again to collect")
            with open(self.run_dir / "events.jsonl", "a", encoding="utf-8") as fh:
                fh.write(json.dumps({"t": round(time.time(), 3), "event": "batch_submit",
                                     "batch": batch_id, "calls": n}) + "\n")
        self.save_state()

    def _unmatched(self) -> None:
        """Say which collected replies no call of this run asked for: their step
        changed (or went) since the job was sent."""
        gone: dict[str, int] = {}
        for cid, meta in self._fresh.items():
            sid = str(meta.get("step"))
            stats = self.state.steps.get(sid)
            reached = stats is not None and stats.state not in ("pending", "skipped")
            if cid in self._replayed or str(meta.get("key")) in self._asked_keys:
                continue
            if stats is None or reached:
                gone[sid] = gone.get(sid, 0) + 1
        for sid, n in gone.items():
            what = "is gone" if sid not in self.state.steps else "changed"
            note = (f"{n} batch {'replies' if n != 1 else 'reply'} of step '{sid}' no longer "
                    f"match{'es' if n == 1 else ''} the pipeline (the step {what} since the job was sent): not used; "
                    "accepted ones stay cached under their old keys")
            self.notes.append(note)
            self.event("warning", step=sid, message=note)

    def stop(self, status: str, reason: str, step: str | None = None) -> None:
        """Stop the run: no new calls; calls in flight get ``grace`` seconds, then
        are aborted. The first reason is the run's."""
        if self._stopping:
            return
        self._stopping = True
        self.state.status, self.state.error, self.state.failed_step = status, reason, step
        # A lookup waiting on another machine's call would hold the run up to
        # the shared cache's wait limit (10 min); no call starts now anyway.
        stop_waiting = getattr(self.cache, "stop_waiting", None)
        if stop_waiting is not None:
            stop_waiting()
        self.event("stop", status=status, reason=reason, step=step,
                   in_flight=len(self._controls))
        for control in self._controls:
            control.drain()  # calls in flight may answer, but start no retry
        self._abort_task = asyncio.get_running_loop().create_task(self._abort_after(self.grace))
        try:
            self.save_state()
        except OSError as e:  # a full disk must not keep the stop from happening
            self.event("warning", message=f"state.json not written: {e}")

        async def wake() -> None:
            async with self._money:
                self._money.notify_all()

        asyncio.get_running_loop().create_task(wake())

    async def _abort_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self.abort()

    def abort(self) -> None:
        """End every call in flight now (their answers are lost, never resent)."""
        for control in list(self._controls):
            control.stop()

    def _on_signal(self, name: str) -> None:
        if self._stopping:
            self.event("abort", signal=name)
            self.abort()  # a second Ctrl-C does not wait for the grace period
        else:
            self.stop("stopped", f"interrupted by {name}")

    async def _run(self) -> RunState:
        writer = asyncio.create_task(self._writer())
        loop = asyncio.get_running_loop()
        steps = self.pipeline.steps
        self._done.update({s: loop.create_future() for s in steps})
        self._streams.update({s.id: loop.create_future() for s in steps.values()
                              if any(self._streams_from(d) == s.id for d in steps.values())})
        handled = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal, sig.name)
                handled.append(sig)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        self.save_state()
        self.event("run_start", pipeline=self.pipeline.name, provider=self.provider.name)
        try:
            if not self._waiting:
                await asyncio.gather(*(self._step(steps[s]) for s in steps))
            if self._waiting:
                pass
            elif all(s.state == "done" for s in self.state.steps.values()):
                # Every step finished, even if a stop came while the last calls answered.
                self.state.status, self.state.error, self.state.failed_step = "done", None, None
            elif self._held and not self._stopping:
                self.state.status = "batched"
            if not self._waiting:
                self._unmatched()
        finally:
            for sig in handled:
                loop.remove_signal_handler(sig)
            if self._abort_task is not None:
                self._abort_task.cancel()
            self.save_state()
            self.event("run_end", status=self.state.status, error=self.state.error,
                       used_tokens=self.used_tokens, used_usd=round(self.used_usd, 6))
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
        """Run one step; never raises: a failure is recorded and stops the run."""
        streamed = self._streams_from(step)
        stats = self.state.steps[step.id]
        finished = False
        mine: list[asyncio.Future[Any]] = []
        started = time.monotonic()
        try:
            for need in step.needs:
                if need != streamed and not await self._done[need]:
                    raise _Upstream()
            if streamed is not None:
                await self._streams[streamed]  # the upstream step has begun its items
            if self._stopping:
                raise _Upstream()
            stats.state = "running"
            started = time.monotonic()
            stats.fingerprint = fingerprint(self.pipeline, step)
            self.event("step_start", step=step.id)
            self._warn_strict(step)
            self.save_state()
            value = await self._compute(step, streamed, mine)
            self.artifacts[step.id] = value
            await asyncio.get_running_loop().run_in_executor(
                self._pool, self._write_artifact, step.id, value)
            stats.state = "done"
            finished = True
        except _Deferred:
            stats.state = "batched"
        except _Upstream:
            stats.state = "skipped" if stats.state == "pending" else "cancelled"
        except (_Stopped, CallCancelled):
            stats.state = "cancelled"
        except Exception as e:  # a provider error, a step error, a python step's own
            stats.state = "failed"
            stats.error = _message(e)
            where = getattr(e, "item", None)
            stats.item = str(where) if where is not None else None
            self.stop("failed", self._reason(step, e), step.id)
        finally:
            if not finished:
                for fut in [self._streams.get(step.id), *mine]:
                    if fut is not None and not fut.done():
                        fut.set_exception(_Upstream())
                        fut.add_done_callback(lambda f: f.exception())
            stats.seconds = round(time.monotonic() - started, 3) if stats.state != "skipped" else 0.0
            self._done[step.id].set_result(finished)
            self.event("step_end", step=step.id, state=stats.state, calls=stats.calls,
                       cache_hits=stats.cache_hits, error=stats.error, item=stats.item)
            self.save_state()

    @staticmethod
    def _reason(step: Step, e: BaseException) -> str:
        where = getattr(e, "item", None)
        return f"step '{step.id}'" + (f", {where}" if where is not None else "") + f": {_message(e)}"

    async def _compute(self, step: Step, streamed: str | None,
                       mine: list[asyncio.Future[Any]]) -> Any:
        scope = {"inputs": self.inputs,
                 **{n: self.artifacts[n] for n in step.needs if n != streamed}}
        if step.python is not None:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, _call_python, step.python, scope)
        if step.foreach is not None and self._streamable(step):
            return await self._foreach_items(step, scope, streamed, mine)
        if step.foreach is not None:
            items = self._items(step, scope)
            batches = [items[i:i + step.batch] for i in range(0, len(items), step.batch)]
            stats = self.state.steps[step.id]
            stats.items = len(batches)

            async def batch_call(i: int, b: list[Any]) -> Any:
                result = await self._ask(step, {**scope, "item": b[0], "items": b},
                                         Item(i, b if step.batch > 1 else b[0]))
                stats.items_done += 1
                return result

            results = await _all(batch_call(i, b) for i, b in enumerate(batches))
            return [r for b, r in zip(batches, results)
                    for r in (r if step.batch > 1 and isinstance(r, list) else [r])]
        return await self._ask(step, scope, None)

    def _items(self, step: Step, scope: dict[str, Any]) -> list[Any]:
        assert step.foreach is not None
        items = lookup(scope, step.foreach)
        if not isinstance(items, list):
            raise StepError(f"foreach '{step.foreach}' is not an array but "
                            f"{type(items).__name__}")
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
            result = await self._ask(step, {**scope, "item": item, "items": [item]},
                                     Item(i, item))
            stats.items_done += 1
            if mine:
                mine[i].set_result(result)
            return result

        return await _all(one(i, src) for i, src in enumerate(sources))

    def _write_artifact(self, step_id: str, value: Any) -> None:
        from ..convert.twin_render import to_markdown

        text = encode(value)
        atomic_write(self.run_dir / f"{step_id}.toon", text + "\n")
        data = (text + "\n").encode()
        atomic_write(self.run_dir / f"{step_id}.md", to_markdown(value, f"{step_id}.toon", data))

    # ------------------------------------------------------------ prompts

    def _instruction(self, step: Step, reask: bool = False) -> str:
        """What the prompt ends with: the reply's skeleton, in the step's mode. A
        re-ask gives the general quoting hint's room to the concrete error, so it
        costs about what the first ask did."""
        shape = self._shape(step)
        if shape is None:
            return ""
        if self._mode(step) == "json-schema":
            return shape.json_skeleton()
        return shape.skeleton(quoting=not reask)

    def messages(self, step: Step, scope: dict[str, Any], error: str | None = None,
                 instead: str | None = None) -> tuple[list[dict[str, str]], int]:
        """The messages of a call, and how many leading characters of the user
        message every call of the step shares (for prompt caching). ``error``
        makes the re-ask: the same prompt with the rejection said before the
        skeleton, never the rejected reply itself. ``instead`` replaces the
        skeleton (a salvage's request for the missing rows)."""
        assert step.prompt is not None
        msgs = []
        if step.system:
            msgs.append({"role": "system", "content": render(step.system, scope)})
        prompt = render(step.prompt, scope)
        first = VARIABLE.search(step.prompt)
        shared = len(step.prompt[:first.start()]) if first else len(prompt)
        tail = self._instruction(step, reask=error is not None) if instead is None else instead
        if error is not None:
            # One line per failing field (the reader caps how many), each cut short.
            lines = [x if len(x) <= REASK_ERROR_CHARS else x[:REASK_ERROR_CHARS - 3] + "..."
                     for x in error.split("\n")]
            said = lines[0] if len(lines) == 1 else "\n" + "\n".join(lines)
            tail = f"Your last reply was rejected: {said}\n{tail}".rstrip()
        if tail:
            prompt += "\n\n" + tail
        msgs.append({"role": "user", "content": prompt})
        return msgs, shared

    # ------------------------------------------------------------ asking

    async def _ask(self, step: Step, scope: dict[str, Any], item: Item | None) -> Any:
        try:
            if step.samples == 1:
                return await self._ask_sample(step, scope, 0, item)
            return await _all(self._ask_sample(step, scope, i, item)
                              for i in range(step.samples))
        except (StepError, ProviderError) as e:
            if item is not None and getattr(e, "item", None) is None:
                setattr(e, "item", item)
            # The first failure stops new calls at once, not when its siblings end.
            self.stop("failed", self._reason(step, e), step.id)
            raise

    def _warn_strict(self, step: Step) -> None:
        """Under json-schema, say once per step what the strict schema sent leaves
        out of the contract (the reply is still checked against all of it)."""
        shape = self._shape(step)
        if shape is None or step.prompt is None or self._mode(step) != "json-schema":
            return
        lost = shape.strict_losses()
        if lost:
            more = f" and {len(lost) - 5} more" if len(lost) > 5 else ""
            self.event("warning", step=step.id, message="json-schema: the strict schema sent "
                       f"leaves out {', '.join(lost[:5])}{more}; replies are still checked "
                       "against them")

    def _mode(self, step: Step) -> str:
        return self.pipeline.structured_of(step)

    def _shape(self, step: Step) -> OutputShape | None:
        """The shape a reply is asked in: the step's own; for a step that declares
        none, under json-schema, one text field (its text becomes the artifact),
        since a schema is what holds a model to an answer that ends."""
        if step.shape is None and self._mode(step) == "json-schema":
            return TEXT_SHAPE
        return step.shape

    def _request(self, step: Step, messages: list[dict[str, str]], params: dict[str, Any],
                 shared: int) -> Request:
        mode, shape = self._mode(step), self._shape(step)
        grammar = None
        if mode == "toon-grammar":  # a step without a shape: a text of bounded length
            grammar = shape.gbnf() if shape is not None else text_gbnf()
        return Request(
            model=self.pipeline.model_of(step), messages=messages, params=params,
            response_format=shape.response_format(step.id)
            if shape is not None and mode == "json-schema" else None,
            grammar=grammar, timeout=self.pipeline.timeout_of(step), cacheable_prefix=shared,
            shape=shape)

    async def _ask_sample(self, step: Step, scope: dict[str, Any], sample: int,
                          item: Item | None) -> Any:
        stats = self.state.steps[step.id]
        messages, shared = self.messages(step, scope)
        params = {**self.pipeline.params, **step.params}
        request = self._request(step, messages, params, shared)
        mode = self._mode(step)
        key = call_key(self.provider.name, self.provider.base_url, request.model, params,
                       messages, sample, mode)
        loop = asyncio.get_running_loop()
        self._asked_keys.add(key)
        leased = False  # a shared cache's lease on this call is ours: release it on failure
        if self.cache is not None and self.read_cache:
            # A call bound for a batch job never takes the shared cache's lease (a
            # job may take hours); peek until every cache has it.
            lookup = getattr(self.cache, "peek", self.cache.get) if self.batch \
                else self.cache.get
            # In a thread: an SQLite read would otherwise stall every call's progress;
            # not in ``_pool``, where a wait for another machine would starve calls.
            hit = await loop.run_in_executor(self._lookups, lookup, key)
            leased = hit is None and not self.batch
            if hit is not None:
                try:
                    value = self._read(step, str(hit["content"]), "stop", item, None)
                except RejectedReply:
                    pass  # an older version's record: ask again
                else:
                    if key not in self._collected_keys:  # else counted as a batch call
                        stats.cache_hits += 1
                        stats.prompt_tokens += int(hit.get("prompt_tokens", 0))
                        stats.completion_tokens += int(hit.get("completion_tokens", 0))
                    return value
        same = self._pending.get(key)
        if same is not None:  # the very same call is in flight (equal items): share it
            value = await same
            stats.cache_hits += 1
            return value
        answer: asyncio.Future[Any] = loop.create_future()
        answer.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._pending[key] = answer
        try:
            value = await self._answer(step, scope, sample, item, key, request)
        except BaseException as e:
            answer.set_exception(e if isinstance(e, Exception) else _Stopped())
            release = getattr(self.cache, "release", None) if leased else None
            if release is not None:  # no reply stored: another machine need not wait
                await loop.run_in_executor(self._pool, release, key)
            raise
        else:
            answer.set_result(value)
            return value
        finally:
            del self._pending[key]

    async def _answer(self, step: Step, scope: dict[str, Any], sample: int, item: Item | None,
                      key: str, request: Request) -> Any:
        """Ask until a reply is accepted (or the tries run out); cache what is."""
        stats = self.state.steps[step.id]
        last = ""
        for attempt in range(1, step.max_reasks + 2):
            if self._stopping:
                raise _Stopped()
            # The slot is held until an accepted answer is durable, so a run killed
            # with kill -9 repeats at most --jobs calls when it resumes.
            async with self._sem:
                reply = await self._call(step, request, item, attempt, key=key, sample=sample)
                replies = [reply]  # this try's calls: the reply, then any follow-ups
                content, part = reply.content, ""
                kept = False  # the reply is in rejected/ already (a salvage that gave up)
                try:
                    try:
                        value = self._read(step, reply.content, reply.finish_reason, item, attempt)
                    except RejectedReply as e:
                        partial = e.partial if self._salvages(step) else None
                        if partial is None:
                            raise
                        self._keep_rejected(step, item, sample, attempt, reply.content,
                                            e.for_model())
                        kept = True
                        try:
                            merged = await self._salvage(step, scope, sample, item, attempt,
                                                         request, partial, replies, key=key)
                        except SalvageError as failed:
                            if attempt > step.max_reasks:
                                raise
                            # A re-ask remains: the reply is asked again as it would
                            # be with salvage off (its rows paid for are not kept).
                            self.event("warning", step=step.id,
                                       item=item.index if item else None, attempt=attempt,
                                       message=f"{failed}; asking again")
                            raise e from None
                        content, part, kept = merged, ".merged", False
                        value = self._read(step, content, "stop", item, attempt)
                except TruncatedReply as e:
                    last = str(e)
                    if not kept:
                        self._keep_rejected(step, item, sample, attempt, reply.content, last)
                    name, limit = _max_tokens(request.params)
                    name = name if limit is not None else _limit_name(request.model)
                    larger = min(2 * (limit or max(reply.completion_tokens, 128)), MAX_TOKENS_LIMIT)
                    if limit is not None and limit >= MAX_TOKENS_LIMIT:
                        raise StepError(f"the reply was cut off at {name} {limit:,} "
                                        f"(the limit is {MAX_TOKENS_LIMIT:,})") from None
                    request = replace(request, params={**request.params, name: larger})
                except RejectedReply as e:
                    # The re-ask tells each failing field on its own line; the
                    # step's error (state, events, the run's last line) is one line.
                    last = e.summary()
                    if not kept:
                        self._keep_rejected(step, item, sample, attempt, content, last, part)
                    reask, _ = self.messages(step, scope, error=e.for_model())
                    request = replace(request, messages=reask)
                else:
                    if self.cache is not None:
                        # A salvaged reply is stored merged, with every call it took.
                        record: CachedReply = {
                            "content": content,
                            "prompt_tokens": sum(r.prompt_tokens for r in replies),
                            "completion_tokens": sum(r.completion_tokens for r in replies),
                            "cached_tokens": sum(r.cached_tokens for r in replies),
                            "finish_reason": replies[-1].finish_reason, "attempts": attempt,
                            "salvage_rounds": len(replies) - 1}
                        # Durable before the call counts as done; in the pool, since an
                        # SQLite commit would otherwise stall every other call's progress.
                        await asyncio.get_running_loop().run_in_executor(
                            self._pool, self.cache.set, key, record)
                    return value
            if attempt <= step.max_reasks:
                stats.reasks += 1
        raise StepError(f"no valid reply after {step.max_reasks + 1} tries: {last}")

    def _salvages(self, step: Step) -> bool:
        """Whether a table cut short is continued: a TOON reply (json-schema's
        reply is one JSON object, which a follow-up of rows cannot continue)."""
        return self.salvage and self._mode(step) != "json-schema" and step.shape is not None

    async def _salvage(self, step: Step, scope: dict[str, Any], sample: int, item: Item | None,
                       attempt: int, request: Request, partial: Partial,
                       replies: list[Reply], key: str = "") -> str:
        """Ask for the rows of ``partial``'s table still missing until they are all
        there: the merged reply's text. Each round is a call (appended to
        ``replies``) and a ``salvage`` event; a round that adds no row, or
        MAX_SALVAGE_ROUNDS of them, ends the salvage (SalvageError): the reply
        is then re-asked as with salvage off while re-asks remain, and the step
        fails with it only when none do."""
        shape = step.shape
        assert shape is not None
        stats = self.state.steps[step.id]
        rows = list(partial.rows)
        declared = partial.declared
        for round_ in range(1, MAX_SALVAGE_ROUNDS + 1):
            asked = (len(rows) + 1, declared)
            ask = self._salvage_request(step, scope, request, partial, rows)
            reply = await self._call(step, ask, item, attempt, salvage=round_, key=key,
                                     sample=sample)
            replies.append(reply)
            stats.salvages += 1
            got, warnings = read_rows(reply.content, shape, partial, rows,
                                      finish_reason=reply.finish_reason)
            for warning in warnings:
                self.event("warning", step=step.id, item=item.index if item else None,
                           attempt=attempt, message=warning)
            self.event("salvage", step=step.id, item=item.index if item else None,
                       attempt=attempt, round=round_, field=partial.key, rows=list(asked),
                       of=declared, received=len(got), finish_reason=reply.finish_reason)
            if len(got) < asked[1] - asked[0] + 1:
                self._keep_rejected(step, item, sample, attempt, reply.content,
                                    f"{len(got)} of rows {asked[0]}-{asked[1]} came back whole",
                                    f".s{round_}")
            rows += got
            if len(rows) >= declared:
                return merge_rows(partial, rows)
            if not got:
                break
        raise SalvageError(
            f"the reply was cut short in {partial.key}: declared {declared} rows, found "
            f"{len(rows)} after {round_} {'follow-up' if round_ == 1 else 'follow-ups'}"
            + (" (the last added none)" if not got else ""), declared=declared, found=len(rows))

    def _salvage_request(self, step: Step, scope: dict[str, Any], request: Request,
                         partial: Partial, rows: list[dict[str, Any]]) -> Request:
        """The follow-up for the missing rows: the step's prompt, then what is
        missing instead of the whole skeleton; under toon-grammar, the grammar of
        those rows alone. The step's parameters (max_tokens too) are kept."""
        assert step.shape is not None
        messages, _ = self.messages(step, scope,
                                    instead=salvage_prompt(step.shape, partial, rows))
        grammar = None
        if self._mode(step) == "toon-grammar":
            try:
                grammar = rows_shape(step.shape, partial.key,
                                     partial.declared - len(rows)).gbnf()
            except ContractError:  # the whole contract's grammar held it: not expected
                grammar = request.grammar
        return replace(request, messages=messages, grammar=grammar,
                       shape=rows_shape(step.shape, partial.key, partial.declared - len(rows)))

    def _read(self, step: Step, content: str, finish_reason: str | None, item: Item | None,
              attempt: int | None) -> Any:
        """The artifact a reply makes: its text, or the value of the declared shape."""
        shape = self._shape(step)
        if shape is None:
            if finish_reason == "length":
                raise TruncatedReply("the reply was cut off (finish_reason: length)")
            return content.strip()
        accepted = read_reply(content, shape, finish_reason=finish_reason)
        for warning in accepted.warnings:
            self.event("warning", step=step.id, item=item.index if item else None,
                       attempt=attempt, message=warning)
        return accepted.value["text"] if shape is TEXT_SHAPE else accepted.value

    def _keep_rejected(self, step: Step, item: Item | None, sample: int, attempt: int,
                       content: str, error: str, part: str = "") -> None:
        """A rejected reply is kept for inspection and named in the events;
        ``part`` names a salvage's follow-up (``.s2``) or merged reply (``.merged``)."""
        stats = self.state.steps[step.id]
        stats.rejected += 1
        name = f"{step.id}-{item.index if item else 0}"
        name += f".{sample}" if step.samples > 1 else ""
        path = self.run_dir / "rejected" / f"{name}-{attempt}{part}.txt"
        path.parent.mkdir(exist_ok=True)
        atomic_write(path, content)
        self.event("rejected", step=step.id, item=item.index if item else None, sample=sample,
                   attempt=attempt, file=str(path.relative_to(self.run_dir)), error=error)

    # ------------------------------------------------------------ one model call

    def _price(self, model: str, batch: bool = False) -> Price | None:
        """The model's price (in a batch job: the batch price); none for the
        offline provider, which bills nothing."""
        price = None if self.provider.name == "offline" else self.prices.price(model)
        return price.batch() if price is not None and batch else price

    def _prompt_estimate(self, request: Request) -> int:
        return sum(self.count(m["content"]) + MESSAGE_OVERHEAD for m in request.messages)

    def _hold(self, model: str, prompt: int, reply: int,
              batch: bool = False) -> tuple[int, float]:
        price = self._price(model, batch)
        return prompt + reply, price.cost(prompt, reply) if price is not None else 0.0

    def _fits(self, held: tuple[int, float]) -> bool:
        return self._fits_tokens(held[0]) and self._fits_usd(held[1])

    def _fits_tokens(self, tokens: int) -> bool:
        return self.budget is None or self.used_tokens + self._reserved_tokens + tokens <= self.budget

    def _fits_usd(self, usd: float) -> bool:
        return (self.budget_usd is None
                or self.used_usd + self._reserved_usd + usd <= self.budget_usd + 1e-12)

    def _reply_room(self, model: str, prompt: int, batch: bool = False) -> int:
        """The longest reply that still fits both budgets after ``prompt``."""
        room = float("inf")
        if self.budget is not None:
            room = self.budget - self.used_tokens - self._reserved_tokens - prompt
        price = self._price(model, batch)
        if self.budget_usd is not None and price is not None and price.output > 0:
            dollars = self.budget_usd - self.used_usd - self._reserved_usd - price.cost(prompt, 0)
            room = min(room, dollars / price.output * 1_000_000)
        return int(room) if room != float("inf") else BUDGET_REPLY_TOKENS

    async def _reserve(self, step: Step, item: Item | None, request: Request,
                       batch: bool = False) -> tuple[Request, tuple[int, float]]:
        """Hold this call's prompt and reply against the budgets, once its slot is
        held; wait while calls in flight may settle below their reservations;
        stop the run when nothing is in flight and it still does not fit.

        Under a budget, a call that sets no max_tokens is sent with the reply
        allowance it reserved as its limit, so calls in flight can never spend
        more than was reserved; at the end of a budget the allowance shrinks to
        what is left (at least MIN_REPLY_TOKENS)."""
        prompt = self._prompt_estimate(request)
        _, limit = _max_tokens(request.params)
        budgeted = self.budget is not None or self.budget_usd is not None
        imposed = limit is None and budgeted
        if limit is not None:
            reply = limit
        elif budgeted:
            reply = BUDGET_REPLY_TOKENS
        else:  # no budget: the reservation only keeps the books
            reply = max(self._longest_reply, COMPLETION_GUESS)
        async with self._money:
            while True:
                if self._stopping:
                    raise _Stopped()
                held = self._hold(request.model, prompt, reply, batch)
                if self._fits(held):
                    self._reserved_tokens += held[0]
                    self._reserved_usd += held[1]
                    break
                if self._controls:
                    await self._money.wait()
                    continue
                room = self._reply_room(request.model, prompt, batch)
                if imposed and MIN_REPLY_TOKENS <= room < reply:
                    reply = room
                    continue
                what = f"step '{step.id}'" + (f", {item}" if item else "")
                if imposed:  # it would have gone with the shortest reply worth a call
                    held = self._hold(request.model, prompt, MIN_REPLY_TOKENS, batch)
                if not self._fits_tokens(held[0]):
                    reason = (f"the next call ({what}, ~{held[0]:,} tokens with its reply) "
                              f"would exceed --budget-tokens {self.budget:,} "
                              f"({self.used_tokens:,} used)")
                else:
                    reason = (f"the next call ({what}, ~${held[1]:.4f} with its reply) would "
                              f"exceed --budget-usd {self.budget_usd:g} "
                              f"(${self.used_usd:.4f} used)")
                self.stop("stopped", reason)
                raise _Stopped()
        if imposed:
            request = replace(request, params={**request.params,
                                               _limit_name(request.model): reply})
        return request, held

    async def _settle(self, held: tuple[int, float], reply: Reply | None, model: str) -> float | None:
        """Release a reservation and count what the call really used."""
        cost: float | None = None
        async with self._money:
            self._reserved_tokens -= held[0]
            self._reserved_usd -= held[1]
            if reply is not None:
                self.used_tokens += reply.prompt_tokens + reply.completion_tokens
                price = self._price(model)
                if price is not None:
                    cost = price.cost(reply.prompt_tokens, reply.completion_tokens,
                                      reply.cached_tokens, reply.cache_write_tokens)
                    self.used_usd += cost
            self._money.notify_all()
        return cost

    async def _call(self, step: Step, request: Request, item: Item | None, attempt: int,
                    salvage: int | None = None, key: str = "", sample: int = 0) -> Reply:
        """One model call, its slot held by the caller: a reservation, the call,
        the settlement. ``salvage``: the round of a follow-up for missing rows;
        ``key``: the cache key of the step's first ask. Where batch jobs are in
        play, the reply a job returned for this very call, or the call held for
        the next job (_Deferred)."""
        stats = self.state.steps[step.id]
        loop = asyncio.get_running_loop()
        if self._stopping:
            raise _Stopped()
        if self._client is not None:
            cid = request_id(self._client.body(request), sample)
            got = self._results.get(cid)
            if got is not None:  # paid for and counted when its job was collected
                self._replayed.add(cid)
                self.event("batch_reply", step=step.id, item=item.index if item else None,
                           attempt=attempt, custom_id=cid)
                return replace(got)
            failed = self._errors.get(cid)
            if failed is not None and self._jobs_of.get(cid, 0) >= MAX_SUBMISSIONS:
                raise ProviderError(f"batch: {failed} (in {self._jobs_of[cid]} batch jobs)")
            direct = not self.batch or (self.batch_fallback == "direct"
                                        and (attempt > 1 or salvage is not None))
            if not direct:
                request, held = await self._reserve(step, item, request, batch=True)
                self._held[cid] = (self._client.body(request), {
                    "key": key, "step": step.id, "item": item.index if item else None,
                    "sample": sample, "attempt": attempt, "salvage": salvage,
                    "model": request.model, "estimate": self._prompt_estimate(request)})
                self.event("batch_hold", step=step.id, item=item.index if item else None,
                           attempt=attempt, custom_id=cid, reserved_tokens=held[0])
                raise _Deferred()
        request, held = await self._reserve(step, item, request)
        where: dict[str, Any] = {"step": step.id, "item": item.index if item else None,
                                 "attempt": attempt}
        if salvage is not None:
            where["salvage"] = salvage

        def on_retry(n: int, reason: str, wait: float) -> None:
            stats.retries += 1
            loop.call_soon_threadsafe(lambda: self.event("retry", **where, retry=n,
                                                         reason=reason, wait=wait))

        control = CallControl(on_retry)
        reply: Reply | None = None
        try:
            self._controls.add(control)
            self.in_flight += 1
            self.event("call_start", **where, reserved_tokens=held[0])
            if self.progress:
                self.progress(self.state, self.in_flight)
            reply = await loop.run_in_executor(self._pool, self.provider.complete,
                                               request, control)
        except CallCancelled:
            self.event("call_cancelled", **where)
            raise _Stopped() from None
        finally:
            self._controls.discard(control)
            self.in_flight -= 1
            if reply is not None and not reply.prompt_tokens:
                # Not reported: count it as the estimate did.
                reply.prompt_tokens = self._prompt_estimate(request)
            cost = await self._settle(held, reply, request.model)
        self._longest_reply = max(self._longest_reply, reply.completion_tokens)
        stats.count_call(reply, cost)
        self.event("call_end", **where, prompt_tokens=reply.prompt_tokens,
                   completion_tokens=reply.completion_tokens, cached_tokens=reply.cached_tokens,
                   finish_reason=reply.finish_reason,
                   cost_usd=round(cost, 6) if cost is not None else None)
        if self.progress:
            self.progress(self.state, self.in_flight)
        return reply


def _message(e: BaseException) -> str:
    return str(e) if isinstance(e, Finding) else f"{type(e).__name__}: {e}"


async def _all(awaitables: Any) -> list[Any]:
    """Every awaitable to its end, then the first real failure (not a stop), so
    that no answer already on its way is dropped when a sibling fails."""
    results = await asyncio.gather(*awaitables, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        real = [f for f in failures
                if not isinstance(f, (_Stopped, _Upstream, _Deferred, CallCancelled))]
        raise (real or failures)[0]
    return results


def _call_python(target: str, scope: dict[str, Any]) -> Any:
    module, _, name = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise StepError(f"python step '{target}': {e}") from None
    return fn(scope)
