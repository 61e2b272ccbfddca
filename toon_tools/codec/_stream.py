"""Streaming TOON decoder: events from an iterator of lines (spec v4.0, §5-§14).

The strict decoder (``_decoder.py``) first splits the whole text into lines and
then parses; this module does the same work one line at a time, so a document of
any size is decoded in memory proportional to its nesting depth and one line:
an explicit stack of open scopes, a one-line look-ahead (past blank lines, for
§9.3's row/field disambiguation and §5's root forms), never the document.

Errors are exactly :func:`decode`'s, in position and message. ``decode`` checks
the whole text (UTF-8, then indentation, §12) before it parses, so an early
parse error may be outranked by a bad line further down: when a parse error is
found here, the rest of the input is read (kept nowhere) and checked the same
way before the error is raised.

Events are ``(kind, payload)`` tuples with the int kinds below, as the
TypeScript reference's ``decodeStreamSync`` yields them (``JsonStreamEvent``).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from typing import IO, Any, Final

from ._errors import ToonDecodeError
from ._scalars import DEFAULT_MAX_DEPTH, ScanError, parse_token
from ._syntax import (
    CELL,
    OPEN_GROUP,
    Header,
    Row,
    entry_key,
    find_unquoted,
    is_row,
    quoted_key_header,
    row_values,
    split_field,
    try_header,
    values,
)

START_OBJECT: Final = 0
END_OBJECT: Final = 1
START_ARRAY: Final = 2  # payload: the declared length (0 for "[]")
END_ARRAY: Final = 3
KEY: Final = 4  # payload: the key
PRIMITIVE: Final = 5  # payload: the value
VALUE: Final = 6  # payload: a whole container (only with whole_values=True)

#: The reference's name of each event kind (``JsonStreamEvent.type``).
EVENT_NAMES: Final = ("startObject", "endObject", "startArray", "endArray", "key",
                      "primitive")

# Open scopes: an object's fields, a list's items (§9.4, §10), a table's rows
# (§9.3), a keyed object's entry rows (§9.5).
_OBJECT: Final = 0
_LIST: Final = 1
_TABLE: Final = 2
_KEYED: Final = 3

_START_OBJECT_EVENT: Final = (START_OBJECT, None)
_END_OBJECT_EVENT: Final = (END_OBJECT, None)
_END_ARRAY_EVENT: Final = (END_ARRAY, None)


# ---------------------------------------------------------------- input


def lines_of(fp: IO[bytes], *, strict: bool = True, chunk_size: int = 1 << 20) -> Iterator[str]:
    """The lines of a binary file, read incrementally, as ``decode(bytes)`` sees
    them: UTF-8 (§4) with a leading byte order mark dropped, split on LF. A CR
    before the LF stays on its line: :func:`iter_events` drops one trailing CR
    from every line, as decode does (§12), and must not drop two. Strict:
    ill-formed UTF-8 raises :class:`ToonDecodeError` at its line and column,
    with ``decode``'s message; otherwise it becomes U+FFFD. Memory: one chunk
    and one line."""
    head = b""
    while len(head) < 3:  # a byte order mark may come split over reads
        chunk = fp.read(chunk_size)
        if not chunk:
            break
        head += chunk
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    number = 0  # lines before ``pending``
    pending: list[bytes] = []  # the current line so far, in pieces (no quadratic joins)
    started = False
    while True:
        if started:
            chunk = fp.read(chunk_size)
        else:
            started = True
            chunk = head
            if not chunk:
                continue
        if not chunk:
            # The last line, even an empty one: "a\n" is the lines "a" and "".
            yield from _utf8(b"".join(pending), number, strict).split("\n")
            return
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            pending.append(chunk)
            continue
        pending.append(chunk[:cut])
        block = b"".join(pending)
        pending = [chunk[cut:]]
        # Decoded with its LF, so that a truncated sequence before it reads as
        # decode's "invalid continuation byte", not "unexpected end of data".
        parts = _utf8(block, number, strict).split("\n")
        parts.pop()
        number += len(parts)
        yield from parts


def _utf8(block: bytes, number: int, strict: bool) -> str:
    """``block`` (starting a line, after ``number`` lines) decoded as
    ``_scalars.utf8_text`` decodes a whole document."""
    if not strict:
        return block.decode("utf-8", errors="replace")
    try:
        return block.decode("utf-8")
    except UnicodeDecodeError as e:
        line = number + block.count(b"\n", 0, e.start) + 1
        line_start = block.rfind(b"\n", 0, e.start) + 1
        column = len(block[line_start : e.start].decode("utf-8", errors="replace")) + 1
        raise ToonDecodeError(
            f"invalid UTF-8: byte 0x{block[e.start]:02x} ({e.reason})", line, column
        ) from None


class _SourceError(Exception):
    """The line source itself failed (invalid UTF-8 from :func:`lines_of`)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error


