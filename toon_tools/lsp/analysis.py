"""What the language server says about a TOON document: hover, outline, folding,
and the "convert to a table" rewrite. A plain library (no pygls, no lsprotocol):
``server.py`` maps LSP requests onto these calls, and the tests call them directly.

Every position here is a codec position (:class:`toon_tools.codec.Range`):
1-based line, 1-based column counting code points, end exclusive. Lines are
split as the decoder splits them: on LF, with one CR before it dropped (§12).

Finding what stands at a position does not read every span: the children of a
container are in text order, so :func:`hover_at` descends from the root by
bisecting each container's children on their start positions, touching
O(depth x log(width)) spans. Materialising all spans of a 1 MB document through
the public ``Located.spans`` costs about twice a decode on top of the one-off
expansion the codec does at the first lookup, so no all-spans index is built.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..codec import Located, Range, Span, encode_key, format_primitive

__all__ = [
    "Action",
    "Fold",
    "HoverInfo",
    "Outline",
    "Symbol",
    "TextEdit",
    "document_symbols",
    "folding_ranges",
    "hover_at",
    "table_actions",
]

#: Children listed per container in the outline; the rest are summarised in the
#: container's ``detail``. Editors draw a few thousand outline rows comfortably;
#: a 50k-item list is navigated by search, not by scrolling its outline.
MAX_CHILDREN = 1000
#: Symbols in the whole outline: past it, containers keep their own symbol but
#: list no children (their ``detail`` says so).
MAX_SYMBOLS = 5_000
#: Longest primitive shown in an outline ``detail``.
MAX_DETAIL = 60


@dataclass(frozen=True, slots=True)
class HoverInfo:
    """Markdown to show, and the token it describes."""

    markdown: str
    range: Range


@dataclass(frozen=True, slots=True)
class Symbol:
    """One outline entry. ``selection`` (the key, or the item's first line) lies
    within ``range`` (the whole value)."""

    name: str
    kind: str  # object, array, table, string, number, boolean, null
    detail: str
    range: Range
    selection: Range
    children: list[Symbol] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fold:
    start_line: int
    end_line: int
    kind: str  # "region" or "comment"


@dataclass(frozen=True, slots=True)
class TextEdit:
    range: Range
    new_text: str


@dataclass(frozen=True, slots=True)
class Action:
    title: str
    kind: str
    edits: list[TextEdit]


# ------------------------------------------------------------------ the document


class Outline:
    """One version of a document: its text and, when it decodes, its located value.

    Cheap to build (it only keeps references); lines are split on first need and
    spans are read only along the paths a request walks. Build one per document
    version; ``located`` is None for a document that does not decode (hover,
    symbols and actions then give nothing).
    """

    __slots__ = ("text", "located", "_lines", "_keys", "_whole")

    def __init__(self, text: str, located: Located | None) -> None:
        self.text = text
        self.located = located
        self._lines: list[str] | None = None
        self._keys: dict[int, list[str]] = {}  # id(dict) -> its keys, for bisecting
        self._whole = False

    @property
    def lines(self) -> list[str]:
        """The lines as the decoder counts them (§12: a CR before LF is not content)."""
        if self._lines is None:
            self._lines = _split_lines(self.text)
        return self._lines

    def line(self, number: int) -> str:
        """Line ``number`` (1-based), or "" outside the document."""
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def span(self, pointer: str) -> Span | None:
        located = self.located
        if located is None:
            return None
        if not self._whole:
            # Every request here reads many spans (a bisection probes ~17 per
            # level): have the codec build its whole map at once (~0.15 s on
            # 1 MB), not walk its log per lookup for the first 16 (tens of ms
            # each) and build the map after all.
            self._whole = True
            len(located.spans)
        try:
            return located.spans[pointer]
        except KeyError:
            return None

    def children(self, value: Any) -> Sequence[str | int]:
        """The keys (dict) or indexes (list) of a container, in text order."""
        if isinstance(value, list):
            return range(len(value))
        keys = self._keys.get(id(value))
        if keys is None:
            keys = self._keys[id(value)] = list(value)
        return keys


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    if "\r" in text:
        lines = [s[:-1] if s.endswith("\r") else s for s in lines]
    return lines


def _child(pointer: str, key: str | int) -> str:
    """The pointer of a child (RFC 6901: ``~`` -> ``~0``, ``/`` -> ``~1``), spelled
    as ``json_pointer`` spells it; inline because outlines make thousands."""
    if isinstance(key, int):
        return f"{pointer}/{key}"
    if "~" in key or "/" in key:
        key = key.replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{key}"


def _start(span: Span) -> tuple[int, int]:
    r = span.key if span.key is not None else span.value
    return (r.line, r.column)


def _is_container(value: Any) -> bool:
    return isinstance(value, (dict, list))


@dataclass(frozen=True, slots=True)
class _Node:
    """A value met while descending: where it stands and what it is."""

    pointer: str
    key: str | int | None  # None: the root
    value: Any
    span: Span


def _descend(outline: Outline, line: int, column: int) -> list[_Node]:
    """The chain of values from the root down to the innermost one whose text
    (from its key, or its start, to its end) holds (line, column). Each step
    bisects the container's children on their start positions."""
    located = outline.located
    if located is None:
        return []
    root = outline.span("")
    if root is None:
        return []
    pos = (line, column)
    chain = [_Node("", None, located.value, root)]
    while True:
        node = chain[-1]
        if not _is_container(node.value) or not node.value:
            break
        keys = outline.children(node.value)
        spans: dict[int, Span | None] = {}

        def start_of(i: int, keys: Sequence[str | int] = keys, node: _Node = node,
                     spans: dict[int, Span | None] = spans) -> tuple[int, int]:
            s = spans[i] if i in spans else outline.span(_child(node.pointer, keys[i]))
            spans[i] = s
            return _start(s) if s is not None else (0, 0)

        i = bisect_right(_Lazy(len(keys), start_of), pos) - 1
        if i < 0:
            break
        span = spans[i] if i in spans else outline.span(_child(node.pointer, keys[i]))
        if span is None:
            break
        v = span.value
        if pos > (v.end_line, v.end_column):
            break
        key = keys[i]
        chain.append(_Node(_child(node.pointer, key), key, node.value[key], span))
    return chain


class _Lazy(Sequence[tuple[int, int]]):
    """A sequence whose items are computed on access, so that ``bisect`` reads
    only the O(log n) spans it probes."""

    def __init__(self, n: int, get: Callable[[int], tuple[int, int]]) -> None:
        self._n = n
        self._get = get

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i: Any) -> Any:
        return self._get(i)


