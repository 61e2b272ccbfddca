"""``toon fmt``: canonical output, comments kept, --check/--diff change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toon_tools
from tests.cli.conftest import run_toon
from tests.json_model import json_equal
from tests.strategies import documents

# Odd spacing after colons and comments at odd indents: valid, not canonical.
MESSY_SRC = """\
# Team roster: edited by hand
team:   Platform
  # who is on call
users[2]{id,name}:
  1,Ada
   # Bob is new
  2,Bob
settings:
  # timeouts in seconds
  retries:   3
"""

CANONICAL = """\
# Team roster: edited by hand
team: Platform
# who is on call
users[2]{id,name}:
  1,Ada
  # Bob is new
  2,Bob
settings:
  # timeouts in seconds
  retries: 3
"""


def test_fmt_rewrites_and_keeps_comments(tmp_path: Path) -> None:
    f = tmp_path / "team.toon"
    f.write_text(MESSY_SRC)
    r = run_toon("fmt", str(f))
    assert r.code == 0
    assert f.read_text() == CANONICAL
    assert "1 file reformatted" in r.err
    again = run_toon("fmt", str(f))
    assert again.code == 0 and f.read_text() == CANONICAL
    assert "0 files reformatted, 1 unchanged" in again.err


def test_check_changes_nothing_and_exits_1(tmp_path: Path) -> None:
    f = tmp_path / "team.toon"
    f.write_text(MESSY_SRC)
    r = run_toon("fmt", "--check", str(f))
    assert r.code == 1 and f"Would reformat: {f}" in r.out
    assert f.read_text() == MESSY_SRC


def test_diff_is_unified_and_changes_nothing(tmp_path: Path) -> None:
    f = tmp_path / "team.toon"
    f.write_text("a:   1\n")
    r = run_toon("fmt", "--diff", str(f))
    assert r.code == 1
    assert r.out.splitlines()[2:] == ["@@ -1 +1 @@", "-a:   1", "+a: 1"]
    assert f.read_text() == "a:   1\n"


def test_canonical_file_passes_check(tmp_path: Path) -> None:
    f = tmp_path / "ok.toon"
    f.write_text(CANONICAL)
    assert run_toon("fmt", "--check", str(f)).code == 0


def test_invalid_file_is_reported_and_untouched(tmp_path: Path) -> None:
    f = tmp_path / "bad.toon"
    f.write_text("a: 1\n  b: 2\n")
    r = run_toon("fmt", str(f))
    assert r.code == 1 and f"{f}:2:3: unexpected indentation" in r.out
    assert f.read_text() == "a: 1\n  b: 2\n"


def test_keeps_the_files_delimiter(tmp_path: Path) -> None:
    f = tmp_path / "pipes.toon"
    f.write_text("t[2|]{a|b}:\n  1|x\n  2|y\nname: a,b\n")
    assert run_toon("fmt", "--check", str(f)).code == 0
    assert run_toon("fmt", "--delimiter", "comma", str(f)).code == 0
    assert f.read_text() == 't[2]{a,b}:\n  1,x\n  2,y\nname: "a,b"\n'


def test_comment_only_and_empty_files(tmp_path: Path) -> None:
    only = tmp_path / "only.toon"
    only.write_text("  # just a note\n")
    empty = tmp_path / "empty.toon"
    empty.write_text("")
    assert run_toon("fmt", str(only), str(empty)).code == 0
    assert only.read_text() == "# just a note\n"
    assert empty.read_text() == ""


@given(value=documents, data=st.data())
def test_format_keeps_every_comment_and_the_data(value: Any, data: st.DataObject) -> None:
    text = toon_tools.encode(value)
    lines = text.split("\n") if text else []
    # Put comments at random places, at random indentation.
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(lines)))
        lines.insert(at, " " * data.draw(st.integers(0, 5)) + f"# note {len(lines)}")
    source = "\n".join(lines)
    formatted = toon_tools.format_text(source)
    comments = sorted(ln.strip() for ln in lines if ln.lstrip().startswith("#"))
    assert sorted(ln.strip() for ln in formatted.splitlines() if ln.lstrip().startswith("#")) == comments
    assert json_equal(toon_tools.decode(formatted), toon_tools.decode(text))
    assert toon_tools.format_text(formatted) == formatted  # idempotent


# ---------------------------------------------------------------- issue 10


def test_each_array_keeps_its_own_delimiter(tmp_path: Path) -> None:
    f = tmp_path / "mixed.toon"
    f.write_text("a:\n  e[1|]{a|b}:\n    1|x,y\nb[2\t]: p\tq\nc[2]: r,s\n")
    assert run_toon("fmt", "--check", str(f)).code == 0


def test_skip_invalid_leaves_invalid_files_alone_silently(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toon"
    bad.write_text("a: 1\n  b: 2\n")
    messy = tmp_path / "messy.toon"
    messy.write_text("a:   1\n")
    r = run_toon("fmt", "--skip-invalid", str(bad), str(messy))
    assert r.code == 0 and r.out == "" and "bad.toon" not in r.err
    assert bad.read_text() == "a: 1\n  b: 2\n" and messy.read_text() == "a: 1\n"
    r = run_toon("fmt", "--check", "--skip-invalid", str(bad))
    assert r.code == 0 and r.out == ""
    r = run_toon("fmt", str(bad))
    assert r.code == 1 and "1 invalid" in r.err


def test_exit_non_zero_on_fix(tmp_path: Path) -> None:
    f = tmp_path / "a.toon"
    f.write_text("a:   1\n")
    assert run_toon("fmt", "--exit-non-zero-on-fix", str(f)).code == 1
    assert run_toon("fmt", "--exit-non-zero-on-fix", str(f)).code == 0


def test_missing_file_exits_2_with_one_line(tmp_path: Path) -> None:
    ok = tmp_path / "ok.toon"
    ok.write_text("a: 1\n")
    r = run_toon("fmt", str(tmp_path / "missing.toon"), str(ok))
    assert r.code == 2
    errors = [ln for ln in r.err.splitlines() if ln.startswith("toon: error:")]
    assert errors == [f"toon: error: {tmp_path / 'missing.toon'}: No such file or directory"]


@pytest.mark.parametrize(("content", "where", "message"), [
    (b"a: 1\nb: \xff\n", "2:4", "invalid UTF-8: byte 0xff"),
    (b"a[" + b"1" * 5000 + b"]: x\n", "1:3", "array length has 5000 digits"),
    (b"t[1]{a}:\n  " + b"9" * 5000 + b"\n", "2:3", "integer has 5000 digits"),
    (b"a: " + b"7" * 5000 + b"\n", "1:4", "integer has 5000 digits"),
])
def test_bad_input_is_one_positioned_finding(tmp_path: Path, content: bytes, where: str,
                                             message: str) -> None:
    f = tmp_path / "bad.toon"
    f.write_bytes(content)
    for args in ([], ["--check"], ["--diff"]):
        r = run_toon("fmt", *args, str(f))
        assert r.code == 1
        assert r.out.splitlines()[0].startswith(f"{f}:{where}: {message}")
    assert f.read_bytes() == content


def test_diff_and_check_escape_what_they_print(tmp_path: Path) -> None:
    f = tmp_path / "esc\x1b[31m.toon"
    f.write_text("a:   x\x1by\n")
    r = run_toon("fmt", "--diff", str(f))
    assert r.code == 1 and "\x1b" not in r.out
    assert "-a:   x\\x1by" in r.out.splitlines()
    r = run_toon("fmt", "--check", str(f))
    assert r.code == 1 and "\x1b" not in r.out


@pytest.mark.parametrize(("original", "formatted", "where"), [
    ("a: 1\nb: 2\n\n\n", "a: 1\nb: 2\n", (3, 0)),  # blank lines dropped: the first of them
    ("a: 1\nb: 2", "a: 1\nb: 2\n", (2, 4)),  # a final newline added: the last line
    ("a: 1\r\nb:  2\r\n", "a: 1\nb: 2\n", (1, 4)),
    ("x: 1\ny:    2\n", "x: 1\ny: 2\n", (2, 7)),
    ("a: 1\n", "a: 1\nb: 2\n", (1, 4)),  # only added after the end: the last line
])
def test_fmt_check_finding_is_at_the_first_line_that_changes(
        original: str, formatted: str, where: tuple[int, int]) -> None:
    from toon_tools.cli.commands.fmt import first_change

    assert first_change(original, formatted) == where