class _IndentError(Exception):
    """A line broke §12 (what decode's pre-pass rejects before parsing)."""

    def __init__(self, error: ToonDecodeError) -> None:
        super().__init__()
        self.error = error


class _Reader:
    """The significant (non-blank, non-comment, §5.1) lines of the source, one at
    a time, with decode's pre-pass checks (§12) applied as they are read.

    After :meth:`advance` returns True: ``d`` is the line's depth, ``c`` its
    content after the indentation, ``ind`` the number of indentation characters,
    ``num`` its 1-based line number and ``blank`` the number of the first blank
    line right before it (0: none)."""

    def __init__(self, src: Iterator[str], size: int, strict: bool) -> None:
        self.src = src
        self.size = size
        self.strict = strict
        self.number = 0
        self.d = 0
        self.c = ""
        self.ind = 0
        self.num = 0
        self.blank = 0
        self.held = 0  # 1: a line was put back; 2: the end was put back
        self.saved: tuple[int, str, int, int, int] = (0, "", 0, 0, 0)

    def hold(self, line: tuple[int, str, int, int, int], more: bool) -> None:
        """Make ``line`` current again; the next advance returns what the last
        one did (the line read then, or the end)."""
        if more:
            self.saved = (self.d, self.c, self.ind, self.num, self.blank)
            self.held = 1
        else:
            self.held = 2
        self.d, self.c, self.ind, self.num, self.blank = line

    def current(self) -> tuple[int, str, int, int, int]:
        return (self.d, self.c, self.ind, self.num, self.blank)

    def advance(self) -> bool:
        if self.held:
            held = self.held
            self.held = 0
            if held == 2:
                return False
            self.d, self.c, self.ind, self.num, self.blank = self.saved
            return True
        src = self.src
        size = self.size
        blank = 0
        while True:
            try:
                raw = next(src, None)
            except Exception as e:
                raise _SourceError(e) from None
            if raw is None:
                self.blank = blank
                return False
            self.number += 1
            number = self.number
            if number == 1 and raw.startswith("\ufeff"):
                raw = raw[1:]  # a byte order mark, as decode(str) drops it
            # The terminator, if the line still has it: LF, CR LF, or CR at the
            # end of the input (§12).
            if raw.endswith("\n"):
                raw = raw[:-1]
            if raw.endswith("\r"):
                raw = raw[:-1]
            c = raw.lstrip(" ")
            if not c:
                if not blank:
                    blank = number
                continue
            first = c[0]
            if first == "#":
                continue  # a comment line (§5.1)
            k = len(raw) - len(c)
            if first == "\t":
                if not c.strip(" \t"):
                    if not blank:
                        blank = number
                    continue
                if self.strict:
                    raise _IndentError(
                        ToonDecodeError("tab character in indentation", number, k + 1))
                # Non-strict tab policy (§12): a tab counts as one indentation unit.
                c = raw.lstrip(" \t")
                lead = raw[: len(raw) - len(c)]
                self.d = (lead.count(" ") + lead.count("\t") * size) // size
                self.ind = len(lead)
            else:
                if k % size and self.strict:
                    raise _IndentError(ToonDecodeError(
                        f"indentation of {k} spaces is not a multiple of {size}", number, k + 1))
                self.d = k // size
                self.ind = k
            self.c = c
            self.num = number
            self.blank = blank
            return True


