"""--format on check, fmt, twins and tokens, run as users run them: the same
exit code in every format, stdout holding only the document, summaries and
one-line errors on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import Result, run_toon
from tests.cli.test_formats import parse_github, sarif_validator

FORMATS = ("text", "json", "github", "sarif")


def results_of(r: Result, fmt: str) -> list[tuple[str, int, str]]:
    """(path, line, code) of each finding in a machine format's stdout."""
    if fmt == "json":
        return [(d["path"], d["line"], d["code"]) for d in json.loads(r.out)]
    if fmt == "github":
        found = [parse_github(line) for line in r.out.splitlines()]
        return [(p["file"], int(p["line"]), p["title"].removeprefix("toon "))
                for _, p, _ in found]
    log = json.loads(r.out)
    sarif_validator().validate(log)
    from urllib.parse import unquote

    return [(unquote(x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]),
             x["locations"][0]["physicalLocation"]["region"]["startLine"], x["ruleId"])
            for x in log["runs"][0]["results"]]


def each_format(*args: str, cwd: Path) -> dict[str, Result]:
    runs = {fmt: run_toon(*args, "--format", fmt, cwd=cwd) for fmt in FORMATS}
    codes = {fmt: r.code for fmt, r in runs.items()}
    assert len(set(codes.values())) == 1, codes  # exit codes never change with the format
    for fmt, r in runs.items():
        if fmt != "text":
            results_of(r, fmt)  # stdout is the document and nothing else
    return runs


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "good.toon").write_text("a: 1\n")
    (tmp_path / "bad, odd:name.toon").write_text("a: 1\nb: \"x\n")
    (tmp_path / "messy.toon").write_text("x: 1\ny:    2\n")
    return tmp_path


def test_check_in_every_format(project: Path) -> None:
    runs = each_format("check", "good.toon", "bad, odd:name.toon", cwd=project)
    assert runs["text"].code == 1 and runs["text"].out.startswith("bad, odd:name.toon:2:4: ")
    for fmt in ("json", "github", "sarif"):
        assert results_of(runs[fmt], fmt) == [("bad, odd:name.toon", 2, "decode")]
        assert "Found problems in 1 of 2 files." in runs[fmt].err


def test_check_exit_2_is_one_line_on_stderr_and_the_document_still_prints(project: Path) -> None:
    runs = each_format("check", "missing.toon", "good.toon", cwd=project)
    for fmt, r in runs.items():
        assert r.code == 2 and r.err.startswith("toon: error: missing.toon: ")
        if fmt != "text":
            assert results_of(r, fmt) == []
    assert runs["github"].out == ""


def test_fmt_check_places_the_first_changed_line(project: Path) -> None:
    runs = each_format("fmt", "--check", "good.toon", "messy.toon", "bad, odd:name.toon",
                       cwd=project)
    assert runs["text"].code == 1
    assert "Would reformat: messy.toon" in runs["text"].out
    for fmt in ("json", "github", "sarif"):
        assert sorted(results_of(runs[fmt], fmt)) == [("bad, odd:name.toon", 2, "decode"),
                                                      ("messy.toon", 2, "format")]
        assert "1 file would be reformatted, 1 unchanged, 1 invalid" in runs[fmt].err
    (d,) = [d for d in json.loads(runs["json"].out) if d["code"] == "format"]
    assert (d["column"], d["end_column"], d["message"]) == (1, 8, "would reformat")  # all of "y:    2"
    assert (project / "messy.toon").read_text() == "x: 1\ny:    2\n"  # changed nothing


def test_fmt_diff_with_a_machine_format_is_a_usage_error(project: Path) -> None:
    r = run_toon("fmt", "--diff", "--format", "json", "messy.toon", cwd=project)
    assert r.code == 2 and r.out == "" and "--diff" in r.err


