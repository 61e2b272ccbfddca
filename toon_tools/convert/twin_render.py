"""TOON -> Markdown twin: the readable mirror committed beside a ``.toon`` file.

The twin is written so that :mod:`toon_tools.convert.markdown` reads it back to
exactly the same data, key order included. Its grammar:

- First line: ``<!-- toon-tools twin of NAME sha256:HEX; edit NAME, not this file -->``
  (the source's name and the sha256 of its bytes: a stale twin is detectable
  without regenerating it). The marker also switches the reader to twin mode.
  A name that could not stand bare on that line (a line break or other control
  character, a leading ``"``, an undecodable byte, `` sha256:``) is written as a
  JSON string (``"new\\nline.toon"``; TOON's quoted strings are the same for the
  usual escapes), so every file name survives the trip through the header.
- An object is a bullet list of ``- **key**: value`` items, followed by one
  heading per field whose value is a non-empty array or object (levels 1-6).
  Once a field has had a heading, later fields of that object get headings too,
  so nothing is read into the wrong section. Below level 6, nested values stay
  inside the list item.
- A value on a line is a TOON primitive token (``42``, ``true``, ``null``,
  ``"42"`` for the string), ``[]`` for an empty array, or nothing for an empty
  object. Keys are written as TOON writes them (quoted when §7.3 requires).
  Markdown punctuation is backslash-escaped, so the reader sees the same text.
- Uniform arrays of objects are GFM tables; nested field groups become header
  paths joined with ``.`` (a name containing ``.`` is quoted). An object of
  uniform objects is a table whose first header cell is empty: the entry keys.
- Other arrays are bullet lists; an item that is an object or array holds a
  nested list. ``{}`` is an empty-object item.
- Strings with line breaks are fenced code blocks without a language.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any, Final

from ..codec import encode_key, format_primitive, quote_string

MARKER_PREFIX: Final = "<!-- toon-tools twin of "
MARKER_RE: Final = re.compile(r"<!-- toon-tools twin of (.+) sha256:([0-9a-f]{64}); edit .+, not this file -->")
_MARKER_TAIL: Final = re.compile(r" sha256:([0-9a-f]{64}); edit .+, not this file -->")
# What a bare name on the marker line must not hold: line breaks and other
# control characters (C0, DEL, C1, U+2028/9) and lone surrogates (a file name
# that is not UTF-8, as Python reads it).
_UNPRINTABLE: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

# "_" only where it could open or close emphasis: not between two alphanumerics,
# so that snake_case keys stay readable.
_MD_SPECIAL: Final = re.compile(r"([\\`*\[\]<>|~&]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")
_LINE_START: Final = re.compile(r"^([#>+=-]|\d+[.)])")
_MAX_HEADING: Final = 6


def marker(source_name: str, source_bytes: bytes) -> str:
    digest = hashlib.sha256(source_bytes).hexdigest()
    name = quote_name(source_name) if _needs_quotes(source_name) else source_name
    return f"{MARKER_PREFIX}{name} sha256:{digest}; edit {name}, not this file -->"


def _needs_quotes(name: str) -> bool:
    return (name.startswith('"') or " sha256:" in name
            or _UNPRINTABLE.search(name) is not None)


def quote_name(name: str) -> str:
    """``name`` as a one-line JSON string of printable characters: control
    characters and lone surrogates become ``\\uXXXX`` escapes, which
    :func:`read_marker` reads back to exactly ``name``."""
    import json

    body = json.dumps(name, ensure_ascii=False)
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", body)


def read_marker(text: str) -> tuple[str, str] | None:
    """(source name, sha256) from a twin's first line, or None if it is no twin."""
    first = text.split("\n", 1)[0].rstrip("\r")
    if not first.startswith(MARKER_PREFIX):
        return None
    if first.startswith('"', len(MARKER_PREFIX)):
        import json

        try:
            name, end = json.JSONDecoder().raw_decode(first, len(MARKER_PREFIX))
        except ValueError:
            return None
        tail = _MARKER_TAIL.fullmatch(first, end)
        return (name, tail.group(1)) if tail is not None and isinstance(name, str) else None
    m = MARKER_RE.fullmatch(first)
    return (m.group(1), m.group(2)) if m else None


def named_source(twin: Path, head: bytes) -> Path | None:
    """The source that ``head``, the first line of ``twin``, names, resolved from
    ``twin``'s folder; None if ``head`` is no twin header."""
    found = read_marker(head.decode("utf-8", "surrogateescape"))
    if found is None:
        return None
    return Path(os.path.normpath(os.path.join(os.path.abspath(twin.parent), found[0])))


def md_escape(text: str) -> str:
    """Escape what Markdown would otherwise read as markup (backslash escapes
    are undone by any CommonMark parser, so the text comes back unchanged)."""
    if _MD_SPECIAL.search(text) is not None:
        text = _MD_SPECIAL.sub(r"\\\1", text)
    m = _LINE_START.match(text)
    if m:
        end = m.end() - 1
        text = text[:end] + "\\" + text[end:]
    return text


def token(value: Any) -> str:
    """A primitive (or empty container) as a TOON token. Strings with Unicode
    whitespace at either end are quoted too: Markdown trims it (TOON does not)."""
    if isinstance(value, str):  # the common case first: most cells are strings
        return quote_string(value) if value != value.strip() else format_primitive(value)
    if isinstance(value, list):
        return "[]"
    if isinstance(value, dict):
        return ""
    return format_primitive(value)


