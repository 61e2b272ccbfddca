"""``toon pipeline run --batch`` as a user runs it, against the batch services on
loopback (``batch_server.FakeBatches``): submit, exit 75, collect, the next wave,
re-asks, expired jobs and per-call errors, a pipeline edited in between, and
the Anthropic Message Batches API."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result, run_toon
from tests.pipeline.batch_server import FakeBatches
from tests.pipeline.server import FakeLLM
from toon_tools.pipeline.prices import BATCH_DISCOUNT, Price

from .test_runner import FANOUT

SUBMITTED = re.compile(r"^submitted (\d+) calls? as (\w+); run again to collect$", re.M)


@pytest.fixture
def batches() -> Iterator[FakeBatches]:
    s = FakeBatches()
    yield s
    s.close()


def _pipeline(tmp_path: Path, url: str, provider: str = "openai", text: str = FANOUT,
              name: str = "p.toon") -> Path:
    f = tmp_path / name
    f.write_text(text.replace("name: fanout", f"name: fanout\nprovider: {provider}\n"
                              f"base_url: \"{url}\"\nmodel: gpt-4o-mini\ntimeout: 5"))
    return f


def _run(tmp_path: Path, f: Path, *args: str, run: str = "run") -> Result:
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": "",
           "ANTHROPIC_API_KEY": ""}
    return run_toon("pipeline", "run", str(f), "--input", "topic=tides", "--run-dir",
                    str(tmp_path / run), *args, env=env)


def _submitted(r: Result) -> tuple[int, str]:
    assert r.code == 75, (r.code, r.err)
    m = SUBMITTED.search(r.err)
    assert m, r.err
    return int(m.group(1)), m.group(2)


def _state(tmp_path: Path, run: str = "run") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / run / "state.json").read_text())
    return data


def test_batch_prices_are_half_the_list_price() -> None:
    price = Price(0.15, 0.60, 0.075).batch()
    assert BATCH_DISCOUNT == 0.5
    assert price.cost(1000, 100) == pytest.approx(Price(0.15, 0.60).cost(1000, 100) / 2)
    assert price.cost(1000, 0, cached_tokens=1000) == pytest.approx(0.075 * 1000 / 2 / 1e6)


@pytest.mark.slow  # five runs of the CLI
def test_each_wave_is_one_batch_job_and_the_last_run_exits_0(
        tmp_path: Path, batches: FakeBatches) -> None:
    # The same pipeline run directly: the bodies each batch line must carry.
    direct = FakeLLM()
    try:
        r = _run(tmp_path, _pipeline(tmp_path, direct.url, name="d.toon"), run="direct")
        assert r.code == 0, r.err
        direct_bodies = [q["body"] for q in direct.requests]
    finally:
        direct.close()
    work = tmp_path / "b"
    work.mkdir()
    f = _pipeline(work, batches.url)

    assert _submitted(_run(work, f, "--batch")) == (1, "batch_0001")
    assert batches.uploads == ["batch"]
    state = _state(work)
    assert state["status"] == "batched" and state["steps"]["outline"]["state"] == "batched"
    [job] = state["batches"]
    assert job["id"] == "batch_0001"
    [(cid, meta)] = job["calls"].items()
    assert meta["step"] == "outline" and meta["key"].startswith("llm:") and meta["attempt"] == 1
    # A second --batch while the job is pending would poll; here it has ended.
    assert _submitted(_run(work, f, "--batch")) == (5, "batch_0002")
    assert _submitted(_run(work, f, "--batch")) == (1, "batch_0003")
    r = _run(work, f, "--batch")
    assert r.code == 0, r.err
    assert batches.direct == []  # every call went by batch
    # Each line's body is exactly what the direct path sent (structured output too).
    key = lambda b: json.dumps(b, sort_keys=True)  # noqa: E731
    assert sorted(map(key, (body for _, body in batches.lines()))) == sorted(
        map(key, direct_bodies))
    for name in ("outline.toon", "parts.toon", "summary.toon"):
        assert (work / "run" / name).read_text() == (tmp_path / "direct" / name).read_text()
    # The last run collected one call at batch prices: gpt-4o-mini at half of
    # $0.15/$0.60 per million tokens, for 1000 prompt and 100 reply tokens.
    summary = _state(work)["steps"]["summary"]
    assert summary["batch_calls"] == 1 and summary["calls"] == 1
    assert summary["cost_usd"] == pytest.approx((1000 * 0.075 + 100 * 0.30) / 1e6)
    assert "1 of the calls went by batch job, at batch prices" in r.out
    status = run_toon("pipeline", "status", str(work / "run"))
    assert status.code == 0 and "went by batch job" in status.out


def test_a_pending_job_is_polled_and_never_sent_twice(tmp_path: Path) -> None:
    batches = FakeBatches(polls=1)
    try:
        f = _pipeline(tmp_path, batches.url)
        assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0001")
        r = _run(tmp_path, f, "--batch")
        assert r.code == 75, r.err
        assert r.err.strip() == ("batch_0001 in_progress, 0/1 done; run again to collect")
        assert len(batches.jobs) == 1 and batches.direct == []  # nothing new sent
        status = run_toon("pipeline", "status", str(tmp_path / "run"))
        assert status.code == 75 and "run again to collect" in status.err
        # Without --batch, a later run collects the job and goes on directly.
        r = _run(tmp_path, f)
        assert r.code == 0, r.err
        assert len(batches.jobs) == 1 and len(batches.direct) == 5 + 1
        assert all("List the parts" not in json.dumps(b) for b in batches.direct)
    finally:
        batches.close()


def test_an_invalid_reply_is_re_asked_in_the_next_job(tmp_path: Path,
                                                       batches: FakeBatches) -> None:
    batches.faults = ["invalid"]
    f = _pipeline(tmp_path, batches.url)
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0001")
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0002")
    [(_, reask)] = batches.jobs["batch_0002"]["lines"]
    assert "Your last reply was rejected" in reask["messages"][-1]["content"]
    assert list((tmp_path / "run" / "rejected").iterdir())
    assert _submitted(_run(tmp_path, f, "--batch")) == (5, "batch_0003")
    assert batches.direct == []


def test_batch_fallback_direct_re_asks_at_once(tmp_path: Path, batches: FakeBatches) -> None:
    batches.faults = ["invalid"]
    f = _pipeline(tmp_path, batches.url)
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0001")
    r = _run(tmp_path, f, "--batch", "--batch-fallback", "direct")
    assert _submitted(r) == (5, "batch_0002")  # the re-ask answered, the next wave sent
    [reask] = batches.direct
    assert "Your last reply was rejected" in reask["messages"][-1]["content"]
    assert _state(tmp_path)["steps"]["outline"]["state"] == "done"


@pytest.mark.slow  # five runs of the CLI
def test_expired_calls_are_re_submitted_once(tmp_path: Path, batches: FakeBatches) -> None:
    # The second job expires with 2 of its 5 calls answered.
    batches.outcomes = ["completed", "expired"]
    f = _pipeline(tmp_path, batches.url)
    _submitted(_run(tmp_path, f, "--batch"))
    assert _submitted(_run(tmp_path, f, "--batch")) == (5, "batch_0002")
    assert _submitted(_run(tmp_path, f, "--batch")) == (3, "batch_0003")
    again = {cid for cid, _ in batches.jobs["batch_0003"]["lines"]}
    first = [cid for cid, _ in batches.jobs["batch_0002"]["lines"]]
    assert again == set(first[2:])  # the expired ones, and only those
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0004")
    assert _run(tmp_path, f, "--batch").code == 0


def test_a_call_that_fails_twice_fails_its_step(tmp_path: Path, batches: FakeBatches) -> None:
    batches.faults = ["error", "error"]
    f = _pipeline(tmp_path, batches.url)
    _submitted(_run(tmp_path, f, "--batch"))
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "batch_0002")
    r = _run(tmp_path, f, "--batch")
    assert r.code == 1, r.err
    assert "run failed: step 'outline': batch: HTTP 500: scripted per-call error " \
           "(in 2 batch jobs)" in r.err
    assert len(batches.jobs) == 2
    assert _state(tmp_path)["steps"]["outline"]["state"] == "failed"


def test_a_step_edited_between_submit_and_collect(tmp_path: Path,
                                                   batches: FakeBatches) -> None:
    f = _pipeline(tmp_path, batches.url)
    _submitted(_run(tmp_path, f, "--batch"))
    original = f.read_text()
    f.write_text(original.replace("List the parts of", "Name the parts of"))
    r = _run(tmp_path, f, "--batch")
    assert _submitted(r) == (1, "batch_0002")  # the edited prompt is asked
    assert "1 batch reply of step 'outline' no longer matches the pipeline" in r.err
    assert "Name the parts" in batches.jobs["batch_0002"]["lines"][0][1]["messages"][-1][
        "content"]
    # The reply paid for is in the cache: the original prompt, in a new run
    # folder, goes straight on to the next wave.
    f.write_text(original)
    assert _submitted(_run(tmp_path, f, "--batch", run="again")) == (5, "batch_0003")


def test_a_budget_applies_to_the_calls_held_for_a_job(tmp_path: Path,
                                                      batches: FakeBatches) -> None:
    f = _pipeline(tmp_path, batches.url)
    r = _run(tmp_path, f, "--batch", "--budget-usd", "0.00001")
    assert r.code == 1 and "would exceed --budget-usd" in r.err
    assert batches.jobs == {}


@pytest.mark.slow  # the anthropic SDK takes ~3 s to import, in each of four runs
def test_anthropic_message_batches(tmp_path: Path, batches: FakeBatches) -> None:
    pytest.importorskip("anthropic")
    f = _pipeline(tmp_path, batches.root, provider="anthropic")
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "msgbatch_0001")
    [(cid, params)] = batches.jobs["msgbatch_0001"]["lines"]
    assert params["model"] == "gpt-4o-mini" and params["max_tokens"] == 4096
    assert cid.startswith("toon-") and len(cid) <= 64
    assert _submitted(_run(tmp_path, f, "--batch")) == (3, "msgbatch_0002")  # 3 parts
    assert _submitted(_run(tmp_path, f, "--batch")) == (1, "msgbatch_0003")
    r = _run(tmp_path, f, "--batch")
    assert r.code == 0, r.err
    summary = _state(tmp_path)["steps"]["summary"]
    assert summary["batch_calls"] == 1 and batches.direct == []
    # claude's list prices are not gpt-4o-mini's; the pipeline's model is priced as given
    assert summary["cost_usd"] == pytest.approx((1000 * 0.075 + 100 * 0.30) / 1e6)


def test_each_sample_is_a_line_of_its_own(tmp_path: Path, batches: FakeBatches) -> None:
    text = FANOUT.replace('    output:\n      required[1]: "parts[]"',
                          '    samples: 3\n    output:\n      required[1]: "parts[]"')
    f = _pipeline(tmp_path, batches.url, text=text)
    assert _submitted(_run(tmp_path, f, "--batch")) == (3, "batch_0001")
    assert len({cid for cid, _ in batches.lines()}) == 3


def test_plan_estimates_at_batch_prices(tmp_path: Path) -> None:
    f = _pipeline(tmp_path, "http://127.0.0.1:9/v1")
    costs = []
    for extra in ((), ("--batch",)):
        r = run_toon("pipeline", "plan", str(f), "--input", "topic=tides", "--run-dir",
                     str(tmp_path / "none"), *extra)
        assert r.code == 0, r.err
        m = re.search(r"would run: \$([\d.]+) \((.*?);", r.out)
        assert m, r.out
        costs.append((float(m.group(1)), m.group(2)))
    (listed, basis), (batched, batch_basis) = costs
    assert basis == "list prices" and batch_basis == "batch prices, half the list price"
    assert batched == pytest.approx(listed / 2, abs=0.0001)


def test_two_runs_of_one_folder_at_once_never_send_a_job_twice(tmp_path: Path,
                                                               batches: FakeBatches) -> None:
    """A second run of a folder a run is using exits 2 at once: else both send
    the same calls as two jobs (paid twice) and state.json keeps only the last,
    so the other is never collected."""
    batches.upload_delay = 2.0  # the first run is uploading its job when the second starts
    f = _pipeline(tmp_path, batches.url)
    env = {**os.environ, "TOON_CACHE_DIR": str(tmp_path / "cache"),
           "OPENAI_API_KEY": ""}
    env.pop("TOON_CACHE_URL", None)
    first = subprocess.Popen(
        [sys.executable, "-m", "toon_tools", "pipeline", "run", str(f), "--input",
         "topic=tides", "--run-dir", str(tmp_path / "run"), "--batch"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert batches.uploading.wait(30)
    second = _run(tmp_path, f, "--batch")
    _, err = first.communicate(timeout=60)
    assert first.returncode == 75, err
    assert second.code == 2, second.err
    assert "another run" in second.err and str(tmp_path / "run") in second.err
    assert list(batches.jobs) == ["batch_0001"]
    assert [job["id"] for job in _state(tmp_path)["batches"]] == ["batch_0001"]