def test_twins_check_in_every_format(project: Path) -> None:
    (project / "bad, odd:name.toon").unlink()
    assert run_toon("twins", "good.toon", "messy.toon", cwd=project).code == 1  # wrote them
    (project / "good.toon").write_text("a: 2\n")
    (project / "new.toon").write_text("n: 1\n")
    (project / "messy.toon").write_text("m: \"x\n")
    runs = each_format("twins", "--check", "good.toon", "messy.toon", "new.toon", cwd=project)
    assert runs["text"].code == 1
    for fmt in ("json", "github", "sarif"):
        assert results_of(runs[fmt], fmt) == [("good.md", 1, "twin-stale"),
                                              ("messy.toon", 1, "decode"),
                                              ("new.toon", 1, "twin-missing")]
    assert not (project / "new.md").exists()


def test_tokens_budgets_in_every_format(project: Path) -> None:
    runs = each_format("tokens", "--budget", "15", "--per-file-budget", "8", "good.toon",
                       "messy.toon", cwd=project)
    assert runs["text"].code == 1 and "over budget" in runs["text"].err
    for fmt in ("json", "github", "sarif"):
        assert results_of(runs[fmt], fmt) == [("messy.toon", 1, "file-budget"),
                                              ("messy.toon", 1, "total-budget")]
        assert "messy.toon" in runs[fmt].err  # the counts table, on stderr
    within = each_format("tokens", "--budget", "100", "good.toon", cwd=project)
    assert within["text"].code == 0 and within["github"].out == ""


def test_tokens_json_with_a_machine_format_is_a_usage_error(project: Path) -> None:
    r = run_toon("tokens", "--json", "--format", "sarif", "good.toon", cwd=project)
    assert r.code == 2 and r.out == "" and "--json" in r.err
    both = run_toon("tokens", "--json", "--format", "text", "good.toon", cwd=project)
    assert both.code == 0 and json.loads(both.out)["total"]["files"] == 1


