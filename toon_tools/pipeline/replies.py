"""Reading a model's reply against a step's output shape (issue 12, item 3):
lenient where the meaning is plain, honest about every correction, and precise
when it refuses, since the refusal is what a re-ask shows the model.

The rules, in order:

1. a reply cut off at the token limit (``finish_reason: "length"``) is refused
   at once (:class:`TruncatedReply`), only its complete table rows read (below);
2. the last fenced block anywhere in the reply is read (``` or ~~~, any info
   string, the text around it ignored); with no fence, the whole reply;
3. a JSON object is taken as it is (what ``response_format`` produces); anything
   else is TOON, decoded strictly;
4. a header whose ``[N]`` miscounts complete values, rows, items or entries
   (§14.1) is corrected and decoded again, with a warning; a row missing a value
   is still refused;
5. the value is read against the contract (a JSON Schema, see ``shape``):
   leniently first (a text takes a number or boolean as its TOON text; a list of
   texts takes one string split on commas, ``tags: a, b, c``; an optional field
   given as null, as strict json-schema replies give it, is absent; the skeleton's
   ``<text>`` copied back is refused), then validated by the one validator
   (``toon_tools.schema.validate``; a pydantic model's then by pydantic in JSON
   mode, as ``typed.decode_as`` validates, whose dump is the artifact). Every
   failing field is told, each at its position in the TOON text; a re-ask quotes
   them alone (``scenes/3/title: ...``), a run's error joins them with ``; ``.
   Other fields are kept, declared ones first.

A reply whose last field is a table (§9.3) cut short, at the token limit or
mid-row, keeps its complete rows (:attr:`RejectedReply.partial`, a
:class:`Partial`), so the runner can ask for the missing rows alone
(:func:`salvage_prompt`), read them (:func:`read_rows`) and check the merged
reply (:func:`merge_rows`) against the contract like any other (issue 13, item 7).
"""

from __future__ import annotations

import dataclasses
import json
import re
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from ..codec import (
    DEFAULT_MAX_DEPTH,
    Located,
    ToonDecodeError,
    decode,
    decode_located,
    encode,
    find_closing_quote,
    format_primitive,
)
from ..errors import Finding
from ..schema.skeleton import fixed_count, resolve, schema_type
from .shape import PLACEHOLDER, OutputShape

if TYPE_CHECKING:
    from ..schema.validate import Problem, Schema

#: A RejectedReply's message is shown to the model on a re-ask: one short line.
MAX_MESSAGE: Final = 100
#: Failing fields a re-ask quotes at most.
MAX_QUOTED: Final = 5
#: Miscounted headers corrected in one reply at most (each costs a decode).
MAX_CORRECTIONS: Final = 16

_OPEN_FENCE: Final = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)\Z")
_CLOSE_FENCE: Final = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*\r?\Z")
_MISCOUNT: Final = re.compile(
    r"(?P<label>.*\[(?P<n>\d+):?\]): expected (?P=n) (?P<unit>values|rows|list items|entries),"
    r" found (?P<found>\d+|more)\Z", re.DOTALL)
_UNITS: Final = {"values": "item", "list items": "item", "rows": "row", "entries": "entry"}
#: A tabular header (§6, §9.3) as the first guess; the codec has the last word.
_TABLE_HEADER: Final = re.compile(
    r"(?P<key>.*?)\[(?P<n>\d+)(?P<delim>[\t|]?)\](?P<fields>\{.*\}):[ \t]*\r?\Z")


@dataclass(frozen=True)
class Accepted:
    """A reply read as the step's artifact, and what was corrected to read it."""

    value: Any
    warnings: tuple[str, ...]


class RejectedReply(Finding):
    """A reply that does not hold the declared shape. The message is one short
    line, told to the model on a re-ask; ``line`` and ``column`` (when known)
    point into :attr:`text`, the part of the reply that was parsed (the last
    fenced block's content, or the whole reply stripped)."""

    text: str | None = None

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 text: str | None = None) -> None:
        super().__init__(_one_line(message), line=line, column=column)
        self.text = text
        #: Every failing field of a reply that broke its contract: ``(pointer,
        #: "path: message")``, and each one's ``(line, column)`` in :attr:`text`.
        self.problems: tuple[tuple[str, str], ...] = ()
        self.positions: tuple[tuple[int | None, int | None], ...] = ()
        #: A reply whose last field, a table, was cut short: its complete rows.
        self.partial: Partial | None = None

    def for_model(self) -> str:
        """What a re-ask tells the model. A reply that broke its contract: one line
        per failing field, ``scenes/3/title: message`` (at most MAX_QUOTED, then
        how many more); otherwise ``line:col: message``, or the message alone when
        no position is known."""
        if self.problems:
            lines = [m for _, m in self.problems[:MAX_QUOTED]]
            more = len(self.problems) - MAX_QUOTED
            return "\n".join(lines + ([f"and {more} more"] if more > 0 else []))
        if self.line is None or self.column is None:
            return self.message
        return f"{self.line}:{self.column}: {self.message}"

    def summary(self) -> str:
        """The rejection on one line, for a run's failure line and its state: the
        failing fields joined by ``; `` (at most MAX_QUOTED, then how many more),
        or :meth:`for_model`'s line."""
        if not self.problems:
            return self.for_model()
        more = len(self.problems) - MAX_QUOTED
        return "; ".join([m for _, m in self.problems[:MAX_QUOTED]]
                         + ([f"and {more} more"] if more > 0 else []))


