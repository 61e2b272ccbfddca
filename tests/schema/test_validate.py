"""schema/validate.py: loading (JSON, TOON, sibling $ref, offline), drafts, and
problems placed at the offending value in the TOON text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toon_tools.codec import ToonDecodeError, decode_located
from toon_tools.schema.validate import Schema, SchemaError

USER = {
    "type": "object",
    "required": ["name", "email"],
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0},
        "address": {"$ref": "common/address.json"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "object",
                                            "properties": {"n": {"type": "integer"}}}},
    },
}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def user_schema(tmp_path: Path) -> Path:
    write(tmp_path / "common" / "address.json",
          {"type": "object", "properties": {"zip": {"$ref": "zip.json"}}})
    write(tmp_path / "common" / "zip.json", {"type": "string", "pattern": "^[0-9]{5}$"})
    return write(tmp_path / "user.json", USER)


def test_each_violation_is_at_its_value_in_document_order(user_schema: Path) -> None:
    text = ("name: 5\nemail: a@b\nage: -1\naddress:\n  zip: abc\ntags[3]: a,7,c\n"
            "rows[2]{n}:\n  1\n  x\n")
    found = Schema.load(user_schema).check_text(text)
    assert [(v.line, v.column, v.end_column, v.pointer) for v in found] == [
        (1, 7, 8, "/name"), (3, 6, 8, "/age"), (5, 8, 11, "/address/zip"),
        (6, 12, 13, "/tags/1"), (9, 3, 4, "/rows/1/n")]  # a tabular cell, not its row
    assert found[1].rule == "properties/age/minimum"
    assert found[1].message == "-1 is less than the minimum of 0"
    # The sibling file's sibling was reached through two $refs.
    assert "pattern" in found[2].rule


def test_missing_required_key_is_at_its_object_and_names_the_key(user_schema: Path) -> None:
    text = "name: Ada\naddress:\n  zip: \"12345\"\n"
    nested = {"type": "object", "properties": {"address": {"type": "object",
                                                            "required": ["zip", "city"]}}}
    (found,) = Schema.load(user_schema).check_text(text)
    assert (found.pointer, found.line, found.column) == ("/email", 1, 1)
    assert found.message == "'email' is a required property" and found.rule == "required"
    (city,) = Schema.from_dict(nested).check_text(text)
    assert (city.pointer, city.line, city.column) == ("/address/city", 2, 1)


def test_any_of_reports_the_leaf_when_one_alternative_stands_out() -> None:
    schema = Schema.from_dict({"type": "array", "items": {"anyOf": [
        {"type": "object", "required": ["kind"],
         "properties": {"kind": {"const": "a"}, "size": {"type": "integer"}}},
        {"type": "string"}]}})
    located = decode_located("[2]:\n  - kind: a\n    size: big\n  - ok\n")
    (v,) = schema.violations(located)
    assert v.pointer == "/0/size" and (v.line, v.column) == (3, 11)
    assert "is not of type 'integer'" in v.message


def test_toon_schema_file_and_draft7(tmp_path: Path) -> None:
    schema = write(tmp_path / "s.toon",
                   '"$schema": "http://json-schema.org/draft-07/schema#"\ntype: object\n'
                   "properties:\n  n:\n    type: integer\n"
                   '  items:\n    items[1]:\n      - type: string\n')
    loaded = Schema.load(schema)
    # Draft 7: items as an array means tuple validation (2020-12 would refuse it).
    assert [v.pointer for v in loaded.check_text("n: x\nitems[2]: 1,2\n")] == ["/n", "/items/0"]
    with pytest.raises(SchemaError):
        Schema.from_dict({"items": [{"type": "string"}]})  # 2020-12 is the default


@pytest.mark.parametrize(("content", "fragment"), [
    ("{not json", "not a valid JSON schema"),
    ('{"type": "integr"}', "not a valid schema: at /type"),
    ('{"$ref": "missing.json"}', "missing.json"),
    ('{"$ref": "#/$defs/nothing"}', "cannot resolve $ref"),
    ('{"$ref": "https://example.com/s.json"}', "does not fetch schemas"),
    ('{"$schema": "https://example.com/my-draft"}', "unknown '$schema'"),
    ("[1, 2]", "must be an object or a boolean"),
])
def test_unusable_schemas_are_schema_errors_naming_the_file(tmp_path: Path, content: str,
                                                            fragment: str) -> None:
    path = write(tmp_path / "s.json", content)
    with pytest.raises(SchemaError) as info:
        Schema.load(path)
    assert fragment in info.value.message
    assert info.value.path == str(path) and info.value.exit_code == 2


def test_unreadable_schema_and_broken_sibling(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="No such file"):
        Schema.load(tmp_path / "none.json")
    write(tmp_path / "bad.toon", "a[2]: 1\n")
    write(tmp_path / "s.json", {"$ref": "bad.toon"})
    with pytest.raises(SchemaError) as info:
        Schema.load(tmp_path / "s.json")
    # Placed in the sibling that is broken, and says how it was reached.
    assert info.value.path == str(tmp_path / "bad.toon") and info.value.line == 1
    assert "reached by $ref 'bad.toon'" in info.value.message


def test_ref_under_the_root_id_is_a_sibling_file(tmp_path: Path) -> None:
    write(tmp_path / "address.json", {"type": "object", "required": ["zip"]})
    write(tmp_path / "user.json", {"$id": "https://example.com/schemas/user.json",
                                   "properties": {"address": {"$ref": "address.json"}}})
    schema = Schema.load(tmp_path / "user.json")
    assert schema.files == (tmp_path / "address.json",)
    assert [p.pointer for p in schema.problems({"address": {}})] == ["/address/zip"]


def test_format_is_an_annotation_and_decode_errors_pass_through() -> None:
    schema = Schema.from_dict({"properties": {"mail": {"type": "string", "format": "email"}}})
    assert schema.check_text("mail: not-an-email\n") == []
    with pytest.raises(ToonDecodeError):
        schema.check_text("a[2]: 1\n")


def test_a_long_container_is_not_quoted_in_the_message() -> None:
    schema = Schema.from_dict({"properties": {"a": {"type": "string"}}})
    (p,) = schema.problems({"a": {"k" + str(i): i for i in range(20)}})
    assert p.message == "an object is not of type 'string'"


# ------------------------------------------------ placed at the key, said in JSON


def test_extra_and_badly_named_keys_are_placed_at_each_key() -> None:
    schema = Schema.from_dict({
        "type": "object", "additionalProperties": False,
        "properties": {"id": {}, "m": {"propertyNames": {"maxLength": 2}},
                       "u": {"properties": {"a": {}}, "unevaluatedProperties": False},
                       "d": {"dependentRequired": {"aa": ["bb"]}}}})
    text = "id: 1\nextra: 2\nm:\n  ok: 1\n  longkey: 2\nu:\n  a: 1\n  zz: 2\nd:\n  aa: 1\nmore: 3\n"
    found = schema.check_text(text)
    assert [(v.pointer, v.line, v.column, v.end_column, v.rule) for v in found] == [
        ("/extra", 2, 1, 6, "additionalProperties"),
        ("/m/longkey", 5, 3, 10, "properties/m/propertyNames/maxLength"),
        ("/u/zz", 8, 3, 5, "properties/u/unevaluatedProperties"),
        ("/d/aa", 10, 3, 5, "properties/d/dependentRequired"),
        ("/more", 11, 1, 5, "additionalProperties")]
    # One extra key, one problem, each saying which key.
    assert found[0].message == "Additional properties are not allowed ('extra' was unexpected)"
    assert found[4].message == "Additional properties are not allowed ('more' was unexpected)"
    assert found[2].message == "Unevaluated properties are not allowed ('zz' was unexpected)"


def test_extra_key_beside_pattern_properties_names_the_regexes() -> None:
    schema = Schema.from_dict({"patternProperties": {"^x": {}}, "additionalProperties": False})
    (v,) = schema.check_text("x1: 1\n\"y y\": 2\n")
    assert (v.pointer, v.line, v.column) == ("/y y", 2, 1)
    assert v.message == "'y y' does not match any of the regexes: '^x'"


def test_a_key_missing_from_a_keyed_row_is_placed_at_the_rows_key() -> None:
    schema = Schema.from_dict({"properties": {"m": {"additionalProperties": {
        "required": ["z"]}}}})
    found = schema.check_text("m[2:]{p,q}:\n  x: 1,2\n  \"y y\": 3,4\n")
    assert [(v.pointer, v.line, v.column, v.end_column) for v in found] == [
        ("/m/x/z", 2, 3, 4), ("/m/y y/z", 3, 3, 8)]


def test_messages_quote_data_as_json_not_python() -> None:
    schema = Schema.from_dict({"properties": {
        "a": {"type": "string"}, "b": {"enum": ["x", None]}, "c": {"const": True},
        "d": {"maxItems": 1}, "e": {"type": "string"}, "f": {"maxLength": 3}}})
    found = schema.check_text("a: null\nb: true\nc: 1\nd[2]: 1,false\ne:\n  k: 1\n"
                              f"f: {'y' * 100}\n")
    assert [v.message for v in found] == [
        "null is not of type 'string'",
        'true is not one of ["x", null]',
        "true was expected",
        "[1, false] is too long",
        "{\"k\": 1} is not of type 'string'",
        "'" + "y" * 55 + "…' is too long"]


def test_the_rule_names_where_the_keyword_is_through_refs(tmp_path: Path) -> None:
    write(tmp_path / "age.json", {"type": "integer"})
    write(tmp_path / "common" / "defs.json", {"$defs": {"name": {"maxLength": 2}}})
    schema = Schema.load(write(tmp_path / "s.json", {
        "properties": {"age": {"$ref": "age.json"}, "n": {"$ref": "#/$defs/pos"},
                       "name": {"$ref": "common/defs.json#/$defs/name"},
                       "plain": {"minimum": 0}},
        "$defs": {"pos": {"minimum": 1}}}))
    found = schema.check_text("age: x\nn: 0\nname: abc\nplain: -1\n")
    assert [v.rule for v in found] == [
        "age.json#/type", "$defs/pos/minimum", "common/defs.json#/$defs/name/maxLength",
        "properties/plain/minimum"]


def test_the_fast_verdict_never_hides_a_problem(tmp_path: Path) -> None:
    """jsonschema-rs (when installed) only says 'valid'; sibling $refs resolve for
    it as for jsonschema, and what it cannot take (an integer past 64 bits) goes
    to jsonschema."""
    write(tmp_path / "n.json", {"type": "integer", "maximum": 5})
    schema = Schema.load(write(tmp_path / "s.json", {"properties": {"a": {"$ref": "n.json"}}}))
    assert schema.check_text("a: 5\n") == []
    assert [v.rule for v in schema.check_text("a: 6\n")] == ["n.json#/maximum"]
    (big,) = schema.check_text("a: 99999999999999999999999999999\n")
    assert big.message == "99999999999999999999999999999 is greater than the maximum of 5"


def test_the_metaschema_check_follows_the_draft_whichever_validator_says_it() -> None:
    """jsonschema-rs vouches for a valid schema; an invalid one is still refused,
    by the draft its $schema names (2020-12 without one)."""
    draft7 = "http://json-schema.org/draft-07/schema#"
    Schema.from_dict({"$schema": draft7, "items": [{"type": "string"}]})  # tuple form: draft 7
    for bad in ({"items": [{"type": "string"}]}, {"type": "objekt"},
                {"$schema": draft7, "minLength": -1}):
        with pytest.raises(SchemaError, match="not a valid schema"):
            Schema.from_dict(bad)


# ---------------------------------------------- jsonschema-rs is the authority

def test_a_pattern_that_cannot_compile_is_not_a_valid_schema() -> None:
    with pytest.raises(SchemaError, match=r"not a valid schema: at /properties/a/pattern"):
        Schema.from_dict({"properties": {"a": {"pattern": "[unclosed"}}})


def test_an_ecma_pattern_python_cannot_compile_is_checked_by_its_own_rules() -> None:
    """``\\p{L}`` is ECMA-262 (u flag), not Python: the verdict and the message
    come from jsonschema-rs; jsonschema's re.error never surfaces."""
    pytest.importorskip("jsonschema_rs")
    schema = Schema.from_dict({"properties": {"a": {"pattern": "^\\p{L}+$"},
                                              "n": {"type": "integer"}}})
    assert schema.check_text("a: Ünïcode\n") == []
    found = schema.check_text('a: "1"\nn: x\n')
    assert [(v.pointer, v.line, v.column, v.rule) for v in found] == [
        ("/a", 1, 4, "properties/a/pattern"), ("/n", 2, 4, "properties/n/type")]
    assert "does not match" in found[0].message
    assert not schema.is_valid({"a": "1"})


