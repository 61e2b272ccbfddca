"""Schema inference (issue 13 item 6): what is inferred, the enum rule, and the
properties that matter: every input satisfies the schema, and the result is
deterministic and the same whether shapes are merged or values added in turn."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import documents
from toon_tools.codec import decode
from toon_tools.schema.infer import (
    DIALECT,
    ENUM_MAX,
    FREE_TEXT,
    MAX_DEPTH,
    Shape,
    document_schema,
    infer_schema,
)

USERS = "users[4]{id,name,role}:\n  1,Ada,admin\n  2,Bob,user\n  3,Cy,user\n  4,Di,user\n"


def validator(schema: dict[str, Any]) -> Any:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def test_types_required_and_nested_objects() -> None:
    docs = [{"id": 1, "name": "Ada", "owner": {"login": "ada", "admin": True}},
            {"id": 2, "name": "Bob", "owner": {"login": "bob"}, "note": None}]
    assert infer_schema(docs) == {
        "$schema": DIALECT,
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "owner": {"type": "object",
                      "properties": {"login": {"type": "string"},
                                     "admin": {"type": "boolean"}},
                      "required": ["login"]},
            "note": {"type": "null"},
        },
        "required": ["id", "name", "owner"],
    }


def test_integer_and_fraction_make_a_number() -> None:
    schema = infer_schema([{"n": 1}, {"n": 1.5}, {"m": 2}])
    assert schema["properties"] == {"n": {"type": "number"}, "m": {"type": "integer"}}
    # A float written with a fraction is a number even when it is whole (§2).
    assert infer_schema([decode("x: 1.0")])["properties"]["x"] == {"type": "number"}


def test_null_joins_the_type_union_sorted() -> None:
    schema = infer_schema([{"a": "x"}, {"a": None}, {"a": 3}])
    assert schema["properties"]["a"] == {"type": ["integer", "null", "string"]}


def test_array_items_are_merged_over_every_item() -> None:
    text = ("rows[3]{id,tag}:\n  1,a\n  2,b\n  3,\n"
            "mixed[3]: 1,2.5,x\n"
            "objs[2]:\n  - k: 1\n  - k: 2\n    extra: true\n"
            "empty[0]:\n")
    schema = infer_schema([decode(text)])
    props = schema["properties"]
    assert props["rows"]["items"] == {
        "type": "object", "properties": {"id": {"type": "integer"}, "tag": {"type": "string"}},
        "required": ["id", "tag"]}
    assert props["mixed"]["items"] == {"type": ["number", "string"]}
    assert props["objs"]["items"]["required"] == ["k"]
    assert props["empty"] == {"type": "array"}  # never an item: any item goes


def test_items_merge_across_documents() -> None:
    schema = infer_schema([{"xs": [1, 2]}, {"xs": []}, {"xs": [None]}])
    assert schema["properties"]["xs"] == {"type": "array",
                                          "items": {"type": ["integer", "null"]}}


def test_enum_for_a_small_closed_set_seen_often_enough() -> None:
    roles = ["admin", "user", "user", "guest", "user", "admin", "guest", "user", "admin"]
    schema = infer_schema([{"role": r} for r in roles])
    assert schema["properties"]["role"] == {"type": "string",
                                            "enum": ["admin", "guest", "user"]}
    # null beside the strings is one more allowed value
    schema = infer_schema([{"role": r} for r in roles] + [{"role": None}])
    assert schema["properties"]["role"]["enum"] == ["admin", "guest", "user", None]


@pytest.mark.parametrize("values", [
    ["a", "b", "a", "b", "a"],                      # 5 instances < 3 x 2 distinct
    ["only"],                                       # one value once is a sample, not a set
    [f"v{i % (ENUM_MAX + 1)}" for i in range(100)],  # too many distinct values
    ["x" * (FREE_TEXT + 1)] * 10,                   # free text, however often
    ["line\nbreak"] * 10,
    ["a", "a", "a", 1, 1, 1],                       # not only strings
])
def test_no_enum(values: list[Any]) -> None:
    schema = infer_schema([{"v": v} for v in values])
    assert "enum" not in schema["properties"]["v"]


def test_title_and_closed_objects() -> None:
    schema = infer_schema([{"a": {"b": 1}}], title="Things", closed=True)
    assert list(schema)[:3] == ["$schema", "title", "type"]
    assert schema["title"] == "Things"
    assert schema["additionalProperties"] is False
    assert schema["properties"]["a"]["additionalProperties"] is False
    v = validator(schema)
    assert v.is_valid({"a": {"b": 2}}) and not v.is_valid({"a": {"b": 2, "c": 3}})


def test_key_order_is_first_seen_and_the_rest_is_sorted() -> None:
    schema = infer_schema([{"z": 1, "a": 1}, {"m": 1, "z": 2, "a": 3}])
    assert list(schema["properties"]) == ["z", "a", "m"]
    assert schema["required"] == ["a", "z"]


def test_no_documents_allow_anything() -> None:
    assert infer_schema([]) == {"$schema": DIALECT}


def test_deep_nesting_is_left_free_past_the_limit() -> None:
    doc: Any = "leaf"
    for _ in range(MAX_DEPTH + 40):
        doc = {"k": [doc]}
    schema = infer_schema([doc])
    json.dumps(schema)  # no recursion error anywhere on the way
    assert validator(schema).is_valid(doc)
    assert not validator(schema).is_valid({"k": "not a list"})


def test_subclasses_count_as_their_json_types() -> None:
    import enum
    from collections import OrderedDict

    class Level(enum.IntEnum):
        LOW = 1

    class Tag(str):
        pass

    docs = [OrderedDict(level=Level.LOW, tag=Tag("a"), on=True)] + [{"tag": "a"}] * 2
    schema = infer_schema(docs)
    assert schema["properties"] == {"level": {"type": "integer"},
                                    "tag": {"type": "string", "enum": ["a"]},
                                    "on": {"type": "boolean"}}


def test_shapes_cross_process_boundaries() -> None:
    import pickle

    shape = Shape()
    shape.add(decode(USERS))
    back = pickle.loads(pickle.dumps(shape))
    assert json.dumps(document_schema(back)) == json.dumps(document_schema(shape))


def test_not_json_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not a JSON value: set"):
        infer_schema([{"a": {1}}])


@settings(max_examples=30, deadline=None)
@given(docs=st.lists(documents, min_size=1, max_size=4))
def test_every_input_satisfies_the_inferred_schema(docs: list[Any]) -> None:
    schema = infer_schema(docs)
    v = validator(schema)
    for doc in docs:
        assert not list(v.iter_errors(doc)), (doc, schema)
    # deterministic, down to the text
    assert json.dumps(infer_schema(docs)) == json.dumps(schema)


@settings(max_examples=20, deadline=None)
@given(docs=st.lists(documents, min_size=2, max_size=5), cut=st.integers(0, 5))
def test_merging_and_batching_equal_adding_in_turn(docs: list[Any], cut: int) -> None:
    """What lets workers summarise files on their own: the merged shapes of
    two halves give the same schema text as one pass over all; and the column
    at a time path (add_all) agrees with the value at a time one."""
    first, second = Shape(), Shape()
    for d in docs[:cut]:
        first.add(d)
    for d in docs[cut:]:
        second.add(d)
    first.merge(second)
    one_pass = json.dumps(infer_schema(docs))
    assert json.dumps(document_schema(first)) == one_pass
    # and adding documents one by one is the same as adding them as a column
    batch = Shape()
    batch.add_all(docs)
    assert json.dumps(document_schema(batch)) == one_pass
