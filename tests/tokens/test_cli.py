"""``toon tokens`` and ``toon cache`` end to end."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon
from toon_tools.tokens import TokenCounter


def _tokens(*args: str, **kw: object) -> tuple[int, dict[str, object], str]:
    r = run_toon("tokens", "--json", *args, **kw)  # type: ignore[arg-type]
    return r.code, (json.loads(r.out) if r.out else {}), r.err


def test_files_folders_and_totals(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.toon").write_text("users[2]{id,name}:\n  1,Ada\n  2,Bob")
    code, doc, err = _tokens(str(tmp_path / "a.txt"), str(tmp_path / "sub"))
    assert code == 0, err
    counter = TokenCounter(cache_dir=cache_dir, cache=False)
    files = doc["files"]
    assert [f["path"] for f in files] == [str(tmp_path / "a.txt"), str(tmp_path / "sub" / "b.toon")]
    assert [f["tokens"] for f in files] == [
        counter.count_uncached("hello world"),
        counter.count_uncached("users[2]{id,name}:\n  1,Ada\n  2,Bob")]
    assert doc["total"] == {"files": 2, "bytes": 11 + 34,
                            "tokens": sum(f["tokens"] for f in files)}


def test_plain_output_when_piped(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    r = run_toon("tokens", str(tmp_path / "a.txt"))
    assert r.out == f"{tmp_path / 'a.txt'}\t11\t2\ntotal\t11\t2\n"


def test_stdin(cache_dir: Path) -> None:
    r = run_toon("tokens", "-", stdin="hello world")
    assert r.code == 0 and r.out == "-\t11\t2\ntotal\t11\t2\n"
    assert run_toon("tokens", stdin="hello world").out == r.out


def test_encodings_and_models(tmp_path: Path, cache_dir: Path) -> None:
    text = "Ünïcödé façade naïve coöperate " * 20
    f = tmp_path / "t.txt"
    f.write_text(text)
    o200k = _tokens(str(f))[1]["total"]["tokens"]  # type: ignore[index]
    cl100k = _tokens("--encoding", "cl100k_base", str(f))[1]["total"]["tokens"]  # type: ignore[index]
    gpt4 = _tokens("--model", "gpt-4", str(f))[1]  # type: ignore[index]
    assert o200k != cl100k
    assert gpt4["encoding"] == "cl100k_base" and gpt4["total"]["tokens"] == cl100k  # type: ignore[index]
    r = run_toon("tokens", "--encoding", "bogus", str(f))
    assert r.code == 2 and "unknown encoding 'bogus'" in r.err
    r = run_toon("tokens", "--model", "no-such-model", str(f))
    assert r.code == 2 and "unknown model 'no-such-model'" in r.err


def test_budgets(tmp_path: Path, cache_dir: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text("word" + " word" * 99)  # 100 tokens
    small = tmp_path / "small.txt"
    small.write_text("hello world")
    r = run_toon("tokens", "--budget", "150", str(big), str(small))
    assert r.code == 0
    r = run_toon("tokens", "--budget", "50", "--per-file-budget", "60", str(big), str(small))
    assert r.code == 1
    assert f"over budget: {big}: 100 tokens, 40 over the per-file budget of 60" in r.err
    assert "over budget: total: 102 tokens, 52 over the budget of 50" in r.err
    assert str(small) + ":" not in r.err


def test_budget_from_config(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.toon.tokens]\nbudget = 1\n")
    (tmp_path / "p.txt").write_text("hello world")
    r = run_toon("tokens", "p.txt", cwd=tmp_path)
    assert r.code == 1 and "1 over the budget of 1" in r.err
    (tmp_path / "pyproject.toml").write_text("[tool.toon.tokens]\nbujet = 1\n")
    r = run_toon("tokens", "p.txt", cwd=tmp_path)
    assert r.code == 2 and "unknown key 'tokens.bujet'" in r.err


def test_compare(tmp_path: Path, cache_dir: Path) -> None:
    rows = [{"id": i, "name": f"user{i}", "role": "admin"} for i in range(30)]
    (tmp_path / "users.json").write_text(json.dumps({"users": rows}, indent=2))
    code, doc, _ = _tokens("--compare", str(tmp_path / "users.json"))
    (cmp,) = doc["compare"]  # type: ignore[misc]
    assert cmp["toon_comma"] < cmp["json_compact"] < cmp["json_pretty"]
    assert cmp["saving_vs_pretty"] > 50
    r = run_toon("tokens", "--compare", str(tmp_path / "users.json"))
    assert "saved vs pretty" in r.out


def test_gitignore_is_honoured_in_a_repository(tmp_path: Path, cache_dir: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("ignored/\n*.log\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "x.txt").write_text("secret")
    (tmp_path / "debug.log").write_text("noise")
    (tmp_path / "kept.txt").write_text("hello world")
    code, doc, _ = _tokens(str(tmp_path))
    assert [Path(f["path"]).name for f in doc["files"]] == [".gitignore", "kept.txt"]  # type: ignore[index, union-attr]


# ------------------------------------------------------------ bad input


def test_binary_files(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (tmp_path / "a.txt").write_text("hello world")
    r = run_toon("tokens", str(tmp_path))  # found by walking: skipped quietly
    assert r.code == 0 and "img.png" not in r.out and "1 binary file skipped" not in r.out
    r = run_toon("tokens", str(tmp_path / "img.png"))  # named: an error
    assert r.code == 1
    assert r.err.startswith(f"toon: error: {tmp_path / 'img.png'}: binary file (contains NUL bytes)")


def test_invalid_utf8(tmp_path: Path, cache_dir: Path) -> None:
    f = tmp_path / "latin1.txt"
    f.write_bytes(b"caf\xe9 au lait")
    r = run_toon("tokens", str(f))
    assert r.code == 1
    assert f"toon: error: {f}: invalid UTF-8 at byte 3" in r.err


def test_unreadable_paths(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "ok.txt").write_text("hello world")
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "gone.txt")
    r = run_toon("tokens", str(tmp_path / "missing.txt"), str(dangling), str(tmp_path / "ok.txt"))
    assert r.code == 2
    assert f"toon: error: {tmp_path / 'missing.txt'}: No such file or directory" in r.err
    assert f"toon: error: {dangling}: No such file or directory" in r.err
    assert f"{tmp_path / 'ok.txt'}\t11\t2" in r.out  # the others are still counted


def test_a_1gb_file_is_refused_not_loaded(tmp_path: Path, cache_dir: Path) -> None:
    huge = tmp_path / "huge.txt"
    with open(huge, "wb") as fh:  # sparse: costs no disk
        fh.truncate(1024 ** 3)
    r = run_toon("tokens", str(huge))
    assert r.code == 1
    assert f"toon: error: {huge}: file is 1024 MiB, over the 256 MiB limit (raise it with --max-file-size)" in r.err


def test_a_long_file_is_streamed_with_exact_count(tmp_path: Path, cache_dir: Path) -> None:
    line = "The quick brown fox jumps over the lazy dog, 12345 times.\n"
    f = tmp_path / "long.txt"
    f.write_text(line * 200_000)  # 11.6 MB: above the streaming threshold
    code, doc, _ = _tokens("--no-cache", str(f))
    per_line = TokenCounter(cache_dir=cache_dir, cache=False).count_uncached(line * 2) // 2
    assert doc["total"]["tokens"] == per_line * 200_000  # type: ignore[index]


def test_a_folder_of_100000_files(tmp_path: Path, cache_dir: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(100_000):
        (folder / f"{i:06d}.txt").write_text(f"file {i}\n")
    code, doc, err = _tokens(str(folder))
    assert code == 0, err
    assert doc["total"]["files"] == 100_000  # type: ignore[index]
    assert doc["total"]["tokens"] == sum(  # type: ignore[index]
        TokenCounter(cache_dir=cache_dir, cache=False).count_many([f"file {i}\n" for i in range(100_000)]))


def test_cache_info_and_clear(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    run_toon("tokens", str(tmp_path / "a.txt"))
    info = run_toon("cache", "info")
    assert info.code == 0 and f"directory: {cache_dir / 'tokens'}" in info.out
    assert "entries: 1" in info.out
    cleared = run_toon("cache", "clear")
    assert cleared.code == 0 and "removed 1 cached count" in cleared.out
    assert "entries: 0" in run_toon("cache", "info").out


def test_no_cache_writes_nothing(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    assert run_toon("tokens", "--no-cache", str(tmp_path / "a.txt")).code == 0
    assert not (cache_dir / "tokens").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_pool_and_serial_agree(tmp_path: Path, cache_dir: Path, jobs: str) -> None:
    for i in range(40):
        (tmp_path / f"{i}.txt").write_text(f"document {i}\n" + "lorem ipsum dolor sit amet " * 8000)
    code, doc, err = _tokens("--no-cache", "--jobs", jobs, str(tmp_path))
    assert code == 0, err
    counter = TokenCounter(cache_dir=cache_dir, cache=False)
    assert [f["tokens"] for f in doc["files"]] == [  # type: ignore[index, union-attr]
        counter.count_uncached((tmp_path / Path(f["path"]).name).read_text())  # type: ignore[index]
        for f in doc["files"]]  # type: ignore[union-attr]
