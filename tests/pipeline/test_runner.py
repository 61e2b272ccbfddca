"""Pipelines against a Chat Completions server on loopback, through the real HTTP client."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache
import pytest

from tests.cli.conftest import run_toon
from tests.pipeline.server import FakeLLM
from toon_tools.pipeline.providers import OpenAIProvider
from toon_tools.pipeline.runner import Runner, call_key
from toon_tools.errors import ToolError
from toon_tools.pipeline.spec import PipelineError, load_pipeline

FANOUT = """\
name: fanout
inputs[1]: topic
steps[3]:
  - id: outline
    prompt: "List the parts of {{ inputs.topic }}"
    output:
      required[1]: "parts[]"
  - id: parts
    needs[1]: outline
    foreach: outline.parts
    prompt: "Write about {{ item }}"
    output:
      required[1]: text
  - id: summary
    needs[1]: parts
    prompt: "Summarise {{ parts }}"
    output:
      required[1]: summary
"""


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    s = FakeLLM()
    yield s
    s.close()


def _pipeline(tmp_path: Path, text: str = FANOUT) -> Path:
    f = tmp_path / "p.toon"
    f.write_text(text)
    return f


def _run(tmp_path: Path, server: FakeLLM, *, jobs: int = 8, budget: int | None = None,
         cache: Any = "default", provider: Any = None, text: str = FANOUT,
         timeout: float = 1.0, **options: Any) -> tuple[Runner, Any]:
    p = load_pipeline(_pipeline(tmp_path, text))
    p.use_timeout(timeout)
    prov = provider or OpenAIProvider(server.url, "sk-test", max_retries=4, backoff=0.01)
    c = diskcache.Cache(str(tmp_path / "llm")) if cache == "default" else cache
    runner = Runner(p, {"topic": "tides"}, prov, cache=c, run_dir=tmp_path / "run", jobs=jobs,
                    budget_tokens=budget, **options)
    return runner, runner.run()


def _events(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "run" / "events.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def _prompt(request: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in request["body"]["messages"])


def test_runs_and_writes_artifacts_once(tmp_path: Path, server: FakeLLM) -> None:
    server.items = 6
    runner, state = _run(tmp_path, server)
    assert state.status == "done", state.error
    assert len(server.requests) == 1 + 6 + 1
    assert server.requests[0]["auth"] == "Bearer sk-test"
    run = tmp_path / "run"
    assert sorted(p.name for p in run.iterdir()) == [
        "events.jsonl", "outline.md", "outline.toon", "parts.md", "parts.toon", "state.json",
        "summary.md", "summary.toon"]
    events = [json.loads(line) for line in (run / "events.jsonl").read_text().splitlines()]
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "run_end"
    assert sum(e["event"] == "call_end" for e in events) == 8
    st = json.loads((run / "state.json").read_text())
    assert st["status"] == "done" and st["steps"]["parts"]["calls"] == 6


def test_foreach_calls_overlap(tmp_path: Path, server: FakeLLM) -> None:
    server.items, server.latency = 8, 0.2
    _, state = _run(tmp_path, server, jobs=8)
    assert state.status == "done"
    assert server.max_in_flight >= 4  # the fan-out really ran concurrently


def test_rerun_makes_zero_calls_and_a_changed_step_reruns_alone(tmp_path: Path, server: FakeLLM) -> None:
    _run(tmp_path, server)
    first = len(server.requests)
    _, state = _run(tmp_path, server)
    assert len(server.requests) == first and state.status == "done"
    assert all(s.cache_hits > 0 and s.calls == 0 for s in state.steps.values())
    changed = FANOUT.replace("Summarise {{ parts }}", "Summarise briefly {{ parts }}")
    _, state = _run(tmp_path, server, text=changed)
    assert len(server.requests) == first + 1
    assert state.steps["summary"].calls == 1 and state.steps["parts"].calls == 0


def test_retries_on_429_and_500_then_succeeds(tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["429", "500", "malformed"]
    runner, state = _run(tmp_path, server)
    assert state.status == "done", state.error
    assert runner.provider.retries == 3


def test_hung_connection_times_out_and_is_retried(tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["hang"]
    runner, state = _run(tmp_path, server)
    assert state.status == "done", state.error
    assert runner.provider.retries == 1


def test_4xx_is_a_clear_error_at_once(tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["401"]
    runner, state = _run(tmp_path, server)
    assert state.status == "failed"
    assert "HTTP 401" in (state.error or "") and runner.provider.retries == 0
    saved = json.loads((tmp_path / "run" / "state.json").read_text())
    assert saved["status"] == "failed"


def test_prompt_ends_with_the_skeleton_and_never_our_notation(tmp_path: Path,
                                                               server: FakeLLM) -> None:
    _run(tmp_path, server)
    first = server.requests[0]["body"]["messages"][-1]["content"]
    assert "parts[N]: <text>,<text>,..." in first
    assert "parts[]" not in _prompt(server.requests[0])


def test_invalid_reply_is_reasked_with_its_error_not_itself(tmp_path: Path,
                                                            server: FakeLLM) -> None:
    server.faults = ["invalid"]
    _, state = _run(tmp_path, server)
    assert state.status == "done", state.error
    first, second = server.requests[0]["body"]["messages"], server.requests[1]["body"]["messages"]
    assert [m["role"] for m in second] == [m["role"] for m in first]  # no assistant turn
    assert "not valid toon" not in _prompt(server.requests[1])
    # The same prompt and skeleton, with one line saying what was wrong, where; the
    # general quoting hint gives way to it.
    skeleton, hint = "Reply with only this TOON", '\nDouble-quote texts holding , : or " (" as \\").'
    assert first[-1]["content"].endswith(hint)
    assert second[-1]["content"] == first[-1]["content"].replace(
        skeleton, "Your last reply was rejected: 1:8: unterminated string\n" + skeleton
    ).removesuffix(hint)
    assert state.steps["outline"].reasks == 1 and state.steps["outline"].rejected == 1
    kept = tmp_path / "run" / "rejected" / "outline-0-1.txt"
    assert kept.read_text() == "parts: \"not valid toon"
    rejected = [e for e in _events(tmp_path) if e["event"] == "rejected"]
    assert rejected[0]["file"] == "rejected/outline-0-1.txt" and rejected[0]["attempt"] == 1


@pytest.mark.parametrize("bad", [
    "Sure! Here is a title and some tags:\n\n**Title:** Life Between the Tides\n**Tags:** a, b",
    "title: Life Between the Tides\ntags[3]: ecology,ocean",
    "title: Life Between the Tides\ntags[3]: ecology,ocean,\"rock pools",
    '{"title": "Life Between the Tides", "tags": ["ecology"]}',
])
def test_a_reask_costs_at_most_1_2x_the_first_ask(tmp_path: Path, bad: str) -> None:
    from toon_tools.pipeline.replies import RejectedReply, read_reply
    from toon_tools.tokens import count_tokens

    text = ("name: blurb\ninputs[1]: topic\nsteps[1]:\n  - id: meta\n    prompt: \"Give a title "
            "and three tags for a short article about {{ inputs.topic }}.\"\n    output:\n"
            "      required[2]: title,\"tags[3]\"\n")
    p = load_pipeline(_pipeline(tmp_path, text))
    runner = Runner(p, {"topic": "tide pools"}, OpenAIProvider("http://127.0.0.1:9/v1", None),
                    cache=None, run_dir=tmp_path / "run")
    step, scope = p.steps["meta"], {"inputs": {"topic": "tide pools"}}
    assert step.shape is not None
    with pytest.raises(RejectedReply) as info:
        read_reply(bad, step.shape)
    first, _ = runner.messages(step, scope)
    reask, _ = runner.messages(step, scope, error=info.value.for_model())

    def tokens(messages: list[dict[str, str]]) -> int:
        return sum(count_tokens(m["content"]) for m in messages)

    assert tokens(reask) <= 1.2 * tokens(first), reask[-1]["content"]


def test_only_accepted_replies_are_cached(tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["invalid"]
    _run(tmp_path, server)
    c = diskcache.Cache(str(tmp_path / "llm"))
    contents = [c[k]["content"] for k in c]
    assert len(contents) == 7 and not any("not valid" in x for x in contents)
    calls = len(server.requests)
    _, state = _run(tmp_path, server)  # the re-asked step is a hit under its first ask's key
    assert len(server.requests) == calls and state.steps["outline"].cache_hits == 1


def test_a_reply_that_never_validates_fails_the_step_and_is_not_replayed(
        tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["invalid"] * 3
    _, state = _run(tmp_path, server)
    assert state.status == "failed" and state.steps["outline"].state == "failed"
    assert "no valid reply after 3 tries" in (state.error or "")
    assert state.steps["parts"].state == state.steps["summary"].state == "skipped"
    server.faults = []
    _, state = _run(tmp_path, server)  # nothing rejected was cached: it asks again
    assert state.status == "done" and state.steps["outline"].calls == 1


def test_no_cache_skips_reads_but_still_writes(tmp_path: Path, server: FakeLLM) -> None:
    _run(tmp_path, server, read_cache=False)
    _run(tmp_path, server, read_cache=False)
    assert len(server.requests) == 2 * 7  # no reads
    c = diskcache.Cache(str(tmp_path / "llm"))
    assert len(c) == 7  # written both times, under the same keys
    _, state = _run(tmp_path, server)
    assert len(server.requests) == 2 * 7 and state.status == "done"


@pytest.mark.parametrize("fault", ["fenced", "json", "commas", "miscount"])
def test_replies_a_user_would_accept_are_accepted_first_time(tmp_path: Path, server: FakeLLM,
                                                             fault: str) -> None:
    server.faults = [fault]
    _, state = _run(tmp_path, server)
    assert state.status == "done", state.error
    assert state.steps["outline"].reasks == 0 and len(server.requests) == 1 + 5 + 1
    parts = (tmp_path / "run" / "outline.toon").read_text()
    assert parts.startswith("parts[5]: parts 0 ")
    warnings = [e for e in _events(tmp_path) if e["event"] == "warning"]
    assert bool(warnings) == (fault in ("commas", "miscount"))  # a repair is said


def test_a_truncated_reply_is_asked_again_with_more_tokens(tmp_path: Path,
                                                           server: FakeLLM) -> None:
    server.faults = ["length"]
    text = FANOUT.replace("name: fanout", "name: fanout\nparams:\n  max_tokens: 100")
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "done", state.error
    assert [r["body"]["max_tokens"] for r in server.requests[:2]] == [100, 200]
    assert server.requests[0]["body"]["messages"] == server.requests[1]["body"]["messages"]
    assert (tmp_path / "run" / "rejected" / "outline-0-1.txt").exists()


def test_retries_are_events(tmp_path: Path, server: FakeLLM) -> None:
    server.faults = ["429"]
    _run(tmp_path, server)
    retry = [e for e in _events(tmp_path) if e["event"] == "retry"]
    assert retry == [{**retry[0], "step": "outline", "retry": 1, "reason": "HTTP 429",
                      "wait": 0.05}]


def test_budget_stop_keeps_every_answer_and_the_rerun_repeats_none(tmp_path: Path,
                                                                    server: FakeLLM) -> None:
    server.items, server.latency = 12, 0.05
    text = FANOUT.replace("name: fanout", "name: fanout\nparams:\n  max_tokens: 10")
    runner, state = _run(tmp_path, server, text=text, jobs=4, budget=200)
    assert state.status == "stopped" and "--budget-tokens 200" in (state.error or "")
    assert runner.used_tokens <= 200
    assert state.steps["parts"].state == "cancelled"
    assert state.steps["summary"].state == "skipped"
    answered = len(server.requests)
    assert answered == sum(s.calls for s in state.steps.values())  # none lost in flight
    _, state = _run(tmp_path, server, text=text, jobs=4)
    assert state.status == "done"
    bodies = [json.dumps(r["body"], sort_keys=True) for r in server.requests]
    assert len(bodies) == len(set(bodies)) == 1 + 12 + 1  # nothing paid for twice


def test_a_budget_without_max_tokens_is_never_overspent(tmp_path: Path, server: FakeLLM) -> None:
    # Long replies and no max_tokens: the runner sends the reply allowance it
    # reserved as the limit, so calls in flight cannot overrun the budget.
    server.items, server.latency = 12, 0.05
    server.completion_tokens = 1500
    runner, state = _run(tmp_path, server, jobs=4, budget=4000)
    assert state.status == "stopped"
    assert runner.used_tokens <= 4000
    assert all(r["body"].get("max_tokens") for r in server.requests)


def test_equal_items_share_one_call(tmp_path: Path, server: FakeLLM) -> None:
    text = FANOUT.replace('prompt: "Write about {{ item }}"', 'prompt: "Write about it"')
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "done", state.error
    assert len(server.requests) == 1 + 1 + 1  # five equal calls, one paid for
    assert state.steps["parts"].calls == 1 and state.steps["parts"].cache_hits == 4


def test_a_server_that_closes_every_connection(tmp_path: Path) -> None:
    server = FakeLLM(http10=True)  # HTTP/1.0: no kept-alive connection
    try:
        _, state = _run(tmp_path, server, jobs=2)
    finally:
        server.close()
    assert state.status == "done", state.error


def test_a_step_that_never_ran_is_skipped_even_when_it_streams(tmp_path: Path,
                                                               server: FakeLLM) -> None:
    text = FANOUT.replace("steps[3]:", "steps[4]:") + (
        "  - id: polish\n    needs[1]: parts\n    foreach: parts\n"
        "    prompt: \"Polish {{ item.text }}\"\n")
    server.faults = ["401"]
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "failed"
    assert {k: s.state for k, s in state.steps.items()} == {
        "outline": "failed", "parts": "skipped", "summary": "skipped", "polish": "skipped"}
    assert state.steps["polish"].seconds == 0.0


def test_first_failure_stops_new_calls_and_keeps_answers_in_flight(tmp_path: Path,
                                                                   server: FakeLLM) -> None:
    server.items, server.latency = 16, 0.1
    server.faults = [None, None, "401"]  # type: ignore[list-item]
    _, state = _run(tmp_path, server, jobs=4)
    assert state.status == "failed" and state.steps["parts"].state == "failed"
    assert "HTTP 401" in (state.error or "")
    item = state.steps["parts"].item
    assert item is not None and item.startswith("item ") and '"parts ' in item
    sent = len(server.requests)
    kinds = [e["event"] for e in _events(tmp_path)]
    assert "call_start" not in kinds[kinds.index("stop"):]  # no call sent after the failure
    assert sent < 1 + 16
    answered = state.steps["parts"].calls
    server.faults = []
    _run(tmp_path, server, jobs=4)
    assert len(server.requests) - sent == 16 - answered + 1  # only what was not answered


def test_a_call_in_flight_past_the_grace_period_is_aborted(tmp_path: Path,
                                                           server: FakeLLM) -> None:
    server.items, server.latency = 3, 0.3  # every item is sent before the 401 comes back
    server.faults = [None, "401", "hang", "hang"]  # type: ignore[list-item]
    _, state = _run(tmp_path, server, jobs=4, timeout=30.0, grace=0.2)
    assert state.status == "failed"
    ends = [e["event"] for e in _events(tmp_path)]
    assert "call_cancelled" in ends
    assert len(server.requests) == 4  # nothing was sent again


def test_structured_json_schema_sends_response_format_and_stores_toon(
        tmp_path: Path, server: FakeLLM) -> None:
    text = FANOUT.replace("name: fanout", "name: fanout\nstructured: json-schema").replace(
        '    prompt: "Summarise {{ parts }}"\n    output:\n      required[1]: summary\n',
        '    prompt: "Summarise {{ parts }}"\n')  # a step that declares no output
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "done", state.error
    fmt = server.requests[0]["body"]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    assert fmt["json_schema"]["schema"]["required"] == ["parts"]
    assert "grammar" not in server.requests[0]["body"]
    assert '{"parts": [<text>, <text>, ...]}' in server.requests[0]["body"]["messages"][-1]["content"]
    assert (tmp_path / "run" / "outline.toon").read_text().startswith("parts[5]: ")
    # A step without a shape is held to one text, which becomes its artifact.
    last = server.requests[-1]["body"]
    assert last["response_format"]["json_schema"]["schema"]["required"] == ["text"]
    assert (tmp_path / "run" / "summary.toon").read_text().startswith("text ")


def test_structured_toon_grammar_sends_a_grammar_a_step_may_turn_off(
        tmp_path: Path, server: FakeLLM) -> None:
    text = FANOUT.replace("name: fanout", "name: fanout\nstructured: toon-grammar").replace(
        '  - id: summary\n', '  - id: summary\n    structured: "off"\n')
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "done", state.error
    assert server.requests[0]["body"]["grammar"].startswith("root ::= ")
    assert "grammar" not in server.requests[-1]["body"]  # the summary step said off
    assert "response_format" not in server.requests[0]["body"]


def test_cost_from_the_price_table(tmp_path: Path, server: FakeLLM) -> None:
    text = FANOUT.replace("name: fanout", "name: fanout\nmodel: gpt-4o-mini")
    runner, state = _run(tmp_path, server, text=text)
    # 7 calls of 11 prompt and 7 completion tokens at $0.15 and $0.60 per million
    assert runner.used_usd == pytest.approx(7 * (11 * 0.15 + 7 * 0.60) / 1e6)
    assert state.steps["parts"].cost_usd == pytest.approx(5 * (11 * 0.15 + 7 * 0.60) / 1e6)


def test_budget_usd_needs_a_price_for_every_model(tmp_path: Path, server: FakeLLM) -> None:
    with pytest.raises(ToolError, match="no price for model 'local-gguf'"):
        _run(tmp_path, server, text=FANOUT.replace("name: fanout", "name: fanout\nmodel: local-gguf"),
             budget_usd=1.0)
    assert server.requests == []


def test_cache_key_covers_everything_that_changes_the_answer() -> None:
    base = dict(provider="openai", base_url="http://a/v1", model="m", params={"t": 1},
                messages=[{"role": "user", "content": "x"}], sample=0)
    key = call_key(**base)  # type: ignore[arg-type]
    for change in ({"base_url": "http://b/v1"}, {"model": "n"}, {"params": {"t": 2}},
                   {"messages": [{"role": "user", "content": "y"}]}, {"sample": 1},
                   {"provider": "offline"}):
        assert call_key(**{**base, **change}) != key  # type: ignore[arg-type]
    assert call_key(**{**base, "params": {"t": 1}}) == key  # type: ignore[arg-type]


KILLABLE = """
import sys, diskcache
from pathlib import Path
from toon_tools.pipeline.providers import OpenAIProvider
from toon_tools.pipeline.runner import Runner
from toon_tools.pipeline.spec import load_pipeline
p = load_pipeline(sys.argv[1])
Runner(p, {"topic": "tides"}, OpenAIProvider(sys.argv[2], "k"), cache=diskcache.Cache(sys.argv[3]),
       run_dir=Path(sys.argv[4]), jobs=2).run()
