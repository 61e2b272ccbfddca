"""Shared test configuration: hypothesis profiles and the conformance folder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]

# CI runs more examples; locally the default keeps the suite quick.
settings.register_profile("ci", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=100, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def conformance_dir() -> Path | None:
    """The shared TOON conformance suite, or None when it is not beside the repo."""
    path = Path(os.environ.get("TOON_CONFORMANCE_DIR", REPO.parent / "shared" / "conformance"))
    return path if (path / "fixtures").is_dir() else None


def fixture_cases(kind: str, errors: bool | None = None) -> list[Any]:
    """The conformance suite's ``kind`` ("encode" or "decode") cases as pytest
    params, each named by its file and test; with ``errors``, only the cases that
    must fail (True) or must not (False). Without the suite, one placeholder case,
    so that the ``conformance`` fixture decides: skip locally, fail under
    TOON_REQUIRE_CONFORMANCE=1."""
    root = conformance_dir()
    if root is None:
        return [pytest.param(None, id="suite-missing")]
    cases = []
    for path in sorted((root / "fixtures" / kind).glob("*.json")):
        for test in json.loads(path.read_text(encoding="utf-8"))["tests"]:
            if errors is None or bool(test.get("shouldError")) == errors:
                cases.append(pytest.param(test, id=f"{path.stem}: {test['name']}"))
    return cases


@pytest.fixture(scope="session")
def conformance() -> Path:
    path = conformance_dir()
    if path is None:
        if os.environ.get("TOON_REQUIRE_CONFORMANCE") == "1":
            pytest.fail("TOON_REQUIRE_CONFORMANCE=1 but no conformance suite was found "
                        "(set TOON_CONFORMANCE_DIR)")
        pytest.skip("conformance suite not found: set TOON_CONFORMANCE_DIR "
                    "or place it at ../shared/conformance")
    return path
