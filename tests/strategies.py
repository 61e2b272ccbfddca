"""Hypothesis strategies for JSON-model values shaped like TOON's interesting cases:
uniform and keyed tables, nested field groups, strings that need quoting and
numbers at the edges of canonical form (§2, §7.2, §9)."""

from __future__ import annotations

import re
from typing import Any

from hypothesis import strategies as st

# JavaScript orders integer-like keys first; the differential test must avoid them.
_INT_LIKE = re.compile(r"(?:0|[1-9][0-9]*)\Z")

_SPECIAL = ':"\\[]{},|\t\n\r -#.0123456789eE+ \x00\x01\x1f'
_ALPHABET = st.sampled_from(list("abcxyzABC_") + list(_SPECIAL) + ["é", "世", "🚀", "\u00a0"])

TRICKY_STRINGS = [
    "", " ", "true", "false", "null", "True", "42", "-3.14", "1e-6", "1E5", "05", "+1",
    "-", "-x", "#", "#tag", "a:b", "a,b", "a|b", "a\tb", "[1]", "{x}", "x y", " lead",
    "trail ", "line\nbreak", 'say "hi"', "back\\slash", "\x00", "0", "-0", ".5", "1.",
    "Infinity", "NaN", "0x10", "1_000", "[]", "- a", "a: b", "é", "🚀 launch",
]

EDGE_FLOATS = [
    0.0, -0.0, 1e-6, 1e-7, 1.5e-7, 9.99e-7, 1e21, 9.99e20, 1e20, 123456789012345680000.0,
    0.1, 0.30000000000000004, 1e16, 1.5e16, 5e-324, 1.7976931348623157e308, -2.5e-10,
    1e100, 12345.678, 1.0, 100.0,
]

strings = st.one_of(st.text(_ALPHABET, max_size=10), st.sampled_from(TRICKY_STRINGS))

numbers = st.one_of(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.sampled_from(EDGE_FLOATS),
    st.floats(allow_nan=False, allow_infinity=False),
)

primitives = st.one_of(st.none(), st.booleans(), numbers, strings)


def keys(js_safe: bool = True) -> st.SearchStrategy[str]:
    plain = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,6}", fullmatch=True)
    quoted = st.one_of(st.text(_ALPHABET, max_size=6), st.sampled_from(TRICKY_STRINGS))
    k = st.one_of(plain, plain, quoted)
    return k.filter(lambda s: not _INT_LIKE.match(s)) if js_safe else k


@st.composite
def _shape(draw: Any, depth: int) -> dict[str, Any]:
    """A field layout: key -> None (primitive column) or a nested layout."""
    names = draw(st.lists(keys(), min_size=1, max_size=4, unique=True))
    return {
        n: (draw(_shape(depth + 1)) if depth < 2 and draw(st.integers(0, 4)) == 0 else None)
        for n in names
    }


def _fill(draw: Any, shape: dict[str, Any]) -> dict[str, Any]:
    names = list(shape)
    if draw(st.booleans()):
        names = draw(st.permutations(names))  # key order per object may vary (§9.3)
    return {n: (_fill(draw, shape[n]) if shape[n] else draw(primitives)) for n in names}


@st.composite
def tables(draw: Any) -> list[dict[str, Any]]:
    """Uniform arrays of objects, possibly with nested field groups (§9.3)."""
    shape = draw(_shape(0))
    return [_fill(draw, shape) for _ in range(draw(st.integers(1, 4)))]


@st.composite
def keyed_tables(draw: Any) -> dict[str, Any]:
    """Objects of uniform objects: keyed tabular form (§9.5)."""
    shape = draw(_shape(0))
    entries = draw(st.lists(keys(), min_size=2, max_size=4, unique=True))
    return {e: _fill(draw, shape) for e in entries}


def json_values(js_safe: bool = True) -> st.SearchStrategy[Any]:
    def extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(keys(js_safe), children, max_size=4),
            tables(),
            keyed_tables(),
        )

    return st.recursive(primitives, extend, max_leaves=20)


documents = st.one_of(
    st.dictionaries(keys(), json_values(), max_size=5),
    json_values(),
)


# ---------------------------------------------------------------- TOON text, written by hand
#
# A small writer independent of the encoder: each array picks its own delimiter,
# uniform arrays of objects are written tabular or expanded at random, spacing
# after colons varies, and full-line comments land at random places and indents.
# What the formatter must cope with, not what the encoder produces.

