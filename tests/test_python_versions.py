"""The supported Pythons are said once each in pyproject.toml (requires-python, the
classifiers) and in .ci/run (which of them CI runs besides the default): they agree."""

from __future__ import annotations

import re
import sys
from pathlib import Path

tomllib = __import__("tomllib" if sys.version_info >= (3, 11) else "tomli")  # tomli on 3.10

REPO = Path(__file__).resolve().parents[1]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_requires_python_classifiers_and_ci_agree() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lowest = _version(project["requires-python"].removeprefix(">="))
    listed = sorted(_version(c.rsplit(" :: ", 1)[1]) for c in project["classifiers"]
                    if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c))
    assert listed[0] == lowest
    assert listed == [(3, minor) for minor in range(lowest[1], listed[-1][1] + 1)]
    ci = re.search(r"for v in ([\d. ]+); do \.ci/other-python", (REPO / ".ci/run").read_text())
    assert ci is not None
    assert {_version(v) for v in ci.group(1).split()} == {listed[0], listed[-1]}
    assert sys.version_info[:2] in listed
