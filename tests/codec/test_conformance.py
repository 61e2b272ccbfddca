"""The official language-agnostic fixtures (FIXTURES.md), run as data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import toon_tools
from tests.conftest import fixture_cases
from tests.json_model import json_equal


def _decode_opts(options: dict[str, Any]) -> dict[str, Any]:
    return {"strict": options.get("strict", True), "indent_size": options.get("indentSize", 2)}


def _encode_opts(options: dict[str, Any]) -> dict[str, Any]:
    opts = {}
    if "delimiter" in options:
        opts["delimiter"] = options["delimiter"]
    if "indentSize" in options:
        opts["indent_size"] = options["indentSize"]
    return opts


@pytest.mark.parametrize("case", fixture_cases("decode"))
def test_decode_fixture(conformance: Path, case: dict[str, Any]) -> None:
    opts = _decode_opts(case.get("options", {}))
    if case.get("shouldError"):
        with pytest.raises(toon_tools.ToonDecodeError) as info:
            toon_tools.decode(case["input"], **opts)
        assert info.value.line >= 1 and info.value.column >= 1
    else:
        assert json_equal(toon_tools.decode(case["input"], **opts), case["expected"])


@pytest.mark.parametrize("case", fixture_cases("encode"))
def test_encode_fixture(conformance: Path, case: dict[str, Any]) -> None:
    opts = _encode_opts(case.get("options", {}))
    out = toon_tools.encode(case["input"], **opts)
    assert out == case["expected"]
    # Whatever we emit must decode back to the input (§2 round trip).
    back = toon_tools.decode(out, indent_size=opts.get("indent_size", 2))
    assert json_equal(back, case["input"], ordered_keys=False)


def test_fixture_counts(conformance: Path) -> None:
    """The suite this repo targets: 173 encode and 343 decode cases (spec v4.0)."""
    counts = {}
    for kind in ("encode", "decode"):
        counts[kind] = sum(
            len(json.loads(p.read_text(encoding="utf-8"))["tests"])
            for p in (conformance / "fixtures" / kind).glob("*.json")
        )
    assert counts == {"encode": 173, "decode": 343}


def test_examples_decode(conformance: Path) -> None:
    """examples/valid decode; examples/invalid fail; conversions agree with JSON."""
    examples = conformance / "examples"
    for path in sorted((examples / "valid").glob("*.toon")):
        toon_tools.decode(path.read_bytes())
    for path in sorted((examples / "invalid").glob("*.toon")):
        with pytest.raises(toon_tools.ToonDecodeError):
            toon_tools.decode(path.read_bytes())
    for path in sorted((examples / "conversions").glob("*.toon")):
        expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        assert json_equal(toon_tools.decode(path.read_bytes()), expected), path.name
        assert toon_tools.encode(expected) == path.read_text(encoding="utf-8").rstrip("\n")
