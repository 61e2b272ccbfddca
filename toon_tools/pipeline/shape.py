"""The contract of a step's reply and everything built from it: the TOON skeleton
a prompt ends with, OpenAI's JSON Schema ``response_format`` and llama.cpp's GBNF
grammar (issue 12, items 1 and 2; issue 13, item 5).

A contract is a JSON Schema whose root is an object: given as ``output.schema``
(a file or inline), derived from a pydantic model (``output.model``), or from the
shorthand ``output.required``, whose fields are each one of:

- ``name``: one text;
- ``name[]``: a list of texts, any count (1 or more);
- ``name[N]``: a list of exactly N texts, N from 1 to 1000.

``name`` is a TOON key that needs no quoting (§7.3) and no dot, so it reads the
same in TOON, JSON and a template path. ``name[]`` is our notation only: TOON has
no ``[]`` header (§6), so the skeleton never shows it to a model. The shorthand
becomes a schema (:meth:`OutputShape.parse`), so every contract takes one path.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from ..codec import format_primitive
from ..schema.skeleton import MAX_DEPTH, build_skeleton, fixed_count, resolve, schema_type

_ENTRY: Final = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(|[1-9][0-9]{0,3})\])?\Z")
_UNSAFE_NAME: Final = re.compile(r"[^A-Za-z0-9_-]")

#: The largest fixed count a declaration may ask for.
MAX_COUNT: Final = 1000
#: Fixed counts up to this many show every ``<text>`` in the skeleton.
_SPELLED_OUT: Final = 5
#: A list of any count admits 1 to this many items under a grammar: each count
#: is its own alternative, so the header can never miscount its items.
GRAMMAR_MAX_ITEMS: Final = 32
#: Longest text and list item a grammar admits, in characters: a model that
#: never closes its quote still stops. Below 2000: llama.cpp refuses a
#: repetition of exactly 2000 in many releases (ggml-org/llama.cpp#27087), and
#: its server then ignores the grammar with no error in the reply.
GRAMMAR_MAX_TEXT: Final = 1999
GRAMMAR_MAX_ITEM: Final = 300

#: What the skeleton shows in place of each text; a reply that copies it back is rejected.
PLACEHOLDER: Final = "<text>"
_EXPECTED: Final = "expected name, name[] or name[N] (N from 1 to 1000)"
_QUOTING: Final = 'Double-quote texts holding , : or " (" as \\").'
_OTHER_PLACEHOLDER: Final = re.compile(r"<(?!text>)[a-z-]+>|\|")


@dataclass(frozen=True)
class FieldShape:
    """One declared field: a text, or a list of texts of ``count`` items (None: any, 1 or more)."""

    name: str
    is_list: bool
    count: int | None

    def header(self) -> str:
        """The field's TOON key as a model writes it: ``tags[3]``, ``tags[N]`` or ``title``."""
        if not self.is_list:
            return self.name
        return f"{self.name}[{'N' if self.count is None else self.count}]"


