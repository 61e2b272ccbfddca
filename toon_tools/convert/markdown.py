"""Markdown -> TOON data, with markdown-it-py (CommonMark + GFM tables).

The document becomes an object: headings are nested keys; the blocks of a
section become its value:

- a bullet list whose items all read ``**key**: value`` is an object;
- a task list (``- [ ] text``, ``- [x] text``) is rows of ``{done, text}``;
- any other list is an array (items with nested blocks hold their values);
- a GFM table is an array of row objects with typed cells; with an empty first
  header cell it is an object keyed by the first column;
- a fenced block with a language is ``{lang, code}``; without one, a string;
- a paragraph is a value: ``42``, ``true``, ``null`` are typed, the rest text;
  emphasis marks go, but links, images and inline code stay as Markdown
  (``[text](url)``, ``![alt](src)``, ```code```), so no content is lost;
- several blocks in one section become an array of their values; a section that
  also has sub-headings keeps its own blocks under ``text``.

YAML-style front matter (between ``---`` lines at the top) becomes ``metadata``;
it is read as TOON, which reads simple ``key: value`` front matter as YAML would.

A Markdown twin (see :mod:`.twin_render`) is recognised by its first line and read in
twin mode, where keys and tokens are TOON syntax, so it converts back to exactly
the data it was made from.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Final

from ..codec import (ToonDecodeError, decode, find_closing_quote, parse_primitive,
                     unescape_string)
from .registry import ConversionError
from .twin_render import read_marker

if TYPE_CHECKING:
    from markdown_it.tree import SyntaxTreeNode

_FRONT_MATTER: Final = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_TASK: Final = re.compile(r"\[([ xX])\]\s+(.*)\Z", re.S)


class MarkdownError(ConversionError):
    """Markdown that cannot become TOON data: bad front matter, or a twin (by
    its first line) whose body is not twin syntax. ``line`` is in the file."""


def primitive(text: str, strict: bool = True) -> Any:
    """A TOON primitive token (§4): ``42``, ``true``, ``"quoted"``; with
    ``strict`` False, text that is no valid token stays as it is."""
    try:
        return parse_primitive(text.strip(" "))
    except ToonDecodeError:
        if strict:
            raise
        return text


def _code_span(content: str) -> str:
    """``content`` as an inline code span again: a fence longer than any run of
    backticks inside, padded when the content starts or ends with one."""
    longest = max((len(run) for run in re.findall("`+", content)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if content.startswith("`") or content.endswith("`") else ""
    return f"{fence}{pad}{content}{pad}{fence}"


def _destination(node: SyntaxTreeNode, attr: str) -> str:
    """``(url "title")`` of a link or image, as Markdown writes it."""
    url = str(node.attrs.get(attr, ""))
    if not url or any(c in url for c in " ()"):
        url = f"<{url}>"
    title = node.attrs.get("title")
    if title:
        escaped = str(title).replace("\\", "\\\\").replace('"', '\\"')
        return f'({url} "{escaped}")'
    return f"({url})"


class _Reader:
    def __init__(self, twin: bool) -> None:
        self.twin = twin
        self.line = 1  # where the block being read starts (0-based + 1), for errors

    # ------------------------------------------------------------ inline text

    def text(self, node: SyntaxTreeNode) -> str:
        """The text of inline content: emphasis marks dropped, links, images and
        code spans kept as Markdown (their URLs and backticks are content)."""
        parts: list[str] = []
        stack: list[SyntaxTreeNode | str] = [node]
        while stack:  # pre-order, left to right; strings close a link
            n = stack.pop()
            if isinstance(n, str):
                parts.append(n)
                continue
            t = n.type
            if t in ("text", "html_inline"):
                parts.append(n.content)
            elif t == "code_inline":
                parts.append(_code_span(n.content))
            elif t in ("softbreak", "hardbreak"):
                parts.append("\n")
            elif t == "image":
                alt = "".join(self.text(c) for c in n.children)
                parts.append(f"![{alt}]{_destination(n, 'src')}")
            else:
                if t == "link" and n.markup == "autolink":
                    parts.append("<")
                    stack.append(">")
                elif t == "link":
                    parts.append("[")
                    stack.append(f"]{_destination(n, 'href')}")
                stack.extend(reversed(n.children))
        return "".join(parts)

    def value(self, text: str) -> Any:
        """A one-line value: typed token; twin tokens ``[]`` and ``{}``."""
        t = text.strip(" ")
        if t == "[]":
            return []
        if t == "{}":
            return {}
        return primitive(t, strict=self.twin)

    def key(self, text: str) -> str:
        if self.twin and text.startswith('"'):
            end = find_closing_quote(text, 0)
            return unescape_string(text, 1, end)
        return text.strip() if not self.twin else text

    def path(self, text: str) -> list[str]:
        """A table header cell: one key, or in a twin a '.'-joined path of keys."""
        if not self.twin:
            return [text.strip()]
        segments: list[str] = []
        i = 0
        while i <= len(text):
            if text.startswith('"', i):
                end = find_closing_quote(text, i)
                segments.append(unescape_string(text, i + 1, end))
                i = end + 2
            else:
                dot = text.find(".", i)
                dot = len(text) if dot < 0 else dot
                segments.append(text[i:dot])
                i = dot + 1
        return segments

    # ------------------------------------------------------------ blocks

    def kv_item(self, item: SyntaxTreeNode) -> tuple[str, Any] | None:
        """``**key**: value`` (with the value inline, nested, or empty)."""
        if not item.children or item.children[0].type != "paragraph":
            return None
        if item.map:
            self.line = item.map[0] + 1
        inline = item.children[0].children[0]
        kids = [k for k in inline.children if k.type != "text" or k.content]
        if len(kids) < 2 or kids[0].type != "strong" or kids[1].type != "text":
            return None
        rest_text = self.text_of(kids[1:])
        if not rest_text.startswith(":"):
            return None
        key = self.key(self.text(kids[0]))
        rest = rest_text[1:].strip(" ")
        nested = item.children[1:]
        if rest:
            if nested:
                return None
            return key, self.value(rest)
        if not nested:
            return key, {}
        return key, self.blocks(nested)

    def text_of(self, nodes: list[SyntaxTreeNode]) -> str:
        return "".join(self.text(n) for n in nodes)

    def list_value(self, node: SyntaxTreeNode) -> Any:
        items = node.children
        pairs = [self.kv_item(i) for i in items]
        if items and all(p is not None for p in pairs):
            return {k: v for k, v in pairs}  # type: ignore[misc]
        if not self.twin:
            tasks = [self.task(i) for i in items]
            if items and all(t is not None for t in tasks):
                return tasks
        return [self.item_value(i) for i in items]

    def task(self, item: SyntaxTreeNode) -> dict[str, Any] | None:
        if len(item.children) != 1 or item.children[0].type != "paragraph":
            return None
        m = _TASK.match(self.text(item.children[0]))
        return {"done": m.group(1) != " ", "text": m.group(2)} if m else None

    def item_value(self, item: SyntaxTreeNode) -> Any:
        if item.map:
            self.line = item.map[0] + 1
        kids = item.children
        if not kids:
            return {} if self.twin else ""
        if len(kids) == 1 and kids[0].type == "paragraph":
            return self.value(self.text(kids[0]))
        return self.blocks(kids)

    def table_value(self, node: SyntaxTreeNode) -> Any:
        head = node.children[0].children[0]  # thead > tr
        headers = [self.text(th) for th in head.children]
        body = node.children[1].children if len(node.children) > 1 else []
        keyed = bool(headers) and headers[0].strip() == ""
        paths = [self.path(h) for h in (headers[1:] if keyed else headers)]
        rows: list[dict[str, Any]] = []
        keys: list[str] = []
        for tr in body:
            cells = [self.text(td) for td in tr.children]
            if keyed:
                keys.append(self.key(cells[0]))
                cells = cells[1:]
            row: dict[str, Any] = {}
            for path, cell in zip(paths, cells):
                target = row
                for part in path[:-1]:
                    target = target.setdefault(part, {})
                target[path[-1]] = self.value(cell)
            rows.append(row)
        return dict(zip(keys, rows)) if keyed else rows

    def block_value(self, node: SyntaxTreeNode) -> Any:
        if node.map:
            self.line = node.map[0] + 1
        t = node.type
        if t == "paragraph":
            return self.value(self.text(node))
        if t in ("bullet_list", "ordered_list"):
            return self.list_value(node)
        if t == "table":
            return self.table_value(node)
        if t == "fence":
            code = node.content[:-1] if node.content.endswith("\n") else node.content
            lang = (node.info or "").strip()
            return {"lang": lang, "code": code} if lang else code
        if t == "code_block":
            return node.content[:-1] if node.content.endswith("\n") else node.content
        if t == "blockquote":
            return "\n\n".join(self.text(c) for c in node.children)
        return node.content.strip("\n")  # html_block and the like: keep the text

    def blocks(self, nodes: list[SyntaxTreeNode]) -> Any:
        nodes = [n for n in nodes if n.type != "hr"]
        if not nodes:
            return {}
        if len(nodes) == 1:
            return self.block_value(nodes[0])
        return [self.block_value(n) for n in nodes]

    # ------------------------------------------------------------ sections

    def document(self, root: SyntaxTreeNode) -> Any:
        # Section: [level, key, blocks, subsections]
        top: list[Any] = [0, None, [], []]
        stack = [top]
        for node in root.children:
            if node.type == "html_block" and read_marker(node.content):
                continue
            if node.map:
                self.line = node.map[0] + 1
            if node.type == "heading":
                level = int(node.tag[1])
                while stack[-1][0] >= level:
                    stack.pop()
                section: list[Any] = [level, self.key(self.text(node)), [], []]
                stack[-1][3].append(section)
                stack.append(section)
            else:
                stack[-1][2].append(node)
        return self.section_value(top)

    def section_value(self, top: list[Any]) -> Any:
        # Post-order without recursion: children's values before their parent's.
        order: list[list[Any]] = []
        stack = [top]
        while stack:
            s = stack.pop()
            order.append(s)
            stack.extend(s[3])
        values: dict[int, Any] = {}
        for s in reversed(order):
            if not s[3]:
                values[id(s)] = self.blocks(s[2])  # no blocks: {} (an empty object)
                continue
            obj: dict[str, Any] = {}
            if s[2]:
                own = self.blocks(s[2])
                if isinstance(own, dict) and s[2] and s[2][0].type in ("bullet_list", "ordered_list"):
                    obj.update(own)
                else:
                    obj["text"] = own
            for sub in s[3]:
                key = sub[1]
                if key in obj and not self.twin:
                    n = 2
                    while f"{key} ({n})" in obj:
                        n += 1
                    key = f"{key} ({n})"
                obj[key] = values[id(sub)]
            values[id(s)] = obj
        return values[id(top)]


def _parser() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def md_to_data(text: str) -> Any:
    """Convert Markdown text to TOON-ready data (see the module docstring)."""
    from markdown_it.tree import SyntaxTreeNode

    if text.startswith("\ufeff"):
        text = text[1:]
    metadata = None
    offset = 0  # lines before the body
    m = _FRONT_MATTER.match(text)
    if m:
        try:
            metadata = decode(m.group(1), strict=False)
        except ToonDecodeError as e:
            raise MarkdownError(f"front matter: {e.msg}", line=e.line + 1,
                                column=e.column) from None
        offset = text.count("\n", 0, m.end())
        text = text[m.end():]
    reader = _Reader(twin=read_marker(text) is not None)
    try:
        body = reader.document(SyntaxTreeNode(_parser().parse(text)))
    except ToonDecodeError as e:  # only a twin's tokens are read strictly
        raise MarkdownError(f"{e.msg} (a twin's values are TOON tokens)",
                            line=reader.line + offset) from None
    if metadata is None:
        return body
    if isinstance(body, dict):
        return {"metadata": metadata, **body}
    return {"metadata": metadata, "content": body}
