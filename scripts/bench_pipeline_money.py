#!/usr/bin/env python3
"""What a pipeline run wastes, against a Chat Completions server on loopback:

1. Re-ask prompt growth (o200k tokens): the issue's step (a title and three
   tags), asked, then re-asked after each of two rejected replies. The baseline,
   built in the same run from the same replies, is the old re-ask: the whole
   conversation with every bad reply resent.
2. A --budget-tokens stop in a 40-item fan-out (8 calls in flight, 50 ms per
   call): calls answered, the budget spent (target: close to it, never over),
   and what a re-run with no budget pays again (target: 0 calls, 0 tokens).
3. The first failure in a 40-item fan-out: calls sent after it (target: none
   beyond those already in flight) and seconds from it to the run's end.
4. A table cut short at max_tokens (issue 13, item 7): the tokens a salvage
   spends (follow-ups for the missing rows alone) against the baseline, the
   same step with salvage off (the whole call asked again with doubled
   max_tokens), for 10 and 100 rows. Usage is characters / 4 (FakeLLM).

    python scripts/bench_pipeline_money.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pipeline.server import FakeLLM  # noqa: E402
from toon_tools.pipeline.cache import DiskReplyCache  # noqa: E402
from toon_tools.pipeline.providers import OpenAIProvider  # noqa: E402
from toon_tools.pipeline.replies import RejectedReply, read_reply  # noqa: E402
from toon_tools.pipeline.runner import Runner  # noqa: E402
from toon_tools.codec import encode  # noqa: E402
from toon_tools.pipeline.spec import parse_pipeline  # noqa: E402
from toon_tools.tokens import count_tokens  # noqa: E402

STEP = {"name": "blurb", "inputs": ["topic"], "steps": [
    {"id": "meta", "prompt": "Give a title and three tags for a short article about "
     "{{ inputs.topic }}.", "output": {"required": ["title", "tags[3]"]}}]}
FANOUT = {"name": "fanout", "inputs": ["topic"], "params": {"max_tokens": 16}, "steps": [
    {"id": "outline", "prompt": "List the parts of {{ inputs.topic }}",
     "output": {"required": ["parts[]"]}},
    {"id": "parts", "needs": ["outline"], "foreach": "outline.parts",
     "prompt": "Write about {{ item }}", "output": {"required": ["text"]}}]}
SCENES: dict[str, Any] = {
    "type": "object", "required": ["title", "mood", "scenes"],
    "properties": {
        "title": {"type": "string", "description": "The book's title"},
        "mood": {"enum": ["dark", "light"]},
        "year": {"type": "integer"},
        "scenes": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["title", "pov"],
            "properties": {"title": {"type": "string", "description": "A short title"},
                           "pov": {"type": "string"}}}}}}
# Two replies a small model gave (the second cut off mid-list).
BAD = ["Sure! Here is a title and some tags for your article about tide pools:\n\n"
       "**Title:** Life Between the Tides\n**Tags:** ecology, ocean, rock pools",
       "title: Life Between the Tides\ntags[3]: ecology,ocean"]


def tokens(messages: list[dict[str, str]]) -> int:
    return sum(count_tokens(m["content"]) for m in messages)


def reask_growth() -> None:
    p = parse_pipeline(STEP, Path("blurb.toon"))
    runner = Runner(p, {"topic": "tide pools"}, OpenAIProvider("http://127.0.0.1:9/v1", None),
                    cache=None, run_dir=Path(tempfile.mkdtemp()))
    step = p.steps["meta"]
    scope = {"inputs": {"topic": "tide pools"}}
    first, _ = runner.messages(step, scope)
    ours, old = [tokens(first)], [tokens(first)]
    history = list(first)
    assert step.shape is not None
    for bad in BAD:
        try:
            read_reply(bad, step.shape)
        except RejectedReply as e:
            reask, _ = runner.messages(step, scope, error=e.for_model())
            ours.append(tokens(reask))
            history += [{"role": "assistant", "content": bad},
                        {"role": "user", "content": f"That reply is not valid: {e.message}. "
                         "Answer again with only a TOON document with the fields: title, tags[]."}]
            old.append(tokens(history))
    print("1. re-ask prompt tokens (o200k): ask, re-ask 1, re-ask 2")
    print(f"   now       {' -> '.join(map(str, ours))}   worst re-ask {max(ours[1:]) / ours[0]:.2f}x "
          "the first ask (target <= 1.2x)")
    print(f"   baseline  {' -> '.join(map(str, old))}   worst re-ask {max(old[1:]) / old[0]:.2f}x "
          "(the whole conversation resent)")


def fanout_run(server: FakeLLM, root: Path, budget: int | None) -> Runner:
    p = parse_pipeline(FANOUT, root / "p.toon")
    runner = Runner(p, {"topic": "tides"}, OpenAIProvider(server.url, "k"),
                    cache=DiskReplyCache(root / "llm"), run_dir=root / "run", jobs=8,
                    budget_tokens=budget)
    runner.run()
    return runner


def budget_stop(server: FakeLLM) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        budget = 20 * 18  # about twenty calls' worth (11 prompt + 7 reply tokens each)
        stopped = fanout_run(server, root, budget)
        answered = len(server.requests)
        bodies = {json.dumps(r["body"], sort_keys=True) for r in server.requests}
        rerun = fanout_run(server, root, None)
        again = [r for r in server.requests[answered:]
                 if json.dumps(r["body"], sort_keys=True) in bodies]
    print("2. --budget-tokens stop in a 40-item fan-out (8 in flight)")
    print(f"   stopped: {stopped.state.status}, {answered} calls answered, "
          f"{stopped.used_tokens}/{budget} tokens ({stopped.used_tokens / budget:.0%} of the budget)")
    print(f"   re-run with no budget: {rerun.state.status}, calls paid again: {len(again)}, "
          f"tokens paid again: {len(again) * 18} (target 0, 0)")


def first_failure(server: FakeLLM) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server.faults = [None] * 5 + ["401"]  # type: ignore[list-item]
        t0 = time.perf_counter()
        runner = fanout_run(server, root, None)
        wall = time.perf_counter() - t0
        sent = len(server.requests)
    print("3. the first failure (HTTP 401 on the 6th call) in a 40-item fan-out (8 in flight)")
    print(f"   run {runner.state.status}: {sent} calls sent in all, at most 8 in flight when it "
          f"failed; the run ended {wall:.2f} s after it started (calls take 50 ms)")


def cut_table_run(rows: int, cut_row: int, salvage: bool) -> tuple[int, int, int, int, int]:
    """One run of a step whose reply of ``rows`` scenes is cut by max_tokens in the
    middle of row ``cut_row``: its calls, prompt and reply tokens, the limit, and
    the salvage follow-ups."""
    server = FakeLLM()
    try:
        server.contract, server.numbered_rows, server.items = SCENES, True, rows
        server.usage_by_length = True
        # The limit falls in the middle of row cut_row of the whole reply.
        lines = encode(server.value_for({"messages": [{"content": "Reply with only"}]})).split("\n")
        header = next(i for i, x in enumerate(lines) if "]{" in x)
        limit = (len("\n".join(lines[:header + cut_row])) + len(lines[header + cut_row]) // 2) // 4
        spec = {"name": "scenes", "inputs": ["topic"], "params": {"max_tokens": limit},
                "steps": [{"id": "plan", "prompt": "Plan a novel about {{ inputs.topic }}",
                           "max_reasks": 3, "output": {"schema": SCENES}}]}
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            p = parse_pipeline(spec, root / "p.toon")
            cache = DiskReplyCache(root / "llm")
            runner = Runner(p, {"topic": "tides"}, OpenAIProvider(server.url, "k", backoff=0.01),
                            cache=cache, run_dir=root / "run", salvage=salvage)
            state = runner.run()
            cache.close()
        assert state.status == "done", state.error
        s = state.steps["plan"]
        return s.calls, s.prompt_tokens, s.completion_tokens, limit, s.salvages
    finally:
        server.close()


def cut_table() -> None:
    print("4. a table cut short at max_tokens: salvage (the missing rows alone) vs the "
          "baseline, salvage off (the whole call again, max_tokens doubled)")
    print(f"   {'case':<40}{'calls':>6}{'prompt':>8}{'reply':>7}{'total':>7}{'follow-ups':>12}")
    for rows, cut in ((10, 5), (100, 43)):
        totals = {}
        for salvage in (False, True):
            calls, prompt, reply, limit, rounds = cut_table_run(rows, cut, salvage)
            totals[salvage] = prompt + reply
            name = f"{rows} rows, cut in row {cut}, {'salvage' if salvage else 'baseline'}"
            print(f"   {name:<40}{calls:>6}{prompt:>8}{reply:>7}{prompt + reply:>7}{rounds:>12}")
        print(f"   max_tokens {limit}: salvage / baseline = {totals[True] / totals[False]:.2f} "
              "of the tokens")


def main() -> None:
    reask_growth()
    for measure in (budget_stop, first_failure):
        server = FakeLLM(latency=0.05, items=40)
        try:
            measure(server)
        finally:
            server.close()
    cut_table()


if __name__ == "__main__":
    main()
