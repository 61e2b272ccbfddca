"""Document symbols and folding ranges (issue 14)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings

from tests.strategies import messy_documents
from toon_tools.codec import Range, decode_located, encode
from toon_tools.lsp.analysis import (MAX_CHILDREN, MAX_SYMBOLS, Fold, Outline, Symbol,
                                     document_symbols, folding_ranges)


def symbols(text: str, indent: int = 2) -> list[Symbol]:
    return document_symbols(Outline(text, decode_located(text, strict=False, indent_size=indent)))


def by_name(syms: list[Symbol]) -> dict[str, Symbol]:
    return {s.name: s for s in syms}


def walk(syms: list[Symbol]) -> list[Symbol]:
    out: list[Symbol] = []
    for s in syms:
        out.append(s)
        out.extend(walk(s.children))
    return out


DOC = """\
app:
  name: demo
  debug: false
users[3]{id,name,role}:
  1,ada,admin
  2,bob,user
  3,cy,user
items[2]:
  - id: 7
    name: first
    tags[2]: a,b
  - title: second
    n: null
matrix[2]:
  - [2]: 1,2
  - [1]: 3
"""


def test_outline_nests_objects_counts_arrays_and_names_items() -> None:
    top = by_name(symbols(DOC))
    assert list(top) == ["app", "users", "items", "matrix"]
    app = top["app"]
    assert app.kind == "object" and [c.name for c in app.children] == ["name", "debug"]
    assert [(c.kind, c.detail) for c in app.children] == [("string", "demo"), ("boolean", "false")]
    users = top["users"]
    assert (users.kind, users.detail, users.children) == ("table", "[3] rows {id,name,role}", [])
    assert users.range == Range(4, 1, 7, 12) and users.selection == Range(4, 1, 4, 6)
    items = top["items"]
    assert (items.kind, items.detail) == ("array", "[2]")
    assert [(c.name, c.kind, c.detail) for c in items.children] == [
        ("[0]", "object", "first"), ("[1]", "object", "second")]
    first = items.children[0]
    assert [c.name for c in first.children] == ["id", "name", "tags"]
    assert first.children[2].detail == "[2]" and first.children[2].children == []
    assert items.children[1].children[1].kind == "null"
    assert [(c.name, c.detail) for c in top["matrix"].children] == [("[0]", "[2]"), ("[1]", "[1]")]


def test_keyed_tables_quoted_and_empty_keys() -> None:
    top = by_name(symbols('s[2:]{a,b}:\n  x: 1,2\n  y: 3,4\n"a b": 1\n"": 2'))
    assert (top["s"].kind, top["s"].detail) == ("table", "[2] entries {a,b}")
    assert '""' in top and "a b" in top  # an empty name would be refused by editors


def test_root_array_and_root_primitive() -> None:
    (root,) = symbols("[2]:\n  - a: 1\n  - a: 2")
    assert (root.name, root.kind, root.detail, len(root.children)) == ("(root)", "array", "[2]", 2)
    (root,) = symbols("[2:]{a}:\n  x: 1\n  y: 2")
    assert (root.name, root.kind, root.detail) == ("(root)", "table", "[2] entries {a}")
    assert symbols("hello") == []
    assert document_symbols(Outline("a: [", None)) == []


def test_huge_documents_stay_bounded() -> None:
    rows = [{"id": i, "name": f"n{i}"} for i in range(20_000)]
    (table,) = symbols(encode({"rows": rows}))
    assert table.kind == "table" and table.children == [] and table.detail.startswith("[20000]")
    items = [{"name": f"n{i}", "tags": [i]} for i in range(3_000)]  # not uniform: a list
    (lst,) = symbols(encode({"items": items}))
    assert len(lst.children) == MAX_CHILDREN
    assert lst.detail == f"[3000] (first {MAX_CHILDREN} shown)"
    wide = {f"k{i}": {f"c{j}": j for j in range(8 + i % 2)} for i in range(1_500)}
    top = symbols(encode(wide))
    assert len(top) == MAX_CHILDREN and len(walk(top)) <= MAX_SYMBOLS


def test_symbols_are_handed_out_breadth_first() -> None:
    mixed = [{"x": 1}, {"y": 2, "z": [1]}]  # not uniform: no keyed tables
    deep = {f"g{i}": {f"c{j}": mixed[j % 2] for j in range(MAX_CHILDREN)} for i in range(7)}
    top = symbols(encode({**deep, "last": 1}))
    assert [s.name for s in top][-1] == "last"  # a big first subtree does not starve the rest
    assert len(walk(top)) == MAX_SYMBOLS
    assert all(s.detail.startswith("(first ") for s in top[-3:-1])  # cut short, and said so


def _selection_within_range(syms: list[Symbol]) -> None:
    for s in walk(syms):
        assert s.name
        r, sel = s.range, s.selection
        assert (r.line, r.column) <= (sel.line, sel.column), s
        assert (sel.end_line, sel.end_column) <= (r.end_line, r.end_column), s
        for c in s.children:
            assert (r.line, r.column) <= (c.range.line, c.range.column), (s, c)
            assert (c.range.end_line, c.range.end_column) <= (r.end_line, r.end_column), (s, c)


def test_selection_within_range_on_the_conformance_examples(conformance: Path) -> None:
    for f in sorted((conformance / "examples").rglob("*.toon")):
        if "invalid" not in f.parts:
            _selection_within_range(symbols(f.read_text(encoding="utf-8")))


@settings(max_examples=60, deadline=None)
@given(messy_documents())
def test_selection_within_range_on_generated_documents(doc: tuple[str, int]) -> None:
    _selection_within_range(symbols(*doc))


# ------------------------------------------------------------------ folding


def test_blocks_fold_to_their_last_deeper_line() -> None:
    text = "a:\n  b: 1\n\n  c:\n    d: 2\n\n\ne: 3\nf[2]:\n  - x: 1\n    y: 2\n  - z"
    assert folding_ranges(text) == [
        Fold(1, 5, "region"),  # the blank line inside stays, the trailing ones do not
        Fold(4, 5, "region"),
        Fold(9, 12, "region"),
        Fold(10, 11, "region"),
    ]


def test_comment_runs_fold_and_comments_end_no_block() -> None:
    text = "# one\n# two\na:\n  b: 1\n# stray\n  c: 2\n  # tail\nd: 1\n# lone\n  # x\n"
    assert folding_ranges(text) == [
        Fold(1, 2, "comment"),
        Fold(3, 7, "region"),
        Fold(9, 10, "comment"),
    ]


def test_folding_any_text_and_crlf() -> None:
    assert folding_ranges("") == []
    assert folding_ranges("a:\r\n  b: [\r\n    }}}\r\nc") == [Fold(1, 3, "region"), Fold(2, 3, "region")]
    assert folding_ranges("x:\n\t\ty\n") == [Fold(1, 2, "region")]  # tabs: deeper too


def test_folding_keeps_the_outermost_folds_within_the_clients_limit() -> None:
    # A client's foldingRange.rangeLimit (VS Code: 5,000) caps the answer; a
    # 50k-item list would otherwise send 50,001 ranges. The outer folds stay.
    text = "a:\n" + "".join(f"  k{i}:\n    x: {i}\n" for i in range(50)) + "b:\n  c:\n    d: 1\n"
    every = folding_ranges(text)
    assert len(every) == 53
    kept = folding_ranges(text, limit=4)
    # Both top-level folds, then the first nested ones, in document order.
    assert kept == [Fold(1, 101, "region"), Fold(2, 3, "region"), Fold(4, 5, "region"),
                    Fold(102, 104, "region")]
    assert folding_ranges(text, limit=100) == every
    assert folding_ranges(text, limit=0) == []
