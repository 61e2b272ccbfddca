"""hooks/twins.py without the CLI: placement, the never-replace-what-we-did-not-
write rule, orphans, exclude, and twins of hostile file names."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from tests.hooks.conftest import git
from toon_tools.config import load_config
from toon_tools.convert.markdown import md_to_data
from toon_tools.convert.twin_render import read_marker
from toon_tools.files import commit_temps
from toon_tools.hooks.twins import (conflict, examine, find_orphans, plan, render, source_of,
                                    twin_path, update)

DATA = "users[2]{id,name}:\n  1,Ada\n  2,Bob\n"
HAND = b"# My notes\n\nWritten by hand.\n"


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TOON_CACHE_DIR", str(tmp_path / ".cache"))
    return tmp_path


def _twin_of(source: str) -> str:
    return render(Path(source), Path(twin_path(Path(source), load_config())), Path(source).read_bytes())


def test_twin_path_beside_and_mirror(here: Path) -> None:
    assert twin_path(Path("a/b.toon"), load_config()) == Path("a/b.md")
    (here / ".toon.toml").write_text('[twins]\nlocation = "mirror"\ndir = "docs/t"\nsuffix = ".txt"\n')
    assert twin_path(Path("a/b.toon"), load_config()) == here / "docs/t/a/b.txt"


def test_conflict_rules(here: Path) -> None:
    (here / "notes.toon").write_text(DATA)
    (here / "other.toon").write_text(DATA)
    assert conflict("notes.toon", "notes.md", None) is None  # nothing there
    hand = conflict("notes.toon", "notes.md", HAND.split(b"\n")[0])
    assert hand is not None and hand.exit_code == 1
    assert str(hand) == "exists and is not a twin of notes.toon; rename it or set twins.suffix"
    assert hand.path == "notes.md"
    own = _twin_of("notes.toon").encode().split(b"\n")[0]
    assert conflict("notes.toon", "notes.md", own) is None
    others = _twin_of("other.toon").encode().split(b"\n")[0]
    found = conflict("notes.toon", "other.md", others)
    assert found is not None and found.path == "other.md"
    assert str(found) == "is the twin of other.toon, not of notes.toon; rename it or set twins.suffix"
    (here / "other.toon").unlink()  # the twin of a source that is gone: a rename took it along
    assert conflict("notes.toon", "other.md", others) is None


@pytest.mark.parametrize("existing", [HAND, b"", b"\xff\xfe binary \x00", HAND.replace(b"\n", b"\r\n")])
@pytest.mark.parametrize("write", [False, True])
def test_examine_never_replaces_a_file_it_did_not_write(here: Path, existing: bytes,
                                                        write: bool) -> None:
    (here / "notes.toon").write_text(DATA)
    (here / "notes.md").write_bytes(existing)
    r = examine(("notes.toon", "notes.md"), write=write)
    assert r.state == "conflict" and r.temp is None
    assert r.problem is not None and r.problem.exit_code == 1
    assert str(r.problem).startswith("exists and is not a twin of notes.toon")
    assert (here / "notes.md").read_bytes() == existing
    assert sorted(os.listdir(here)) == ["notes.md", "notes.toon"]  # no temporary file left


def test_examine_a_folder_in_the_twins_place_is_a_conflict(here: Path) -> None:
    (here / "notes.toon").write_text(DATA)
    (here / "notes.md").mkdir()
    r = examine(("notes.toon", "notes.md"), write=True)
    assert r.state == "conflict"


def _occupy(place: Path, kind: str, target: Path) -> None:
    """Put something that is not a regular file at ``place``."""
    if kind == "dangling link":
        place.symlink_to("/nonexistent")
    elif kind == "link to a file":
        place.symlink_to(target)
    elif kind == "folder":
        place.mkdir()
    else:
        os.mkfifo(place)  # reading it would block: it must not be opened


NOT_REGULAR = {"dangling link": "is a symbolic link", "link to a file": "is a symbolic link",
               "folder": "is a folder", "fifo": "is a special file"}


@pytest.mark.parametrize("kind", NOT_REGULAR)
@pytest.mark.parametrize("write", [False, True])
def test_examine_never_replaces_what_is_not_a_regular_file(here: Path, kind: str,
                                                          write: bool) -> None:
    (here / "notes.toon").write_text(DATA)
    (here / "page.txt").write_text(_twin_of("notes.toon"))  # even a link to a real twin
    _occupy(here / "notes.md", kind, here / "page.txt")
    before = os.lstat(here / "notes.md")
    r = examine(("notes.toon", "notes.md"), write=write)
    assert r.state == "conflict" and r.temp is None
    assert r.problem is not None and r.problem.exit_code == 1 and r.problem.path == "notes.md"
    assert str(r.problem) == (f"{NOT_REGULAR[kind]}, not a twin of notes.toon; "
                              "rename it or set twins.suffix")
    after = os.lstat(here / "notes.md")
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert sorted(os.listdir(here)) == ["notes.md", "notes.toon", "page.txt"]


def test_a_symlink_is_never_an_orphan(here: Path) -> None:
    (here / "gone.toon").write_text(DATA)
    (here / "real.md").write_text(_twin_of("gone.toon"))
    (here / "link.md").symlink_to(here / "real.md")
    (here / "dangling.md").symlink_to("/nonexistent")
    (here / "gone.toon").unlink()
    assert find_orphans(["real.md", "link.md", "dangling.md"]) == ["real.md"]
    assert source_of(Path("link.md")) is None


def test_update_reports_a_symlink_in_the_twins_place_and_removes_no_link(
        git_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    (git_repo / "s3.toon").write_text("a: 3\n")
    (git_repo / "s3.md").symlink_to("/nonexistent")
    (git_repo / "gone.toon").write_text(DATA)
    update(["gone.toon"], load_config(git_repo), root=git_repo)
    kept = git_repo.parent / "kept.md"  # outside the repository: no orphan itself
    os.rename(git_repo / "gone.md", kept)
    (git_repo / "gone.md").symlink_to(kept)  # a link to a generated twin, tracked as gone.md
    (git_repo / "gone.toon").unlink()
    for check in (True, False):
        run = update([], load_config(git_repo), root=git_repo, check=check, every=True)
        assert [(r.twin, r.state, str(r.problem)) for r in run.results] == [
            ("s3.md", "conflict", "is a symbolic link, not a twin of s3.toon; "
                                  "rename it or set twins.suffix")]
        assert run.orphans == [] and run.problems == []
        assert os.readlink(git_repo / "s3.md") == "/nonexistent"
        assert os.readlink(git_repo / "gone.md") == str(kept) and kept.exists()


def test_examine_states(here: Path) -> None:
    (here / "a.toon").write_text(DATA)
    assert examine(("a.toon", "a.md")).state == "missing"
    r = examine(("a.toon", "a.md"), write=True)
    assert r.state == "created" and r.temp is not None
    commit_temps([(r.temp, r.twin)])
    assert examine(("a.toon", "a.md")).state == "current"
    (here / "a.md").write_text((here / "a.md").read_text().replace("Ada", "Eve"))
    assert examine(("a.toon", "a.md")).state == "stale"  # hand-edited, header kept: ours
    (here / "bad.toon").write_text("a: 1\na: 2\n")
    bad = examine(("bad.toon", "bad.md"), write=True)
    assert bad.state == "invalid" and bad.problem is not None
    assert (bad.problem.path, bad.problem.line, bad.problem.column) == ("bad.toon", 2, 1)
    assert not (here / "bad.md").exists()
    gone = examine(("gone.toon", "gone.md"))
    assert gone.state == "unreadable" and gone.problem is not None and gone.problem.exit_code == 2


def test_find_orphans_only_files_with_the_header(here: Path) -> None:
    (here / "a.toon").write_text(DATA)
    (here / "a.md").write_text(_twin_of("a.toon"))
    (here / "b.md").write_bytes(HAND)
    (here / "c.md").write_text("<!-- toon-tools twin of c.toon -->\n")  # not the header
    assert find_orphans(["a.md", "b.md", "c.md"]) == []
    (here / "a.toon").unlink()
    assert find_orphans(["a.md", "b.md", "c.md"]) == ["a.md"]


def test_plan_exclude_applies_to_named_files_only_with_force_exclude(here: Path) -> None:
    (here / ".toon.toml").write_text('exclude = ["skip*.toon"]\n')
    (here / "skip.toon").write_text(DATA)
    (here / "keep.toon").write_text(DATA)
    (here / "skip.md").write_text(_twin_of("skip.toon"))
    cfg = load_config()
    assert plan(["skip.toon", "keep.toon"], cfg) == [("keep.toon", "keep.md"),
                                                      ("skip.toon", "skip.md")]
    assert plan(["skip.md"], cfg) == [("skip.toon", "skip.md")]
    assert plan(["skip.md", "keep.toon"], cfg, force_exclude=True) == [("keep.toon", "keep.md")]


def test_update_walks_folders_and_all_honouring_exclude(git_repo: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    (git_repo / ".toon.toml").write_text('exclude = ["drafts/"]\n')
    for name in ("data/a.toon", "drafts/b.toon", "top.toon"):
        (git_repo / name).parent.mkdir(exist_ok=True)
        (git_repo / name).write_text(DATA)
    cfg = load_config()
    done = update(["data", "drafts"], cfg, root=git_repo)
    assert [(r.twin, r.state) for r in done.results] == [("data/a.md", "created")]
    done = update([], cfg, root=git_repo, every=True)
    assert [(r.twin, r.state) for r in done.results] == [("data/a.md", "current"),
                                                         ("top.md", "created")]
    assert not (git_repo / "drafts" / "b.md").exists()
    # An excluded orphan is left alone; the others go, and only with the header.
    (git_repo / "drafts" / "b.md").write_text(_twin_of("drafts/b.toon"))
    (git_repo / "drafts" / "b.toon").unlink()
    (git_repo / "data" / "a.toon").unlink()
    (git_repo / "hand.md").write_bytes(HAND)
    checked = update([], cfg, root=git_repo, check=True)
    assert checked.orphans == ["data/a.md"] and (git_repo / "data" / "a.md").exists()
    done = update([], cfg, root=git_repo)
    assert done.orphans == ["data/a.md"] and not (git_repo / "data" / "a.md").exists()
    assert (git_repo / "drafts" / "b.md").exists() and (git_repo / "hand.md").read_bytes() == HAND


def test_update_reports_conflicts_and_writes_the_rest(git_repo: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(git_repo)
    (git_repo / "notes.toon").write_text(DATA)
    (git_repo / "notes.md").write_bytes(HAND)
    (git_repo / "data.toon").write_text(DATA)
    git(git_repo, "add", "notes.md")
    done = update(["notes.toon", "data.toon"], load_config(), root=git_repo)
    assert [(r.twin, r.state) for r in done.results] == [("data.md", "created"),
                                                         ("notes.md", "conflict")]
    assert (git_repo / "notes.md").read_bytes() == HAND


# ------------------------------------------------------------ hostile names

HOSTILE = ["my data", 'quo"te', '"lead', "-dash", "ünïcødé", "new\nline", "tab\there", "#hash",
           "br]acket", "[x]", "cr\rlf", "a sha256:" + "0" * 64 + "; edit b", "-->", "\\back",
           "\x1b[31mred", "nel\x85", "\u2028sep"]
names = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(alphabet=st.sampled_from(list(" \"'\\-#]\n\t\r\x01\x7fé中-->aZ0.")),
            min_size=1, max_size=12).filter(lambda s: s not in (".", "..")),
)


def _round_trip(folder: Path, name: str) -> None:
    source = folder / f"{name}.toon"
    source.write_text(DATA)
    r = examine((str(source), str(twin_path(source, load_config(folder)))), write=True)
    assert r.temp is not None, r
    commit_temps([(r.temp, r.twin)])
    text = Path(r.twin).read_text(encoding="utf-8")
    assert md_to_data(text) == toon_tools.decode(DATA)
    found = read_marker(text)
    assert found is not None
    assert found[0] == source.name and found[1] == hashlib.sha256(DATA.encode()).hexdigest()
    assert source_of(Path(r.twin)) == source
    assert examine((str(source), r.twin)).state == "current"
    assert text.count("\n\n") >= 1 and "\r" not in text.split("\n", 1)[0]


@pytest.mark.parametrize("name", HOSTILE)
def test_twins_of_hostile_names_round_trip(tmp_path: Path, name: str) -> None:
    _round_trip(tmp_path, name)


@settings(max_examples=40, deadline=None)
@given(name=names)
def test_twins_of_any_name_round_trip(name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        _round_trip(Path(tmp), name)


def test_twin_of_a_name_that_is_not_utf8(tmp_path: Path) -> None:
    _round_trip(tmp_path, os.fsdecode(b"caf\xe9"))
