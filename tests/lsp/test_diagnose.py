"""Diagnostics as data (:mod:`toon_tools.lsp.diagnose`), where wording matters."""

from __future__ import annotations

from pathlib import Path

import pytest

from toon_tools.config import load_config
from toon_tools.lsp.diagnose import twin_diagnostics, twin_state
from toon_tools.lsp.positions import LineIndex


def test_a_mirrored_twin_is_named_where_it_goes(tmp_path: Path) -> None:
    # twins in a mirror folder: "notes.md is missing" while a hand-written
    # notes.md sits beside notes.toon would send the user to the wrong file
    (tmp_path / ".toon.toml").write_text('[twins]\nlocation = "mirror"\n')
    (tmp_path / "data").mkdir()
    source = tmp_path / "data" / "notes.toon"
    source.write_text("a: 1\n")
    (tmp_path / "data" / "notes.md").write_text("# mine\n")
    cfg = load_config(tmp_path / "data")
    [d] = twin_diagnostics(twin_state(str(source), cfg), cfg, LineIndex("a: 1\n"))
    assert d.code == "twin-missing"
    assert "docs/toon/data/notes.md is missing" in d.message


def test_a_twin_beside_its_source_is_named_by_its_file_name(tmp_path: Path) -> None:
    (tmp_path / ".toon.toml").write_text('[twins]\nsuffix = ".md"\n')
    source = tmp_path / "notes.toon"
    source.write_text("a: 1\n")
    cfg = load_config(tmp_path)
    [d] = twin_diagnostics(twin_state(str(source), cfg), cfg, LineIndex("a: 1\n"))
    assert "the Markdown twin notes.md is missing" in d.message


def test_a_missing_schema_is_named_once(tmp_path: Path) -> None:
    from toon_tools.codec import decode_located
    from toon_tools.lsp.diagnose import SchemaCache, schema_diagnostics

    text = "# schema: gone.json\na: 1\n"
    source = tmp_path / "a.toon"
    cfg = load_config(tmp_path, read=lambda p: None)
    [d] = schema_diagnostics(str(source), text, decode_located(text), cfg, SchemaCache(),
                             LineIndex(text))
    assert d.code == "schema-unusable"
    assert d.message.count("gone.json") == 1, d.message


def test_diagnostics_decode_once_and_with_positions_only_when_a_schema_applies(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-diagnosing on every keystroke: a document without a schema needs no
    positions unless it is invalid, so it is decoded plainly (a third cheaper
    on nested data); one with a schema is decoded once, with positions, since a
    violation must be placed. Hover and outline get the located decode later."""
    import toon_tools.codec as codec
    from toon_tools.lsp.diagnose import SchemaCache
    from toon_tools.lsp.document import Snapshot

    calls: list[str] = []
    plain, located = codec.decode, codec.decode_located
    monkeypatch.setattr(codec, "decode", lambda *a, **k: calls.append("plain") or plain(*a, **k))
    monkeypatch.setattr("toon_tools.lsp.diagnose.decode_located",
                        lambda *a, **k: calls.append("located") or located(*a, **k))
    (tmp_path / "s.json").write_text('{"properties": {"a": {"type": "string"}}}')
    cfg = load_config(tmp_path, read=lambda p: None)
    source = str(tmp_path / "a.toon")

    snap = Snapshot("file:///a.toon", 1, "a: 1\nb[2]: x,y\n", source, cfg)
    assert snap.diagnostics(SchemaCache()) == [] and calls == ["plain"]
    assert snap.located is not None and calls == ["plain", "located"]

    calls.clear()
    with_schema = Snapshot("file:///a.toon", 2, "# schema: s.json\na: 1\n", source, cfg)
    [violation] = with_schema.diagnostics(SchemaCache())
    assert violation.range.line == 2 and calls == ["located"]
    assert with_schema.located is not None and calls == ["located"]
