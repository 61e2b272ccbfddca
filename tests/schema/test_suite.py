"""The official JSON-Schema-Test-Suite, draft 2020-12 and draft 7, with every
test's data carried through TOON: the instance is encoded to TOON, and the TOON
text goes through what ``toon check`` runs per file (Schema.check_text: a strict
located decode, then validation). The verdict must be the suite's.

Where the suite comes from: JSON_SCHEMA_TEST_SUITE names its ``tests`` folder
(``.ci/run`` extracts it from the jsonschema 4.26.0 sdist); without it the test
skips, unless TOON_REQUIRE_SCHEMA_SUITE=1.

Skipped, as issue 13 allows:
- remote references: refRemote.json and every case whose schema names the suite's
  remote server (http://localhost:1234): toon check never fetches over the network;
- ``optional/`` (format assertion, bignum, ...): the format-assertion
  vocabulary is not claimed, ``format`` is an annotation. Two optional files
  run when jsonschema-rs gives the verdict, as it claims them: ECMA-262
  patterns (``optional/ecmascript-regex``, ``optional/non-bmp-regex``).
Draft-7 cases get ``$schema`` draft 7 added (as a draft-7 schema file says it);
boolean schemas mean the same in both drafts.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from toon_tools.codec import decode, encode
from toon_tools.schema.validate import Schema

SUITE = os.environ.get("JSON_SCHEMA_TEST_SUITE")
DRAFTS = {"draft2020-12": None, "draft7": "http://json-schema.org/draft-07/schema#"}
REMOTE = "localhost:1234"
FAST = importlib.util.find_spec("jsonschema_rs") is not None
#: Optional files whose rules the verdict claims (jsonschema-rs's ECMA-262 regexes).
OPTIONAL = ("ecmascript-regex", "non-bmp-regex") if FAST else ()

if not SUITE or not Path(SUITE).is_dir():
    if os.environ.get("TOON_REQUIRE_SCHEMA_SUITE"):
        raise RuntimeError("TOON_REQUIRE_SCHEMA_SUITE=1 but JSON_SCHEMA_TEST_SUITE does not "
                           f"name the suite's tests folder: {SUITE!r}")
    pytest.skip("set JSON_SCHEMA_TEST_SUITE to the JSON-Schema-Test-Suite tests folder",
                allow_module_level=True)


def _cases(draft: str) -> list[Any]:
    out = []
    folder = Path(SUITE) / draft  # type: ignore[arg-type]
    files = sorted(folder.glob("*.json")) + [folder / "optional" / f"{n}.json" for n in OPTIONAL]
    for file in files:
        if file.stem == "refRemote":
            continue
        for case in json.loads(file.read_text(encoding="utf-8")):
            if REMOTE in json.dumps(case["schema"]):
                continue
            name = file.relative_to(folder).with_suffix("").as_posix()
            out.append(pytest.param(draft, case, id=f"{draft}/{name}/{case['description']}"))
    return out


@pytest.mark.parametrize(("draft", "case"), [c for d in DRAFTS for c in _cases(d)])
def test_verdicts_through_toon_agree_with_the_suite(draft: str, case: dict[str, Any]) -> None:
    schema = case["schema"]
    if DRAFTS[draft] and isinstance(schema, dict) and "$schema" not in schema:
        schema = {**schema, "$schema": DRAFTS[draft]}
    checker = Schema.from_dict(schema)
    # With jsonschema-rs installed, its verdict decides: the suite must run
    # through it, not around it.
    assert (checker._fast is not None) == FAST
    wrong = []
    for test in case["tests"]:
        text = encode(test["data"])
        violations = checker.check_text(text)
        assert checker.is_valid(decode(text)) is (not violations)
        if (not violations) != test["valid"]:
            wrong.append((test["description"], text, [v.message for v in violations]))
        if violations:
            # Wording only where jsonschema-rs found problems says what one
            # jsonschema pass over the whole document says.
            assert _worded(checker, decode(text), targeted=True) == \
                _worded(checker, decode(text), targeted=False), test["description"]
    assert not wrong


def _worded(checker: Schema, value: Any, *, targeted: bool) -> list[tuple[Any, ...]]:
    saved = checker._targeted
    checker._targeted = targeted
    try:
        return sorted((p.pointer, p.message, p.rule, p.keyword, p.on_key)
                      for p in checker.problems(value))
    finally:
        checker._targeted = saved


def test_the_suite_is_there_and_large() -> None:
    # A moved or emptied folder must not pass as "nothing failed".
    assert sum(len(_cases(d)) for d in DRAFTS) > 500
