"""``toon cache info|clear|prune`` over real cache folders, filled through the
real TokenCache and DiskReplyCache, run as users run it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from toon_tools.pipeline.cache import DiskReplyCache
from toon_tools.tokens.cache import TokenCache, key_for

from .conftest import Result, run_toon

DAY = 86_400.0
BIG = 40_000  # characters: stored as a value file by diskcache


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("TOON_CACHE_DIR", str(folder))
    return folder


def fill(cache_dir: Path, counts: int, replies: int) -> tuple[list[str], list[str]]:
    """``counts`` token counts and ``replies`` model replies (every other one big);
    their keys."""
    count_keys = [key_for("o200k_base", f"{i:064x}") for i in range(counts)]
    tokens = TokenCache(cache_dir / "tokens")
    tokens.put_many({k: i for i, k in enumerate(count_keys)})
    assert tokens.problems == []
    tokens.close()
    reply_keys = [f"call-{i:03d}" for i in range(replies)]
    if replies:
        cache = DiskReplyCache.in_cache_dir(cache_dir)
        for i, k in enumerate(reply_keys):
            record: Any = {"content": ("r" * BIG) if i % 2 else "short", "prompt_tokens": 3,
                           "completion_tokens": 4, "finish_reason": "stop"}
            cache.set(k, record)
        cache.close()
    return count_keys, reply_keys


def age(folder: Path, keys: list[str], seconds: float) -> None:
    with sqlite3.connect(folder / "cache.db") as db:
        for key in keys:
            assert db.execute("UPDATE Cache SET store_time = store_time - ? WHERE key = ?",
                              (seconds, key)).rowcount == 1


def entries(folder: Path) -> set[str]:
    with sqlite3.connect(folder / "cache.db") as db:
        return {row[0] for row in db.execute("SELECT key FROM Cache")}


def table(out: str) -> dict[str, list[str]]:
    """The info table's rows by kind label, split into cells."""
    lines = out.splitlines()
    rows = {}
    for line in lines[2:]:
        label = line[:len("model replies")].strip()
        rows[label] = line[len(label):].split()
    return rows


def lines_of(r: Result) -> list[str]:
    return r.out.splitlines()


# ---------------------------------------------------------------------- info


def test_info_on_a_fresh_folder_shows_no_entries_and_creates_nothing(cache_dir: Path) -> None:
    r = run_toon("cache", "info")
    assert r.code == 0, r.err
    assert lines_of(r)[0] == f"cache folder: {cache_dir}"
    rows = table(r.out)
    assert rows["token counts"][:3] == ["0", "0", "B"]
    assert rows["model replies"][:3] == ["0", "0", "B"]
    assert not cache_dir.exists()


def test_info_shows_entries_size_and_limit_per_kind_in_aligned_columns(cache_dir: Path) -> None:
    fill(cache_dir, counts=1200, replies=3)
    r = run_toon("cache", "info")
    assert r.code == 0 and r.err == "", r.err
    head, *rows = lines_of(r)[1:]
    assert head.split() == ["kind", "entries", "size", "limit", "folder"]
    assert rows[0].startswith("token counts ") and rows[1].startswith("model replies ")
    assert rows[0].split()[2:] != ["0", "B"]
    assert "1,200" in rows[0].split() and rows[1].split()[2] == "3"
    assert "64.0 MiB" in rows[0] and "1.0 GiB" in rows[1]
    assert rows[0].endswith("  tokens") and rows[1].endswith("  llm")
    # Right-aligned numbers: every column ends where its header ends.
    for name in ("entries", "limit"):
        end = head.index(name) + len(name)
        assert all(row[end - 1] != " " and row[end] == " " for row in rows), (name, rows)

    doc = json.loads(run_toon("cache", "info", "--json").out)
    assert doc["directory"] == str(cache_dir)
    assert doc["kinds"]["tokens"]["entries"] == 1200
    assert doc["kinds"]["replies"] == {
        "directory": str(cache_dir / "llm"), "entries": 3,
        "bytes": doc["kinds"]["replies"]["bytes"], "size_limit": 2**30}
    assert doc["kinds"]["replies"]["bytes"] >= BIG


