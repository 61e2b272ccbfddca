"""The TOON skeleton a JSON Schema describes: what a prompt shows a model and what
``toon schema skeleton`` prints (issue 13, items 5 and 6).

Each field is one line with a placeholder where the value goes, its
``description`` (and the bounds a reader needs) as ``#`` comment lines above it:
full-line comments, legal since spec 4.0 and stripped on decode (§5.1), so a
model that copies them back still writes valid TOON.

- a string is ``<text>`` (a ``format`` shows as ``<date>``, ``<email>``, ...), an
  integer ``<integer>``, a number ``<number>``, a boolean ``true|false``;
- an ``enum`` (or ``const``) shows its values: ``draft|final``;
- an array of scalars is an inline array (§9.1): ``tags[N]: <text>,<text>,...``,
  or every item spelled out for a fixed count up to 5 (``tags[3]: ...``);
- an array of flat objects (every property a scalar) is a tabular array (§9.3):
  ``scenes[N]{title,summary}:`` and one row of placeholders;
- any other array is a list of items (§9.4), a nested object an indented block.

``N`` is shown for an array of any length and explained in a note; notes are
returned apart (:attr:`Skeleton.notes`) so that a prompt can say them after the
TOON. Local ``$ref`` (``#/$defs/...``, pydantic's form) are followed; a ``$ref``
that cannot be followed here, or a ``oneOf`` of several shapes, shows ``<value>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: The placeholder of a string; a reply that copies it back is no answer.
TEXT: Final = "<text>"
#: Fixed counts up to this many show every item.
SPELLED_OUT: Final = 5
#: Nesting the skeleton follows before it shows ``<value>`` (a recursive schema ends).
MAX_DEPTH: Final = 12
_SCALARS: Final = frozenset({"string", "integer", "number", "boolean", "null"})
#: What makes a bare enum value ambiguous in an ``a|b`` list of choices.
_AMBIGUOUS: Final = re.compile(r"[|<>\s]")


@dataclass(frozen=True)
class Skeleton:
    """The skeleton's TOON lines (with their comments) and the notes a reader needs
    (what each ``N`` is, exact counts of long arrays)."""

    text: str
    notes: tuple[str, ...]


def render_skeleton(schema: Mapping[str, Any]) -> str:
    """The TOON skeleton of ``schema`` with its ``#`` description lines, then its
    notes as ``#`` lines too (what ``toon schema skeleton`` prints)."""
    sk = build_skeleton(schema)
    return "\n".join([sk.text, *(f"# {n}" for n in sk.notes)]) if sk.text else \
        "\n".join(f"# {n}" for n in sk.notes)


def build_skeleton(schema: Mapping[str, Any], *, descriptions: bool = True) -> Skeleton:
    """The skeleton of ``schema`` (an object schema gives one line per property; any
    other root gives a root array or a lone value), and its notes apart."""
    r = _Renderer(schema, descriptions)
    root = r.resolve(schema)
    lines: list[str] = []
    if descriptions:
        lines += _comments(root.get("description") or root.get("title"), "")
    if _is_object(root):
        r.object_fields(root, 0, lines, ())
    elif _is_array(root):
        r.field(None, root, 0, lines, ())
    else:
        lines.append(r.scalar(root))
    return Skeleton("\n".join(lines), tuple(r.notes()))


def resolve(node: Any, root: Mapping[str, Any]) -> dict[str, Any]:
    """``node`` as the skeleton reads it: a local ``$ref`` followed, a ``null``
    alternative dropped (``Optional[X]`` reads as ``X``), a lone ``allOf`` merged."""
    return _Renderer(root, False).resolve(node)


def schema_type(node: Mapping[str, Any]) -> str | None:
    """The one JSON type ``node`` (resolved) describes, ``null`` aside; None when
    it allows several or says none."""
    return _type(node)


def fixed_count(node: Mapping[str, Any]) -> int | None:
    """The item count of an array schema whose minItems equals its maxItems."""
    return _fixed_count(node)


