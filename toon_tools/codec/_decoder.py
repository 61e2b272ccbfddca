"""TOON decoder (spec v4.0, §4-§14).

Design: one pre-pass turns the text into parallel lists of (depth, line as
written, indentation width, line number) with comment lines removed (§5.1) and
indentation validated (§12); fields are parsed from an offset into the line, not
from a copy of its content. The parser then walks those lines once with an
explicit stack of open scopes instead of recursion, so nesting depth is bounded
by ``max_depth`` and never by Python's recursion limit. Tabular rows and keyed
entry rows (§9.3, §9.5) are consumed in tight loops because they are where large
documents spend their time.
"""

from __future__ import annotations

from typing import Any, Callable, Final

from ._errors import ToonDecodeError
from ._scalars import DEFAULT_MAX_DEPTH, ScanError, find_closing_quote, parse_token
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
    split,
    split_field,
    trim,
    try_header,
    values,
)

_OBJECT: Final = 0
_LIST: Final = 1

#: Runs of 0..63 spaces: the pre-pass checks that what ``str.lstrip()`` removed
#: was only spaces with one ``startswith`` instead of a per-character scan.
_SPACE_RUNS: Final = [" " * k for k in range(64)]


#: Where one value stands (decode_located): (key line, key column, key end
#: column, line, column, end line, end column), 1-based with end columns one past
#: the last character; a key line of 0 means "no key".
SpanRecord = tuple[int, int, int, int, int, int, int]


def pointer_token(key: str) -> str:
    """One JSON pointer reference token (RFC 6901 §3): ``~`` and ``/`` escaped."""
    if "~" in key or "/" in key:
        return key.replace("~", "~0").replace("/", "~1")
    return key


class _Rec:
    """Where one value stands, as the decoder logs it: offsets into the content of
    line index ``i`` (its key from ``ks`` to ``ke``, -1 for none; its value from
    ``start``) to ``end`` on line index ``end_i``. A native class: its ints are
    stored unboxed, so logging a value costs one small allocation."""

    __slots__ = ("parent", "key", "i", "ks", "ke", "start", "end_i", "end", "ptr")

    def __init__(self, parent: _Rec | None, key: str | int, i: int, ks: int, ke: int,
                 start: int, end_i: int, end: int) -> None:
        self.parent = parent  # the enclosing container's record; None for the root
        self.key = key
        self.i = i
        self.ks = ks
        self.ke = ke
        self.start = start
        self.end_i = end_i
        self.end = end
        self.ptr = ""  # its JSON pointer, once expanded


def _child_pointer(parent: _Rec | None, key: str | int) -> str:
    """The JSON pointer of ``key`` in the container ``parent`` (None: the root itself),
    once the parent's own pointer is known."""
    if parent is None:
        return ""
    if isinstance(key, int):
        return f"{parent.ptr}/{key}"
    return parent.ptr + "/" + pointer_token(key)


