"""A JSON Schema (draft 2020-12) that given documents satisfy: the start of a
contract for a team that has data but no schema (issue 13, item 6;
``toon schema infer``).

The documents are summarised, one place in the data at a time, into a
:class:`Shape`: the JSON types seen there, how many values, the distinct short
strings (while they are few), the keys of objects with how often each was
present, and the merged shape of array items. A shape is small (one node per
place in the data, never per value) and shapes merge, so files can be read in
worker processes and their shapes merged in order.

What the schema says, and the rules behind it:

- ``type``: every JSON type seen; a place holding both integers and other
  numbers (``1`` and ``1.5``) is ``number``. A float written with a fraction
  (``1.0``) counts as a number, an integer as an integer (§2: the decoder keeps
  what the text wrote). ``null`` is one more type in the union.
- ``properties``, key order as first seen; ``required``: the keys present in
  every object seen at that place.
- ``items``: the shapes of every item of every array at that place, merged.
  An array that was always empty gets no ``items`` (anything goes).
- ``enum``: for a closed set of short strings: at most :data:`ENUM_MAX`
  distinct values, each seen :data:`ENUM_REPEAT` times on average, none of them
  free text (longer than :data:`FREE_TEXT` characters or holding a line break),
  and nothing but strings (and null) at that place. One file's one value is
  never an enum: three instances at least.
- Nothing else is guessed: no formats, lengths, ranges or patterns, which a
  sample cannot tell from accidents of the sample.
- Output is stable: ``type`` lists, ``required`` and ``enum`` are sorted;
  properties keep the order in which keys were first seen.
- Data nested deeper than :data:`MAX_DEPTH` is described as ``{}`` (anything),
  so the schema stays true and every consumer's recursion stays bounded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any, Final

#: The dialect of every inferred schema.
DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
#: At most this many distinct strings make an enum...
ENUM_MAX: Final = 8
#: ...when there are at least this many instances per distinct value.
ENUM_REPEAT: Final = 3
#: A string longer than this (or with a line break) is free text, never an enum value.
FREE_TEXT: Final = 32
#: Levels of nesting described; deeper values are left free (``{}``).
MAX_DEPTH: Final = 64

_TYPE_OF: Final = {type(None): "null", bool: "boolean", int: "integer", float: "number",
                   str: "string", dict: "object", list: "array"}
_SCALARS: Final = frozenset({type(None), bool, int, float})


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value (``bool`` before ``int``: Python
    counts booleans as integers, JSON does not)."""
    name = _TYPE_OF.get(type(value))
    if name is None:
        for cls, candidate in _TYPE_OF.items():  # subclasses (an IntEnum, a str subclass)
            if isinstance(value, cls):
                return candidate
        raise TypeError(f"not a JSON value: {type(value).__name__}")
    return name