class _Renderer:
    def __init__(self, root: Mapping[str, Any], descriptions: bool) -> None:
        self.root = root
        self.descriptions = descriptions
        self.any_count: list[tuple[str, str]] = []  # (name, unit) of arrays shown with N
        self.exact: list[str] = []

    # ------------------------------------------------------------ schema access

    def resolve(self, node: Any, depth: int = 0) -> dict[str, Any]:
        """``node`` with a local ``$ref`` followed, ``null`` alternatives dropped
        (``Optional[X]`` is shown as ``X``) and ``allOf`` of one taken as it is."""
        for _ in range(MAX_DEPTH):
            if not isinstance(node, Mapping):
                return {}
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = _local(self.root, ref)
                if target is None:
                    return {"$unresolved": ref}
                # Keywords beside $ref (a description on a field) win over the target's.
                node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
                continue
            for key in ("anyOf", "oneOf"):
                alts = node.get(key)
                if isinstance(alts, list):
                    kept = [a for a in alts if not (isinstance(a, Mapping) and a.get("type") == "null")]
                    if len(kept) == 1:
                        node = {**{k: v for k, v in node.items() if k != key}, **_as_dict(kept[0])}
                        break
            else:
                all_of = node.get("allOf")
                if isinstance(all_of, list) and len(all_of) == 1:
                    node = {**{k: v for k, v in node.items() if k != "allOf"}, **_as_dict(all_of[0])}
                    continue
                return dict(node)
        return dict(node) if isinstance(node, Mapping) else {}

    # ------------------------------------------------------------ rendering

    def object_fields(self, node: Mapping[str, Any], indent: int, lines: list[str],
                      path: tuple[str, ...]) -> None:
        props = node.get("properties")
        if not isinstance(props, Mapping) or not props:
            lines.append(" " * indent + "<key>: <value>")
            return
        for name, sub in props.items():
            self.field(str(name), self.resolve(sub), indent, lines, (*path, str(name)))

    def field(self, name: str | None, node: dict[str, Any], indent: int, lines: list[str],
              path: tuple[str, ...]) -> None:
        pad = " " * indent
        key = "" if name is None else _key(name)
        if self.descriptions and name is not None:
            lines += _comments(_describe(node), pad)
        if len(path) > MAX_DEPTH:
            lines.append(f"{pad}{key}: <value>")
        elif _is_array(node):
            self.array(key, name or "items", node, indent, lines, path)
        elif _is_object(node):
            lines.append(f"{pad}{key}:")
            self.object_fields(node, indent + 2, lines, path)
        else:
            lines.append(f"{pad}{key}: {self.scalar(node)}")

    def array(self, key: str, name: str, node: dict[str, Any], indent: int, lines: list[str],
              path: tuple[str, ...]) -> None:
        pad = " " * indent
        items = self.resolve(node.get("items"))
        fixed = _fixed_count(node)
        count = "N" if fixed is None else str(fixed)
        columns = _flat_columns(self, items)
        if columns is not None:
            header = ",".join(_key(c) for c, _ in columns)
            if self.descriptions:
                for c, sub in columns:
                    text = _describe(sub)
                    if text:
                        lines.append(f"{pad}# {c}: {_one_line(text)}")
            lines.append(f"{pad}{key}[{count}]{{{header}}}:")
            row = ",".join(self.scalar(sub) for _, sub in columns)
            shown = fixed if fixed is not None and fixed <= SPELLED_OUT else 1
            lines += [f"{pad}  {row}"] * shown
            if shown != fixed:
                lines.append(f"{pad}  ...")
            self._count_note(name, "rows", fixed)
        elif not items or _is_scalar(items):
            one = self.scalar(items) if items else "<value>"
            if fixed is not None and fixed <= SPELLED_OUT:
                lines.append(f"{pad}{key}[{count}]: " + ",".join([one] * fixed))
            else:
                lines.append(f"{pad}{key}[{count}]: {one},{one},...")
            self._count_note(name, "texts" if one == TEXT else "items", fixed)
        else:
            lines.append(f"{pad}{key}[{count}]:")
            item_lines: list[str] = []
            if _is_object(items):
                self.object_fields(items, 0, item_lines, (*path, "0"))
            else:
                self.field(None, items, 0, item_lines, (*path, "0"))
                item_lines = [x[2:] if x.startswith(": ") else x for x in item_lines]
            first = next((i for i, x in enumerate(item_lines) if not x.lstrip().startswith("#")), 0)
            for i, x in enumerate(item_lines):
                # The "- " goes on the item's first field; its comments stay above it.
                prefix = "" if i < first else "- " if i == first else "  "
                lines.append(f"{pad}  {prefix}{x}")
            lines.append(f"{pad}  - ...")
            self._count_note(name, "items", fixed)

    def _count_note(self, name: str, unit: str, fixed: int | None) -> None:
        if fixed is None:
            self.any_count.append((name, unit))
        elif fixed > SPELLED_OUT:
            self.exact.append(f"Write exactly {fixed} {unit} in {name}.")

    def scalar(self, node: Mapping[str, Any]) -> str:
        if "const" in node:
            return _choice(node["const"])
        enum = node.get("enum")
        if isinstance(enum, list) and enum:
            return "|".join(_choice(v) for v in enum)
        kind = _type(node)
        if kind == "string":
            fmt = node.get("format")
            return f"<{fmt}>" if isinstance(fmt, str) and fmt.isidentifier() else TEXT
        if kind in ("integer", "number"):
            return f"<{kind}>"
        if kind == "boolean":
            return "true|false"
        if kind == "null":
            return "null"
        return "<value>"

    def notes(self) -> list[str]:
        out: list[str] = []
        if len(self.any_count) == 1:
            out.append(f"N is the number of {self.any_count[0][0]} written.")
        elif self.any_count:
            units = {u for _, u in self.any_count}
            unit = units.pop() if len(units) == 1 else "items"
            out.append(f"Each N is the number of {unit} written after it.")
        return out + self.exact