class ContractError(ValueError):
    """A contract that cannot be used as asked: ``field`` names where (a path like
    ``scenes/0/beats``, "" for the root), the message says why."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field


@dataclass(frozen=True)
class OutputShape:
    """The contract a reply must meet: ``schema`` (JSON Schema, an object at the
    root), ``fields`` its top-level properties in order (what the offline provider
    and ``foreach`` read), and where it came from: ``model`` (``module:Class``)
    for a pydantic model, ``base`` (the schema's file or folder) for sibling
    ``$ref``."""

    fields: tuple[FieldShape, ...]
    schema: dict[str, Any] = dataclasses.field(default_factory=dict, compare=False)
    model: str | None = None
    base: Path | None = None
    #: True when built from ``output.required``: every field a text or list of texts.
    shorthand: bool = False

    @classmethod
    def parse(cls, declared: Sequence[str]) -> OutputShape:
        """Read the ``required`` shorthand; ValueError (one line) on a bad entry or
        a duplicate name. The shape's schema says the same thing."""
        if not declared:
            raise ValueError("declare at least one field (name, name[] or name[N])")
        fields: list[FieldShape] = []
        seen: set[str] = set()
        for entry in declared:
            m = _ENTRY.match(entry)
            count = int(m.group(2)) if m and m.group(2) else None
            if m is None or (count is not None and count > MAX_COUNT):
                raise ValueError(f"bad output field {_quoted(entry)}: {_EXPECTED}")
            name = m.group(1)
            if name in seen:
                raise ValueError(f"output field '{name}' is declared twice")
            seen.add(name)
            fields.append(FieldShape(name, m.group(2) is not None, count))
        properties: dict[str, Any] = {}
        for f in fields:
            if not f.is_list:
                properties[f.name] = {"type": "string"}
                continue
            prop: dict[str, Any] = {"type": "array", "items": {"type": "string"}}
            if f.count is None:
                prop["minItems"] = 1
            else:
                prop["minItems"] = prop["maxItems"] = f.count
            properties[f.name] = prop
        schema = {"type": "object", "properties": properties, "required": [f.name for f in fields]}
        return cls(tuple(fields), schema, shorthand=True)

    @classmethod
    def from_schema(cls, schema: Any, *, base: Path | None = None,
                    model: str | None = None) -> OutputShape:
        """A contract from a JSON Schema; ContractError unless its root describes an
        object with properties (a reply is an object of named fields)."""
        if not isinstance(schema, dict):
            raise ContractError(f"a schema is an object, got {type(schema).__name__}")
        root = resolve(schema, schema)
        props = root.get("properties")
        if schema_type(root) != "object" or not isinstance(props, dict) or not props:
            raise ContractError("the schema must describe an object with 'properties' "
                                "(a reply is an object of named fields)")
        fields = []
        for name, sub in props.items():
            node = resolve(sub, schema)
            is_list = schema_type(node) == "array"
            fields.append(FieldShape(str(name), is_list, fixed_count(node) if is_list else None))
        return cls(tuple(fields), schema, model=model, base=base)

    # ------------------------------------------------------------ the prompt

    def skeleton(self, *, quoting: bool = True) -> str:
        """The text a prompt ends with: the TOON expected, one line per field with
        its description as ``#`` lines above it, and only the notes this shape
        needs (what N is, exact counts, quoting per §7.2)."""
        sk = build_skeleton(self.schema)
        body = sk.text
        others = _OTHER_PLACEHOLDER.search(re.sub(r"(?m)^ *#.*$", "", body))
        head = ("Reply with only this TOON, each <text> replaced:" if others is None else
                "Reply with only this TOON, each placeholder (<...> or a|b choice) replaced "
                "by a value; # lines describe the field below them and may be left out:")
        if others is None and "#" in body:
            head = ("Reply with only this TOON, each <text> replaced; # lines describe the "
                    "field below them and may be left out:")
        texts = PLACEHOLDER in body
        return "\n".join([head, body, *sk.notes] + ([_QUOTING] if quoting and texts else []))

    def json_skeleton(self) -> str:
        """What a json-schema request's prompt ends with (the schema itself goes in
        ``response_format``). The placeholders stand bare, not as JSON strings,
        so that a model held to the schema cannot copy them back as its answer."""
        if self.shorthand:
            parts = []
            for f in self.fields:
                value = (f"[{', '.join([PLACEHOLDER] * (f.count or 2))}"
                         f"{'' if f.count else ', ...'}]" if f.is_list else PLACEHOLDER)
                parts.append(f'"{f.name}": {value}')
            return ("Reply with only this JSON object, each <text> a JSON string:\n{"
                    + ", ".join(parts) + "}")
        return ("Reply with only a JSON object of this shape, each <text> a JSON string:\n"
                + _json_sketch(self.schema, self.schema, 0))

    # ------------------------------------------------------------ structured output

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema for OpenAI structured outputs in strict mode (see
        :func:`strict_schema`); what it cannot say is listed by :meth:`strict_losses`."""
        return strict_schema(self.schema)[0]

    def strict_losses(self) -> list[str]:
        """What the strict ``response_format`` leaves out of the contract (the
        reply is still checked against all of it): ``path: keyword`` each."""
        return strict_schema(self.schema)[1]

    def response_format(self, name: str) -> dict[str, Any]:
        """OpenAI's ``response_format`` for this shape; ``name`` is made safe
        (``[A-Za-z0-9_-]``, at most 64 characters, as the API requires)."""
        safe = _UNSAFE_NAME.sub("_", name)[:64] or "output"
        return {"type": "json_schema",
                "json_schema": {"name": safe, "schema": self.json_schema(), "strict": True}}

    def gbnf(self, *, max_text: int = GRAMMAR_MAX_TEXT, max_item: int = GRAMMAR_MAX_ITEM) -> str:
        """A GBNF grammar (llama.cpp's ``grammar`` request field) admitting exactly
        TOON that meets the contract's structure: every property in schema order,
        one per line (nested objects indented, §12), no leading whitespace and no
        trailing newline. ContractError names the first field it cannot express.

        Expressed exactly: strings, integers, numbers, booleans, enums and consts
        of those; objects of them; lists of them as inline arrays (§9.1); lists of
        flat objects as tabular rows (§9.3); ``maxLength``/``minLength``,
        ``minItems``/``maxItems`` when given. Optional fields are always written
        (as under json-schema's strict mode) and ``null`` never. Not enforced by
        the grammar, but checked on the reply: ``pattern``, ``format``, numeric
        bounds, ``uniqueItems``.

        Every text is a quoted string (§7.2) with only the escapes of §7.1 that a
        text needs and no raw control character, so any admitted reply decodes.
        A text holds 1 to ``max_text`` characters and a list item 1 to
        ``max_item`` (both below 2000), so that a model that never closes its
        quote, as small models do, still ends its reply. An array header's count is
        part of the alternative that writes its items, so it always matches them
        (§6, §14.1); a list of any length admits 1 to 32 items.
        """
        for bound in (max_text, max_item):
            if not 1 <= bound < 2000:
                raise ValueError(f"a grammar's text bound is from 1 to 1999, got {bound}")
        return _Grammar(self.schema, max_text, max_item).build()

    def check_grammar(self) -> None:
        """ContractError naming the first field ``toon-grammar`` cannot express."""
        self.gbnf()

    # ------------------------------------------------------------ offline replies

    def example(self, tag: str, items: int = 5) -> dict[str, Any]:
        """A value meeting the contract, its texts marked with ``tag`` (what the
        offline provider answers): lists of any count get ``items`` items."""
        value = _example(self.schema, self.schema, "", tag, items, 0)
        return value if isinstance(value, dict) else {}

    def example_gaps(self) -> list[str]:
        """Where :meth:`example` cannot meet the contract (``/path: keyword``
        each; a ``pattern`` it cannot build a string for, say): an offline run
        warns once when the step starts rather than re-asking in vain."""
        return example_gaps(self.schema)


# ---------------------------------------------------------------- strict mode

#: Keywords OpenAI's strict mode refuses; they are dropped from the request
#: (the reply is still checked against them).
_STRICT_UNSUPPORTED: Final = frozenset({
    "minLength", "maxLength", "patternProperties", "unevaluatedProperties", "propertyNames",
    "minProperties", "maxProperties", "unevaluatedItems", "contains", "minContains",
    "maxContains", "uniqueItems", "allOf", "not", "if", "then", "else", "dependentRequired",
    "dependentSchemas", "default", "examples", "$schema", "$id", "$comment",
    "additionalItems", "prefixItems", "oneOf",
})


def strict_schema(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``schema`` as OpenAI's strict mode takes it: every object closed
    (``additionalProperties: false``) with every property required, an optional
    one allowing ``null`` instead (the reader drops such a null), ``oneOf`` as
    ``anyOf``, a lone ``allOf`` merged, unsupported keywords dropped. Returns the
    schema and what it lost (``path: keyword``)."""
    lost: list[str] = []

    def walk(node: Any, path: str) -> Any:
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        node = dict(node)
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            node = {**{k: v for k, v in node.items() if k != "allOf"}, **all_of[0]}
        for key, value in node.items():
            if key == "oneOf" and isinstance(value, list):
                out["anyOf"] = [walk(v, f"{path}/oneOf/{i}") for i, v in enumerate(value)]
                lost.append(f"{path or '/'}: oneOf (sent as anyOf)")
            elif key in _STRICT_UNSUPPORTED:
                lost.append(f"{path or '/'}: {key}")
            elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
                out[key] = {k: walk(v, f"{path}/{key}/{k}") for k, v in value.items()}
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                out[key] = walk(value, f"{path}/{key}")
            elif key == "anyOf" and isinstance(value, list):
                out[key] = [walk(v, f"{path}/anyOf/{i}") for i, v in enumerate(value)]
            else:
                out[key] = value
        props = out.get("properties")
        if isinstance(props, dict) or out.get("type") == "object":
            props = props if isinstance(props, dict) else {}
            required = set(node.get("required") or [])
            for name in props:
                if name not in required:
                    props[name] = _nullable(props[name])
            if out.get("additionalProperties") not in (None, False):
                lost.append(f"{path or '/'}: additionalProperties")
            out["properties"] = props
            out["required"] = list(props)
            out["additionalProperties"] = False
        return out

    return walk(schema, ""), lost


def _nullable(node: Any) -> Any:
    """An optional property under strict mode: required, but ``null`` allowed."""
    if not isinstance(node, dict):
        return node
    kind = node.get("type")
    if isinstance(kind, str) and "enum" not in node and "const" not in node:
        return {**node, "type": [kind, "null"]}
    if isinstance(kind, list):
        return node if "null" in kind else {**node, "type": [*kind, "null"]}
    alts = node.get("anyOf")
    if isinstance(alts, list):
        if any(isinstance(a, dict) and a.get("type") == "null" for a in alts):
            return node
        return {**node, "anyOf": [*alts, {"type": "null"}]}
    return {"anyOf": [node, {"type": "null"}]}


# ---------------------------------------------------------------- the grammar

_SCALAR_KINDS: Final = ("string", "integer", "number", "boolean")


class _Grammar:
    """GBNF for a contract's structure; ContractError names what it cannot say."""

    def __init__(self, root: dict[str, Any], max_text: int, max_item: int) -> None:
        self.root = root
        self.max_text = max_text
        self.max_item = max_item
        self.rules: dict[str, str] = {}
        self.n = 0

    def build(self) -> str:
        top = resolve(self.root, self.root)
        body = self.object_body(top, "", 0)
        head = [f"root ::= {body}"]
        rest = [f"{k} ::= {v}" for k, v in self.rules.items()]
        return "\n".join(head + rest + [
            'char ::= [^"\\\\\\x00-\\x1F] | "\\\\" ["\\\\nrt]',
        ])

    def rule(self, body: str) -> str:
        name = f"f{self.n}"
        self.n += 1
        self.rules[name] = body
        return name

    def object_body(self, node: dict[str, Any], path: str, indent: int) -> str:
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            raise ContractError("toon-grammar cannot express an object without 'properties'",
                                path)
        pad = " " * indent
        parts = []
        for name, sub in props.items():
            parts.append(self.field(str(name), resolve(sub, self.root),
                                    f"{path}/{name}".lstrip("/"), indent))
        return (' "\\n' + pad + '" ').join(parts)

    def field(self, name: str, node: dict[str, Any], path: str, indent: int) -> str:
        if indent // 2 >= MAX_DEPTH:  # a recursive $ref has no end a grammar can write
            raise ContractError(f"toon-grammar cannot express nesting deeper than {MAX_DEPTH} "
                                "levels (a recursive $ref?)", path)
        key = _gbnf_literal(_key(name))
        kind = schema_type(node)
        if _is_choice(node) or kind in _SCALAR_KINDS:
            return self.rule(f'"{key}: " {self.scalar(node, path, self.max_text)}')
        if kind == "object":
            inner = self.object_body(node, path, indent + 2)
            return self.rule(f'"{key}:\\n{" " * (indent + 2)}" {inner}')
        if kind == "array":
            return self.rule(self.array(key, node, path, indent))
        raise ContractError(f"toon-grammar cannot express {_what(node)}", path)

    def array(self, key: str, node: dict[str, Any], path: str, indent: int) -> str:
        items = resolve(node.get("items"), self.root)
        counts = self.counts(node, path)
        kind = schema_type(items)
        if _is_choice(items) or kind in _SCALAR_KINDS:
            item = self.rule(self.scalar(items, f"{path}/0", self.max_item))
            alts = [f'"{k}]: " {item}' + (f' ("," {item}){{{k - 1}}}' if k > 1 else "")
                    for k in counts]
        elif kind == "object":
            props = items.get("properties")
            columns = [(str(c), resolve(s, self.root)) for c, s in props.items()] \
                if isinstance(props, dict) else []
            if not columns or not all(_is_choice(s) or schema_type(s) in _SCALAR_KINDS
                                      for _, s in columns):
                raise ContractError("toon-grammar writes a list of objects as tabular rows, "
                                    "so every property of its items must be a text, number, "
                                    "boolean or enum", path)
            header = ",".join(_gbnf_literal(_key(c)) for c, _ in columns)
            cells = ' "," '.join(self.rule(self.scalar(s, f"{path}/0/{c}", self.max_item))
                                 for c, s in columns)
            row = self.rule(f'"\\n{" " * (indent + 2)}" {cells}')
            alts = [f'"{k}]{{{header}}}:" {row}' + (f"{{{k}}}" if k > 1 else "")
                    for k in counts]
        elif kind == "array":
            raise ContractError("toon-grammar cannot express a list of lists", path)
        else:
            raise ContractError(f"toon-grammar cannot express a list of {_what(items)}", path)
        return f'"{key}[" ( ' + " | ".join(alts) + " )"

    def counts(self, node: dict[str, Any], path: str) -> range:
        low, high = node.get("minItems"), node.get("maxItems")
        low = low if isinstance(low, int) and low > 0 else 1
        high = high if isinstance(high, int) else max(low, GRAMMAR_MAX_ITEMS)
        high = min(high, MAX_COUNT)
        if high < low:
            raise ContractError(f"toon-grammar cannot write {low} to {high} items", path)
        return range(low, high + 1)

    def scalar(self, node: dict[str, Any], path: str, longest: int) -> str:
        if _is_choice(node):
            values = [node["const"]] if "const" in node else node["enum"]
            shown = []
            for v in values:
                if isinstance(v, str):
                    shown.append(_gbnf_literal(_quote_always(v)))
                elif isinstance(v, (bool, int, float)) or v is None:
                    shown.append(_gbnf_literal(format_primitive(v)))
                else:
                    raise ContractError("toon-grammar cannot express an enum of lists or "
                                        "objects", path)
            return "( " + " | ".join(f'"{v}"' for v in shown) + " )"
        kind = schema_type(node)
        if kind == "string":
            low, high = node.get("minLength"), node.get("maxLength")
            low = low if isinstance(low, int) and low > 1 else 1
            high = min(high, longest) if isinstance(high, int) and high >= 1 else longest
            if high < low:
                raise ContractError(f"toon-grammar cannot write a text of {low} to {high} "
                                    "characters", path)
            return f'"\\"" char{{{low},{high}}} "\\""'
        if kind == "integer":
            return '"-"? ( "0" | [1-9] [0-9]{0,17} )'
        if kind == "number":
            return '"-"? ( "0" | [1-9] [0-9]{0,17} ) ( "." [0-9]{0,16} [1-9] )?'
        if kind == "boolean":
            return '( "true" | "false" )'
        raise ContractError(f"toon-grammar cannot express {_what(node)}", path)


def _is_choice(node: dict[str, Any]) -> bool:
    return "const" in node or (isinstance(node.get("enum"), list) and bool(node["enum"]))


def _what(node: dict[str, Any]) -> str:
    if "$unresolved" in node:
        return f"a $ref to {node['$unresolved']!r} (only local #/... refs are followed)"
    if "anyOf" in node or "oneOf" in node:
        return "a choice of several shapes (anyOf/oneOf)"
    kind = node.get("type")
    if kind == "array":
        return "a list of lists"
    if kind is None:
        return "a value of any type"
    return f"type {kind!r}"


def _key(name: str) -> str:
    from ..codec import encode_key

    return encode_key(name)


def _quote_always(text: str) -> str:
    """A string as a quoted TOON string (§7.1), whatever its content."""
    escaped = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
               .replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{escaped}"'


def _gbnf_literal(text: str) -> str:
    """``text`` as the inside of a GBNF string literal."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
            .replace("\r", "\\r").replace("\t", "\\t"))


# ---------------------------------------------------------------- sketches and examples

def _json_sketch(node: Any, root: dict[str, Any], depth: int) -> str:
    node = resolve(node, root)
    if depth > 8:
        return "<value>"
    if _is_choice(node):
        values = [node["const"]] if "const" in node else node["enum"]
        return "|".join(json.dumps(v) for v in values)
    kind = schema_type(node)
    if kind == "object" and isinstance(node.get("properties"), dict):
        inner = ", ".join(f"{json.dumps(k)}: {_json_sketch(v, root, depth + 1)}"
                          for k, v in node["properties"].items())
        return "{" + inner + "}"
    if kind == "array":
        item = _json_sketch(node.get("items"), root, depth + 1)
        return f"[{item}, ...]"
    return {"string": PLACEHOLDER, "integer": "<integer>", "number": "<number>",
            "boolean": "true|false"}.get(kind or "", "<value>")


#: What the offline example writes for each ``format`` it knows (format assertion
#: passes on each; a uuid is made from the tag, so that replies differ).
_FORMATS: Final = {
    "date": "2024-01-01", "date-time": "2024-01-01T00:00:00Z", "time": "12:00:00Z",
    "email": "someone@example.com", "idn-email": "someone@example.com",
    "uri": "https://example.com/", "iri": "https://example.com/",
    "uri-reference": "https://example.com/", "iri-reference": "https://example.com/",
    "hostname": "example.com", "idn-hostname": "example.com", "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1", "duration": "P1D", "json-pointer": "/a",
}
_NUMBER_TRIES: Final = 1000


def _example(node: Any, root: dict[str, Any], name: str, tag: str, items: int,
             depth: int, nth: int = 0) -> Any:
    """A value ``node`` admits: texts carry ``name`` and ``tag``; ``nth`` (an item's
    index) makes the items of a list differ, for ``uniqueItems``."""
    node = resolve(node, root)
    if "const" in node:
        return node["const"]
    if isinstance(node.get("enum"), list) and node["enum"]:
        return node["enum"][0]
    alts = node.get("anyOf") or node.get("oneOf")
    if isinstance(alts, list) and alts:
        return _example(alts[0], root, name, tag, items, depth, nth)
    kind = _example_kind(node)
    if depth > 8:
        return None
    if kind == "object":
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        required = node.get("required") if isinstance(node.get("required"), list) else []
        # Deep down only what is required: a recursive optional field ends.
        return {k: _example(v, root, str(k), tag, items, depth + 1) for k, v in props.items()
                if depth < 3 or k in required}
    if kind == "array":
        prefix = node.get("prefixItems")
        prefix = prefix if isinstance(prefix, list) else []
        low = node.get("minItems") if isinstance(node.get("minItems"), int) else 0
        count = fixed_count(node) or max(items, low, len(prefix))
        if isinstance(node.get("maxItems"), int):
            count = min(count, node["maxItems"])
        if node.get("items") is False or (prefix and "items" not in node):
            count = min(count, len(prefix)) if node.get("items") is False else count
        out = []
        for i in range(count):
            sub = prefix[i] if i < len(prefix) else node.get("items")
            out.append(_example(sub, root, f"{name} {i + 1}", tag, items, depth + 1, i))
        return out
    if kind in ("integer", "number"):
        return _number(node, kind == "integer", nth)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = node.get("format")
    if isinstance(fmt, str) and fmt == "uuid":
        import uuid

        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}/{name}/{nth}"))
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    text = f"{name} ({tag})" if name else f"({tag})"
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        made = _matching(pattern, text)
        if made is not None:
            return made
    low, high = node.get("minLength"), node.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "." * (low - len(text))
    return text[:high] if isinstance(high, int) and high > 0 else text


def _example_kind(node: dict[str, Any]) -> str | None:
    kind = schema_type(node)
    if kind is None and isinstance(node.get("type"), list):
        kinds = [k for k in node["type"] if isinstance(k, str) and k != "null"]
        kind = kinds[0] if kinds else "null"
    if kind is None and "prefixItems" in node:
        kind = "array"
    return kind


def _number(node: dict[str, Any], integer: bool, nth: int) -> int | float | None:
    """The ``nth`` smallest value from 1 (or from the lower bound) that meets the
    bounds (inclusive or exclusive) and ``multipleOf``, as jsonschema checks them;
    None when none is found near the bounds."""
    import math

    def num(key: str) -> float | None:
        v = node.get(key)
        return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    low, high, xlow, xhigh, step = (num("minimum"), num("maximum"), num("exclusiveMinimum"),
                                    num("exclusiveMaximum"), num("multipleOf"))

    def ok(v: float) -> bool:
        if (low is not None and v < low) or (high is not None and v > high) or \
                (xlow is not None and v <= xlow) or (xhigh is not None and v >= xhigh):
            return False
        if step:
            if isinstance(step, float):  # jsonschema's test for a float multipleOf
                q = v / step
                return math.isfinite(q) and int(q) == q
            return v % step == 0
        return True

    floor = max([b for b in (low, xlow) if b is not None], default=None)
    ceiling = min([b for b in (high, xhigh) if b is not None], default=None)
    start = 1 if floor is None or floor < 1 else math.floor(floor)
    if floor is not None and floor < 1 and not ok(start):
        start = math.floor(floor)
    if ceiling is not None and start > ceiling:
        start = math.floor(ceiling) - 1
    found: list[int | float] = []
    k = math.ceil(start / step) - 1 if step else start - 1
    for _ in range(_NUMBER_TRIES):
        k += 1
        v: int | float = k * step if step else k
        if float(v).is_integer():
            v = int(v)
        elif integer:
            continue
        if ok(v):
            found.append(v)
            if len(found) > nth:
                break
    if not found and not integer and floor is not None and ceiling is not None:
        mid = (floor + ceiling) / 2  # a range narrower than 1: its middle
        return mid if ok(mid) else None
    return found[min(nth, len(found) - 1)] if found else None


def _matching(pattern: str, text: str) -> str | None:
    """A string matching ``pattern`` (``text`` itself when it does), built from the
    parsed regex for literals, classes, repeats, groups and alternatives; None
    when the pattern is beyond that (lookarounds, backreferences) or invalid."""
    import re as _re

    try:
        compiled = _re.compile(pattern)
    except _re.error:
        return None
    if compiled.search(text):
        return text
    try:
        made = _generate(_sre_parse(pattern))
    except (ValueError, IndexError, TypeError):
        return None
    return made if made is not None and compiled.search(made) else None


def _sre_parse(pattern: str) -> Any:
    try:
        from re import _parser as parser  # type: ignore[attr-defined]
    except ImportError:  # Python < 3.11
        import sre_parse as parser
    return parser.parse(pattern)


def _generate(parsed: Any) -> str | None:
    out: list[str] = []
    for op, arg in parsed:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if arg != ord("a") else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            c = _in_class(arg)
            if c is None:
                return None
            out.append(c)
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            one = _generate(sub)
            if one is None:
                return None
            out.append(one * low)
        elif name == "SUBPATTERN":
            one = _generate(arg[-1])
            if one is None:
                return None
            out.append(one)
        elif name == "ATOMIC_GROUP":
            one = _generate(arg)
            if one is None:
                return None
            out.append(one)
        elif name == "BRANCH":
            one = _generate(arg[1][0])
            if one is None:
                return None
            out.append(one)
        elif name == "AT":
            continue
        else:  # GROUPREF, ASSERT, ASSERT_NOT, GROUPREF_EXISTS, ...
            return None
    return "".join(out)


_CATEGORY_CHARS: Final = {"CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "a",
                          "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": "-",
                          "CATEGORY_SPACE": " ", "CATEGORY_NOT_SPACE": "a"}


def _in_class(items: Any) -> str | None:
    """One character of a ``[...]`` class (or ``\\d``, ``\\w``, ...)."""
    if items and str(items[0][0]) == "NEGATE":
        banned = {chr(a) for op, a in items[1:] if str(op) == "LITERAL"}
        for c in "aA0_-":
            if c not in banned and all(str(op) == "LITERAL" for op, _ in items[1:]):
                return c
        return None
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            return chr(arg)
        if name == "RANGE":
            return chr(arg[0])
        if name == "CATEGORY":
            return _CATEGORY_CHARS.get(str(arg))
    return None


def example_gaps(schema: dict[str, Any]) -> list[str]:
    """Where the offline example cannot meet ``schema`` (a ``pattern`` beyond the
    simple regexes it builds strings for, numeric bounds with no value in reach):
    ``path: keyword`` each, so that a run can say so once instead of re-asking."""
    gaps: list[str] = []
    from ..schema.validate import Schema

    value = _example(schema, schema, "", "0", 5, 0)
    for p in Schema.from_dict(schema).problems(value):
        gaps.append(f"{p.pointer or '/'}: {p.keyword}")
    return list(dict.fromkeys(gaps))


def _quoted(entry: str) -> str:
    """An entry shown in a one-line message: quoted, control characters escaped."""
    return repr(entry[:40] + ("..." if len(entry) > 40 else ""))


def text_gbnf(max_chars: int = GRAMMAR_MAX_TEXT) -> str:
    """The grammar of a step that declares no shape: any text of 1 to
    ``max_chars`` characters (newlines and tabs allowed, no other control
    character), so that under ``toon-grammar`` a model that never stops on its
    own, as base models do, still ends its reply."""
    if not 1 <= max_chars < 2000:
        raise ValueError(f"a grammar's text bound is from 1 to 1999, got {max_chars}")
    return f"root ::= [^\\x00-\\x08\\x0B-\\x1F]{{1,{max_chars}}}"


#: The shape a step that declares none is asked in under json-schema: one text.
TEXT_SHAPE: Final = OutputShape.parse(["text"])
