"""Markdown twins: readable, stable, and converting back to exactly their data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import toon_tools
from tests.json_model import json_equal
from tests.strategies import json_values, keyed_tables, tables
from toon_tools.convert.markdown import md_to_data
from toon_tools.convert.twin_render import read_marker, to_markdown

documents = st.one_of(
    st.dictionaries(st.text(max_size=8), json_values(js_safe=False), max_size=6),
    json_values(js_safe=False), tables(), keyed_tables(),
    st.dictionaries(st.sampled_from(["a", "b", "c"]), st.dictionaries(
        st.sampled_from(["x", "y"]), json_values(js_safe=False), max_size=3), max_size=3),
)


def _twin(value: Any) -> str:
    src = toon_tools.encode(value).encode()
    return to_markdown(toon_tools.decode(src), "doc.toon", src)


@given(value=documents)
def test_twin_converts_back_to_exactly_its_data(value: Any) -> None:
    doc = toon_tools.decode(toon_tools.encode(value))  # what a .toon file holds
    assert json_equal(md_to_data(_twin(value)), doc)


@given(value=documents)
def test_twin_is_deterministic_and_lf_only(value: Any) -> None:
    first = _twin(value)
    assert first == _twin(value)
    assert "\r" not in first.replace("\\r", "") and first.endswith("\n")


def test_examples_round_trip(conformance: Path) -> None:
    paths = sorted((conformance / "examples").rglob("*.toon"))
    paths = [p for p in paths if "invalid" not in p.parts]
    assert paths
    for path in paths:
        src = path.read_bytes()
        doc = toon_tools.decode(src)
        assert json_equal(md_to_data(to_markdown(doc, path.name, src)), doc), path.name


def test_marker_names_source_and_hash() -> None:
    src = b"a: 1\n"
    twin = to_markdown(toon_tools.decode(src), "cfg.toon", src)
    import hashlib

    assert read_marker(twin) == ("cfg.toon", hashlib.sha256(src).hexdigest())
    assert read_marker("# just markdown\n") is None


def _tables(markdown: str) -> list[tuple[int, list[int]]]:
    """(header width, [width of each body row]) for each table markdown-it finds."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(markdown)
    found = []
    widths: list[int] = []
    cells = 0
    header = 0
    for t in tokens:
        if t.type == "table_open":
            widths, header = [], 0
        elif t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            if header == 0:
                header = cells
            else:
                widths.append(cells)
        elif t.type == "table_close":
            found.append((header, widths))
    return found


@given(rows=tables())
def test_markdown_it_reads_every_table_with_its_shape(rows: list[dict[str, Any]]) -> None:
    doc = toon_tools.decode(toon_tools.encode({"t": rows, "k": {"a": rows[0], "b": rows[0]}}))
    twin = _twin(doc)
    found = _tables(twin)
    n = len(doc["t"])
    leaves = len(_leaf_paths(doc["t"][0]))
    assert (leaves, [leaves] * n) in found
    assert (leaves + 1, [leaves + 1] * 2) in found


def _leaf_paths(obj: dict[str, Any]) -> list[str]:
    out = []
    for k, v in obj.items():
        out.extend(_leaf_paths(v) if isinstance(v, dict) and v else [k])
    return out


@pytest.mark.parametrize(("value", "needle"), [
    ({"s": "a|b"}, "a\\|b"),
    ({"t": [{"c": "x|y"}, {"c": "back\\slash"}]}, "| x\\|y |"),
    ({"t": [{"c": "line\nbreak"}, {"c": "z"}]}, '"line\\\\nbreak"'),
    ({"s": "*not bold*"}, "\\*not bold\\*"),
    ({"s": "# not a heading"}, '- **s**: "# not a heading"'),
])
def test_escaping(value: dict[str, Any], needle: str) -> None:
    twin = _twin(value)
    assert needle in twin
    assert md_to_data(twin) == value


def test_readable_shape() -> None:
    twin = _twin({"team": "Platform", "users": [{"id": 1, "name": "Ada"}], "n": 2})
    assert twin.split("\n")[2:] == [
        "- **team**: Platform", "", "# users", "", "| id | name |", "|---|---|", "| 1 | Ada |",
        "", "# n", "", "2", ""]


@pytest.mark.parametrize("name", [
    "cfg.toon", "my data.toon", 'quo"te.toon', '"lead.toon', "-dash.toon", "ünïcødé.toon",
    "new\nline.toon", "tab\t.toon", "cr\r.toon", "#hash.toon", "br]acket.toon", "\x1b[2J.toon",
    "a sha256:" + "0" * 64 + "; edit b.toon", "caf\udce9.toon", "x-->.toon",
])
def test_marker_names_any_file_on_one_line(name: str) -> None:
    src = b"a: 1\n"
    twin = to_markdown(toon_tools.decode(src), name, src)
    first = twin.split("\n", 1)[0]
    first.encode("utf-8")  # printable: no lone surrogate, no raw control character
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in first)
    assert read_marker(twin) == (name, __import__("hashlib").sha256(src).hexdigest())
    assert md_to_data(twin) == {"a": 1}


def test_marker_of_plain_names_is_unchanged() -> None:
    """Twins written before names were escaped still read, and stay byte-identical."""
    src = b"a: 1\n"
    assert to_markdown({"a": 1}, 'quo"te.toon', src).startswith(
        '<!-- toon-tools twin of quo"te.toon sha256:')
