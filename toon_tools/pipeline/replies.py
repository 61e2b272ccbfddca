"""Reading a model's reply against a step's output shape (issue 12, item 3):
lenient where the meaning is plain, honest about every correction, and precise
when it refuses, since the refusal is what a re-ask shows the model.

The rules, in order:

1. a reply cut off at the token limit (``finish_reason: "length"``) is refused
   at once and never parsed (:class:`TruncatedReply`);
2. the last fenced block anywhere in the reply is read (``` or ~~~, any info
   string, the text around it ignored); with no fence, the whole reply;
3. a JSON object is taken as it is (what ``response_format`` produces); anything
   else is TOON, decoded strictly;
4. a header whose ``[N]`` miscounts complete values, rows, items or entries
   (§14.1) is corrected and decoded again, with a warning; a row missing a value
   is still refused;
5. the value must hold every declared field: a text takes a string, or a number
   or boolean as its TOON text; a list takes a list of scalars, or one string
   split on commas (``tags: a, b, c``); a fixed count is checked. Other fields
   are kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from ..codec import DEFAULT_MAX_DEPTH, ToonDecodeError, decode, find_closing_quote, format_primitive
from ..errors import Finding
from .shape import PLACEHOLDER, FieldShape, OutputShape

#: A RejectedReply's message is shown to the model on a re-ask: one short line.
MAX_MESSAGE: Final = 100
#: Miscounted headers corrected in one reply at most (each costs a decode).
MAX_CORRECTIONS: Final = 16

_OPEN_FENCE: Final = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)\Z")
_CLOSE_FENCE: Final = re.compile(r" {0,3}(`{3,}|~{3,})[ \t]*\r?\Z")
_MISCOUNT: Final = re.compile(
    r"(?P<label>.*\[(?P<n>\d+):?\]): expected (?P=n) (?P<unit>values|rows|list items|entries),"
    r" found (?P<found>\d+|more)\Z", re.DOTALL)
_UNITS: Final = {"values": "item", "list items": "item", "rows": "row", "entries": "entry"}


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

    def for_model(self) -> str:
        """``line:col: message``, or the message alone when no position is known."""
        if self.line is None or self.column is None:
            return self.message
        return f"{self.line}:{self.column}: {self.message}"


class TruncatedReply(RejectedReply):
    """``finish_reason`` was ``"length"``: the reply was cut off, so it is never parsed."""


def read_reply(content: str, shape: OutputShape, *, finish_reason: str | None = None) -> Accepted:
    """The artifact a reply holds for ``shape`` (a dict, declared fields first),
    or :class:`RejectedReply`."""
    if finish_reason == "length":
        raise TruncatedReply("the reply was cut off at the token limit (finish_reason: length)")
    text = extract(content)
    if not text:
        raise RejectedReply(f"empty reply: expected the fields {_names(shape)}", text=text)
    warnings: list[str] = []
    value = _read_json(text) if text.startswith("{") else None
    if value is None:
        value = _read_toon(text, shape, warnings)
    if not isinstance(value, dict):
        if isinstance(value, list):
            raise RejectedReply(f"expected the fields {_names(shape)}, got a list", text=text)
        raise RejectedReply(f"no TOON reply: expected the fields {_names(shape)}", text=text)
    return Accepted(_check(value, shape, text, warnings), tuple(warnings))


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


def _read_toon(text: str, shape: OutputShape, warnings: list[str]) -> Any:
    """Decode strictly; a header that miscounts what follows it is corrected (rule 4)."""
    lines = text.split("\n")
    fixes: dict[tuple[int, int], tuple[str, int, str]] = {}  # (line, digits): label, N, unit
    try:
        for _ in range(2 * MAX_CORRECTIONS):  # "found more" takes two passes
            try:
                value = decode("\n".join(lines))
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


# ------------------------------------------------------------ rule 5: the shape

def _check(value: dict[str, Any], shape: OutputShape, text: str,
           warnings: list[str]) -> dict[str, Any]:
    """The declared fields as texts and lists of texts, in declared order, then
    the reply's other fields as they are."""
    out: dict[str, Any] = {}
    for f in shape.fields:
        if f.name not in value:
            near = [k for k in value if isinstance(k, str) and k.lower() == f.name.lower()]
            hint = f" (found '{near[0]}')" if near else ""
            raise RejectedReply(f"no field '{f.name}'{hint}", text=text)
        got = value[f.name]
        try:
            out[f.name] = _list(f, got, warnings) if f.is_list else _text(got)
        except ValueError as e:
            line = _field_line(text, f.name)
            raise RejectedReply(f"{f.name}: {e}", line=line, column=None if line is None else 1,
                                text=text) from None
    for key, v in value.items():
        out.setdefault(key, v)
    _storable(out, text)
    return out


def _text(value: Any) -> str:
    if isinstance(value, str):
        if value.strip() == PLACEHOLDER:  # the skeleton copied back is no answer
            raise ValueError(f"the placeholder {PLACEHOLDER} was not replaced")
        return value
    if isinstance(value, (bool, int, float)):
        return format_primitive(value)
    raise ValueError(f"expected a text, got {_kind(value)}")


def _list(f: FieldShape, value: Any, warnings: list[str]) -> list[str]:
    if isinstance(value, str):
        items = [] if not value.strip() else [_text(part.strip()) for part in value.split(",")]
        if len(items) > 1:
            warnings.append(f"{f.name}: one text read as {len(items)} comma-separated items")
    elif isinstance(value, list):
        items = []
        for n, item in enumerate(value, 1):
            if item is None or isinstance(item, (dict, list)):
                raise ValueError(f"item {n} is {_kind(item)}, expected a text")
            items.append(_text(item))
    else:
        raise ValueError(f"expected a list of texts, got {_kind(value)}")
    if f.count is not None and len(items) != f.count:
        raise ValueError(f"expected {f.count} {_plural('item', f.count)}, got {len(items)}")
    if not items:
        raise ValueError("expected 1 or more items, got 0")
    return items


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return "a number" if isinstance(value, (int, float)) else "a text"


def _field_line(text: str, name: str) -> int | None:
    """The line of a top-level field in TOON text (None for JSON)."""
    if text.startswith("{"):
        return None
    pattern = re.compile(rf'(?:{re.escape(name)}|"{re.escape(name)}")\s*[:\[]')
    for n, line in enumerate(text.split("\n"), 1):
        if pattern.match(line):
            return n
    return None


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
