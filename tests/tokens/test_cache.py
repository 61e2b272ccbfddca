"""The count cache: shared by processes, self-healing, and cheap on a hit."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
from pathlib import Path

import pytest

from toon_tools.tokens import TokenCounter
from toon_tools.tokens.cache import TokenCache, key_for


def _writer(folder: str, worker: int, n: int) -> None:
    cache = TokenCache(Path(folder))
    for start in range(0, n, 50):
        batch = {key_for("o200k_base", f"{worker:02d}-{i:05d}"): worker * 100_000 + i
                 for i in range(start, start + 50)}
        batch[key_for("o200k_base", f"shared-{start}")] = start  # every worker writes these
        cache.put_many(batch)
    cache.close()


def test_concurrent_writer_processes_lose_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "tokens"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(folder), w, 1000)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    cache = TokenCache(folder)
    keys = [key_for("o200k_base", f"{w:02d}-{i:05d}") for w in range(4) for i in range(1000)]
    found = cache.get_many(keys)
    assert len(found) == 4000
    assert all(found[key_for("o200k_base", f"{w:02d}-{i:05d}")] == w * 100_000 + i
               for w in range(4) for i in range(1000))
    shared = cache.get_many(key_for("o200k_base", f"shared-{s}") for s in range(0, 1000, 50))
    assert sorted(shared.values()) == list(range(0, 1000, 50))
    assert cache.problems == []


def test_corrupted_database_is_reported_once_and_rebuilt(tmp_path: Path) -> None:
    counter = TokenCounter("o200k_base", cache_dir=tmp_path)
    assert counter.count("hello world") == 2
    counter.cache.close()  # type: ignore[union-attr]
    db = tmp_path / "tokens" / "cache.db"
    db.write_bytes(b"this is not a sqlite database" * 100)
    for name in ("cache.db-wal", "cache.db-shm"):
        (tmp_path / "tokens" / name).unlink(missing_ok=True)

    again = TokenCounter("o200k_base", cache_dir=tmp_path)
    assert again.count("hello world") == 2
    assert again.count("hello again") == 2
    assert len(again.cache.problems) == 1  # type: ignore[union-attr]
    assert "was unusable" in again.cache.problems[0]  # type: ignore[union-attr]

    third = TokenCounter("o200k_base", cache_dir=tmp_path)
    assert third.count("hello again") == 2
    assert third.cache.problems == []  # type: ignore[union-attr]


def test_unwritable_cache_folder_never_fails_a_count(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    counter = TokenCounter("o200k_base", cache_dir=tmp_path)
    counter.cache = TokenCache(blocker / "tokens")
    assert counter.count("hello world") == 2
    assert counter.cache.problems


PROBE = """
import json, sys
from toon_tools.cli.main import cli
try:
    cli.main(args=sys.argv[1:], prog_name="toon")
except SystemExit:
    pass
sys.stderr.write("\\nLOADED=" + json.dumps(sorted(m for m in sys.modules if m.startswith("tiktoken"))))
"""


def test_a_cache_hit_never_loads_tiktoken(tmp_path: Path, cache_dir: Path) -> None:
    f = tmp_path / "prompt.txt"
    f.write_text("You are a helpful assistant.\n" * 50)
    first = subprocess.run([sys.executable, "-c", PROBE, "tokens", "--json", str(f)],
                           capture_output=True, text=True, timeout=120)
    assert json.loads(first.stderr.rsplit("LOADED=", 1)[1]) != []  # a miss loads it
    second = subprocess.run([sys.executable, "-c", PROBE, "tokens", "--json", str(f)],
                            capture_output=True, text=True, timeout=120)
    assert json.loads(second.stderr.rsplit("LOADED=", 1)[1]) == []
    assert json.loads(second.stdout)["files"][0]["cached"] is True
    assert json.loads(second.stdout)["total"] == json.loads(first.stdout)["total"]


def test_the_size_limit_holds_across_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that fit skip diskcache's per-set eviction; the limit still holds."""
    from toon_tools.tokens import cache as cache_module

    limit = 1024 * 1024
    monkeypatch.setattr(cache_module, "SIZE_LIMIT", limit)
    cache = TokenCache(tmp_path / "tokens")
    first = {key_for("o200k_base", f"first-{i:04d}"): i for i in range(1000)}
    cache.put_many(first)
    assert cache.get_many(first) == first  # a batch that fits loses nothing
    for batch in range(12):  # about 3 MB in all
        cache.put_many({key_for("o200k_base", f"{batch}-{i:05d}"): i for i in range(1000)})
        assert cache.info()["bytes"] <= limit + 1000 * cache_module._ENTRY_BYTES
    assert cache.problems == []
