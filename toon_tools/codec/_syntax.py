"""Line-level TOON syntax (spec v4.0 §6-§11): what one line's content means.

One home for the grammar that the two decoders share: ``_decoder.py`` (the whole
text, a line pre-pass then a parser) and ``_stream.py`` (one line at a time).
Headers and field lists (§6), the key/value split of a field line (§8), splitting
cells on an unquoted delimiter (§11), the row-versus-field test (§9.3), and one
row's cells as values. Each function works on a line's content (after its
indentation) and raises :class:`ScanError` with a position in that content; the
caller knows the line and turns it into a :class:`ToonDecodeError`, so both
decoders report the same message at the same column.

Compiled by mypyc with the decoders (setup.py's COMPILED): calls between them are
native calls and :class:`Header` and :class:`Row` native classes.
"""

from __future__ import annotations

from typing import Any, Callable, Final

from ._scalars import (
    COMPILED,
    UNQUOTED_KEY,
    ScanError,
    find_closing_quote,
    parse_token,
    unescape,
)

DELIMITERS: Final = frozenset(",|\t")
#: Longest array length accepted in a header (§6): 18 digits always fit a
#: machine integer, and no document holds 10**18 items.
MAX_LENGTH_DIGITS: Final = 18

# How a row's cells become an object (§9.3 nested field groups), one op per step:
CELL: Final = 0  # the next cell is the value of this field
OPEN_GROUP: Final = 1  # a nested object starts under this field
CLOSE_GROUP: Final = 2  # the current nested object ends


def trim(s: str) -> str:
    """``s.strip(" ")``: strip with an argument tests every character it removes
    against the argument, so the usual cases (nothing, or the one space after a
    colon) are cut directly."""
    n = len(s)
    if not n:
        return s
    if s[n - 1] == " ":
        return s.strip(" ")
    if s[0] == " ":
        return s[1:] if s[1] != " " else s.lstrip(" ")
    return s


# ---------------------------------------------------------------- headers (§6)


class Header:
    """A parsed array or keyed header (§6)."""

    __slots__ = ("length", "keyed", "delimiter", "fields", "end")

    def __init__(
        self, length: int, keyed: bool, delimiter: str, fields: list[Any] | None, end: int
    ) -> None:
        self.length = length
        self.keyed = keyed
        self.delimiter = delimiter
        self.fields = fields  # [[name, children-or-None], ...] or None
        self.end = end  # index just past the header's colon


class Row:
    """How the cells of one tabular row or entry row become an object (§9.3)."""

    __slots__ = ("width", "names", "ops", "depth")

    def __init__(self, fields: list[Any]) -> None:
        flat = all(children is None for _, children in fields)
        # Flat fields (the usual case): a row is dict(zip(names, values)).
        self.names: tuple[str, ...] | None = (
            tuple(name for name, _ in fields) if flat else None
        )
        # Nested groups compile to a flat op list so rows never recurse.
        ops: list[tuple[int, str]] = []
        width = 0
        deepest = level = 1
        stack: list[Any] = [iter(fields)]
        while stack:
            entry = next(stack[-1], None)
            if entry is None:
                stack.pop()
                if stack:
                    ops.append((CLOSE_GROUP, ""))
                    level -= 1
                continue
            name, children = entry
            if children is None:
                ops.append((CELL, name))
                width += 1
            else:
                ops.append((OPEN_GROUP, name))
                level += 1
                deepest = max(deepest, level)
                stack.append(iter(children))
        self.ops = ops
        self.width = width
        self.depth = deepest  # nesting of a row object, its groups included

    def build(self, values: list[Any]) -> dict[str, Any]:
        names = self.names
        if names is not None:
            return dict(zip(names, values))
        root: dict[str, Any] = {}
        cur = root
        parents: list[dict[str, Any]] = []
        it = iter(values)
        for op, name in self.ops:
            if op == CELL:
                cur[name] = next(it)
            elif op == OPEN_GROUP:
                child: dict[str, Any] = {}
                cur[name] = child
                parents.append(cur)
                cur = child
            else:
                cur = parents.pop()
        return root


