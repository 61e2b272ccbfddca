"""`toon check -` and `toon fmt -`: the document on stdin, named by
--stdin-filename for messages, exclude and schemas (as ruff and black have it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon

MESSY = "a:    1\nb: x\n"
INVALID = "a: 1\nb: \"x\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.toon]\nexclude = ["vendor/"]\n\n'
        '[tool.toon.schemas]\n"data/*.toon" = "user.json"\n')
    (tmp_path / "user.json").write_text(json.dumps(
        {"type": "object", "properties": {"a": {"type": "string"}}}))
    return tmp_path


def test_check_reads_stdin_and_names_it_dash(project: Path) -> None:
    ok = run_toon("check", "-", stdin=MESSY, cwd=project)
    assert ok.code == 0 and ok.out == ""
    bad = run_toon("check", "-", stdin=INVALID, cwd=project)
    assert bad.code == 1 and bad.out.startswith("-:2:4: unterminated string\n")
    named = run_toon("check", "--stdin-filename", "notes/x.toon", "-", stdin=INVALID,
                     cwd=project)
    assert named.code == 1 and named.out.startswith("notes/x.toon:2:4: ")
    # like ruff: --stdin-filename alone reads stdin
    alone = run_toon("check", "--stdin-filename", "notes/x.toon", stdin=INVALID, cwd=project)
    assert alone.code == 1 and alone.out == named.out


def test_check_stdin_gets_the_schema_its_name_maps_to(project: Path) -> None:
    r = run_toon("check", "--format", "json", "--stdin-filename", "data/u.toon", "-",
                 stdin="a: 1\n", cwd=project)
    assert r.code == 1
    (d,) = json.loads(r.out)
    assert (d["path"], d["code"], d["pointer"]) == ("data/u.toon", "schema", "/a")
    elsewhere = run_toon("check", "--stdin-filename", "other/u.toon", "-", stdin="a: 1\n",
                         cwd=project)
    assert elsewhere.code == 0


def test_check_stdin_excluded_only_with_force_exclude(project: Path) -> None:
    r = run_toon("check", "--force-exclude", "--stdin-filename", "vendor/x.toon", "-",
                 stdin=INVALID, cwd=project)
    assert r.code == 0 and r.out == ""
    r = run_toon("check", "--stdin-filename", "vendor/x.toon", "-", stdin=INVALID, cwd=project)
    assert r.code == 1 and r.out.startswith("vendor/x.toon:2:4: ")


def test_fmt_stdin_to_stdout(project: Path) -> None:
    r = run_toon("fmt", "-", stdin=MESSY, cwd=project)
    assert (r.code, r.out, r.err) == (0, "a: 1\nb: x\n", "")
    fixed = run_toon("fmt", "--exit-non-zero-on-fix", "-", stdin=MESSY, cwd=project)
    assert fixed.code == 1 and fixed.out == "a: 1\nb: x\n"
    same = run_toon("fmt", "--exit-non-zero-on-fix", "-", stdin="a: 1\n", cwd=project)
    assert same.code == 0 and same.out == "a: 1\n"


def test_fmt_stdin_invalid_error_on_stderr_nothing_on_stdout(project: Path) -> None:
    r = run_toon("fmt", "-", stdin=INVALID, cwd=project)
    assert r.code == 1 and r.out == "" and r.err.startswith("-:2:4: unterminated string")
    skipped = run_toon("fmt", "--skip-invalid", "-", stdin=INVALID, cwd=project)
    assert skipped.code == 0 and skipped.out == INVALID  # left alone: passed through


def test_fmt_check_and_diff_stdin_only_report(project: Path) -> None:
    r = run_toon("fmt", "--check", "--stdin-filename", "data/m.toon", "-", stdin=MESSY,
                 cwd=project)
    assert r.code == 1 and r.out == "Would reformat: data/m.toon\n"
    d = run_toon("fmt", "--diff", "-", stdin=MESSY, cwd=project)
    assert d.code == 1 and "-a:    1\n+a: 1\n" in d.out and d.out.startswith("--- -\t(original)")
    j = run_toon("fmt", "--check", "--format", "json", "-", stdin=MESSY, cwd=project)
    assert j.code == 1 and [(x["path"], x["line"]) for x in json.loads(j.out)] == [("-", 1)]
    clean = run_toon("fmt", "--check", "-", stdin="a: 1\n", cwd=project)
    assert clean.code == 0 and clean.out == ""


def test_fmt_stdin_excluded_passes_through(project: Path) -> None:
    r = run_toon("fmt", "--force-exclude", "--stdin-filename", "vendor/m.toon", "-",
                 stdin=MESSY, cwd=project)
    assert r.code == 0 and r.out == MESSY
    r = run_toon("fmt", "--stdin-filename", "vendor/m.toon", "-", stdin=MESSY, cwd=project)
    assert r.code == 0 and r.out == "a: 1\nb: x\n"


@pytest.mark.parametrize("args", [
    ("check", "-", "a.toon"),
    ("fmt", "a.toon", "-"),
    ("fmt", "--stdin-filename", "x.toon", "a.toon"),
    ("fmt", "--format", "json", "-"),  # its document is the formatted text
])
def test_stdin_usage_errors(project: Path, args: tuple[str, ...]) -> None:
    (project / "a.toon").write_text(MESSY)
    r = run_toon(*args, stdin=MESSY, cwd=project)
    assert r.code == 2 and r.out == ""
    assert (project / "a.toon").read_text() == MESSY