def _columns(objects: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Each key's values across ``objects``, keys in first-seen order. Objects
    with the same keys in the same order (every row of a table) go a column at
    a time."""
    first = list(objects[0])
    if all(list(obj) == first for obj in objects):
        return {key: [obj[key] for obj in objects] for key in first}
    columns: dict[str, list[Any]] = {}
    for obj in objects:
        for key, item in obj.items():
            column = columns.get(key)
            if column is None:
                columns[key] = [item]
            else:
                column.append(item)
    return columns


class Shape:
    """What was seen at one place in the documents, over every instance."""

    def __init__(self) -> None:
        #: values seen here
        self.count = 0
        #: JSON type names seen
        self.types: set[str] = set()
        #: distinct strings and how often each was seen; None once an enum is ruled out
        self.strings: dict[str, int] | None = {}
        self.string_count = 0
        #: objects seen here, and the shape under each of their keys (first-seen order);
        #: a key's shape counts the objects that had it
        self.objects = 0
        self.properties: dict[str, Shape] = {}
        #: the merged shape of every item of every array seen here
        self.items: Shape | None = None
        #: nested too deep to describe: anything goes
        self.deep = False

    def add(self, value: Any, depth: int = 0) -> None:
        """Count one more instance at this place."""
        self.add_all([value], depth)

    def add_all(self, values: list[Any], depth: int = 0) -> None:
        """Count each of ``values`` at this place, as :meth:`add` one by one would.

        A column at a time: the values of one key across every object (a
        tabular array's column, §9.3) go down to that key's shape together, so
        the cost is a pass per place and per value, not a call per value."""
        self.count += len(values)
        if depth >= MAX_DEPTH:
            self.deep = True
            return
        classes = set(map(type, values))
        if classes == {str}:  # a column of text, the commonest case: no loop here
            texts: list[str] = values
            objects: list[dict[str, Any]] = []
            arrays: list[list[Any]] = []
        elif classes <= _SCALARS:  # numbers, booleans, nulls: their types are all
            self.types.update(_TYPE_OF[cls] for cls in classes)
            return
        else:
            texts, objects, arrays = [], [], []
            for value in values:
                cls = type(value)
                if cls is str:
                    texts.append(value)
                elif cls is dict:
                    objects.append(value)
                elif cls is list:
                    arrays.append(value)
                else:
                    kind = _TYPE_OF.get(cls) or json_type(value)
                    if kind == "string":  # a str subclass
                        texts.append(str(value))
                    elif kind == "object":
                        objects.append(dict(value))
                    elif kind == "array":
                        arrays.append(list(value))
                    else:
                        self.types.add(kind)
        if texts:
            self._add_texts(texts)
        if objects:
            self.types.add("object")
            self.objects += len(objects)
            columns = _columns(objects)
            for key, column in columns.items():
                child = self.properties.get(key)
                if child is None:
                    child = self.properties[key] = Shape()
                child.add_all(column, depth + 1)
        if arrays:
            self.types.add("array")
            if self.items is None:
                self.items = Shape()
            self.items.add_all([item for array in arrays for item in array], depth + 1)

    def _add_texts(self, texts: list[str]) -> None:
        self.types.add("string")
        self.string_count += len(texts)
        if self.strings is None:
            return
        seen = Counter(texts)
        if len(seen) > ENUM_MAX or any(len(t) > FREE_TEXT or "\n" in t or "\r" in t for t in seen):
            self.strings = None
            return
        for text, n in seen.items():
            self.strings[text] = self.strings.get(text, 0) + n
        if len(self.strings) > ENUM_MAX:
            self.strings = None

    def merge(self, other: Shape) -> None:
        """Fold in what ``other`` saw: the same as having added its values after
        this shape's own (keys that only ``other`` saw come after this shape's
        keys). ``other`` is used up: this shape takes over its parts."""
        self.count += other.count
        self.deep = self.deep or other.deep
        self.types |= other.types
        self.string_count += other.string_count
        if self.strings is not None and other.strings is not None:
            for text, n in other.strings.items():
                self.strings[text] = self.strings.get(text, 0) + n
            if len(self.strings) > ENUM_MAX:
                self.strings = None
        else:
            self.strings = None
        self.objects += other.objects
        for key, theirs in other.properties.items():
            mine = self.properties.get(key)
            if mine is None:
                self.properties[key] = theirs
            else:
                mine.merge(theirs)
        if other.items is not None:
            if self.items is None:
                self.items = other.items
            else:
                self.items.merge(other.items)

    def enum(self) -> list[str | None] | None:
        """The closed set of values this place holds, if it looks like one."""
        if (not self.strings or "string" not in self.types
                or not self.types <= {"string", "null"}
                or self.string_count < ENUM_REPEAT * len(self.strings)):
            return None
        values: list[str | None] = [*sorted(self.strings)]
        return values + [None] if "null" in self.types else values

    def to_schema(self, *, closed: bool = False) -> dict[str, Any]:
        """The JSON Schema (a subschema: no ``$schema``) of what was seen here.
        ``closed`` sets ``additionalProperties: false`` on every object."""
        if self.deep:
            return {}
        out: dict[str, Any] = {}
        types = set(self.types)
        if "number" in types:
            types.discard("integer")
        if types:
            out["type"] = types.pop() if len(types) == 1 else sorted(types)
        enum = self.enum()
        if enum is not None:
            out["enum"] = enum
        if "object" in self.types:
            if self.properties:
                out["properties"] = {k: s.to_schema(closed=closed)
                                     for k, s in self.properties.items()}
                required = sorted(k for k, s in self.properties.items() if s.count == self.objects)
                if required:
                    out["required"] = required
            if closed:
                out["additionalProperties"] = False
        if "array" in self.types and self.items is not None and self.items.count:
            out["items"] = self.items.to_schema(closed=closed)
        return out


def document_schema(shape: Shape, *, title: str | None = None,
                    closed: bool = False) -> dict[str, Any]:
    """The whole schema for documents summarised in ``shape``: the dialect, the
    title if given, then the root's subschema. No documents: ``{}`` (anything)."""
    head: dict[str, Any] = {"$schema": DIALECT}
    if title is not None:
        head["title"] = title
    return {**head, **shape.to_schema(closed=closed)}


def infer_schema(documents: Iterable[Any], *, title: str | None = None,
                 closed: bool = False) -> dict[str, Any]:
    """A draft 2020-12 JSON Schema that every one of ``documents`` (decoded JSON
    values) satisfies; see the module docstring for what is inferred."""
    shape = Shape()
    for document in documents:
        shape.add(document)
    return document_schema(shape, title=title, closed=closed)
