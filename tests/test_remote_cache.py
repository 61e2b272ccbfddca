"""The shared level on its own, against real servers and real misbehaving sockets:
values round-trip compressed with an expiry; every failure is one line, with the
password redacted, and switches the level off at once."""

from __future__ import annotations

import json
import time
import zlib
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon
from tests.redis_server import (  # noqa: F401 - fixtures
    DroppingPort,
    HttpServer,
    RedisServer,
    SilentServer,
    server,
    server_binary,
    server_kind,
)
from toon_tools.config import ConfigError, load_config
from toon_tools.remote_cache import (
    PREFIX,
    REPLIES,
    TOKENS,
    Leases,
    SharedCache,
    parse_ttl,
    redact,
    wait_for,
)


def test_redact_hides_passwords_in_user_part_and_query() -> None:
    assert redact("redis://:hunter2@h:6379/0") == "redis://:***@h:6379/0"
    assert redact("rediss://me:hunter2@h/1") == "rediss://me:***@h/1"
    assert redact("unix:///run/redis.sock?db=2&password=hunter2") == \
        "unix:///run/redis.sock?db=2&password=***"
    assert redact("redis://h:6379/0") == "redis://h:6379/0"


def test_ttl_takes_seconds_or_durations() -> None:
    assert parse_ttl(60) == 60 and parse_ttl("30d") == 30 * 86_400 and parse_ttl("90") == 90
    assert parse_ttl(0) == 0
    for bad in (-1, "7 days", True, 1.5):
        with pytest.raises(ValueError):
            parse_ttl(bad)


def test_settings_env_wins_and_config_shows_the_url_redacted(tmp_path: Path) -> None:
    (tmp_path / ".toon.toml").write_text('cache-url = "redis://:filepw@a:1/0"\n'
                                         'cache-ttl = "30d"\n')
    cfg = load_config(tmp_path, env={})
    assert cfg["cache-url"] == "redis://:***@a:1/0" and cfg.cache_url() == "redis://:filepw@a:1/0"
    assert cfg["cache-ttl"] == 30 * 86_400
    cfg = load_config(tmp_path, env={"TOON_CACHE_URL": "redis://:envpw@b:2/0"})
    assert cfg.cache_url() == "redis://:envpw@b:2/0"
    assert cfg.origins["cache-url"] == "environment TOON_CACHE_URL"
    assert "envpw" not in repr(cfg.values) and "envpw" not in str(cfg["cache-url"])
    assert load_config(tmp_path / "..", env={})["cache-ttl"] == 7 * 86_400  # the default
    (tmp_path / ".toon.toml").write_text('cache-url = "http://:pw@a/"\n')
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path, env={})
    assert "pw@" not in str(e.value) and "redis://" in str(e.value)


def test_values_round_trip_compressed_with_the_ttl(server: RedisServer) -> None:
    shared = SharedCache(server.url, ttl=3600)
    keys = [f"{TOKENS}o200k_base:{i:064x}" for i in range(2500)]  # three MGET batches
    shared.set_many({k: i for i, k in enumerate(keys)})
    shared.set(REPLIES + "k", {"content": "a: 1", "prompt_tokens": 3})
    found = shared.get_many([*keys, TOKENS + "absent"])
    assert found == {k: i for i, k in enumerate(keys)}
    assert shared.get(REPLIES + "k") == {"content": "a: 1", "prompt_tokens": 3}
    r = server.client()
    raw = r.get(REPLIES + "k")  # type: ignore[attr-defined]
    assert zlib.decompress(raw) == b'{"content":"a: 1","prompt_tokens":3}'
    assert 3590 <= r.ttl(keys[0]) <= 3600  # type: ignore[attr-defined]
    r.set(TOKENS + "junk", b"not ours")  # type: ignore[attr-defined]
    assert shared.get(TOKENS + "junk") is None  # a foreign value is a miss, not an error
    assert shared.problem is None
    shared.close()


