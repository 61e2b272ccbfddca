"""The reply cache's upkeep: what it holds, emptying it, and pruning by when
each reply was stored, on real diskcache folders."""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from toon_tools.errors import ToolError
from toon_tools.pipeline.cache import SIZE_LIMIT, DiskReplyCache

DAY = 86_400.0
BIG = 40_000  # characters: past diskcache's 32 KiB threshold, so the value is a file


def reply(text: str, **extra: Any) -> Any:
    """A record as the runner stores it; extra fields stand for whatever the runner
    adds, since upkeep must never depend on a value's structure."""
    return {"content": text, "prompt_tokens": 10, "completion_tokens": 5, **extra}


def age(folder: Path, keys: list[str], seconds: float) -> None:
    """Make ``keys`` look stored ``seconds`` earlier, as the calendar would."""
    with sqlite3.connect(folder / "cache.db") as db:
        for key in keys:
            n = db.execute("UPDATE Cache SET store_time = store_time - ? WHERE key = ?",
                           (seconds, key)).rowcount
            assert n == 1, key


def value_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.val"))


def test_absent_cache_is_none_and_nothing_is_created(tmp_path: Path) -> None:
    assert DiskReplyCache.existing_in(tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists()
    (tmp_path / "cache" / "llm").mkdir(parents=True)  # a folder without a database
    assert DiskReplyCache.existing_in(tmp_path / "cache") is None
    assert list((tmp_path / "cache" / "llm").iterdir()) == []


def test_info_counts_entries_and_bytes(tmp_path: Path) -> None:
    cache = DiskReplyCache.in_cache_dir(tmp_path)
    cache.set("small", reply("hello"))
    for i in range(3):
        cache.set(f"big-{i}", reply("x" * BIG, finish_reason="stop", attempt=i))
    cache.close()

    found = DiskReplyCache.existing_in(tmp_path)
    assert found is not None
    info = found.info()
    assert info["directory"] == str(tmp_path / "llm")
    assert info["entries"] == 4
    assert info["bytes"] >= 3 * BIG
    assert info["size_limit"] == SIZE_LIMIT
    assert info["usable"] is True


def test_clear_removes_every_reply_and_its_value_files(tmp_path: Path) -> None:
    cache = DiskReplyCache.in_cache_dir(tmp_path)
    for i in range(5):
        cache.set(f"big-{i}", reply("y" * BIG))
    cache.set("small", reply("hi"))
    assert len(value_files(tmp_path / "llm")) == 5

    assert cache.clear() == 6
    assert cache.get("small") is None and cache.get("big-0") is None
    assert value_files(tmp_path / "llm") == []
    assert cache.info()["entries"] == 0
    assert cache.clear() == 0


def test_prune_removes_exactly_the_replies_stored_before_the_cutoff(tmp_path: Path) -> None:
    cache = DiskReplyCache.in_cache_dir(tmp_path)
    keys = [f"k{i}" for i in range(10)]
    for i, key in enumerate(keys):
        cache.set(key, reply(("z" if i % 2 else "s") * (BIG if i % 2 else 10), i=i))
    old = ["k1", "k2", "k5", "k8"]  # two with value files (odd), two inline
    age(tmp_path / "llm", old, 20 * DAY)
    age(tmp_path / "llm", ["k3"], 13 * DAY)  # younger than the cutoff: stays
    before = cache.info()["bytes"]

    removed = cache.prune(time.time() - 14 * DAY)
    assert removed.entries == 4
    assert removed.bytes >= 2 * BIG
    assert cache.info()["bytes"] == before - removed.bytes
    for key in keys:
        assert (cache.get(key) is None) == (key in old), key
    assert len(value_files(tmp_path / "llm")) == 3  # k3, k7, k9 still have theirs

    assert cache.prune(time.time() - 14 * DAY) == (0, 0)
    assert cache.prune(time.time() + 1).entries == 6  # a cutoff after now takes everything


def test_prune_handles_many_entries_with_equal_store_times(tmp_path: Path) -> None:
    """Removal goes in batches; ties at a batch's edge are not skipped."""
    cache = DiskReplyCache.in_cache_dir(tmp_path)
    keys = [f"k{i:04d}" for i in range(450)]
    for key in keys:
        cache.set(key, reply(key))
    with sqlite3.connect(tmp_path / "llm" / "cache.db") as db:
        db.execute("UPDATE Cache SET store_time = 1000.0 WHERE key < 'k0300'")
    assert cache.prune(time.time() - DAY).entries == 300
    assert cache.info()["entries"] == 150
    assert cache.get("k0299") is None and cache.get("k0300") is not None


def _writer(folder: str, n: int) -> None:
    cache = DiskReplyCache(Path(folder))
    for i in range(n):
        cache.set(f"new-{i:04d}", reply("w" * (BIG if i % 10 == 0 else 50)))
    cache.close()


def test_prune_while_another_process_writes_loses_no_fresh_reply(tmp_path: Path) -> None:
    folder = tmp_path / "llm"
    cache = DiskReplyCache(folder)
    old = [f"old-{i:04d}" for i in range(300)]
    for key in old:
        cache.set(key, reply("o" * (BIG if key.endswith("0") else 50)))
    age(folder, old, 30 * DAY)

    ctx = multiprocessing.get_context("spawn")
    writer = ctx.Process(target=_writer, args=(str(folder), 300))
    writer.start()
    removed = 0
    while writer.is_alive() or removed == 0:
        removed += cache.prune(time.time() - 14 * DAY).entries
    writer.join(120)
    assert writer.exitcode == 0
    removed += cache.prune(time.time() - 14 * DAY).entries

    assert removed == 300
    assert all(cache.get(key) is None for key in old)
    assert all(cache.get(f"new-{i:04d}") is not None for i in range(300))
    assert cache.info()["entries"] == 300
    assert len(value_files(folder)) == 30


def test_a_corrupted_database_is_a_tool_error_naming_the_folder(tmp_path: Path) -> None:
    cache = DiskReplyCache.in_cache_dir(tmp_path)
    cache.set("k", reply("hello"))
    cache.close()
    db = tmp_path / "llm" / "cache.db"
    db.write_bytes(b"this is not a sqlite database" * 100)
    for name in ("cache.db-wal", "cache.db-shm"):
        (tmp_path / "llm" / name).unlink(missing_ok=True)
    with pytest.raises(ToolError) as caught:
        DiskReplyCache.existing_in(tmp_path)
    assert caught.value.path == str(tmp_path / "llm")
    assert "unusable" in caught.value.message
    assert db.read_bytes().startswith(b"this is not")  # left for the user to inspect