class TruncatedReply(RejectedReply):
    """``finish_reason`` was ``"length"``: the reply was cut off, so it is never parsed."""


def read_reply(content: str, shape: OutputShape, *, finish_reason: str | None = None) -> Accepted:
    """The artifact a reply holds for ``shape`` (a dict, declared fields first),
    or :class:`RejectedReply`."""
    if finish_reason == "length":
        found = _cut(content, shape, length=True)
        if isinstance(found, RejectedReply):
            raise found
        cut = TruncatedReply("the reply was cut off at the token limit (finish_reason: length)")
        cut.partial = found
        raise cut
    text = extract(content)
    if not text:
        raise RejectedReply(f"empty reply: expected the fields {_names(shape)}", text=text)
    warnings: list[str] = []
    value = _read_json(text) if text.startswith("{") else None
    located: Located | None = None
    if value is None:
        try:
            located = _read_toon(text, shape, warnings)
        except RejectedReply as e:
            found = _cut(content, shape, length=False)
            if isinstance(found, RejectedReply):
                raise found from None
            e.partial = found
            raise
        value = located.value
    if not isinstance(value, dict):
        if isinstance(value, list):
            raise RejectedReply(f"expected the fields {_names(shape)}, got a list", text=text)
        raise RejectedReply(f"no TOON reply: expected the fields {_names(shape)}", text=text)
    return Accepted(_check(value, shape, text, warnings, located), tuple(warnings))


# ------------------------------------------------------------ rule 2: what to read

def extract(content: str) -> str:
    """The text to parse: the last fenced block's content (CommonMark fences:
    ``` or ~~~, three or more, up to three spaces of indentation, which the
    content loses too; a fence left open runs to the end), or the whole reply.
    Blank lines at either end and the indentation common to every line go."""
    lines = content.split("\n")
    block: list[str] | None = None
    i = 0
    while i < len(lines):
        m = _OPEN_FENCE.match(lines[i])
        if m is None or (m.group(2)[0] == "`" and "`" in m.group(3)):
            i += 1
            continue
        indent, fence = len(m.group(1)), m.group(2)
        body: list[str] = []
        i += 1
        while i < len(lines):
            close = _CLOSE_FENCE.match(lines[i])
            if close and close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence):
                break
            line = lines[i]
            body.append(line[min(indent, len(line) - len(line.lstrip(" "))):])
            i += 1
        block = body
        i += 1
    return _trim(lines if block is None else block)


def _trim(lines: list[str]) -> str:
    """Blank lines at the ends dropped, the common indentation removed, the end stripped."""
    def blank(line: str) -> bool:
        return not line.strip(" \t\r")

    start, end = 0, len(lines)
    while start < end and blank(lines[start]):
        start += 1
    while end > start and blank(lines[end - 1]):
        end -= 1
    kept = lines[start:end]
    indent = min((len(x) - len(x.lstrip(" ")) for x in kept if not blank(x)), default=0)
    return "\n".join(x[indent:] for x in kept).rstrip(" \t\r")


# ------------------------------------------------------------ rule 3: JSON or TOON

def _read_json(text: str) -> dict[str, Any] | None:
    """A JSON object, or None when the text is not JSON but may still be TOON.
    When it is not TOON either, the JSON error is the one to tell."""
    try:
        value = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as e:
        error = RejectedReply(f"invalid JSON: {e.msg}", line=e.lineno, column=e.colno, text=text)
    except (ValueError, RecursionError) as e:
        message = str(e) if isinstance(e, ValueError) else "nested too deep"
        error = RejectedReply(f"invalid JSON: {message}", text=text)
    else:
        return value if isinstance(value, dict) else None
    try:
        decode(text)
    except (ToonDecodeError, RecursionError):
        raise error from None
    return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _finite(token: str) -> float:
    number = float(token)
    if number in (float("inf"), float("-inf")):
        raise ValueError(f"{token[:20]} is out of range")
    return number


