"""The bad-input table (issue 10): every hostile input that once reached
"internal error", a traceback or a wrong exit code, fed to every command that can
receive it. Each must give its contract exit code (1 findings, 2 usage,
configuration, I/O or environment) and a one-line message naming the file,
with nothing from the file echoed raw.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import Result, run_toon

HUGE = "1" * 5000  # over Python's 4,300-digit int/str conversion limit
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def assert_reported(r: Result, code: int, *needles: str) -> None:
    """Exit ``code``; no internal error; every needle in the output; nothing raw."""
    both = r.out + r.err
    assert r.code == code, both
    assert "internal error" not in both, both
    for needle in needles:
        assert needle in both, (needle, both)
    assert not RAW_CONTROL.search(both), repr(both)


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    return path


# -- JSON that Python parses but cannot be written as UTF-8 or turned into text --

LONE_SURROGATES = ['{"a": "\\ud800"}', '{"a": "x\\udc00y"}', '["\\udfff"]']


@pytest.mark.parametrize("doc", LONE_SURROGATES)
def test_json_with_a_lone_surrogate(tmp_path: Path, doc: str) -> None:
    src = write(tmp_path / "s.json", doc + "\n")
    assert_reported(run_toon("encode", str(src)), 1, "s.json:1:")
    assert_reported(run_toon("convert", str(src)), 1, "s.json:1:")
    lines = write(tmp_path / "s.jsonl", '{"ok": 1}\n' + doc + "\n")
    assert_reported(run_toon("convert", str(lines)), 1, "s.jsonl:2:")


def test_json_with_a_huge_integer_is_kept_exactly_or_refused_with_a_position(
        tmp_path: Path) -> None:
    src = write(tmp_path / "n.json", '{\n  "n": ' + HUGE + "\n}\n")
    for args in (["encode", str(src)], ["convert", str(src)]):
        r = run_toon(*args)
        if r.code == 0:  # kept exactly
            assert r.out.strip() == f"n: {HUGE}"
        else:
            assert_reported(r, 1, "n.json:2:")


# -- TOON with huge integers: in a value, and in an array header's length --------

HUGE_TOON = {
    "value.toon": f"a: 1\nn: {HUGE}\n",
    "header.toon": f"a: 1\nb[{HUGE}]: x\n",
}


@pytest.mark.parametrize("name", sorted(HUGE_TOON))
@pytest.mark.parametrize("command", [["decode"], ["check"], ["fmt", "--check"], ["fmt"],
                                     ["twins"], ["convert"]])
def test_toon_with_a_huge_integer(tmp_path: Path, name: str, command: list[str]) -> None:
    f = write(tmp_path / name, HUGE_TOON[name])
    r = run_toon(*command, str(f), cwd=tmp_path)
    if name == "header.toon" or r.code != 0:
        # A length no array can have; or a value refused: either way positioned.
        assert_reported(r, 1, f"{name}:2:")
    else:
        assert "internal error" not in r.out + r.err


# -- a Markdown twin whose body is not valid -------------------------------------

@pytest.mark.parametrize("body", ['"', '"":'])
def test_markdown_with_a_twin_header_but_a_broken_body(tmp_path: Path, body: str) -> None:
    from toon_tools.convert.twin_render import to_markdown

    header = to_markdown({}, "x.toon", b"").split("\n", 1)[0]
    md = write(tmp_path / "x.md", f"{header}\n\n{body}\n")
    assert_reported(run_toon("convert", "--to", "toon", str(md)), 1, "x.md")


# -- one bad file never stops the others -----------------------------------------

def test_check_reports_every_file_whatever_comes_first(tmp_path: Path) -> None:
    files = [write(tmp_path / "1-huge.toon", f"n[{HUGE}]: x\n"),
             write(tmp_path / "2-good.toon", "a: 1\n"),
             write(tmp_path / "3-binary.toon", b"\x7fELF\x02\x01\x00\x1b[2J\xff\xfe"),
             write(tmp_path / "4-bad.toon", "a:\n   b: 1\n")]
    r = run_toon("check", *map(str, files))
    assert_reported(r, 1, "1-huge.toon:1:", "3-binary.toon:1:", "4-bad.toon:2:",
                    "Found problems in 3 of 4 files")


def test_a_missing_file_among_others_is_an_io_error_but_the_rest_are_checked(
        tmp_path: Path) -> None:
    good = write(tmp_path / "good.toon", "a: 1\n")
    bad = write(tmp_path / "bad.toon", "a:\n   b: 1\n")
    r = run_toon("check", str(tmp_path / "missing.toon"), str(good), str(bad))
    assert_reported(r, 2, "missing.toon: No such file or directory", "bad.toon:2:")


# -- configuration errors: exit 2, one line, before any file is touched ----------

BAD_CONFIG = "[tool.toon]\nexclude = 3\n"


@pytest.mark.parametrize("command", [
    ["check", "a.toon"], ["fmt", "--check", "a.toon"], ["fmt", "a.toon"],
    ["tokens", "a.toon"], ["twins", "a.toon"], ["convert", "--stats", "a.toon"],
    ["pipeline", "run", "p.toon"], ["config"],
])
def test_a_wrong_type_in_tool_toon(tmp_path: Path, command: list[str]) -> None:
    write(tmp_path / "pyproject.toml", BAD_CONFIG)
    a = write(tmp_path / "a.toon", "a:   1\n")
    write(tmp_path / "p.toon", "name: p\nprovider: offline\nmodel: m\nsteps[1]:\n"
                               "  - id: s\n    prompt: hi\n")
    r = run_toon(*command, cwd=tmp_path)
    assert_reported(r, 2, "pyproject.toml", "'exclude': expected a list of strings")
    assert len([line for line in r.err.splitlines() if "error" in line]) == 1, r.err
    assert a.read_bytes() == b"a:   1\n"


# -- pipeline files ---------------------------------------------------------------

PIPELINE_HEAD = "name: p\nprovider: offline\nmodel: m\n"


@pytest.mark.parametrize("step, line, needle", [
    ("    batch: x\n", 7, "batch"),
    ("    params: 3\n", 7, "params"),
    ("    needs: abc\n", 7, "needs"),
    ("    samples: -1\n", 7, "samples"),
    ("    colour: red\n", 7, "colour"),
])
def test_a_pipeline_step_with_a_wrong_type_or_unknown_key(tmp_path: Path, step: str, line: int,
                                                         needle: str) -> None:
    p = write(tmp_path / "p.toon", PIPELINE_HEAD + "steps[1]:\n  - id: s\n    prompt: hi\n" + step)
    r = run_toon("pipeline", "run", str(p), cwd=tmp_path)
    assert_reported(r, 2, f"p.toon:{line}:", needle)


@pytest.mark.parametrize("command", [["pipeline", "run"], ["pipeline", "plan"], ["decode"],
                                     ["check"], ["fmt"], ["tokens"], ["convert"],
                                     ["encode"]])
def test_a_missing_file_is_exit_2(tmp_path: Path, command: list[str]) -> None:
    r = run_toon(*command, str(tmp_path / "missing.toon"), cwd=tmp_path)
    assert_reported(r, 2, "missing.toon")


def test_checkpoint_outside_a_repository_is_exit_2(tmp_path: Path) -> None:
    r = run_toon("checkpoint", "--repo", str(tmp_path))
    assert_reported(r, 2)
    assert len(r.err.strip().splitlines()) == 1, r.err


def test_hooks_outside_a_repository_are_exit_2(tmp_path: Path) -> None:
    for command in (["hooks", "run"], ["hooks", "install"], ["twins", "--add"]):
        r = run_toon(*command, cwd=tmp_path)
        assert_reported(r, 2, "not a git repository")


# -- names and contents are echoed escaped ---------------------------------------

def test_hostile_file_names_are_escaped_in_every_message(tmp_path: Path) -> None:
    name = "evil\x1b[2J\nname.toon"
    f = write(tmp_path / name, "a:\n   b: 1\n")
    for command in (["check"], ["fmt", "--check"], ["decode"], ["tokens"], ["twins", "--check"]):
        r = run_toon(*command, str(f), cwd=tmp_path)
        assert "evil\\x1b[2J\\nname.toon" in r.out + r.err, (command, r)
        assert_reported(r, r.code)


def test_json_error_output_is_one_line(tmp_path: Path) -> None:
    src = write(tmp_path / "bad.json", '{"a": [1, 2,\n')
    r = run_toon("encode", str(src))
    assert_reported(r, 1, "bad.json:2:")
    assert len(r.err.strip().splitlines()) == 1


def test_no_command_prints_internal_error_for_a_directory_given_as_a_file(
        tmp_path: Path) -> None:
    d = tmp_path / "dir.toon"
    d.mkdir()
    for command in (["decode"], ["encode"], ["pipeline", "run"]):
        r = run_toon(*command, str(d))
        assert_reported(r, 2, "dir.toon")


@pytest.mark.parametrize("setting, needle", [
    ('[tool.toon.twins]\nsuffix = "/x"\n', "'twins.suffix'"),
    ('[tool.toon.twins]\nlocation = "mirror"\ndir = "../outside"\n', "'twins.dir'"),
    ('[tool.toon]\nexclude = ["[z-a]"]\n', "'exclude': pattern '[z-a]'"),
    ('[tool.toon.tokens]\nencoding = "nope"\n', "'tokens.encoding': unknown encoding 'nope'"),
])
@pytest.mark.parametrize("command", [["twins", "a.toon"], ["check", "a.toon"], ["config"],
                                     ["convert", "--stats", "a.toon", "-o", "a.md"]])
def test_a_setting_that_would_write_outside_or_crash_is_refused_at_load(
        tmp_path: Path, setting: str, needle: str, command: list[str]) -> None:
    write(tmp_path / "pyproject.toml", setting)
    write(tmp_path / "a.toon", "a: 1\n")
    r = run_toon(*command, cwd=tmp_path)
    assert_reported(r, 2, "pyproject.toml", needle)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.toon", "pyproject.toml"]
    assert not (tmp_path.parent / "outside").exists()


@pytest.mark.parametrize("value", ["abc", "0", "-3"])
def test_a_bad_jobs_variable_is_exit_2_not_ignored(tmp_path: Path, value: str) -> None:
    a = write(tmp_path / "a.toon", "a: 1\n")
    for command in (["check"], ["tokens"], ["fmt", "--check"]):
        r = run_toon(*command, str(a), env={"TOON_TOOLS_JOBS": value})
        assert_reported(r, 2, "TOON_TOOLS_JOBS")
