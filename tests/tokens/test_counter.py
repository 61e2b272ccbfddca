"""The counter as a library: no hidden configuration, no global side effects,
the one pool policy."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toon_tools.tokens import TokenCounter, default_cache_dir
from toon_tools.tokens import counter as counter_module
from toon_tools.tokens import vocab as vocab_module
from toon_tools.tokens.vocab import VOCABULARIES, load_encoding

BROKEN = "[tool.toon]\nexclude = 3\ncache-dir = 'from-config'\n"


def test_count_tokens_ignores_a_broken_config_in_the_working_folder(tmp_path: Path,
                                                                    cache_dir: Path) -> None:
    """The library never reads pyproject.toml: a bad [tool.toon] is the CLI's business."""
    (tmp_path / "pyproject.toml").write_text(BROKEN)
    probe = ("import toon_tools, toon_tools.tokens as t\n"
             "print(toon_tools.count_tokens('hello'), t.TokenCounter().cache_dir)\n")
    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["1", str(cache_dir)]
    assert not (tmp_path / "from-config").exists()


def test_the_default_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOON_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    assert TokenCounter().cache_dir == tmp_path / "mine"
    monkeypatch.delenv("TOON_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # platformdirs' own setting
    assert default_cache_dir() == tmp_path / "xdg" / "toon-tools"
    assert TokenCounter(cache_dir=tmp_path / "given").cache_dir == tmp_path / "given"


@pytest.fixture
def environ_writes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every key written to or deleted from os.environ while the test runs."""
    seen: list[str] = []
    cls = type(os.environ)
    setitem, delitem = cls.__setitem__, cls.__delitem__

    def record_set(self: Any, key: str, value: str) -> None:
        seen.append(key)
        setitem(self, key, value)

    def record_del(self: Any, key: str) -> None:
        seen.append(key)
        delitem(self, key)

    monkeypatch.setattr(cls, "__setitem__", record_set)
    monkeypatch.setattr(cls, "__delitem__", record_del)
    return seen


@pytest.mark.parametrize("encoding", ["o200k_base", "cl100k_base"])
def test_loading_a_vocabulary_leaves_the_environment_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environ_writes: list[str],
        encoding: str) -> None:
    """No os.environ round trip (not thread-safe, visible to other code), and
    tiktoken's own download cache is neither read nor written."""
    theirs = tmp_path / "tiktoken-cache"
    theirs.mkdir()
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(theirs))
    monkeypatch.setattr(vocab_module, "_built", {})  # build it, not the process's copy
    environ_writes.clear()
    enc = load_encoding(encoding, tmp_path / "vocab")
    assert environ_writes == []
    assert list(theirs.iterdir()) == []
    assert enc.name == encoding and len(enc.encode_ordinary("hello world")) == 2


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_encoding_definitions_are_tiktokens_own(monkeypatch: pytest.MonkeyPatch,
                                                name: str) -> None:
    """We build the Encoding ourselves from verified bytes; its pattern, special
    tokens and vocabulary size must be exactly what tiktoken's constructor gives."""
    from tiktoken_ext import openai_public

    from toon_tools.tokens.vocab import encoding_params

    fake_ranks = {b"x": 0}
    urls: list[str] = []

    def fake_load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        urls.append(url)
        assert expected_hash == VOCABULARIES[name].sha256
        return fake_ranks

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    official = openai_public.ENCODING_CONSTRUCTORS[name]()
    ours = encoding_params(name, fake_ranks)
    assert urls and set(urls) == {VOCABULARIES[name].url}
    assert ours == official


# ------------------------------------------------------------ the pool

_FORKS: list[Path] = []  # where forked children sign in while a test watches


def _child_signs_in() -> None:
    if _FORKS:
        with open(_FORKS[0], "a") as fh:
            fh.write(f"{os.getpid()}\n")


os.register_at_fork(after_in_child=_child_signs_in)


@pytest.fixture
def forks(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "forks.log"
    log.touch()
    _FORKS.append(log)
    yield log
    _FORKS.remove(log)


def _corpus(folder: Path, files: int = 12, size: int = 250_000) -> list[str]:
    folder.mkdir()
    paths = []
    for i in range(files):
        p = folder / f"{i:02d}.txt"
        p.write_text(f"document {i}\n" + "lorem ipsum dolor sit amet, 42 times\n" * (size // 38))
        paths.append(str(p))
    return paths


@pytest.mark.parametrize(("jobs", "env", "pooled"), [
    (1, None, False),  # --jobs 1: in this process
    (None, "1", False),  # TOON_TOOLS_JOBS=1: in this process
    (2, None, True),  # 3 MB uncached: worth two workers
    (None, "2", True),
])
def test_jobs_mean_what_they_mean_everywhere(tmp_path: Path, cache_dir: Path, forks: Path,
                                             monkeypatch: pytest.MonkeyPatch, jobs: int | None,
                                             env: str | None, pooled: bool) -> None:
    if env is None:
        monkeypatch.delenv("TOON_TOOLS_JOBS", raising=False)
    else:
        monkeypatch.setenv("TOON_TOOLS_JOBS", env)
    paths = _corpus(tmp_path / "docs")
    serial = TokenCounter(cache=False, cache_dir=cache_dir, jobs=1)
    expected = [serial.count_uncached(Path(p).read_text()) for p in paths]
    forks.write_text("")
    counter = TokenCounter(cache=False, cache_dir=cache_dir, jobs=jobs)
    assert [fc.tokens for fc in counter.count_files(paths)] == expected
    assert bool(forks.read_text()) is pooled
    # The workers' counter lives in the workers only.
    assert counter_module._worker_counter is None


def test_small_uncached_work_stays_in_process(tmp_path: Path, cache_dir: Path,
                                              forks: Path) -> None:
    paths = _corpus(tmp_path / "docs", files=40, size=20_000)  # 0.8 MB: a pool costs more
    counter = TokenCounter(cache=False, cache_dir=cache_dir, jobs=2)
    assert all(fc.tokens for fc in counter.count_files(paths))
    assert forks.read_text() == ""


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_non_utf8_file_is_skipped_when_walked_and_an_error_when_named(
        tmp_path: Path, cache_dir: Path, forks: Path, jobs: int) -> None:
    """Every counting path: kept bytes (small), streamed (large), in the pool (jobs=2:
    ~3 MB uncached is enough for one)."""
    paths = _corpus(tmp_path / "docs")
    small, large = tmp_path / "docs" / "small.txt", tmp_path / "docs" / "large.txt"
    small.write_bytes(b"caf\xe9\n")
    large.write_bytes(b"word\n" * 80_000 + b"caf\xe9\n")  # 400 KB: streamed, not kept
    paths += [str(small), str(large)]
    counter = TokenCounter(cache=False, cache_dir=cache_dir, jobs=jobs)
    walked = {Path(fc.path).name: fc for fc in counter.count_files(paths)}
    assert bool(forks.read_text()) is (jobs == 2)
    for name in ("small.txt", "large.txt"):
        fc = walked[name]
        assert (fc.tokens, fc.error, fc.not_utf8, fc.skipped) == (None, None, True, True)
    assert not any(fc.skipped for n, fc in walked.items() if n not in ("small.txt", "large.txt"))
    named = counter.count_files(paths, explicit=frozenset({str(small), str(large)}))
    errors = {Path(fc.path).name: fc.error for fc in named if fc.error}
    assert errors == {"small.txt": "invalid UTF-8 at byte 3", "large.txt": "invalid UTF-8 at byte 400003"}
    assert not any(fc.skipped for fc in named if Path(fc.path).name in errors)
