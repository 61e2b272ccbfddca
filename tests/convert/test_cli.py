"""``toon convert`` end to end, including every bad input the issue names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import toon_tools
from tests.cli.conftest import run_toon
from toon_tools.convert.batch import Job, run_job


def test_list() -> None:
    r = run_toon("convert", "--list")
    assert r.code == 0
    for pair in ("json -> toon", "toon -> md", "md -> toon", "pdf -> toon", "checkpoint -> toon",
                 "jsonl -> toon"):
        assert pair in r.out


def test_single_file_to_stdout_and_back(tmp_path: Path) -> None:
    src = tmp_path / "d.json"
    src.write_text(json.dumps({"users": [{"id": 1, "name": "Ada"}]}))
    r = run_toon("convert", str(src))
    assert (r.code, r.out) == (0, "users[1]{id,name}:\n  1,Ada\n")
    toon_file = tmp_path / "d.toon"
    toon_file.write_text(r.out)
    twin = run_toon("convert", str(toon_file)).out  # .toon defaults to its twin
    assert twin.startswith("<!-- toon-tools twin of d.toon sha256:")
    back = run_toon("convert", "--from", "md", "-", stdin=twin).out
    assert back == r.out
    assert json.loads(run_toon("convert", str(toon_file), "--to", "json").out) == \
        {"users": [{"id": 1, "name": "Ada"}]}


def test_jsonl(tmp_path: Path) -> None:
    src = tmp_path / "rows.jsonl"
    src.write_text('{"id": 1, "ok": true}\n\n{"id": 2, "ok": false}\n')
    assert run_toon("convert", str(src)).out == "[2]{id,ok}:\n  1,true\n  2,false\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1}\n{oops}\n')
    r = run_toon("convert", str(bad))
    assert (r.code, r.err) == (1, f"toon: error: {bad}:2:2: invalid JSON: "
                                  "Expecting property name enclosed in double quotes\n")


def test_folder_glob_and_out_dir_with_pool(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(12):
        (src / f"f{i:02d}.json").write_text(json.dumps({"i": i, "tags": ["a", "b"]}))
    out = tmp_path / "out"
    r = run_toon("convert", str(src), "--out-dir", str(out), "--jobs", "2")
    assert r.code == 0, r.err
    assert sorted(p.name for p in out.iterdir()) == [f"f{i:02d}.toon" for i in range(12)]
    assert toon_tools.decode((out / "f07.toon").read_bytes()) == {"i": 7, "tags": ["a", "b"]}
    r = run_toon("convert", str(src / "f0*.json"), "--to", "toon")  # a glob; outputs beside
    assert r.code == 0 and (src / "f03.toon").exists() and not (src / "f10.toon").exists()


def test_stats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOON_CACHE_DIR", str(tmp_path / "cache"))
    src = tmp_path / "d.json"
    src.write_text(json.dumps([{"id": i, "name": f"n{i}"} for i in range(50)], indent=2))
    r = run_toon("convert", str(src), "-o", str(tmp_path / "d.toon"), "--stats")
    assert r.code == 0 and "% saved)" in r.err


@pytest.mark.parametrize(("name", "content", "message"), [
    ("bad.json", b'{"a": 1 "b": 2}', "bad.json:1:9: invalid JSON: Expecting ',' delimiter"),
    ("bad.toon", b"a: 1\na: 2\n", "bad.toon:2:1: duplicate key 'a'"),
    ("bad.md", b'---\ntitle: "open\n---\n# x\n', "bad.md:2:8: front matter: unterminated string"),
    ("bad-utf8.md", b"# ok\n\nno \xff here\n", "bad-utf8.md:3:4: invalid UTF-8: byte 0xff"),
    ("zip.pdf", b"PK\x03\x04 not a pdf", "zip.pdf: a ZIP archive (no %PDF header)"),
    ("empty.pdf", b"", "empty.pdf: empty file (0 bytes), not a PDF"),
    ("empty.json", b"", "empty.json:1:1: invalid JSON: Expecting value"),
])
def test_bad_inputs_exit_1_with_the_path(tmp_path: Path, name: str, content: bytes,
                                         message: str) -> None:
    pytest.importorskip("pymupdf") if name.endswith(".pdf") else None
    src = tmp_path / name
    src.write_bytes(content)
    r = run_toon("convert", str(src), "--to", "toon" if not name.endswith(".toon") else "json")
    assert r.code == 1
    assert r.err.startswith(f"toon: error: {tmp_path}/") and message in r.err
    assert r.err.count("\n") == 1


def test_empty_toon_is_an_empty_object(tmp_path: Path) -> None:
    src = tmp_path / "empty.toon"
    src.write_bytes(b"")
    assert run_toon("convert", str(src), "--to", "json").out == "{}\n"


def test_vanished_file_is_reported_with_its_path(tmp_path: Path) -> None:
    gone = tmp_path / "gone.json"
    outcome = run_job(Job(str(gone), "json", "toon", str(tmp_path / "gone.toon")))
    assert outcome.status == 2 and isinstance(outcome.error, FileNotFoundError)
    assert outcome.error.filename == str(gone)
    link = tmp_path / "link.json"
    link.symlink_to(gone)  # listed, but vanishes before it is read
    r = run_toon("convert", str(link))
    assert r.code == 2 and f"{link}: No such file or directory" in r.err


def test_output_in_missing_folder_and_read_only_output(tmp_path: Path) -> None:
    src = tmp_path / "d.json"
    src.write_text('{"a": 1}')
    r = run_toon("convert", str(src), "-o", str(tmp_path / "nope" / "d.toon"))
    assert r.code == 2 and f"{tmp_path / 'nope' / 'd.toon'}: No such file or directory" in r.err
    ro = tmp_path / "ro.toon"
    ro.write_text("keep: me\n")
    ro.chmod(0o444)
    r = run_toon("convert", str(src), "-o", str(ro), "--force")
    assert (r.code, r.err) == (2, f"toon: error: {ro}: Permission denied (file is read-only)\n")
    assert ro.read_text() == "keep: me\n"


def test_failed_conversion_never_truncates_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "d.toon"
    out.write_text("keep: me\n")
    src = tmp_path / "d.json"
    src.write_text('{"a": ')
    assert run_toon("convert", str(src), "-o", str(out)).code == 1
    assert out.read_text() == "keep: me\n"


def test_refuses_to_overwrite_the_source(tmp_path: Path) -> None:
    src = tmp_path / "d.toon"
    src.write_text("a: 1\n")
    r = run_toon("convert", str(src), "--to", "toon", "-o", str(src))
    assert r.code == 2 and "would overwrite the source" in r.err