class SpanLog:
    """What a located decode writes down as it goes, kept cheap so that locating
    costs little more than decoding: a record per container (:class:`_Rec`), a
    primitive in slots of the line it stands on (at most one per line; lists made
    once, so logging one allocates nothing), and a tuple per row of cells (the
    cell texts the decoder split anyway). Pointer strings and cell positions are
    worked out only by :meth:`expand`."""

    def __init__(self) -> None:
        self.values: list[_Rec] = []  # containers, parents before children
        # By line index: the primitive's container (None: the root), its key or
        # index (None: no primitive on that line), key start and end, start, end.
        self.leaf_parent: list[_Rec | None] = []
        self.leaf_key: list[Any] = []
        self.leaf_ks: list[int] = []
        self.leaf_ke: list[int] = []
        self.leaf_start: list[int] = []
        self.leaf_end: list[int] = []
        # (row's record, line index, start, cells, pointer suffixes or None for
        # indexes, nested groups)
        self.cells: list[tuple[_Rec, int, int, list[str], list[str] | None,
                               list[tuple[str, int, int]]]] = []
        self.line_numbers: list[int] = []
        self.indents: list[int] = []

    def lines(self, n: int) -> None:
        """Make the per-line slots for a document of ``n`` lines."""
        self.leaf_parent = [None] * n
        self.leaf_key = [None] * n
        self.leaf_ks = [0] * n
        self.leaf_ke = [0] * n
        self.leaf_start = [0] * n
        self.leaf_end = [0] * n

    def expand(self) -> dict[str, SpanRecord]:
        """JSON pointer -> span of every value."""
        numbers, indents = self.line_numbers, self.indents
        out: dict[str, SpanRecord] = {}
        for rec in self.values:
            p = _child_pointer(rec.parent, rec.key)
            rec.ptr = p
            i = rec.i
            if i < 0:  # the empty document
                out[p] = (0, 0, 0, 1, 1, 1, 1)
                continue
            line = numbers[i]
            base = indents[i] + 1
            end_col = indents[rec.end_i] + 1 + rec.end
            if rec.ks >= 0:
                out[p] = (line, base + rec.ks, base + rec.ke, line, base + rec.start,
                          numbers[rec.end_i], end_col)
            else:
                out[p] = (0, 0, 0, line, base + rec.start, numbers[rec.end_i], end_col)
        leaf_key = self.leaf_key
        for i in range(len(leaf_key)):
            name: Any = leaf_key[i]
            if name is None:
                continue
            p = _child_pointer(self.leaf_parent[i], name)
            line = numbers[i]
            base = indents[i] + 1
            ks = self.leaf_ks[i]
            start = base + self.leaf_start[i]
            end = base + self.leaf_end[i]
            if ks >= 0:
                out[p] = (line, base + ks, base + self.leaf_ke[i], line, start, line, end)
            else:
                out[p] = (0, 0, 0, line, start, line, end)
        for row_rec, i, start, cells, names, groups in self.cells:
            line = numbers[i]
            col = indents[i] + start + 1
            row = row_rec.ptr
            starts: list[int] = []
            ends: list[int] = []
            n = len(cells) if names is None else min(len(cells), len(names))
            for k in range(n):
                t = cells[k]
                first = col + len(t) - len(t.lstrip(" "))
                last = first + len(t.strip(" "))
                out[row + (names[k] if names is not None else f"/{k}")] = (
                    0, 0, 0, line, first, line, last)
                if groups:
                    starts.append(first)
                    ends.append(last)
                col += len(t) + 1
            for suffix, a, b in groups:
                if b < len(starts):
                    out[row + suffix] = (0, 0, 0, line, starts[a], line, ends[b])
        return out


class _Frame:
    """An open scope whose content lines stand at ``depth``."""

    __slots__ = ("kind", "value", "depth", "count", "declared", "line", "label", "fresh", "path",
                 "rec")

    def __init__(
        self,
        kind: int,
        value: Any,
        depth: int,
        declared: int,
        line: int,
        label: str,
        path: tuple[Any, ...] = (),
        rec: _Rec | None = None,
    ) -> None:
        self.kind = kind
        self.value = value
        self.depth = depth
        self.count = 0  # list items seen (lists only)
        self.declared = declared
        self.line = line  # index of the opening line, for count errors
        self.label = label
        self.fresh = True  # no content line seen yet
        self.path = path  # keys and indexes from the root; only kept when tracing
        self.rec = rec  # its SpanLog record; only kept when locating


def _row_pointers(row: Row) -> tuple[list[str], list[tuple[str, int, int]]]:
    """Where each cell of ``row`` lands below its row object, as pointer suffixes
    (``/name``, ``/group/name``), and each nested group with its first and last
    cell (decode_located)."""
    cells: list[str] = []
    groups: list[tuple[str, int, int]] = []
    prefix = ""
    opened: list[tuple[str, int]] = []
    for op, name in row.ops:
        if op == CELL:
            cells.append(prefix + "/" + pointer_token(name))
        elif op == OPEN_GROUP:
            opened.append((prefix, len(cells)))
            prefix = prefix + "/" + pointer_token(name)
        else:
            outer, first = opened.pop()
            groups.append((prefix, first, len(cells) - 1))
            prefix = outer
    return cells, groups


def decode_text(
    text: str,
    *,
    indent_size: int = 2,
    strict: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
    trace: dict[int, tuple[Any, ...]] | None = None,
    arrays: dict[int, tuple[str, Any]] | None = None,
    spans: SpanLog | None = None,
) -> Any:
    """Decode ``text``. If ``trace`` is a dict, it is filled with the data path
    (keys and indexes from the root) of the element each line starts, by 1-based
    line number; ``toon fmt`` uses it to keep comments with their lines. If
    ``arrays`` is a dict, it maps ``id(container)`` to ``(delimiter, container)``
    for every container a header opened (§6), in document order; ``toon fmt``
    uses it to keep each array's own delimiter. If ``spans`` is a SpanLog, where
    every value stands is written to it (decode_located)."""
    if indent_size < 1:
        raise ValueError("indent_size must be at least 1")
    parser = _Parser(text, indent_size, strict, max_depth, parse_float, parse_int)
    parser.trace = trace
    parser.arrays = arrays
    parser.log = spans
    if spans is not None:
        spans.line_numbers, spans.indents = parser.line_numbers, parser.indents
        spans.lines(len(parser.line_numbers))
    return parser.parse()