def _read_toon(text: str, shape: OutputShape, warnings: list[str]) -> Located:
    """Decode strictly, with every value's position; a header that miscounts what
    follows it is corrected (rule 4), so positions are in the corrected text
    (which differs only in those headers' digits)."""
    lines = text.split("\n")
    fixes: dict[tuple[int, int], tuple[str, int, str]] = {}  # (line, digits): label, N, unit
    try:
        for _ in range(2 * MAX_CORRECTIONS):  # "found more" takes two passes
            try:
                value = decode_located("\n".join(lines))
                break
            except ToonDecodeError as e:
                fix = _miscount(e, lines)
                if fix is None:
                    raise _rejected(e, lines, fixes, text, shape) from None
                # A header corrected twice (a bound, then the count) is told once.
                fixes.setdefault(fix[:2], fix[2:])
        else:
            raise RejectedReply("too many miscounted array headers", text=text)
    except RecursionError:
        raise RejectedReply("nested too deep", text=text) from None
    for (line, digits), (label, declared, unit) in fixes.items():
        found = _count_at(lines[line - 1], digits)
        warnings.append(f"{label} declared {declared} {_plural(unit, declared)}, "
                        f"found {found}: corrected")
    return value


def _miscount(e: ToonDecodeError, lines: list[str]) -> tuple[int, int, str, int, str] | None:
    """Fix, in ``lines``, the header a count error names: its ``[N]`` becomes the
    count found (or, for "found more", an upper bound that the next decode turns
    into the count). Returns where the digits are, the label, N and the unit."""
    m = _MISCOUNT.match(e.msg)
    if m is None:
        return None
    declared, found = int(m.group("n")), m.group("found")
    row = e.line - 1
    start = e.column - 1
    if not 0 <= row < len(lines):
        return None
    if found == "more":
        # The error is at the extra item; its header is the nearest line above
        # that is indented less (everything in between is items, §9.4, §12).
        depth = len(lines[row]) - len(lines[row].lstrip(" "))
        row -= 1
        while row >= 0:
            content = lines[row].lstrip(" ")
            indent = len(lines[row]) - len(content)
            if content.strip(" \r") and not content.startswith("#") and indent < depth:
                break
            row -= 1
        if row < 0:
            return None
        start = indent + (2 if lines[row][indent:].startswith("- ") else 0)
    digits = _digits_at(lines[row], start, declared)
    if digits is None:
        return None
    new = len(lines) if found == "more" else int(found)
    if new == declared:
        return None
    line = lines[row]
    lines[row] = line[:digits] + str(new) + line[digits + len(str(declared)):]
    return row + 1, digits, m.group("label"), declared, _UNITS[m.group("unit")]


def _digits_at(line: str, start: int, count: int) -> int | None:
    """Where the digits of ``[count]`` are in the header whose key starts at ``start``."""
    if start < 0 or start >= len(line):
        return None
    if line[start] == '"':
        try:
            start = find_closing_quote(line, start + 1) + 1
        except ToonDecodeError:
            return None
    m = re.compile(rf"\[({count})(?=:?[\t|]?\])").search(line, start)
    return m.start(1) if m else None


def _count_at(line: str, digits: int) -> int:
    m = re.compile(r"\d+").match(line, digits)
    return int(m.group()) if m else 0


def _rejected(e: ToonDecodeError, lines: list[str],
              fixes: dict[tuple[int, int], tuple[str, int, str]], text: str,
              shape: OutputShape) -> RejectedReply:
    """The decode error as a RejectedReply, its column as in the reply's own text
    (before any count was corrected); prose with no field of the shape is said so."""
    if not _mentions_a_field(text, shape):
        return RejectedReply(f"no TOON reply: expected the fields {_names(shape)}", text=text)
    column = e.column
    for (line, digits), (_label, declared, _unit) in fixes.items():
        if line == e.line and digits < column - 1:
            column -= len(str(_count_at(lines[line - 1], digits))) - len(str(declared))
    original = text.split("\n")
    if 1 <= e.line <= len(original):
        column = max(1, min(column, len(original[e.line - 1]) + 1))
    return RejectedReply(e.msg, line=e.line, column=column, text=text)


def _mentions_a_field(text: str, shape: OutputShape) -> bool:
    names = "|".join(re.escape(f.name) for f in shape.fields)
    return re.search(rf'^ *(?:- )?"?(?:{names})"?\s*[:\[]', text, re.MULTILINE) is not None


# ------------------------------------------------------------ rule 5: the contract

