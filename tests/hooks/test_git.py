"""hooks/git.py against real repositories: one runner, NUL-safe paths, errors
as GitError (exit 2)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.hooks.conftest import git
from toon_tools.errors import ToolError
from toon_tools.hooks.git import (GitError, head_tree, hooks_dir, index_blobs,
                                  index_entries, index_tree, known_files, merging, stage_blobs,
                                  staged_changes, toplevel)
from toon_tools.hooks import git as git_module

ODD = ["sp ace.toon", "new\nline.toon", "star*.toon", "[x].toon", ":colon.toon", "ü.toon",
       "-dash.toon", "tab\t.toon"]


def test_not_a_repository_is_a_git_error_with_exit_2(tmp_path: Path) -> None:
    with pytest.raises(GitError) as e:
        toplevel(tmp_path)
    assert isinstance(e.value, ToolError) and e.value.exit_code == 2
    assert "not a git repository" in str(e.value)


def test_missing_git_and_timeouts_are_git_errors(git_repo: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(GitError, match="did not finish"):
        git_module.git(git_repo, "hash-object", "--stdin", timeout=1e-9, input=b"x" * 10)
    monkeypatch.setenv("PATH", str(git_repo))  # no git there
    with pytest.raises(GitError, match="git is not installed"):
        toplevel(git_repo)


def test_toplevel_and_hooks_dir(git_repo: Path) -> None:
    (git_repo / "sub").mkdir()
    assert toplevel(git_repo / "sub") == git_repo
    assert hooks_dir(git_repo) == git_repo / ".git" / "hooks"
    git(git_repo, "config", "core.hooksPath", "my hooks")
    assert hooks_dir(git_repo / "sub") == git_repo / "my hooks"


def test_staged_changes_blobs_and_entries_with_odd_names(git_repo: Path) -> None:
    for i, name in enumerate(ODD):
        (git_repo / name).write_bytes(f"n: {i}\n".encode())
    (git_repo / "starry.toon").write_text("not staged\n")  # a glob "star*" would match it
    git(git_repo, "--literal-pathspecs", "add", "--", *ODD)
    present, deleted = staged_changes(git_repo)
    assert sorted(present) == sorted(ODD) and deleted == []
    blobs = index_blobs(git_repo, ODD)
    assert blobs == {name: f"n: {i}\n".encode() for i, name in enumerate(ODD)}
    entries = index_entries(git_repo, [*ODD, "starry.toon", "absent.toon"])
    assert sorted(entries) == sorted(ODD)
    for name in ODD:
        blob = blobs[name]
        assert entries[name] == hashlib.sha1(b"blob %d\0" % len(blob) + blob).hexdigest()
    some = index_blobs(git_repo, ["absent.toon", ODD[0], "new\nabsent.toon", ODD[1]],
                       missing_ok=True)
    assert some == {ODD[0]: blobs[ODD[0]], ODD[1]: blobs[ODD[1]]}


def test_index_blobs_refuses_what_is_not_staged(git_repo: Path) -> None:
    with pytest.raises(GitError, match="absent.toon is not in the index"):
        index_blobs(git_repo, ["absent.toon"])
    with pytest.raises(GitError, match="is not in the index"):
        index_blobs(git_repo, ["new\nabsent.toon"])


def test_stage_blobs_touches_only_the_index(git_repo: Path) -> None:
    (git_repo / "a.toon").write_text("work tree\n")
    stage_blobs(git_repo, {"a.toon": b"in the index\n", "new\nname.md": b"twin\n"},
                remove=["README.md"])
    assert (git_repo / "a.toon").read_text() == "work tree\n"
    assert (git_repo / "README.md").exists()
    assert index_blobs(git_repo, ["a.toon", "new\nname.md"]) == {
        "a.toon": b"in the index\n", "new\nname.md": b"twin\n"}
    present, deleted = staged_changes(git_repo)
    assert sorted(present) == ["a.toon", "new\nname.md"] and deleted == ["README.md"]


def test_trees_and_merging(tmp_path: Path, git_repo: Path) -> None:
    head = head_tree(git_repo)
    assert head is not None and index_tree(git_repo) == head
    (git_repo / "a.toon").write_text("a: 1\n")
    git(git_repo, "add", "a.toon")
    assert index_tree(git_repo) != head
    assert not merging(git_repo)
    unborn = tmp_path / "unborn"
    unborn.mkdir()
    git(unborn, "init", "-q")
    assert head_tree(unborn) is None


def test_known_files_lists_tracked_and_untracked_not_ignored(git_repo: Path) -> None:
    (git_repo / ".gitignore").write_text("ignored.md\n")
    for name in ("ignored.md", "new.md", "sub dir/deep.md", "x.toon"):
        (git_repo / name).parent.mkdir(exist_ok=True)
        (git_repo / name).write_text("x\n")
    assert known_files(git_repo, "*.md") == ["README.md", "new.md", "sub dir/deep.md"]
