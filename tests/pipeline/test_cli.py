"""``toon pipeline run|status|plan`` as a user runs them, against a Chat Completions
server on loopback: exit codes, the status table, signals, costs."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Result, run_toon
from tests.pipeline.server import FakeLLM

from .test_runner import FANOUT

LONG = "a_step_name_much_longer_than_the_sixteen_columns_of_old"


@pytest.fixture
def server() -> Iterator[FakeLLM]:
    s = FakeLLM()
    yield s
    s.close()


def _pipeline(tmp_path: Path, server: FakeLLM, text: str = FANOUT) -> Path:
    f = tmp_path / "p.toon"
    f.write_text(text.replace("name: fanout", f"name: fanout\nprovider: openai\n"
                                              f"base_url: \"{server.url}\"\ntimeout: 5"))
    return f


def _env(tmp_path: Path) -> dict[str, str]:
    return {"TOON_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": ""}  # loopback: no key


def _run(tmp_path: Path, f: Path, *args: str) -> Result:
    return run_toon("pipeline", "run", str(f), "--input", "topic=tides", "--run-dir",
                    str(tmp_path / "run"), *args, env=_env(tmp_path))


def test_a_finished_run_and_its_status_exit_0(tmp_path: Path, server: FakeLLM) -> None:
    r = _run(tmp_path, _pipeline(tmp_path, server))
    assert r.code == 0, r.err
    status = run_toon("pipeline", "status", str(tmp_path / "run"))
    assert status.code == 0 and "run done" in status.out


def test_a_failed_run_and_its_status_exit_1_naming_step_item_and_error(
        tmp_path: Path, server: FakeLLM) -> None:
    text = FANOUT.replace("id: parts", f"id: {LONG}").replace("needs[1]: parts",
                                                               f"needs[1]: {LONG}")
    text = text.replace("{{ parts }}", "{{ " + LONG + " }}")
    server.faults = [None, None, None, "401"]  # type: ignore[list-item]
    r = _run(tmp_path, _pipeline(tmp_path, server, text), "--jobs", "1")
    assert r.code == 1
    m = re.match(rf"toon: error: run failed: step '{LONG}', (item (\d) \(\"parts \2 \w+\"\)): ", r.err)
    assert m, r.err
    status = run_toon("pipeline", "status", str(tmp_path / "run"))
    assert status.code == 1
    lines = status.out.splitlines()
    assert lines[0].startswith("step" + " " * (len(LONG) - 4) + "  state")
    rows = {line.split()[0]: line for line in lines[1:4]}
    assert rows[LONG].split()[1] == "failed" and rows["summary"].split()[1] == "skipped"
    assert len({line.index(line.split()[1]) for line in lines[1:4]}) == 1  # aligned
    assert f"failed: step {LONG}, {m.group(1)}: " in status.out and "HTTP 401" in status.out
    assert status.err.startswith("toon: error: run failed: ")


def test_sigterm_stops_writes_state_and_keeps_answers(tmp_path: Path, server: FakeLLM) -> None:
    server.items, server.latency = 40, 0.2
    f = _pipeline(tmp_path, server)
    proc = subprocess.Popen(
        [sys.executable, "-m", "toon_tools", "pipeline", "run", str(f), "--input", "topic=tides",
         "--run-dir", str(tmp_path / "run"), "--jobs", "4"],
        env={**os.environ, **_env(tmp_path)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.monotonic() + 60
    while len(server.requests) < 8 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "Traceback" not in err
    assert "run stopped: interrupted by SIGTERM" in err
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["status"] == "stopped" and state["steps"]["parts"]["state"] == "cancelled"
    sent = len(server.requests)
    assert sent < 1 + 40 + 1
    answered = state["steps"]["parts"]["calls"]
    assert answered == sent - 1  # every call that was sent was answered and kept
    r = _run(tmp_path, f)
    assert r.code == 0, r.err
    bodies = [json.dumps(q["body"], sort_keys=True) for q in server.requests]
    assert len(bodies) == len(set(bodies)) == 1 + 40 + 1  # none paid for twice


def test_state_json_is_written_before_the_first_call_answers(tmp_path: Path,
                                                            server: FakeLLM) -> None:
    server.latency = 30  # the first call never answers before the kill
    proc = subprocess.Popen(
        [sys.executable, "-m", "toon_tools", "pipeline", "run", str(_pipeline(tmp_path, server)),
         "--input", "topic=tides", "--run-dir", str(tmp_path / "run")],
        env={**os.environ, **_env(tmp_path)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not server.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.kill()
    proc.wait(timeout=30)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["status"] == "running" and state["steps"]["outline"]["state"] in (
        "pending", "running")


def test_the_timeout_counts_from_the_send_not_the_queue(tmp_path: Path, server: FakeLLM) -> None:
    server.items, server.latency = 4, 0.6
    text = FANOUT.replace("name: fanout", "name: fanout\nmax_reasks: 0")
    f = _pipeline(tmp_path, server, text)
    f.write_text(f.read_text().replace("timeout: 5", "timeout: 1"))
    # One call at a time: the last item waits 1.8 s for its slot, longer than the
    # timeout; each call itself takes 0.6 s.
    r = _run(tmp_path, f, "--jobs", "1")
    assert r.code == 0, r.err
    events = (tmp_path / "run" / "events.jsonl").read_text()
    assert '"event": "retry"' not in events and len(server.requests) == 1 + 4 + 1


def test_cost_in_status_json_and_plan(tmp_path: Path, server: FakeLLM) -> None:
    f = _pipeline(tmp_path, server, FANOUT.replace("name: fanout", "name: fanout\nmodel: gpt-4o"))
    plan = run_toon("pipeline", "plan", str(f), "--input", "topic=tides", "--run-dir",
                    str(tmp_path / "run"), env=_env(tmp_path))
    assert plan.code == 0 and "est. cost" in plan.out
    assert "estimated cost of the calls that would run: $" in plan.out
    r = _run(tmp_path, f)
    assert r.code == 0, r.err
    # 7 calls of 11 prompt and 7 completion tokens at $2.50 and $10 per million
    total = 7 * (11 * 2.50 + 7 * 10.00) / 1e6
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["used_usd"] == pytest.approx(total, abs=1e-6)
    assert f"${total:,.4f}" in run_toon("pipeline", "status", str(tmp_path / "run")).out


def test_budget_usd_stops_and_an_unpriced_model_is_exit_2(tmp_path: Path,
                                                         server: FakeLLM) -> None:
    f = _pipeline(tmp_path, server, FANOUT.replace("name: fanout", "name: fanout\nmodel: gpt-4o\n"
                                                   "params:\n  max_tokens: 10"))
    r = _run(tmp_path, f, "--budget-usd", "0.0003")
    assert r.code == 1 and "would exceed --budget-usd 0.0003" in r.err
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert 0 < state["used_usd"] <= 0.0003
    local = _pipeline(tmp_path, server, FANOUT.replace("name: fanout", "name: fanout\nmodel: mine"))
    r = _run(tmp_path, local, "--budget-usd", "1")
    assert r.code == 2 and "no price for model 'mine'" in r.err
    priced = tmp_path / ".toon.toml"
    priced.write_text('[pipeline.prices.mine]\ninput = 1.0\noutput = 2.0\n')
    r = run_toon("pipeline", "run", str(local), "--input", "topic=tides", "--run-dir",
                 str(tmp_path / "run2"), "--budget-usd", "1", env=_env(tmp_path), cwd=tmp_path)
    assert r.code == 0, r.err


def test_no_cache_calls_again_but_still_stores(tmp_path: Path, server: FakeLLM) -> None:
    f = _pipeline(tmp_path, server)
    assert _run(tmp_path, f, "--no-cache").code == 0
    assert _run(tmp_path, f, "--no-cache").code == 0
    assert len(server.requests) == 14
    assert _run(tmp_path, f).code == 0
    assert len(server.requests) == 14  # what --no-cache runs stored serves this one


def test_an_offline_run_meets_a_typed_contract(tmp_path: Path) -> None:
    """The offline provider answers what each step's contract asks for: integers,
    enums and a table of objects, not only texts (the README's offline try-out)."""
    (tmp_path / "scene.json").write_text(json.dumps({
        "type": "object", "required": ["title", "mood", "beats"],
        "properties": {
            "title": {"type": "string", "description": "A short title."},
            "mood": {"enum": ["dark", "light"]},
            "beats": {"type": "array", "minItems": 2, "items": {
                "type": "object", "required": ["n", "what"],
                "properties": {"n": {"type": "integer", "minimum": 1}, "what": {"type": "string"}},
            }},
        },
    }))
    f = tmp_path / "p.toon"
    f.write_text("name: typed\nprovider: offline\nmodel: m\nsteps[1]:\n  - id: scene\n"
                 "    prompt: A scene.\n    output:\n      schema: scene.json\n")
    r = run_toon("pipeline", "run", str(f), "--run-dir", str(tmp_path / "run"),
                 env=_env(tmp_path))
    assert r.code == 0, r.err
    import jsonschema

    from toon_tools import decode

    artifact = decode((tmp_path / "run" / "scene.toon").read_text())
    jsonschema.validate(artifact, json.loads((tmp_path / "scene.json").read_text()))


def test_status_shows_reasks_and_salvages_beside_the_calls(tmp_path: Path,
                                                         server: FakeLLM) -> None:
    from .test_runner import CONTRACT, SCENES_SCHEMA

    (tmp_path / "scene.json").write_text(json.dumps(SCENES_SCHEMA))
    server.contract, server.numbered_rows, server.items = SCENES_SCHEMA, True, 10
    server.faults = ["cut:5"]  # type: ignore[list-item]
    f = tmp_path / "p.toon"
    f.write_text(CONTRACT.replace("name: scenes", f"name: scenes\nprovider: openai\n"
                                  f"base_url: \"{server.url}\"\ntimeout: 5\n"
                                  "params:\n  max_tokens: 100"))
    assert _run(tmp_path, f).code == 0
    status = run_toon("pipeline", "status", str(tmp_path / "run"))
    assert status.code == 0, status.err
    header, row = status.out.splitlines()[:2]
    assert header.split()[:6] == ["step", "state", "calls", "cached", "reasks", "salvages"]
    assert row.split()[:6] == ["plan", "done", "2", "0", "0", "1"]