def _check(value: dict[str, Any], shape: OutputShape, text: str, warnings: list[str],
           located: Located | None) -> dict[str, Any]:
    """The reply read against the contract: first leniently (a number or boolean
    where a text is due is its TOON text; one comma-separated text where a list
    of texts is due is split; an optional field given as ``null``, as strict
    json-schema replies give it, is absent), then validated (jsonschema, through
    :mod:`toon_tools.schema.validate`; a pydantic model through the model). Every
    failing field is told, each at its own position in the TOON text."""
    out = _conform(value, shape.schema, shape.schema, "", warnings, text, located)
    _storable(out, text)
    problems = _problems(shape, out)
    if problems:
        raise _contract_rejection([(p, m, _position(p, located)) for p, m in problems], text)
    return _validated_model(shape, out, text, located) if shape.model else out


def _conform(value: Any, node: Any, root: dict[str, Any], pointer: str, warnings: list[str],
             text: str, located: Located | None) -> Any:
    node = resolve(node, root)
    kind = schema_type(node)
    if isinstance(value, str):
        if value.strip() == PLACEHOLDER:  # the skeleton copied back is no answer
            raise _at(f"{_path(pointer)}: the placeholder {PLACEHOLDER} was not replaced",
                      pointer, text, located)
        if kind == "array" and _is_texts(node, root):
            items = [] if not value.strip() else [part.strip() for part in value.split(",")]
            if len(items) > 1:
                warnings.append(f"{_path(pointer)}: one text read as {len(items)} "
                                "comma-separated items")
            return [_conform(x, node.get("items"), root, f"{pointer}/{i}", warnings, text,
                             located) for i, x in enumerate(items)]
        return value
    if isinstance(value, (bool, int, float)) and kind == "string" and "enum" not in node:
        return format_primitive(value)
    if isinstance(value, dict) and kind == "object":
        props = node.get("properties") if isinstance(node.get("properties"), dict) else {}
        required = node.get("required") if isinstance(node.get("required"), list) else []
        out: dict[str, Any] = {}
        for key in [*props, *value]:
            if key in out or key not in value:
                continue
            v = value[key]
            if v is None and key in props and key not in required \
                    and not _allows_null(props[key], root):
                continue  # strict json-schema's way of leaving an optional field out
            sub = props.get(key, {})
            out[key] = _conform(v, sub, root, f"{pointer}/{_escape(key)}", warnings, text,
                                located)
        return out
    if isinstance(value, list) and kind == "array":
        return [_conform(x, node.get("items"), root, f"{pointer}/{i}", warnings, text, located)
                for i, x in enumerate(value)]
    return value


def _is_texts(node: dict[str, Any], root: dict[str, Any]) -> bool:
    items = resolve(node.get("items"), root)
    return schema_type(items) == "string" and "enum" not in items


def _allows_null(node: Any, root: dict[str, Any], depth: int = 0) -> bool:
    """Whether ``null`` is a value the (unresolved) schema ``node`` takes."""
    if not isinstance(node, dict) or depth > 8:
        return True
    ref = node.get("$ref")
    if isinstance(ref, str):
        # skeleton's resolve follows it; a target that is X-or-null reads as X there,
        # so such a field's null is dropped as absent (it is optional: no loss).
        target = resolve({"$ref": ref}, root)
        return False if "$unresolved" in target else _allows_null(target, root, depth + 1)
    kind = node.get("type")
    if kind is not None:
        return kind == "null" or (isinstance(kind, list) and "null" in kind)
    for key in ("anyOf", "oneOf"):
        alts = node.get(key)
        if isinstance(alts, list):
            return any(_allows_null(a, root, depth + 1) for a in alts)
    if isinstance(node.get("enum"), list):
        return None in node["enum"]
    return "const" in node and node["const"] is None or not (
        {"const", "properties", "items", "allOf"} & set(node))


def _problems(shape: OutputShape, value: dict[str, Any]) -> list[tuple[str, str]]:
    """``(pointer, message)`` per failing field, through the one validator."""
    return [(p.pointer, _say(p, value, shape.schema)) for p in _validator(shape).problems(value)]


#: A loaded validator per contract (loading checks the schema: done once per
#: shape), keyed by the shape's id and dropped when the shape is collected, so an
#: id reused later never finds another contract's validator.
_SCHEMAS: dict[int, tuple[weakref.ref[OutputShape], Schema]] = {}


def _validator(shape: OutputShape) -> Schema:
    from ..schema.validate import Schema

    held = _SCHEMAS.get(id(shape))
    if held is not None and held[0]() is shape:
        return held[1]
    schema = Schema.from_dict(shape.schema, base=shape.base)
    _SCHEMAS[id(shape)] = (weakref.ref(shape), schema)
    weakref.finalize(shape, _SCHEMAS.pop, id(shape), None)
    return schema


