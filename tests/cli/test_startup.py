"""Start-up stays light: help and check never import heavy dependencies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("tiktoken", "fitz", "pymupdf", "markdown_it", "diskcache", "concurrent.futures.process")

PROBE = """
import json, sys
from toon_tools.cli.main import cli
try:
    cli.main(args=sys.argv[1:], prog_name="toon")
except SystemExit:
    pass
sys.stderr.write("\\nHEAVY=" + json.dumps([m for m in {heavy!r} if m in sys.modules]))
"""


@pytest.mark.parametrize("args", [["--help"], ["check", "{file}"], ["fmt", "--check", "{file}"],
                                  ["encode", "--help"]])
def test_no_heavy_imports(tmp_path: Path, args: list[str]) -> None:
    f = tmp_path / "x.toon"
    f.write_text("a: 1\n")
    argv = [a.format(file=f) for a in args]
    proc = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *argv],
                          capture_output=True, text=True, timeout=60)
    loaded = json.loads(proc.stderr.rsplit("HEAVY=", 1)[1])
    assert loaded == []
