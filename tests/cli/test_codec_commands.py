"""``toon encode`` and ``toon decode`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon


def test_encode_stdin_to_stdout() -> None:
    r = run_toon("encode", stdin='{"users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]}')
    assert (r.code, r.out) == (0, "users[2]{id,name}:\n  1,Ada\n  2,Bob\n")


def test_encode_options() -> None:
    r = run_toon("encode", "--delimiter", "pipe", "--indent-size", "4",
                 stdin='{"a": {"t": ["x", "y|z"]}}')
    assert r.out == 'a:\n    t[2|]: x|"y|z"\n'


def test_decode_file_to_output_file(tmp_path: Path) -> None:
    src = tmp_path / "in.toon"
    src.write_text("a: 1\nb[2]: x,y\n")
    out = tmp_path / "out.json"
    r = run_toon("decode", str(src), "-o", str(out))
    assert r.code == 0 and r.out == ""
    assert json.loads(out.read_text()) == {"a": 1, "b": ["x", "y"]}


def test_round_trip_through_both_commands(tmp_path: Path) -> None:
    value = {"k": [{"x": 1, "y": "a,b"}, {"x": 2, "y": None}], "s": "true"}
    toon_text = run_toon("encode", stdin=json.dumps(value)).out
    back = run_toon("decode", "--json-indent", "0", stdin=toon_text)
    assert json.loads(back.out) == value
    assert back.out.count("\n") == 1


def test_decode_non_strict() -> None:
    assert run_toon("decode", stdin="t[3]: a,b").code == 1
    r = run_toon("decode", "--no-strict", "--json-indent", "0", stdin="t[3]: a,b")
    assert (r.code, r.out) == (0, '{"t":["a","b"]}\n')


@pytest.mark.parametrize(("command", "stdin", "message"), [
    ("encode", '{"a": [1,\n  }', "toon: error: <stdin>:2:3: invalid JSON: Expecting value"),
    ("encode", b'{"a": "\xff"}', "toon: error: <stdin>:1:8: invalid JSON: not UTF-8 text"),
    ("encode", "[" * 100_000 + "]" * 100_000, "toon: error: <stdin>:1:"),
    ("encode", '{"a": "\\ud800"}', "toon: error: <stdin>:1:8: lone surrogate"),
    ("encode", '["x\\udc00y"]', "toon: error: <stdin>:1:4: lone surrogate"),
    ("encode", '{"n":\n ' + "1" * 5000 + "}", "toon: error: <stdin>:2:2: "),
    ("encode", "[" * 1100 + "]" * 1100, "toon: error: <stdin>"),
    ("decode", "a: 1\na: 2", "toon: error: <stdin>:2:1: duplicate key 'a'"),
    ("decode", b"a: \xff", "toon: error: <stdin>:1:4: invalid UTF-8"),
    ("decode", "a: 1\nn: " + "1" * 5000, "toon: error: <stdin>:2:4: integer has 5000 digits"),
    ("decode", "a[" + "1" * 5000 + "]: x", "toon: error: <stdin>:1:3: array length has 5000"),
    ("decode", "t[1]{a}:\n  " + "1" * 5000, "toon: error: <stdin>:2:3: integer has 5000"),
    ("decode", "a:\n" + "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1, 1100)),
     "toon: error: <stdin>:1000:"),
])
def test_bad_input_is_one_line_and_exit_1(command: str, stdin: str | bytes, message: str) -> None:
    r = run_toon(command, stdin=stdin)
    assert r.code == 1
    assert r.err.startswith(message) and r.err.count("\n") == 1
    assert r.out == ""


def test_missing_input_is_exit_2(tmp_path: Path) -> None:
    r = run_toon("decode", str(tmp_path / "nope.toon"))
    assert r.code == 2
    assert r.err == f"toon: error: {tmp_path / 'nope.toon'}: No such file or directory\n"


def test_output_into_missing_folder_is_exit_2(tmp_path: Path) -> None:
    r = run_toon("encode", "-o", str(tmp_path / "no" / "such" / "out.toon"), stdin="{}")
    assert r.code == 2 and "No such file or directory" in r.err
    assert ".tmp" not in r.err  # the output is named, not the temporary file beside it


def test_read_only_output_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.toon"
    out.write_text("keep: me\n")
    out.chmod(0o444)
    r = run_toon("encode", "-o", str(out), stdin='{"a": 1}')
    assert r.code == 2
    assert r.err == f"toon: error: {out}: Permission denied (file is read-only)\n"
    assert out.read_text() == "keep: me\n"


def test_failed_encode_leaves_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.toon"
    out.write_text("keep: me\n")
    r = run_toon("encode", "-o", str(out), stdin='{"a": ')
    assert r.code == 1
    assert out.read_text() == "keep: me\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.toon"]  # no temp file left behind


def test_version_and_help() -> None:
    assert run_toon("--version").out.startswith("toon 0.1.0 (TOON spec 4.0)")
    out = run_toon("--help").out
    for command in ("encode", "decode", "check", "fmt"):
        assert command in out


def test_unknown_command_is_usage_error() -> None:
    r = run_toon("frobnicate")
    assert r.code == 2 and "No such command" in r.err


@pytest.mark.parametrize("command", ["encode", "decode"])
def test_missing_file_is_exit_2_with_one_line(tmp_path: Path, command: str) -> None:
    r = run_toon(command, str(tmp_path / "missing.json"))
    assert r.code == 2
    assert r.err == f"toon: error: {tmp_path / 'missing.json'}: No such file or directory\n"


def test_encode_help_shows_delimiter_names_and_every_option_has_help() -> None:
    out = run_toon("encode", "--help").out
    assert "[comma|tab|pipe]" in out and "\t" not in out and "|]" not in out.replace(
        "pipe]", "")
    for command in ("encode", "decode"):
        from click.testing import CliRunner

        from toon_tools.cli.commands import codec

        cmd = getattr(codec, command)
        assert all(p.help for p in cmd.params if isinstance(p, __import__("click").Option))
        assert CliRunner().invoke(cmd, ["--help"]).exit_code == 0


@pytest.mark.parametrize("given", [",", "|", "\t", "comma", "pipe", "tab"])
def test_encode_accepts_delimiter_characters_and_names(given: str) -> None:
    r = run_toon("encode", "-d", given, stdin='{"a": [1, 2]}')
    symbol = {"comma": ",", "pipe": "|", "tab": "\t"}.get(given, given)
    mark = "" if symbol == "," else symbol
    assert (r.code, r.out) == (0, f"a[2{mark}]: 1{symbol}2\n")


def test_lone_surrogate_handed_to_the_library_encoder_is_a_value_error_naming_it() -> None:
    import toon_tools

    with pytest.raises(ValueError, match="lone surrogate U\\+D800 at index 1"):
        toon_tools.encode({"a": "x\ud800"})
    with pytest.raises(ValueError, match="lone surrogate U\\+DC00"):
        toon_tools.encode({"\udc00": 1})