def key_text(key: str) -> str:
    return md_escape(encode_key(key))


def _is_primitive(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _is_container(v: Any) -> bool:
    return isinstance(v, (dict, list)) and bool(v)


_OTHER_CONTROLS: Final = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u2028\u2029]")


def _multiline(v: Any) -> bool:
    """A string shown as a fenced block: it has line breaks and no other control
    characters (those stay in a one-line quoted token, escaped)."""
    return isinstance(v, str) and "\n" in v and not _OTHER_CONTROLS.search(v)


# ------------------------------------------------------------ tables


def table_paths(rows: list[Any]) -> list[tuple[str, ...]] | None:
    """Leaf paths, depth-first, if ``rows`` can be a table: non-empty objects with
    the same keys in the same order, every column primitive or a nested group of
    the same kind (§9.3, with key order fixed so the round trip keeps it)."""
    if not rows or not all(isinstance(r, dict) and r for r in rows):
        return None
    out: list[tuple[str, ...]] = []
    # Work items: (path, None) is a leaf; (path, column) a group to expand.
    stack: list[tuple[tuple[str, ...], list[Any] | None]] = [((), rows)]
    while stack:
        path, group = stack.pop()
        if group is None:
            out.append(path)
            continue
        keys = list(group[0])
        if any(list(r) != keys for r in group):
            return None
        children: list[tuple[tuple[str, ...], list[Any] | None]] = []
        for k in keys:
            col = [r[k] for r in group]
            if all(_is_primitive(v) for v in col):  # cells are one-line tokens
                children.append(((*path, k), None))
            elif all(isinstance(v, dict) and v for v in col):
                children.append(((*path, k), col))
            else:
                return None
        stack.extend(reversed(children))
    return out


def header_cell(path: tuple[str, ...]) -> str:
    segments = [quote_string(s) if "." in s else encode_key(s) for s in path]
    return md_escape(".".join(segments))


def render_table(rows: list[dict[str, Any]], paths: list[tuple[str, ...]],
                 keys: list[str] | None = None) -> list[str]:
    header = ([""] if keys is not None else []) + [header_cell(p) for p in paths]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] * len(header)) + "|"]
    for i, row in enumerate(rows):
        cells = [key_text(keys[i])] if keys is not None else []
        for path in paths:
            v: Any = row
            for part in path:
                v = v[part]
            cells.append(md_escape(token(v)))  # inline: the hot loop of a twin
        lines.append("| " + " | ".join(cells) + " |")
    return lines


# ------------------------------------------------------------ blocks


def _fence(text: str) -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return [ticks, *text.split("\n"), ticks]


def _indent(lines: list[str], by: str) -> list[str]:
    return [by + line if line else line for line in lines]


def render_block(value: Any, level: int) -> list[str]:
    """``value`` as the content of a section whose heading has ``level - 1``."""
    if isinstance(value, dict):
        if len(value) >= 2:
            rows = list(value.values())
            paths = table_paths(rows)
            if paths is not None:
                return render_table(rows, paths, keys=list(value))
        return render_object(value, level)
    if isinstance(value, list):
        if not value:
            return [md_escape("[]")]
        paths = table_paths(value)
        if paths is not None:
            return render_table(value, paths)
        return render_list(value)
    if _multiline(value):
        return _fence(value)
    return [md_escape(token(value))]


def render_object(obj: dict[str, Any], level: int) -> list[str]:
    out: list[str] = []
    items: list[str] = []
    headed = False
    for k, v in obj.items():
        use_heading = level <= _MAX_HEADING and (_is_container(v) or headed)
        if use_heading:
            if items:
                out.extend(items)
                items = []
            if out:
                out.append("")
            out.append("#" * level + " " + key_text(k))
            out.append("")
            out.extend(render_block(v, level + 1))
            headed = True
        else:
            items.extend(_item_for_field(k, v))
    if items:
        if out:
            out.append("")
        out.extend(items)
    return out


def _item_for_field(k: str, v: Any) -> list[str]:
    head = f"- **{key_text(k)}**:"
    if _is_container(v) or _multiline(v):
        return [head, "", *_indent(render_block(v, _MAX_HEADING + 1), "  ")]
    text = md_escape(token(v))
    return [f"{head} {text}" if text else head]


def render_list(items: list[Any]) -> list[str]:
    out: list[str] = []
    for v in items:
        if isinstance(v, dict) and v:
            body = render_object(v, _MAX_HEADING + 1)
            out.extend(["-", *_indent(body, "  ")])
        elif isinstance(v, dict):
            out.append("- {}")
        elif isinstance(v, list) and v:
            out.extend(["-", *_indent(render_block(v, _MAX_HEADING + 1), "  ")])
        elif _multiline(v):
            out.extend(["-", *_indent(_fence(v), "  ")])
        else:
            out.append("- " + md_escape(token(v)))
    return out


def to_markdown(value: Any, source_name: str, source_bytes: bytes) -> str:
    """The twin of ``value``, decoded from ``source_bytes`` (named ``source_name``)."""
    lines = [marker(source_name, source_bytes), ""]
    if isinstance(value, dict) and not value:
        body: list[str] = []
    else:
        body = render_block(value, 1)
    lines.extend(body)
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
