"""``toon pipeline run|plan|graph|status``."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from .._output import ERROR, FINDINGS, OK, fail


def _load(file: str) -> Any:
    from ...pipeline.spec import PipelineError, load_pipeline

    try:
        return load_pipeline(file)
    except PipelineError as e:
        fail(str(e), FINDINGS)


def _inputs(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            fail(f"--input {pair!r}: expected key=value")
        if value.startswith("@"):
            try:
                value = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as e:
                fail(f"--input {key}: {value[1:]}: {e.strerror}")
        out[key] = value
    return out


def _provider(pipeline: Any, provider: str | None, base_url: str | None) -> Any:
    from ...pipeline.providers import OfflineProvider, OpenAIProvider, ProviderError

    kind = provider or pipeline.provider
    if kind == "offline":
        return OfflineProvider()
    if kind != "openai":
        fail(f"unknown provider {kind!r} (offline or openai)")
    url = base_url or pipeline.base_url or "https://api.openai.com/v1"
    key = os.environ.get(pipeline.api_key_env)
    local = any(h in url for h in ("://127.", "://localhost", "://[::1]"))
    if not key and not local:
        fail(f"no API key: set {pipeline.api_key_env} (the pipeline names that variable)")
    try:
        prov = OpenAIProvider(url, key)
    except ProviderError as e:
        fail(str(e))
    _preflight(url)
    return prov


def _preflight(url: str) -> None:
    """Fail before any step runs when nothing answers at base_url."""
    import socket
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=5).close()
    except OSError as e:
        fail(f"cannot reach {url} ({e.strerror or e})")


def _cache() -> Any:
    import diskcache

    from ...config import load_config

    return diskcache.Cache(str(load_config().cache_dir() / "llm"), size_limit=2**30,
                           eviction_policy="least-recently-stored")


@click.group()
def pipeline() -> None:
    """Run multi-step LLM pipelines whose artifacts are TOON."""


@pipeline.command()
@click.argument("file")
@click.option("--input", "inputs", multiple=True, metavar="K=V", help="An input (V or @file).")
@click.option("--jobs", "-j", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Calls in flight at most.")
@click.option("--budget-tokens", type=click.IntRange(0), default=None,
              help="Stop before a call would exceed this many tokens.")
@click.option("--run-dir", default=None, help="Where artifacts go [default: runs/<name>].")
@click.option("--provider", type=click.Choice(["offline", "openai"]), default=None)
@click.option("--base-url", default=None)
@click.option("--model", default=None, help="Override every step's model.")
@click.option("--no-cache", is_flag=True, help="Call the model even where a reply is cached.")
def run(file: str, inputs: tuple[str, ...], jobs: int, budget_tokens: int | None,
        run_dir: str | None, provider: str | None, base_url: str | None, model: str | None,
        no_cache: bool) -> None:
    """Run FILE: independent steps and foreach items concurrently, every call cached."""
    from ...pipeline.runner import Runner
    from ...pipeline.spec import PipelineError
    from ...tokens import TokenCounter

    p = _load(file)
    if model:
        p.model = model
        for s in p.steps.values():
            s.model = model
    given = _inputs(inputs)
    missing = [k for k in p.inputs if k not in given]
    if missing:
        fail(f"missing input '{missing[0]}' (give it with --input {missing[0]}=...)", FINDINGS)
    prov = _provider(p, provider, base_url)
    folder = Path(run_dir or Path("runs") / p.name)
    counter = TokenCounter()
    live = sys.stderr.isatty()

    def progress(state: Any, in_flight: int) -> None:
        if live:
            done = sum(1 for s in state.steps.values() if s.state == "done")
            calls = sum(s.calls for s in state.steps.values())
            hits = sum(s.cache_hits for s in state.steps.values())
            tokens = sum(s.prompt_tokens + s.completion_tokens for s in state.steps.values())
            items = sum(s.items for s in state.steps.values())
            items_done = sum(s.items_done for s in state.steps.values())
            click.echo(f"\r{done}/{len(state.steps)} steps, {items_done}/{items} items, "
                       f"{calls} calls, {hits} cached, {tokens:,} tokens, {in_flight} in flight   ",
                       nl=False, err=True)

    try:
        runner = Runner(p, given, prov, cache=None if no_cache else _cache(),
                        run_dir=folder, jobs=jobs, budget_tokens=budget_tokens,
                        count_tokens=counter.count_uncached, progress=progress)
        state = runner.run()
    except PipelineError as e:
        fail(str(e), FINDINGS)
    if live:
        click.echo("", err=True)
    _print_status(state.steps, state.status, runner.used_tokens)
    if state.status != "done":
        click.echo(f"toon: error: run {state.status}: {state.error}", err=True)
        raise SystemExit(FINDINGS if state.status == "stopped" else ERROR)
    click.echo(f"artifacts in {folder}", err=True)
    raise SystemExit(OK)


def _print_status(steps: dict[str, Any], status: str, used: int) -> None:
    click.echo(f"{'step':<16} {'state':<8} {'calls':>5} {'cached':>6} {'tokens':>8} {'seconds':>8}")
    for sid, s in steps.items():
        s = s if isinstance(s, dict) else asdict(s)
        click.echo(f"{sid:<16} {s['state']:<8} {s['calls']:>5} {s['cache_hits']:>6} "
                   f"{s['prompt_tokens'] + s['completion_tokens']:>8,} {s['seconds']:>8.2f}")
    click.echo(f"run {status}, {used:,} tokens used by new calls")


@pipeline.command()
@click.argument("file")
@click.option("--input", "inputs", multiple=True, metavar="K=V", help="An input (V or @file).")
@click.option("--run-dir", default=None, help="The previous run to compare with.")
def plan(file: str, inputs: tuple[str, ...], run_dir: str | None) -> None:
    """Execution waves, estimated prompt tokens per step, and whether each step
    would call the model or come from the cache, and why. Calls no model.

    Estimates render each prompt with the inputs and, where an earlier run left
    them, its artifacts (a foreach step: one item times the number of items);
    otherwise they count the template alone.
    """
    from ...codec import ToonDecodeError, decode
    from ...pipeline.runner import Runner
    from ...pipeline.spec import PipelineError, lookup, render
    from ...tokens import TokenCounter

    p = _load(file)
    given = _inputs(inputs)
    folder = Path(run_dir or Path("runs") / p.name)
    previous: dict[str, Any] = {}
    previous_inputs: dict[str, Any] = {}
    try:
        saved = json.loads((folder / "state.json").read_text())
        previous, previous_inputs = saved["steps"], saved.get("inputs", {})
    except (OSError, ValueError, KeyError):
        pass
    artifacts: dict[str, Any] = {}
    for sid in p.steps:
        try:
            artifacts[sid] = decode((folder / f"{sid}.toon").read_bytes())
        except (OSError, ToonDecodeError):
            pass
    counter = TokenCounter()
    probe = Runner.__new__(Runner)
    probe.p = p
    changed: set[str] = set()
    click.echo(f"{'wave':<5} {'step':<20} {'kind':<28} {'est. prompt tokens':>18}  decision")
    for number, wave in enumerate(p.waves(), 1):
        for sid in wave:
            step = p.steps[sid]
            fp = probe.fingerprint(step)
            before = previous.get(sid)
            if before is None or before.get("state") != "done":
                why = "runs: no finished earlier run"
                changed.add(sid)
            elif before.get("fingerprint") != fp:
                why = "runs: the step itself changed"
                changed.add(sid)
            elif any(given.get(k) != previous_inputs.get(k) for k in _inputs_used(step)):
                k = next(k for k in _inputs_used(step) if given.get(k) != previous_inputs.get(k))
                why = f"runs: input '{k}' changed"
                changed.add(sid)
            elif set(step.needs) & changed:
                why = f"runs: its input '{sorted(set(step.needs) & changed)[0]}' changes"
                changed.add(sid)
            else:
                why = "cached: nothing it depends on changed"
            estimate = "-"
            if step.prompt is not None:
                template = (step.system or "") + step.prompt
                scope: dict[str, Any] = {"inputs": given, **artifacts}
                try:
                    if step.foreach is not None:
                        items = lookup(scope, step.foreach)
                        n = len(items) if isinstance(items, list) else 1
                        first = items[0] if isinstance(items, list) and items else ""
                        one = counter.count_uncached(render(template, {**scope, "item": first,
                                                                       "items": [first]}))
                        estimate = f"{one * n:,} ({n} x {one:,})"
                    else:
                        estimate = f"{counter.count_uncached(render(template, scope)):,}"
                except PipelineError:
                    estimate = f"~{counter.count_uncached(template):,} (template)"
            kind = "python" if step.python else (f"foreach {step.foreach}" if step.foreach else "call")
            click.echo(f"{number:<5} {sid:<20} {kind:<28} {estimate:>18}  {why}")


def _inputs_used(step: Any) -> list[str]:
    from ...pipeline.spec import VARIABLE

    names = VARIABLE.findall((step.prompt or "") + (step.system or ""))
    return sorted({n.split(".")[1] for n in names if n.startswith("inputs.") and "." in n})


@pipeline.command()
@click.argument("file")
def graph(file: str) -> None:
    """The DAG as a Mermaid diagram."""
    p = _load(file)
    click.echo("graph TD")
    for s in p.steps.values():
        label = s.id + (f" (foreach {s.foreach})" if s.foreach else "")
        click.echo(f'  {s.id}["{label}"]')
        for need in s.needs:
            click.echo(f"  {need} --> {s.id}")


@pipeline.command()
@click.argument("run_dir")
def status(run_dir: str) -> None:
    """Steps, state, calls, cache hits, tokens and time of a run folder."""
    try:
        data = json.loads((Path(run_dir) / "state.json").read_text())
    except (OSError, ValueError) as e:
        fail(f"{run_dir}: no readable state.json ({e})")
    _print_status(data["steps"], data["status"], data.get("used_tokens", 0))
