"""Model replies through the shared level, against a real Redis / Valkey: two
"machines" (two local cache folders, two processes) running the same pipeline at
once make each model call once in total; a leaseholder killed with SIGKILL lets
its lease expire and the call is made again once; a shared cache that fails
costs one warning line, never a reply."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import run_toon
from tests.pipeline.server import FakeLLM
from tests.redis_server import (  # noqa: F401 - fixtures
    RedisServer,
    free_port,
    server,
    server_binary,
    server_kind,
)
from toon_tools.pipeline.cache import CachedReply, DiskReplyCache
from toon_tools.remote_cache import LEASES, REPLIES, SharedCache, pack

from .test_runner import FANOUT


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    s = FakeLLM(latency=0.3, items=6)
    yield s
    s.close()


def _pipeline(tmp_path: Path, llm: FakeLLM) -> Path:
    f = tmp_path / "p.toon"
    f.write_text(FANOUT.replace("name: fanout", f"name: fanout\nprovider: openai\n"
                                                f"base_url: \"{llm.url}\"\ntimeout: 5"))
    return f


def _start(tmp_path: Path, f: Path, machine: str, url: str | None,
           *options: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TOON_CACHE_DIR": str(tmp_path / machine / "cache"),
           "OPENAI_API_KEY": ""}
    env.pop("TOON_CACHE_URL", None)
    if url:
        env["TOON_CACHE_URL"] = url
    return subprocess.Popen(
        [sys.executable, "-m", "toon_tools", "pipeline", "run", str(f), "--input",
         "topic=tides", "--run-dir", str(tmp_path / machine / "run"), *options],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _bodies(llm: FakeLLM) -> list[str]:
    return [json.dumps(r["body"]["messages"], sort_keys=True) for r in llm.requests]


@pytest.mark.slow
def test_two_machines_at_once_make_each_call_once(server: RedisServer, llm: FakeLLM,
                                                  tmp_path: Path) -> None:
    f = _pipeline(tmp_path, llm)
    alone = _start(tmp_path, f, "reference", None)  # how many calls one run makes
    assert alone.wait(60) == 0, alone.communicate()[1]
    calls = len(llm.requests)
    assert calls == 8  # the outline, six parts, the summary
    llm.requests.clear()

    runs = [_start(tmp_path, f, m, server.url) for m in ("one", "two")]
    outs = [r.communicate(timeout=90) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outs
    assert all("Traceback" not in err and "warning" not in err for _, err in outs), outs
    assert len(llm.requests) == calls, "each call once in total"
    assert len(set(_bodies(llm))) == calls
    for name in ("outline.toon", "summary.toon"):
        assert (tmp_path / "one" / "run" / name).read_bytes() == \
            (tmp_path / "two" / "run" / name).read_bytes()
    assert server.client().keys(LEASES + "*") == []  # type: ignore[attr-defined]

    third = _start(tmp_path, f, "three", server.url)  # a later machine: all hits
    assert third.wait(60) == 0
    assert len(llm.requests) == calls


_HOLDER = """
import sys, time
from pathlib import Path
from toon_tools.pipeline.cache import DiskReplyCache
from toon_tools.remote_cache import SharedCache
cache = DiskReplyCache(Path(sys.argv[1]), shared=SharedCache(sys.argv[2]), lease_ms=1500)
assert cache.get("call") is None
print("leased", flush=True)
time.sleep(60)
"""


def test_a_killed_leaseholder_lets_the_call_be_made_again_once(server: RedisServer,
                                                               tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(tmp_path / "dead"),
                               server.url], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "leased\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert server.client().exists(LEASES + "call") == 1  # type: ignore[attr-defined]

    calls: list[str] = []
    got: dict[str, CachedReply | None] = {}

    def machine(name: str) -> None:
        cache = DiskReplyCache(tmp_path / name, shared=SharedCache(server.url))
        hit = cache.get("call")  # waits for the dead holder's lease to expire
        if hit is None:
            calls.append(name)
            time.sleep(0.3)  # the model call
            hit = {"content": f"answer from {name}"}
            cache.set("call", hit)
        got[name] = hit
        cache.close()

    start = time.monotonic()
    threads = [threading.Thread(target=machine, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(calls) == 1, calls
    assert got["a"] == got["b"] == {"content": f"answer from {calls[0]}"}
    assert time.monotonic() - start < 10
    assert server.client().exists(LEASES + "call") == 0  # type: ignore[attr-defined]
    # The reply is local on both machines now.
    for name in ("a", "b"):
        local = DiskReplyCache(tmp_path / name)
        assert local.get("call") == got["a"]
        local.close()


def test_release_and_peek(server: RedisServer, tmp_path: Path) -> None:
    one = DiskReplyCache(tmp_path / "one", shared=SharedCache(server.url))
    two = DiskReplyCache(tmp_path / "two", shared=SharedCache(server.url))
    assert one.get("k") is None  # one holds the lease
    assert two.peek("k") is None  # no wait, no lease
    one.release("k")  # the call failed: another machine may make it
    assert two.get("k") is None  # ... and takes the lease at once
    two.set("k", {"content": "v"})
    assert one.peek("k") == {"content": "v"}
    assert server.client().keys(LEASES + "*") == []  # type: ignore[attr-defined]
    plain = DiskReplyCache(tmp_path / "plain")  # no shared level: peek = get, release no-op
    assert plain.peek("k") is None and plain.get("k") is None
    plain.release("k")
    for c in (one, two, plain):
        c.close()
    raw = server.client().get(REPLIES + "k")  # type: ignore[attr-defined]
    assert raw is not None and raw[:1] == b"x"  # zlib


def test_a_down_shared_cache_is_one_warning_and_the_run_goes_on(llm: FakeLLM,
                                                                tmp_path: Path) -> None:
    f = _pipeline(tmp_path, llm)
    url = f"redis://:pw-secret@127.0.0.1:{free_port()}/0"
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": "",
           "TOON_CACHE_URL": url}
    r = run_toon("pipeline", "run", str(f), "--input", "topic=tides", "--run-dir",
                 str(tmp_path / "run"), env=env)
    assert r.code == 0, r.err
    warnings = [line for line in r.err.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "shared cache" in warnings[0] and "is down" in warnings[0]
    assert "pw-secret" not in r.err
    assert len(llm.requests) == 8
    again = run_toon("pipeline", "run", str(f), "--input", "topic=tides", "--run-dir",
                     str(tmp_path / "run2"), env=env)
    assert again.code == 0 and len(llm.requests) == 8  # every reply kept locally


def test_a_server_killed_mid_run_loses_nothing(server: RedisServer, llm: FakeLLM,
                                               tmp_path: Path) -> None:
    f = _pipeline(tmp_path, llm)
    run = _start(tmp_path, f, "one", server.url)
    deadline = time.monotonic() + 30
    while len(llm.requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    _, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert len([line for line in err.splitlines() if "shared cache" in line]) == 1, err
    calls = len(llm.requests)
    again = _start(tmp_path, f, "one", None)  # the same machine, now without the server
    assert again.wait(60) == 0 and len(llm.requests) == calls


@pytest.mark.slow
@pytest.mark.parametrize("server_kind", ["redis"])
def test_waiting_on_another_machine_never_starves_this_runs_own_calls(
        server: RedisServer, tmp_path: Path) -> None:
    """Another machine holds the leases of half the parts (its calls are slow):
    this run makes its own calls meanwhile. Were the lookups waiting on those
    leases in the pool that also runs model calls, they would fill it (jobs + 4
    threads) and this run's own leased calls would queue behind them: with a
    second toon machine waiting the same way on this one, a deadlock until the
    wait limit (10 min) and then duplicate calls."""
    slow = FakeLLM(latency=0.05, items=24)
    try:
        f = _pipeline(tmp_path, slow)
        replies = _replies_of_one_run(tmp_path, slow, f)
        parts = sorted(k for k, v in replies.items() if '"text"' in v["content"]
                       or "text:" in v["content"])
        assert len(parts) == 24, replies
        theirs = parts[::2]  # in flight on the other machine
        client: Any = server.client()
        for k in theirs:
            client.set(LEASES + k, "other-machine", px=60_000)

        run = _start(tmp_path, f, "one", server.url, "--jobs", "2")
        deadline = time.monotonic() + 20
        while len(slow.requests) < 13 and time.monotonic() < deadline:  # outline + 12
            time.sleep(0.05)
        made = len(slow.requests)
        for k in theirs:  # the other machine's replies arrive
            client.set(REPLIES + k, pack(replies[k]))
            client.delete(LEASES + k)
        _, err = run.communicate(timeout=60)
        assert run.returncode == 0, err
        assert made == 13, f"{made} calls made while another machine held 12 leases"
        assert len(slow.requests) == 14  # and the summary; none of theirs
    finally:
        slow.close()


def _replies_of_one_run(tmp_path: Path, llm: FakeLLM, f: Path) -> dict[str, CachedReply]:
    """Every call key of ``f``'s run and its reply (a run without the shared cache)."""
    import diskcache

    reference = _start(tmp_path, f, "reference", None)
    assert reference.wait(60) == 0
    stored = diskcache.Cache(str(tmp_path / "reference" / "cache" / "llm"))
    replies = {k: stored[k] for k in stored}
    stored.close()
    llm.requests.clear()
    return replies


