"""``toon tokens`` and ``toon cache`` end to end."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import click

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


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_non_utf8_file_met_in_a_folder_is_skipped_like_a_binary_one(
        tmp_path: Path, cache_dir: Path, jobs: str) -> None:
    tmp_path = tmp_path / "data"  # not the folder that holds the cache
    tmp_path.mkdir()
    (tmp_path / "lat.txt").write_bytes(b"caf\xe9\n")
    (tmp_path / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0")
    (tmp_path / "a.txt").write_text("hello world")
    code, doc, err = _tokens("--jobs", jobs, str(tmp_path))
    assert (code, err) == (0, "")
    assert [Path(f["path"]).name for f in doc["files"]] == ["a.txt"]  # type: ignore[index, union-attr]
    assert sorted(Path(p).name for p in doc["skipped"]) == ["img.png", "lat.txt"]  # type: ignore[union-attr]
    assert doc["errors"] == []
    assert _note_on_a_terminal("tokens", "--jobs", jobs, str(tmp_path)) == \
        "(2 files skipped: binary or not UTF-8)\n"
    # Named on the command line, the same file is still an error (exit 1).
    code, doc, err = _tokens("--jobs", jobs, str(tmp_path), str(tmp_path / "lat.txt"))
    assert code == 1
    assert err == f"toon: error: {tmp_path / 'lat.txt'}: invalid UTF-8 at byte 3\n"
    assert doc["errors"] == [{"path": str(tmp_path / "lat.txt"), "error": "invalid UTF-8 at byte 3"}]


def test_compare_says_per_file_why_it_could_not_compare(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "s1.json").write_text('{"a": "\\ud800"}\n')  # a lone surrogate
    (tmp_path / "big.json").write_text('{"n": ' + "7" * 5000 + "}\n")
    (tmp_path / "bad.json").write_text('{"a": }\n')
    (tmp_path / "bad.toon").write_text("a: 1\na: 2\n")
    (tmp_path / "ok.json").write_text('{"a": [1, 2, 3]}\n')
    names = ["s1.json", "big.json"]
    r = run_toon("tokens", "--compare", *(str(tmp_path / n) for n in names))
    assert r.code == 0
    assert "no JSON or TOON files to compare" not in r.err
    surrogate, big = r.err.splitlines()  # one line each
    assert surrogate.startswith(f"toon: warning: {tmp_path / 's1.json'}: not compared: ")
    assert "lone surrogate" in surrogate and "\\ud800" in surrogate  # escaped, as written
    assert big == (f"toon: warning: {tmp_path / 'big.json'}: not compared: an integer has "
                   "more than 4300 digits")
    code, doc, err = _tokens("--compare", *(str(tmp_path / n) for n in
                                            ["bad.json", "bad.toon", "ok.json"]))
    assert code == 0 and [Path(c["path"]).name for c in doc["compare"]] == ["ok.json"]  # type: ignore[index, union-attr]
    assert err.splitlines() == [
        f"toon: warning: {tmp_path / 'bad.json'}:1:7: not compared: not valid JSON: "
        "Expecting value",
        f"toon: warning: {tmp_path / 'bad.toon'}:2:1: not compared: not a valid TOON "
        "document: duplicate key 'a'"]
    # Over budget stays exit 1: the warnings change no exit code.
    r = run_toon("tokens", "--compare", "--budget", "1", str(tmp_path / "s1.json"))
    assert r.code == 1 and "not compared" in r.err
    # Only files that are neither JSON nor TOON: the old note, which is then true.
    (tmp_path / "a.txt").write_text("hello")
    r = run_toon("tokens", "--compare", str(tmp_path / "a.txt"))
    assert r.code == 0 and r.err == "(--compare: no JSON or TOON files to compare)\n"


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


def _instrumented(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """Counts of the operations whose number must not grow faster than the
    files: cache round trips, processes started, texts tokenized."""
    import subprocess as sp

    from toon_tools.tokens.cache import TokenCache

    seen: Counter[str] = Counter()
    get_many, put_many = TokenCache.get_many, TokenCache.put_many
    count_uncached, popen_init = TokenCounter.count_uncached, sp.Popen.__init__

    def get(self: TokenCache, keys: Iterable[str]) -> dict[str, int]:
        keys = list(keys)
        seen["cache reads"] += 1
        seen["keys read"] += len(keys)
        return get_many(self, keys)

    def put(self: TokenCache, items: Mapping[str, int]) -> None:
        seen["cache writes"] += 1
        seen["keys written"] += len(items)
        put_many(self, items)

    def tokenize(self: TokenCounter, text: str) -> int:
        seen["tokenized"] += 1
        return count_uncached(self, text)

    def popen(self: sp.Popen[bytes], *args: object, **kwargs: object) -> None:
        seen["processes"] += 1
        popen_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(TokenCache, "get_many", get)
    monkeypatch.setattr(TokenCache, "put_many", put)
    monkeypatch.setattr(TokenCounter, "count_uncached", tokenize)
    monkeypatch.setattr(sp.Popen, "__init__", popen)
    return seen


@pytest.mark.parametrize("n", [2_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_a_folder_of_many_files_costs_one_cache_round_trip(
        tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    """The cost that matters at scale is per-file round trips: a lookup, a write
    or a process per file would make a 100,000-file folder take minutes. Counted,
    not timed: one batched cache read and one batched write however many files,
    at most one process (git, to list the folder), each distinct text tokenized once."""
    from click.testing import CliRunner

    from toon_tools.cli.main import cli

    folder = tmp_path / "many"
    folder.mkdir()
    texts = [f"file {i}\n" for i in range(n)]
    for i, text in enumerate(texts):
        (folder / f"{i:06d}.txt").write_text(text)
    texts.append(texts[0])  # one duplicate content: counted once
    (folder / "copy.txt").write_text(texts[0])
    expected = sum(TokenCounter(cache_dir=cache_dir, cache=False).count_many(texts))

    def run() -> dict[str, Any]:
        result = CliRunner().invoke(cli, ["tokens", "--json", "--jobs", "1", str(folder)])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)  # type: ignore[no-any-return]

    cold = _instrumented(monkeypatch)
    doc = run()
    assert doc["total"]["files"] == n + 1 and doc["total"]["tokens"] == expected
    assert dict(cold) == {"cache reads": 1, "keys read": n, "cache writes": 1,
                          "keys written": n, "tokenized": n, "processes": cold["processes"]}
    assert cold["processes"] <= 1

    warm = _instrumented(monkeypatch)
    doc = run()
    assert doc["total"]["tokens"] == expected
    assert all(f["cached"] for f in doc["files"])
    assert dict(warm) == {"cache reads": 1, "keys read": n, "processes": warm["processes"]}
    assert warm["processes"] <= 1

def test_cache_info_and_clear(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    run_toon("tokens", str(tmp_path / "a.txt"))
    info = run_toon("cache", "info")
    assert info.code == 0 and info.out.startswith(f"cache folder: {cache_dir}\n")
    assert info.out.splitlines()[2].split()[:3] == ["token", "counts", "1"]
    cleared = run_toon("cache", "clear")
    assert cleared.code == 0 and "token counts: removed 1 entry\n" in cleared.out
    assert run_toon("cache", "info").out.splitlines()[2].split()[:3] == ["token", "counts", "0"]


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


# ------------------------------------------------------------ one policy with the other commands


def test_exclude_applies_to_walks_and_with_force_exclude_to_named_files(
        tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.toon]\nexclude = ["vendor/", "*.log"]\n')
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.toon").write_text("a: 1")
    (tmp_path / "debug.log").write_text("noise")
    (tmp_path / "keep.toon").write_text("hello world")

    def names(doc: dict[str, Any]) -> list[str]:
        return [f["path"] for f in doc["files"]]

    code, doc, err = _tokens(".", cwd=tmp_path)
    assert code == 0, err
    assert names(doc) == ["./keep.toon", "./pyproject.toml"]
    # Named on the command line: counted (the user asked), unless --force-exclude,
    # which the pre-commit hook passes because pre-commit names every file.
    code, doc, _ = _tokens("keep.toon", "vendor/lib.toon", "debug.log", cwd=tmp_path)
    assert names(doc) == ["keep.toon", "vendor/lib.toon", "debug.log"]
    code, doc, _ = _tokens("--force-exclude", "keep.toon", "vendor/lib.toon", "debug.log",
                           cwd=tmp_path)
    assert code == 0 and names(doc) == ["keep.toon"]
    code, doc, _ = _tokens("--force-exclude", "vendor/lib.toon", cwd=tmp_path)
    assert code == 0 and doc["total"] == {"files": 0, "bytes": 0, "tokens": 0}


def test_a_file_named_twice_is_counted_once(tmp_path: Path, cache_dir: Path) -> None:
    (tmp_path / "a.txt").write_text("hello world")
    code, doc, _ = _tokens("a.txt", "a.txt", ".", "--budget", "2", cwd=tmp_path)
    assert code == 0 and doc["total"]["tokens"] == 2


@pytest.mark.parametrize("setting", ["exclude = 3", "tokens = { budget = 'x' }", "nope = 1"])
def test_an_invalid_config_exits_2_with_one_line(tmp_path: Path, cache_dir: Path,
                                                 setting: str) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.toon]\n{setting}\n")
    (tmp_path / "a.txt").write_text("hello world")
    for args in (["tokens", "a.txt"], ["cache", "info"], ["cache", "clear"]):
        r = run_toon(*args, cwd=tmp_path)
        assert r.code == 2 and r.out == "", (args, r)
        assert r.err.startswith(f"toon: error: {tmp_path / 'pyproject.toml'} [tool.toon]: ")
        assert r.err.count("\n") == 1, r.err


def test_file_names_and_contents_are_escaped(tmp_path: Path, cache_dir: Path) -> None:
    evil = tmp_path / "evil\x1b[31m\nname.bin"
    evil.write_bytes(b"\x1b]0;pwned\x07\0")
    latin = tmp_path / "caf\x1b.txt"
    latin.write_bytes(b"caf\xe9")
    ok = tmp_path / "line\nbreak.txt"
    ok.write_text("hello world")
    r = run_toon("tokens", str(evil), str(latin), str(ok))
    assert r.code == 1
    assert "\x1b" not in r.err + r.out
    assert r.err.splitlines() == [
        f"toon: error: {tmp_path}/evil\\x1b[31m\\nname.bin: binary file (contains NUL bytes), "
        "not counted",
        f"toon: error: {tmp_path}/caf\\x1b.txt: invalid UTF-8 at byte 3"]
    assert r.out.splitlines() == [f"{tmp_path}/line\\nbreak.txt\t11\t2", "total\t11\t2"]


def test_every_option_has_help() -> None:
    from toon_tools.cli.commands.cache import cache
    from toon_tools.cli.commands.tokens import tokens

    for command in (tokens, cache, *cache.commands.values()):  # type: ignore[attr-defined]
        assert command.help, command.name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, (command.name, param.name)
    assert {"--jobs", "--force-exclude"} <= {o for p in tokens.params for o in p.opts}


def _on_a_terminal(*args: str, env: dict[str, str]) -> str:
    """stdout of ``toon ARGS`` when stdout is a terminal (a pseudo-terminal)."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "toon_tools", *args], stdout=slave,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                              env={**os.environ, **env}, timeout=120)
    finally:
        os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other end is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc.stderr
    return out.decode("utf-8")