class _Parser:
    def __init__(
        self,
        text: str,
        indent_size: int,
        strict: bool,
        max_depth: int,
        parse_float: Callable[[str], Any] | None,
        parse_int: Callable[[str], Any] | None,
    ) -> None:
        self.strict = strict
        self.max_depth = max_depth
        self.parse_float = parse_float
        self.parse_int = parse_int
        self.indent_size = indent_size
        self.trace: dict[int, tuple[Any, ...]] | None = None
        self.arrays: dict[int, tuple[str, Any]] | None = None
        self.log: SpanLog | None = None
        self._numbers: list[int] | None = None
        self._scan_lines(text)

    # ------------------------------------------------------------ pre-pass

    def _scan_lines(self, text: str) -> None:
        """Split into lines, drop comments (§5.1), validate indentation (§12).

        Three parallel lists, one entry per non-comment line: ``lines[i]`` is the
        line as written (its indentation kept: a copy of each line's content would
        double what the pre-pass allocates), ``indents[i]`` the number of
        indentation characters (so the content starts at ``lines[i][indents[i]]``
        and ``indents[i] + offset + 1`` is the 1-based column of a content offset)
        and ``depths[i]`` the indentation level (-1 for a blank line); plus
        ``line_numbers[i]``, the 1-based line number in the original text.
        """
        raw_lines = text.split("\n")
        if "\r" in text:  # §12: one CR before LF (or at EOF) belongs to the terminator
            raw_lines = [r[:-1] if r.endswith("\r") else r for r in raw_lines]
        size = self.indent_size
        strict = self.strict
        depths: list[int] = []
        indents: list[int] = []
        # Until a comment line is dropped, the lines are the raw lines and the
        # line numbers the indexes plus one: only then are both lists made.
        lines: list[str] | None = None
        numbers: list[int] | None = None
        runs = _SPACE_RUNS
        prev = 0  # the indentation of the last content line (below 64)
        for index in range(len(raw_lines)):
            raw = raw_lines[index]
            n = len(raw)
            if n and raw[0] == " ":
                if 0 < prev < n and raw[prev] != " " and raw.startswith(runs[prev]):
                    k = prev  # as indented as the line before: two tests, no copy
                else:
                    # lstrip() without an argument is a fast C loop; what it
                    # removed must be spaces only (§12), else take the exact path.
                    k = n - len(raw.lstrip())
                    if k == n or k >= 64 or not raw.startswith(runs[k]):
                        k = n - len(raw.lstrip(" "))
            else:
                k = 0
            if k == n:
                depths.append(-1)
                indents.append(0)
                if lines is not None and numbers is not None:
                    lines.append(raw)
                    numbers.append(index + 1)
                continue
            if raw[k] == "#":
                # A comment line: gone before anything else looks (§5.1).
                if lines is None or numbers is None:
                    lines = raw_lines[:index]
                    numbers = list(range(1, index + 1))
                continue
            if lines is not None and numbers is not None:
                lines.append(raw)
                numbers.append(index + 1)
            if raw[k] == "\t":
                c = raw.lstrip(" \t")
                if not c:
                    depths.append(-1)
                    indents.append(0)
                    continue
                if strict:
                    raise ToonDecodeError("tab character in indentation", index + 1, k + 1)
                # Non-strict tab policy (§12): a tab counts as one indentation unit.
                lead = raw[: n - len(c)]
                depths.append((lead.count(" ") + lead.count("\t") * size) // size)
                indents.append(len(lead))
                continue
            if k % size:
                if strict:
                    raise ToonDecodeError(
                        f"indentation of {k} spaces is not a multiple of {size}",
                        index + 1,
                        k + 1,
                    )
            depths.append(k // size)
            indents.append(k)
            if k < 64:
                prev = k
        self.depths = depths
        self.lines = raw_lines if lines is None else lines
        self.indents = indents
        self._numbers = numbers

    @property
    def line_numbers(self) -> list[int]:
        """``line_numbers[i]``: the 1-based line number of line index ``i``."""
        numbers = self._numbers
        if numbers is None:
            numbers = self._numbers = list(range(1, len(self.depths) + 1))
        return numbers

    def content(self, i: int) -> str:
        """Line index ``i`` after its indentation ("" for a blank line)."""
        if self.depths[i] < 0:
            return ""
        k = self.indents[i]
        return self.lines[i][k:] if k else self.lines[i]

    # ------------------------------------------------------------ errors

    def error(self, msg: str, i: int, offset: int = 0) -> ToonDecodeError:
        """An error on line index ``i`` at ``offset`` into that line's content."""
        if i >= len(self.line_numbers):
            last = self.line_numbers[-1] if self.line_numbers else 1
            return ToonDecodeError(msg, last, 1)
        return ToonDecodeError(msg, self.line_numbers[i], self.indents[i] + offset + 1)

    def miscount(self, label: str, what: str, declared: int, found: int | None, i: int,
                 offset: int = 0) -> ToonDecodeError:
        """An array whose items disagree with its header's ``[N]`` (§6), with both counts."""
        e = self.error(
            f"{label}: expected {declared} {what}, found {'more' if found is None else found}",
            i, offset)
        e.declared, e.found = declared, found
        return e

    def located(self, e: ScanError, i: int, offset: int = 0) -> ToonDecodeError:
        """A token-level error raised while scanning the content of line ``i``
        from ``offset``, placed in the document."""
        return self.error(e.msg, i, offset + e.pos)

    # ------------------------------------------------------------ root (§5)

    def parse(self) -> Any:
        depths = self.depths
        n = len(depths)
        first = next((i for i in range(n) if depths[i] >= 0), -1)
        locating = self.log is not None
        if first < 0:
            if self.log is not None:
                self.log.values.append(_Rec(None, "", -1, -1, -1, 0, -1, 0))
            return {}  # empty document (§5)
        if depths[first] != 0:
            raise self.error("the first line of a document must not be indented", first)
        c = self.content(first)
        non_blank = sum(1 for d in depths if d >= 0)
        if c[0] == "[":
            header = self._try_header(c, first, 0)
            if header is not None:
                return self._root_header(header, first)
            if non_blank == 1 and c.rstrip(" ") == "[]":
                self._mark(first, ())
                if locating:
                    self._token(None, "", -1, -1, first, 0, 2)
                return []
        if non_blank == 1 and find_unquoted(c, ":") < 0:
            try:
                value = self._value(c.strip(" "))
            except ScanError as e:
                raise self.located(e, first, len(c) - len(c.lstrip(" "))) from None
            self._mark(first, ())
            if locating:
                self._token(None, "", -1, -1, first, 0, len(c.strip(" ")))
            return value
        root: dict[str, Any] = {}
        rec = self._open(None, "", -1, -1, first, 0) if locating else None
        self._run([_Frame(_OBJECT, root, 0, 0, first, "", (), rec)], first)
        return root

    def _root_header(self, header: Header, i: int) -> Any:
        c = self.content(i)
        value: Any
        self._mark(i, ())
        rec = self._open(None, "", -1, -1, i, 0) if self.log is not None else None
        if header.keyed:
            value, nxt = self._keyed(header, i, c, 1, None, [], 0, (), rec)
        elif header.fields is not None:
            value, nxt = self._tabular(header, i, c, 1, None, [], 0, (), rec)
        elif c[header.end :].strip(" "):
            self._level(1, i)
            value, nxt = self._inline(header, i, c, 0, 0, "", rec), i + 1
        else:
            value = []
            self._opened(value, header)
            frame = _Frame(_LIST, value, 1, header.length, i, f"[{header.length}]", (), rec)
            self._run([frame], i + 1)
            return value
        if rec is not None:
            self._finish(rec, nxt)
        self._expect_end(nxt)
        return value

    def _expect_end(self, i: int) -> None:
        """§5: nothing may follow a completed root array or keyed root object."""
        depths = self.depths
        for j in range(i, len(depths)):
            if depths[j] >= 0:
                if self.strict:
                    raise self.error("unexpected content after the root array", j)
                return

    # ------------------------------------------------------------ main loop

    def _run(self, stack: list[_Frame], i: int) -> None:
        depths = self.depths
        strict = self.strict
        lines, indents = self.lines, self.indents
        n = len(depths)
        blank = -1  # index of the first blank line in the current run
        while i < n:
            d = depths[i]
            if d < 0:
                if blank < 0:
                    blank = i
                i += 1
                continue
            top = stack[-1]
            while d < top.depth:
                self._close(stack.pop(), i)
                if not stack:
                    if strict:
                        raise self.error("unexpected content after the root array", i)
                    return
                top = stack[-1]
            if blank >= 0:
                if strict and self._in_array_span(stack):
                    raise self.error("blank line inside an array", blank)
                blank = -1
            if d > top.depth:
                if strict:
                    if top.fresh:
                        raise self.error("line is indented more than one level deeper", i)
                    raise self.error("unexpected indentation: the line above opens no scope", i)
                if not top.fresh:
                    i += 1  # non-strict: a line that belongs to no scope is skipped (§8)
                    continue
                top.depth = d
            top.fresh = False
            if top.kind == _OBJECT:
                i = self._field(top, i, d, lines[i], indents[i], stack)
            else:
                i = self._item(top, i, d, stack)
        while stack:
            self._close(stack.pop(), n)

    @staticmethod
    def _in_array_span(stack: list[_Frame]) -> bool:
        return any(f.kind == _LIST and f.count for f in stack)

    def _close(self, frame: _Frame, i: int) -> None:
        """``frame`` ends before line ``i``."""
        if frame.rec is not None:
            self._finish(frame.rec, i)
        if frame.kind == _LIST and frame.count != frame.declared and self.strict:
            raise self.miscount(frame.label, "list items", frame.declared, frame.count, frame.line)

    # ------------------------------------------------------------ spans (decode_located)

    def _token(self, parent: _Rec | None, key: str | int, ks: int, ke: int, i: int,
               start: int, size: int) -> None:
        """Log the primitive ``key`` of the container ``parent`` (None: the root):
        ``size`` characters at ``start`` of line ``i``'s content, its key (if
        ``ks >= 0``) from ``ks`` to ``ke``."""
        log = self.log
        assert log is not None
        log.leaf_parent[i] = parent
        log.leaf_key[i] = key
        log.leaf_ks[i] = ks
        log.leaf_ke[i] = ke
        log.leaf_start[i] = start
        log.leaf_end[i] = start + size

    def _open(self, parent: _Rec | None, key: str | int, ks: int, ke: int, i: int,
              start: int) -> _Rec:
        """Log a container starting at ``start`` of line ``i``'s content; its
        children name the returned record as their parent, and :meth:`_finish`
        sets its end."""
        assert self.log is not None
        rec = _Rec(parent, key, i, ks, ke, start, i, start)
        self.log.values.append(rec)
        return rec

    def _finish(self, rec: _Rec, i: int) -> None:
        """The container ``rec`` ends with the last non-blank line before ``i``."""
        depths = self.depths
        j = i - 1
        while j > 0 and depths[j] < 0:
            j -= 1
        end = len(self.lines[j].rstrip(" ")) - self.indents[j] if depths[j] >= 0 else 0
        if j == rec.i:
            end = max(end, rec.start)
        rec.end_i = j
        rec.end = end

    def _cells(self, rec: _Rec, names: list[str] | None, groups: list[tuple[str, int, int]],
               i: int, start: int, cells: list[str]) -> None:
        """Log the cells of a row, split from line ``i``'s content at ``start``:
        under the pointer suffixes ``names``, or under their indexes when None."""
        assert self.log is not None
        self.log.cells.append((rec, i, start, cells, names, groups))

    @staticmethod
    def _key_end(c: str, s: int, header: Header | None, rest: int) -> int:
        """Where the key of the field at ``c[s:]`` ends."""
        if c[s] == '"':
            return find_closing_quote(c, s) + 1
        if header is not None:
            return c.find("[", s)
        end = rest - 1
        while end > s and c[end - 1] == " ":
            end -= 1
        return end

    def _push(self, stack: list[_Frame], frame: _Frame, i: int) -> None:
        self._level(len(stack) + 1, i)
        stack.append(frame)

    def _level(self, level: int, i: int, off: int = 0) -> None:
        """Containers nest at most ``max_depth`` deep, the root counting as 1."""
        if level > self.max_depth:
            raise self.error(f"nesting deeper than max_depth={self.max_depth}", i, off)

    # ------------------------------------------------------------ objects (§8)

    def _field(
        self, frame: _Frame, i: int, d: int, c: str, s: int, stack: list[_Frame]
    ) -> int:
        """Parse ``c[s:]`` (``c`` is line ``i`` as written) as a field of the object
        of ``frame``, standing at depth ``d``; return the next unconsumed line.
        Indexes into ``c`` less the indentation ``k`` are content offsets."""
        obj: dict[str, Any] = frame.value
        k = self.indents[i]
        off = s - k  # where the field starts in the line's content
        try:
            key, header, rest = split_field(c, self.strict, self.max_depth, s)
        except ScanError as e:
            raise self.located(e, i, -k) from None
        path: tuple[Any, ...] = ()
        trace = self.trace
        if trace is not None:  # _mark, inline: this runs once per field
            path = frame.path + (key,)
            trace.setdefault(self.line_numbers[i], path)
        strict = self.strict
        locating = self.log is not None
        ke = self._key_end(c, s, header, rest) - k if locating else -1
        if header is None:
            # Strict duplicate check (§8) without a lookup of its own: the key
            # is stored, then a size that did not grow means it was there. An
            # error found before the store still ranks below the duplicate.
            count = len(obj)
            # The usual "key: value": one space, then the token, sliced once.
            n = len(c)
            if (rest + 1 < n and c[rest] == " " and c[rest + 1] != " "
                    and c[n - 1] != " "):
                tok = c[rest + 1 :]
            else:
                tok = trim(c[rest:])
            if not tok:
                rec = self._open(frame.rec, key, off, ke, i, off) if locating else None
                child: dict[str, Any] = {}
                obj[key] = child
                if strict and len(obj) == count:
                    raise self.error(f"duplicate key {key!r}", i, off)
                self._push(stack, _Frame(_OBJECT, child, d + 1, 0, i, key, path, rec), i)
                return i + 1
            if tok[0] == "[" and tok == "[]":
                if strict and key in obj:
                    raise self.error(f"duplicate key {key!r}", i, off)
                self._level(len(stack) + 1, i, off)
                obj[key] = []
            else:
                try:
                    obj[key] = parse_token(tok, strict, self.parse_float, self.parse_int)
                except ScanError as e:
                    if strict and key in obj:
                        raise self.error(f"duplicate key {key!r}", i, off) from None
                    raise self.located(e, i, rest + c[rest:].find(tok) - k) from None
                if strict and len(obj) == count:
                    raise self.error(f"duplicate key {key!r}", i, off)
            if locating:
                start = rest
                while c[start] == " ":
                    start += 1
                self._token(frame.rec, key, off, ke, i, start - k, len(tok))
            return i + 1
        if strict and key in obj:
            raise self.error(f"duplicate key {key!r}", i, off)
        # A container is logged before its children, which name it as their parent.
        rec = self._open(frame.rec, key, off, ke, i, off) if locating else None
        if header.keyed or header.fields is not None:
            label = f"{key}[{header.length}{':' if header.keyed else ''}]"
            if header.keyed:
                obj[key], nxt = self._keyed(header, i, c, d + 1, label, stack, off, path, rec)
            else:
                obj[key], nxt = self._tabular(header, i, c, d + 1, label, stack, off, path, rec)
            if rec is not None:
                self._finish(rec, nxt)
            return nxt
        j = header.end
        n = len(c)
        while j < n and c[j] == " ":
            j += 1
        if j < n:  # values follow the colon
            self._level(len(stack) + 1, i, off)
            obj[key] = self._inline(header, i, c, -k, off, key, rec)
            if rec is not None:
                self._finish(rec, i + 1)
            return i + 1
        label = f"{key}[{header.length}]"
        child_list: list[Any] = []
        obj[key] = child_list
        self._opened(child_list, header)
        self._push(stack, _Frame(_LIST, child_list, d + 1, header.length, i, label, path, rec), i)
        return i + 1

    def _try_header(self, c: str, i: int, off: int) -> Header | None:
        """A keyless header at ``c[0]`` (content of line ``i`` from ``off``), or None."""
        try:
            return try_header(c, self.strict, self.max_depth)
        except ScanError as e:
            raise self.located(e, i, off) from None

    # ------------------------------------------------------------ arrays (§9)

    def _inline(self, header: Header, i: int, c: str, shift: int, off: int,
                key: str, rec: _Rec | None = None) -> list[Any]:
        """``key[N]: v1,v2`` (§9.1; ``key`` is "" for a keyless header), its
        header parsed from ``c``, whose indexes plus ``shift`` are offsets in
        line ``i``'s content; the header (or its key) starts at content offset
        ``off``."""
        start = header.end
        delim = header.delimiter
        if rec is not None:
            self._cells(rec, None, [], i, start + shift, split(c, delim, start))
        try:
            vals = values(c, delim, start, self.strict, self.parse_float, self.parse_int)
        except ScanError as e:
            raise self.located(e, i, shift) from None
        if self.strict and len(vals) != header.length:
            raise self.miscount(f"{key}[{header.length}]", "values", header.length,
                                len(vals), i, off)
        self._opened(vals, header)
        return vals

    def _tabular(
        self,
        header: Header,
        i: int,
        c: str,
        row_depth: int,
        label: str | None,
        stack: list[_Frame],
        off: int = 0,
        path: tuple[Any, ...] = (),
        rec: _Rec | None = None,
    ) -> tuple[list[Any], int]:
        """Rows of ``key[N]{fields}:`` at ``row_depth`` (§9.3)."""
        assert header.fields is not None
        row = self._row_plan(header.fields, i, off, len(stack))
        suffixes, groups = _row_pointers(row) if rec is not None else ([], [])
        label = label or f"[{header.length}]"
        delim = header.delimiter
        width = row.width
        names = row.names
        build = row.build
        strict = self.strict
        parse_float, parse_int = self.parse_float, self.parse_int
        depths, lines, indents = self.depths, self.lines, self.indents
        n = len(depths)
        out: list[Any] = []
        append = out.append
        trace = self.trace
        j = i + 1
        while j < n:
            d = depths[j]
            if d != row_depth:
                if d < 0:
                    nxt = self._after_blanks(j)
                    if nxt < n and depths[nxt] == row_depth and is_row(self.content(nxt), delim):
                        if strict and (out or self._in_array_span(stack)):
                            raise self.error("blank line inside an array", j)
                        j = nxt
                        continue
                    break
                if d > row_depth:
                    if strict:
                        raise self.error(
                            f"{label}: unexpected indentation inside tabular rows", j
                        )
                    j += 1
                    continue
                break
            r = lines[j]
            k = indents[j]
            if k:
                r = r[k:]
            try:
                row_vals = row_values(r, delim, strict, parse_float, parse_int)
            except ScanError as e:
                raise self.located(e, j) from None
            if row_vals is None:
                break  # a key-value line ends the rows (§9.3)
            vals = row_vals
            if len(vals) != width:
                if strict:
                    raise self.error(
                        f"{label}: row has {len(vals)} values but the header declares {width} fields",
                        j,
                    )
                vals = (vals + [None] * width)[:width]
            if trace is not None:
                trace.setdefault(self.line_numbers[j], path + (len(out),))
            if rec is not None:
                row_rec = self._open(rec, len(out), -1, -1, j, 0)
                row_rec.end = len(r.rstrip(" "))
                self._cells(row_rec, suffixes, groups, j, 0, split(r, delim, 0))
            append(dict(zip(names, vals)) if names is not None else build(vals))
            j += 1
        if strict and len(out) != header.length:
            raise self.miscount(label, "rows", header.length, len(out), i, off)
        self._opened(out, header)
        return out, j

    def _keyed(
        self,
        header: Header,
        i: int,
        c: str,
        row_depth: int,
        label: str | None,
        stack: list[_Frame],
        off: int = 0,
        path: tuple[Any, ...] = (),
        rec: _Rec | None = None,
    ) -> tuple[dict[str, Any], int]:
        """Entry rows of ``key[N:]{fields}:`` at ``row_depth`` (§9.5)."""
        assert header.fields is not None
        row = self._row_plan(header.fields, i, off, len(stack))
        suffixes, groups = _row_pointers(row) if rec is not None else ([], [])
        label = label or f"[{header.length}:]"
        delim = header.delimiter
        strict = self.strict
        depths, lines, indents = self.depths, self.lines, self.indents
        n = len(depths)
        out: dict[str, Any] = {}
        rows = 0
        j = i + 1
        while j < n:
            d = depths[j]
            if d != row_depth:
                if d < 0:
                    nxt = self._after_blanks(j)
                    if nxt < n and depths[nxt] == row_depth:
                        if strict and (rows or self._in_array_span(stack)):
                            raise self.error("blank line inside an array", j)
                        j = nxt
                        continue
                    break
                if d > row_depth:
                    if strict:
                        raise self.error(f"{label}: unexpected indentation inside entry rows", j)
                    j += 1
                    continue
                break
            r = lines[j]
            k = indents[j]
            if k:
                r = r[k:]
            try:
                found = entry_key(r, strict, label)
                if found is None:
                    j += 1  # non-strict: a line without a colon is skipped
                    continue
                key, colon, close = found
                body = r[colon + 1 :]
                vals = (values(r, delim, colon + 1, strict, self.parse_float, self.parse_int)
                        if body.strip(" ") else [])
            except ScanError as e:
                raise self.located(e, j) from None
            if len(vals) != row.width:
                if strict:
                    raise self.error(
                        f"{label}: entry {key!r} has {len(vals)} values but the header declares {row.width} fields",
                        j,
                    )
                vals = (vals + [None] * row.width)[: row.width]
            if strict and key in out:
                raise self.error(f"duplicate entry key {key!r}", j)
            if self.trace is not None:
                self.trace.setdefault(self.line_numbers[j], path + (key,))
            if rec is not None:
                kend = close + 1 if close >= 0 else len(r[:colon].rstrip(" "))
                lead = len(body) - len(body.lstrip(" "))
                entry = self._open(rec, key, 0, kend, j, colon + 1 + lead)
                entry.end = colon + 1 + lead + len(body.strip(" "))
                cells = split(body, delim, 0) if body.strip(" ") else []
                self._cells(entry, suffixes, groups, j, colon + 1, cells)
            out[key] = row.build(vals)
            rows += 1
            j += 1
        if strict and rows != header.length:
            raise self.miscount(label, "entries", header.length, rows, i, off)
        self._opened(out, header)
        return out, j

    def _row_plan(self, fields: list[Any], i: int, off: int, nesting: int) -> Row:
        row = Row(fields)
        # The table is one level below ``nesting``, its row objects two.
        self._level(nesting + 1 + row.depth, i, off)
        return row

    def _after_blanks(self, j: int) -> int:
        depths = self.depths
        n = len(depths)
        while j < n and depths[j] < 0:
            j += 1
        return j

    # ------------------------------------------------------------ list items (§9.4, §10)

    def _item(self, frame: _Frame, i: int, d: int, stack: list[_Frame]) -> int:
        c = self.lines[i]  # as written: the content starts at k
        k = self.indents[i]
        n = len(c)
        if c[k] != "-" or (n > k + 1 and c[k + 1] != " "):
            if c[k:].rstrip(" ") != "-":
                raise self.error(f"{frame.label}: expected a list item starting with '- '", i)
        frame.count += 1
        items: list[Any] = frame.value
        if self.strict and frame.count > frame.declared:
            raise self.miscount(frame.label, "list items", frame.declared, None, i)
        item_path: tuple[Any, ...] = ()
        trace = self.trace
        if trace is not None:  # _mark, inline: this runs once per item
            item_path = frame.path + (frame.count - 1,)
            trace.setdefault(self.line_numbers[i], item_path)
        locating = self.log is not None
        parent, index = frame.rec, frame.count - 1
        s = k + 2  # the item's text starts after "- " and any further spaces
        while s < n and c[s] == " ":
            s += 1
        if s >= n:
            self._level(len(stack) + 1, i)
            items.append({})  # bare "-" is an empty object (§10)
            if locating:
                self._token(parent, index, -1, -1, i, 0, 1)
            return i + 1
        off = s - k
        if c[s] == "[":
            body = c[s:]
            if body.rstrip(" ") == "[]":
                self._level(len(stack) + 1, i, off)
                items.append([])  # §9.2
                if locating:
                    self._token(parent, index, -1, -1, i, off, 2)
                return i + 1
            header = self._try_header(body, i, off)
            if header is not None:
                if header.fields is not None:
                    raise self.error(
                        "a keyless tabular or keyed header is only allowed at the root", i, off
                    )
                label = f"[{header.length}]"
                rec = self._open(parent, index, -1, -1, i, off) if locating else None
                if body[header.end :].strip(" "):
                    self._level(len(stack) + 1, i, off)
                    items.append(self._inline(header, i, body, off, off, "", rec))
                    if rec is not None:
                        self._finish(rec, i + 1)
                    return i + 1
                inner: list[Any] = []
                items.append(inner)
                self._opened(inner, header)
                self._push(
                    stack, _Frame(_LIST, inner, d + 1, header.length, i, label, item_path, rec), i
                )
                return i + 1
        colon = find_unquoted(c, ":", s)
        if colon < 0 and not (c[s] == '"' and quoted_key_header(c[s:])):
            tok = trim(c[s:])
            try:
                items.append(parse_token(tok, self.strict, self.parse_float, self.parse_int))
            except ScanError as e:
                raise self.located(e, i, off) from None
            if locating:
                self._token(parent, index, -1, -1, i, off, len(tok))
            return i + 1
        # An object whose first field sits on the hyphen line (§10): its fields
        # stand at d + 1, so whatever the first field opens is at d + 2.
        obj: dict[str, Any] = {}
        items.append(obj)
        rec = self._open(parent, index, -1, -1, i, off) if locating else None
        frame_obj = _Frame(_OBJECT, obj, d + 1, 0, i, frame.label, item_path, rec)
        frame_obj.fresh = False
        self._push(stack, frame_obj, i)
        return self._field(frame_obj, i, d + 1, c, s, stack)

    def _opened(self, container: Any, header: Header) -> None:
        """Note the delimiter of the header that opened ``container`` (fmt only)."""
        if self.arrays is not None:
            self.arrays[id(container)] = (header.delimiter, container)

    def _mark(self, i: int, path: tuple[Any, ...]) -> None:
        """Record the path of the element line ``i`` starts (outermost wins)."""
        if self.trace is not None:
            self.trace.setdefault(self.line_numbers[i], path)

    # ------------------------------------------------------------ tokens (§4)

    def _value(self, tok: str) -> Any:
        """Decode one trimmed primitive token (§4); raises ScanError."""
        return parse_token(tok, self.strict, self.parse_float, self.parse_int)