DELIMITERS = [",", "\t", "|"]
_MARK = {",": "", "\t": "\t", "|": "|"}


def _prim(value: Any, delimiter: str) -> str:
    from toon_tools.codec import format_primitive

    return format_primitive(value, delimiter)


def _key(key: str) -> str:
    from toon_tools.codec import encode_key

    return encode_key(key)


def _is_prim(v: Any) -> bool:
    return not isinstance(v, (dict, list))


class _Writer:
    def __init__(self, draw: Any, indent: int, doc_delimiter: str) -> None:
        self.draw = draw
        self.indent = indent
        self.doc = doc_delimiter
        self.loose = draw(st.booleans())  # extra spaces after some colons
        self.lines: list[str] = []

    def pad(self, depth: int) -> str:
        return " " * (self.indent * depth)

    def space(self) -> str:
        return "   " if self.loose and self.draw(st.booleans()) else " "

    def fields(self, obj: dict[str, Any], depth: int, first_lead: str | None = None) -> None:
        """Fields at ``depth``; ``first_lead`` replaces the first line's indent
        (a list-item object's hyphen, §10)."""
        for n, (k, v) in enumerate(obj.items()):
            lead = first_lead if n == 0 and first_lead is not None else self.pad(depth)
            self.field(lead, _key(k), v, depth + 1)

    def field(self, lead: str, key: str, v: Any, child: int) -> None:
        if _is_prim(v):
            self.lines.append(f"{lead}{key}:{self.space()}{_prim(v, self.doc)}")
        elif isinstance(v, dict):
            self.lines.append(f"{lead}{key}:")
            self.fields(v, child)
        elif not v:
            self.lines.append(f"{lead}{key}: []")
        else:
            self.array(lead, key, v, child)

    def array(self, lead: str, key: str, v: list[Any], child: int, item: bool = False) -> None:
        d = self.draw(st.sampled_from(DELIMITERS))
        mark = _MARK[d]
        if all(_is_prim(x) for x in v) and self.draw(st.integers(0, 3)):
            cells = d.join(_prim(x, d) for x in v)
            self.lines.append(f"{lead}{key}[{len(v)}{mark}]:{self.space()}{cells}")
            return
        names = list(v[0]) if isinstance(v[0], dict) else []
        flat = (not item and names and all(
            isinstance(x, dict) and list(x) == names and all(map(_is_prim, x.values()))
            for x in v))
        if flat and self.draw(st.booleans()):
            fields = d.join(_key(n) for n in names)
            self.lines.append(f"{lead}{key}[{len(v)}{mark}]{{{fields}}}:")
            for x in v:
                self.lines.append(self.pad(child) + d.join(_prim(c, d) for c in x.values()))
            return
        self.lines.append(f"{lead}{key}[{len(v)}{mark}]:")
        for x in v:
            self.item(x, child)

    def item(self, x: Any, depth: int) -> None:
        hyphen = self.pad(depth) + "- "
        if _is_prim(x):
            self.lines.append(hyphen + _prim(x, self.doc))
        elif isinstance(x, dict):
            if not x:
                self.lines.append(self.pad(depth) + "-")
            else:
                self.fields(x, depth + 1, first_lead=hyphen)
        elif not x:
            self.lines.append(hyphen + "[]")
        else:
            self.array(hyphen, "", x, depth + 1, item=True)


_small_values = st.recursive(
    primitives,
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(keys(), children, max_size=3), tables()),
    max_leaves=8,
)


@st.composite
def messy_documents(draw: Any, comments: bool = True) -> tuple[str, int]:
    """(TOON text, indent size): an object root written by :class:`_Writer`, with
    full-line comments (``# c<n>``) at random lines and indents."""
    value = draw(st.dictionaries(keys(), _small_values, min_size=1, max_size=3))
    indent = draw(st.sampled_from([1, 2, 2, 4]))
    writer = _Writer(draw, indent, draw(st.sampled_from(DELIMITERS)))
    writer.fields(value, 0)
    lines = writer.lines
    if comments:
        for n in range(draw(st.integers(0, 5))):
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, " " * draw(st.integers(0, 6)) + f"# c{n}")
    if draw(st.integers(0, 5)) == 0:
        lines.append(draw(st.sampled_from(["", "  ", "\t", " \t "])))
    return "\n".join(lines), indent