def test_one_fields_verdict_does_not_depend_on_another() -> None:
    """19.99 is a multiple of 0.01 (jsonschema-rs; Python's float arithmetic says
    not): never reported, whether or not another field fails."""
    pytest.importorskip("jsonschema_rs")
    schema = Schema.from_dict({"properties": {"price": {"type": "number", "multipleOf": 0.01},
                                              "qty": {"type": "integer"}}})
    assert schema.check_text("price: 19.99\nqty: 1\n") == []
    assert [v.pointer for v in schema.check_text("price: 19.99\nqty: one\n")] == ["/qty"]


def test_pattern_classes_are_ecma_262s() -> None:
    """\\d is ASCII digits in ECMA-262 (Python's str \\d takes any Unicode digit)."""
    pytest.importorskip("jsonschema_rs")
    schema = Schema.from_dict({"properties": {"code": {"pattern": "^\\d+$"}}})
    (v,) = schema.check_text('code: "٣٤"\n')
    assert (v.pointer, v.rule) == ("/code", "properties/code/pattern")
    assert schema.check_text('code: "34"\n') == []


def test_a_false_subschema_is_placed_at_the_offending_key_or_item() -> None:
    pytest.importorskip("jsonschema_rs")
    (v,) = Schema.from_dict({"patternProperties": {"^_": False}}).check_text(
        "a: 2\n_secret: 1\n")
    assert (v.pointer, v.line, v.column, v.end_column) == ("/_secret", 2, 1, 8)
    (v,) = Schema.from_dict({"properties": {"x": False}}).check_text("a: 1\nx: 1\n")
    assert (v.pointer, v.line, v.column) == ("/x", 2, 1)
    (v,) = Schema.from_dict({"prefixItems": [True, False]}).check_text("[2]: 1,2\n")
    assert (v.pointer, v.line, v.column) == ("/1", 1, 8)
    (v,) = Schema.from_dict({"dependentSchemas": {"a": False}}).check_text("b: 1\na: 1\n")
    assert (v.pointer, v.line, v.column) == ("/a", 2, 1)