def _head(outline: Outline, span: Span, value: Any) -> Range:
    """What hovering shows for a value: a primitive's token; a container's first
    line from its start (its header or first field)."""
    v = span.value
    if not _is_container(value) or v.line == v.end_line:
        return v
    return Range(v.line, v.column, v.line, len(outline.line(v.line)) + 1)


def _contains(r: Range | None, pos: tuple[int, int]) -> bool:
    """Whether ``r`` holds the position; its end column counts (a caret just past a
    token still hovers it, as editors do)."""
    if r is None:
        return False
    return (r.line, r.column) <= pos <= (r.end_line, r.end_column)


# ------------------------------------------------------------------ describing values


def _is_table(outline: Outline, pointer: str, value: Any) -> bool:
    """A list written as §9.3 rows, or an object as §9.5 entry rows: its first
    element's first member carries no key of its own (a cell)."""
    if isinstance(value, list):
        if not value or not isinstance(value[0], dict) or not value[0]:
            return False
        first = _child(pointer, 0)
        row = value[0]
    elif isinstance(value, dict):
        if not value:
            return False
        k = next(iter(value))
        row = value[k]
        if not isinstance(row, dict) or not row:
            return False
        first = _child(pointer, k)
    else:
        return False
    s = outline.span(_child(first, next(iter(row))))
    return s is not None and s.key is None