"""


def test_killed_run_resumes_without_repeating_completed_calls(tmp_path: Path, server: FakeLLM) -> None:
    server.items, server.latency = 20, 0.1
    f = _pipeline(tmp_path)
    args = [sys.executable, "-c", KILLABLE, str(f), server.url, str(tmp_path / "llm"),
            str(tmp_path / "run")]
    proc = subprocess.Popen(args)
    deadline = time.monotonic() + 60
    while len(server.requests) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = len(server.requests)
    assert 8 <= before < 22
    subprocess.run(args, check=True, timeout=120)
    bodies = [json.dumps(r["body"], sort_keys=True) for r in server.requests]
    repeated = len(bodies) - len(set(bodies))
    assert repeated <= 2  # at most the calls in flight when it was killed (jobs=2)
    assert len(set(bodies)) == 22
    assert json.loads((tmp_path / "run" / "state.json").read_text())["status"] == "done"


@pytest.mark.parametrize(("text", "line", "column", "message"), [
    ("steps[2]:\n  - id: a\n    needs[1]: b\n    prompt: x\n  - id: b\n    needs[1]: a\n    prompt: y",
     3, 15, "dependency cycle: a -> b -> a"),
    ("steps[1]:\n  - id: a\n    needs[1]: nope\n    prompt: x", 3, 15,
     "step 'a' needs 'nope', which is not a step"),
    ("steps[1]:\n  - id: a\n    prompt: \"{{ who }}\"", 3, 13,
     "step 'a': unknown template variable '{{ who }}'"),
    ("steps[1]:\n  - id: ../x\n    prompt: x", 2, 9,
     "steps[0]: 'id': \"../x\" must be letters, digits, '_' or '-' (it names files in the run folder)"),
    ("steps[1]:\n  - id: a\n    foreach: b.items\n    prompt: x", 3, 14,
     "step 'a': foreach 'b.items' must start with one of its needs"),
    ("steps[1]:\n  - id: a\n    prompt: x\n    colour: red", 4, 5, "step 'a': unknown key 'colour'"),
])
def test_invalid_pipelines_are_refused_before_any_call(tmp_path: Path, text: str, line: int,
                                                       column: int, message: str) -> None:
    with pytest.raises(PipelineError) as info:
        load_pipeline(_pipeline(tmp_path, text))
    e = info.value
    assert (e.path, e.line, e.column, e.message) == (str(tmp_path / "p.toon"), line, column, message)
    assert e.exit_code == 2  # a bad pipeline file is a configuration error


def test_foreach_over_a_non_array(tmp_path: Path, server: FakeLLM) -> None:
    declared = FANOUT.replace('required[1]: "parts[]"', "required[1]: parts")
    with pytest.raises(PipelineError, match="foreach 'outline.parts' is not an array: step "
                                            "'outline' declares a single value"):
        _run(tmp_path, server, text=declared)
    assert server.requests == []  # refused before any call
    undeclared = FANOUT.replace('    output:\n      required[1]: "parts[]"\n', "")
    server.faults = []
    _, state = _run(tmp_path, server, text=undeclared)  # only the reply can tell
    assert state.status == "failed" and "'outline.parts' has no value" in (state.error or "")
    assert len(server.requests) == 1


def test_cli_run_offline_example_and_status(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "snowflake" / "pipeline.toon"
    steps = load_pipeline(example).steps
    assert len(steps) == 11 and list(steps)[0] == "first_things"  # step 0 comes first
    assert steps["sentence"].needs == ["first_things"]
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache")}
    r = run_toon("pipeline", "run", str(example), "--input", "premise=A keeper of lighthouses",
                 "--run-dir", str(tmp_path / "run"), env=env)
    assert r.code == 0, r.err
    assert "drafts" in r.out and "run done" in r.out
    drafts = (tmp_path / "run" / "drafts.toon").read_text()
    assert drafts.startswith("[50]{draft}:")
    again = run_toon("pipeline", "run", str(example), "--input", "premise=A keeper of lighthouses",
                     "--run-dir", str(tmp_path / "run"), env=env)
    assert "run done, 0 tokens used by new calls" in again.out
    assert "drafts" in run_toon("pipeline", "status", str(tmp_path / "run")).out
    graph = run_toon("pipeline", "graph", str(example)).out
    assert "scene_list --> scene_briefs" in graph and "long_synopsis --> scene_list" in graph


def test_cli_errors(tmp_path: Path) -> None:
    f = _pipeline(tmp_path, FANOUT.replace("name: fanout", "name: fanout\nprovider: openai\n"
                                                          "base_url: https://api.example.invalid/v1"))
    r = run_toon("pipeline", "run", str(f), "--input", "topic=x", env={"OPENAI_API_KEY": ""})
    assert r.code == 2 and "no API key: set OPENAI_API_KEY" in r.err
    r = run_toon("pipeline", "run", str(f))  # a missing input is a usage error
    assert r.code == 2 and r.err == ("toon: error: missing input 'topic' "
                                     "(give it with --input topic=...)\n")
    r = run_toon("pipeline", "run", str(f), "--input", "topic=x", "--base-url",
                 "http://127.0.0.1:9/v1")  # nothing listens on the discard port
    assert r.code == 2 and "cannot reach http://127.0.0.1:9/v1" in r.err


def test_plan_says_what_would_run_and_why(tmp_path: Path) -> None:
    f = _pipeline(tmp_path)
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache")}
    run_dir = str(tmp_path / "run")
    fresh = run_toon("pipeline", "plan", str(f), "--input", "topic=tides", "--run-dir", run_dir,
                     env=env).out
    assert fresh.count("runs: no finished earlier run") == 3
    assert run_toon("pipeline", "run", str(f), "--input", "topic=tides", "--run-dir", run_dir,
                    "--provider", "offline", env=env).code == 0
    same = run_toon("pipeline", "plan", str(f), "--input", "topic=tides", "--run-dir", run_dir,
                    env=env).out
    assert same.count("cached: nothing it depends on changed") == 3
    assert "(5 x " in same  # the foreach estimate uses the earlier run's items
    other = run_toon("pipeline", "plan", str(f), "--input", "topic=moons", "--run-dir", run_dir,
                     env=env).out
    assert "runs: input 'topic' changed" in other and "runs: its input 'outline' changes" in other
    f.write_text(FANOUT.replace("Summarise {{ parts }}", "Summarise briefly {{ parts }}"))
    edited = run_toon("pipeline", "plan", str(f), "--input", "topic=tides", "--run-dir", run_dir,
                      env=env).out
    assert edited.count("cached: nothing") == 2 and "runs: the step itself changed" in edited


# ---------------------------------------------------------------- contracts (issue 13, item 5)

SCENES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["title", "mood", "scenes"],
    "properties": {
        "title": {"type": "string", "description": "The book's title"},
        "mood": {"enum": ["dark", "light"]},
        "year": {"type": "integer"},
        "scenes": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["title", "pov"],
            "properties": {"title": {"type": "string", "description": "A short title"},
                           "pov": {"type": "string"}}}},
    },
}
CONTRACT = """\
name: scenes
inputs[1]: topic
steps[1]:
  - id: plan
    prompt: "Plan a novel about {{ inputs.topic }}"
    max_reasks: 1
    output:
      schema: scene.json