def test_info_and_clear_touch_only_our_prefix(server: RedisServer) -> None:
    shared = SharedCache(server.url)
    shared.set_many({TOKENS + "a": 1, REPLIES + "b": {"content": "x"}})
    r = server.client()
    r.set("other-app:key", "keep")  # type: ignore[attr-defined]
    r.set(PREFIX + "lease:c", "token")  # type: ignore[attr-defined]
    info = shared.info()
    assert info["reachable"] and info["keys"] == 3 and info["bytes"] > 0
    assert info["used_memory"] and info["maxmemory"] == 0
    assert shared.clear() == 2
    assert r.get("other-app:key") == b"keep"  # type: ignore[attr-defined]
    assert r.exists(PREFIX + "lease:c") == 1  # type: ignore[attr-defined]


def _assert_off_at_once(shared: SharedCache, words: str) -> None:
    """Off with one line naming the reason, and every later call answers at once."""
    assert shared.off and shared.problem is not None, shared.problem
    assert words in shared.problem, shared.problem
    assert "\n" not in shared.problem and "local cache only" in shared.problem
    start = time.monotonic()
    for i in range(200):
        assert shared.get_many([f"{TOKENS}{i}"]) == {}
        shared.set(f"{TOKENS}{i}", i)
    assert time.monotonic() - start < 5  # generous: 200 timeouts would take 60 s or more


def test_down_is_one_line_and_off() -> None:
    from tests.redis_server import free_port

    shared = SharedCache(f"redis://:secret@127.0.0.1:{free_port()}/0")
    assert shared.get_many([TOKENS + "a"]) == {}
    _assert_off_at_once(shared, "is down")
    assert "secret" not in (shared.problem or "") and ":***@" in (shared.problem or "")


def test_unreachable_host_times_out_on_connect_once() -> None:
    port = DroppingPort()
    try:
        shared = SharedCache(f"redis://127.0.0.1:{port.port}/0")
        shared.set(TOKENS + "a", 1)
        _assert_off_at_once(shared, "unreachable (no connection within 0.3 s)")
    finally:
        port.close()


def test_slow_server_times_out_on_read_once() -> None:
    silent = SilentServer()
    try:
        shared = SharedCache(f"redis://127.0.0.1:{silent.port}/0")
        assert shared.get(TOKENS + "a") is None
        _assert_off_at_once(shared, "did not answer within 0.5 s")
    finally:
        silent.close()


def test_not_a_redis_is_one_line() -> None:
    http = HttpServer()
    try:
        shared = SharedCache(f"redis://127.0.0.1:{http.port}/0")
        assert shared.get(TOKENS + "a") is None
        assert shared.off
        _assert_off_at_once(shared, "")
    finally:
        http.close()


def test_wrong_password_is_one_line_without_the_password(server_binary: str,
                                                         tmp_path: Path) -> None:
    s = RedisServer(server_binary, tmp_path / "auth", password="right")
    try:
        wrong = s.url.replace(":right@", ":wrong-one@")
        shared = SharedCache(wrong)
        assert shared.get(TOKENS + "a") is None
        _assert_off_at_once(shared, "credentials")
        assert "wrong-one" not in (shared.problem or "")
        assert SharedCache(s.url.replace(":right@", "")).get(TOKENS + "a") is None
    finally:
        s.stop()


def test_full_server_refuses_writes_once_and_reads_go_on_off(server_binary: str,
                                                             tmp_path: Path) -> None:
    s = RedisServer(server_binary, tmp_path / "full", maxmemory="1mb")
    try:
        shared = SharedCache(s.url)
        for i in range(200):
            shared.set_many({f"{TOKENS}{i}:{j}": "x" * 1000 for j in range(50)})
            if shared.off:
                break
        _assert_off_at_once(shared, "is full")
    finally:
        s.stop()


def test_killed_mid_run_is_off_and_the_caller_goes_on(server: RedisServer) -> None:
    shared = SharedCache(server.url)
    shared.set(TOKENS + "a", 1)
    assert shared.get(TOKENS + "a") == 1
    server.kill()
    assert shared.get(TOKENS + "a") is None
    _assert_off_at_once(shared, "")


