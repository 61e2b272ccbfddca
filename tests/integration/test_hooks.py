"""The hooks for real: git repositories, the pre-commit framework, real commits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

import toon_tools
from tests.integration.conftest import REPO, run
from toon_tools.convert.markdown import md_to_data
from toon_tools.hooks.standalone import hook_script

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
    entries = {h["id"]: h["entry"].split() for h in hooks}
    for hook_id, argv in entries.items():
        assert "--force-exclude" in argv, hook_id  # exclude on every route
        # `--` ends the options in the default args, not in the entry: a user's
        # `args:` replace the defaults and must still reach toon as options.
        assert "--" not in argv and hooks[[h["id"] for h in hooks].index(hook_id)]["args"] == \
            ["--"], hook_id
    # One invalid file is reported once, by toon-check; the others pass over it.
    for hook_id in ("toon-fmt", "toon-twins", "toon-twins-check"):
        assert "--skip-invalid" in entries[hook_id], hook_id
    assert "--skip-invalid" not in entries["toon-check"]


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


def test_framework_passes_the_users_args_as_options(framework: Path) -> None:
    # pre-commit runs `entry args files`: a user's args (here GitHub annotations
    # for CI) are options of toon check, not file names.
    repo = framework
    config = repo / ".pre-commit-config.yaml"
    config.write_text(config.read_text().replace(
        "  - id: toon-check\n", "  - id: toon-check\n    args: [--format=github, --]\n"))
    (repo / "bad.toon").write_text("users[3]{id}:\n  1\n  2\n")
    run(repo, "git", "add", ".pre-commit-config.yaml", "bad.toon")
    code, out = commit(repo)
    assert code != 0
    assert "::error file=bad.toon,line=1,col=1," in out, out


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


LINK_CONFLICT = ("toon: error: s3.md: is a symbolic link, not a twin of s3.toon; "
                 "rename it or set twins.suffix\n")


def test_a_dangling_symlink_in_a_twins_place_is_kept_on_every_route(repo: Path) -> None:
    (repo / "s3.toon").write_text("a: 3\n")
    (repo / "s3.md").symlink_to("/nonexistent")
    for args in (["--all"], ["--check", "--all"], ["s3.toon"], ["s3.md", "s3.toon"]):
        r = run(repo, "toon", "twins", *args, check=False)
        assert (r.returncode, r.stdout, r.stderr) == (1, "", LINK_CONFLICT), args
        assert os.readlink(repo / "s3.md") == "/nonexistent"
    run(repo, "toon", "hooks", "install")
    run(repo, "git", "add", "s3.toon")
    code, out = commit(repo)
    assert code == 1 and LINK_CONFLICT in out
    r = run(repo, "toon", "twins", "--add", check=False)
    assert (r.returncode, r.stderr) == (1, LINK_CONFLICT)
    assert os.readlink(repo / "s3.md") == "/nonexistent"
    assert "s3.md" not in run(repo, "git", "ls-files", "--cached").stdout


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
    hook = repo / ".githooks" / "pre-commit"
    # What --force would do, not a claim that something was kept already.
    assert (r.returncode, r.stdout, r.stderr) == (2, "", (
        f"toon: error: {hook}: exists and was not written by toon-tools; with --force it is "
        "replaced, and kept as pre-commit.before-toon (it will no longer run)\n"))
    assert sorted(os.listdir(repo / ".githooks")) == ["pre-commit"]  # nothing kept yet
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    r = run(repo, "toon", "hooks", "install", "--force")
    backup = repo / ".githooks" / "pre-commit.before-toon"
    assert r.stdout.splitlines() == [
        f"kept the previous hook as {backup}; it is no longer run (run it from there, "
        "or call it from your own hook, if you still need it)",
        f"installed {hook}"]
    assert (repo / ".githooks" / "pre-commit").read_text() == hook_script()
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


# ------------------------------------------------------------ never replace what the user wrote

HAND = b"# Notes\n\nWritten by hand; toon-tools must never touch this.\n"
CONFLICT = "notes.md: exists and is not a twin of notes.toon; rename it or set twins.suffix"


def _hand_written(repo: Path, state: str) -> bytes:
    """notes.md written by hand, untracked, tracked (committed) or staged with
    changes; notes.toon staged beside it. Returns notes.md's bytes."""
    notes = repo / "notes.md"
    notes.write_bytes(HAND)
    if state != "untracked":
        run(repo, "git", "add", "notes.md")
        run(repo, "git", "commit", "-qm", "notes", "--no-verify")
    if state == "staged":
        notes.write_bytes(HAND + b"A staged change.\n")
        run(repo, "git", "add", "notes.md")
    (repo / "notes.toon").write_text(DATA)
    run(repo, "git", "add", "notes.toon")
    return notes.read_bytes()


