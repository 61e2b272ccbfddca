"""TOON encoder (spec v4.0, §2, §7-§12).

The walk over the value uses an explicit stack of iterators, never recursion, so
``max_depth`` (not Python's recursion limit) bounds how deep a value may be.
Tables (§9.3, §9.5) are encoded column by column: the type checks and most of the
formatting of a column then run inside C loops (``map``, ``set``), which is where
a large uniform array spends its time.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from operator import itemgetter
from itertools import islice
from typing import Any, Callable, Final

from ._types import JSON_TYPES as _JSON_TYPES, PRIMITIVE_TYPES as _PRIMITIVE_TYPES
from ._scalars import (
    DEFAULT_MAX_DEPTH,
    HEADER_DELIMITER,
    UNSAFE_CHAR,
    encode_key,
    format_float,
    format_int,
    format_primitive,
    has_unsafe_char,
    needs_quote,
    needs_quote_shape,
    quote,
)

#: Bound here: mypyc keeps a compiled module's constants in C statics, but a
#: name imported from a module it does not compile (_types) is looked up in
#: the globals dict at every use.
PRIMITIVE_TYPES: Final = _PRIMITIVE_TYPES
JSON_TYPES: Final = _JSON_TYPES

_CHUNK: Final = 4096  # lines handed out at a time by the streaming encoder

#: Arrays up to this long are tried as primitives item by item (see _cells).
_SHORT: Final = 16

#: Bounds of the cache of encoded short string values (see Encoder.string).
_CACHED_LEN: Final = 24
_CACHED_MAX: Final = 2048

_OBJECT: Final = 0
_LIST: Final = 1
_DICT: Final = 2

#: A scope of the walk: its kind, what is left of it and its depth. What is
#: left is, for _OBJECT, an iterator over the object's remaining ``(key,
#: value)`` items (typed where it is read, so that compiled code unpacks
#: them as a tuple rather than by iterating it); for _LIST, an iterator over
#: the remaining items; for _DICT, an object none of whose fields is written
#: yet (the dict itself, iterated natively, see Encoder._object).
_Frame = tuple[int, Any, int]

#: The rest of an object whose last field opened a scope: nothing.
_NOTHING_LEFT: Final[Iterator[tuple[Any, Any]]] = iter(())


class Encoder:
    """Options plus the per-call caches of one encoding run."""

    def __init__(
        self,
        *,
        indent_size: int = 2,
        delimiter: str = ",",
        max_depth: int = DEFAULT_MAX_DEPTH,
        default: Callable[[Any], Any] | None = None,
        array_delimiters: dict[int, tuple[str, Any]] | None = None,
    ) -> None:
        """``array_delimiters`` (``id(container) -> (delimiter, container)``, as
        the decoder's ``arrays`` fills it) gives those arrays and keyed tables
        their own delimiter (§11.1 active delimiter); ``delimiter`` is the
        document delimiter and the one of every other array."""
        if delimiter not in HEADER_DELIMITER:
            raise ValueError(f"delimiter must be ',', '\\t' or '|', not {delimiter!r}")
        if indent_size < 1:
            raise ValueError("indent_size must be at least 1")
        self.indent_size = indent_size
        self.delimiter = delimiter
        self.max_depth = max_depth
        self.default = default
        self.unsafe_char = UNSAFE_CHAR[delimiter]
        self.array_delimiters = array_delimiters
        self._keys: dict[Any, str] = {}
        self._strings: dict[str, str] = {}
        self._prefix_tables: list[dict[Any, str]] = []
        self._first_tables: list[dict[Any, str]] = []
        self._indents: list[str] = ["\n"]
        self._dashes: list[str] = []
        self._counts: dict[int, str] = {}

    # ------------------------------------------------------------ small pieces

    def _prefixes(self, depth: int) -> dict[Any, str]:
        """The field-line prefixes (``\\n indent key: ``) of the keys seen at ``depth``."""
        table = self._prefix_tables
        while len(table) <= depth:
            table.append({})
        return table[depth]

    def _first_prefixes(self, depth: int) -> dict[Any, str]:
        """The prefixes (``\\n indent - key: ``) of the first fields of the
        objects that are items of a list at ``depth`` (§10)."""
        table = self._first_tables
        while len(table) <= depth:
            table.append({})
        return table[depth]

    def indent(self, depth: int) -> str:
        """The start of a line at ``depth``: the newline that ends the line
        before, then the indentation (see :meth:`_pieces`)."""
        indents = self._indents
        while len(indents) <= depth:
            indents.append("\n" + " " * (self.indent_size * len(indents)))
        return indents[depth]

    def dash(self, depth: int) -> str:
        """The start of a list item's line at ``depth`` (§10): newline, indent, ``- ``."""
        dashes = self._dashes
        while len(dashes) <= depth:
            dashes.append(self.indent(len(dashes)) + "- ")
        return dashes[depth]

    def _count(self, n: int, delim: str) -> str:
        """``[n]: `` (with the delimiter mark, §6) before an inline array's values:
        short arrays recur with the same lengths, so the text is remembered."""
        if delim != self.delimiter:
            return f"[{n}{HEADER_DELIMITER[delim]}]: "
        counts = self._counts
        text = counts.get(n)
        if text is None:
            text = f"[{n}{HEADER_DELIMITER[delim]}]: "
            if len(counts) < _CACHED_MAX:
                counts[n] = text
        return text

    def key(self, k: Any) -> str:
        """Encoded key, cached: the same keys recur on every object of a list."""
        try:
            return self._keys[k]
        except KeyError:
            pass
        except TypeError:  # unhashable key: key_to_str raises the useful error
            _key_to_str(k)
        ek = encode_key(k if type(k) is str else _key_to_str(k))
        self._keys[k] = ek
        return ek

    def string(self, s: str) -> str:
        """A string value with the document delimiter active (§7.2). Short
        values are remembered (a bounded number): enum-like values, a level or
        a state, recur on every record, and a dict lookup is cheaper than the
        scans of needs_quote."""
        enc = quote(s) if needs_quote(s, self.unsafe_char) else s
        if len(s) <= _CACHED_LEN and len(self._strings) < _CACHED_MAX:
            self._strings[s] = enc
        return enc

    def _text(self, v: Any) -> str | None:
        """The text of a str, int, bool or None value (the document delimiter
        active), or None for any other value: the lines the walk writes inline."""
        t = type(v)
        if t is str:
            sv: str = v
            if len(sv) <= _CACHED_LEN:  # a longer one is never remembered: no lookup
                cached = self._strings.get(sv)
                if cached is not None:
                    return cached
            return self.string(sv)
        if t is int:
            return _int_text(v)
        if t is bool:
            return "true" if v else "false"
        if v is None:
            return "null"
        return None

    def norm(self, v: Any) -> Any:
        return v if type(v) in JSON_TYPES else _normalize(v, self.default)

    def prim(self, v: Any) -> str:
        """Encode one primitive (already normalized) per §2 and §7.2."""
        return format_primitive(v, self.unsafe_char)

    def active(self, container: Any) -> str:
        """The delimiter of an array or keyed table (§11.1 active delimiter)."""
        own = self.array_delimiters
        if own is None:
            return self.delimiter
        entry = own.get(id(container))
        return self.delimiter if entry is None else entry[0]

    def column(self, col: list[Any], types: set[type], delim: str) -> list[str]:
        """Encode a column of primitives, specialised on the column's types;
        ``delim`` is the active delimiter."""
        if len(types) == 1:
            for t in types:
                if t is int:
                    return _int_column(col)
                if t is str:
                    return _string_column(col, UNSAFE_CHAR[delim])
                if t is float:
                    return list(map(format_float, col))
                if t is bool:
                    return ["true" if v else "false" for v in col]
        unsafe_char = UNSAFE_CHAR[delim]
        return [format_primitive(v, unsafe_char) for v in col]

    def _depth_check(self, depth: int) -> None:
        """Containers nest at most ``max_depth`` deep, the root counting as 1."""
        if depth > self.max_depth:
            raise ValueError(f"value is nested deeper than max_depth={self.max_depth}")

    # ------------------------------------------------------------ tables (§9.3, §9.5)

    def table(
        self, rows: list[Any], depth: int, delim: str
    ) -> tuple[str, list[list[str]]] | None:
        """Field list and encoded leaf columns if ``rows`` are tabular, else None.

        A nested-uniform column (§9.3) becomes a sub-table over its values; groups
        are examined from a work list rather than by recursion.
        """
        norm = self.norm
        key = self.key
        # A field is [encoded name, sub-fields or None, encoded column or None].
        root: list[list[Any]] = []
        pending: list[tuple[list[Any], list[list[Any]], int]] = [(rows, root, depth)]
        while pending:
            group, fields, d = pending.pop()
            self._depth_check(d)
            if _types_of(group) != {dict}:
                group = [norm(r) for r in group]
                if _types_of(group) != {dict}:
                    return None
            width = len(group[0])
            if not width:
                return None  # an empty object
            for r in group:
                if len(r) != width:
                    return None  # differing key sets
            for k in group[0]:
                try:
                    col = list(map(itemgetter(k), group))
                except KeyError:
                    return None
                types = _types_of(col)
                if not types <= PRIMITIVE_TYPES:
                    if not types <= JSON_TYPES:
                        col = [norm(v) for v in col]
                        types = set(map(type, col))
                    if types == {dict}:
                        sub: list[list[Any]] = []
                        fields.append([key(k), sub, None])
                        pending.append((col, sub, d + 1))
                        continue
                    if not types <= PRIMITIVE_TYPES:
                        return None  # arrays, or objects mixed with primitives
                fields.append([key(k), None, self.column(col, types, delim)])
        # One pre-order walk yields the header text and the leaf columns in the
        # same order, which is the order of the cells in every row.
        sep = delim
        leaves: list[list[str]] = []
        parts: list[str] = ["{"]
        walk: list[Iterator[list[Any]]] = [iter(root)]
        first = True
        while walk:
            entry: list[Any] | None = next(walk[-1], None)
            if entry is None:
                walk.pop()
                parts.append("}")
                first = False
                continue
            if not first:
                parts.append(sep)
            parts.append(entry[0])
            if entry[1] is not None:  # a nested field group
                parts.append("{")
                walk.append(iter(entry[1]))
                first = True
            else:
                leaves.append(entry[2])
                first = False
        return "".join(parts), leaves

    # ------------------------------------------------------------ the walk

    def text(self, value: Any) -> str:
        """The whole document as one string: the pieces in one list, one join
        (no chunking, which only bounds the memory of a streaming caller)."""
        out: list[str] = []
        self._walk(out, self._root(out, value), 0)
        if not out:
            return ""
        out[0] = out[0][1:]  # the newline before the first line
        return "".join(out)

    def chunks(self, value: Any, size: int = _CHUNK) -> Iterator[list[str]]:
        """Yield the document's lines in lists of about ``size`` pieces (a
        table's rows come in one list), or all in one list if ``size`` is 0."""
        out: list[str] = []
        stack = self._root(out, value)
        while True:
            self._walk(out, stack, size)
            if out:
                # No piece holds a newline of its own (strings and keys that
                # do are quoted, with the newline escaped, §7.1).
                yield "".join(out).split("\n")[1:]
                out = []
            if not stack:
                return

    # The document is written as pieces of text whose concatenation, less the
    # first character, is the document: every line starts with a piece that
    # starts with its newline. A field line is then two appends (its cached
    # "\n indent key: " prefix, its value), not a string of its own that the
    # final join would copy a second time.

    def _root(self, out: list[str], value: Any) -> list[_Frame]:
        """Write the start of the document for ``value`` to ``out``; the stack
        of the scopes it opened, for :meth:`_walk`."""
        stack: list[_Frame] = []
        v = self.norm(value)
        t = type(v)
        if t in PRIMITIVE_TYPES:
            out.append("\n")
            out.append(self.prim(v))
            return stack
        self._depth_check(1)
        if t is list:
            if v:
                self._array(out, "\n", "", v, 1, stack, 0)
            else:
                out.append("\n[]")
        elif v and not self._keyed(out, "\n", "", v, 1, 1):
            stack.append((_DICT, v, 0))
        return stack

    def _walk(self, out: list[str], stack: list[_Frame], size: int) -> None:
        """Write the scopes on ``stack`` until none is left or, if ``size``,
        until ``out`` holds ``size`` pieces or more."""
        # Each frame's items are taken in a tight loop; primitives (most lines)
        # are formatted inline, and the loop leaves a frame only when an item
        # opened a child scope, which must be written first.
        while stack:
            kind, it, depth = stack[-1]
            height = len(stack)
            if kind == _DICT:
                self._object(out, it, depth, stack, False)
            elif kind == _OBJECT:
                if self._run_object(out, it, depth, stack):
                    stack.pop()
            else:
                dash = self.dash(depth)
                for v in it:
                    text = self._text(v)
                    if text is not None:
                        out.append(dash)
                        out.append(text)
                    else:
                        self._item(out, v, depth, stack)
                        if len(stack) != height:
                            break
                else:
                    stack.pop()
            if size and len(out) >= size:
                return

    def _run_object(
        self, out: list[str], it: Iterator[tuple[Any, Any]], depth: int, stack: list[_Frame]
    ) -> bool:
        """Write the fields left in ``it``, the items of the object whose frame
        is on top of ``stack``, until one opens a child scope (which must be
        written first: False) or none is left (True). Primitives, most lines,
        are formatted inline: the cached prefix, then the value."""
        height = len(stack)
        # "\n indent key: " per key and depth: a field line is then two pieces.
        prefixes = self._prefixes(depth)
        for k, v in it:
            pre = prefixes.get(k) if type(k) is str else None
            if pre is None:
                pre = f"{self.indent(depth)}{self.key(k)}: "
                if type(k) is str:
                    prefixes[k] = pre
            text = self._text(v)
            if text is not None:
                out.append(pre)
                out.append(text)
            else:
                self._field(out, self.indent(depth), self.key(k), v, depth, stack, height)
                if len(stack) != height:
                    return False
        return True

    def _object(
        self, out: list[str], d: dict[Any, Any], depth: int, stack: list[_Frame], item: bool
    ) -> None:
        """Write the fields of the non-empty object ``d`` at ``depth`` in a
        native loop over the dict. Its _DICT frame is on top of ``stack``, or,
        if ``item``, it has none: it is an item of the list at ``depth - 1``,
        and its first field's line starts with the list-item marker (§10).
        When a field opens a child scope, the rest of ``d`` becomes d's frame,
        below the child's, to be resumed after it (:meth:`_run_object`): even
        when nothing is left, the frame stays while the child is written, so
        that the stack's height is the nesting the depth checks count."""
        nesting = len(stack) + 1 if item else len(stack)  # containers around d's values
        prefixes = self._prefixes(depth)
        table = self._first_prefixes(depth - 1) if item else prefixes
        n = 0
        for k, v in d.items():
            n += 1
            pre = table.get(k) if type(k) is str else None
            if pre is None:
                lead = self.dash(depth - 1) if item and n == 1 else self.indent(depth)
                pre = f"{lead}{self.key(k)}: "
                if type(k) is str:
                    table[k] = pre
            table = prefixes
            text = self._text(v)
            if text is not None:
                out.append(pre)
                out.append(text)
                continue
            lead = self.dash(depth - 1) if item and n == 1 else self.indent(depth)
            height = len(stack)
            self._field(out, lead, self.key(k), v, depth, stack, nesting)
            if len(stack) != height:
                rest = islice(_items(d), n, None) if n < len(d) else _NOTHING_LEFT
                if item:
                    stack.insert(height, (_OBJECT, rest, depth))
                else:
                    stack[height - 1] = (_OBJECT, rest, depth)
                return
        if not item:
            stack.pop()

    def _field(
        self,
        out: list[str],
        lead: str,
        ek: str,
        v: Any,
        depth: int,
        stack: list[_Frame],
        nesting: int,
    ) -> None:
        """One object field (key ``ek`` already encoded) at ``depth``; ``lead`` is
        its indentation, or the list-item marker for a list-item object's first
        field (§10). ``nesting`` counts the containers around ``v``."""
        t = type(v)
        if t not in JSON_TYPES:
            v = _normalize(v, self.default)
            t = type(v)
        if t is dict:
            self._depth_check(nesting + 1)
            if v and self._keyed(out, lead, ek, v, depth + 1, nesting + 1):
                return
            out.append(lead)  # pieces, not an f-string: no string of their own
            out.append(ek)
            out.append(":")
            if v:
                stack.append((_DICT, v, depth + 1))
        elif t is list:
            self._depth_check(nesting + 1)
            if not v:
                out.append(lead)
                out.append(ek)
                out.append(": []")
            else:
                self._array(out, lead, ek, v, depth + 1, stack, nesting)
        elif t is str:
            sv = self._strings.get(v)
            out.append(lead)
            out.append(ek)
            out.append(": ")
            out.append(self.string(v) if sv is None else sv)
        else:
            out.append(lead)
            out.append(ek)
            out.append(": ")
            out.append(self.prim(v))

    def _item(self, out: list[str], v: Any, depth: int, stack: list[_Frame]) -> None:
        """One list item at ``depth`` (§9.4, §10)."""
        lead = self.indent(depth)
        t = type(v)
        if t not in JSON_TYPES:
            v = _normalize(v, self.default)
            t = type(v)
        if t is dict or t is list:
            self._depth_check(len(stack) + 1)
        if t is dict:
            if not v:
                out.append(f"{lead}-")
                return
            # Written now, with no return to the walk (which would resume the
            # list after it) unless a field opens a scope.
            self._object(out, v, depth + 1, stack, True)
        elif t is list:
            items, types = self._primitives(v)
            delim = self.active(v)
            if types is not None:
                self._inline(out, self.dash(depth), "", items, types, delim)
            else:
                # Tabular form is not allowed here (§9.4): always an expanded list.
                out.append(f"{lead}- [{len(v)}{HEADER_DELIMITER[delim]}]:")
                stack.append((_LIST, iter(items), depth + 1))
        else:
            out.append(f"{lead}- {self.prim(v)}")

    def _cells(self, items: list[Any], delim: str) -> list[str] | None:
        """The cells of an array of primitives in one pass, or None if an item is
        not a primitive: for short arrays, cheaper than building type sets."""
        own = delim == self.delimiter
        unsafe = self.unsafe_char if own else UNSAFE_CHAR[delim]
        strings = self._strings
        cells: list[str] = []
        for x in items:
            t = type(x)
            if t is str:
                if not own:
                    cells.append(quote(x) if needs_quote(x, unsafe) else x)
                    continue
                sx = strings.get(x)
                cells.append(self.string(x) if sx is None else sx)
            elif t is int:
                cells.append(_int_text(x))
            elif t in PRIMITIVE_TYPES:
                cells.append(format_primitive(x, unsafe))
            else:
                return None
        return cells

    def _primitives(self, items: list[Any]) -> tuple[list[Any], set[type] | None]:
        """``items`` with host values normalized (each one once: a pydantic model
        is dumped here and nowhere else), and their types if all are primitives."""
        types = set(map(type, items))
        if types <= PRIMITIVE_TYPES:
            return items, types
        if types <= JSON_TYPES:
            return items, None
        items = [self.norm(v) for v in items]
        types = set(map(type, items))
        return items, types if types <= PRIMITIVE_TYPES else None

    def _inline(
        self, out: list[str], lead: str, ek: str, items: list[Any], types: set[type], delim: str
    ) -> None:
        cells = self.column(items, types, delim)
        if cells:
            out.append(lead)
            out.append(ek)
            out.append(self._count(len(items), delim))
            out.append(delim.join(cells))
        else:
            out.append(f"{lead}{ek}[0{HEADER_DELIMITER[delim]}]:")

    def _array(
        self,
        out: list[str],
        lead: str,
        ek: str,
        v: list[Any],
        depth: int,
        stack: list[_Frame],
        nesting: int,
    ) -> None:
        """A non-empty array as a field (or the root): inline, tabular or list.
        ``nesting`` counts the containers around it."""
        delim = self.active(v)
        if len(v) <= _SHORT:
            cells = self._cells(v, delim)
            if cells is not None:
                out.append(lead)
                out.append(ek)
                out.append(self._count(len(v), delim))
                out.append(delim.join(cells))
                return
        items, types = self._primitives(v)
        if types is not None:
            self._inline(out, lead, ek, items, types, delim)
            return
        tab = self.table(items, nesting + 2, delim)
        if tab is not None:
            fields, leaves = tab
            out.append(f"{lead}{ek}[{len(v)}{HEADER_DELIMITER[delim]}]{fields}:")
            row_lead = self.indent(depth)  # on the first column: each row is one join
            leaves[0] = [row_lead + c for c in leaves[0]]
            out.extend(map(delim.join, zip(*leaves)))
            return
        out.append(f"{lead}{ek}[{len(v)}{HEADER_DELIMITER[delim]}]:")
        stack.append((_LIST, iter(items), depth))

    def _keyed(
        self, out: list[str], lead: str, ek: str, v: dict[Any, Any], depth: int, nesting: int
    ) -> bool:
        """Emit ``v`` in keyed tabular form (§9.5) if it qualifies."""
        if len(v) < 2:
            return False
        for first in v.values():  # the common case is decided by the first value
            t = type(first)
            if t is not dict and (t in JSON_TYPES or type(self.norm(first)) is not dict):
                return False
            break
        values = list(v.values())
        sep = self.active(v)
        tab = self.table(values, nesting + 1, sep)  # entry values sit one level down
        if tab is None:
            return False
        fields, leaves = tab
        row_lead = self.indent(depth)
        out.append(f"{lead}{ek}[{len(v)}:{HEADER_DELIMITER[sep]}]{fields}:")
        leaves[0] = [f"{row_lead}{self.key(k)}: {c}" for k, c in zip(v, leaves[0])]
        out.extend(map(sep.join, zip(*leaves)))
        return True


def _string_column(col: list[str], unsafe: re.Pattern[str]) -> list[str]:
    """Encode a column of strings (§7.2); ``col`` itself when no string needs
    quoting. One scan of the whole column for the characters that force
    quoting replaces one scan per string (a single-character class cannot
    match across the boundary of two strings); the shape rules, a few
    compares, remain per string."""
    if len(col) >= 8 and not has_unsafe_char("".join(col), unsafe):
        for s in col:
            if needs_quote_shape(s):
                return [quote(s) if needs_quote_shape(s) else s for s in col]
        return col
    return [quote(s) if needs_quote(s, unsafe) else s for s in col]


def _int_column(col: list[int]) -> list[str]:
    """The decimal texts of a column of exact ints: ``str`` of a native int is
    mypyc's own conversion (no call through ``int.__repr__``); past Python's
    int-to-string limit, :func:`format_int` raises its error."""
    try:
        return [str(n) for n in col]
    except ValueError:
        return list(map(format_int, col))


def _items(d: dict[Any, Any]) -> Iterator[tuple[Any, Any]]:
    """An iterator over an object's fields. Typed: ``.items()`` of a value
    typed Any is a generic method call (a lookup by name) when compiled."""
    return iter(d.items())


def _types_of(items: list[Any]) -> set[type]:
    """The types of the (non-empty) ``items``. A uniform list, the common case
    in a table, is recognised in one pass without adding to a set per item."""
    t0 = type(items[0])
    for x in items:
        if type(x) is not t0:
            return set(map(type, items))
    return {t0}


def _int_text(n: int) -> str:
    """The decimal text of an exact ``int`` (the caller checked the type):
    ``str`` is what mypyc turns into its own fast conversion; past Python's
    int-to-string limit, :func:`format_int` raises its error."""
    try:
        return str(n)
    except ValueError:
        return format_int(n)


def _normalize(v: Any, default: Callable[[Any], Any] | None) -> Any:
    from ._host import normalize  # host types are rare: import their mapping lazily

    return normalize(v, default)


def _key_to_str(k: Any) -> str:
    from ._host import key_to_str

    return key_to_str(k)
