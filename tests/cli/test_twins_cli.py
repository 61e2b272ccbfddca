"""``toon twins`` as users run it (the twin logic itself: tests/hooks)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import run_toon


@pytest.mark.parametrize("name", ["nodir", "nodir/", "gone.md", "gone.toon"])
def test_a_named_path_that_does_not_exist_is_an_error(tmp_path: Path, name: str) -> None:
    # A typo in a CI step (`toon twins --check doc/`) must not pass as "all current".
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.toon").write_text("a: 1\n")
    r = run_toon("twins", "--check", name, "a.toon", cwd=tmp_path)
    assert r.code == 2, r
    assert f"toon: error: {name}: No such file or directory" in r.err.splitlines(), r.err
    assert "a.md: missing twin of a.toon" in r.out  # the other files are still checked
