"""schema/mapping.py: the '# schema:' first line, and which changed files can be
schemas (what decides whether a check walks the project for their users)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toon_tools.config import load_config
from toon_tools.schema.mapping import SCHEMA_SCAN_BYTES, may_be_schema, named_schema


def test_the_first_line_names_the_schema_after_a_byte_order_mark() -> None:
    assert named_schema(b"\xef\xbb\xbf# schema: s.json\na: 1\n") == "s.json"
    assert named_schema(b"# schema: s.json\r\na: 1\n") == "s.json"
    assert named_schema(b"a: 1\n# schema: s.json\n") is None


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("package.json", {"name": "x", "version": "1.0", "dependencies": {"a": "^1"}}, False),
    ("tsconfig.json", {"$schema": "https://json.schemastore.org/tsconfig",
                       "compilerOptions": {"strict": True}}, False),
    ("s.json", {"type": "object"}, True),
    ("defs.json", {"$defs": {"n": {"minimum": 1}}}, True),  # a $ref target
    ("closed.json", {"properties": {"a": {}}, "additionalProperties": False}, True),
    ("ref.json", {"$ref": "other.json"}, True),
    ("false.json", False, True),
    ("open.json", {"properties": {"a": {}}, "title": "accepts anything"}, False),
    ("kind.json", {"type": "admin", "items": [{"sku": 1}]}, False),
])
def test_json_files_that_can_be_schemas(tmp_path: Path, name: str, content: object,
                                        expected: bool) -> None:
    cfg = load_config(tmp_path)
    assert may_be_schema(tmp_path / name, json.dumps(content).encode(), cfg) is expected


@pytest.mark.parametrize(("content", "expected"), [
    (b"users[2]{id,name}:\n  1,Ada\n  2,Bob\n", False),
    (b"type: object\nrequired[1]: id\n", True),
    (b"\xef\xbb\xbfproperties:\n  n:\n    minimum: 1\n", True),
    (b"a[2]: 1\n", True),  # not a valid document: it may be a broken schema
])
def test_toon_files_that_can_be_schemas(tmp_path: Path, content: bytes, expected: bool) -> None:
    assert may_be_schema(tmp_path / "x.toon", content, load_config(tmp_path)) is expected


def test_a_file_too_long_to_read_may_be_a_schema(tmp_path: Path) -> None:
    """A data table that is passed over when short is, past SCHEMA_SCAN_BYTES,
    taken for a possible schema unread (its users are looked for), so that
    ``toon check`` naming it never holds it whole; its first bytes suffice."""
    rows = b"".join(b"  %d,Ada\n" % i for i in range(SCHEMA_SCAN_BYTES // 8))
    table = b"users[%d]{id,name}:\n" % (SCHEMA_SCAN_BYTES // 8) + rows
    assert len(table) > SCHEMA_SCAN_BYTES
    cfg = load_config(tmp_path)
    assert may_be_schema(tmp_path / "x.toon", table, cfg) is True
    assert may_be_schema(tmp_path / "x.toon", table[:SCHEMA_SCAN_BYTES + 1], cfg) is True
    assert may_be_schema(tmp_path / "x.toon", b"users[1]{id,name}:\n  1,Ada\n", cfg) is False


def test_a_schema_the_table_names_always_can_be_one(tmp_path: Path) -> None:
    (tmp_path / ".toon.toml").write_text('[schemas]\n"*.toon" = "open.json"\n')
    cfg = load_config(tmp_path)
    assert may_be_schema(tmp_path / "open.json", b"{}", cfg) is True
    assert may_be_schema(tmp_path / "other.json", b"{}", cfg) is False
    assert may_be_schema(tmp_path / "notes.txt", b"type: object", cfg) is False


@pytest.mark.parametrize("content", [
    {"patternProperties": {"^_": False}},
    {"properties": {"x": False}},
    {"allOf": [False]}, {"anyOf": [False]}, {"oneOf": [{"title": "t"}, False]},
    {"prefixItems": [True, False]},
    {"dependentSchemas": {"a": False}},
    {"not": True}, {"contains": True},
    {"properties": {"a": {"items": [False]}}},  # draft 7's tuple form, nested
])
def test_a_false_subschema_anywhere_asserts(tmp_path: Path, content: object) -> None:
    assert may_be_schema(tmp_path / "s.json", json.dumps(content).encode(),
                         load_config(tmp_path)) is True


def test_not_false_accepts_everything(tmp_path: Path) -> None:
    assert may_be_schema(tmp_path / "s.json", b'{"not": false, "title": "open"}',
                         load_config(tmp_path)) is False


def test_a_file_too_deep_to_read_may_be_a_schema(tmp_path: Path) -> None:
    """Read through the project's one JSON reader: a nesting past the parser's
    stack is a read failure (it may be a broken schema), not a RecursionError."""
    deep = b"[" * 100_000
    assert may_be_schema(tmp_path / "deep.json", deep, load_config(tmp_path)) is True
    assert may_be_schema(tmp_path / "big.json", b'{"n": 1' + b"0" * 5000 + b"}",
                         load_config(tmp_path)) is True  # past the digit limit: unreadable
