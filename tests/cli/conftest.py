"""Run the real ``toon`` entry point in a subprocess, as users do."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_toon(*args: str, stdin: str | bytes | None = None, cwd: Path | None = None,
             env: dict[str, str] | None = None) -> Result:
    data = stdin.encode("utf-8") if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "toon_tools", *args], input=data, capture_output=True,
        cwd=cwd, env={**os.environ, **(env or {})}, timeout=120,
    )
    result = Result(proc.returncode, proc.stdout.decode("utf-8", "replace"),
                    proc.stderr.decode("utf-8", "replace"))
    # The bar for every command: never a Python traceback.
    assert "Traceback" not in result.err, result.err
    return result


@pytest.fixture
def toon() -> object:
    return run_toon
