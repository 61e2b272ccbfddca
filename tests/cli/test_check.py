"""``toon check``: every file checked, path:line:col with a caret, exit codes."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import run_toon


def test_valid_files_pass(tmp_path: Path) -> None:
    (tmp_path / "a.toon").write_text("a: 1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.toon").write_text("b[2]: x,y")
    r = run_toon("check", str(tmp_path))
    assert r.code == 0 and r.out == ""
    assert "2 files checked" in r.err


def test_invalid_file_reports_line_column_and_caret(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toon"
    bad.write_text("name: Ada\nusers[2]{id,name}:\n  1,Ada\n  2,\"Bob\n")
    r = run_toon("check", str(bad))
    assert r.code == 1
    assert r.out == (f"{bad}:4:5: unterminated string\n"
                     '    2,"Bob\n'
                     "      ^\n")


def test_caret_keeps_tabs_aligned(tmp_path: Path) -> None:
    bad = tmp_path / "tabs.toon"
    bad.write_text('t[1\t]{a\tb}:\n  x\t"y\n')
    r = run_toon("check", str(bad))
    assert r.out.splitlines()[1:] == ['    x\t"y', "     \t^"]


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    (tmp_path / "1.toon").write_text("a: 1\na: 2")
    (tmp_path / "2.toon").write_text("ok: true")
    (tmp_path / "3.toon").write_text("t[2]: x")
    r = run_toon("check", str(tmp_path / "1.toon"), str(tmp_path / "2.toon"),
                 str(tmp_path / "3.toon"))
    assert r.code == 1
    assert "1.toon:2:1: duplicate key 'a'" in r.out
    assert "3.toon:1:1: t[2]: expected 2 values, found 1" in r.out
    assert "2.toon" not in r.out
    assert "Found problems in 2 of 3 files." in r.err


def test_unreadable_path_is_exit_2_but_others_still_checked(tmp_path: Path) -> None:
    (tmp_path / "bad.toon").write_text("a: 1\na: 2")
    r = run_toon("check", str(tmp_path / "missing.toon"), str(tmp_path / "bad.toon"))
    assert r.code == 2
    assert f"toon: error: {tmp_path / 'missing.toon'}: No such file or directory" in r.err
    assert "bad.toon:2:1" in r.out


def test_binary_file_is_a_finding(tmp_path: Path) -> None:
    blob = tmp_path / "blob.toon"
    blob.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    r = run_toon("check", str(blob))
    assert r.code == 1 and "invalid UTF-8" in r.out


def test_no_files_is_usage_error() -> None:
    assert run_toon("check").code == 2
