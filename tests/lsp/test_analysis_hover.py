"""Hover (issue 14): a tabular cell names its field, row and header; a key or a
value gives its JSON pointer and what it is. Positions are codec positions."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings

from tests.strategies import messy_documents
from toon_tools.codec import Range, decode_located
from toon_tools.lsp.analysis import HoverInfo, Outline, hover_at


def outline(text: str, strict: bool = True, indent: int = 2) -> Outline:
    return Outline(text, decode_located(text, strict=strict, indent_size=indent))


def hover(text: str, line: int, column: int) -> HoverInfo:
    info = hover_at(outline(text), line, column)
    assert info is not None, (line, column)
    return info


USERS = 'users[3]{id,name,role}:\n  1,"a,b",admin\n  2,bob,user\n  3,carl,user\n'


def test_cell_names_field_row_header_and_pointer() -> None:
    info = hover(USERS, 3, 5)  # "bob"
    assert info.range == Range(3, 5, 3, 8)
    md = info.markdown
    assert "`name`" in md
    assert "row 2 of 3" in md
    assert "`users[3]{id,name,role}:`" in md
    assert "`/users/1/name`" in md


def test_quoted_cell_holding_the_delimiter_maps_to_its_field() -> None:
    info = hover(USERS, 2, 7)  # inside "a,b", on the comma
    assert info.range == Range(2, 5, 2, 10)
    assert "`/users/0/name`" in info.markdown
    info = hover(USERS, 2, 11)  # admin, after the quoted comma
    assert "`/users/0/role`" in info.markdown and "row 1 of 3" in info.markdown


@pytest.mark.parametrize("delim,mark", [("\t", "\t"), ("|", "|")])
def test_tab_and_pipe_tables(delim: str, mark: str) -> None:
    other = "|" if delim == "\t" else "\t"
    text = (f"items[2{mark}]{{sku{delim}name{delim}qty}}:\n"
            f'  A1{delim}"x{delim}y"{delim}2\n  B2{delim}a{other}b{delim}1')
    info = hover(text, 2, 13)  # the qty cell of row 1, after the quoted delimiter
    assert "`qty`" in info.markdown and "row 1 of 2" in info.markdown
    assert f"`items[2{mark}]{{sku{delim}name{delim}qty}}:`" in info.markdown
    info = hover(text, 3, 6)  # a<other>b: one cell, the other delimiter is data
    assert "`/items/1/name`" in info.markdown and info.range == Range(3, 6, 3, 9)


def test_keyed_table_cell_names_its_entry() -> None:
    text = "scores[2:]{math,art}:\n  ada: 90,70\n  bob: 60,80"
    info = hover(text, 3, 11)
    assert "`art`" in info.markdown and "entry `bob`, row 2 of 2" in info.markdown
    assert "`/scores/bob/art`" in info.markdown
    assert "`scores[2:]{math,art}:`" in info.markdown


def test_nested_field_group_cell() -> None:
    text = "n[1|]{a{b|c}|d}:\n  1|2|3"
    info = hover(text, 2, 5)
    assert "`a` › `c`" in info.markdown and "`/n/0/a/c`" in info.markdown


def test_table_in_a_list_item() -> None:
    text = "items[1]:\n  - t[2]{a,b}:\n      1,2\n      3,4\n    z: 1"
    info = hover(text, 4, 9)
    assert "`b`" in info.markdown and "row 2 of 2" in info.markdown
    assert "`t[2]{a,b}:`" in info.markdown and "`/items/0/t/1/b`" in info.markdown


def test_key_gives_pointer_escaped_per_rfc6901_and_what_the_value_is() -> None:
    text = 'meta:\n  "a/b~c": 1\n  x.y: true\n  "": null\nusers[2]{id,name}:\n  1,a\n  2,b\n'
    info = hover(text, 2, 4)
    assert info.range == Range(2, 3, 2, 10)
    assert "`/meta/a~1b~0c`" in info.markdown and "number" in info.markdown
    assert "`/meta/x.y`" in hover(text, 3, 3).markdown
    assert "boolean" in hover(text, 3, 3).markdown
    assert "`/meta/`" in hover(text, 4, 3).markdown
    info = hover(text, 5, 2)
    assert info.range == Range(5, 1, 5, 6)
    assert "`/users`" in info.markdown and "table: 2 rows {id,name}" in info.markdown
    assert "object: 3 keys" in hover(text, 1, 1).markdown


def test_array_header_and_items() -> None:
    text = "tags[3]: a,b,c\nlist[2]:\n  - x\n  - 5"
    assert "array: 3 items" in hover(text, 1, 6).markdown  # on [3]
    info = hover(text, 1, 13)
    assert info.range == Range(1, 12, 1, 13)
    assert "`/tags/1`" in info.markdown and "item 2 of 3" in info.markdown
    info = hover(text, 4, 5)
    assert "`/list/1`" in info.markdown and "number, item 2 of 2" in info.markdown


def test_primitive_value_gives_its_pointer() -> None:
    info = hover("a:\n  b: hello world", 2, 10)
    assert info.range == Range(2, 6, 2, 17) and "`/a/b`" in info.markdown


def test_columns_count_code_points() -> None:
    text = "k: é😀x\nrow[1]{a,b}:\n  é😀,z"
    assert hover(text, 1, 4).range == Range(1, 4, 1, 7)
    info = hover(text, 3, 6)  # z: after two code points and a comma
    assert info.range == Range(3, 6, 3, 7) and "`b`" in info.markdown


def test_crlf_lines() -> None:
    text = "a: 1\r\nrows[1]{x,y}:\r\n  1,2\r\n"
    info = hover(text, 3, 5)
    assert info.range == Range(3, 5, 3, 6) and "`/rows/0/y`" in info.markdown


def test_between_tokens_and_on_comments_nothing() -> None:
    text = "# note\na: 1\n\nb:\n  c: 2"
    o = outline(text)
    assert hover_at(o, 1, 3) is None  # a comment
    assert hover_at(o, 2, 3) is None  # the space after the colon
    assert hover_at(o, 3, 1) is None  # a blank line
    assert hover_at(o, 5, 1) is None  # indentation
    assert hover_at(Outline(text, None), 2, 1) is None  # no located: nothing


def test_root_forms() -> None:
    assert "`\"\"` (the root)" in hover("hello", 1, 2).markdown
    info = hover("[2]{a,b}:\n  1,2\n  3,4", 3, 5)
    assert "`/1/b`" in info.markdown and "`[2]{a,b}:`" in info.markdown
    assert "table: 2 rows" in hover("[2]{a,b}:\n  1,2\n  3,4", 1, 2).markdown


def test_markdown_survives_backticks_in_keys() -> None:
    info = hover('"a`b": 1', 1, 2)
    assert "``/a`b``" in info.markdown


def _every_token(text: str, indent: int) -> None:
    """Hovering the first character of every key and primitive token finds it."""
    loc = decode_located(text, strict=False, indent_size=indent)
    o = Outline(text, loc)
    containers = {p for p in loc.spans if p and isinstance(_at(loc.value, p), (dict, list))}
    for pointer, span in loc.spans.items():
        if not pointer:
            continue
        targets = [span.key] if span.key is not None else []
        if pointer not in containers:
            targets.append(span.value)
        for r in targets:
            info = hover_at(o, r.line, r.column)
            assert info is not None, (pointer, r)
            assert info.range == r, (pointer, r, info)
            assert pointer in info.markdown


def _at(value: object, pointer: str) -> object:
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]  # type: ignore[index]
    return value


def test_every_token_of_the_conformance_examples(conformance: Path) -> None:
    files = sorted((conformance / "examples").rglob("*.toon"))
    valid = [f for f in files if "invalid" not in f.parts]
    assert valid
    for f in valid:
        _every_token(f.read_text(encoding="utf-8"), 2)


@settings(max_examples=60, deadline=None)
@given(messy_documents())
def test_every_token_of_generated_documents(doc: tuple[str, int]) -> None:
    _every_token(*doc)


class _Watched:
    """A located value whose span map tells how it was read."""

    def __init__(self, text: str) -> None:
        self._located = decode_located(text)
        self.value = self._located.value
        self.walks = 0  # lookups made before the whole map was asked for
        self.whole = False
        outer = self

        class Spans(dict):  # type: ignore[type-arg]
            def __getitem__(self, pointer: str) -> object:
                outer.walks += not outer.whole
                return outer._located.spans[pointer]

            def __len__(self) -> int:
                outer.whole = True
                return len(outer._located.spans)

        self.spans = Spans()


def test_a_hover_reads_the_span_map_whole_not_a_walk_per_probe() -> None:
    # each single lookup walks the decoder's log (tens of ms on 1 MB) and the
    # codec builds the whole map only after 16 of them: a hover's bisection
    # paid those 16 walks and then the build (0.7 s on 1.5 MB), the build
    # alone is 0.15 s
    items = "".join(f"  - id: {i}\n    name: n{i}\n" for i in range(2_000))
    text = f"items[2000]:\n{items}"
    watched = _Watched(text)
    info = hover_at(Outline(text, watched), 1_602, 11)  # type: ignore[arg-type]
    assert info is not None and "/items/800/id" in info.markdown
    assert watched.whole and watched.walks <= 1