def parse_header(c: str, b: int, strict: bool, max_depth: int) -> Header:
    """The header whose ``[`` is at ``c[b]``: ``[N]``, ``[N:]``, a delimiter
    mark, a field list, then the colon (§6)."""
    n = len(c)
    j = b + 1
    k = j
    while k < n and 48 <= ord(c[k]) <= 57:  # ASCII digits
        k += 1
    if k == j:
        raise ScanError("array header needs a length, e.g. [3]", b)
    if k - j > 1 and c[j] == "0":
        raise ScanError("array length must not have leading zeros", j)
    if k - j > MAX_LENGTH_DIGITS:
        raise ScanError(f"array length has {k - j} digits, more than the "
                        f"{MAX_LENGTH_DIGITS} accepted", j)
    length = int(c[j:k])
    keyed = k < n and c[k] == ":"
    if keyed:
        k += 1
    delimiter = ","
    if k < n and (c[k] == "\t" or c[k] == "|"):
        delimiter = c[k]
        k += 1
    if k >= n or c[k] != "]":
        raise ScanError("malformed bracket segment in array header", b)
    k += 1
    fields = None
    if k < n and c[k] == "{":
        fields, k = parse_fields(c, k, delimiter, strict, max_depth)
    elif keyed:
        raise ScanError("a keyed header needs a field list, e.g. [2:]{a,b}:", k)
    if k >= n or c[k] != ":":
        raise ScanError("expected ':' after array header", k)
    k += 1
    if fields is not None and c[k:].strip(" "):
        raise ScanError("no values may follow a tabular header's colon", k)
    return Header(length, keyed, delimiter, fields, k)


def try_header(c: str, strict: bool, max_depth: int) -> Header | None:
    """A keyless header at ``c[0]`` (root or list item), or None. In strict mode
    a malformed one is an error (raised) when it is clearly meant as a header:
    a colon follows."""
    try:
        return parse_header(c, 0, strict, max_depth)
    except ScanError:
        if strict and find_unquoted(c, ":") >= 0:
            raise
        return None


def parse_fields(c: str, k: int, delimiter: str, strict: bool,
                 max_depth: int) -> tuple[list[Any], int]:
    """Parse ``{f1,f2{g1,g2},...}`` at ``c[k]`` without recursion (§6, §9.3)."""
    n = len(c)
    root: list[Any] = []
    cur = root
    parents: list[list[Any]] = []
    i = k + 1
    while True:
        while i < n and c[i] == " ":
            i += 1
        if i < n and c[i] == '"':
            close = find_closing_quote(c, i)
            name = unescape(c, i + 1, close, strict)
            i = close + 1
            while i < n and c[i] == " ":
                i += 1
        else:
            start = i
            while i < n:
                ch = c[i]
                if ch == delimiter or ch == "{" or ch == "}" or ch == ":":
                    break
                if ch in DELIMITERS and strict:
                    raise ScanError(
                        f"field list uses {ch!r} but the header declares {delimiter!r}", i
                    )
                i += 1
            name = c[start:i].strip(" ")
            if not name:
                raise ScanError("empty field name in field list", start)
        if i >= n:
            raise ScanError("unmatched '{' in field list", k)
        entry: list[Any] = [name, None]
        cur.append(entry)
        ch = c[i]
        if ch == "{":
            if len(parents) + 1 >= max_depth:
                raise ScanError(f"field groups nested deeper than max_depth={max_depth}", i)
            children: list[Any] = []
            entry[1] = children
            parents.append(cur)
            cur = children
            i += 1
            continue
        while True:
            if ch == delimiter:
                i += 1
                break
            if ch == "}":
                if strict:
                    names = [e[0] for e in cur]
                    if len(set(names)) != len(names):
                        dup = next(x for x in names if names.count(x) > 1)
                        raise ScanError(f"duplicate field name {dup!r}", i)
                i += 1
                if not parents:
                    return root, i
                cur = parents.pop()
                while i < n and c[i] == " ":
                    i += 1
                if i >= n:
                    raise ScanError("unmatched '{' in field list", k)
                ch = c[i]
                continue
            raise ScanError(f"unexpected {ch!r} in field list", i)


