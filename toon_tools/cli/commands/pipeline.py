"""``toon pipeline run|plan|graph|status``."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from ...pipeline.spec import PROVIDERS, STRUCTURED
from .._completion import any_path
from .._output import FINDINGS, OK, error, escape, fail, warning

#: A run that waits for a batch job (EX_TEMPFAIL): not an error, run again.
WAITING = 75


def _inputs(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--input {pair!r}: expected key=value")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
                fail(f"--input {key}: {value[1:]}: {reason}")
        out[key] = value
    return out


@click.group()
def pipeline() -> None:
    """Run multi-step LLM pipelines whose artifacts are TOON."""


@pipeline.command()
@click.argument("file", shell_complete=any_path)
@click.option("--input", "inputs", multiple=True, metavar="K=V", help="An input (V or @file).")
@click.option("--jobs", "-j", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Calls in flight at most.")
@click.option("--budget-tokens", type=click.IntRange(0), default=None,
              help="Stop before the calls' tokens (prompt and reply) would exceed this.")
@click.option("--budget-usd", type=click.FloatRange(0), default=None,
              help="Stop before the calls' cost in US dollars would exceed this.")
@click.option("--run-dir", default=None, help="Where artifacts go [default: runs/<name>].")
@click.option("--provider", type=click.Choice(PROVIDERS), default=None,
              help="Override the pipeline's provider.")
@click.option("--base-url", default=None, help="Override the pipeline's base_url.")
@click.option("--model", default=None, help="Override every step's model.")
@click.option("--structured", type=click.Choice(STRUCTURED), default=None,
              help="Constrain every step's replies: a JSON schema or a TOON grammar.")
@click.option("--timeout", type=click.FloatRange(0, 86_400, min_open=True), default=None,
              help="Seconds each call may take from when it is sent (every step).")
@click.option("--no-cache", is_flag=True,
              help="Call the model even where a reply is cached (accepted replies are still stored).")
@click.option("--batch", is_flag=True,
              help="Send each wave's uncached calls as one batch job (OpenAI Batch API, "
                   "Anthropic Message Batches: half price, within 24 h); run again to collect.")
@click.option("--batch-fallback", type=click.Choice(("batch", "direct")), default="batch",
              show_default=True,
              help="Where re-asks of invalid batch replies go: the next batch job, or "
                   "straight to the model.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's state as JSON, not a table.")
def run(file: str, inputs: tuple[str, ...], jobs: int, budget_tokens: int | None,
        budget_usd: float | None, run_dir: str | None, provider: str | None,
        base_url: str | None, model: str | None, structured: str | None,
        timeout: float | None, no_cache: bool, batch: bool, batch_fallback: str,
        as_json: bool) -> int:
    """Run FILE: independent steps and foreach items concurrently, every call cached.

    Exits 0 when every step is done; 1 when a step fails, a budget stops the run,
    or Ctrl-C or SIGTERM interrupts it (answers already paid for are kept); 2 for
    a bad pipeline file, a missing input or an unusable provider, before any call;
    75 (EX_TEMPFAIL, not an error) when the run waits for a batch job: --batch
    submitted one, or one the run folder records is still running. Any later run
    of that folder (with or without --batch) collects it and goes on.
    """
    from ...config import load_config
    from ...pipeline.cache import DiskReplyCache
    from ...pipeline.prices import PriceTable
    from ...pipeline.providers import open_provider
    from ...pipeline.runner import Runner
    from ...pipeline.spec import load_pipeline
    from ...tokens import TokenCounter

    p = load_pipeline(file)
    if model:
        p.use_model(model)
    if structured:
        p.use_structured(structured)
    if timeout:
        p.use_timeout(timeout)
    given = _inputs(inputs)
    config = load_config()
    cache_dir = config.cache_dir()
    prov = open_provider(provider or p.provider, base_url or p.base_url, p.api_key_env, os.environ)
    folder = Path(run_dir or Path("runs") / p.name)
    live = sys.stderr.isatty()
    replies = DiskReplyCache.in_cache_dir(cache_dir)
    runner = Runner(p, given, prov, cache=replies,
                    read_cache=not no_cache, run_dir=folder, jobs=jobs,
                    budget_tokens=budget_tokens, budget_usd=budget_usd,
                    prices=PriceTable(config["pipeline.prices"], p.prices),
                    count_tokens=TokenCounter(cache_dir=cache_dir).count_uncached,
                    progress=_progress if live else None, batch=batch,
                    batch_fallback=batch_fallback)
    try:
        state = runner.run()
    finally:
        replies.close()
    if live:
        click.echo("", err=True)
    for problem in dict.fromkeys(replies.problems):
        warning(f"{escape(str(replies.folder))}: {problem}")
    for note in runner.notes:
        warning(escape(note))
    if state.status == "batched" and runner.batch_line:
        if as_json:
            click.echo(json.dumps(runner.state_dict(), indent=2))
        click.echo(escape(runner.batch_line), err=True)
        return WAITING
    if as_json:
        click.echo(json.dumps(runner.state_dict(), indent=2))
    else:
        _print_status({k: asdict(v) for k, v in state.steps.items()}, state.status,
                      runner.used_tokens, runner.used_usd)
    if state.status != "done":
        error(f"run {state.status}: {state.error}")
        return FINDINGS
    click.echo(f"artifacts in {escape(str(folder))}", err=True)
    return OK


def _progress(state: Any, in_flight: int) -> None:
    """One live line on a terminal: steps, items, calls, cache hits, tokens."""
    steps = state.steps.values()
    done = sum(1 for s in steps if s.state == "done")
    calls = sum(s.calls for s in steps)
    hits = sum(s.cache_hits for s in steps)
    tokens = sum(s.prompt_tokens + s.completion_tokens for s in steps)
    items = sum(s.items for s in steps)
    items_done = sum(s.items_done for s in steps)
    click.echo(f"\r{done}/{len(state.steps)} steps, {items_done}/{items} items, "
               f"{calls} calls, {hits} cached, {tokens:,} tokens, {in_flight} in flight   ",
               nl=False, err=True)


def _usd(value: Any) -> str:
    return f"${value:,.4f}" if isinstance(value, (int, float)) else "-"


def _print_status(steps: dict[str, Any], status: str, used: int, used_usd: float | None) -> None:
    """The status table; the step column as wide as the longest step id."""
    width = max([4, *(len(escape(sid)) for sid in steps)])
    click.echo(f"{'step':<{width}}  {'state':<9} {'calls':>5} {'cached':>6} {'reasks':>6} "
               f"{'salvages':>8} {'tokens':>9} {'cost':>10} {'seconds':>8}")
    for sid, s in steps.items():
        tokens = s.get("prompt_tokens", 0) + s.get("completion_tokens", 0)
        # reasks: whole replies asked again; salvages: follow-ups that asked for
        # the missing rows of a table cut short (older state files have neither).
        click.echo(f"{escape(sid):<{width}}  {escape(str(s.get('state'))):<9} "
                   f"{s.get('calls', 0):>5} {s.get('cache_hits', 0):>6} "
                   f"{s.get('reasks', 0):>6} {s.get('salvages', 0):>8} {tokens:>9,} "
                   f"{_usd(s.get('cost_usd')):>10} {s.get('seconds', 0.0):>8.2f}")
    cost = f", {_usd(used_usd)}" if used_usd else ""
    click.echo(f"run {escape(status)}, {used:,} tokens used by new calls{cost}")
    batched = sum(int(s.get("batch_calls") or 0) for s in steps.values())
    if batched:
        usd = [s["batch_cost_usd"] for s in steps.values()
               if isinstance(s.get("batch_cost_usd"), (int, float))]
        price = f", {_usd(sum(usd))}" if usd else ""
        click.echo(f"{batched:,} of the calls went by batch job, at batch prices "
                   f"(half the list price){price}")
    for sid, s in steps.items():
        if s.get("state") == "failed":
            where = f", {escape(str(s['item']))}" if s.get("item") else ""
            click.echo(f"failed: step {escape(sid)}{where}: {escape(str(s.get('error')))}")


@pipeline.command()
@click.argument("file", shell_complete=any_path)
@click.option("--input", "inputs", multiple=True, metavar="K=V", help="An input (V or @file).")
@click.option("--run-dir", default=None, help="The previous run to compare with.")
@click.option("--batch", is_flag=True, help="Estimate the cost at batch prices (run --batch).")
def plan(file: str, inputs: tuple[str, ...], run_dir: str | None, batch: bool) -> int:
    """Execution waves, estimated prompt tokens per step, and whether each step
    would call the model or come from the cache, and why. Calls no model.

    Estimates render each prompt with the inputs and, where an earlier run left
    them, its artifacts (a foreach step: one item times the number of items);
    otherwise they count the template alone.
    """
    from ...config import load_config
    from ...pipeline.plan import COMPLETION_GUESS
    from ...pipeline.plan import plan as plan_run
    from ...pipeline.prices import BATCH_DISCOUNT, PriceTable
    from ...pipeline.spec import load_pipeline
    from ...tokens import TokenCounter

    p = load_pipeline(file)
    given = _inputs(inputs)
    config = load_config()
    scale = BATCH_DISCOUNT if batch else 1.0
    counter = TokenCounter(cache_dir=config.cache_dir())
    prices = PriceTable(config["pipeline.prices"], p.prices)
    planned = plan_run(p, given, Path(run_dir or Path("runs") / p.name), counter.count_uncached,
                       prices)
    width = max([4, *(len(escape(row.step.id)) for row in planned)])
    click.echo(f"{'wave':<5} {'step':<{width}}  {'kind':<28} {'est. prompt tokens':>18} "
               f"{'est. cost':>10}  decision")
    for row in planned:
        estimate = str(row.estimate) if row.estimate is not None else "-"
        usd = row.usd * scale if row.usd is not None else None
        click.echo(f"{row.wave:<5} {escape(row.step.id):<{width}}  {escape(row.kind):<28} "
                   f"{estimate:>18} {_usd(usd):>10}  {row.decision}")
    known = [row.usd * scale for row in planned if row.usd is not None]
    if known:
        basis = "batch prices, half the list price" if batch else "list prices"
        click.echo(f"estimated cost of the calls that would run: {_usd(sum(known))} "
                   f"({basis}; replies at max_tokens or {COMPLETION_GUESS} tokens)")
    return OK


@pipeline.command()
@click.argument("file", shell_complete=any_path)
def graph(file: str) -> int:
    """The DAG as a Mermaid diagram."""
    from ...pipeline.spec import load_pipeline

    p = load_pipeline(file)
    click.echo("graph TD")
    for s in p.steps.values():
        label = s.id + (f" (foreach {s.foreach})" if s.foreach else "")
        click.echo(f'  {s.id}["{label}"]')
        for need in s.needs:
            click.echo(f"  {need} --> {s.id}")
    return OK


@pipeline.command()
@click.argument("run_dir", shell_complete=any_path)
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON, not a table.")
def status(run_dir: str, as_json: bool) -> int:
    """Steps, state, calls, cache hits, re-asks, salvages, tokens, cost and time of a run folder.

    Exits 0 for a finished run, 1 for a failed, stopped or unfinished one, with
    the failing step, item and error; 75 for one that waits for a batch job."""
    from ...pipeline.plan import SavedRun

    saved = SavedRun.read(Path(run_dir))
    if as_json:
        click.echo(json.dumps(saved.data, indent=2))
    else:
        _print_status(saved.steps, saved.status, saved.used_tokens, saved.used_usd)
    if saved.status == "batched" and isinstance(saved.data.get("batch"), str):
        click.echo(escape(saved.data["batch"]), err=True)
        return WAITING
    if saved.status != "done":
        error(f"run {saved.status or 'unknown'}" + (f": {saved.error}" if saved.error else ""))
        return FINDINGS
    return OK
