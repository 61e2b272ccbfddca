"""Token counts through the shared level (a real Redis / Valkey on loopback): a
second machine counts nothing, lookups are batched, and a shared cache that
fails costs one warning line, never a count."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon
from tests.redis_server import (  # noqa: F401 - fixtures
    RedisServer,
    SilentServer,
    free_port,
    server,
    server_binary,
    server_kind,
)
from toon_tools.remote_cache import SharedCache
from toon_tools.tokens import TokenCounter
from toon_tools.tokens.cache import TokenCache


@pytest.fixture(autouse=True)
def no_network() -> Iterator[None]:
    """These tests talk to a server on loopback (the package's conftest forbids
    connections); still no proxy and no download: the vocabulary is local."""
    yield


def _files(folder: Path, n: int) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"f{i}.toon"
        p.write_text(f"id: {i}\nname: file number {i}\n")
        paths.append(str(p))
    return paths


def _commands(server: RedisServer) -> dict[str, int]:
    stats = server.client().info("commandstats")  # type: ignore[attr-defined]
    return {k.removeprefix("cmdstat_"): int(v["calls"]) for k, v in stats.items()}


def test_a_second_machine_counts_nothing_and_asks_in_one_round_trip(
        server: RedisServer, tmp_path: Path) -> None:
    paths = _files(tmp_path / "docs", 1500)
    first = TokenCounter(cache_dir=tmp_path / "a", jobs=1)
    first.cache = TokenCache(tmp_path / "a" / "tokens", shared=SharedCache(server.url))
    counted = first.count_files(paths)
    assert not any(fc.cached for fc in counted)
    before = _commands(server)

    second = TokenCounter(cache_dir=tmp_path / "b", jobs=1)
    second.cache = TokenCache(tmp_path / "b" / "tokens", shared=SharedCache(server.url))
    again = second.count_files(paths)
    assert [fc.tokens for fc in again] == [fc.tokens for fc in counted]
    assert all(fc.cached for fc in again)
    assert second._encoding is None  # no tokenization at all: tiktoken never loaded
    used = {k: n - before.get(k, 0) for k, n in _commands(server).items()}
    assert used.get("mget", 0) == 2 and used.get("get", 0) == 0  # 1,500 keys, 1,000 a batch
    # The hits are local now: counting again does not ask the server.
    before = _commands(server)
    assert all(fc.cached for fc in second.count_files(paths))
    assert _commands(server).get("mget", 0) == before.get("mget", 0)
    assert second.cache.problems == []


def test_the_shared_values_are_namespaced_with_the_ttl(server: RedisServer,
                                                       tmp_path: Path) -> None:
    cache = TokenCache(tmp_path / "tokens", shared=SharedCache(server.url, ttl=90))
    cache.put_many({"tokens:o200k_base:" + "ab" * 32: 12})
    r = server.client()
    keys = r.keys("*")  # type: ignore[attr-defined]
    assert keys == [b"toon:v1:tokens:o200k_base:" + b"ab" * 32]
    assert 80 <= r.ttl(keys[0]) <= 90  # type: ignore[attr-defined]


def test_toon_tokens_on_two_machines_through_the_settings(server: RedisServer,
                                                          tmp_path: Path) -> None:
    paths = _files(tmp_path / "docs", 20)
    env = {"TOON_CACHE_URL": server.url, "TOON_CACHE_DIR": str(tmp_path / "a")}
    first = run_toon("tokens", "--json", "-j", "1", str(tmp_path / "docs"), env=env)
    assert first.code == 0, first.err
    assert first.err == ""
    env["TOON_CACHE_DIR"] = str(tmp_path / "b")
    second = run_toon("tokens", "--json", "-j", "1", str(tmp_path / "docs"), env=env)
    assert second.code == 0 and second.err == "", second.err
    files = json.loads(second.out)["files"]
    assert len(files) == len(paths) and all(f["cached"] for f in files)
    assert json.loads(first.out)["files"] == [{**f, "cached": False} for f in files]


def test_a_failing_shared_cache_is_one_warning_and_every_count(tmp_path: Path) -> None:
    _files(tmp_path / "docs", 30)
    silent = SilentServer()
    try:
        for url in (f"redis://:pw-secret@127.0.0.1:{free_port()}/0",  # down
                    f"redis://:pw-secret@127.0.0.1:{silent.port}/0"):  # never answers
            env = {"TOON_CACHE_URL": url, "TOON_CACHE_DIR": str(tmp_path / url[-6:])}
            r = run_toon("tokens", "--json", "-j", "1", str(tmp_path / "docs"), env=env)
            assert r.code == 0, r.err
            lines = r.err.splitlines()
            assert len(lines) == 1 and lines[0].startswith("toon: warning: shared cache "), r.err
            assert "pw-secret" not in r.err and ":***@127.0.0.1" in r.err
            assert len(json.loads(r.out)["files"]) == 30
            again = run_toon("tokens", "--json", "-j", "1", str(tmp_path / "docs"), env=env)
            assert all(f["cached"] for f in json.loads(again.out)["files"])  # the local level
    finally:
        silent.close()


def test_killed_mid_run_the_counts_go_on_locally(server: RedisServer, tmp_path: Path) -> None:
    paths = _files(tmp_path / "docs", 10)
    cache = TokenCache(tmp_path / "tokens", shared=SharedCache(server.url))
    counter = TokenCounter(cache_dir=tmp_path, jobs=1)
    counter.cache = cache
    counter.count_files(paths[:5])
    server.kill()
    counted = counter.count_files(paths)
    assert all(fc.tokens for fc in counted) and [fc.cached for fc in counted] == [True] * 5 + [
        False] * 5
    assert len(cache.problems) == 1 and "is down" in cache.problems[0]
    assert all(fc.cached for fc in counter.count_files(paths))