def quoted_key_header(body: str) -> bool:
    """Whether ``body``, starting with a quote, is a quoted key then ``[``."""
    try:
        close = find_closing_quote(body, 0)
    except ScanError:
        return False
    return body[close + 1 : close + 2] == "["


# ---------------------------------------------------------------- fields (§8)


def unquoted_key(c: str, start: int, end: int) -> bool:
    """Whether ``c[start:end]`` is a key that needs no quotes (§7.3), the
    ``[A-Za-z_][A-Za-z0-9_.]*`` of ``UNQUOTED_KEY``, tested by code point in
    compiled code (a regex call costs more than the whole test)."""
    x = ord(c[start])
    if not (97 <= x <= 122 or 65 <= x <= 90 or x == 95):
        return False
    for i in range(start + 1, end):
        x = ord(c[i])
        if not (97 <= x <= 122 or 65 <= x <= 90 or 48 <= x <= 57 or x == 95 or x == 46):
            return False
    return True


def split_field(c: str, strict: bool, max_depth: int,
                start: int = 0) -> tuple[str, Header | None, int]:
    """Split the key-value or header line at ``c[start:]`` into (key, header,
    value offset); offsets, and the positions of errors, are indexes into ``c``
    (the decoder passes a whole line and where its content starts, sparing a copy)."""
    if c[start] == '"':
        close = find_closing_quote(c, start)
        key = unescape(c, start + 1, close, strict)
        after = close + 1
        nxt = c[after : after + 1]
        if nxt == ":":
            return key, None, after + 1
        if nxt == "[":
            return key, parse_header(c, after, strict, max_depth), 0
        raise ScanError("expected ':' after key", after)
    # The usual line: the first ':', '[' or '"' is the colon after an unquoted
    # key. Keys are short, so a compiled scan costs less than the three finds
    # of the general case below.
    n = len(c)
    i = start
    if COMPILED:
        while i < n:
            x = ord(c[i])
            if x == 58:  # ':'
                return trim(c[start:i]), None, i + 1
            if x == 91 or x == 34:  # '[' or '"'
                break
            i += 1
    colon = find_unquoted(c, ":", i)
    bracket = c.find("[", start, colon if colon >= 0 else n)
    if bracket > start and (unquoted_key(c, start, bracket) if COMPILED
                            else UNQUOTED_KEY.match(c, start, bracket)):
        # §5.2: a header only when '[' precedes the first unquoted colon.
        try:
            return c[start:bracket], parse_header(c, bracket, strict, max_depth), 0
        except ScanError:
            if strict or colon < 0:
                raise
            # Non-strict fall-through (§6): the whole prefix is a literal key.
    elif bracket == start:
        raise ScanError("an array header without a key is only allowed at the root or "
                        "as a list item", start)
    if colon < 0:
        raise ScanError("expected ':' after key", len(c.rstrip(" ")))
    return trim(c[start:colon]), None, colon + 1


# ---------------------------------------------------------------- cells (§9, §11)


def find_unquoted(s: str, ch: str, start: int = 0) -> int:
    """Index of the first ``ch`` outside double quotes (Appendix B.3), or -1."""
    i = s.find(ch, start)
    if i < 0:
        return -1  # none at all, so none outside quotes
    q = s.find('"', start, i)
    if q < 0:
        return i  # no quote opens before it
    i = q
    n = len(s)
    while i < n:
        x = s[i]
        if x == ch:
            return i
        if x == '"':
            i += 1
            while i < n and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
        i += 1
    return -1


def split(s: str, delim: str, start: int) -> list[str]:
    """Split ``s[start:]`` on unquoted ``delim``, keeping empty tokens (§11.2)."""
    if s.find('"', start) < 0:
        return s[start:].split(delim)
    out: list[str] = []
    i = begin = start
    n = len(s)
    while i < n:
        x = s[i]
        if x == delim:
            out.append(s[begin:i])
            begin = i + 1
        elif x == '"':
            i += 1
            while i < n and s[i] != '"':
                i += 2 if s[i] == "\\" else 1
        i += 1
    out.append(s[begin:])
    return out


