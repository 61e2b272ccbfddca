"""Differential test against the TypeScript reference (@toon-format/toon 4.4.0).

One node process answers every example over a pipe (tests/oracle/oracle.mjs).
Our encode must equal the reference byte for byte, and our decode of the
reference's output must equal both the value and the reference's own decode.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import toon_tools
from tests.json_model import json_equal
from tests.strategies import documents

ORACLE = Path(__file__).resolve().parents[1] / "oracle"
EXAMPLES = 2000 if os.environ.get("CI") else 200


class Oracle:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def ask(self, request: dict[str, Any]) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply["ok"]


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    node = shutil.which("node")
    installed = (ORACLE / "node_modules" / "@toon-format" / "toon").is_dir()
    if node is None or not installed:
        if os.environ.get("TOON_REQUIRE_ORACLE") == "1":
            pytest.fail("TOON_REQUIRE_ORACLE=1 but node or tests/oracle/node_modules is missing "
                        "(run: npm ci --prefix tests/oracle)")
        pytest.skip("reference implementation not installed: npm ci --prefix tests/oracle")
    proc = subprocess.Popen([node, str(ORACLE / "oracle.mjs")], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        yield Oracle(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


delimiters = st.sampled_from([",", "\t", "|"])


@settings(max_examples=EXAMPLES)
@given(value=documents, delimiter=delimiters)
def test_encode_matches_reference(oracle: Oracle, value: Any, delimiter: str) -> None:
    expected = oracle.ask({"op": "encode", "value": value, "options": {"delimiter": delimiter}})
    assert toon_tools.encode(value, delimiter=delimiter) == expected


@settings(max_examples=EXAMPLES)
@given(value=documents, delimiter=delimiters)
def test_decode_of_reference_output(oracle: Oracle, value: Any, delimiter: str) -> None:
    text = oracle.ask({"op": "encode", "value": value, "options": {"delimiter": delimiter}})
    ours = toon_tools.decode(text)
    assert json_equal(ours, value, ordered_keys=False)
    assert json_equal(ours, oracle.ask({"op": "decode", "text": text}))


@pytest.mark.parametrize("text", [
    "a:\n  b: 1\n  c[2]{x,y}:\n    1,2\n    3,4",
    "[2:]{v}:\n  a: 1\n  b: 2",
    "items[2]:\n  - users[1]{id}:\n      1\n    n: 2\n  - x",
    "m[2:|]{a|b{c|d}}:\n  k1: 1|2|3\n  k2: x|\"y|z\"|null",
])
def test_decode_agrees_on_handwritten(oracle: Oracle, text: str) -> None:
    assert json_equal(toon_tools.decode(text), oracle.ask({"op": "decode", "text": text}))