def _fields(row: dict[str, Any]) -> str:
    """A row's field list as a header spells it (§6), nested groups included."""
    return ",".join(
        encode_key(k) + ("{" + _fields(v) + "}" if isinstance(v, dict) and v else "")
        for k, v in row.items()
    )


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    return "number"


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word}" if n == 1 else f"{n} {plural or word + 's'}"


def _describe(outline: Outline, pointer: str, value: Any) -> str:
    """The kind of a value in words, with counts and fields for containers."""
    if _is_table(outline, pointer, value):
        if isinstance(value, list):
            return f"table: {_count(len(value), 'row')} {{{_fields(value[0])}}}"
        first = next(iter(value.values()))
        return f"keyed table: {_count(len(value), 'entry', 'entries')} {{{_fields(first)}}}"
    if isinstance(value, list):
        return f"array: {_count(len(value), 'item')}"
    if isinstance(value, dict):
        return f"object: {_count(len(value), 'key')}"
    return _kind(value)


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    run = longest = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip() else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _name(key: str | int) -> str:
    return f"[{key}]" if isinstance(key, int) else encode_key(key)


# ------------------------------------------------------------------ hover


def hover_at(outline: Outline, line: int, column: int) -> HoverInfo | None:
    """What stands at (line, column): a tabular cell names its field, row and
    header (§9.3, §9.5); a key, a value or an array header gives its JSON
    pointer and what it is. None between tokens, on comments, or for a document
    that does not decode."""
    try:
        chain = _descend(outline, line, column)
    except (IndexError, KeyError, TypeError, ValueError):  # a located from other text
        return None
    if not chain:
        return None
    node = chain[-1]
    pos = (line, column)
    if node.span.key is not None and _contains(node.span.key, pos):
        return HoverInfo(_about(outline, node), node.span.key)
    rng = _head(outline, node.span, node.value)
    if not _contains(rng, pos):
        return None
    if _is_container(node.value):
        if node.pointer == "" and isinstance(node.value, dict):
            return None  # a root object has no header of its own
        return HoverInfo(_about(outline, node), rng)
    if len(chain) >= 2:
        parent = chain[-2]
        if node.span.key is None and isinstance(parent.value, dict):
            return HoverInfo(_cell(outline, chain), rng)
        if isinstance(parent.value, list) and isinstance(node.key, int):
            return HoverInfo(f"{_about(outline, node)}, item {node.key + 1} of "
                             f"{len(parent.value)}", rng)
    return HoverInfo(_about(outline, node), rng)


def _about(outline: Outline, node: _Node) -> str:
    return f"Pointer: {_pointer(node.pointer)}\n\n{_describe(outline, node.pointer, node.value)}"


def _pointer(pointer: str) -> str:
    return _code(pointer) if pointer else '`""` (the root)'


def _cell(outline: Outline, chain: list[_Node]) -> str:
    """Hover text for a tabular cell: chain[-1] is the cell; the row is the
    outermost ancestor on the cell's line, the table its parent."""
    cell = chain[-1]
    line = cell.span.value.line
    r = len(chain) - 2
    while r > 1 and chain[r - 1].span.value.line == line:
        r -= 1
    row, table = chain[r], chain[r - 1]
    field_path = " › ".join(_code(_name(n.key)) for n in chain[r + 1:] if n.key is not None)
    n = len(table.value)
    if isinstance(table.value, list) and isinstance(row.key, int):
        where = f"row {row.key + 1} of {n}"
    else:
        index = outline.children(table.value).index(row.key) if row.key in table.value else 0
        where = f"entry {_code(_name(row.key or ''))}, row {index + 1} of {n}"
    header = _head(outline, table.span, table.value)
    text = outline.line(header.line)[header.column - 1:].rstrip(" ")
    return (f"Field {field_path} · {where}\n\n{_code(text)}\n\n"
            f"Pointer: {_pointer(cell.pointer)} · {_kind(cell.value)}")