def _row_events(row: Row, values: list[Any], out: list[tuple[int, Any]]) -> None:
    """The events of one row object (§9.3), appended to ``out``."""
    out.append(_START_OBJECT_EVENT)
    i = 0
    for op, name in row.ops:
        if op == CELL:
            out.append((KEY, name))
            out.append((PRIMITIVE, values[i]))
            i += 1
        elif op == OPEN_GROUP:
            out.append((KEY, name))
            out.append(_START_OBJECT_EVENT)
        else:
            out.append(_END_OBJECT_EVENT)
    out.append(_END_OBJECT_EVENT)


# ---------------------------------------------------------------- the parser


class _Frame:
    """An open scope whose content lines stand at ``depth``."""

    __slots__ = ("kind", "depth", "count", "declared", "num", "ind", "off", "label", "fresh",
                 "keys", "row", "delim")

    def __init__(self, kind: int, depth: int, declared: int, num: int, ind: int, off: int,
                 label: str) -> None:
        self.kind = kind
        self.depth = depth
        self.count = 0  # list items, rows or entries seen
        self.declared = declared
        self.num = num  # where the opening line stands, for count errors
        self.ind = ind
        self.off = off
        self.label = label
        self.fresh = True  # no content line seen yet
        self.keys: set[str] | None = None  # keys seen (strict duplicate check)
        self.row: Row | None = None  # tables and keyed objects
        self.delim = ","


def _error(msg: str, num: int, ind: int, off: int = 0) -> ToonDecodeError:
    return ToonDecodeError(msg, num, ind + off + 1)


def _miscount(label: str, what: str, declared: int, found: int | None, num: int, ind: int,
              off: int = 0) -> ToonDecodeError:
    e = _error(f"{label}: expected {declared} {what}, found {'more' if found is None else found}",
               num, ind, off)
    e.declared, e.found = declared, found
    return e


def _in_array_span(stack: list[_Frame]) -> bool:
    for f in stack:
        if f.kind == _LIST and f.count:
            return True
    return False


