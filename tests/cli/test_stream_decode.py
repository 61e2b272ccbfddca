"""``toon decode`` and ``toon check`` streaming: the same bytes and the same
errors as the whole-document path, in bounded memory (issue 16)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import toon_tools
from tests.cli.conftest import run_toon
from tests.conftest import fixture_cases
from tests.strategies import json_values
from toon_tools.cli._json_stream import write_json
from toon_tools.cli.commands import check as check_cmd
from toon_tools.codec._stream import iter_events

INDENTS = (0, 2, 4)


def _opts(case: dict[str, Any]) -> dict[str, Any]:
    options = case.get("options", {})
    return {"strict": options.get("strict", True), "indent_size": options.get("indentSize", 2)}


def _dumps(value: Any, indent: int) -> str:
    """What ``toon decode --no-stream --json-indent INDENT`` writes (without the newline)."""
    return json.dumps(value, ensure_ascii=False, indent=indent or None,
                      separators=None if indent else (",", ":"))


def _streamed(text: str, indent: int, whole_values: bool = True, **opts: Any) -> str:
    parts: list[str] = []
    write_json(iter_events(text, whole_values=whole_values, **opts),
               parts.append, indent)
    return "".join(parts)


@pytest.mark.parametrize("case", fixture_cases("decode", errors=False))
def test_fixture_json_is_byte_identical(conformance: Path, case: dict[str, Any]) -> None:
    opts = _opts(case)
    if not opts["strict"]:
        pytest.skip("--no-strict decodes whole (last-write-wins needs the document)")
    value = toon_tools.decode(case["input"], **opts)
    for indent in INDENTS:
        assert _streamed(case["input"], indent, **opts) == _dumps(value, indent)
    # Element by element too (no VALUE events): the writer's own layout.
    assert _streamed(case["input"], 2, whole_values=False, **opts) == _dumps(value, 2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values())
def test_generated_json_is_byte_identical(value: Any) -> None:
    text = toon_tools.encode(value)
    decoded = toon_tools.decode(text)
    for indent in INDENTS:
        assert _streamed(text, indent) == _dumps(decoded, indent)
    assert _streamed(text, 3, whole_values=False) == _dumps(decoded, 3)


def _check(path: Path, streaming: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(check_cmd, "STREAM_CHECK_BYTES", -1 if streaming else 1 << 62)
    return check_cmd.check_file((str(path), None), 2, None)


@pytest.mark.parametrize("case", fixture_cases("decode", errors=True))
def test_check_stream_reports_what_decode_reports(
        conformance: Path, case: dict[str, Any], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    opts = _opts(case)
    if not opts["strict"] or opts["indent_size"] != 2:
        pytest.skip("check is strict, --indent-size 2 here")
    path = tmp_path / "bad.toon"
    path.write_text(case["input"], encoding="utf-8", newline="")
    whole = _check(path, False, monkeypatch)
    streamed = _check(path, True, monkeypatch)
    assert whole.status == 1
    assert (streamed.status, streamed.diagnostics, streamed.report) == (
        whole.status, whole.diagnostics, whole.report)


def test_check_stream_of_bytes_decode_rejects(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Invalid UTF-8, a BOM, CRLF, a last line without or with a newline."""
    for data in (b"a: 1\nb: \xff\xfe\n", b"\xef\xbb\xbfa: 1\n  b: 2\n", b"a: 1\r\nb:\r\n  c: [2]: 1",
                 b"a[2]: 1\n", b"a: 1\n\n  b: 2", b"x: 1\n", b""):
        path = tmp_path / "f.toon"
        path.write_bytes(data)
        whole = _check(path, False, monkeypatch)
        streamed = _check(path, True, monkeypatch)
        assert (streamed.status, streamed.diagnostics, streamed.report) == (
            whole.status, whole.diagnostics, whole.report), data


# ----------------------------------------------------------------- the command

TABLE = "rows[3]{id,name}:\n  1,a\n  2,\"b c\"\n  3,ünï"


@pytest.mark.parametrize("indent", ["0", "2", "5"])
def test_decode_stdout_and_file_match_whole_path(tmp_path: Path, indent: str) -> None:
    src = tmp_path / "in.toon"
    src.write_text("meta:\n  name: x\n  tags[2]: a,b\n" + TABLE.replace("rows", "  rows")
                   .replace("\n  1", "\n    1").replace("\n  2", "\n    2")
                   .replace("\n  3", "\n    3") + "\nempty[0]:\nobj:\n", encoding="utf-8")
    whole = run_toon("decode", str(src), "--json-indent", indent, "--no-stream")
    streamed = run_toon("decode", str(src), "--json-indent", indent)
    assert whole.code == streamed.code == 0
    assert streamed.out == whole.out and streamed.out.endswith("\n")
    out = tmp_path / "out.json"
    assert run_toon("decode", str(src), "-o", str(out), "--json-indent", indent).code == 0
    assert out.read_text(encoding="utf-8") == whole.out
    piped = run_toon("decode", "--json-indent", indent, stdin=src.read_bytes())
    assert piped.out == whole.out


