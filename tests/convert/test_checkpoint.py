"""Checkpoints of real repositories, one with 20 submodules."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

import toon_tools
from toon_tools.convert.checkpoint import checkpoint

GIT_ENV = {"GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_ALLOW_PROTOCOL": "file"}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=cwd, check=True,
                          capture_output=True, text=True, env={**os.environ, **GIT_ENV}).stdout


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("# demo\n")
    (path / "TODO.md").write_text("# Todo\n\n- [ ] write the docs\n- [x] ship it\n- [ ] fix #12\n")
    git(path, "add", ".")
    git(path, "commit", "-qm", "first commit")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    return make_repo(tmp_path / "repo")


def test_basic_snapshot(repo: Path) -> None:
    (repo / "staged.txt").write_text("s")
    git(repo, "add", "staged.txt")
    (repo / "README.md").write_text("# changed\n")
    (repo / "new.txt").write_text("n")
    snap = checkpoint(repo)
    assert snap["branch"] == "main" and len(snap["head"]) == 40
    assert snap["staged"] == [{"path": "staged.txt", "status": "added"}]
    assert snap["modified"] == [{"path": "README.md", "status": "modified"}]
    assert snap["untracked"] == ["new.txt"]
    assert [c["subject"] for c in snap["commits"]] == ["first commit"]
    assert snap["tasks"] == [{"file": "TODO.md", "line": 3, "text": "write the docs"},
                             {"file": "TODO.md", "line": 5, "text": "fix #12"}]
    assert toon_tools.decode(toon_tools.encode(snap)) == snap


def test_upstream_ahead_behind(repo: Path, tmp_path: Path) -> None:
    git(tmp_path, "clone", "-q", str(repo), "clone")
    clone = tmp_path / "clone"
    (clone / "x.txt").write_text("x")
    git(clone, "add", ".")
    git(clone, "commit", "-qm", "local work")
    snap = checkpoint(clone)
    assert (snap["upstream"], snap["ahead"], snap["behind"]) == ("origin/main", 1, 0)


def _git_counter(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A `git` on PATH that logs each call, then runs the real git."""
    real = subprocess.run(["which", "git"], capture_output=True, text=True).stdout.strip()
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    log = tmp_path / "git-calls.log"
    shim = shim_dir / "git"
    shim.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexec "{real}" "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{shim_dir}:{os.environ['PATH']}"}, log


def test_twenty_submodules_in_a_constant_number_of_git_calls(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(20):
        sub = make_repo(tmp_path / "subs" / f"lib{i:02d}")
        git(repo, "submodule", "add", "-q", str(sub), f"vendor/lib{i:02d}")
    git(repo, "commit", "-qm", "add submodules")
    (repo / "vendor" / "lib03" / "README.md").write_text("dirty\n")
    env, log = _git_counter(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    snap = checkpoint(repo)
    calls = log.read_text().splitlines()
    assert len(calls) <= 6, calls
    subs = snap["submodules"]
    assert len(subs) == 20
    assert subs[3]["path"] == "vendor/lib03" and subs[3]["state"] == "modified content"
    assert all(s["state"] == "clean" for s in subs if s["path"] != "vendor/lib03")
    assert subs[0]["url"].endswith("lib00") and len(subs[0]["commit"]) == 40


def test_cli(repo: Path) -> None:
    from tests.cli.conftest import run_toon

    r = run_toon("checkpoint", "--repo", str(repo))
    assert r.code == 0 and "tasks[2]{file,line,text}:" in r.out
    out = repo.parent / "cp.toon"
    assert run_toon("checkpoint", "--repo", str(repo), "-o", str(out)).code == 0
    assert toon_tools.decode(out.read_bytes())["branch"] == "main"
    r = run_toon("checkpoint", "--repo", str(repo.parent))
    assert r.code == 2 and r.err.startswith(f"toon: error: {repo.parent}: fatal: not a git repository")
    assert r.err.count("\n") == 1 and r.out == ""
    r = run_toon("convert", "--from", "checkpoint", str(repo.parent))
    assert r.code == 2 and "not a git repository" in r.err and r.err.count("\n") == 1
    r = run_toon("checkpoint", "--repo", str(repo), "-o", str(repo / "no" / "cp.toon"))
    assert (r.code, r.err) == (2, f"toon: error: {repo / 'no' / 'cp.toon'}: No such file or directory\n")