def test_extra_keys_match_each_pattern_on_its_own() -> None:
    """Joining patterns with '|' broke an inline flag (``(?i)``, only legal at
    the start) and renumbered backreferences."""
    schema = Schema.from_dict({"patternProperties": {"^a": {}, "(?i)^b": {}},
                               "additionalProperties": False})
    assert [v.pointer for v in schema.check_text("a: 1\nB: 2\nc: 3\n")] == ["/c"]
    schema = Schema.from_dict({"patternProperties": {"^(x)y$": {}, "^(a)\\1$": {}},
                               "additionalProperties": False})
    assert [v.pointer for v in schema.check_text("aa: 1\nzz: 2\n")] == ["/zz"]


def test_is_valid_and_problems_always_agree() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    rules = st.sampled_from([
        {"type": "integer"}, {"multipleOf": 0.01}, {"pattern": "^\\d+$"}, {"minimum": 0},
        {"pattern": "^\\s$"}, False, {"not": True}, {"enum": [1, "1", 19.99]}])
    schemas = st.fixed_dictionaries({"properties": st.dictionaries(
        st.sampled_from(["a", "b"]), rules, max_size=2)}, optional={
        "additionalProperties": st.just(False),
        "patternProperties": st.dictionaries(st.sampled_from(["^_", "(?i)^B", "^(c)\\1$"]),
                                             rules, max_size=2)})
    values = st.one_of(st.sampled_from([19.99, 0.07, 1, -1, 2.5, "12", "٣٤", "\u00a0", "x",
                                        True, None]))
    instances = st.dictionaries(st.sampled_from(["a", "b", "_c", "B", "cc", "d"]), values,
                                max_size=4)

    @settings(max_examples=80, deadline=None)
    @given(schemas, instances)
    def agree(schema: dict[str, object], instance: dict[str, object]) -> None:
        loaded = Schema.from_dict(schema)
        assert loaded.is_valid(instance) is (loaded.problems(instance) == [])

    agree()


