"""Position encodings other than UTF-16, negotiated at initialize: the server
takes the client's first preference, and every position it sends or reads is
in that unit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pytest_lsp import LanguageClient

from toon_tools.codec import ToonDecodeError, decode, format_text

from .conftest import apply_edits, close_doc, diagnostics, open_doc, session

pytestmark = pytest.mark.asyncio(loop_scope="module")

WIDTH = {"utf-8": lambda s: len(s.encode("utf-8")), "utf-32": len}


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=["utf-8", "utf-32"])
async def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> AsyncIterator[tuple[LanguageClient, str, Path]]:
    root = tmp_path_factory.mktemp("enc")
    async for c in session(root, encodings=[request.param, "utf-16"]):
        yield c, request.param, root


async def test_negotiated_encoding_is_used_everywhere(
        client: tuple[LanguageClient, str, Path]) -> None:
    lsp, encoding, root = client
    assert lsp.init_result.capabilities.position_encoding == encoding  # type: ignore[attr-defined]
    bad = 'k: "😀é\U0010FFFF" x\n'
    with pytest.raises(ToonDecodeError) as caught:
        decode(bad)
    uri = open_doc(lsp, root / "bad.toon", bad)
    [d] = await diagnostics(lsp, uri, 1)
    column = caught.value.column
    assert d.range.start.character == WIDTH[encoding](bad[:column - 1])
    close_doc(lsp, uri)

    table = "rows[2]{a,b}:\n  😀,x\n  é,yy\n"
    uri = open_doc(lsp, root / "table.toon", table)
    await diagnostics(lsp, uri, 1)
    ident = types.TextDocumentIdentifier(uri=uri)
    at = WIDTH[encoding]("  😀,")
    hover = await lsp.text_document_hover_async(
        types.HoverParams(text_document=ident, position=types.Position(1, at)))
    assert hover is not None and "`b`" in hover.contents.value
    assert hover.range == types.Range(types.Position(1, at), types.Position(1, at + 1))
    close_doc(lsp, uri)

    messy = "a:  \"😀\"\nb:   é\n"
    uri = open_doc(lsp, root / "messy.toon", messy)
    edits = await lsp.text_document_formatting_async(types.DocumentFormattingParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        options=types.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert apply_edits(messy, list(edits or []), encoding) == format_text(messy)
    close_doc(lsp, uri)
