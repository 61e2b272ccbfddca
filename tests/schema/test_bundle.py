"""One self-contained schema from a schema and its sibling files (issue 13,
item 5): every ``$ref`` to another file becomes a local ``#/$defs/...`` one, and
the bundle accepts exactly what the schema with its files accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toon_tools.schema.bundle import bundle
from toon_tools.schema.validate import Schema, SchemaError


def _write(folder: Path, name: str, schema: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema))
    return path


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for k, v in node.items() if k not in ("enum", "const") for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _agrees(path: Path, instances: list[Any]) -> dict[str, Any]:
    """The bundle of ``path``, after checking that it judges every instance as the
    schema with its files does, and that it needs no file."""
    loaded = Schema.load(path)
    bundled = bundle(loaded.schema, path)
    assert all(r.startswith("#") for r in _refs(bundled)), _refs(bundled)
    alone = Schema.from_dict(bundled)  # no base: a file ref left would be an error
    for value in instances:
        assert alone.is_valid(value) == loaded.is_valid(value), value
    return bundled


def test_a_sibling_file_becomes_a_local_def(tmp_path: Path) -> None:
    _write(tmp_path, "place.json", {"type": "object", "required": ["city"],
                                    "properties": {"city": {"type": "string"}}})
    scene = _write(tmp_path, "scene.json", {"type": "object", "properties": {
        "where": {"$ref": "place.json"}, "also": {"$ref": "./place.json"}}})
    bundled = _agrees(scene, [{"where": {"city": "Oslo"}}, {"where": {}}, {"also": {"city": 1}}])
    assert bundled["properties"] == {"where": {"$ref": "#/$defs/place"},
                                     "also": {"$ref": "#/$defs/place"}}
    assert bundled["$defs"]["place"]["properties"] == {"city": {"type": "string"}}


def test_fragments_defs_of_a_sibling_and_its_own_refs_follow(tmp_path: Path) -> None:
    _write(tmp_path, "lib/common.json", {
        "$defs": {"City": {"type": "string", "minLength": 2},
                  "Place": {"type": "object", "properties": {"city": {"$ref": "#/$defs/City"},
                                                             "zip": {"$ref": "zip.toon"}}}}})
    (tmp_path / "lib" / "zip.toon").write_text('type: string\npattern: "^[0-9]{4}$"\n')
    root = _write(tmp_path, "s.json", {
        "type": "object",
        "$defs": {"City": {"type": "integer"}},  # a name the sibling's hoisted defs must avoid
        "properties": {"home": {"$ref": "lib/common.json#/$defs/Place"},
                       "n": {"$ref": "#/$defs/City"},
                       "town": {"$ref": "lib/common.json#/$defs/City"}}})
    bundled = _agrees(root, [
        {"home": {"city": "Oslo", "zip": "0150"}, "n": 3, "town": "Rome"},
        {"home": {"city": "O"}}, {"home": {"zip": "15"}}, {"n": "x"}, {"town": "R"}])
    assert bundled["properties"]["home"] == {"$ref": "#/$defs/common.Place"}
    assert bundled["$defs"]["City"] == {"type": "integer"}
    assert bundled["$defs"]["common.Place"]["properties"]["city"] == \
        {"$ref": "#/$defs/common.City"}


def test_a_cycle_of_files_becomes_local_refs_in_a_cycle(tmp_path: Path) -> None:
    _write(tmp_path, "b.json", {"type": "object", "properties": {"a": {"$ref": "a.json"}}})
    a = _write(tmp_path, "a.json", {"type": "object", "properties": {
        "b": {"$ref": "b.json"}, "n": {"type": "integer"}}})
    bundled = _agrees(a, [{"b": {"a": {"n": 1, "b": {}}}}, {"b": {"a": {"n": "x"}}}])
    assert bundled["$defs"]["b"]["properties"]["a"] == {"$ref": "#"}


def test_a_schema_without_file_refs_is_unchanged(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"$ref": "#/$defs/A"}},
              "$defs": {"A": {"enum": [{"$ref": "x.json"}]}}}
    assert bundle(schema, tmp_path) is schema


def test_a_ref_that_cannot_be_followed_names_it(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="'https://example.org/x.json'"):
        bundle({"properties": {"a": {"$ref": "https://example.org/x.json"}}}, tmp_path)