def test_decode_error_is_the_whole_paths(tmp_path: Path) -> None:
    src = tmp_path / "bad.toon"
    src.write_text("a: 1\nb[2]: x\n", encoding="utf-8")
    whole = run_toon("decode", str(src), "--no-stream")
    streamed = run_toon("decode", str(src))
    assert whole.code == streamed.code == 1
    assert streamed.err == whole.err and f"{src}:2:" in streamed.err
    assert streamed.out == ""  # an early error writes nothing
    bad_utf8 = run_toon("decode", stdin=b"a: 1\nb: \xff\n")
    assert bad_utf8.code == 1 and bad_utf8.err == run_toon(
        "decode", "--no-stream", stdin=b"a: 1\nb: \xff\n").err


def _long_table(rows: int, declared: int) -> str:
    body = "\n".join(f"  {i},name {i},{i / 4}" for i in range(rows))
    return f"[{declared}]{{id,name,score}}:\n{body}\n"


def test_late_error_keeps_the_json_written_and_spares_the_output_file(tmp_path: Path) -> None:
    src = tmp_path / "cut.toon"
    src.write_text(_long_table(20_000, 20_001), encoding="utf-8")  # one row missing
    whole = run_toon("decode", str(src), "--no-stream")
    streamed = run_toon("decode", str(src))
    assert streamed.code == whole.code == 1 and streamed.err == whole.err
    # The part already written stays, its line ended; the document is unfinished.
    assert streamed.out.startswith('[\n  {\n    "id": 0,') and streamed.out.endswith("\n")
    with pytest.raises(json.JSONDecodeError):
        json.loads(streamed.out)
    out = tmp_path / "out.json"
    out.write_text("keep me", encoding="utf-8")
    failed = run_toon("decode", str(src), "-o", str(out))
    assert failed.code == 1 and failed.err == whole.err
    assert out.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.toon", "out.json"]  # no temp left
    missing = tmp_path / "new.json"
    assert run_toon("decode", str(src), "-o", str(missing)).code == 1
    assert not missing.exists()


def test_output_file_keeps_its_mode_and_refuses_read_only(tmp_path: Path) -> None:
    src = tmp_path / "in.toon"
    src.write_text(TABLE, encoding="utf-8")
    out = tmp_path / "out.json"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o640)
    assert run_toon("decode", str(src), "-o", str(out)).code == 0
    assert out.stat().st_mode & 0o777 == 0o640 and json.loads(out.read_text())["rows"]
    out.chmod(0o444)
    refused = run_toon("decode", str(src), "-o", str(out))
    assert refused.code == 2 and f"{out}: Permission denied" in refused.err


def test_missing_input_is_an_io_error(tmp_path: Path) -> None:
    result = run_toon("decode", str(tmp_path / "nope.toon"))
    assert result.code == 2 and "nope.toon: No such file or directory" in result.err


# ----------------------------------------------------------- bounded memory

_PEAK_RSS = """
import resource, sys
from toon_tools.cli.main import main
try:
    main(sys.argv[1:])
finally:
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024, file=sys.stderr)
"""


def _peak_rss_mb(*args: str, cwd: Path | None = None) -> int:
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, *args], capture_output=True,
                          text=True, timeout=300, env={**os.environ}, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return int(proc.stderr.strip().splitlines()[-1])


@pytest.mark.slow
def test_decode_and_check_of_a_big_table_stay_small(tmp_path: Path) -> None:
    """10 MB of rows: decode and check grow the process by a few MB at most
    (the whole-document path grows it by hundreds), also where the pre-commit
    hooks run check: in a configured project, naming the file (which may then
    be a schema whose users must be re-checked)."""
    small, big = tmp_path / "small.toon", tmp_path / "big.toon"
    (tmp_path / "pyproject.toml").write_text("[tool.toon]\n", encoding="utf-8")
    small.write_text(_long_table(10, 10), encoding="utf-8")
    big.write_text(_long_table(350_000, 350_000), encoding="utf-8")
    assert big.stat().st_size > 10_000_000
    base = _peak_rss_mb("decode", str(small), "-o", str(tmp_path / "s.json"))
    decoded = _peak_rss_mb("decode", str(big), "-o", str(tmp_path / "b.json"))
    checked = _peak_rss_mb("check", "-q", str(big))
    in_project = _peak_rss_mb("check", "-q", "big.toon", cwd=tmp_path)
    assert decoded - base < 15, (base, decoded)
    assert checked - base < 15, (base, checked)
    assert in_project - base < 15, (base, in_project)
    assert json.loads((tmp_path / "b.json").read_text())[-1]["id"] == 349_999
