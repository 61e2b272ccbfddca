"""hooks/standalone.py in-process, on real repositories: the report, the index
and the work tree after a run. (Real `git commit` runs: tests/integration.)"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import toon_tools
from tests.hooks.conftest import git
from toon_tools.convert.markdown import md_to_data
from toon_tools.hooks.git import index_blobs
from toon_tools.hooks.standalone import BACKUP, MARK, Formatted, hook_script, install, run
from toon_tools.tokens import TokenCounter
from toon_tools.tokens.budget import over_budget

DATA = "users[2]{id,name}:\n  1,Ada\n  2,Bob\n"
MESSY = "users[2]{id,name}:\n  1 , Ada\n  2,Bob\n"
HAND = b"# My notes\n\nWritten by hand.\n"


def _index(repo: Path) -> str:
    return git(repo, "ls-files", "-s")


def test_formats_twins_and_stages_without_changing_the_working_folder(git_repo: Path) -> None:
    cwd = os.getcwd()
    (git_repo / "data.toon").write_text(MESSY)
    git(git_repo, "add", "data.toon")
    report = run(git_repo)
    assert os.getcwd() == cwd
    assert report.problems == [] and report.exit_code == 0
    assert report.formatted == [Formatted("data.toon", worktree=True)]
    assert report.staged_twins == ["data.md"] and report.written_twins == ["data.md"]
    staged = index_blobs(git_repo, ["data.toon", "data.md"])
    assert staged["data.toon"] == DATA.encode() and (git_repo / "data.toon").read_text() == DATA
    assert md_to_data(staged["data.md"].decode()) == toon_tools.decode(DATA)
    assert (git_repo / "data.md").read_bytes() == staged["data.md"]


def test_runs_from_a_subfolder(git_repo: Path) -> None:
    (git_repo / "sub").mkdir()
    (git_repo / "sub" / "data.toon").write_text(DATA)
    git(git_repo, "add", ".")
    report = run(git_repo / "sub")
    assert report.staged_twins == ["sub/data.md"] and (git_repo / "sub" / "data.md").exists()


def test_unstaged_edits_are_left_alone(git_repo: Path) -> None:
    (git_repo / "data.toon").write_text(MESSY)
    git(git_repo, "add", "data.toon")
    (git_repo / "data.toon").write_text(MESSY + "extra: unstaged\n")
    report = run(git_repo)
    assert report.formatted == [Formatted("data.toon", worktree=False)]
    assert (git_repo / "data.toon").read_text() == MESSY + "extra: unstaged\n"
    assert md_to_data((git_repo / "data.md").read_text())["extra"] == "unstaged"


def test_invalid_file_is_reported_with_position_and_nothing_changes(git_repo: Path) -> None:
    (git_repo / "bad.toon").write_text("a: 1\na: 2\n")
    (git_repo / "good.toon").write_text(MESSY)
    git(git_repo, "add", ".")
    before = _index(git_repo)
    report = run(git_repo)
    assert report.exit_code == 1 and len(report.problems) == 1
    err = report.problems[0].error
    assert (err.path, err.line, err.column, err.message) == ("bad.toon", 2, 1, "duplicate key 'a'")
    assert report.problems[0].source == "a: 1\na: 2\n"
    assert _index(git_repo) == before and (git_repo / "good.toon").read_text() == MESSY
    assert not (git_repo / "good.md").exists()


@pytest.mark.parametrize("state", ["untracked", "tracked", "staged", "index only"])
def test_a_hand_written_file_in_the_twins_place_is_never_replaced(git_repo: Path,
                                                                   state: str) -> None:
    notes = git_repo / "notes.md"
    notes.write_bytes(HAND)
    if state in ("tracked", "staged", "index only"):
        git(git_repo, "add", "notes.md")
        git(git_repo, "commit", "-qm", "notes")
    if state in ("staged", "index only"):
        notes.write_bytes(HAND + b"more\n")
        git(git_repo, "add", "notes.md")
    if state == "index only":
        notes.unlink()
    (git_repo / "notes.toon").write_text(MESSY)
    (git_repo / "other.toon").write_text(MESSY)
    git(git_repo, "add", "notes.toon", "other.toon")
    before = _index(git_repo)
    report = run(git_repo)
    assert report.exit_code == 1
    assert [(p.error.path, str(p.error)) for p in report.problems] == [
        ("notes.md", "exists and is not a twin of notes.toon; rename it or set twins.suffix")]
    assert _index(git_repo) == before  # nothing staged: not the twin, not the formatting
    if state == "index only":
        assert not notes.exists()
        assert index_blobs(git_repo, ["notes.md"])["notes.md"] == HAND + b"more\n"
    else:
        assert notes.read_bytes() == (HAND + b"more\n" if state == "staged" else HAND)
    assert (git_repo / "other.toon").read_text() == MESSY and not (git_repo / "other.md").exists()


def test_twins_add_route_reports_the_same_conflict(git_repo: Path) -> None:
    (git_repo / "notes.md").write_bytes(HAND)
    (git_repo / "notes.toon").write_text(DATA)
    git(git_repo, "add", "notes.toon")
    report = run(git_repo, only_twins=True)
    assert report.exit_code == 1 and "is not a twin of notes.toon" in str(report.problems[0].error)
    assert (git_repo / "notes.md").read_bytes() == HAND


@pytest.mark.parametrize("only_twins", [False, True])
@pytest.mark.parametrize("kind", ["dangling", "to a twin", "folder"])
def test_what_is_not_a_regular_file_in_the_twins_place_is_never_replaced(
        git_repo: Path, kind: str, only_twins: bool) -> None:
    twin = git_repo / "s3.md"
    if kind == "dangling":
        twin.symlink_to("/nonexistent")
    elif kind == "to a twin":
        (git_repo / "s3.toon").write_text("a: 3\n")
        git(git_repo, "add", "s3.toon")
        run(git_repo)
        git(git_repo, "reset", "-q")
        os.rename(twin, git_repo.parent / "page.md")
        twin.symlink_to(git_repo.parent / "page.md")
    else:
        twin.mkdir()
    (git_repo / "s3.toon").write_text("a: 3\n")
    git(git_repo, "add", "s3.toon")
    before = _index(git_repo)
    report = run(git_repo, only_twins=only_twins)
    what = "a folder" if kind == "folder" else "a symbolic link"
    assert report.exit_code == 1
    assert [(p.error.path, str(p.error)) for p in report.problems] == [
        ("s3.md", f"is {what}, not a twin of s3.toon; rename it or set twins.suffix")]
    assert _index(git_repo) == before
    assert twin.is_dir() if kind == "folder" else twin.is_symlink()


def test_a_symlink_in_a_deleted_sources_twin_place_is_not_removed(git_repo: Path) -> None:
    (git_repo / "a.toon").write_text(DATA)
    git(git_repo, "add", "a.toon")
    run(git_repo)
    git(git_repo, "commit", "-qm", "a")
    page = git_repo.parent / "page.md"
    os.rename(git_repo / "a.md", page)  # a generated twin, now behind a link
    (git_repo / "a.md").symlink_to(page)
    git(git_repo, "rm", "-q", "a.toon")
    report = run(git_repo)
    assert report.removed_orphans == [] and report.exit_code == 0
    assert (git_repo / "a.md").is_symlink() and page.exists()


def test_deleted_source_removes_only_its_generated_twin(git_repo: Path) -> None:
    for name in ("a", "b"):
        (git_repo / f"{name}.toon").write_text(DATA)
    git(git_repo, "add", ".")
    run(git_repo)
    git(git_repo, "commit", "-qm", "twins")
    (git_repo / "b.md").write_bytes(HAND)  # b's twin replaced by a hand-written page
    git(git_repo, "commit", "-qam", "hand")
    git(git_repo, "rm", "-q", "a.toon", "b.toon")
    report = run(git_repo)
    assert report.removed_orphans == ["a.md"] and report.exit_code == 0
    assert not (git_repo / "a.md").exists() and (git_repo / "b.md").read_bytes() == HAND
    assert "a.md" not in git(git_repo, "ls-files") and "b.md" in git(git_repo, "ls-files")


def test_exclude_always_applies(git_repo: Path) -> None:
    (git_repo / "pyproject.toml").write_text('[tool.toon]\nexclude = ["legacy/"]\n')
    (git_repo / "legacy").mkdir()
    (git_repo / "legacy" / "bad.toon").write_text("a: 1\na: 2\n")
    (git_repo / "legacy" / "raw.toon").write_text(MESSY)
    git(git_repo, "add", ".")
    report = run(git_repo)
    assert report.exit_code == 0 and report.formatted == [] and report.staged_twins == []
    assert (git_repo / "legacy" / "raw.toon").read_text() == MESSY


def test_formatting_only_change_is_reported_as_emptied(git_repo: Path) -> None:
    (git_repo / "data.toon").write_text(DATA)
    git(git_repo, "add", ".")
    run(git_repo)
    git(git_repo, "commit", "-qm", "data")
    assert not run(git_repo).emptied  # index == HEAD from the start (an amend)
    (git_repo / "data.toon").write_text(MESSY)
    git(git_repo, "add", "data.toon")
    report = run(git_repo)
    assert report.emptied and report.exit_code == 1
    assert git(git_repo, "diff", "--cached", "--name-only") == ""


def test_budgets_are_those_of_the_one_evaluator(git_repo: Path) -> None:
    (git_repo / "pyproject.toml").write_text(
        "[tool.toon.tokens]\nbudget = 20\nper-file-budget = 15\n")
    (git_repo / "a.toon").write_text(MESSY)
    (git_repo / "b.toon").write_text("x: 1\n")
    git(git_repo, "add", ".")
    report = run(git_repo)
    counter = TokenCounter("o200k_base", cache_dir=git_repo.parent / "cache", cache=False)
    counts = {"a.toon": counter.count(DATA), "b.toon": counter.count("x: 1\n")}
    assert report.overruns == over_budget(counts, 20, 15) != []
    assert report.exit_code == 1


# ------------------------------------------------------------ install


def test_install_keeps_every_foreign_hook(git_repo: Path) -> None:
    hooks = git_repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho first\n")
    with pytest.raises(Exception, match="was not written by toon-tools") as e:
        install(git_repo)
    assert getattr(e.value, "exit_code", None) == 2
    assert str(e.value) == ("exists and was not written by toon-tools; with --force it is "
                            f"replaced, and kept as {BACKUP} (it will no longer run)")
    assert BACKUP not in os.listdir(hooks)  # nothing is kept until --force
    first = install(git_repo, force=True)
    assert first.backup == hooks / BACKUP
    assert (hooks / BACKUP).read_text() == "#!/bin/sh\necho first\n"
    assert (hooks / "pre-commit").read_text() == hook_script()
    assert os.access(hooks / "pre-commit", os.X_OK)
    again = install(git_repo)  # our own hook: replaced quietly, no backup
    assert again.backup is None
    (hooks / "pre-commit").write_text("#!/bin/sh\necho second\n")
    with pytest.raises(Exception, match=f"kept as {BACKUP}.1 "):  # the name it would take
        install(git_repo)
    second = install(git_repo, force=True)
    assert second.backup == hooks / f"{BACKUP}.1"
    assert (hooks / BACKUP).read_text() == "#!/bin/sh\necho first\n"
    assert (hooks / f"{BACKUP}.1").read_text() == "#!/bin/sh\necho second\n"


def test_install_help_says_the_replaced_hook_no_longer_runs() -> None:
    from click.testing import CliRunner

    from toon_tools.cli.commands.hooks import hooks

    r = CliRunner().invoke(hooks, ["install", "--help"], terminal_width=200)
    assert r.exit_code == 0
    text = " ".join(r.output.split())
    assert "kept as pre-commit.before-toon" in text
    assert "no longer run" in text and "not chained" in text


def test_hook_script_is_ours_and_says_how_to_get_toon() -> None:
    script = hook_script()
    assert script.startswith("#!/bin/sh\n") and MARK in script
    assert "exec toon hooks run" in script
    assert "pip install toon-tools" not in script and "virtualenv" in script


def test_hook_script_is_shipped_as_package_data() -> None:
    """`toon hooks install` from a wheel needs pre-commit.sh in the wheel; setuptools
    packs only the package data that pyproject.toml lists."""
    tomllib = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli")

    root = Path(__file__).resolve().parents[2]
    with open(root / "pyproject.toml", "rb") as fh:
        data = tomllib.load(fh)["tool"]["setuptools"]["package-data"]["toon_tools"]
    assert "hooks/pre-commit.sh" in data or "hooks/*.sh" in data


# ------------------------------------------------------------------ schemas

LOOSE = '{"type": "object"}'
TIGHT = '{"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}}'


def _schema_repo(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.toon.schemas]\n"data/*.toon" = "schemas/s.json"\n')
    (repo / "schemas").mkdir()
    (repo / "schemas" / "s.json").write_text(LOOSE)
    (repo / "data").mkdir()
    (repo / "data" / "a.toon").write_text("id: 0\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "schemas")


def test_a_staged_file_is_checked_against_its_schema(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "schemas" / "s.json").write_text(TIGHT)
    git(git_repo, "commit", "-qam", "tight")
    (git_repo / "data" / "b.toon").write_text("id: 0\n")
    (git_repo / "free.toon").write_text("id: 0\n")  # no pattern matches it
    git(git_repo, "add", ".")
    report = run(git_repo)
    (problem,) = report.problems
    err = problem.error
    assert (err.path, err.line, err.column, err.exit_code) == ("data/b.toon", 1, 5, 1)
    assert err.message == "0 is less than the minimum of 1 [properties/id/minimum]"
    assert report.staged_twins == []  # nothing written while a file is bad


def test_a_staged_schema_rechecks_the_files_that_use_it_as_staged(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "other.toon").write_text("# schema: schemas/s.json\nid: -5\n")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "other")
    (git_repo / "schemas" / "s.json").write_text(TIGHT)
    git(git_repo, "add", "schemas/s.json")
    (git_repo / "schemas" / "s.json").write_text(LOOSE)  # unstaged: not what is committed
    report = run(git_repo)
    assert sorted((p.error.path, p.error.line) for p in report.problems) == [
        ("data/a.toon", 1), ("other.toon", 2)]
    assert report.exit_code == 1


def test_an_unusable_staged_schema_is_exit_2_once(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "data" / "b.toon").write_text("id: 1\n")
    (git_repo / "schemas" / "s.json").write_text('{"type": 12}')
    git(git_repo, "add", ".")
    report = run(git_repo)
    (problem,) = report.problems
    assert problem.error.path == "schemas/s.json" and problem.error.exit_code == 2
    assert "not a valid schema" in problem.error.message


def test_a_staged_mapping_change_rechecks_the_files_it_maps(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "schemas" / "tight.json").write_text(TIGHT)
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "a stricter schema, used by nothing yet")
    (git_repo / "pyproject.toml").write_text(
        '[tool.toon.schemas]\n"data/*.toon" = "schemas/tight.json"\n')
    git(git_repo, "add", ".")
    report = run(git_repo)
    (problem,) = report.problems
    assert (problem.error.path, problem.error.line, problem.error.column) == ("data/a.toon", 1, 5)
    assert report.exit_code == 1


@pytest.mark.parametrize("how", [("rm", "-q"), ("rm", "-q", "--cached")])
def test_a_deleted_schema_fails_the_files_that_still_use_it(git_repo: Path,
                                                            how: tuple[str, ...]) -> None:
    _schema_repo(git_repo)
    (git_repo / "other.toon").write_text("# schema: schemas/s.json\nid: 1\n")
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "other")
    git(git_repo, *how, "schemas/s.json")  # --cached: the work tree keeps it, the commit not
    report = run(git_repo)
    (problem,) = report.problems  # told once, for the first file it stops
    assert problem.error.path == "schemas/s.json" and problem.error.exit_code == 2
    assert "(the schema of data/a.toon)" in problem.error.message
    assert report.exit_code == 2


def test_the_schemas_table_is_read_as_the_index_holds_it(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "schemas" / "tight.json").write_text(TIGHT)
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-qm", "a stricter schema, used by nothing yet")
    open_ = (git_repo / "pyproject.toml").read_text()
    tight = '[tool.toon.schemas]\n"data/*.toon" = "schemas/tight.json"\n'
    # A staged stricter mapping, the work tree reverted: the staged one holds.
    (git_repo / "pyproject.toml").write_text(tight)
    git(git_repo, "add", "pyproject.toml")
    (git_repo / "pyproject.toml").write_text(open_)
    (problem,) = run(git_repo).problems
    assert (problem.error.path, problem.error.line, problem.error.column) == ("data/a.toon", 1, 5)
    # The reverse: the stricter mapping only in the work tree, a staged data file.
    git(git_repo, "add", "pyproject.toml")
    (git_repo / "pyproject.toml").write_text(tight)
    (git_repo / "data" / "b.toon").write_text("id: 0\n")
    git(git_repo, "add", "data/b.toon")
    report = run(git_repo)
    assert report.problems == [] and report.exit_code == 0


def test_only_a_change_to_the_schemas_table_rechecks_the_files_it_maps(git_repo: Path) -> None:
    _schema_repo(git_repo)
    (git_repo / "schemas" / "s.json").write_text(TIGHT)  # data/a.toon breaks it
    git(git_repo, "commit", "-qam", "tight, past the hook")
    table = (git_repo / "pyproject.toml").read_text()
    (git_repo / "pyproject.toml").write_text('[project]\nversion = "2"\n\n' + table)
    git(git_repo, "add", "pyproject.toml")
    assert run(git_repo).problems == []  # a version bump re-checks nothing
    (git_repo / "pyproject.toml").write_text(table + '"other/*.toon" = "schemas/s.json"\n')
    git(git_repo, "add", "pyproject.toml")
    (problem,) = run(git_repo).problems  # the table changed: every mapped file
    assert problem.error.path == "data/a.toon"


def test_the_schemas_table_without_a_head_is_changed(tmp_path: Path, git_repo: Path) -> None:
    from toon_tools.config import load_config
    from toon_tools.hooks.config_view import schemas_changed

    _schema_repo(git_repo)
    assert not schemas_changed(git_repo, load_config(git_repo, env={}))
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q")
    (fresh / ".toon.toml").write_text('[schemas]\n"*.toon" = "s.json"\n')
    git(fresh, "add", ".toon.toml")
    assert schemas_changed(fresh, load_config(fresh, env={}))
