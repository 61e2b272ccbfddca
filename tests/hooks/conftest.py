"""Real git repositories in temporary folders, for the hooks package's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import GIT_ENV, run


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty repository with one commit; the working folder is elsewhere, so
    nothing may depend on it."""
    home = tmp_path / "home"
    home.mkdir()
    for k, v in GIT_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TOON_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    monkeypatch.chdir(home)
    path = tmp_path / "repo"
    path.mkdir()
    run(path, "git", "init", "-q", "-b", "main")
    (path / "README.md").write_text("# project\n")
    run(path, "git", "add", ".")
    run(path, "git", "commit", "-qm", "init")
    return path


def git(repo: Path, *args: str) -> str:
    return run(repo, "git", *args).stdout
