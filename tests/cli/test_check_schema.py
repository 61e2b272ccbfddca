"""`toon check` with JSON Schemas: --schema, [tool.toon.schemas], '# schema:'
first lines, schema files as arguments, --format json, and arrays cut short."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon

SCHEMA = {"type": "object", "required": ["id", "name"],
          "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string"},
                         "tags": {"type": "array", "items": {"type": "string"}}}}
GOOD = "id: 1\nname: Ada\n"
BAD = "id: 0\nname: Ada\ntags[2]: x,5\n"


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def reported(out: str) -> set[str]:
    """The files named by diagnostics (not their quoted lines)."""
    return {line.split(":")[0] for line in out.splitlines() if line and not line[0].isspace()}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "schemas" / "user.json", SCHEMA)
    write(tmp_path / "good.toon", GOOD)
    write(tmp_path / "bad.toon", BAD)
    return tmp_path


def test_violations_print_at_the_value_with_the_schema_path_and_exit_1(project: Path) -> None:
    r = run_toon("check", "--schema", "schemas/user.json", "good.toon", "bad.toon", cwd=project)
    assert r.code == 1
    assert r.out == ("bad.toon:1:5: 0 is less than the minimum of 1 [properties/id/minimum]\n"
                     "  id: 0\n      ^\n"
                     "bad.toon:3:12: 5 is not of type 'string' [properties/tags/items/type]\n"
                     "  tags[2]: x,5\n             ^\n")
    assert "Found problems in 1 of 2 files." in r.err
    ok = run_toon("check", "-s", "schemas/user.json", "good.toon", cwd=project)
    assert ok.code == 0 and ok.out == ""


def test_missing_key_is_at_the_object(project: Path) -> None:
    write(project / "partial.toon", "id: 3\n")
    r = run_toon("check", "--schema", "schemas/user.json", "partial.toon", cwd=project)
    assert r.code == 1
    assert r.out.startswith("partial.toon:1:1: 'name' is a required property [required]\n")


def test_json_format_is_one_document_and_exit_codes_do_not_change(project: Path) -> None:
    write(project / "cut.toon", "rows[4]{a}:\n  1\n  2\n")
    r = run_toon("check", "--format", "json", "-s", "schemas/user.json", "bad.toon", "good.toon",
                 cwd=project)
    assert r.code == 1
    found = json.loads(r.out)
    assert found[0] == {"path": "bad.toon", "line": 1, "column": 5, "end_line": 1,
                        "end_column": 6, "severity": "error", "code": "schema",
                        "message": "0 is less than the minimum of 1",
                        "rule": "properties/id/minimum", "pointer": "/id"}
    assert [d["pointer"] for d in found] == ["/id", "/tags/1"]
    ok = run_toon("check", "--format", "json", "good.toon", cwd=project)
    assert ok.code == 0 and json.loads(ok.out) == []
    cut = run_toon("check", "--format", "json", "cut.toon", cwd=project)
    (d,) = json.loads(cut.out)
    assert cut.code == 1
    assert (d["code"], d["declared"], d["found"], d["line"]) == ("count", 4, 2, 1)


def test_an_array_cut_short_says_declared_found_and_missing(tmp_path: Path) -> None:
    write(tmp_path / "cut.toon", "rows[100]{a,b}:\n  1,2\n  3,4\n")
    r = run_toon("check", "cut.toon", cwd=tmp_path)
    assert r.code == 1
    assert "expected 100 rows, found 2 (98 missing: the file may be cut short)" in r.out


@pytest.mark.parametrize(("content", "fragment"), [
    (None, "No such file or directory"),
    ('{"type": 5}', "not a valid schema"),
    ("{oops", "not a valid JSON schema"),
])
def test_unusable_schema_exits_2_before_any_file(project: Path, content: str | None,
                                                 fragment: str) -> None:
    if content is not None:
        write(project / "broken.json", content)
    r = run_toon("check", "--schema", "broken.json", "bad.toon", cwd=project)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("toon: error: broken.json") and fragment in r.err
    assert len(r.err.strip().splitlines()) == 1


def test_the_table_the_first_line_and_the_option_in_that_order(project: Path) -> None:
    write(project / "pyproject.toml",
          '[tool.toon.schemas]\n"data/**/*.toon" = "schemas/user.json"\n')
    write(project / "schemas" / "loose.json", {"type": "object"})
    write(project / "data" / "a.toon", BAD)
    write(project / "data" / "b.toon", "# schema: ../schemas/loose.json\n" + BAD)
    r = run_toon("check", "data", cwd=project)
    assert r.code == 1
    assert reported(r.out) == {"data/a.toon"}
    forced = run_toon("check", "--schema", "schemas/loose.json", "data", cwd=project)
    assert forced.code == 0, forced.out
    outside = run_toon("check", "bad.toon", cwd=project)  # matched by no pattern
    assert outside.code == 0


def test_a_schema_file_argument_checks_the_files_that_use_it(project: Path) -> None:
    write(project / ".toon.toml", '[schemas]\n"users/*.toon" = "schemas/user.json"\n')
    write(project / "schemas" / "user.json",
          {**SCHEMA, "properties": {**SCHEMA["properties"], "id": {"$ref": "id.json"}}})
    write(project / "schemas" / "id.json", {"type": "integer", "minimum": 1})
    write(project / "users" / "u.toon", BAD)
    write(project / "other" / "v.toon", "# schema: ../schemas/user.json\n" + BAD)
    write(project / "package.json", {"name": "x"})
    # Naming the schema's $ref'd sibling is enough: both users come in.
    r = run_toon("check", "--quiet", "schemas/id.json", "package.json", cwd=project)
    assert r.code == 1
    assert reported(r.out) == {
        "users/u.toon", "other/v.toon"}
    # A .json nothing uses is no TOON file: nothing to check, not an error.
    none = run_toon("check", "--quiet", "package.json", cwd=project)
    assert none.code == 0 and none.out == ""


def test_a_bad_mapped_schema_is_told_once_and_the_rest_go_on(project: Path) -> None:
    write(project / ".toon.toml", '[schemas]\n"u*.toon" = "schemas/missing.json"\n')
    for name in ("u1.toon", "u2.toon"):
        write(project / name, GOOD)
    write(project / "zbroken.toon", "a[2]: 1\n")
    r = run_toon("check", ".", cwd=project)
    assert r.code == 2
    assert r.err.count("missing.json") == 1
    assert "zbroken.toon:1:1:" in r.out


def test_bad_table_is_a_configuration_error(project: Path) -> None:
    write(project / ".toon.toml", '[schemas]\n"*.toon" = 5\n')
    r = run_toon("check", "good.toon", cwd=project)
    assert r.code == 2 and "schemas" in r.err


def test_a_first_line_after_a_byte_order_mark_names_the_schema(project: Path) -> None:
    (project / "bom.toon").write_bytes(b"\xef\xbb\xbf# schema: schemas/user.json\n"
                                       + BAD.encode())
    r = run_toon("check", "bom.toon", cwd=project)
    assert r.code == 1 and "bom.toon:2:5: 0 is less than the minimum of 1" in r.out, r


def test_json_format_with_an_unusable_schema_still_prints_the_list(project: Path) -> None:
    write(project / "broken.json", "{oops")
    r = run_toon("check", "--format", "json", "--schema", "broken.json", "bad.toon", cwd=project)
    assert r.code == 2 and json.loads(r.out) == []
    assert r.err.startswith("toon: error: broken.json:1:2: not a valid JSON schema")


def test_a_named_config_file_rechecks_the_files_its_table_maps(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.toon.schemas]\n"data/*.toon" = "schemas/user.json"\n')
    write(project / "data" / "a.toon", BAD)
    write(project / "data" / "b.toon", "# schema: ../schemas/open.json\n" + BAD)
    write(project / "schemas" / "open.json", {})
    r = run_toon("check", "--quiet", "pyproject.toml", cwd=project)
    assert r.code == 1 and reported(r.out) == {"data/a.toon"}, r


def test_a_missing_schema_fails_the_files_that_use_it_and_no_other(project: Path) -> None:
    write(project / "pyproject.toml", '[tool.toon.schemas]\n"data/*.toon" = "schemas/gone.json"\n')
    write(project / "data" / "a.toon", GOOD)
    write(project / "good.toon", GOOD)
    r = run_toon("check", "--quiet", "data/a.toon", cwd=project)
    assert r.code == 2
    assert r.err.strip() == ("toon: error: schemas/gone.json: No such file or directory "
                             "(the schema of data/a.toon)")
    # An unrelated file is checked alone: the broken mapping is not its concern,
    # and finding that out would walk the project on every run (an editor's, CI's).
    r = run_toon("check", "--quiet", "good.toon", cwd=project)
    assert r.code == 0 and r.err == "", r


def test_no_project_no_search_for_users(tmp_path: Path) -> None:
    write(tmp_path / "s.json", SCHEMA)
    write(tmp_path / "a.toon", "# schema: s.json\n" + BAD)
    r = run_toon("check", "s.json", cwd=tmp_path)
    assert r.code == 0 and "not in a project with a [tool.toon] table" in r.err


def test_hook_mode_without_files_checks_only_the_project(project: Path) -> None:
    r = run_toon("check", "--quiet", "--git-deleted", cwd=project)
    assert (r.code, r.out, r.err) == (0, "", "")
    assert run_toon("check", cwd=project).code == 2  # FILES are needed otherwise


def test_files_that_cannot_be_schemas_never_walk_the_project(
        project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`toon check one.toon` (and a staged package.json) read only what they name:
    the walk for the users of a schema happens only for a file that can be one."""
    from click.testing import CliRunner

    import toon_tools.files
    from toon_tools.cli.commands.check import check

    write(project / "pyproject.toml", '[tool.toon.schemas]\n"data/*.toon" = "schemas/user.json"\n')
    write(project / "data" / "a.toon", GOOD)
    write(project / "package.json", {"name": "x", "dependencies": {"a": "1"}})
    walks: list[str] = []
    real_walk = toon_tools.files.walk_folder

    def counting_walk(folder: str) -> list[str]:
        walks.append(folder)
        return real_walk(folder)

    monkeypatch.setattr(toon_tools.files, "walk_folder", counting_walk)
    monkeypatch.chdir(project)
    runner = CliRunner()
    for args in (["good.toon"], ["package.json", "good.toon"], ["data/a.toon"]):
        assert runner.invoke(check, args, standalone_mode=False).return_value == 0
    assert walks == []
    write(project / "data" / "a.toon", BAD)
    assert runner.invoke(check, ["schemas/user.json"], standalone_mode=False).return_value == 1
    assert len(walks) == 1


def test_a_pattern_that_is_no_regex_is_an_unusable_schema(project: Path) -> None:
    write(project / "p.json", {"properties": {"name": {"pattern": "[unclosed"}}})
    r = run_toon("check", "--schema", "p.json", "good.toon", cwd=project)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("toon: error: p.json") and "not a valid schema" in r.err


def test_an_ecma_262_pattern_works_end_to_end(project: Path) -> None:
    write(project / "p.json", {"properties": {"name": {"pattern": "^\\p{L}+$"}}})
    write(project / "digits.toon", "name: Ada1\n")
    r = run_toon("check", "--schema", "p.json", "good.toon", "digits.toon", cwd=project)
    assert r.code == 1, r.err
    assert r.out.startswith("digits.toon:1:7: ") and "[properties/name/pattern]" in r.out
    assert reported(r.out) == {"digits.toon"}


def test_a_first_line_naming_a_nul_byte_is_an_unusable_schema(project: Path) -> None:
    write(project / "nul.toon", "# schema: a\0b.json\na: 1\n")
    r = run_toon("check", "nul.toon", cwd=project)
    assert r.code == 2 and "internal error" not in r.err
    assert "nul.toon" in r.err or "b.json" in r.err