class _Stream:
    def __init__(self, reader: _Reader, strict: bool, max_depth: int,
                 whole_values: bool) -> None:
        self.r = reader
        self.strict = strict
        self.max_depth = max_depth
        self.whole = whole_values
        self.stack: list[_Frame] = []
        self.out: list[tuple[int, Any]] = []  # events of the line being parsed

    # ------------------------------------------------------------ errors

    def _located(self, e: ScanError, off: int = 0) -> ToonDecodeError:
        r = self.r
        return _error(e.msg, r.num, r.ind, off + e.pos)

    def _here(self, msg: str, off: int = 0) -> ToonDecodeError:
        return _error(msg, self.r.num, self.r.ind, off)

    def _level(self, level: int, off: int = 0) -> None:
        """Containers nest at most ``max_depth`` deep, the root counting as 1."""
        if level > self.max_depth:
            raise self._here(f"nesting deeper than max_depth={self.max_depth}", off)

    def _value(self, tok: str) -> Any:
        return parse_token(tok, self.strict, None, None)

    def _try_header(self, c: str, off: int) -> Header | None:
        try:
            return try_header(c, self.strict, self.max_depth)
        except ScanError as e:
            raise self._located(e, off) from None

    # ------------------------------------------------------------ root (§5)

    def events(self) -> Iterator[tuple[int, Any]]:
        r = self.r
        out = self.out
        strict = self.strict
        if not r.advance():
            yield _START_OBJECT_EVENT  # the empty document is {} (§5)
            yield _END_OBJECT_EVENT
            return
        if r.d != 0:
            raise self._here("the first line of a document must not be indented")
        first = r.current()
        c = r.c
        if c[0] == "[":
            header = self._try_header(c, 0)
            if header is not None:
                stack = self.stack
                if header.keyed or header.fields is not None:
                    self._table(header, c, 1, None, 0)
                elif c[header.end :].strip(" "):
                    self._level(1)
                    self._inline(header, c, 0, None)
                else:
                    out.append((START_ARRAY, header.length))
                    stack.append(_Frame(_LIST, 1, header.length, r.num, r.ind, 0,
                                        f"[{header.length}]"))
                yield from out
                out.clear()
                if not stack:  # an inline root array: nothing may follow (§5)
                    if r.advance() and strict:
                        raise self._here("unexpected content after the root array")
                    return
                more = r.advance()
                yield from self._run(more)
                return
        more = r.advance()
        if not more and c[0] == "[" and c.rstrip(" ") == "[]":
            yield (START_ARRAY, 0)
            yield _END_ARRAY_EVENT
            return
        if not more and find_unquoted(c, ":") < 0:
            try:
                value = self._value(c.strip(" "))
            except ScanError as e:
                r.hold(first, more)
                raise self._located(e, len(c) - len(c.lstrip(" "))) from None
            yield (PRIMITIVE, value)
            return
        r.hold(first, more)
        yield _START_OBJECT_EVENT
        self.stack.append(_Frame(_OBJECT, 0, 0, r.num, r.ind, 0, ""))
        yield from self._run(True)

    # ------------------------------------------------------------ main loop

    def _run(self, more: bool) -> Iterator[tuple[int, Any]]:
        """Parse from the current line (if ``more``) to the end of the input."""
        r = self.r
        stack = self.stack
        strict = self.strict
        out = self.out
        whole = self.whole
        while more:
            top = stack[-1]
            kind = top.kind
            if kind == _TABLE or kind == _KEYED:
                # Rows in a tight loop (§9.3, §9.5): they are where big documents
                # spend their time.
                row_depth = top.depth
                while more and r.d == row_depth:
                    if r.blank:
                        if strict and (top.count or _in_array_span(stack[:-1])):
                            if kind == _KEYED or is_row(r.c, top.delim):
                                raise _error("blank line inside an array", r.blank, 0)
                    if kind == _TABLE:
                        vals = self._row_values(top)
                        if vals is None:
                            break
                        row = top.row
                        assert row is not None
                        top.count += 1
                        if whole:
                            names = row.names
                            yield (VALUE, dict(zip(names, vals)) if names is not None
                                   else row.build(vals))
                        else:
                            _row_events(row, vals, out)
                    else:
                        if not self._entry(top):
                            more = r.advance()
                            continue
                    if out:
                        yield from out
                        out.clear()
                    more = r.advance()
                if more and r.d > row_depth and not r.blank:
                    if strict:
                        what = "tabular rows" if kind == _TABLE else "entry rows"
                        raise self._here(f"{top.label}: unexpected indentation inside {what}")
                    more = r.advance()
                    continue
                # The rows end before this line (or at the end of the input).
                stack.pop()
                if strict and top.count != top.declared:
                    raise _miscount(top.label, "rows" if kind == _TABLE else "entries",
                                    top.declared, top.count, top.num, top.ind, top.off)
                yield _END_ARRAY_EVENT if kind == _TABLE else _END_OBJECT_EVENT
                if not stack:
                    if more and strict:
                        raise self._here("unexpected content after the root array")
                    return
                continue
            d = r.d
            while d < top.depth:
                self._close(stack.pop())
                if not stack:
                    if out:
                        yield from out
                        out.clear()
                    if strict:
                        raise self._here("unexpected content after the root array")
                    return
                top = stack[-1]
            if r.blank:
                if strict and _in_array_span(stack):
                    raise _error("blank line inside an array", r.blank, 0)
            if d > top.depth:
                if strict:
                    if top.fresh:
                        raise self._here("line is indented more than one level deeper")
                    raise self._here("unexpected indentation: the line above opens no scope")
                if not top.fresh:
                    if out:
                        yield from out
                        out.clear()
                    more = r.advance()  # a line that belongs to no scope is skipped (§8)
                    continue
                top.depth = d
            top.fresh = False
            if top.kind == _OBJECT:
                self._field(top, d, r.c, 0)
            else:
                self._item(top, d)
            if out:
                yield from out
                out.clear()
            more = r.advance()
        while stack:
            top = stack.pop()
            if top.kind == _TABLE or top.kind == _KEYED:
                if strict and top.count != top.declared:
                    raise _miscount(top.label, "rows" if top.kind == _TABLE else "entries",
                                    top.declared, top.count, top.num, top.ind, top.off)
                out.append(_END_ARRAY_EVENT if top.kind == _TABLE else _END_OBJECT_EVENT)
            else:
                self._close(top)
        if out:
            yield from out
            out.clear()

    def _close(self, frame: _Frame) -> None:
        if frame.kind == _LIST:
            if frame.count != frame.declared and self.strict:
                raise _miscount(frame.label, "list items", frame.declared, frame.count,
                                frame.num, frame.ind)
            self.out.append(_END_ARRAY_EVENT)
        else:
            self.out.append(_END_OBJECT_EVENT)

    def _push(self, frame: _Frame) -> None:
        self._level(len(self.stack) + 1)
        self.stack.append(frame)

    # ------------------------------------------------------------ objects (§8)

    def _field(self, frame: _Frame, d: int, c: str, off: int) -> None:
        """Parse ``c`` (the current line's content from ``off``) as a field of the
        object of ``frame``, standing at depth ``d``."""
        r = self.r
        out = self.out
        stack = self.stack
        try:
            key, header, rest = split_field(c, self.strict, self.max_depth)
        except ScanError as e:
            raise self._located(e, off) from None
        if self.strict:
            keys = frame.keys
            if keys is None:
                keys = frame.keys = set()
            seen = len(keys)
            keys.add(key)  # one hash: a set that did not grow already held it
            if len(keys) == seen:
                raise self._here(f"duplicate key {key!r}", off)
        out.append((KEY, key))
        if header is None:
            tok = c[rest:].strip(" ")
            if not tok:
                self._push(_Frame(_OBJECT, d + 1, 0, r.num, r.ind, 0, key))
                out.append(_START_OBJECT_EVENT)
            elif tok == "[]":
                self._level(len(stack) + 1, off)
                out.append((START_ARRAY, 0))
                out.append(_END_ARRAY_EVENT)
            else:
                try:
                    out.append((PRIMITIVE, self._value(tok)))
                except ScanError as e:
                    raise self._located(e, off + rest + c[rest:].find(tok)) from None
            return
        label = f"{key}[{header.length}{':' if header.keyed else ''}]"
        if header.keyed or header.fields is not None:
            self._table(header, c, d + 1, label, off)
            return
        if c[header.end :].strip(" "):
            self._level(len(stack) + 1, off)
            self._inline(header, c, off, label)
            return
        self._push(_Frame(_LIST, d + 1, header.length, r.num, r.ind, 0, label))
        out.append((START_ARRAY, header.length))

    # ------------------------------------------------------------ arrays (§9)

    def _inline(self, header: Header, c: str, off: int, label: str | None) -> None:
        """``key[N]: v1,v2`` (§9.1)."""
        try:
            vals = values(c, header.delimiter, header.end, self.strict, None, None)
        except ScanError as e:
            raise self._located(e, off) from None
        if self.strict and len(vals) != header.length:
            raise _miscount(label or f"[{header.length}]", "values", header.length,
                            len(vals), self.r.num, self.r.ind, off)
        out = self.out
        if self.whole:
            out.append((VALUE, vals))
            return
        out.append((START_ARRAY, header.length))
        for v in vals:
            out.append((PRIMITIVE, v))
        out.append(_END_ARRAY_EVENT)

    def _table(self, header: Header, c: str, row_depth: int, label: str | None,
               off: int) -> None:
        """Open the rows of ``key[N]{fields}:`` (§9.3) or ``key[N:]{fields}:``
        (§9.5) at ``row_depth``; :meth:`_run` reads them."""
        assert header.fields is not None
        r = self.r
        row = Row(header.fields)
        # The table is one level below the open scopes, its row objects two.
        self._level(len(self.stack) + 1 + row.depth, off)
        keyed = header.keyed
        if label is None:
            label = f"[{header.length}:]" if keyed else f"[{header.length}]"
        frame = _Frame(_KEYED if keyed else _TABLE, row_depth, header.length, r.num, r.ind,
                       off, label)
        frame.row = row
        frame.delim = header.delimiter
        if keyed and self.strict:
            frame.keys = set()
        self.stack.append(frame)
        self.out.append(_START_OBJECT_EVENT if keyed else (START_ARRAY, header.length))

    def _row_values(self, frame: _Frame) -> list[Any] | None:
        """The cells of the current line as a row of ``frame``'s table, or None
        if the line is not a row (a key-value line ends the rows, §9.3)."""
        r = self.r.c
        delim = frame.delim
        row = frame.row
        assert row is not None
        width = row.width
        try:
            vals = row_values(r, delim, self.strict, None, None)
        except ScanError as e:
            raise self._located(e) from None
        if vals is None:
            return None
        if len(vals) != width:
            if self.strict:
                raise self._here(
                    f"{frame.label}: row has {len(vals)} values but the header declares "
                    f"{width} fields")
            vals = (vals + [None] * width)[:width]
        return vals

    def _entry(self, frame: _Frame) -> bool:
        """The current line as an entry row of a keyed object (§9.5); False if
        it is skipped (non-strict)."""
        r = self.r.c
        row = frame.row
        assert row is not None
        strict = self.strict
        try:
            found = entry_key(r, strict, frame.label)
            if found is None:
                return False
            key, colon, _ = found
            vals = (values(r, frame.delim, colon + 1, strict, None, None)
                    if r[colon + 1 :].strip(" ") else [])
        except ScanError as e:
            raise self._located(e) from None
        if len(vals) != row.width:
            if strict:
                raise self._here(
                    f"{frame.label}: entry {key!r} has {len(vals)} values but the header "
                    f"declares {row.width} fields")
            vals = (vals + [None] * row.width)[: row.width]
        keys = frame.keys
        if keys is not None:
            if key in keys:
                raise self._here(f"duplicate entry key {key!r}")
            keys.add(key)
        frame.count += 1
        out = self.out
        out.append((KEY, key))
        if self.whole:
            out.append((VALUE, row.build(vals)))
        else:
            _row_events(row, vals, out)
        return True

    # ------------------------------------------------------------ list items (§9.4, §10)

    def _item(self, frame: _Frame, d: int) -> None:
        r = self.r
        out = self.out
        stack = self.stack
        c = r.c
        if c[0] != "-" or (len(c) > 1 and c[1] != " "):
            if c.rstrip(" ") != "-":
                raise self._here(f"{frame.label}: expected a list item starting with '- '")
        frame.count += 1
        if self.strict and frame.count > frame.declared:
            raise _miscount(frame.label, "list items", frame.declared, None, r.num, r.ind)
        rest = c[2:]
        tok = rest.strip(" ")
        if not tok:
            self._level(len(stack) + 1)
            out.append(_START_OBJECT_EVENT)  # bare "-" is an empty object (§10)
            out.append(_END_OBJECT_EVENT)
            return
        lead = len(rest) - len(rest.lstrip(" "))
        off = 2 + lead
        if tok == "[]":
            self._level(len(stack) + 1, off)
            out.append((START_ARRAY, 0))  # §9.2
            out.append(_END_ARRAY_EVENT)
            return
        body = c[off:]
        if body[0] == "[":
            header = self._try_header(body, off)
            if header is not None:
                if header.fields is not None:
                    raise self._here(
                        "a keyless tabular or keyed header is only allowed at the root", off)
                label = f"[{header.length}]"
                if body[header.end :].strip(" "):
                    self._level(len(stack) + 1, off)
                    self._inline(header, body, off, label)
                    return
                self._push(_Frame(_LIST, d + 1, header.length, r.num, r.ind, 0, label))
                out.append((START_ARRAY, header.length))
                return
        colon = find_unquoted(body, ":")
        if colon < 0 and not (body[0] == '"' and quoted_key_header(body)):
            try:
                out.append((PRIMITIVE, self._value(tok)))
            except ScanError as e:
                raise self._located(e, off) from None
            return
        # An object whose first field sits on the hyphen line (§10): its fields
        # stand at d + 1, so whatever the first field opens is at d + 2.
        obj = _Frame(_OBJECT, d + 1, 0, r.num, r.ind, 0, frame.label)
        obj.fresh = False
        self._push(obj)
        out.append(_START_OBJECT_EVENT)
        self._field(obj, d + 1, body, off)


