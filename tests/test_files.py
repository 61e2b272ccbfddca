"""File plumbing: atomic writes that never damage, and finding files with exclude."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from toon_tools.files import atomic_write, commit_temps, expand_paths, walk_folder, write_temp


def test_atomic_write_replaces_keeps_mode_and_leaves_no_temp(tmp_path: Path) -> None:
    f = tmp_path / "a.toon"
    f.write_text("old")
    f.chmod(0o640)
    atomic_write(f, "new")
    assert f.read_text() == "new"
    assert f.stat().st_mode & 0o777 == 0o640
    assert sorted(os.listdir(tmp_path)) == ["a.toon"]


def test_atomic_write_refuses_a_read_only_file_and_leaves_it_byte_identical(tmp_path: Path) -> None:
    f = tmp_path / "a.toon"
    f.write_bytes(b"mine\n")
    f.chmod(0o444)
    with pytest.raises(PermissionError):
        atomic_write(f, "theirs")
    assert f.read_bytes() == b"mine\n"
    assert sorted(os.listdir(tmp_path)) == ["a.toon"]


def test_atomic_write_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "nope" / "a.toon", "x")


def test_write_temp_then_commit_temps(tmp_path: Path) -> None:
    targets = [tmp_path / f"{i}.md" for i in range(3)]
    targets[0].write_text("before")
    targets[0].chmod(0o600)
    pairs = [(write_temp(t, f"text {i}"), str(t)) for i, t in enumerate(targets)]
    assert targets[0].read_text() == "before"  # nothing visible before the commit
    commit_temps(pairs)
    assert [t.read_text() for t in targets] == ["text 0", "text 1", "text 2"]
    assert targets[0].stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(tmp_path)) == ["0.md", "1.md", "2.md"]


def tree(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("a: 1\n")


def test_expand_paths_walks_folders_sorted_and_keeps_explicit_files(tmp_path: Path) -> None:
    tree(tmp_path, "b.toon", "a.toon", "x.json", "sub/c.toon", ".hidden/d.toon",
         "node_modules/e.toon")
    found = list(expand_paths([str(tmp_path), str(tmp_path / "x.json")]))
    rel = [os.path.relpath(p, tmp_path) for p in found]
    assert rel == ["a.toon", "b.toon", "sub/c.toon", "x.json"]


def test_exclude_drops_walked_files_and_explicit_ones_only_when_forced(tmp_path: Path) -> None:
    tree(tmp_path, "keep.toon", "gen/a.toon")
    excluded = lambda p: "gen" in Path(p).parts  # noqa: E731
    gen = str(tmp_path / "gen" / "a.toon")
    walked = list(expand_paths([str(tmp_path)], excluded=excluded))
    assert walked == [str(tmp_path / "keep.toon")]
    assert list(expand_paths([gen], excluded=excluded)) == [gen]  # the user asked for it
    assert list(expand_paths([gen], excluded=excluded, force_exclude=True)) == []


def test_walk_folder_follows_gitignore_inside_a_work_tree(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    tree(tmp_path, "a.toon", "ignored/b.toon", "c.md")
    (tmp_path / ".gitignore").write_text("ignored/\n")
    found = [os.path.relpath(p, tmp_path) for p in walk_folder(str(tmp_path))]
    assert found == [".gitignore", "a.toon", "c.md"]


def test_walk_folder_outside_git_walks_everything_but_skipped_folders(tmp_path: Path) -> None:
    tree(tmp_path, "a.toon", "__pycache__/x.toon", "s/b.md")
    found = [os.path.relpath(p, tmp_path) for p in walk_folder(str(tmp_path))]
    assert found == ["a.toon", "s/b.md"]
