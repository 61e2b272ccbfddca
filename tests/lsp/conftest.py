"""Drive the real ``toon lsp`` over stdio with pytest-lsp's client.

Each test module starts one server (module-scoped fixtures, module-scoped event
loop: ``pytestmark = pytest.mark.asyncio(loop_scope="module")``), because a
start costs about a second; tests keep to their own documents so that they can
share it.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Union

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features
from pygls.protocol import default_converter

#: How long a test waits for the server before it fails (never a timing claim).
PATIENCE = 30.0


def _converter() -> Any:
    """pygls' converter, except for a CodeAction that carries a command:
    lsprotocol reads any object with a "command" key as a Command, so it turns a
    CodeAction{command: Command} into a Command whose command is a dict (a
    client-side slip; editors tell them apart by the command's type, as the
    spec's CodeAction | Command union means)."""
    converter = default_converter()

    def command_or_action(obj: Any, _: type) -> types.Command | types.CodeAction:
        if isinstance(obj.get("command"), str):
            return converter.structure(obj, types.Command)  # type: ignore[no-any-return]
        return converter.structure(obj, types.CodeAction)  # type: ignore[no-any-return]

    converter.register_structure_hook(Union[types.Command, types.CodeAction], command_or_action)
    return converter


def recording_client() -> LanguageClient:
    """pytest-lsp's client that also keeps every publishDiagnostics (with its
    version), so a test can wait for the one for a given version."""
    client = LanguageClient(converter_factory=_converter)
    published: list[types.PublishDiagnosticsParams] = []
    client.published = published  # type: ignore[attr-defined]

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        published.append(params)

    registrations: list[types.RegistrationParams] = []
    client.registrations = registrations  # type: ignore[attr-defined]

    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        registrations.append(params)

    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES,
                                   types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: publish,
                                   types.CLIENT_REGISTER_CAPABILITY: register})
    return client


async def start(root: Path, *, capabilities: str = "visual-studio-code",
                encodings: list[str] | None = None,
                env: dict[str, str] | None = None) -> LanguageClient:
    """A client connected to a fresh ``python -m toon_tools lsp``, initialised
    with ``root`` as its workspace."""
    config = ClientServerConfig(
        server_command=[sys.executable, "-m", "toon_tools", "lsp"],
        client_factory=recording_client,
        server_env={**os.environ, "TOON_CACHE_DIR": str(root / ".cache"), **(env or {})})
    client = await config.start()
    caps = client_capabilities(capabilities)
    if encodings is not None:
        caps.general = types.GeneralClientCapabilities(position_encodings=encodings)
    client.init_result = await client.initialize_session(types.InitializeParams(  # type: ignore[attr-defined]
        capabilities=caps, root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="root")]))
    return client


async def stop(client: LanguageClient) -> None:
    await client.shutdown_session()
    await client.stop()


async def wait_for(predicate: Callable[[], Any], what: str) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PATIENCE
    while True:
        found = predicate()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def diagnostics(client: LanguageClient, uri: str, version: int | None
                      ) -> list[types.Diagnostic]:
    """The diagnostics published for ``uri`` at ``version`` (the last such)."""
    published: list[types.PublishDiagnosticsParams] = client.published  # type: ignore[attr-defined]

    def found() -> list[list[types.Diagnostic]]:
        return [list(p.diagnostics) for p in published
                if p.uri == uri and p.version == version]

    return (await wait_for(found, f"diagnostics of {uri} v{version}"))[-1]  # type: ignore[no-any-return]


def open_doc(client: LanguageClient, path: Path, text: str, version: int = 1) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="toon", version=version, text=text)))
    return uri


def change_full(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangeWholeDocument(text=text)]))


def change_range(client: LanguageClient, uri: str, version: int,
                 start: tuple[int, int], end: tuple[int, int], text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        [types.TextDocumentContentChangePartial(
            range=types.Range(types.Position(*start), types.Position(*end)), text=text)]))


def close_doc(client: LanguageClient, uri: str) -> None:
    client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))


def save_doc(client: LanguageClient, uri: str) -> None:
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))


def apply_edits(text: str, edits: list[types.TextEdit], encoding: str = "utf-16") -> str:
    """What an editor does with LSP TextEdits (UTF-16 positions by default),
    written independently of the server's own converters."""
    parts = re.split(r"(\r\n|\r|\n)", text)
    lines = [parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
             for i in range(0, len(parts), 2)]

    def offset(pos: types.Position) -> int:
        base = sum(len(line) for line in lines[:pos.line])
        line = lines[pos.line] if pos.line < len(lines) else ""
        body = line.rstrip("\r\n")
        units = 0
        for i, ch in enumerate(body):
            if units >= pos.character:
                return base + i
            units += {"utf-16": 2 if ord(ch) > 0xFFFF else 1, "utf-32": 1,
                      "utf-8": len(ch.encode())}[encoding]
        return base + len(body)

    spans = sorted(((offset(e.range.start), offset(e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start_, end, new in spans:
        text = text[:start_] + new + text[end:]
    return text


async def session(root: Path, **kwargs: Any) -> AsyncIterator[LanguageClient]:
    client = await start(root, **kwargs)
    try:
        yield client
    finally:
        await stop(client)
