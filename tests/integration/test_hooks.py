"""The hooks for real: git repositories, the pre-commit framework, real commits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import toon_tools
from tests.integration.conftest import REPO, run
from toon_tools.cli.commands.hooks import HOOK_SCRIPT
from toon_tools.convert.markdown import md_to_data

DATA = "users[2]{id,name}:\n  1,Ada\n  2,Bob\n"
NAMES = ["my data.toon", 'quo"te.toon', "-dash.toon", "ünïcødé.toon", "new\nline.toon"]


@pytest.fixture
def framework(repo: Path, hook_repo: tuple[Path, str], pre_commit_home: Path,
              monkeypatch: pytest.MonkeyPatch) -> Path:
    path, rev = hook_repo
    monkeypatch.setenv("PRE_COMMIT_HOME", str(pre_commit_home))
    monkeypatch.setenv("TOON_TOOLS_PURE_PYTHON", "1")  # the hook env need not compile
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {path}\n  rev: {rev}\n  hooks:\n"
        "  - id: toon-check\n  - id: toon-fmt\n  - id: toon-twins\n")
    run(repo, "git", "add", ".pre-commit-config.yaml")
    run(repo, "git", "commit", "-qm", "pre-commit config")
    run(repo, "pre-commit", "install")
    return repo


def commit(repo: Path, message: str = "change") -> tuple[int, str]:
    proc = run(repo, "git", "commit", "-m", message, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_manifest_entry_points_exist() -> None:
    import yaml  # pre-commit depends on PyYAML

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["toon-check", "toon-fmt", "toon-twins", "toon-twins-check",
                                        "toon-tokens"]
    assert all(h["require_serial"] and h["language"] == "python" for h in hooks)
    assert (REPO / "hooks" / "pre-commit").read_text() == HOOK_SCRIPT


# ------------------------------------------------------------ with the framework


def test_framework_creates_twins_then_commits(framework: Path) -> None:
    repo = framework
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    code, out = commit(repo)
    assert code != 0
    assert "created twin data.md" in out and "git add -A -- data.md" in out
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    assert code == 0, out
    twin = run(repo, "git", "show", "HEAD:data.md").stdout
    assert md_to_data(twin) == toon_tools.decode(DATA)
    # Idempotent: a second run over everything changes nothing.
    again = run(repo, "pre-commit", "run", "--all-files", check=False)
    assert again.returncode == 0, again.stdout


def test_framework_blocks_invalid_toon_with_position(framework: Path) -> None:
    repo = framework
    (repo / "bad.toon").write_text("users[3]{id}:\n  1\n  2\n")
    run(repo, "git", "add", "bad.toon")
    code, out = commit(repo)
    assert code != 0
    assert "bad.toon:1:1: users[3]: expected 3 rows, found 2" in out


def test_framework_partial_staging_twins_the_staged_version(framework: Path) -> None:
    repo = framework
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    (repo / "data.toon").write_text(DATA + "extra: unstaged\n")  # like `git add -p`
    code, out = commit(repo)
    assert code != 0 and "created twin data.md" in out
    assert (repo / "data.toon").read_text().endswith("extra: unstaged\n")  # restored
    run(repo, "git", "add", "data.md")
    code, out = commit(repo)
    assert code == 0, out
    twin = run(repo, "git", "show", "HEAD:data.md").stdout
    assert md_to_data(twin) == toon_tools.decode(DATA)


def test_framework_removes_the_twin_of_a_deleted_source(framework: Path) -> None:
    repo = framework
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    commit(repo)
    run(repo, "git", "add", "-A")
    assert commit(repo)[0] == 0
    run(repo, "git", "rm", "-q", "data.toon")
    code, out = commit(repo, "delete")
    assert code != 0 and "removed orphaned twin data.md" in out
    run(repo, "git", "add", "-A")
    code, out = commit(repo, "delete")
    assert code == 0, out
    assert "data.md" not in run(repo, "git", "ls-files").stdout


def test_framework_odd_file_names(framework: Path) -> None:
    repo = framework
    for name in NAMES:
        (repo / name).write_text(DATA)
    run(repo, "git", "add", "--", *NAMES)
    code, out = commit(repo)
    assert code != 0
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    assert code == 0, out
    tracked = run(repo, "git", "ls-files", "-z").stdout.split("\0")
    for name in NAMES:
        assert name[: -len(".toon")] + ".md" in tracked


# ------------------------------------------------------------ standalone


@pytest.fixture
def standalone(repo: Path) -> Path:
    r = run(repo, "toon", "hooks", "install")
    assert "installed" in r.stdout
    return repo


def test_standalone_stages_twins_in_the_same_commit(standalone: Path) -> None:
    repo = standalone
    (repo / "data.toon").write_text("users[2]{id,name}:\n  1 , Ada\n  2,Bob\n")  # not canonical
    run(repo, "git", "add", "data.toon")
    code, out = commit(repo)
    assert code == 0, out
    assert run(repo, "git", "show", "HEAD:data.toon").stdout == DATA  # formatted
    assert md_to_data(run(repo, "git", "show", "HEAD:data.md").stdout) == toon_tools.decode(DATA)
    assert run(repo, "git", "status", "--porcelain").stdout == ""


def test_standalone_blocks_invalid(standalone: Path) -> None:
    repo = standalone
    (repo / "bad.toon").write_text("a: 1\na: 2\n")
    run(repo, "git", "add", "bad.toon")
    code, out = commit(repo)
    assert code != 0 and "bad.toon:2:1: duplicate key 'a'" in out


def test_standalone_partial_staging_never_touches_unstaged_edits(standalone: Path) -> None:
    repo = standalone
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    (repo / "data.toon").write_text(DATA + "extra: unstaged\n")
    code, out = commit(repo)
    assert code == 0, out
    assert (repo / "data.toon").read_text() == DATA + "extra: unstaged\n"
    committed = run(repo, "git", "show", "HEAD:data.md").stdout
    assert md_to_data(committed) == toon_tools.decode(DATA)
    assert md_to_data((repo / "data.md").read_text())["extra"] == "unstaged"  # work-tree twin


def test_standalone_deleted_source_removes_twin(standalone: Path) -> None:
    repo = standalone
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    assert commit(repo)[0] == 0
    run(repo, "git", "rm", "-q", "data.toon")
    code, out = commit(repo, "delete")
    assert code == 0, out
    assert "data.md" not in run(repo, "git", "ls-files").stdout
    assert not (repo / "data.md").exists()


def test_standalone_odd_file_names(standalone: Path) -> None:
    repo = standalone
    for name in NAMES:
        (repo / name).write_text(DATA)
    run(repo, "git", "add", "--", *NAMES)
    code, out = commit(repo)
    assert code == 0, out
    tracked = run(repo, "git", "ls-files", "-z").stdout.split("\0")
    for name in NAMES:
        assert name[: -len(".toon")] + ".md" in tracked


def test_install_respects_hooks_path_and_foreign_hooks(repo: Path) -> None:
    run(repo, "git", "config", "core.hooksPath", ".githooks")
    (repo / ".githooks").mkdir()
    (repo / ".githooks" / "pre-commit").write_text("#!/bin/sh\necho mine\n")
    r = run(repo, "toon", "hooks", "install", check=False)
    assert r.returncode == 2 and "was not written by toon-tools" in r.stderr
    assert (repo / ".githooks" / "pre-commit").read_text() == "#!/bin/sh\necho mine\n"
    r = run(repo, "toon", "hooks", "install", "--force")
    assert (repo / ".githooks" / "pre-commit").read_text() == HOOK_SCRIPT
    assert (repo / ".githooks" / "pre-commit.before-toon").read_text() == "#!/bin/sh\necho mine\n"
    assert os.access(repo / ".githooks" / "pre-commit", os.X_OK)
    assert run(repo, "toon", "hooks", "install").returncode == 0  # its own hook: replaced quietly


# ------------------------------------------------------------ twins check and config


def test_twins_check_reports_missing_stale_and_orphaned(repo: Path) -> None:
    (repo / "a.toon").write_text(DATA)
    (repo / "b.toon").write_text("x: 1\n")
    run(repo, "toon", "twins", "a.toon", "b.toon", check=False)
    (repo / "b.toon").write_text("x: 2\n")  # b.md is now stale
    (repo / "c.toon").write_text("y: 1\n")  # no twin yet
    (repo / "a.toon").rename(repo / "gone.txt")  # a.md is now an orphan
    r = run(repo, "toon", "twins", "--check", "--all", check=False)
    assert r.returncode == 1
    assert "b.md: stale twin of b.toon" in r.stdout
    assert "c.md: missing twin of c.toon" in r.stdout
    assert "a.md: orphaned twin (its source is gone)" in r.stdout
    assert not (repo / "c.md").exists()  # --check writes nothing


def test_hand_edited_twin_is_regenerated(repo: Path) -> None:
    (repo / "a.toon").write_text(DATA)
    run(repo, "toon", "twins", "a.toon", check=False)
    good = (repo / "a.md").read_text()
    (repo / "a.md").write_text(good.replace("Ada", "Eve"))
    r = run(repo, "toon", "twins", "a.md", check=False)
    assert r.returncode == 1 and "updated twin a.md" in r.stdout
    assert (repo / "a.md").read_text() == good


def test_mirror_location_and_config_command(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.toon.twins]\nlocation = "mirror"\ndir = "docs/twins"\n')
    (repo / "data").mkdir()
    (repo / "data" / "a.toon").write_text(DATA)
    r = run(repo, "toon", "twins", "data/a.toon", check=False)
    assert "created twin docs/twins/data/a.md" in r.stdout
    assert md_to_data((repo / "docs/twins/data/a.md").read_text()) == toon_tools.decode(DATA)
    cfg = run(repo, "toon", "config").stdout
    assert "twins.location" in cfg and '"mirror"' in cfg and "pyproject.toml [tool.toon]" in cfg
    (repo / "pyproject.toml").write_text("[tool.toon]\ntwinz = 1\n")
    r = run(repo, "toon", "config", check=False)
    assert r.returncode == 2 and "unknown key 'twinz'" in r.stderr