def _validated_model(shape: OutputShape, value: dict[str, Any], text: str,
                     located: Located | None) -> dict[str, Any]:
    """The artifact of a pydantic contract: the value the model validates, dumped
    as JSON data (defaults filled in, values in the model's own form).

    Validated as ``typed.decode_as`` validates a document, in pydantic's JSON
    mode: a reply is JSON's data model (TOON's, §3), so a strict model takes
    ``2024-01-02`` as a date and a list as a tuple, as it would from JSON. Every
    pydantic error is placed by ``typed.violation`` at its value in the reply; a
    JSON reply has no TOON positions, so its errors are told without one."""
    from pydantic import ValidationError

    from ..typed import violation
    from .spec import import_model

    assert shape.model is not None
    adapter = import_model(shape.model, shape.base)[1]
    try:
        model = adapter.validate_json(json.dumps(value, ensure_ascii=False,
                                                 separators=(",", ":")))
    except ValidationError as e:
        errors = e.errors(include_url=False)
        if any(err["type"] == "json_invalid" for err in errors):
            # Our JSON is valid: only pydantic's parser depth limit refuses it.
            raise RejectedReply("nested too deep", text=text) from None
        # The conformed value (a number read as a text, a list split from one
        # text) with the reply's spans: pointers that are new fall back to their
        # nearest ancestor in the text.
        placed = dataclasses.replace(located, value=value) if located is not None \
            else decode_located(encode(value))
        found = [violation(placed, err) for err in errors]
        raise _contract_rejection(
            [(v.pointer, v.message, (v.line, v.column) if located is not None else (None, None))
             for v in found], text) from None
    dumped = adapter.dump_python(model, mode="json")
    return dumped if isinstance(dumped, dict) else value


def _say(problem: Problem, value: Any, root: dict[str, Any]) -> str:
    """A problem as the model reads it: ``path: what was expected, what came``;
    jsonschema's own message when the failing keyword cannot be found."""
    keyword, pointer, message = problem.keyword, problem.pointer, problem.message
    got = _value_at(value, pointer)
    holder = _subschema(problem, root)
    node = holder.get(keyword) if holder is not None else None
    if keyword == "required":
        parent, _, key = pointer.rpartition("/")
        key = _unescape(key)
        found = _value_at(value, parent)
        container = found[0] if found else None
        near = [k for k in container if isinstance(k, str) and k.lower() == key.lower()] \
            if isinstance(container, dict) else []
        hint = f" (found '{near[0]}')" if near else ""
        return f"{_path(parent) + ': ' if parent else ''}no field '{key}'{hint}"
    where = _path(pointer)
    prefix = f"{where}: " if where else ""
    if keyword == "type" and node is not None:
        kinds = node if isinstance(node, list) else [node]
        expected = " or ".join(_KINDS.get(str(k), str(k)) for k in kinds)
        return f"{prefix}expected {expected}, got {_kind(got[0]) if got else 'nothing'}"
    if keyword in ("minItems", "maxItems") and got and isinstance(got[0], list):
        n = len(got[0])
        if holder is not None and fixed_count(holder) is not None:
            count = fixed_count(holder)
            return f"{prefix}expected {count} {_plural('item', count or 0)}, got {n}"
        if keyword == "minItems" and isinstance(node, int):
            return f"{prefix}expected {node} or more items, got {n}"
        if isinstance(node, int):
            return f"{prefix}expected at most {node} items, got {n}"
    if keyword == "enum" and isinstance(node, list):
        shown = ", ".join(format_primitive(v) if v is None or isinstance(v, (str, int, float))
                          else "..." for v in node[:8])
        return f"{prefix}expected one of {shown}, got {_shown(got[0]) if got else 'nothing'}"
    return f"{prefix}{message}"


_KINDS: Final = {"string": "a text", "integer": "an integer", "number": "a number",
                 "boolean": "true or false", "array": "a list", "object": "an object",
                 "null": "null"}


def _subschema(problem: Problem, root: dict[str, Any]) -> dict[str, Any] | None:
    """The schema object that holds the failing keyword: the one jsonschema
    reports when the problem carries it, else found from the problem's rule, the
    keyword's place in the contract (``$defs/Beat/properties/n/type``, a ``$ref``
    already followed), through skeleton's ``resolve``, the one walk of a schema.
    None when the rule names another document (``age.json#/type``) or passes
    through a ``$ref`` (older rules): the message is then jsonschema's own."""
    held = getattr(problem, "schema", None)
    if isinstance(held, dict):
        return held
    place, _, keyword = problem.rule.rpartition("/")
    if keyword != problem.keyword or "#" in place or "$ref" in place.split("/"):
        return None
    node = resolve({"$ref": f"#/{place}" if place else "#"}, root)
    return None if "$unresolved" in node else node


def _value_at(value: Any, pointer: str) -> list[Any]:
    """``[the value at pointer]``, or ``[]`` when there is none."""
    node = value
    for part in pointer.split("/")[1:] if pointer else []:
        part = _unescape(part)
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return []
    return [node]


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)) or value is None:
        return _kind(value)
    text = format_primitive(value)
    return text if len(text) <= 30 else text[:27] + "..."


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _unescape(part: str) -> str:
    return part.replace("~1", "/").replace("~0", "~")