# ------------------------------------------------------------------ outline


def document_symbols(outline: Outline) -> list[Symbol]:
    """The outline: object members nest; arrays say their count; list items of
    objects are children named by index (``[0]``, with a ``name``/``title``/``id``
    value in ``detail``); primitives are leaves.

    Bounded for huge documents: table rows (§9.3, §9.5) are never symbols, arrays
    of primitives list no items, a container lists at most ``MAX_CHILDREN``
    children, and the outline holds at most ``MAX_SYMBOLS`` symbols, handed out
    breadth first (every top-level key shows before anything deeper); a
    container cut short says "first N shown" in its ``detail``.
    """
    located = outline.located
    if located is None:
        return []
    try:
        root = outline.span("")
        if root is None or not _is_container(located.value):
            return []
        builder = _Symbols(outline)
        if isinstance(located.value, dict) and not builder.is_table("", located.value):
            builder.plan("", located.value, MAX_SYMBOLS)
            return builder.members("", located.value)
        builder.plan("", located.value, MAX_SYMBOLS - 1)
        return [builder.symbol("", "(root)", located.value, root)]
    except (IndexError, KeyError, TypeError, ValueError):  # a located from other text
        return []


class _Symbols:
    """Outline building in two passes: :meth:`plan` hands out the symbol budget
    breadth first (how many children each container lists), then
    :meth:`members` builds the symbols depth first along that plan."""

    def __init__(self, outline: Outline) -> None:
        self.outline = outline
        self.shown: dict[str, int] = {}  # container pointer -> children listed
        self.tables: dict[str, bool] = {}

    def is_table(self, pointer: str, value: Any) -> bool:
        t = self.tables.get(pointer)
        if t is None:
            t = self.tables[pointer] = _is_table(self.outline, pointer, value)
        return t

    def lists_children(self, pointer: str, value: Any) -> bool:
        if not _is_container(value) or not value or self.is_table(pointer, value):
            return False
        return not isinstance(value, list) or any(_is_container(x) for x in value)

    def plan(self, pointer: str, value: Any, budget: int) -> None:
        level = [(pointer, value)]
        while level and budget > 0:
            following: list[tuple[str, Any]] = []
            for ptr, container in level:
                if not self.lists_children(ptr, container):
                    continue
                n = min(len(container), MAX_CHILDREN, budget)
                self.shown[ptr] = n
                budget -= n
                keys = self.outline.children(container)
                for i in range(n):
                    k = keys[i]
                    following.append((_child(ptr, k), container[k]))
                if budget <= 0:
                    break
            level = following

    def members(self, pointer: str, value: Any) -> list[Symbol]:
        out: list[Symbol] = []
        keys = self.outline.children(value)
        for i in range(self.shown.get(pointer, 0)):
            k = keys[i]
            child = _child(pointer, k)
            span = self.outline.span(child)
            if span is not None:
                out.append(self.symbol(child, _label(k), value[k], span))
        return out

    def symbol(self, pointer: str, name: str, value: Any, span: Span) -> Symbol:
        outline = self.outline
        v = span.value
        if span.key is not None:
            k = span.key
            rng = Range(k.line, k.column, v.end_line, v.end_column) if (
                (k.line, k.column) < (v.line, v.column)) else v
            selection = k
        else:
            rng = v
            selection = Range(v.line, v.column, v.line,
                              v.end_column if v.line == v.end_line else
                              max(v.column, len(outline.line(v.line)) + 1))
        if not _is_container(value):
            return Symbol(name, _kind(value), _clip(format_primitive(value)), rng, selection)
        if self.is_table(pointer, value):
            first = value[0] if isinstance(value, list) else next(iter(value.values()))
            word = "rows" if isinstance(value, list) else "entries"
            return Symbol(name, "table", f"[{len(value)}] {word} {{{_fields(first)}}}", rng,
                          selection)
        children = self.members(pointer, value)
        listed = self.lists_children(pointer, value)
        cut = f"(first {len(children)} shown)" if listed and len(children) < len(value) else ""
        if isinstance(value, list):
            detail = f"[{len(value)}]" + (" " + cut if cut else "")
            return Symbol(name, "array", detail, rng, selection, children)
        detail = " ".join(filter(None, [_item_title(value) if name.startswith("[") else "", cut]))
        return Symbol(name, "object", detail, rng, selection, children)