def test_the_cache_folder_comes_from_the_config_file(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TOON_CACHE_DIR", raising=False)
    (tmp_path / ".toon.toml").write_text('cache-dir = "here"\n')
    fill(tmp_path / "here", counts=2, replies=1)
    r = run_toon("cache", "info", cwd=tmp_path)
    assert r.code == 0, r.err
    assert lines_of(r)[0] == f"cache folder: {tmp_path / 'here'}"
    assert table(r.out)["token counts"][0] == "2"
    assert table(r.out)["model replies"][0] == "1"


# ---------------------------------------------------------------------- clear


def test_clear_empties_every_kind_and_keeps_vocabularies(cache_dir: Path) -> None:
    fill(cache_dir, counts=5, replies=4)
    vocab = cache_dir / "vocab" / "0123abcd"
    vocab.parent.mkdir()
    vocab.write_bytes(b"a vocabulary")
    r = run_toon("cache", "clear")
    assert r.code == 0, r.err
    assert lines_of(r) == ["token counts: removed 5 entries", "model replies: removed 4 entries"]
    assert entries(cache_dir / "tokens") == set() and entries(cache_dir / "llm") == set()
    assert list((cache_dir / "llm").rglob("*.val")) == []
    assert vocab.read_bytes() == b"a vocabulary"
    assert lines_of(run_toon("cache", "clear")) == [
        "token counts: removed 0 entries", "model replies: removed 0 entries"]


@pytest.mark.parametrize("args, left", [
    (["--kind", "replies"], "tokens"),
    (["--kind", "tokens"], "llm"),
    (["--kind", "tokens,replies"], None),
    (["--kind", "replies", "--kind", "tokens"], None),
])
def test_clear_by_kind(cache_dir: Path, args: list[str], left: str | None) -> None:
    fill(cache_dir, counts=3, replies=2)
    r = run_toon("cache", "clear", *args)
    assert r.code == 0, r.err
    for folder, n in (("tokens", 3), ("llm", 2)):
        assert len(entries(cache_dir / folder)) == (n if folder == left else 0)
    assert len(lines_of(r)) == (1 if left else 2)


def test_clear_creates_no_folder_for_a_kind_never_used(cache_dir: Path) -> None:
    fill(cache_dir, counts=1, replies=0)
    r = run_toon("cache", "clear")
    assert r.code == 0 and "model replies: removed 0 entries" in r.out
    assert not (cache_dir / "llm").exists()


@pytest.mark.parametrize("value", ["foo", "tokens,", "", "Tokens"])
def test_an_unknown_kind_is_a_usage_error(cache_dir: Path, value: str) -> None:
    fill(cache_dir, counts=1, replies=1)
    for command in ("clear", "prune"):
        extra = ["--older-than", "1d"] if command == "prune" else []
        r = run_toon("cache", command, "--kind", value, *extra)
        assert r.code == 2 and "--kind" in r.err and r.out == "", r
    assert len(entries(cache_dir / "tokens")) == 1 and len(entries(cache_dir / "llm")) == 1


# ---------------------------------------------------------------------- prune


def test_prune_removes_exactly_the_entries_stored_before_the_cutoff(cache_dir: Path) -> None:
    counts, replies = fill(cache_dir, counts=20, replies=6)
    old_counts, old_replies = counts[:7], ["call-001", "call-002", "call-005"]
    age(cache_dir / "tokens", old_counts, 15 * DAY)
    age(cache_dir / "llm", old_replies, 30 * DAY)
    age(cache_dir / "tokens", counts[7:9], 13 * DAY)  # not old enough
    files_before = len(list((cache_dir / "llm").rglob("*.val")))

    r = run_toon("cache", "prune", "--older-than", "14d")
    assert r.code == 0, r.err
    tokens_line, replies_line = lines_of(r)
    assert tokens_line.startswith("token counts: removed 7 entries, ")
    assert replies_line.startswith("model replies: removed 3 entries, ")
    assert replies_line.endswith(" KiB freed")  # two value files of 40,000 bytes
    assert float(replies_line.split()[-3]) >= 2 * BIG / 1024
    assert entries(cache_dir / "tokens") == set(counts[7:])
    assert entries(cache_dir / "llm") == set(replies) - set(old_replies)
    assert len(list((cache_dir / "llm").rglob("*.val"))) == files_before - 2

    again = run_toon("cache", "prune", "--older-than", "2w")
    assert lines_of(again) == ["token counts: removed 0 entries, 0 B freed",
                               "model replies: removed 0 entries, 0 B freed"]


def test_prune_by_kind_and_in_other_units(cache_dir: Path) -> None:
    counts, replies = fill(cache_dir, counts=4, replies=4)
    age(cache_dir / "tokens", counts[:2], 2 * 3600)
    age(cache_dir / "llm", replies[:3], 2 * 3600)
    r = run_toon("cache", "prune", "--older-than", "90m", "--kind", "replies")
    assert r.code == 0 and len(lines_of(r)) == 1
    assert lines_of(r)[0].startswith("model replies: removed 3 entries")
    assert entries(cache_dir / "tokens") == set(counts)
    assert run_toon("cache", "prune", "--older-than", "3h").out.startswith(
        "token counts: removed 0 entries")
    assert run_toon("cache", "prune", "--older-than", "7200s", "--kind", "tokens").out.startswith(
        "token counts: removed 2 entries")


@pytest.mark.parametrize("value", ["14", "14x", "d", "1.5d", "-1d", "14 d", "", "14D", "1d2h"])
def test_a_bad_duration_is_a_usage_error_naming_the_option(cache_dir: Path, value: str) -> None:
    fill(cache_dir, counts=2, replies=0)
    age(cache_dir / "tokens", [key_for("o200k_base", f"{0:064x}")], 400 * DAY)
    r = run_toon("cache", "prune", "--older-than", value)
    assert r.code == 2 and r.out == "", r
    assert "Invalid value for '--older-than'" in r.err
    assert len(entries(cache_dir / "tokens")) == 2


def test_prune_needs_an_age(cache_dir: Path) -> None:
    r = run_toon("cache", "prune")
    assert r.code == 2 and "--older-than" in r.err


# ------------------------------------------------------------ one bad cache never stops the other


def corrupt(folder: Path) -> None:
    (folder / "cache.db").write_bytes(b"this is not a sqlite database" * 100)
    for name in ("cache.db-wal", "cache.db-shm"):
        (folder / name).unlink(missing_ok=True)


@pytest.mark.parametrize("command", [["info"], ["clear"], ["prune", "--older-than", "0s"]])
def test_a_corrupted_reply_cache_is_a_warning_and_the_counts_are_still_handled(
        cache_dir: Path, command: list[str]) -> None:
    fill(cache_dir, counts=3, replies=2)
    corrupt(cache_dir / "llm")
    r = run_toon("cache", *command)
    assert r.code == 2, r
    assert r.err.startswith(f"toon: warning: model replies: {cache_dir / 'llm'}: "
                            "unusable reply cache (DatabaseError")
    assert r.err.count("\n") == 1
    if command == ["info"]:
        assert table(r.out)["token counts"][0] == "3"
        assert table(r.out)["model replies"][:2] == ["-", "-"]
    else:
        assert lines_of(r)[0].startswith("token counts: removed 3 entries")
        assert len(lines_of(r)) == 1
        assert entries(cache_dir / "tokens") == set()
    # Replies cost money: a broken reply cache is left for the user to inspect.
    assert (cache_dir / "llm" / "cache.db").read_bytes().startswith(b"this is not")


def test_a_corrupted_count_cache_is_rebuilt_with_a_warning_and_replies_still_cleared(
        cache_dir: Path) -> None:
    fill(cache_dir, counts=3, replies=2)
    corrupt(cache_dir / "tokens")
    r = run_toon("cache", "clear")
    assert r.code == 0, r
    assert r.err.startswith(f"toon: warning: token cache at {cache_dir / 'tokens'} was unusable")
    assert lines_of(r) == ["token counts: removed 0 entries", "model replies: removed 2 entries"]
    assert entries(cache_dir / "tokens") == set()


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / ".toon.toml").write_text("cache-dir = 3\n")
    for command in (["info"], ["clear"], ["prune", "--older-than", "1d"]):
        r = run_toon("cache", *command, cwd=tmp_path)
        assert r.code == 2 and r.out == "" and r.err.count("\n") == 1, r