# ---------------------------------------------------------------- entry point


def _text_lines(text: str) -> list[str]:
    """A whole document's lines as decode splits them (§12)."""
    return text.split("\n")  # the reader drops a CR before the LF


def iter_events(lines: Iterable[str] | str, *, indent_size: int = 2, strict: bool = True,
                max_depth: int = DEFAULT_MAX_DEPTH, whole_values: bool = False
                ) -> Iterator[tuple[int, Any]]:
    """Events as (kind, payload) with kind one of the int constants
    START_OBJECT, END_OBJECT, START_ARRAY (payload: the declared length),
    END_ARRAY, KEY (payload: the key str), PRIMITIVE (payload: the value), and,
    only when whole_values=True, VALUE (payload: a complete decoded container:
    one tabular or keyed row's dict, or an inline primitive array's list).

    ``lines`` are lines, each with or without its terminator (one trailing LF,
    then one trailing CR, is dropped, as decode drops CR LF), or one str
    holding the whole document. Raises :class:`ToonDecodeError` exactly where
    :func:`decode` of the same text would, after reading the rest of the input
    when that is needed to tell (see :func:`_settle`)."""
    if indent_size < 1:
        raise ValueError("indent_size must be at least 1")
    src = iter(_text_lines(lines)) if isinstance(lines, str) else iter(lines)
    reader = _Reader(src, indent_size, strict)
    return _guarded(_Stream(reader, strict, max_depth, whole_values), reader)


def _guarded(stream: _Stream, reader: _Reader) -> Iterator[tuple[int, Any]]:
    """The stream's events; an error is raised as decode would rank it."""
    # (Distinct names for the caught errors: mypyc's generators mix them up.)
    try:
        yield from stream.events()
    except _SourceError as source_error:
        raise source_error.error from None
    except _IndentError as indent_error:
        raise _settle(reader, indent_error.error, False) from None
    except ToonDecodeError as parse_error:
        raise _settle(reader, parse_error, True) from None


def _settle(reader: _Reader, error: ToonDecodeError, check_indent: bool) -> BaseException:
    """What decode raises instead of ``error``: the input's first invalid UTF-8,
    else (for a parse error) its first bad indentation, else ``error``."""
    reader.held = 0
    while True:
        try:
            if not reader.advance():
                return error
        except _SourceError as source_error:
            return source_error.error
        except _IndentError as indent_error:
            if check_indent:
                error = indent_error.error
                check_indent = False
                reader.strict = False  # later indentation no longer matters