def test_a_schema_path_with_a_nul_byte_is_a_schema_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaError) as e:
        Schema.load(tmp_path / "a\0b.json")
    assert e.value.path is not None and e.value.path.endswith("a\0b.json")


def test_a_missing_sibling_is_named_relative_to_the_schema(tmp_path: Path) -> None:
    schema = write(tmp_path / "s.json", {"properties": {"a": {"$ref": "sub/gone.json"}}})
    with pytest.raises(SchemaError) as e:
        Schema.load(schema.resolve())
    assert str(tmp_path) not in e.value.message and "sub/gone.json" in e.value.message


def test_wording_where_the_problems_are_says_what_a_whole_pass_says(tmp_path: Path) -> None:
    """problems() words each problem by validating only the schema object that
    holds the failing keyword, at the failing value (a whole jsonschema pass over
    a 1 MB document costs over a second). Whatever the schema and the document,
    it says exactly what one whole pass says: pointers, messages, rules."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    write(tmp_path / "row.json", {
        "type": "object", "required": ["id"], "additionalProperties": False,
        "properties": {"id": {"type": "integer", "minimum": 0},
                       "tags": {"type": "array", "items": {"$ref": "common/tag.json"},
                                "uniqueItems": True},
                       "kind": {"enum": ["a", "b"]}}})
    write(tmp_path / "common" / "tag.json", {"$ref": "#/$defs/tag",
                                             "$defs": {"tag": {"type": "string",
                                                               "maxLength": 3}}})
    leaves = st.sampled_from([
        {"$ref": "row.json"}, {"$ref": "#/$defs/pos"}, {"type": "string"},
        {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/pos"}]},
        {"oneOf": [{"type": "integer"}, {"minimum": 2}]},
        {"propertyNames": {"maxLength": 2}, "minProperties": 1},
        {"if": {"type": "integer"}, "then": {"minimum": 10}, "else": {"type": "string"}},
        {"contains": {"type": "integer"}, "minContains": 2},
        {"items": {"$ref": "row.json"}, "minItems": 1},
        {"properties": {"a": {"type": "integer"}}, "unevaluatedProperties": False},
        {"dependentRequired": {"a": ["b"]}},
        {"not": {"type": "null"}}])
    roots = st.fixed_dictionaries({
        "$defs": st.just({"pos": {"type": "integer", "minimum": 1}}),
        "properties": st.dictionaries(st.sampled_from(["p", "q", "r"]), leaves, max_size=3)},
        optional={"required": st.lists(st.sampled_from(["p", "q", "s"]), unique=True),
                  "additionalProperties": st.sampled_from([False, {"type": "integer"}])})
    scalars = st.one_of(st.integers(-3, 12), st.sampled_from(["x", "long", "", None, True]))
    rows = st.fixed_dictionaries({}, optional={
        "id": scalars, "tags": st.lists(st.sampled_from(["ab", "abcd", 1]), max_size=3),
        "kind": scalars, "zz": scalars})
    values = st.recursive(st.one_of(scalars, rows),
                          lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                  st.dictionaries(st.sampled_from(
                                                      ["a", "b", "abc", "id"]), inner,
                                                      max_size=3)), max_leaves=8)
    documents = st.dictionaries(st.sampled_from(["p", "q", "r", "s", "t"]), values, max_size=4)

    def worded(schema: Schema, value: object, targeted: bool) -> list[tuple[object, ...]]:
        schema._targeted = targeted
        return sorted((p.pointer, p.message, p.keyword, p.on_key, p.rule)
                      for p in schema.problems(value))

    def same(targeted: list[tuple[object, ...]], whole: list[tuple[object, ...]]) -> bool:
        # One difference is allowed, in the targeted wording's favour: for a keyword
        # in a file reached through a $ref inside another file, the whole pass
        # cannot find the file and names the path it took (no '#'); the targeted
        # one names the file and the keyword's place in it.
        return len(targeted) == len(whole) and all(
            t[:4] == w[:4] and (t[4] == w[4] or ("#" in str(t[4]) and "#" not in str(w[4])
                                                 and str(w[4]).endswith(str(t[2]))))
            for t, w in zip(targeted, whole))

    counter = iter(range(10**6))

    @settings(max_examples=150, deadline=None)
    @given(roots, documents)
    def agree(root: dict[str, object], document: dict[str, object]) -> None:
        schema = Schema.load(write(tmp_path / f"s{next(counter)}.json", root))
        targeted, whole = worded(schema, document, True), worded(schema, document, False)
        assert same(targeted, whole), (targeted, whole)

    agree()
