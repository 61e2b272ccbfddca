"""``toon lsp`` end to end: one real server over stdio, driven by pytest-lsp's
client (VS Code's capabilities, UTF-16 positions)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from toon_tools.codec import ToonDecodeError, decode, format_text

from .conftest import (PATIENCE, apply_edits, change_full, change_range, close_doc, diagnostics,
                       open_doc, save_doc, session, wait_for)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PERSON = {"type": "object", "required": ["name"],
          "properties": {"name": {"type": "string"},
                         "age": {"type": "integer", "minimum": 0}}}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ws")
    (root / "pyproject.toml").write_text(
        '[tool.toon]\ntwins.suffix = ".md"\n\n[tool.toon.schemas]\n'
        '"people/*.toon" = "schemas/person.json"\n')
    (root / "schemas").mkdir()
    (root / "schemas" / "person.json").write_text(json.dumps(PERSON))
    (root / "people").mkdir()
    return root


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(root: Path) -> AsyncIterator[LanguageClient]:
    async for c in session(root):
        yield c


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def request_format(client: LanguageClient, uri: str,
                         rng: types.Range | None = None) -> list[types.TextEdit]:
    options = types.FormattingOptions(tab_size=4, insert_spaces=True)
    ident = types.TextDocumentIdentifier(uri=uri)
    if rng is None:
        result = await client.text_document_formatting_async(
            types.DocumentFormattingParams(text_document=ident, options=options))
    else:
        result = await client.text_document_range_formatting_async(
            types.DocumentRangeFormattingParams(text_document=ident, range=rng, options=options))
    return list(result or [])


async def test_capabilities(client: LanguageClient) -> None:
    caps = client.init_result.capabilities  # type: ignore[attr-defined]
    sync = caps.text_document_sync
    assert sync.change == types.TextDocumentSyncKind.Incremental
    assert sync.open_close and sync.save
    assert caps.position_encoding == types.PositionEncodingKind.Utf16
    assert caps.document_formatting_provider and caps.document_range_formatting_provider
    assert caps.hover_provider and caps.document_symbol_provider and caps.folding_range_provider
    assert types.CodeActionKind.RefactorRewrite in caps.code_action_provider.code_action_kinds
    assert "toon.regenerateTwin" in caps.execute_command_provider.commands


async def test_decode_error_has_its_exact_range(client: LanguageClient, root: Path) -> None:
    text = 'a: 1\nemoji: "😀😀" x\n'
    with pytest.raises(ToonDecodeError) as caught:
        decode(text)
    e = caught.value
    uri = open_doc(client, root / "bad.toon", text)
    [d] = await diagnostics(client, uri, 1)
    line = text.split("\n")[e.line - 1]
    assert d.severity == types.DiagnosticSeverity.Error and d.source == "toon"
    assert d.code == "decode" and d.message == e.msg
    assert (d.range.start.line, d.range.start.character) == (e.line - 1, utf16(line[:e.column - 1]))
    assert d.range.end.line == e.line - 1 and d.range.end.character > d.range.start.character
    close_doc(client, uri)


async def test_incremental_and_full_changes_rediagnose(client: LanguageClient, root: Path) -> None:
    uri = open_doc(client, root / "edit.toon", "name: 😀 Ada\nage: 36\n")
    assert await diagnostics(client, uri, 1) == []
    change_range(client, uri, 2, (1, 3), (1, 3), "[2]")  # age[2]: 36
    [d] = await diagnostics(client, uri, 2)
    assert d.code == "decode" and d.range.start.line == 1
    change_range(client, uri, 3, (0, 8), (0, 12), "")  # " Ada" after the emoji (2 units)
    change_range(client, uri, 4, (1, 3), (1, 8), ":   ")  # age:   36
    assert await diagnostics(client, uri, 4) == []
    # the server holds what the client holds: its edits apply to our text
    held = "name: 😀\nage:   36\n"
    assert apply_edits(held, await request_format(client, uri)) == format_text(held)
    change_full(client, uri, 5, "x[2]: 1\n")
    [d] = await diagnostics(client, uri, 5)
    assert d.range.start.line == 0
    change_full(client, uri, 6, "x[1]: 1\n")
    assert await diagnostics(client, uri, 6) == []
    close_doc(client, uri)


async def test_incremental_changes_count_lines_as_the_client_does(client: LanguageClient,
                                                                   root: Path) -> None:
    # LSP ends lines at \r\n, \r and \n only; U+2028, NEL, form feed and the
    # other characters Python's splitlines() breaks at are inside a line (and
    # inside a TOON value). An edit after them lands where the client meant it.
    text = "a: x\u2028y\x85z\x0cw\x1cv\nb[2]: 1\n"
    uri = open_doc(client, root / "separators.toon", text)
    [d] = await diagnostics(client, uri, 1)
    assert d.range.start.line == 1
    change_range(client, uri, 2, (1, 2), (1, 3), "1")  # b[1]: 1
    assert await diagnostics(client, uri, 2) == []
    # a character past the end of a line is that line's end (LSP: "defaults
    # back to the line length"), also on a last line without a newline
    change_full(client, uri, 3, "a: x\u2028y\nb:  1")
    await diagnostics(client, uri, 3)
    change_range(client, uri, 4, (1, 99), (1, 120), "2")
    change_range(client, uri, 5, (0, 99), (0, 99), "z")
    held = "a: x\u2028yz\nb:  12"
    assert await diagnostics(client, uri, 5) == []
    assert apply_edits(held, await request_format(client, uri)) == format_text(held)
    close_doc(client, uri)


async def test_superseded_versions_are_never_published_after_newer_ones(
        client: LanguageClient, root: Path) -> None:
    uri = open_doc(client, root / "fast.toon", "a: 1\n")
    await diagnostics(client, uri, 1)
    for v in range(2, 13):
        change_full(client, uri, v, f"a[{v % 2 + 1}]: 1\n")  # valid only for even v
    assert await diagnostics(client, uri, 12) == []
    versions = [p.version for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
    assert versions == sorted(versions)
    close_doc(client, uri)


async def test_close_clears_diagnostics(client: LanguageClient, root: Path) -> None:
    uri = open_doc(client, root / "closing.toon", "a[2]: 1\n")
    assert await diagnostics(client, uri, 1)
    close_doc(client, uri)
    await diagnostics(client, uri, None)
    assert list(client.diagnostics[uri]) == []


async def test_schema_violations_where_the_table_maps_a_schema(client: LanguageClient,
                                                               root: Path) -> None:
    text = "name: Ada\nage: -1\n"
    uri = open_doc(client, root / "people" / "ada.toon", text)
    [d] = await diagnostics(client, uri, 1)
    assert d.range.start == types.Position(1, 5) and d.range.end == types.Position(1, 7)
    assert "minimum" in str(d.code) and d.severity == types.DiagnosticSeverity.Error
    change_full(client, uri, 2, "age: 3\n")
    [d] = await diagnostics(client, uri, 2)
    assert "name" in d.message and d.range.start.line == 0
    close_doc(client, uri)
    # outside the mapped folder no schema applies
    uri = open_doc(client, root / "free.toon", "age: -1\n")
    assert await diagnostics(client, uri, 1) == []
    close_doc(client, uri)


async def test_an_unusable_schema_is_one_diagnostic_naming_it(client: LanguageClient,
                                                              root: Path) -> None:
    uri = open_doc(client, root / "named.toon", "# schema: nowhere.json\nname: Ada\n")
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "schema-unusable" and "nowhere.json" in d.message
    assert d.range.start.line == 0
    close_doc(client, uri)


async def test_formatting_is_toon_fmt_as_minimal_edits(client: LanguageClient,
                                                       root: Path) -> None:
    text = ("# people\nteam: core\nusers[2]:\n  - id: 1\n    name: A\n  - id: 2\n    name: B\n"
            "size: 2\ntags[2]:  x,y\nlast: 1")
    expected = format_text(text)
    uri = open_doc(client, root / "fmt.toon", text)
    edits = await request_format(client, uri)
    assert apply_edits(text, edits) == expected
    # minimal: the first two lines are not touched
    assert all(e.range.start.line >= 2 for e in edits)
    # range formatting: only the edits that meet line 8 (the tags)
    only = await request_format(client, uri, types.Range(types.Position(8, 0),
                                                         types.Position(8, 3)))
    assert len(only) == 1 and only[0].range.start.line == only[0].range.end.line == 8
    assert apply_edits(text, only) == text.replace("tags[2]:  x,y", "tags[2]: x,y")
    # a formatted document: no edits; an invalid one: no edits, no error
    change_full(client, uri, 2, expected)
    assert await request_format(client, uri) == []
    change_full(client, uri, 3, "a[3]: 1\n")
    assert await request_format(client, uri) == []
    close_doc(client, uri)


async def test_formatting_a_crlf_document_never_splits_a_line_ending(
        client: LanguageClient, root: Path) -> None:
    text = "a:  1\r\nb: 2\r\n"
    uri = open_doc(client, root / "crlf.toon", text)
    edits = await request_format(client, uri)
    assert apply_edits(text, edits) == format_text(text)
    close_doc(client, uri)


async def test_range_formatting_leaves_the_line_before_the_range_alone(
        client: LanguageClient, root: Path) -> None:
    # each line's CRLF -> LF edit ends at the start of the next line: the
    # selected line's neighbour above is not part of the selection
    text = "a:  1\r\nb:  2\r\nc:  3\r\n"
    uri = open_doc(client, root / "crlf-range.toon", text)
    only = await request_format(client, uri, types.Range(types.Position(1, 0),
                                                         types.Position(1, 3)))
    assert apply_edits(text, only) == "a:  1\r\nb: 2\nc:  3\r\n"
    close_doc(client, uri)


async def test_hover_on_a_cell_and_anywhere(client: LanguageClient, root: Path) -> None:
    text = "users[2]{id,name}:\n  1,Ada\n  2,Bob\n"
    uri = open_doc(client, root / "hover.toon", text)
    await diagnostics(client, uri, 1)
    ident = types.TextDocumentIdentifier(uri=uri)
    cell = await client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(2, 5)))
    assert cell is not None and "`name`" in cell.contents.value
    assert cell.range == types.Range(types.Position(2, 4), types.Position(2, 7))
    assert "tokens (o200k_base)" in cell.contents.value
    assert "compact JSON" in cell.contents.value
    # past the end of the document: still the document's tokens
    anywhere = await client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(50, 0)))
    assert anywhere is not None and "tokens (o200k_base)" in anywhere.contents.value
    close_doc(client, uri)


async def test_a_hover_never_holds_up_the_next_diagnostics(client: LanguageClient,
                                                          root: Path) -> None:
    # counting a 1 MB document's tokens takes about a second; a hover that
    # starts it, followed by a keystroke, must not make the keystroke's
    # diagnostics wait for it: the hover answers with what it has, the count
    # goes on aside and a later hover shows it
    rows = "\n".join(f"  {i},user {i},u{i}@example.com,{i % 2 == 0}".lower()
                     for i in range(25_000))
    text = f"users[25000]{{id,name,email,active}}:\n{rows}\n"
    uri = open_doc(client, root / "big.toon", text)
    await diagnostics(client, uri, 1)
    ident = types.TextDocumentIdentifier(uri=uri)
    first = asyncio.ensure_future(client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(5, 3))))
    await asyncio.sleep(0.01)
    change_range(client, uri, 2, (5, 2), (5, 3), "5")
    await diagnostics(client, uri, 2)
    counted = first.done() and first.result() is not None \
        and "tokens (o200k_base)" in first.result().contents.value
    assert not counted, "the diagnostics of v2 waited for the hover's token count"
    answer = await first
    assert answer is not None and "`id`" in answer.contents.value  # the cell, at once

    async def full() -> str | None:
        h = await client.text_document_hover_async(
            types.HoverParams(text_document=ident, position=types.Position(5, 3)))
        return h.contents.value if h and "tokens (o200k_base)" in h.contents.value else None

    async def until_counted() -> str:
        while (got := await full()) is None:
            await asyncio.sleep(0.05)
        return got

    assert "compact JSON" in await asyncio.wait_for(until_counted(), PATIENCE)
    close_doc(client, uri)


async def test_outline_folding_and_table_conversion(client: LanguageClient, root: Path) -> None:
    text = "team: core\nusers[2]:\n  - id: 1\n    name: A\n  - id: 2\n    name: B\n"
    uri = open_doc(client, root / "outline.toon", text)
    await diagnostics(client, uri, 1)
    ident = types.TextDocumentIdentifier(uri=uri)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=ident))
    assert [s.name for s in symbols] == ["team", "users"]
    users = symbols[1]
    assert users.kind == types.SymbolKind.Array and len(users.children) == 2
    assert users.range.start.line == 1 and users.range.end.line == 5
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=ident))
    assert any(f.start_line == 1 and f.end_line == 5 for f in folds)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=ident, range=types.Range(types.Position(1, 0), types.Position(1, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    [table] = [a for a in actions if a.kind == types.CodeActionKind.RefactorRewrite]
    rewritten = apply_edits(text, table.edit.changes[uri])
    assert decode(rewritten) == decode(text) and "users[2]{id,name}:" in rewritten
    close_doc(client, uri)


async def test_folding_honours_the_clients_range_limit(client: LanguageClient,
                                                       root: Path) -> None:
    # VS Code's capabilities say rangeLimit 5000: a document with 6,000 folds
    # gets the 5,000 outermost, not all of them.
    text = "".join(f"k{i}:\n  x: {i}\n" for i in range(6000))
    uri = open_doc(client, root / "many-folds.toon", text)
    await diagnostics(client, uri, 1)
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    assert len(folds) == 5000 and folds[0].start_line == 0
    close_doc(client, uri)


async def test_twins_on_open_and_save_and_the_regenerate_command(
        client: LanguageClient, root: Path) -> None:
    source = root / "twinned.toon"
    source.write_text("a: 1\n")
    uri = open_doc(client, source, "a: 1\n")
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "twin-missing" and d.severity == types.DiagnosticSeverity.Warning
    ident = types.TextDocumentIdentifier(uri=uri)
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=ident, range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[d])))
    [regen] = [a for a in actions if a.command is not None]
    assert regen.command.command == "toon.regenerateTwin"
    before = len(client.published)  # type: ignore[attr-defined]
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=regen.command.command, arguments=regen.command.arguments))
    await wait_for(lambda: len(client.published) > before, "diagnostics after the twin")  # type: ignore[attr-defined]
    assert list(client.diagnostics[uri]) == []
    twin = root / "twinned.md"
    assert twin.is_file() and "twinned.toon" in twin.read_text()
    # typing does not look at the twin; saving does
    change_full(client, uri, 2, "a: 2\n")
    assert await diagnostics(client, uri, 2) == []
    source.write_text("a: 2\n")
    before = len(client.published)  # type: ignore[attr-defined]
    save_doc(client, uri)
    await wait_for(lambda: len(client.published) > before, "diagnostics after save")  # type: ignore[attr-defined]
    assert [d.code for d in client.diagnostics[uri]] == ["twin-stale"]
    close_doc(client, uri)


async def test_a_file_in_the_twins_place_is_never_replaced(client: LanguageClient,
                                                            root: Path) -> None:
    source = root / "notes.toon"
    source.write_text("a: 1\n")
    mine = root / "notes.md"
    mine.write_text("# my own notes\n")
    uri = open_doc(client, source, "a: 1\n")
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "twin-conflict" and "notes.md" in d.message
    before = len(client.messages)
    await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="toon.regenerateTwin", arguments=[uri]))
    await wait_for(lambda: len(client.messages) > before, "a message")
    assert "not written" in client.messages[-1].message
    assert mine.read_text() == "# my own notes\n"
    close_doc(client, uri)


async def test_no_twin_action_where_the_project_keeps_no_twins(client: LanguageClient,
                                                               root: Path) -> None:
    # its own configuration, without twins.*: a missing twin is no news, and
    # no lightbulb on every line offers to write one
    folder = root / "untwinned"
    folder.mkdir()
    (folder / ".toon.toml").write_text("")
    source = folder / "plain.toon"
    source.write_text("a: 1\n")
    uri = open_doc(client, source, "a: 1\n")
    assert await diagnostics(client, uri, 1) == []
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    assert [a.title for a in actions or []] == []
    close_doc(client, uri)


async def test_a_repository_running_the_twins_hook_keeps_twins(
        client: LanguageClient, tmp_path_factory: pytest.TempPathFactory) -> None:
    # no configuration file at all (the hook's defaults); the pre-commit
    # configuration at the repository's root says twins are kept, wherever the
    # editor started the server
    repo = tmp_path_factory.mktemp("hooked")
    (repo / ".git").mkdir()
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n- repo: local\n  hooks:\n  - id: toon-twins\n")
    (repo / "data").mkdir()
    source = repo / "data" / "a.toon"
    source.write_text("a: 1\n")
    uri = open_doc(client, source, "a: 1\n")
    [d] = await diagnostics(client, uri, 1)
    assert d.code == "twin-missing"
    close_doc(client, uri)


async def test_a_changed_configuration_is_reloaded(client: LanguageClient, root: Path) -> None:
    sub = root / "sub"
    sub.mkdir()
    uri = open_doc(client, sub / "item.toon", "age: -1\n")
    assert await diagnostics(client, uri, 1) == []
    (sub / ".toon.toml").write_text('[schemas]\n"*.toon" = "../schemas/person.json"\n')
    before = len(client.published)  # type: ignore[attr-defined]
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(sub / ".toon.toml").as_uri(), type=types.FileChangeType.Created)]))
    await wait_for(lambda: len(client.published) > before, "diagnostics after reload")  # type: ignore[attr-defined]
    codes = sorted(str(d.code) for d in client.diagnostics[uri])
    assert codes == ["properties/age/minimum", "required"]
    # the watchers were asked for at start-up (VS Code registers them dynamically)
    [reg] = [r for params in client.registrations  # type: ignore[attr-defined]
             for r in params.registrations]
    assert reg.method == types.WORKSPACE_DID_CHANGE_WATCHED_FILES
    close_doc(client, uri)



async def test_a_changed_schema_rediagnoses_the_documents_it_covers(client: LanguageClient,
                                                                     root: Path) -> None:
    # the schema reaches a sibling file by $ref; the user edits that file and
    # saves it: the open document is re-checked without a keystroke
    folder = root / "reffed"
    folder.mkdir()
    (folder / ".toon.toml").write_text('[schemas]\n"*.toon" = "main.json"\n')
    (folder / "main.json").write_text(json.dumps(
        {"type": "object", "properties": {"age": {"$ref": "defs.json#/age"}}}))
    defs = folder / "defs.json"
    defs.write_text(json.dumps({"age": {"type": "integer", "minimum": 0}}))
    uri = open_doc(client, folder / "p.toon", "age: 5\n")
    assert await diagnostics(client, uri, 1) == []
    defs.write_text(json.dumps({"age": {"type": "integer", "minimum": 10}}))
    before = len(client.published)  # type: ignore[attr-defined]
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=defs.as_uri(), type=types.FileChangeType.Changed)]))
    await wait_for(lambda: [p for p in client.published[before:]  # type: ignore[attr-defined]
                            if p.uri == uri], "diagnostics after the schema changed")
    assert [str(d.code) for d in client.diagnostics[uri]] == ["defs.json#/age/minimum"]
    # deleted: said at once, too
    (folder / "main.json").unlink()
    before = len(client.published)  # type: ignore[attr-defined]
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[
        types.FileEvent(uri=(folder / "main.json").as_uri(), type=types.FileChangeType.Deleted)]))
    await wait_for(lambda: [p for p in client.published[before:]  # type: ignore[attr-defined]
                            if p.uri == uri], "diagnostics after the schema went")
    assert [str(d.code) for d in client.diagnostics[uri]] == ["schema-unusable"]
    close_doc(client, uri)


async def test_a_configuration_changed_unannounced_applies_from_the_next_change(
        client: LanguageClient, root: Path) -> None:
    # Neovim on Linux and Helix send nothing when pyproject.toml is saved in
    # another buffer (no file watchers, didSave only to the buffer's servers)
    folder = root / "quiet"
    folder.mkdir()
    (root / "schemas" / "adult.json").write_text(json.dumps(
        {"type": "object", "properties": {"age": {"minimum": 18}}}))
    uri = open_doc(client, folder / "kid.toon", "age: 5\n")
    assert await diagnostics(client, uri, 1) == []
    (folder / ".toon.toml").write_text('[schemas]\n"*.toon" = "../schemas/adult.json"\n')
    change_full(client, uri, 2, "age: 6\n")
    assert [str(d.code) for d in await diagnostics(client, uri, 2)] == ["properties/age/minimum"]
    close_doc(client, uri)


async def test_excluded_files_have_no_schema_or_twin_findings(client: LanguageClient,
                                                              root: Path) -> None:
    # [tool.toon] exclude: the hooks (--force-exclude) check no schema and make
    # no twin there, so the editor reports neither; a decode error still shows
    folder = root / "excluding"
    (folder / "vendor").mkdir(parents=True)
    (folder / ".toon.toml").write_text(
        'exclude = ["vendor/"]\ntwins.suffix = ".md"\n\n'
        '[schemas]\n"*.toon" = "../schemas/person.json"\n')
    kept, skipped = folder / "kept.toon", folder / "vendor" / "skipped.toon"
    for path in (kept, skipped):
        path.write_text("age: -1\n")
    uri = open_doc(client, kept, "age: -1\n")
    assert sorted(str(d.code) for d in await diagnostics(client, uri, 1)) == [
        "properties/age/minimum", "required", "twin-missing"]
    close_doc(client, uri)
    uri = open_doc(client, skipped, "age: -1\n")
    assert await diagnostics(client, uri, 1) == []
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[])))
    assert not actions
    change_full(client, uri, 2, "age[2]: 1\n")
    assert [d.code for d in await diagnostics(client, uri, 2)] == ["decode"]
    close_doc(client, uri)

HOSTILE = {
    "nul": "a: 1\x00\nb: 2\n",
    "controls": "a: \x01\x02\x1b[31m\x7f\n\x0b\x0c: x\n",
    "crlf": "a:\r\n  b: 1\r\n  c[2]: 1,2\r\n",
    "lone-cr": "a: 1\rb: 2\n",
    # past the codec's max_depth (1,000 levels), and a 10,000-space indentation
    "deep": "".join(" " * (2 * i) + f"k{i}:\n" for i in range(1_200)),
    "wide-indent": "a:\n" + " " * 10_000 + "b: 1\n",
    "tabs": "a:\n\tb: 1\nc[2\t]: x\ty\n",
    "bom": "\ufeffa: 1\nb[1]: 😀\n",
    "bom-error": "\ufeffa[2]: 1\n",
    "empty": "",
    "astral-keys": '"😀": 1\n"\U0010ffff"[2]: 1\n',
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_hostile_input_is_answered_and_never_crashes(client: LanguageClient, root: Path,
                                                           name: str) -> None:
    text = HOSTILE[name]
    uri = open_doc(client, root / f"hostile-{name}.toon", text)
    found = await diagnostics(client, uri, 1)
    try:
        decode(text)
    except (ToonDecodeError, RecursionError, ValueError):
        assert found and all(d.range.start.line >= 0 for d in found)
    ident = types.TextDocumentIdentifier(uri=uri)
    everywhere = types.Range(types.Position(0, 0), types.Position(10**6, 0))
    await client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(1, 2)))
    await request_format(client, uri)
    await request_format(client, uri, everywhere)
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=ident))
    await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=ident))
    await client.text_document_code_action_async(types.CodeActionParams(
        text_document=ident, range=everywhere, context=types.CodeActionContext(diagnostics=[])))
    close_doc(client, uri)
    # and the server still works
    ok = open_doc(client, root / f"after-{name}.toon", "a: 1\n")
    assert await diagnostics(client, ok, 1) == []
    close_doc(client, ok)
    assert not [m for m in client.log_messages if m.type == types.MessageType.Error]


async def test_requests_about_unknown_documents_answer_empty(client: LanguageClient,
                                                             root: Path) -> None:
    ident = types.TextDocumentIdentifier(uri=(root / "never-opened.toon").as_uri())
    assert await client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(0, 0))) is None
    assert await request_format(client, ident.uri) == []
    assert await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=ident)) == []


async def test_documents_that_are_not_toon_are_left_alone(client: LanguageClient,
                                                          root: Path) -> None:
    # a generic client attached to "plaintext" sends every text file
    uri = (root / "notes.txt").as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id="plaintext", version=1, text="not: [toon\n")))
    ident = types.TextDocumentIdentifier(uri=uri)
    assert await request_format(client, uri) == []
    assert await client.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(0, 0))) is None
    # an untitled buffer the client calls TOON is diagnosed
    untitled = "untitled:Untitled-1"
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=untitled, language_id="toon", version=1, text="a[2]: 1\n")))
    [d] = await diagnostics(client, untitled, 1)
    assert d.code == "decode"
    close_doc(client, uri)
    close_doc(client, untitled)
    await diagnostics(client, untitled, None)
    assert not [p for p in client.published if p.uri == uri]  # type: ignore[attr-defined]