def test_twins_conflicts_and_orphans_name_the_file_in_place(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.conftest import init_repo, run

    repo = init_repo(tmp_path, monkeypatch, "repo")
    (repo / "a.toon").write_text("a: 1\n")
    (repo / "a.md").write_text("# my own notes, not a twin\n")
    (repo / "gone.toon").write_text("g: 1\n")
    assert run_toon("twins", "gone.toon", cwd=repo).code == 1
    (repo / "gone.toon").unlink()
    run(repo, "git", "add", ".")
    runs = each_format("twins", "--check", "a.toon", cwd=repo)
    assert runs["text"].code == 1
    for fmt in ("json", "github", "sarif"):
        assert results_of(runs[fmt], fmt) == [("a.md", 1, "twin-conflict"),
                                              ("gone.md", 1, "twin-orphaned")]
    (d, _) = json.loads(runs["json"].out)
    assert d["message"].startswith("exists and is not a twin of a.toon")
    assert (repo / "gone.md").exists()  # --check removed nothing


def test_a_hostile_file_name_reads_back_from_github_and_sarif(tmp_path: Path) -> None:
    name = "new\nline %0A, a:b\r\x1b.toon"
    (tmp_path / name).write_text("a: \"x\n")
    for fmt in ("github", "sarif"):
        r = run_toon("check", "--format", fmt, name, cwd=tmp_path)
        assert r.code == 1 and results_of(r, fmt) == [(name, 1, "decode")]
    assert len(run_toon("check", "--format", "github", name, cwd=tmp_path).out
               .splitlines()) == 1


def test_github_and_sarif_paths_are_from_the_repository_top_when_run_in_a_subfolder(
        tmp_path: Path) -> None:
    """Annotations and code scanning look a relative path up from the repository's
    top, not from where toon ran: `cd docs && toon check --format sarif .`."""
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "docs" / "my data").mkdir(parents=True)
    (tmp_path / "docs" / "my data" / "é.toon").write_text("a[2]: x\n")
    (tmp_path / "top.toon").write_text("a[2]: x\n")
    docs = tmp_path / "docs"
    want = [("docs/my data/é.toon", 1, "count"), ("top.toon", 1, "count")]
    for fmt in ("github", "sarif"):
        r = run_toon("check", "--format", fmt, "my data", "../top.toon", cwd=docs)
        assert r.code == 1 and results_of(r, fmt) == want, (fmt, r.out)
    log = json.loads(run_toon("check", "--format", "sarif", ".", cwd=docs).out)
    assert log["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tmp_path.as_uri() + "/"
    # json keeps the paths as the user named them
    r = run_toon("check", "--format", "json", "my data", cwd=docs)
    assert [d["path"] for d in json.loads(r.out)] == ["my data/é.toon"]


@pytest.mark.parametrize("args", [("check", "a.toon"), ("fmt", "--check", "a.toon"),
                                  ("twins", "--check", "a.toon"),
                                  ("tokens", "--budget", "1", "a.toon")])
def test_a_configuration_error_still_prints_the_document(tmp_path: Path,
                                                         args: tuple[str, ...]) -> None:
    """`toon check --format sarif > out.sarif` feeds an upload step: an unusable
    [tool.toon] table is exit 2 and one line, like an unreadable file, and the
    (empty) document is still there."""
    (tmp_path / "a.toon").write_text("a: 1\n")
    (tmp_path / "pyproject.toml").write_text("[tool.toon]\nbogus = 1\n")
    for fmt in ("json", "sarif"):
        r = run_toon(*args, "--format", fmt, cwd=tmp_path)
        assert r.code == 2 and len(r.err.splitlines()) == 1 and "bogus" in r.err, r
        assert results_of(r, fmt) == []


def test_sarif_runs_of_different_commands_can_be_uploaded_side_by_side(
        project: Path) -> None:
    """Code scanning keeps one analysis per tool and category, and an upload of
    several runs with the same tool and category is refused (upload-sarif's
    areAllRunsUnique: driver name, fullName, version, semanticVersion, guid,
    automationDetails.id). Runs of check, fmt, twins and tokens must differ by
    tool, and set no automationDetails: the workflow's `category:` (or upload-sarif's
    default per job and matrix) stays the user's."""
    runs = [("check", "bad, odd:name.toon"), ("fmt", "--check", "messy.toon"),
            ("twins", "--check", "good.toon"), ("tokens", "--budget", "1", "good.toon")]
    keys = set()
    for args in runs:
        r = run_toon(*args, "--format", "sarif", cwd=project)
        assert r.code == 1, r
        (run,) = json.loads(r.out)["runs"]
        assert "automationDetails" not in run and run["results"]
        driver = run["tool"]["driver"]
        keys.add(tuple(driver.get(k) for k in ("name", "fullName", "version",
                                               "semanticVersion", "guid")))
    assert len(keys) == len(runs), keys


def test_github_and_sarif_paths_are_plain_repository_paths_at_the_top(tmp_path: Path) -> None:
    """`toon check --format github .` at the repository's top, the usual CI step:
    a file is 'sub/a.toon' as GitHub lists it, not './sub/a.toon'."""
    import subprocess

    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.toon").write_text("a[2]: x\n")
    for fmt in ("github", "sarif"):
        r = run_toon("check", "--format", fmt, ".", cwd=tmp_path)
        assert r.code == 1 and results_of(r, fmt) == [("sub/a.toon", 1, "count")], (fmt, r.out)
    r = run_toon("check", "--format", "json", ".", cwd=tmp_path)
    assert [d["path"] for d in json.loads(r.out)] == ["./sub/a.toon"]  # as named


def test_an_array_cut_short_is_the_same_finding_in_check_fmt_and_twins(tmp_path: Path) -> None:
    """One JSON shape per kind of finding, whichever command found it: twins
    called an array cut short 'decode', without declared and found."""
    (tmp_path / "cut.toon").write_text("items[3]:\n  - 1\n  - 2\n")
    found = [json.loads(run_toon(*args, "--format", "json", "cut.toon", cwd=tmp_path).out)
             for args in (("check",), ("fmt", "--check"), ("twins", "--check"))]
    assert found[0][0]["code"] == "count" and found[0][0]["declared"] == 3
    assert found[1] == found[0] and found[2] == found[0]