def is_row(r: str, delim: str) -> bool:
    """§9.3 disambiguation at row depth: a row unless an unquoted colon comes
    before the first unquoted delimiter (or there is no delimiter)."""
    colon = find_unquoted(r, ":")
    if colon < 0:
        return True
    dpos = find_unquoted(r, delim)
    return 0 <= dpos < colon


def cell_error(e: ScanError, cells: list[str], start: int, strict: bool,
               parse_float: Callable[[str], Any] | None,
               parse_int: Callable[[str], Any] | None) -> ScanError:
    """``e``, raised by one of ``cells`` (split from a line's content at
    ``start``), positioned in that content (error path only)."""
    pos = start
    for cell in cells:
        stripped = cell.strip(" ")
        try:
            parse_token(stripped, strict, parse_float, parse_int)
        except ScanError:
            return ScanError(e.msg, pos + cell.find(stripped[:1] or " ") + e.pos)
        pos += len(cell) + 1
    return ScanError(e.msg, start)


def values(c: str, delim: str, start: int, strict: bool,
           parse_float: Callable[[str], Any] | None,
           parse_int: Callable[[str], Any] | None) -> list[Any]:
    """The values of the cells of ``c[start:]`` (an inline array, §9.1, or an
    entry row's cells, §9.5); a bad token raises ScanError positioned in ``c``."""
    cells = split(c, delim, start)
    try:
        return [parse_token(trim(t), strict, parse_float, parse_int) for t in cells]
    except ScanError as e:
        raise cell_error(e, cells, start, strict, parse_float, parse_int) from None


def row_values(r: str, delim: str, strict: bool,
               parse_float: Callable[[str], Any] | None,
               parse_int: Callable[[str], Any] | None) -> list[Any] | None:
    """The values of a tabular row's content ``r`` (§9.3), or None when ``r`` is
    a key-value line (which ends the rows). A bad token raises ScanError
    positioned in ``r``; the caller checks the width."""
    vals: list[Any]
    if '"' in r:
        if not is_row(r, delim):
            return None
        cells = split(r, delim, 0)
        try:
            vals = [parse_token(trim(t), strict, parse_float, parse_int) for t in cells]
        except ScanError as e:
            raise cell_error(e, cells, 0, strict, parse_float, parse_int) from None
        return vals
    if ":" in r:
        colon = r.find(":")
        dpos = r.find(delim)
        if dpos < 0 or colon < dpos:
            return None
    cells = r.split(delim)
    vals = []
    # Interpreted, a call to parse_token costs more than these tests inline.
    ints = parse_int is None and not COMPILED
    for t in cells:
        if t and (t[0] == " " or t[-1] == " "):
            t = t.strip(" ")
        if (ints and t.isdigit() and t.isascii() and (t[0] != "0" or len(t) == 1)
                and len(t) <= MAX_LENGTH_DIGITS):
            vals.append(int(t))
            continue
        try:
            vals.append(parse_token(t, strict, parse_float, parse_int))
        except ScanError as e:
            raise cell_error(e, cells, 0, strict, parse_float, parse_int) from None
    return vals


def entry_key(r: str, strict: bool, label: str) -> tuple[str, int, int] | None:
    """The key of a keyed object's entry row ``r`` (§9.5) as (key, index of its
    colon, index of its closing quote or -1); None when a non-strict decode
    skips the line (no colon). ``label`` names the keyed object in errors."""
    if r[0] == '"':
        close = find_closing_quote(r, 0)
        key = unescape(r, 1, close, strict)
        colon = close + 1
        if r[colon : colon + 1] != ":":
            raise ScanError("expected ':' after entry key", colon)
        return key, colon, close
    colon = find_unquoted(r, ":")
    if colon < 0:
        if strict:
            raise ScanError(f"{label}: entry row needs 'key: values'", 0)
        return None
    return r[:colon].strip(" "), colon, -1
