"""``toon schema infer|skeleton`` as users run them: the schema every file
satisfies, bad files reported and no schema written, the skeleton of a JSON or
TOON schema, and help that says all of it."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tests.cli.conftest import run_toon
from toon_tools.cli.main import cli

USERS = "users[3]{id,name,role}:\n  1,Ada,admin\n  2,Bob,user\n  3,Cy,user\n"


def _valid(schema: dict[str, object], value: object) -> bool:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema).is_valid(value)


def test_infer_over_a_folder_and_a_named_json_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.toon").write_text(USERS + "team: core\n")
    (data / "sub" / "b.toon").write_text(USERS.replace("Cy,user", "Di,admin") + "size: 1.5\n")
    (data / "ignored.json").write_text('{"not": "searched"}')  # folders give *.toon only
    named = tmp_path / "c.json"
    named.write_text('{"users": [{"id": 9, "name": "Eve", "role": "guest"}], "size": 2}')
    (tmp_path / "pyproject.toml").write_text('[tool.toon]\nexclude = ["skip/"]\n')
    (data / "skip").mkdir()
    (data / "skip" / "x.toon").write_text("other: 1\n")  # excluded, as toon check excludes it

    r = run_toon("schema", "infer", "data", "c.json", cwd=tmp_path)
    assert r.code == 0, r.err
    schema = json.loads(r.out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert list(schema["properties"]) == ["users", "team", "size"]
    assert "other" not in schema["properties"] and "not" not in schema["properties"]
    assert schema["required"] == ["users"]
    assert schema["properties"]["size"] == {"type": "number"}
    row = schema["properties"]["users"]["items"]
    assert row["required"] == ["id", "name", "role"]
    assert row["properties"]["id"] == {"type": "integer"}
    # 7 roles, 3 distinct: under the enum rule's 3 instances per value
    assert "enum" not in row["properties"]["role"]
    from toon_tools.codec import decode

    for toon in (data / "a.toon", data / "sub" / "b.toon"):
        assert _valid(schema, decode(toon.read_text()))
    assert _valid(schema, json.loads(named.read_text()))
    assert not _valid(schema, {"users": [{"id": "9", "name": "x", "role": "y"}]})


def test_output_file_title_closed_and_enum(tmp_path: Path) -> None:
    roles = ["admin", "user", "user", "user", "admin", "user"]
    rows = "".join(f"  {i},{role}\n" for i, role in enumerate(roles))
    (tmp_path / "t.toon").write_text(f"users[{len(roles)}]{{id,role}}:\n{rows}")
    out = tmp_path / "schema.json"
    r = run_toon("schema", "infer", "t.toon", "-o", str(out), "--title", "Team",
                 "--closed", cwd=tmp_path)
    assert (r.code, r.out) == (0, "")
    schema = json.loads(out.read_text())
    assert schema["title"] == "Team" and schema["additionalProperties"] is False
    role = schema["properties"]["users"]["items"]["properties"]["role"]
    assert role == {"type": "string", "enum": ["admin", "user"]}
    # the same input gives the same bytes
    again = run_toon("schema", "infer", "t.toon", "--title", "Team", "--closed", cwd=tmp_path)
    assert again.out == out.read_text()


def test_bad_files_are_each_reported_and_no_schema_is_written(tmp_path: Path) -> None:
    (tmp_path / "1.toon").write_text("a: 1\na: 2\n")
    (tmp_path / "2.toon").write_text("ok: true\n")
    (tmp_path / "3.json").write_text('{"a": [1,}')
    out = tmp_path / "schema.json"
    out.write_text("{}\n")
    r = run_toon("schema", "infer", "1.toon", "2.toon", "3.json", "-o", str(out),
                 cwd=tmp_path)
    assert r.code == 1
    lines = r.err.splitlines()
    assert lines[0].startswith("1.toon:2:1: ") and "duplicate" in lines[0]
    assert lines[1].startswith("3.json:1:")
    assert lines[2] == "toon: error: no schema written: 2 of 3 files could not be read"
    assert len(lines) == 3 and r.out == ""
    assert out.read_text() == "{}\n"  # untouched


def test_missing_file_and_nothing_to_read_are_usage_errors(tmp_path: Path) -> None:
    (tmp_path / "ok.toon").write_text("a: 1\n")
    r = run_toon("schema", "infer", "ok.toon", "nope.toon", cwd=tmp_path)
    assert r.code == 2 and r.out == ""
    assert r.err.splitlines()[0] == "nope.toon: No such file or directory"
    (tmp_path / "empty").mkdir()
    r = run_toon("schema", "infer", "empty", cwd=tmp_path)
    assert r.code == 2
    assert r.err == "toon: error: no .toon files to infer a schema from\n"


def test_skeleton_of_json_and_toon_schemas(tmp_path: Path) -> None:
    schema = {"type": "object", "required": ["title", "scenes"], "properties": {
        "title": {"type": "string", "description": "The working title."},
        "status": {"enum": ["draft", "final"]},
        "scenes": {"type": "array", "items": {"type": "object", "properties": {
            "n": {"type": "integer"}, "summary": {"type": "string"}}}}}}
    (tmp_path / "s.json").write_text(json.dumps(schema))
    r = run_toon("schema", "skeleton", "s.json", cwd=tmp_path)
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    assert lines[:2] == ["# The working title.", "title: <text>"]
    assert "status: draft|final" in lines
    assert any(line.startswith("scenes[N]{n,summary}:") for line in lines)

    from toon_tools.codec import encode

    (tmp_path / "s.toon").write_text(encode(schema))
    t = run_toon("schema", "skeleton", "s.toon", cwd=tmp_path)
    assert (t.code, t.out) == (0, r.out)


def test_skeleton_of_a_bad_schema_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('{"type": 12}')
    r = run_toon("schema", "skeleton", "bad.json", cwd=tmp_path)
    assert r.code == 2 and r.out == ""
    assert r.err.startswith("toon: error: bad.json: not a valid schema") and \
        r.err.count("\n") == 1
    r = run_toon("schema", "skeleton", "none.json", cwd=tmp_path)
    assert r.code == 2 and "none.json" in r.err


def test_an_inferred_schema_has_a_skeleton(tmp_path: Path) -> None:
    (tmp_path / "t.toon").write_text(USERS + "tags[2]: a,b\n")
    r = run_toon("schema", "infer", "t.toon", "-o", "s.json", cwd=tmp_path)
    assert r.code == 0, r.err
    s = run_toon("schema", "skeleton", "s.json", cwd=tmp_path)
    assert s.code == 0, s.err
    assert "users[N]{id,name,role}:" in s.out and "tags[N]: " in s.out


def test_toon_check_accepts_every_file_infer_saw(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.toon").write_text(USERS + "# a comment\nmeta:\n  v: 1\n")
    (data / "b.toon").write_text(USERS.replace("Bob", "Bo b") + "meta:\n  v: 1.5\n  w: null\n")
    assert run_toon("schema", "infer", "data", "-o", "s.json", cwd=tmp_path).code == 0
    r = run_toon("check", "--schema", "s.json", "data", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    (tmp_path / "c.toon").write_text("meta:\n  v: x\n")
    r = run_toon("check", "--schema", "s.json", "c.toon", cwd=tmp_path)
    assert r.code == 1 and "c.toon:1:1: 'users' is a required property" in r.out


def test_help_is_complete() -> None:
    runner = CliRunner()
    group = runner.invoke(cli, ["schema", "--help"])
    assert group.exit_code == 0
    assert "infer" in group.output and "skeleton" in group.output
    assert "toon check --schema" in group.output
    infer = runner.invoke(cli, ["schema", "infer", "--help"])
    for word in ("--output", "--title", "--closed", "--indent-size", "required", "enum",
                 "Exit codes", ".json"):
        assert word in infer.output, word
    skel = runner.invoke(cli, ["schema", "skeleton", "--help"])
    assert "# comment" in skel.output and "Exit codes" in skel.output


def test_skeleton_shows_the_fields_of_a_sibling_file(tmp_path: Path) -> None:
    (tmp_path / "place.toon").write_text(
        "type: object\nproperties:\n  city:\n    type: string\n    description: The town\n")
    (tmp_path / "scene.json").write_text(json.dumps({"type": "object", "properties": {
        "where": {"$ref": "place.toon"}, "mood": {"enum": ["dark", "a|b"]}}}))
    r = run_toon("schema", "skeleton", "scene.json", cwd=tmp_path)
    assert (r.code, r.err) == (0, "")
    assert r.out == 'where:\n  # The town\n  city: <text>\nmood: dark|"a|b"\n'