def test_a_lease_is_single_flight_and_renewed_while_held(server: RedisServer) -> None:
    one, two = SharedCache(server.url), SharedCache(server.url)
    mine, theirs = Leases(one, ms=600), Leases(two, ms=600)
    key, lease = REPLIES + "k", PREFIX + "lease:k"
    assert wait_for(one, mine, key, lease) == (None, True)
    time.sleep(1.0)  # past the lease's first expiry: the heartbeat kept it
    assert not theirs.take(lease)

    import threading

    got: list[object] = []
    waiter = threading.Thread(target=lambda: got.append(wait_for(two, theirs, key, lease)))
    waiter.start()
    time.sleep(0.3)
    one.set(key, {"content": "done"})
    mine.drop(lease, all_holders=True)
    waiter.join(5)
    assert got == [({"content": "done"}, False)]
    assert server.client().exists(lease) == 0  # type: ignore[attr-defined]
    mine.close()
    theirs.close()


def test_an_abandoned_lease_expires_and_is_taken(server: RedisServer) -> None:
    one, two = SharedCache(server.url), SharedCache(server.url)
    key, lease = REPLIES + "k", PREFIX + "lease:k"
    assert one.try_lease(lease, "dead-holder", 400)  # nobody renews it
    start = time.monotonic()
    theirs = Leases(two, ms=5000)
    assert wait_for(two, theirs, key, lease) == (None, True)
    assert 0.2 < time.monotonic() - start < 3
    theirs.close()


def test_toon_cache_info_and_clear_shared(server_binary: str, tmp_path: Path) -> None:
    s = RedisServer(server_binary, tmp_path / "data", password="pw-secret")
    try:
        env = {"TOON_CACHE_URL": s.url, "TOON_CACHE_DIR": str(tmp_path / "cache")}
        shared = SharedCache(s.url)
        shared.set_many({TOKENS + "a": 1, TOKENS + "b": 2, REPLIES + "c": {"content": "x"}})
        s.client().set("other-app:key", "keep")  # type: ignore[attr-defined]
        r = run_toon("cache", "info", env=env)
        assert r.code == 0, r.err
        line = next(x for x in r.out.splitlines() if x.startswith("shared cache: "))
        assert ":***@127.0.0.1" in line and "3 entries" in line and "expiry 1w" in line, line
        assert "pw-secret" not in r.out + r.err
        data = json.loads(run_toon("cache", "info", "--json", env=env).out)["shared"]
        assert data["reachable"] and data["keys"] == 3 and data["ttl"] == 7 * 86_400
        r = run_toon("cache", "clear", "--kind", "tokens", env=env)  # local only
        assert r.code == 0 and "shared" not in r.out and shared.get(TOKENS + "a") == 1
        r = run_toon("cache", "clear", "--kind", "tokens", "--shared", env=env)
        assert r.code == 0 and "removed 2 entries" in r.out.splitlines()[-1], r.out
        assert shared.get(REPLIES + "c") == {"content": "x"}
        assert s.client().get("other-app:key") == b"keep"  # type: ignore[attr-defined]
        s.kill()
        r = run_toon("cache", "info", env=env)
        assert r.code == 2 and "not reachable" in r.out
        assert r.err.count("\n") == 1 and "is down" in r.err and "pw-secret" not in r.err
    finally:
        s.stop()


def test_a_url_redis_py_cannot_read_is_an_error_or_one_line_never_a_crash(
        tmp_path: Path) -> None:
    """A port that is not a number is a configuration error (exit 2, the password
    redacted); an option redis-py cannot read switches the level off with one
    line; neither is an internal error."""
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache"),
           "TOON_CACHE_URL": "redis://:pw-secret@127.0.0.1:notaport/0"}
    (tmp_path / "a.toon").write_text("x: 1\n")
    r = run_toon("tokens", str(tmp_path / "a.toon"), env=env)
    assert r.code == 2, r.err
    assert "TOON_CACHE_URL" in r.err and "port" in r.err and "internal" not in r.err
    assert "pw-secret" not in r.err + r.out

    cache = SharedCache("redis://:pw-secret@127.0.0.1:1/0?socket_timeout=abc")
    assert cache.get("k") is None and cache.off
    assert cache.problem is not None and "pw-secret" not in cache.problem
    assert "socket_timeout" in cache.problem
    env["TOON_CACHE_URL"] = "redis://:pw-secret@127.0.0.1:1/0?socket_timeout=abc"
    r = run_toon("tokens", str(tmp_path / "a.toon"), env=env)
    assert r.code == 0, r.err
    assert len(r.err.splitlines()) == 1 and "going on with the local cache" in r.err
