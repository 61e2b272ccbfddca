"""The compiled codec and its pure-Python fallback behave the same."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import toon_tools.codec._decoder as decoder_module
import toon_tools.codec._encoder as encoder_module

REPO = Path(__file__).resolve().parents[2]


def _compiled(module: object) -> bool:
    return not str(getattr(module, "__file__", "")).endswith(".py")


def test_codec_is_compiled_when_required() -> None:
    """.ci/run sets TOON_REQUIRE_COMPILED=1: a failed mypyc build must not pass silently."""
    if os.environ.get("TOON_REQUIRE_COMPILED") != "1":
        pytest.skip("set TOON_REQUIRE_COMPILED=1 to require the mypyc build")
    import toon_tools.codec._scalars as scalars_module
    import toon_tools.codec._stream as stream_module
    import toon_tools.codec._syntax as syntax_module

    modules = [decoder_module, encoder_module, scalars_module, stream_module, syntax_module]
    assert [m.__name__ for m in modules if not _compiled(m)] == []


@pytest.mark.slow
def test_pure_python_fallback_passes_the_codec_suite(tmp_path: Path) -> None:
    """Copy the sources without any compiled module and run the codec tests there."""
    if not _compiled(decoder_module):
        pytest.skip("already running the pure-Python codec")
    ignore = shutil.ignore_patterns("*.so", "*.pyd", "__pycache__")
    shutil.copytree(REPO / "toon_tools", tmp_path / "toon_tools", ignore=ignore)
    shutil.copytree(REPO / "tests", tmp_path / "tests", ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    # The dev hypothesis profile: this run checks that the fallback behaves like
    # the compiled build; the compiled run already does CI's deeper fuzzing.
    env = {**os.environ, "CI": "", "PYTHONPATH": str(tmp_path),
           "TOON_CONFORMANCE_DIR": os.environ.get(
               "TOON_CONFORMANCE_DIR", str(REPO.parent / "shared" / "conformance"))}
    probe = "import toon_tools.codec._decoder as d; print(d.__file__)"
    where = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, env=env,
                           capture_output=True, text=True, check=True).stdout
    assert where.strip().endswith(".py")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/codec/test_conformance.py", "tests/codec/test_properties.py",
         "tests/codec/test_hostile.py", "tests/codec/test_host_types.py",
         "tests/codec/test_tokens.py", "tests/codec/test_format.py",
         "tests/codec/test_stream.py", "tests/codec/test_syntax.py",
         "tests/codec/test_decode_fast_paths.py", "tests/codec/test_encoder_paths.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