def test_no_color_disables_styling_on_a_terminal(tmp_path: Path, cache_dir: Path) -> None:
    """https://no-color.org: NO_COLOR set and non-empty means no ANSI styling."""
    (tmp_path / "a.txt").write_text("hello world")
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    styled = _on_a_terminal("tokens", str(tmp_path / "a.txt"), env={**env, "NO_COLOR": ""})
    assert "\x1b[1m" in styled
    plain = _on_a_terminal("tokens", str(tmp_path / "a.txt"), env={**env, "NO_COLOR": "1"})
    assert "\x1b" not in plain
    assert re.sub("\x1b\\[[0-9;]*m", "", styled) == plain  # the same table, unstyled
    assert plain.splitlines()[0].split() == ["path", "bytes", "tokens"]


def _note_on_a_terminal(*args: str) -> str:
    """stderr of ``toon ARGS`` when stdout is a terminal (the table's notes go there)."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "toon_tools", *args], stdout=slave,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=120)
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.decode()


def _budget_line(text: str) -> int:
    """The total in the over-budget line of a report."""
    (line,) = [ln for ln in text.splitlines() if "over the budget of" in ln]
    return int(re.search(r"([\d,]+) tokens", line).group(1).replace(",", ""))  # type: ignore[union-attr]


def test_the_budget_agrees_with_the_standalone_hook(tmp_path: Path, cache_dir: Path) -> None:
    """Both hook routes count the same bytes: the staged .toon files that
    [tool.toon] exclude does not name, as they will be committed (pre-commit runs
    toon-tokens with --force-exclude on the staged names)."""
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "pyproject.toml").write_text(
        '[tool.toon]\nexclude = ["vendor/"]\n[tool.toon.tokens]\nbudget = 10\n')
    (repo / "prompts.toon").write_text("users[2]{id,name}:\n  1,Ada\n  2,Bob\nrole: admin\n")
    (repo / "vendor").mkdir()
    (repo / "vendor" / "events.toon").write_text("events[2]: deploy,rollback\n")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    staged = ["prompts.toon", "vendor/events.toon"]
    r = run_toon("tokens", "--force-exclude", *staged, cwd=repo)
    assert r.code == 1
    hook = run_toon("hooks", "run", cwd=repo)
    assert hook.code == 1
    assert _budget_line(r.err) == _budget_line(hook.out + hook.err)
