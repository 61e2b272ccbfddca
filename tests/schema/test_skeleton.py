"""The TOON skeleton a JSON Schema describes (issue 13, items 5 and 6): one line per
field, descriptions as ``#`` comment lines (§5.1), enums as ``a|b|c``, arrays of flat
objects as a tabular header. A skeleton with its placeholders filled in decodes."""

from __future__ import annotations

import re
from typing import Any

from toon_tools.codec import decode
from toon_tools.schema.skeleton import build_skeleton, render_skeleton

SCENES: dict[str, Any] = {
    "description": "The scenes of a novel.",
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "The book's title", "maxLength": 80},
        "status": {"enum": ["draft", "final"]},
        "year": {"type": "integer", "minimum": 1900},
        "done": {"type": "boolean"},
        "scenes": {"type": "array", "items": {"$ref": "#/$defs/Scene"}},
        "author": {"type": "object", "properties": {
            "name": {"type": "string"},
            "born": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}},
    },
    "$defs": {"Scene": {"type": "object", "properties": {
        "title": {"type": "string", "description": "A short title"},
        "summary": {"type": "string"}}}},
}


def test_a_schema_renders_with_its_descriptions_as_comments() -> None:
    assert render_skeleton(SCENES) == "\n".join([
        "# The scenes of a novel.",
        "# The book's title (at most 80 characters)",
        "title: <text>",
        "status: draft|final",
        "# at least 1900",
        "year: <integer>",
        "done: true|false",
        "# title: A short title",
        "scenes[N]{title,summary}:",
        "  <text>,<text>",
        "  ...",
        "author:",
        "  name: <text>",
        "  born: <integer>",
        "# N is the number of scenes written.",
    ])


def test_lists_of_texts_match_the_required_shorthand() -> None:
    schema = {"type": "object", "properties": {
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3},
        "more": {"type": "array", "items": {"type": "string"}},
        "many": {"type": "array", "items": {"type": "string"}, "minItems": 40, "maxItems": 40}}}
    sk = build_skeleton(schema)
    assert sk.text == ("title: <text>\ntags[3]: <text>,<text>,<text>\n"
                       "more[N]: <text>,<text>,...\nmany[40]: <text>,<text>,...")
    assert sk.notes == ("N is the number of more written.", "Write exactly 40 texts in many.")


def test_lists_of_nested_objects_are_list_items_with_their_comments_above() -> None:
    schema = {"type": "object", "properties": {"chapters": {"type": "array", "items": {
        "type": "object", "properties": {
            "name": {"type": "string", "description": "chapter name"},
            "parts": {"type": "array", "items": {"type": "string"}}}}}}}
    assert build_skeleton(schema).text == "\n".join([
        "chapters[N]:",
        "  # chapter name",
        "  - name: <text>",
        "    parts[N]: <text>,<text>,...",
        "  - ...",
    ])


def test_filled_in_the_skeleton_decodes_and_comments_are_stripped() -> None:
    text = build_skeleton(SCENES).text.replace("  ...\n", "")
    for placeholder, value in [("<text>", "x"), ("draft|final", "draft"), ("<integer>", "1"),
                               ("true|false", "true"), ("[N]", "[1]")]:
        text = text.replace(placeholder, value)
    assert decode(text) == {"title": "x", "status": "draft", "year": 1, "done": True,
                            "scenes": [{"title": "x", "summary": "x"}],
                            "author": {"name": "x", "born": 1}}


def test_keys_are_quoted_when_toon_needs_it_and_unknown_refs_show_a_value() -> None:
    schema = {"type": "object", "properties": {"my key": {"type": "number"},
                                               "x": {"$ref": "other.json#/X"},
                                               "when": {"type": "string", "format": "date"}}}
    assert build_skeleton(schema).text == '"my key": <number>\nx: <value>\nwhen: <date>'


def test_a_recursive_schema_ends() -> None:
    schema = {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "properties": {
        "name": {"type": "string"}, "child": {"$ref": "#/$defs/Node"}}}}}
    text = build_skeleton(schema).text
    assert text.startswith("name: <text>\nchild:\n  name: <text>")
    assert text.rstrip().endswith("<value>")


def test_enum_values_that_would_blur_the_choice_are_quoted() -> None:
    schema = {"type": "object", "properties": {
        "mood": {"enum": ["dark", "a|b", "with space", "", " x", "<text>", "true", 1, None]},
        "code": {"const": "x|y"},
        "tags": {"type": "array", "items": {"enum": ["x y", "1"]}}}}
    lines = render_skeleton(schema).splitlines()
    assert lines[:3] == ['mood: dark|"a|b"|"with space"|""|" x"|"<text>"|"true"|1|null',
                         'code: "x|y"', 'tags[N]: "x y"|"1","x y"|"1",...']
    # Split at the bars outside quotes, each choice copied as shown decodes to its value.
    choices = re.findall(r'"(?:[^"\\]|\\.)*"|[^|"]+', lines[0].removeprefix("mood: "))
    assert [decode(f"v: {c}")["v"] for c in choices] == ["dark", "a|b", "with space", "", " x",
                                                          "<text>", "true", 1, None]