def _index_entry(repo: Path, path: str) -> str:
    return run(repo, "git", "ls-files", "-s", "--", path).stdout


STATES = ["untracked", "tracked", "staged"]
CLI_ROUTES = {
    "twins FILE": ["twins", "notes.toon"],
    "twins --all": ["twins", "--all"],
    "twins --check": ["twins", "--check", "notes.toon"],
    "twins --check --all": ["twins", "--check", "--all"],
    "twins --add": ["twins", "--add"],
    "hooks run": ["hooks", "run"],
    "framework entry": ["twins", "--skip-invalid", "--force-exclude", "--", "notes.toon",
                        "notes.md"],
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("route", list(CLI_ROUTES))
def test_cli_routes_never_replace_a_hand_written_file(repo: Path, route: str, state: str) -> None:
    before = _hand_written(repo, state)
    entry = _index_entry(repo, "notes.md")
    r = run(repo, "toon", *CLI_ROUTES[route], check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    assert CONFLICT in r.stderr
    assert "Traceback" not in r.stderr
    assert (repo / "notes.md").read_bytes() == before
    assert _index_entry(repo, "notes.md") == entry


@pytest.mark.parametrize("state", STATES)
def test_standalone_commit_never_replaces_a_hand_written_file(standalone: Path, state: str) -> None:
    repo = standalone
    before = _hand_written(repo, state)
    entry = _index_entry(repo, "notes.md")
    head = run(repo, "git", "rev-parse", "HEAD").stdout
    code, out = commit(repo)
    assert code == 1 and CONFLICT in out
    assert (repo / "notes.md").read_bytes() == before
    assert _index_entry(repo, "notes.md") == entry
    assert run(repo, "git", "rev-parse", "HEAD").stdout == head


@pytest.mark.parametrize("state", STATES)
def test_framework_commit_never_replaces_a_hand_written_file(framework: Path, state: str) -> None:
    repo = framework
    before = _hand_written(repo, state)
    entry = _index_entry(repo, "notes.md")
    head = run(repo, "git", "rev-parse", "HEAD").stdout
    code, out = commit(repo)
    assert code != 0 and CONFLICT in out
    assert (repo / "notes.md").read_bytes() == before
    assert _index_entry(repo, "notes.md") == entry
    assert run(repo, "git", "rev-parse", "HEAD").stdout == head


def test_orphan_removal_spares_hand_written_files_on_every_route(framework: Path) -> None:
    repo = framework
    (repo / "a.toon").write_text(DATA)
    run(repo, "git", "add", "a.toon")
    commit(repo)
    run(repo, "git", "add", "-A")
    assert commit(repo)[0] == 0
    (repo / "a.md").write_bytes(HAND)  # the twin replaced by a hand-written page
    run(repo, "git", "add", "a.md")
    run(repo, "git", "rm", "-q", "a.toon")
    code, out = commit(repo, "delete")
    assert code == 0, out
    assert (repo / "a.md").read_bytes() == HAND
    assert run(repo, "toon", "twins", "--all").returncode == 0
    assert run(repo, "toon", "hooks", "run").returncode == 0
    assert (repo / "a.md").read_bytes() == HAND


# ------------------------------------------------------------ the same verdict on both routes

EXCLUDED = {"legacy/bad.toon": "a: 1\na: 2\n", "legacy/notwin.toon": DATA}


def _exclude_repo(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.toon]\nexclude = ["legacy/"]\n')
    (repo / "legacy").mkdir()
    for name, text in EXCLUDED.items():
        (repo / name).write_text(text)
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "-A")


def _verdict(repo: Path) -> tuple[list[str], str]:
    return (sorted(run(repo, "git", "ls-files").stdout.split()),
            run(repo, "git", "show", "HEAD:legacy/bad.toon").stdout)


def test_exclude_gives_the_same_verdict_on_both_routes(framework: Path, tmp_path: Path) -> None:
    repo = framework
    _exclude_repo(repo)
    code, out = commit(repo)  # the framework writes the twin and asks for `git add`
    assert code == 1 and "bad.toon:" not in out and "notwin.md" not in out, out
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    assert code == 0, out
    framework_verdict = _verdict(repo)

    other = tmp_path / "standalone"
    other.mkdir()
    run(other, "git", "init", "-q", "-b", "main")
    (other / "README.md").write_text("# project\n")
    (other / ".pre-commit-config.yaml").write_text((repo / ".pre-commit-config.yaml").read_text())
    run(other, "git", "add", "-A")
    run(other, "git", "commit", "-qm", "init")
    run(other, "toon", "hooks", "install")
    _exclude_repo(other)
    code, out = commit(other)
    assert code == 0 and "bad.toon:" not in out and "notwin.md" not in out, out
    assert _verdict(other) == framework_verdict
    assert "data.md" in framework_verdict[0]
    assert not any(p.startswith("legacy/") and p.endswith(".md") for p in framework_verdict[0])


def test_one_invalid_file_is_reported_once(framework: Path) -> None:
    repo = framework
    (repo / "bad.toon").write_text("users[3]{id}:\n  1\n  2\n")
    run(repo, "git", "add", "bad.toon")
    code, out = commit(repo)
    assert code == 1
    assert out.count("bad.toon:1:1") == 1, out
    assert not (repo / "bad.md").exists()


# ------------------------------------------------------------ standalone details


def test_standalone_stops_a_commit_that_formatting_emptied(standalone: Path) -> None:
    repo = standalone
    (repo / "data.toon").write_text(DATA)
    run(repo, "git", "add", "data.toon")
    assert commit(repo)[0] == 0
    head = run(repo, "git", "rev-parse", "HEAD").stdout
    (repo / "data.toon").write_text(DATA.replace("1,Ada", "1 , Ada"))  # formatting only
    run(repo, "git", "add", "data.toon")
    code, out = commit(repo, "reformat")
    assert code == 1 and "nothing left to commit" in out
    assert run(repo, "git", "rev-parse", "HEAD").stdout == head
    # Amending with no changes (index == HEAD from the start) still works.
    r = run(repo, "git", "commit", "--amend", "-m", "reworded", check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_install_force_twice_keeps_both_foreign_hooks(repo: Path) -> None:
    hooks = repo / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "pre-commit").write_text("#!/bin/sh\necho first\n")
    run(repo, "toon", "hooks", "install", "--force")
    (hooks / "pre-commit").write_text("#!/bin/sh\necho second\n")
    r = run(repo, "toon", "hooks", "install", "--force")
    assert "pre-commit.before-toon.1; it is no longer run" in r.stdout
    assert (hooks / "pre-commit.before-toon").read_text() == "#!/bin/sh\necho first\n"
    assert (hooks / "pre-commit.before-toon.1").read_text() == "#!/bin/sh\necho second\n"


def test_hook_without_toon_on_path_says_how_to_get_it(standalone: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    proc = subprocess.run(["/bin/sh", str(standalone / ".git" / "hooks" / "pre-commit")],
                          cwd=standalone, capture_output=True, text=True,
                          env={"PATH": str(empty)}, timeout=60)
    assert proc.returncode == 2
    assert "virtualenv where toon-tools is installed" in proc.stderr
    assert "pip install toon-tools" not in proc.stderr


def test_budget_figures_agree_with_toon_tokens(standalone: Path) -> None:
    repo = standalone
    (repo / "pyproject.toml").write_text("[tool.toon.tokens]\nbudget = 10\n")
    # Not canonical: the hook formats, then counts what will be committed.
    (repo / "a.toon").write_text('name: "Ada"\nrole: "admin"\nitems[3]: "a","b","c"\n')
    (repo / "b.toon").write_text(DATA.replace("\n", "\r\n"))
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    assert code == 1
    hook_lines = [line for line in out.splitlines() if line.startswith("over budget:")]
    r = run(repo, "toon", "tokens", "--budget", "10", "a.toon", "b.toon", check=False)
    tokens_lines = [line for line in r.stderr.splitlines() if line.startswith("over budget:")]
    assert hook_lines and hook_lines == tokens_lines
    assert hook_lines[0].startswith("over budget: total: ")


def test_budget_figures_agree_on_both_routes(framework: Path, tmp_path: Path) -> None:
    repo = framework
    config = (repo / ".pre-commit-config.yaml").read_text().replace(
        "  - id: toon-twins\n", "  - id: toon-twins\n  - id: toon-tokens\n")
    (repo / ".pre-commit-config.yaml").write_text(config)
    (repo / "pyproject.toml").write_text("[tool.toon.tokens]\nbudget = 10\n")
    (repo / "a.toon").write_text('name: "Ada"\nrole: "admin"\nitems[3]: "a","b","c"\n')
    run(repo, "git", "add", "-A")
    code, out = commit(repo)  # toon-fmt formats the file; toon-tokens counts what it wrote
    assert code == 1
    framework_lines = [line for line in out.splitlines() if line.startswith("over budget:")]

    other = tmp_path / "standalone"
    other.mkdir()
    run(other, "git", "init", "-q", "-b", "main")
    run(other, "toon", "hooks", "install")
    (other / "pyproject.toml").write_text((repo / "pyproject.toml").read_text())
    (other / "a.toon").write_text('name: "Ada"\nrole: "admin"\nitems[3]: "a","b","c"\n')
    run(other, "git", "add", "-A")
    code, out = commit(other)
    assert code == 1
    standalone_lines = [line for line in out.splitlines() if line.startswith("over budget:")]
    assert framework_lines and framework_lines == standalone_lines


# ------------------------------------------------------------ schemas, both routes


def test_schemas_mean_the_same_on_both_routes(framework: Path) -> None:
    """One real repository: [tool.toon.schemas] and a staged schema change give
    the same verdict through the pre-commit framework and the standalone hook."""
    repo = framework
    (repo / "pyproject.toml").write_text(
        '[tool.toon.schemas]\n"data/*.toon" = "schemas/user.json"\n')
    (repo / "schemas").mkdir()
    (repo / "schemas" / "user.json").write_text('{"type": "object"}')
    (repo / "data").mkdir()
    (repo / "data" / "a.toon").write_text("id: 0\n")
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    if code != 0:  # the twin hook created data/a.md: stage it and commit again
        run(repo, "git", "add", "-A")
        code, out = commit(repo)
    assert code == 0, out
    (repo / "schemas" / "user.json").write_text(
        '{"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}}')
    run(repo, "git", "add", "schemas/user.json")
    expected = "data/a.toon:1:5: 0 is less than the minimum of 1 [properties/id/minimum]"
    code, out = commit(repo)
    assert code != 0 and expected in out, out
    standalone = run(repo, "toon", "hooks", "run", check=False)
    assert standalone.returncode == 1 and expected in standalone.stdout, standalone.stdout


def _commit_all(repo: Path) -> None:
    """Stage everything and commit, staging what the twin hook made, once."""
    run(repo, "git", "add", "-A")
    code, out = commit(repo)
    if code != 0:
        run(repo, "git", "add", "-A")
        code, out = commit(repo)
    assert code == 0, out


def _both_routes_refuse(repo: Path, expected: str, code_wanted: int) -> None:
    code, out = commit(repo)
    assert code != 0 and expected in out, out
    standalone = run(repo, "toon", "hooks", "run", check=False)
    assert standalone.returncode == code_wanted, standalone.stdout + standalone.stderr
    assert expected in standalone.stdout + standalone.stderr


def test_a_stricter_mapping_and_a_deleted_schema_fail_on_both_routes(framework: Path) -> None:
    """The same real repository: a change to [tool.toon.schemas] re-checks the
    files it maps, and a deleted schema fails the files still using it, through
    the pre-commit framework and through the standalone hook alike."""
    repo = framework
    (repo / "pyproject.toml").write_text(
        '[tool.toon.schemas]\n"data/*.toon" = "schemas/open.json"\n')
    (repo / "schemas").mkdir()
    (repo / "schemas" / "open.json").write_text('{"type": "object"}')
    (repo / "schemas" / "tight.json").write_text(
        '{"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}}')
    (repo / "data").mkdir()
    (repo / "data" / "a.toon").write_text("id: 0\n")
    _commit_all(repo)
    # (a) Only pyproject.toml is staged: the file it now maps to a stricter schema fails.
    (repo / "pyproject.toml").write_text(
        '[tool.toon.schemas]\n"data/*.toon" = "schemas/tight.json"\n')
    run(repo, "git", "add", "pyproject.toml")
    _both_routes_refuse(
        repo, "data/a.toon:1:5: 0 is less than the minimum of 1 [properties/id/minimum]", 1)
    run(repo, "git", "checkout", "HEAD", "--", "pyproject.toml")
    # (b) Only a deletion is staged: the framework names no file, the hook still runs.
    run(repo, "git", "rm", "-q", "schemas/open.json")
    _both_routes_refuse(repo, "schemas/open.json: No such file or directory "
                              "(the schema of data/a.toon)", 2)


def _routes(repo: Path) -> tuple[int, str, int, str]:
    """The framework's toon-check (stashing unstaged changes, as at a commit) and
    the standalone hook, on what is staged: (code, output) of each."""
    fw = run(repo, "pre-commit", "run", "toon-check", check=False)
    sa = run(repo, "toon", "hooks", "run", check=False)
    return fw.returncode, fw.stdout + fw.stderr, sa.returncode, sa.stdout + sa.stderr


def test_both_routes_read_the_staged_schemas_table_and_only_its_changes_recheck(
        framework: Path) -> None:
    """One real repository: the schemas table is read as the index holds it on
    both routes, whatever the work tree says, and a pyproject.toml change re-checks
    the mapped files only when [tool.toon.schemas] differs from HEAD's."""
    repo = framework
    open_ = '[tool.toon.schemas]\n"data/*.toon" = "schemas/open.json"\n'
    tight = '[tool.toon.schemas]\n"data/*.toon" = "schemas/tight.json"\n'
    (repo / "pyproject.toml").write_text(open_)
    (repo / "schemas").mkdir()
    (repo / "schemas" / "open.json").write_text('{"type": "object"}')
    (repo / "schemas" / "tight.json").write_text(
        '{"type": "object", "properties": {"id": {"type": "integer", "minimum": 1}}}')
    (repo / "data").mkdir()
    (repo / "data" / "a.toon").write_text("id: 0\n")
    _commit_all(repo)
    violation = "data/a.toon:1:5: 0 is less than the minimum of 1 [properties/id/minimum]"
    # (a) The stricter mapping is staged, the work tree back to the open one: both refuse.
    (repo / "pyproject.toml").write_text(tight)
    run(repo, "git", "add", "pyproject.toml")
    (repo / "pyproject.toml").write_text(open_)
    fw, fw_out, sa, sa_out = _routes(repo)
    assert fw == 1 and violation in fw_out, fw_out
    assert sa == 1 and violation in sa_out, sa_out
    # The stricter mapping committed past the hooks: data/a.toon breaks it.
    (repo / "pyproject.toml").write_text(tight)
    run(repo, "git", "commit", "-qam", "tight", "--no-verify")
    # A version bump leaves the table as HEAD has it: nothing is re-checked.
    (repo / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "2"\n\n' + tight)
    run(repo, "git", "add", "pyproject.toml")
    fw, fw_out, sa, sa_out = _routes(repo)
    assert (fw, sa) == (0, 0), fw_out + sa_out
    # (b) The open mapping is staged, the work tree back to the stricter one: both pass.
    (repo / "pyproject.toml").write_text(open_)
    run(repo, "git", "add", "pyproject.toml")
    (repo / "pyproject.toml").write_text(tight)
    fw, fw_out, sa, sa_out = _routes(repo)
    assert (fw, sa) == (0, 0), fw_out + sa_out