def _label(key: str | int) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    return key if key.strip() else encode_key(key)  # editors refuse an empty name


def _item_title(item: dict[str, Any]) -> str:
    """The first ``name``, ``title`` or ``id`` member holding a primitive, as the
    encoder writes it: what a reader calls the item by."""
    for key in ("name", "title", "id"):
        v = item.get(key)
        if key in item and not _is_container(v):
            return _clip(format_primitive(v))
    return ""


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


# ------------------------------------------------------------------ folding


def folding_ranges(text: str, limit: int | None = None) -> list[Fold]:
    """Folds from indentation and comments, for any text (it need not decode).
    With ``limit`` (the client's ``rangeLimit``), the outermost folds first, then
    the next level, each level in document order, up to ``limit`` of them.

    A line followed by deeper lines folds to its last deeper line (blank lines
    inside stay in the fold, trailing ones do not; comment lines never end a
    fold, and a deeper one at its end belongs to it). Two or more consecutive
    ``#`` comment lines (§5.1) fold as "comment". Sorted by start line.
    """
    lines = _split_lines(text)
    folds: list[Fold] = []
    # Open blocks: (start line, indent, last line seen that belongs to it).
    stack: list[list[int]] = []
    comment_run = 0
    for n, raw in enumerate(lines, 1):
        stripped = raw.lstrip(" ")
        is_comment = stripped.startswith("#")
        if is_comment:
            comment_run += 1
        else:
            if comment_run >= 2:
                folds.append(Fold(n - comment_run, n - 1, "comment"))
            comment_run = 0
        content = raw.lstrip(" \t")
        if not content:
            continue
        indent = len(raw) - len(content)
        if is_comment:  # ends no fold; extends one that already holds deeper content
            for block in stack:
                if indent > block[1] and block[2] > block[0]:
                    block[2] = n
            continue
        while stack and indent <= stack[-1][1]:
            _close(stack.pop(), folds)
        for block in stack:
            block[2] = n
        stack.append([n, indent, n])
    if comment_run >= 2:
        folds.append(Fold(len(lines) - comment_run + 1, len(lines), "comment"))
    while stack:
        _close(stack.pop(), folds)
    folds.sort(key=lambda f: (f.start_line, f.end_line))
    if limit is None or len(folds) <= limit:
        return folds
    return _outermost(folds, max(limit, 0))


def _outermost(folds: list[Fold], limit: int) -> list[Fold]:
    """``limit`` of ``folds`` (sorted by start), the least nested first."""
    depths: list[int] = []
    open_ends: list[int] = []  # end lines of the folds enclosing the current one
    for f in folds:
        while open_ends and open_ends[-1] < f.start_line:
            open_ends.pop()
        depths.append(len(open_ends))
        open_ends.append(f.end_line)
    chosen = sorted(range(len(folds)), key=lambda i: (depths[i], i))[:limit]
    return [folds[i] for i in sorted(chosen)]


def _close(block: list[int], folds: list[Fold]) -> None:
    start, _, end = block
    if end > start:
        folds.append(Fold(start, end, "region"))


# ------------------------------------------------------------------ convert to a table


