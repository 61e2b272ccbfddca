"""One self-contained schema from a schema and its sibling files (issue 13,
item 5): every ``$ref`` to another file becomes a local ``#/$defs/...`` one, and
the bundle accepts exactly what the schema with its files accepts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from toon_tools.schema.bundle import bundle
from toon_tools.schema.skeleton import render_skeleton
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


def test_a_file_ref_in_the_roots_own_defs_is_inlined(tmp_path: Path) -> None:
    # Review 2, bug 4: the root's $defs were filled raw, then the rewritten ones lost.
    _write(tmp_path, "place.json", {"type": "object", "required": ["city"],
                                    "properties": {"city": {"type": "string"}}})
    root = _write(tmp_path, "r.json", {"type": "object", "$defs": {"p": {"$ref": "place.json"}},
                                       "properties": {"where": {"$ref": "#/$defs/p"}}})
    bundled = _agrees(root, [{"where": {"city": "Oslo"}}, {"where": {}}, {"where": "x"}])
    assert bundled["$defs"]["p"] == {"$ref": "#/$defs/place"}
    assert bundled["$defs"]["place"]["required"] == ["city"]
    # What the prompt's skeleton (and the payloads built from the bundle) see.
    assert render_skeleton(bundled) == "where:\n  city: <text>"


def test_escaped_fragments_and_file_names(tmp_path: Path) -> None:
    # ~1, ~0 and %-escapes in a fragment name the raw keys "a/b", "t~x" and "a b".
    _write(tmp_path, "p.json", {"$defs": {"a/b": {"type": "integer"}, "t~x": {"minimum": 3},
                                          "a b": {"type": "boolean"},
                                          "n%": {"type": "object", "properties": {
                                              "c/d": {"type": "string"}}}}})
    _write(tmp_path, "my file.json", {"type": "string"})
    root = _write(tmp_path, "r.json", {"type": "object", "$defs": {"x y": {"type": "null"}},
                                       "properties": {
        "a": {"$ref": "p.json#/$defs/a~1b"}, "t": {"$ref": "p.json#/$defs/t~0x"},
        "s": {"$ref": "p.json#/$defs/a%20b"}, "f": {"$ref": "my%20file.json"},
        "d": {"$ref": "p.json#/$defs/n%25/properties/c~1d"}, "x": {"$ref": "#/$defs/x%20y"}}})
    _agrees(root, [{"a": 1, "t": 3, "s": True, "f": "s", "d": "s", "x": None},
                   {"a": "s"}, {"t": 2}, {"s": 1}, {"f": 1}, {"d": 1}, {"x": 1}])


def test_anchors_become_pointers(tmp_path: Path) -> None:
    # An anchor used inside a sibling, and one named from the root; the root has
    # an anchor of the same name, which must keep meaning its own schema.
    _write(tmp_path, "p.json", {"$defs": {"c": {"$anchor": "city", "type": "string"}},
                                "type": "object", "properties": {"x": {"$ref": "#city"}}})
    root = _write(tmp_path, "r.json", {"type": "object", "properties": {
        "a": {"$ref": "p.json"}, "b": {"$ref": "p.json#city"}, "n": {"$ref": "#city"}},
        "$defs": {"mine": {"$anchor": "city", "type": "integer"}}})
    _agrees(root, [{"a": {"x": "s"}, "b": "s", "n": 1}, {"a": {"x": 1}}, {"b": 1}, {"n": "s"}])


def test_an_anchor_of_a_root_with_an_id_named_from_a_sibling(tmp_path: Path) -> None:
    root = _write(tmp_path, "r.json", {
        "$id": "https://example.com/s/r.json", "type": "object",
        "properties": {"a": {"$ref": "p.json"}},
        "$defs": {"n": {"$anchor": "num", "type": "integer"}}})
    _write(tmp_path, "p.json", {"properties": {"x": {"$ref": "r.json#num"},
                                               "y": {"$ref": "r.json#/$defs/n"}}})
    bundled = _agrees(root, [{"a": {"x": 1, "y": 2}}, {"a": {"x": "s"}}, {"a": {"y": "s"}}])
    assert bundled["$defs"]["p"]["properties"]["x"] == {"$ref": "#/$defs/n"}


def test_a_nested_id_changes_the_base(tmp_path: Path) -> None:
    _write(tmp_path, "q.json", {"type": "string"})
    _write(tmp_path, "sub/q.json", {"type": "integer"})
    # In the root: "$id": "sub/" makes q.json sub/q.json.
    root = _write(tmp_path, "r.json", {"type": "object", "properties": {
        "a": {"$id": "sub/", "$ref": "q.json"}, "b": {"$ref": "q.json"},
        "c": {"$ref": "p.json"}}})
    # In a sibling: an embedded resource whose #/$defs/k is its own, not the file's.
    _write(tmp_path, "p.json", {"type": "object", "$defs": {"k": {"type": "string"}},
                                "properties": {
        "x": {"$id": "http://example.com/x.json", "$defs": {"k": {"type": "integer"}},
              "$ref": "#/$defs/k"},
        "y": {"$ref": "#/$defs/k"}}})
    _agrees(root, [{"a": 1, "b": "s", "c": {"x": 1, "y": "s"}}, {"a": "s"}, {"b": 1},
                   {"c": {"x": "s"}}, {"c": {"y": 1}}])


def test_a_draft7_sibling_is_converted_into_a_2020_12_root(tmp_path: Path) -> None:
    _write(tmp_path, "p.json", {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": {"i": {"type": "integer"}},
        "type": "object",
        "properties": {
            "t": {"items": [{"type": "integer"}, {"$ref": "#/definitions/i"}],
                  "additionalItems": False},
            "r": {"$ref": "#/definitions/i", "type": "string"},  # draft 7: type ignored
            "u": {"items": {"type": "string"}, "additionalItems": False}},
        "dependencies": {"a": ["b"], "c": {"required": ["d"]}}})
    root = _write(tmp_path, "r.json", {"type": "object", "properties": {
        "p": {"$ref": "p.json"}, "second": {"$ref": "p.json#/properties/t/items/1"},
        "more": {"$ref": "p.json#/properties/t/additionalItems"}}})
    bundled = _agrees(root, [
        {"p": {"t": [1, 2], "r": 3, "u": ["a", "b"]}, "second": 1, "more": 1},
        {"p": {"t": [1, 2, 3]}}, {"p": {"t": ["s"]}}, {"p": {"r": "s"}}, {"p": {"u": [1]}},
        {"p": {"a": 1}}, {"p": {"a": 1, "b": 2}}, {"p": {"c": 1}}, {"p": {"c": 1, "d": 1}},
        {"second": "s"}, {"more": 1}])
    assert bundled["$defs"]["p"]["properties"]["t"]["prefixItems"][1] == {"$ref": "#/$defs/p.i"}
    assert bundled["$defs"]["p"]["properties"]["r"] == {"$ref": "#/$defs/p.i"}


@pytest.mark.parametrize("files, root, match", [
    ({"p.json": {"$schema": "https://json-schema.org/draft/2020-12/schema",
                 "prefixItems": [{"type": "integer"}]}},
     {"$schema": "http://json-schema.org/draft-07/schema#",
      "properties": {"a": {"$ref": "p.json"}}}, "'p.json'.*2020-12.*draft-07"),
    ({"p.json": {"$dynamicAnchor": "n", "type": "integer"}},
     {"properties": {"a": {"$ref": "p.json"}, "b": {"$ref": "q.json"}}},
     "'q.json'.*dynamic"),
    ({"p.json": {"$defs": {"k": {"type": "integer"}}}},
     {"properties": {"a": {"$ref": "p.json#/$defs"}}}, r"'p.json#/\$defs'"),
], ids=["2020-12 file into draft 7", "one dynamic anchor twice", "the defs map itself"])
def test_what_cannot_be_bundled_is_refused_naming_the_ref(
        tmp_path: Path, files: dict[str, Any], root: dict[str, Any], match: str) -> None:
    files.setdefault("q.json", {"$dynamicAnchor": "n", "type": "string"})
    for name, contents in files.items():
        _write(tmp_path, name, contents)
    path = _write(tmp_path, "r.json", root)
    loaded = Schema.load(path)
    with pytest.raises(SchemaError, match=match):
        bundle(loaded.schema, path)
