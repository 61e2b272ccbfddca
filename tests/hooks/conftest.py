"""Real git repositories in temporary folders, for the hooks package's own tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import init_repo, run


@pytest.fixture
def git_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty repository with one commit; the working folder is elsewhere, so
    nothing may depend on it."""
    monkeypatch.delenv("GIT_INDEX_FILE", raising=False)
    path = init_repo(tmp_path, monkeypatch, "repo")
    monkeypatch.chdir(tmp_path / "home")
    return path


def git(repo: Path, *args: str) -> str:
    return run(repo, "git", *args).stdout