def table_actions(outline: Outline, range: Range) -> list[Action]:
    """"Convert to a table" for each expanded list array (§9.4) touching the
    requested lines whose items are objects with the same keys in the same order
    and only primitive values (§9.3's condition for tabular form). The edit
    writes the rows as the encoder would (:func:`encode_key`,
    :func:`format_primitive` with the array's own delimiter), keeping the
    array's key and indentation.

    Not offered when a comment line sits inside the array (it would be lost), nor
    for an array that is itself a list item (§9.4: no keyless table there).
    """
    located = outline.located
    if located is None:
        return []
    lo, hi = sorted((range.line, range.end_line))
    out: list[Action] = []
    try:
        root = outline.span("")
        if root is None:
            return []
        for node in _touching(outline, _Node("", None, located.value, root), lo, hi):
            action = _convert(outline, node)
            if action is not None:
                out.append(action)
    except (IndexError, KeyError, TypeError, ValueError):  # a located from other text
        return out
    return out


def _touching(outline: Outline, node: _Node, lo: int, hi: int) -> Iterator[_Node]:
    """Lists whose lines meet [lo, hi], outermost first, without reading the
    spans of children elsewhere (a bisect on the children's start lines)."""
    value = node.value
    if not _is_container(value) or not value:
        return
    v = node.span.value
    if v.end_line < lo or v.line > hi:
        return
    if isinstance(value, list):
        yield node
    if _is_table(outline, node.pointer, value):
        return  # rows hold nothing to convert
    keys = outline.children(value)

    def start_line(i: int) -> tuple[int, int]:
        s = outline.span(_child(node.pointer, keys[i]))
        return (_start(s)[0], 0) if s is not None else (0, 0)

    first = max(bisect_right(_Lazy(len(keys), start_line), (lo, 0)) - 1, 0)
    for i in range(first, len(keys)):
        key = keys[i]
        ptr = _child(node.pointer, key)
        span = outline.span(ptr)
        if span is None:
            continue
        if _start(span)[0] > hi:
            break
        yield from _touching(outline, _Node(ptr, key, value[key], span), lo, hi)


def _convert(outline: Outline, node: _Node) -> Action | None:
    items = node.value
    if not isinstance(items, list) or not items:
        return None
    if node.span.key is None and node.pointer != "":
        return None  # a list item: tabular form is not available there (§9.4)
    first = items[0]
    if not isinstance(first, dict) or not first:
        return None
    names = list(first)
    head = outline.span(_child(_child(node.pointer, 0), names[0]))
    if head is None or head.key is None:
        return None  # already rows
    for item in items:
        if not isinstance(item, dict) or list(item) != names:
            return None
        if any(_is_container(x) for x in item.values()):
            return None
    v = node.span.value
    for n in range(v.line + 1, v.end_line + 1):
        if outline.line(n).lstrip(" ").startswith("#"):
            return None
    header_line = outline.line(v.line)
    start = (node.span.key.end_column if node.span.key is not None else v.column) - 1
    open_ = header_line.find("[", start)
    close = header_line.find("]", open_ + 1)
    if open_ < 0 or close < 0 or header_line[close + 1:].strip(" ") != ":":
        return None
    mark = header_line[close - 1]
    delimiter = mark if mark in "\t|" else ","
    bracket = f"[{len(items)}{mark if delimiter != ',' else ''}]"
    fields = delimiter.join(encode_key(k) for k in names)
    first_item = outline.span(_child(node.pointer, 0))
    if first_item is None:
        return None
    item_line = outline.line(first_item.value.line)
    indent = item_line[: len(item_line) - len(item_line.lstrip(" \t"))]
    rows = [indent + delimiter.join(format_primitive(x, delimiter) for x in item.values())
            for item in items]
    newline = "\r\n" if _crlf(outline, v.line) else "\n"
    text = newline.join([header_line[v.column - 1: open_] + bracket + "{" + fields + "}:", *rows])
    edit = TextEdit(Range(v.line, v.column, v.end_line, v.end_column), text)
    return Action("Convert to a table", "refactor.rewrite", [edit])


def _crlf(outline: Outline, line: int) -> bool:
    """Whether line ``line`` ends in CR LF in the text (then the rows do too)."""
    text = outline.text
    pos = 0
    for _ in range(line):
        pos = text.find("\n", pos) + 1
        if pos == 0:
            return False
    return pos >= 2 and text[pos - 2] == "\r"