def _path(pointer: str) -> str:
    """A pointer as the model reads it: ``scenes/3/title``."""
    return pointer[1:]


def _at(message: str, pointer: str, text: str, located: Located | None) -> RejectedReply:
    line, column = _position(pointer, located)
    return RejectedReply(message, line=line, column=column, text=text)


def _position(pointer: str, located: Located | None) -> tuple[int | None, int | None]:
    if located is None:
        return None, None
    _, span = located.find(pointer)
    return span.value.line, span.value.column


def _contract_rejection(problems: list[tuple[str, str, tuple[int | None, int | None]]],
                        text: str) -> RejectedReply:
    """One rejection that tells every failing field, ``(pointer, message, (line,
    column))`` each (the first is its message and position)."""
    pointer, message, (line, column) = problems[0]
    e = RejectedReply(message + (f" (and {len(problems) - 1} more)" if len(problems) > 1
                                 else ""), line=line, column=column, text=text or None)
    e.problems = tuple((p, _one_line(m)) for p, m, _ in problems)
    e.positions = tuple(at for _, _, at in problems)
    return e


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a number" if isinstance(value, (int, float)) else "a text"


def _storable(value: Any, text: str) -> None:
    """Refuse what TOON cannot hold (a JSON reply may carry it): a lone surrogate,
    or nesting deeper than the codec's limit."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > DEFAULT_MAX_DEPTH:
            raise RejectedReply("nested too deep", text=text)
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                raise RejectedReply(
                    f"a text holds a lone surrogate (U+{ord(v[e.start]):04X})", text=text
                ) from None
        elif isinstance(v, dict):
            stack.extend((k, depth + 1) for k in v)
            stack.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v)


# ------------------------------------------------------------ salvage: a table cut short

@dataclass(frozen=True)
class Partial:
    """A reply whose last field, a table (§9.3), stops short of its ``[N]``: the
    rows that came back whole, in order (a row cut mid-way is dropped), and every
    field before the table, as decoded."""

    key: str
    declared: int
    rows: tuple[dict[str, Any], ...]
    head: dict[str, Any]


def cut_table(content: str, shape: OutputShape, *, length: bool) -> Partial | None:
    """The complete rows of a reply cut short in a table that ends it, or None
    when there is nothing to continue. ``length``: the reply was cut at the token
    limit, so its last row counts only if a line break followed it; otherwise
    (the model stopped) only a last row that is incomplete marks a cut: complete
    rows short of ``[N]`` are a miscount, which rule 4 corrects.

    Also None when the table is not one of the contract's fields, no row came
    back whole, a row before the last is broken, what precedes the table does
    not decode, a required field that should have preceded it is missing (no
    continuation could then make the reply whole), or its ``[N]`` is a count
    the contract cannot accept (:func:`read_reply` refuses that reply)."""
    found = _cut(content, shape, length=length)
    return found if isinstance(found, Partial) else None


def _cut(content: str, shape: OutputShape, *, length: bool) -> Partial | RejectedReply | None:
    """:func:`cut_table`, or the refusal of a table cut short whose ``[N]`` the
    contract cannot accept: the model's N is never trusted to size follow-ups
    (``rows[100]`` against ``maxItems: 10`` would buy 8 of them), so the reply
    is re-asked with the count it must keep, at its header."""
    text = extract(content)
    if not text or text.startswith("{"):
        return None
    lines = text.split("\n")
    top = [i for i, x in enumerate(lines) if x.strip() and x[0] not in " #"]
    if not top:
        return None
    at = top[-1]
    key = _table_key(lines[at])
    node = resolve(shape.schema, shape.schema)
    props = _dict(node.get("properties"))
    if key is None or key not in props or schema_type(resolve(props[key], shape.schema)) != "array":
        return None
    m = _TABLE_HEADER.match(lines[at])
    assert m is not None  # _table_key matched it
    declared = int(m.group("n"))
    row_lines = [x for x in lines[at + 1:] if x.strip() and not x.lstrip().startswith("#")]
    unterminated = length and bool(row_lines) and _unterminated(content, row_lines[-1])
    rows, broken = _rows(lines[at], row_lines, unterminated)
    if broken is not None and broken < len(row_lines) - 1:
        return None  # a row broken before the last: not a cut, a mistake to tell
    if broken is None and not length:
        return None
    try:
        head = decode("\n".join(lines[:at])) if at else {}
    except (ToonDecodeError, RecursionError):
        return None
    required = node.get("required")
    required = required if isinstance(required, list) else []
    if not isinstance(head, dict) or any(r not in head for r in required if r != key):
        return None
    refused = _count_refused(resolve(props[key], shape.schema), key, declared)
    if refused is not None:
        return RejectedReply(refused, line=at + 1, column=m.start("n") + 1, text=text)
    if not rows or len(rows) >= declared:
        return None
    return Partial(key, declared, tuple(rows), head)


def _count_refused(table: dict[str, Any], key: str, declared: int) -> str | None:
    """Why the contract's array ``table`` cannot hold ``declared`` rows, or None."""
    fixed = fixed_count(table)
    if fixed is not None:
        return None if declared == fixed else (
            f"{key}: declared {declared} rows; the contract asks for exactly {fixed}")
    low, high = _count(table.get("minItems")), _count(table.get("maxItems"))
    if high is not None and declared > high:
        return f"{key}: declared {declared} rows; the contract allows at most {high}"
    if low is not None and declared < low:
        return f"{key}: declared {declared} rows; the contract asks for at least {low}"
    return None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def salvage_prompt(shape: OutputShape, partial: Partial, rows: Sequence[dict[str, Any]]) -> str:
    """What a follow-up asks when ``rows`` (1 or more) of ``partial``'s table came
    back: the rows still missing, 1-based (``rows 5-10 of 10``), the last row
    that arrived for continuity, and the skeleton of just those rows."""
    first, declared = len(rows) + 1, partial.declared
    last = rows[-1]
    shown = _row_text(shape, partial.key, last)
    missing = rows_shape(shape, partial.key, declared - len(rows))
    return "\n".join([
        f"Your last reply was cut off in {partial.key} after row {len(rows)} of {declared}. "
        f"Row {len(rows)}, the last that arrived:",
        *shown,
        f"Continue with rows {first}-{declared} of {declared} only (nothing before them):",
        missing.skeleton()])