def test_ctrl_c_ends_a_run_waiting_on_another_machines_lease(server: RedisServer,
                                                             llm: FakeLLM,
                                                             tmp_path: Path) -> None:
    """The outline is in flight on another machine (its lease renewed): Ctrl-C
    stops the wait at once, instead of after the other call or the 10-min limit."""
    f = _pipeline(tmp_path, llm)
    replies = _replies_of_one_run(tmp_path, llm, f)
    outline = next(k for k, v in replies.items() if "parts" in v["content"])
    client: Any = server.client()
    client.set(LEASES + outline, "other-machine", px=120_000)
    run = _start(tmp_path, f, "one", server.url)
    deadline = time.monotonic() + 20  # until it waits (the events say it started)
    events = tmp_path / "one" / "run" / "events.jsonl"
    while not (events.exists() and "run_start" in events.read_text()) \
            and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    run.send_signal(signal.SIGINT)
    try:
        _, err = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        run.kill()
        run.communicate()
        pytest.fail("Ctrl-C did not end a run waiting on another machine's lease")
    assert run.returncode == 1, err
    assert "interrupted by SIGINT" in err
    assert llm.requests == []  # the other machine's call is not made here too
    state = json.loads((tmp_path / "one" / "run" / "state.json").read_text())
    assert state["status"] == "stopped"
    assert client.get(LEASES + outline) == b"other-machine"  # theirs, untouched