"""


def _contract_run(tmp_path: Path, server: FakeLLM, mode: str = "off") -> tuple[Runner, Any]:
    (tmp_path / "scene.json").write_text(json.dumps(SCENES_SCHEMA))
    server.contract = SCENES_SCHEMA
    text = CONTRACT.replace("name: scenes", f"name: scenes\nstructured: {mode}")
    return _run(tmp_path, server, text=text)


def _break_two_fields(value: dict[str, Any]) -> dict[str, Any]:
    scenes = [dict(s) for s in value["scenes"]]
    scenes[3]["title"] = None
    del scenes[4]["pov"]
    return {**value, "mood": "grey", "scenes": scenes}


@pytest.mark.parametrize("mode", ["off", "json-schema", "toon-grammar"])
def test_a_schema_contract_drives_the_request_and_the_reask_quotes_only_failing_fields(
        tmp_path: Path, server: FakeLLM, mode: str) -> None:
    server.faults, server.contract_fault = ["contract"], _break_two_fields
    _, state = _contract_run(tmp_path, server, mode)
    assert state.status == "done", state.error
    first, reask = (r["body"] for r in server.requests)
    asked = first["messages"][-1]["content"]
    if mode == "json-schema":
        schema = first["response_format"]["json_schema"]["schema"]
        assert schema["additionalProperties"] is False
        assert schema["required"] == ["title", "mood", "year", "scenes"]
        assert schema["properties"]["year"]["type"] == ["integer", "null"]
    else:
        # The skeleton: descriptions as comments, the enum's choices, a tabular header.
        assert "# The book's title\ntitle: <text>\nmood: dark|light\n" in asked
        assert "# title: A short title\nscenes[N]{title,pov}:\n  <text>,<text>\n" in asked
    if mode == "toon-grammar":
        assert 'f1 ::= "mood: " ( "\\"dark\\"" | "\\"light\\"" )' in first["grammar"]
    said = reask["messages"][-1]["content"]
    assert said.startswith("Plan a novel about tides\n\nYour last reply was rejected: \n"
                           "mood: expected one of dark, light, got grey\n"
                           "scenes/3/title: expected a text, got null\n"
                           "scenes/4: no field 'pov'\n")
    assert "title (" not in said  # never the rejected reply itself
    artifact = (tmp_path / "run" / "plan.toon").read_text()
    assert artifact.startswith("title: ") and "scenes[5]{title,pov}:" in artifact
    rejected = [e for e in _events(tmp_path) if e["event"] == "rejected"]
    assert len(rejected) == 1 and rejected[0]["error"].startswith("mood: expected one of")


def test_a_step_that_never_meets_its_contract_fails_on_one_readable_line(
        tmp_path: Path, server: FakeLLM) -> None:
    server.faults, server.contract_fault = ["contract", "contract"], _break_two_fields
    _, state = _contract_run(tmp_path, server)
    assert state.status == "failed"
    assert state.error == ("step 'plan': no valid reply after 2 tries: mood: expected one of "
                           "dark, light, got grey; scenes/3/title: expected a text, got null; "
                           "scenes/4: no field 'pov'")
    # The re-ask still tells each failing field on its own line.
    said = server.requests[1]["body"]["messages"][-1]["content"]
    assert "got grey\nscenes/3/title: expected a text, got null\n" in said


def test_json_schema_warns_once_of_what_the_strict_schema_leaves_out(
        tmp_path: Path, server: FakeLLM) -> None:
    SCENES_SCHEMA["properties"]["title"]["maxLength"] = 80
    try:
        _, state = _contract_run(tmp_path, server, "json-schema")
    finally:
        del SCENES_SCHEMA["properties"]["title"]["maxLength"]
    assert state.status == "done", state.error
    warnings = [e["message"] for e in _events(tmp_path) if e["event"] == "warning"]
    assert warnings == ["json-schema: the strict schema sent leaves out /properties/title: "
                        "maxLength; replies are still checked against them"]


def test_a_contract_the_grammar_cannot_express_is_refused_before_any_call(
        tmp_path: Path, server: FakeLLM) -> None:
    nested = {"type": "object", "properties": {"grid": {"type": "array", "items": {
        "type": "array", "items": {"type": "integer"}}}}}
    (tmp_path / "scene.json").write_text(json.dumps(nested))
    text = CONTRACT.replace("name: scenes", "name: scenes\nstructured: toon-grammar")
    with pytest.raises(PipelineError) as e:
        load_pipeline(_pipeline(tmp_path, text))
    assert e.value.message == ("step 'plan': grid: toon-grammar cannot express a list of lists "
                               "(use structured: json-schema or off for this step, or simplify "
                               "its contract)")
    assert (e.value.line, e.value.column) == (8, 5)  # its output
    p = load_pipeline(_pipeline(tmp_path, CONTRACT))
    with pytest.raises(PipelineError, match="--structured toon-grammar: step 'plan': grid: "):
        p.use_structured("toon-grammar")
    assert server.requests == []


# ---------------------------------------------------------------- a table cut short (issue 13, item 7)

def _salvage_run(tmp_path: Path, server: FakeLLM, faults: list[str], reasks: int = 1,
                 schema: dict[str, Any] = SCENES_SCHEMA, **options: Any) -> tuple[Runner, Any]:
    (tmp_path / "scene.json").write_text(json.dumps(schema))
    server.contract, server.numbered_rows, server.items = schema, True, 10
    server.faults = faults
    text = CONTRACT.replace("name: scenes", "name: scenes\nparams:\n  max_tokens: 100")
    text = text.replace("max_reasks: 1", f"max_reasks: {reasks}")
    return _run(tmp_path, server, text=text, **options)


def _scenes(tmp_path: Path) -> list[dict[str, Any]]:
    from toon_tools.codec import decode

    return decode((tmp_path / "run" / "plan.toon").read_text())["scenes"]


ROWS_1_TO_10 = [{"title": f"title {i}", "pov": f"pov {i}"} for i in range(1, 11)]


@pytest.mark.parametrize("cut", ["cut:5", "cutstop:5"])
def test_a_table_cut_short_is_completed_by_asking_only_for_the_missing_rows(
        tmp_path: Path, server: FakeLLM, cut: str) -> None:
    _, state = _salvage_run(tmp_path, server, [cut])
    assert state.status == "done", state.error
    first, follow = (r["body"] for r in server.requests)
    asked = follow["messages"][-1]["content"]
    assert asked.startswith("Plan a novel about tides\n\nYour last reply was cut off in scenes "
                            "after row 4 of 10. Row 4, the last that arrived:\n"
                            "  title 4,pov 4\nContinue with rows 5-10 of 10 only")
    assert "scenes[6]{title,pov}:" in asked and "mood" not in asked  # the rows alone
    assert first["max_tokens"] == follow["max_tokens"] == 100  # not a whole retry
    assert _scenes(tmp_path) == ROWS_1_TO_10
    stats = state.steps["plan"]
    assert (stats.calls, stats.salvages, stats.reasks, stats.rejected) == (2, 1, 0, 1)
    assert (stats.prompt_tokens, stats.completion_tokens) == (22, 14)  # both paid for
    events = _events(tmp_path)
    salvage = [e for e in events if e["event"] == "salvage"]
    assert salvage == [{**salvage[0], "step": "plan", "attempt": 1, "round": 1,
                        "field": "scenes", "rows": [5, 10], "of": 10, "received": 6}]
    assert [e.get("salvage") for e in events if e["event"] == "call_end"] == [None, 1]
    assert sorted(p.name for p in (tmp_path / "run" / "rejected").iterdir()) == ["plan-0-1.txt"]
    # Only the merged reply is cached, under the first ask's key: a re-run calls nothing.
    cache = diskcache.Cache(str(tmp_path / "llm"))
    (record,) = [cache[k] for k in cache.iterkeys()]
    cache.close()
    assert (record["attempts"], record["salvage_rounds"]) == (1, 1)
    assert (record["prompt_tokens"], record["completion_tokens"]) == (22, 14)
    _, again = _salvage_run(tmp_path, server, [])
    assert again.status == "done" and len(server.requests) == 2
    assert again.steps["plan"].cache_hits == 1 and _scenes(tmp_path) == ROWS_1_TO_10


def test_each_follow_up_that_adds_rows_earns_another(tmp_path: Path, server: FakeLLM) -> None:
    _, state = _salvage_run(tmp_path, server, ["cut:5", "cut:3"])  # the follow-up is cut too
    assert state.status == "done", state.error
    asks = [r["body"]["messages"][-1]["content"] for r in server.requests]
    assert "rows 5-10 of 10" in asks[1] and "rows 7-10 of 10" in asks[2]
    assert "  title 6,pov 6\n" in asks[2]
    assert _scenes(tmp_path) == ROWS_1_TO_10
    assert state.steps["plan"].salvages == 2
    assert [(e["rows"], e["received"]) for e in _events(tmp_path) if e["event"] == "salvage"] \
        == [([5, 10], 2), ([7, 10], 4)]
    assert sorted(p.name for p in (tmp_path / "run" / "rejected").iterdir()) == [
        "plan-0-1.s1.txt", "plan-0-1.txt"]


def test_a_follow_up_that_adds_no_row_with_no_reask_left_fails_with_declared_and_found(
        tmp_path: Path, server: FakeLLM) -> None:
    _, state = _salvage_run(tmp_path, server, ["cut:5", "echo"], reasks=0)
    assert state.status == "failed" and state.failed_step == "plan"
    error = state.steps["plan"].error
    assert error == ("the reply was cut short in scenes: declared 10 rows, found 4 after "
                     "1 follow-up (the last added none)")
    assert len(server.requests) == 2 and state.steps["plan"].calls == 2
    events = _events(tmp_path)
    assert [e["received"] for e in events if e["event"] == "salvage"] == [0]
    assert any("shown for continuity" in e.get("message", "") for e in events
               if e["event"] == "warning")
    assert sorted(p.name for p in (tmp_path / "run" / "rejected").iterdir()) == [
        "plan-0-1.s1.txt", "plan-0-1.txt"]
    saved = json.loads((tmp_path / "run" / "state.json").read_text())
    assert "declared 10 rows, found 4" in saved["error"]


def test_no_complete_row_asks_it_all_again_with_more_tokens(tmp_path: Path,
                                                           server: FakeLLM) -> None:
    _, state = _salvage_run(tmp_path, server, ["cut:1"])
    assert state.status == "done", state.error
    first, again = (r["body"] for r in server.requests)
    assert (first["max_tokens"], again["max_tokens"]) == (100, 200)
    assert first["messages"] == again["messages"]
    assert state.steps["plan"].salvages == 0 and len(_scenes(tmp_path)) == 10


def test_a_budget_stop_during_a_salvage_keeps_what_was_paid_for(tmp_path: Path,
                                                               server: FakeLLM) -> None:
    # Each call reserves 104 prompt + 100 reply tokens: the first fits 210, the
    # follow-up (18 used + 204) does not.
    runner, state = _salvage_run(tmp_path, server, ["cut:5"], budget=210,
                                 count_tokens=lambda s: 100)
    assert state.status == "stopped" and "--budget-tokens 210" in (state.error or "")
    stats = state.steps["plan"]
    assert stats.state == "cancelled" and (stats.calls, stats.salvages) == (1, 0)
    assert runner.used_tokens == 18 == stats.prompt_tokens + stats.completion_tokens
    events = _events(tmp_path)
    assert sum(e["event"] == "call_end" for e in events) == len(server.requests) == 1
    assert not any(e["event"] == "salvage" for e in events)
    assert (tmp_path / "run" / "rejected" / "plan-0-1.txt").exists()
    saved = json.loads((tmp_path / "run" / "state.json").read_text())
    assert saved["used_tokens"] == 18 and saved["steps"]["plan"]["calls"] == 1
    # Nothing partial was cached: the re-run asks the first question again.
    _, again = _salvage_run(tmp_path, server, [])
    assert again.status == "done" and len(server.requests) == 2
    assert server.requests[1]["body"] == server.requests[0]["body"]


def test_the_merged_reply_is_held_to_the_contract_like_any_other(tmp_path: Path,
                                                                 server: FakeLLM) -> None:
    server.contract_fault = lambda v: {"scenes": [{**r, "title": "<text>"} if i == 0 else r
                                                  for i, r in enumerate(v["scenes"])]}
    _, state = _salvage_run(tmp_path, server, ["cut:5", "contract"])
    assert state.status == "done", state.error
    reask = server.requests[2]["body"]["messages"][-1]["content"]
    assert "Your last reply was rejected: 9:3: scenes/4/title: the placeholder <text>" in reask
    assert sorted(p.name for p in (tmp_path / "run" / "rejected").iterdir()) == [
        "plan-0-1.merged.txt", "plan-0-1.txt"]
    merged = (tmp_path / "run" / "rejected" / "plan-0-1.merged.txt").read_text()
    assert "scenes[10]{title,pov}:" in merged and "\n  <text>,pov 5\n" in merged
    assert (state.steps["plan"].calls, state.steps["plan"].reasks) == (3, 1)
    assert len(_scenes(tmp_path)) == 10


def test_under_toon_grammar_a_follow_up_sends_the_grammar_of_the_missing_rows(
        tmp_path: Path, server: FakeLLM) -> None:
    (tmp_path / "scene.json").write_text(json.dumps(SCENES_SCHEMA))
    server.contract, server.numbered_rows, server.items = SCENES_SCHEMA, True, 10
    server.faults = ["cut:5"]
    text = CONTRACT.replace("name: scenes", "name: scenes\nstructured: toon-grammar")
    _, state = _run(tmp_path, server, text=text)
    assert state.status == "done", state.error
    first, follow = (r["body"]["grammar"] for r in server.requests)
    assert "mood" in first and "mood" not in follow
    assert '"scenes[" ( "6]{title,pov}:" f2{6} )' in follow
    assert _scenes(tmp_path) == ROWS_1_TO_10


def test_a_follow_up_that_adds_no_row_falls_back_to_a_reask_while_reasks_remain(
        tmp_path: Path, server: FakeLLM) -> None:
    _, state = _salvage_run(tmp_path, server, ["cut:5", "echo"])
    assert state.status == "done", state.error
    assert _scenes(tmp_path) == ROWS_1_TO_10
    first, follow, again = (r["body"] for r in server.requests)
    # As with salvage off: the cut reply asked again whole, with twice the max_tokens.
    assert (again["messages"], again["max_tokens"]) == (first["messages"], 200)
    stats = state.steps["plan"]
    assert (stats.calls, stats.salvages, stats.reasks, stats.rejected) == (3, 1, 1, 2)
    events = _events(tmp_path)
    assert [e["error"] for e in events if e["event"] == "rejected"] == [
        "the reply was cut off at the token limit (finish_reason: length)",
        "0 of rows 5-10 came back whole"]
    assert [e["message"] for e in events if e["event"] == "warning"][-1] == (
        "the reply was cut short in scenes: declared 10 rows, found 4 after 1 follow-up "
        "(the last added none); asking again")
    assert [(e["attempt"], e.get("salvage")) for e in events if e["event"] == "call_start"] \
        == [(1, None), (1, 1), (2, None)]
    assert sorted(p.name for p in (tmp_path / "run" / "rejected").iterdir()) == [
        "plan-0-1.s1.txt", "plan-0-1.txt"]


def test_a_follow_up_that_starts_the_table_over_merges_the_true_table(
        tmp_path: Path, server: FakeLLM) -> None:
    _, state = _salvage_run(tmp_path, server, ["cut:5", "restart"])
    assert state.status == "done", state.error
    assert _scenes(tmp_path) == ROWS_1_TO_10
    assert (state.steps["plan"].calls, state.steps["plan"].salvages) == (2, 1)
    warnings = [e["message"] for e in _events(tmp_path) if e["event"] == "warning"]
    assert warnings == ["scenes: rows 1-4, which had arrived, were written again: dropped"]


def test_a_declared_count_beyond_the_contract_is_reasked_not_salvaged(
        tmp_path: Path, server: FakeLLM) -> None:
    bounded = {**SCENES_SCHEMA, "properties": {**SCENES_SCHEMA["properties"], "scenes": {
        **SCENES_SCHEMA["properties"]["scenes"], "maxItems": 10}}}
    _, state = _salvage_run(tmp_path, server, ["overcut:5"], schema=bounded)
    assert state.status == "done", state.error
    stats = state.steps["plan"]
    assert (stats.calls, stats.salvages, stats.reasks) == (2, 0, 1)
    reask = server.requests[1]["body"]["messages"][-1]["content"]
    assert "scenes: declared 100 rows; the contract allows at most 10" in reask
    assert "rows 5-" not in reask and _scenes(tmp_path) == ROWS_1_TO_10