# ---------------------------------------------------------------- helpers

def _as_dict(node: Any) -> dict[str, Any]:
    return dict(node) if isinstance(node, Mapping) else {}


def _local(root: Mapping[str, Any], ref: str) -> Any:
    """The target of a local ``$ref`` (``#``, ``#/$defs/X``), or None."""
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node: Any = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _type(node: Mapping[str, Any]) -> str | None:
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return kinds[0] if len(kinds) == 1 and isinstance(kinds[0], str) else None
    if isinstance(kind, str):
        return kind
    if "properties" in node:
        return "object"
    if "items" in node:
        return "array"
    enum = node.get("enum")
    if isinstance(enum, list) and enum:
        return "string" if all(isinstance(v, str) for v in enum) else None
    return None


def _is_object(node: Mapping[str, Any]) -> bool:
    return _type(node) == "object"


def _is_array(node: Mapping[str, Any]) -> bool:
    return _type(node) == "array"


def _is_scalar(node: Mapping[str, Any]) -> bool:
    return "const" in node or "enum" in node or _type(node) in _SCALARS


def _fixed_count(node: Mapping[str, Any]) -> int | None:
    low, high = node.get("minItems"), node.get("maxItems")
    return high if isinstance(high, int) and low == high and high > 0 else None


def _flat_columns(r: _Renderer, items: dict[str, Any]) -> list[tuple[str, dict[str, Any]]] | None:
    """The columns of a tabular array (§9.3): an object whose properties are all
    scalars; None for anything else."""
    if not _is_object(items):
        return None
    props = items.get("properties")
    if not isinstance(props, Mapping) or not props:
        return None
    columns = [(str(k), r.resolve(v)) for k, v in props.items()]
    return columns if all(_is_scalar(c) for _, c in columns) else None


def _key(name: str) -> str:
    """A key as TOON writes it (§7.3): bare when it can be, else quoted."""
    from ..codec import encode_key

    return encode_key(name)


def _literal(value: Any) -> str:
    from ..codec import format_primitive

    if isinstance(value, (str, int, float, bool)) or value is None:
        return format_primitive(value)
    return "<value>"


def _choice(value: Any) -> str:
    """One value of an enum or const as the skeleton shows it: as TOON writes it
    (§7.2), and quoted besides when the bare form would blur the ``a|b`` list or
    read as a placeholder (a ``|``, a space, ``<``): ``"a|b"|"with space"|dark``.
    The quoted form decodes to the same string, so a model may copy either."""
    shown = _literal(value)
    if isinstance(value, str) and not shown.startswith('"') and _AMBIGUOUS.search(shown):
        from ..codec import quote_string

        return quote_string(value)
    return shown


def _describe(node: Mapping[str, Any]) -> str:
    """The description, and the bounds a writer needs that the placeholder does not show."""
    text = node.get("description")
    parts = [text.strip()] if isinstance(text, str) and text.strip() else []
    bounds = []
    low, high = node.get("minLength"), node.get("maxLength")
    if isinstance(high, int):
        bounds.append(f"at most {high} characters" if not isinstance(low, int) or low <= 1
                      else f"{low} to {high} characters")
    low, high = node.get("minimum"), node.get("maximum")
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        bounds.append(f"from {_literal(low)} to {_literal(high)}")
    elif isinstance(low, (int, float)):
        bounds.append(f"at least {_literal(low)}")
    elif isinstance(high, (int, float)):
        bounds.append(f"at most {_literal(high)}")
    low, high = node.get("minItems"), node.get("maxItems")
    if _fixed_count(node) is None and isinstance(high, int):
        bounds.append(f"{low if isinstance(low, int) else 0} to {high} items")
    elif _fixed_count(node) is None and isinstance(low, int) and low > 1:
        bounds.append(f"at least {low} items")
    if bounds:
        parts.append(f"({', '.join(bounds)})" if parts else ", ".join(bounds))
    return " ".join(parts)


def _comments(text: Any, pad: str) -> list[str]:
    if not isinstance(text, str) or not text.strip():
        return []
    return [f"{pad}# {line.rstrip()}" if line.strip() else f"{pad}#"
            for line in text.strip().splitlines()]


def _one_line(text: str) -> str:
    return " ".join(text.split())