def rows_shape(shape: OutputShape, key: str, count: int) -> OutputShape:
    """The contract of a follow-up: the table ``key`` alone, of exactly ``count``
    rows (its skeleton and its toon-grammar)."""
    root = {k: v for k, v in shape.schema.items() if k not in ("description", "title")}
    props = _dict(resolve(shape.schema, shape.schema).get("properties"))
    table = {**resolve(props[key], shape.schema), "minItems": count, "maxItems": count}
    root.update({"type": "object", "properties": {key: table}, "required": [key]})
    root.pop("allOf", None)
    root.pop("$ref", None)
    return OutputShape.from_schema(root, base=shape.base)


def read_rows(content: str, shape: OutputShape, partial: Partial, rows: Sequence[dict[str, Any]],
              *, finish_reason: str | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows a follow-up brought that come after ``rows`` (its own header, or
    bare rows in the order the prompt showed), at most the missing ones; and
    what was corrected: rows that had arrived written again (the continuity row,
    or a model starting over), rows beyond those asked. A row cut mid-way, and
    under ``length`` a last row with no line break after it, is dropped. Rows
    that cannot be placed after ``rows`` with confidence (:func:`_placed`) are
    not kept at all: the round adds none, rather than a guess."""
    warnings: list[str] = []
    text = extract(content)
    lines = [x for x in text.split("\n") if x.strip() and not x.lstrip().startswith("#")]
    if not lines:
        return [], warnings
    if _table_key(lines[0]) == partial.key:
        header, body = lines[0], lines[1:]
    else:
        header = _row_lines(shape, partial.key, rows[-1])[0]
        body = ["  " + x.lstrip(" ") for x in lines]
    unterminated = finish_reason == "length" and bool(body) and _unterminated(content, body[-1])
    got, broken = _rows(header, body, unterminated)
    if not got:
        return got, warnings
    held, key = len(rows), partial.key
    wanted = partial.declared - held
    whole = broken is None and finish_reason != "length"
    skip = _placed(rows, got, wanted if whole else None)
    if skip is None:
        warnings.append(f"{key}: the rows sent could not be placed after row {held}: "
                        "none kept")
        return [], warnings
    if skip == 1:
        warnings.append(f"{key}: row {held}, shown for continuity, was written again: dropped")
    elif skip > 1 and skip <= held and _same(got[:skip], rows[held - skip:]):
        warnings.append(f"{key}: rows {held - skip + 1}-{held}, which had arrived, were "
                        "written again: dropped")
    elif skip > 1:
        warnings.append(f"{key}: {skip} rows up to row {held} (shown for continuity) were "
                        "written again: dropped")
    got = got[skip:]
    if len(got) > wanted:
        warnings.append(f"{key}: {len(got) - wanted} more rows than the {wanted} asked: "
                        "dropped")
        got = got[:wanted]
    return got, warnings


def _placed(held: Sequence[dict[str, Any]], got: Sequence[dict[str, Any]],
            wanted: int | None) -> int | None:
    """How many of the rows ``got`` lead with rows already ``held`` (rows that
    come before the first missing one), or None when that is not clear.

    Models often start a continuation over, from row 1 or later, or write the
    row shown for continuity again. The readings, each a number of rows to skip:
    none, when the first row is not one held; after each copy of the last held
    row (the continuity row), when what precedes it is the held rows' tail (a
    restart from a held row) or holds no held row at all (a restart that wrote
    other rows). A follow-up that came back whole with ``wanted`` rows after
    one reading's skip is placed by its count; otherwise a copy of the
    continuity row wins over none, and two readings left are a guess: None."""
    keys = [_row_key(r) for r in held]
    seen = set(keys)
    sent = [_row_key(r) for r in got]
    readings = [] if sent[0] in seen else [0]
    for j, row in enumerate(sent):
        if row != keys[-1]:
            continue
        before = sent[:j]
        if (j < len(keys) and before == keys[len(keys) - 1 - j:-1]) \
                or not any(b in seen for b in before):
            readings.append(j + 1)
    if wanted is not None and len(sent) - wanted in readings:
        return len(sent) - wanted
    left = [r for r in readings if r] or readings
    return left[0] if len(left) == 1 else None


def _row_key(row: dict[str, Any]) -> str:
    """A row as a comparable value (cells in any order; 1 and 1.0 kept apart)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def _same(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> bool:
    return [_row_key(r) for r in a] == [_row_key(r) for r in b]


def merge_rows(partial: Partial, rows: Sequence[dict[str, Any]]) -> str:
    """The reply as if it had not been cut: the first reply's other fields, then
    the table with every row, its count the rows'."""
    return encode({**partial.head, partial.key: list(rows)})


def _table_key(line: str) -> str | None:
    """The key of a tabular header line at the top level, read by the codec."""
    m = _TABLE_HEADER.match(line)
    if m is None:
        return None
    try:
        value = decode(_with_count(line, m, 0))
    except (ToonDecodeError, RecursionError):
        return None
    if not isinstance(value, dict) or len(value) != 1:
        return None
    key, rows = next(iter(value.items()))
    return key if rows == [] else None


def _with_count(line: str, m: re.Match[str], count: int) -> str:
    return line[:m.start("n")] + str(count) + line[m.end("n"):]


def _rows(header: str, lines: list[str], unterminated: bool
          ) -> tuple[list[dict[str, Any]], int | None]:
    """The rows under ``header`` that decode whole, up to the first that does not
    (its index, or None): each row is decoded alone under the header by the
    codec. ``unterminated``: the last line counts as broken (cut at the limit)."""
    m = _TABLE_HEADER.match(header)
    if m is None:
        return [], 0 if lines else None
    one = _with_count(header, m, 1)
    rows: list[dict[str, Any]] = []
    for i, line in enumerate(lines):
        if unterminated and i == len(lines) - 1:
            return rows, i
        try:
            value = decode(f"{one}\n  {line.strip()}")
        except (ToonDecodeError, RecursionError):
            return rows, i
        row = next(iter(value.values()))[0] if isinstance(value, dict) and value else None
        if not line.startswith(" ") or not isinstance(row, dict):
            return rows, i
        rows.append(row)
    return rows, None


def _unterminated(content: str, line: str) -> bool:
    """Whether the reply ends on ``line`` with no line break (or fence) after it."""
    return content.rstrip(" \t\r").endswith(line.strip())


def _ordered(shape: OutputShape, key: str, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with its cells in the contract's column order (the skeleton's)."""
    props = _dict(resolve(shape.schema, shape.schema).get("properties"))
    items = resolve(resolve(props.get(key), shape.schema).get("items"), shape.schema)
    columns = _dict(items.get("properties"))
    return {**{c: row[c] for c in columns if c in row}, **row}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _row_lines(shape: OutputShape, key: str, row: dict[str, Any]) -> list[str]:
    """``row`` as a one-row table: its header, then the row's lines."""
    return encode({key: [_ordered(shape, key, row)]}).split("\n")


def _row_text(shape: OutputShape, key: str, row: dict[str, Any]) -> list[str]:
    return _row_lines(shape, key, row)[1:]


# ------------------------------------------------------------ messages

def _names(shape: OutputShape) -> str:
    names = [f.name for f in shape.fields]
    return ", ".join(names[:4]) + (", ..." if len(names) > 4 else "")


def _plural(unit: str, n: int) -> str:
    if n == 1:
        return unit
    return "entries" if unit == "entry" else unit + "s"


def _one_line(message: str) -> str:
    """One printable line of at most MAX_MESSAGE characters."""
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
    return line if len(line) <= MAX_MESSAGE else line[:MAX_MESSAGE - 3] + "..."
