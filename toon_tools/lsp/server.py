"""``toon lsp``: the pygls language server. It only maps LSP requests onto the
library (jedi-language-server's shape): diagnostics are :mod:`.diagnose`'s,
positions :mod:`.positions`', edits :mod:`.edits`', hover, outline, folding and
table conversion :mod:`.analysis`'s, twins :mod:`toon_tools.hooks.twins`'.

Concurrency: the event loop only moves messages. All work on a document runs
in one worker thread, on a :class:`~.document.Snapshot` of the version it is
for; a version that has been superseded by the time the worker reaches it is
skipped, and results for it are never published. A request (hover, formatting)
reads the snapshot of the current version, so it reuses the decode the
diagnostics made.

Failure: every handler answers. An exception inside one is logged to the client
(window/logMessage) and answered with an empty result; the process goes on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import threading
import traceback
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path
from pygls.workspace import TextDocument, Workspace

from .. import __version__
from ..codec import Range
from .diagnose import (Diagnostic, SchemaCache, TwinState, stamp, twin_diagnostics,
                       twin_reported, twin_state)
from .document import Snapshot
from .edits import text_edits
from .positions import ENCODINGS, UTF16, LineIndex

if TYPE_CHECKING:
    from .analysis import HoverInfo

log = logging.getLogger(__name__)

REGENERATE_TWIN = "toon.regenerateTwin"
#: How long a hover on a big document (over ``HOVER_BIG`` characters) waits for
#: its token count before it answers without it (the count goes on aside and a
#: later hover shows it). A smaller document is counted within the hover (the
#: first count of a session also loads the vocabulary, about a second).
HOVER_WAIT, HOVER_BIG = 0.2, 256 * 1024
CONFIG_NAMES = ("pyproject.toml", ".toon.toml")

T = TypeVar("T")


class ToonLanguageServer(LanguageServer):
    """The server and the state it keeps between messages (open documents'
    snapshots, configurations by folder, loaded schemas, twin states)."""

    def __init__(self) -> None:
        super().__init__("toon", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toon-lsp")
        # token counts for hover (a second on a 1 MB document) run aside, so
        # that a hover never holds up the diagnostics of the next keystroke
        self.counter = ThreadPoolExecutor(max_workers=1, thread_name_prefix="toon-lsp-tokens")
        self._counting: dict[str, tuple[Snapshot, asyncio.Future[str | None]]] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.twins: dict[str, TwinState] = {}  # uri -> state at its last open/save
        self.saved_versions: dict[str, int | None] = {}
        self.schemas = SchemaCache()
        # folder -> (config, why unusable, the files load_config looked at, their stamp)
        self._configs: dict[Path, tuple[Any, str | None, tuple[Path, ...], tuple[object, ...]]] = {}
        self._config_lock = threading.Lock()
        self.shut_down = False  # the client asked for shutdown (LSP: then exit is 0)

    # ------------------------------------------------------------- state

    @property
    def encoding(self) -> str:
        negotiated = self.workspace.position_encoding or UTF16
        # lsprotocol's enum: its value is the wire name ("utf-16"), its str() is not
        value = getattr(negotiated, "value", negotiated)
        return value if value in ENCODINGS else UTF16

    def config_for(self, path: str | None) -> tuple[Any, str | None]:
        """The configuration for a file's folder, and why it could not be read
        (then the defaults). Cached per folder while the files ``load_config``
        looked at stay as they were: a client that announces no change (Neovim
        on Linux, Helix) still gets a saved pyproject.toml from the next
        keystroke on, for a few stat calls per version."""
        from ..config import ConfigError, load_config

        folder = Path(os.path.dirname(path)) if path else Path.cwd()
        with self._config_lock:
            held = self._configs.get(folder)
            if held is not None and stamp(held[2]) == held[3]:
                return held[0], held[1]
            looked: list[Path] = []

            def read(p: Path) -> bytes | None:
                looked.append(p)
                return p.read_bytes() if p.is_file() else None

            problem: str | None = None
            try:
                cfg = load_config(folder, read=read)
            except (ConfigError, OSError) as e:
                cfg = load_config(folder, read=lambda p: None)
                problem = str(getattr(e, "message", e))
            files = tuple(looked)
            self._configs[folder] = (cfg, problem, files, stamp(files))
            return cfg, problem

    def forget_configs(self) -> None:
        with self._config_lock:
            self._configs.clear()
        self.schemas.clear()

    def snapshot(self, uri: str) -> Snapshot | None:
        """The snapshot of the document's current version (made on first use)."""
        doc = self.workspace.text_documents.get(unquote(uri))
        if doc is None or not is_toon(uri, doc.language_id):
            return None
        held = self.snapshots.get(uri)
        if held is not None and held.version == doc.version and held.text is doc.source:
            return held
        path = to_fs_path(uri) if uri.startswith("file:") else None
        cfg, problem = self.config_for(path)
        snap = Snapshot(uri, doc.version, doc.source, path, cfg, problem, self.encoding)
        self.snapshots[uri] = snap
        return snap

    def is_current(self, snap: Snapshot) -> bool:
        return self.snapshots.get(snap.uri) is snap

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in the worker thread."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    async def token_line(self, snap: Snapshot, wait: float | None) -> str | None:
        """The document's token line for hover, if it is ready within ``wait``
        seconds (None: however long it takes); otherwise None, and the count goes on in the background (one
        per document, for its current version) so that the next hover has it."""
        ready = snap.token_line_ready
        if ready is not None:
            return ready
        held = self._counting.get(snap.uri)
        if held is None or held[0] is not snap:
            def count() -> str | None:
                return snap.token_line() if self.is_current(snap) else None

            future = asyncio.get_running_loop().run_in_executor(self.counter, count)
            self._counting[snap.uri] = held = (snap, future)
        try:
            return await asyncio.wait_for(asyncio.shield(held[1]), wait)
        except asyncio.TimeoutError:
            return None

    def log_error(self, where: str) -> None:
        message = f"toon lsp: internal error in {where} (a bug in toon-tools):\n" \
                  + traceback.format_exc()
        log.error(message)
        try:
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, message))
        except Exception:  # noqa: BLE001 - the client is gone: nothing to tell
            pass

    # ------------------------------------------------------- diagnostics

    async def refresh(self, uri: str, *, check_twin: bool = False) -> None:
        """Diagnose the current version of ``uri`` and publish, unless a newer
        version came meanwhile (its own refresh publishes)."""
        snap = self.snapshot(uri)
        if snap is None:
            return

        def work() -> list[types.Diagnostic] | None:
            if not self.is_current(snap):
                return None  # superseded before the worker got to it
            found = list(snap.diagnostics(self.schemas))
            if check_twin and snap.path is not None and snap.valid \
                    and not snap.excluded:
                self.twins[uri] = twin_state(snap.path, snap.cfg)
            elif check_twin:
                self.twins.pop(uri, None)
            twin = self.twins.get(uri)
            if twin is not None:
                found += twin_diagnostics(twin, snap.cfg, snap.index)
            return [to_lsp_diagnostic(d, snap.index) for d in found]

        try:
            diagnostics = await self.run(work)
        except Exception:  # noqa: BLE001 - see the module docstring
            self.log_error("diagnostics")
            return
        if diagnostics is None or not self.is_current(snap):
            return
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=diagnostics, version=snap.version))

    async def refresh_all(self, *, check_twin: bool = False) -> None:
        """Diagnose every open document afresh (a configuration or a schema
        changed); ``check_twin``: their twins too (where a twin goes is
        configured)."""
        for uri in list(self.saved_versions):
            self.snapshots.pop(uri, None)
            await self.refresh(uri, check_twin=check_twin)

    async def files_changed(self, paths: list[str]) -> bool:
        """Re-diagnose what depends on ``paths`` (saved or changed on disk): a
        configuration file, everything; a schema file (or one it reaches by
        ``$ref``), everything, each document's schema is looked up afresh.
        Whether anything was."""
        if any(os.path.basename(p) in CONFIG_NAMES for p in paths):
            self.forget_configs()
            await self.refresh_all(check_twin=True)
            return True
        if any(self.schemas.covers(p) for p in paths):
            await self.refresh_all()
            return True
        return False


class ToonDocument(TextDocument):
    """pygls' document, except that an incremental change is applied where the
    client meant it. pygls finds lines with ``str.splitlines``, which also
    breaks at U+2028, U+0085, form feeds and other characters that LSP (and
    TOON, §12) keep inside a line, so an edit below such a line landed on the
    wrong line; and it moved a character past the end of the last line one
    back instead of to the line's end. Here positions go through
    :class:`.positions.LineIndex`, the converter every answer uses."""

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        encoding = getattr(self.position_codec.encoding, "value", self.position_codec.encoding)
        source = self.source
        index = LineIndex(source, encoding if encoding in ENCODINGS else UTF16)
        r = change.range
        start = index.offset(*index.from_lsp(r.start.line, r.start.character))
        end = max(start, index.offset(*index.from_lsp(r.end.line, r.end.character)))
        self._source = source[:start] + change.text + source[end:]


def use_toon_documents(workspace: Workspace) -> None:
    """Make ``workspace`` hold :class:`ToonDocument` s (called at ``initialize``,
    when pygls has made the workspace and before any document opens)."""
    def create(doc_uri: str, source: str | None = None, version: int | None = None,
               language_id: str | None = None) -> TextDocument:
        return ToonDocument(doc_uri, source=source, version=version, language_id=language_id,
                            sync_kind=workspace._sync_kind,
                            position_codec=workspace.position_codec)

    setattr(workspace, "_create_text_document", create)  # noqa: B010 - pygls has no hook


def is_toon(uri: str, language_id: str | None) -> bool:
    """Whether a document is ours: the client says it is TOON, or it is named
    ``*.toon``. Generic clients that can only attach a server to "plaintext"
    send every text file; the others are left alone (no diagnostics)."""
    return language_id == "toon" or unquote(uri).lower().endswith(".toon")


def to_lsp_range(r: Range, index: LineIndex) -> types.Range:
    lr = index.range_to_lsp(r)
    return types.Range(types.Position(lr.start.line, lr.start.character),
                       types.Position(lr.end.line, lr.end.character))


def to_lsp_diagnostic(d: Diagnostic, index: LineIndex) -> types.Diagnostic:
    return types.Diagnostic(range=to_lsp_range(d.range, index), message=d.message,
                            severity=types.DiagnosticSeverity(d.severity), code=d.code,
                            source=d.source)


def to_lsp_edits(edits: Any, index: LineIndex) -> list[types.TextEdit]:
    """Edits with codec ranges (ours or :mod:`.analysis`') as LSP TextEdits."""
    return [types.TextEdit(range=to_lsp_range(e.range, index), new_text=e.new_text)
            for e in edits]


def _before(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a < b


def whole_lines(r: Range) -> Range:
    """The lines a selection covers, whole: formatting part of a line formats
    the line. A selection that ends at the start of a line (a selection of full
    lines) does not cover that line."""
    end_line = r.end_line - 1 if r.end_column == 1 and r.end_line > r.line else r.end_line
    return Range(r.line, 1, end_line, 1 << 62)


def touches(edit: Range, wanted: Range) -> bool:
    """Whether an edit changes text inside the requested range: an edit that
    replaces something must overlap it (one that ends where the range starts,
    such as the line ending of the line above, changes only what is before it);
    an insertion counts at the range's borders too."""
    start, end = (edit.line, edit.column), (edit.end_line, edit.end_column)
    lo, hi = (wanted.line, wanted.column), (wanted.end_line, wanted.end_column)
    if start == end:
        return not (_before(start, lo) or _before(hi, start))
    return _before(start, hi) and _before(lo, end)


# ------------------------------------------------------------- handlers


def answers(default: Callable[[], Any]) -> Callable[[Callable[..., Awaitable[Any]]],
                                                    Callable[..., Awaitable[Any]]]:
    """Wrap a handler so that an internal error is logged to the client and
    answered with ``default()``, never an error response or a dead server."""
    def wrap(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @functools.wraps(fn)
        async def handler(ls: ToonLanguageServer, params: Any) -> Any:
            try:
                return await fn(ls, params)
            except Exception:  # noqa: BLE001 - see the module docstring
                ls.log_error(fn.__name__)
                return default()
        return handler
    return wrap


def _none() -> None:
    return None


def _empty() -> list[Any]:
    return []


def initialize(ls: ToonLanguageServer, params: types.InitializeParams) -> None:
    """pygls has made the workspace: give it documents that apply changes as
    LSP counts lines (:class:`ToonDocument`). Synchronous, so that it is done
    before the first didOpen is read."""
    try:
        use_toon_documents(ls.workspace)
    except Exception:  # noqa: BLE001 - pygls' own documents still work, mostly
        ls.log_error("initialize")


@answers(_none)
async def initialized(ls: ToonLanguageServer, params: types.InitializedParams) -> None:
    """Ask the client to tell us when a configuration file changes (if it can
    register watchers dynamically); a save of one it sends us works too."""
    caps = ls.client_capabilities.workspace
    watch = caps.did_change_watched_files if caps is not None else None
    if watch is None or not watch.dynamic_registration:
        return
    # configuration files, and schemas (JSON or TOON) that documents are checked against
    watchers = [types.FileSystemWatcher(glob_pattern=f"**/{name}")
                for name in (*CONFIG_NAMES, "*.json", "*.toon")]
    try:
        await ls.client_register_capability_async(types.RegistrationParams(registrations=[
            types.Registration(id="toon-config-files",
                               method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                               register_options=types.DidChangeWatchedFilesRegistrationOptions(
                                   watchers=watchers))]))
    except Exception as e:  # noqa: BLE001 - a client that refuses: saves still reload
        log.info("the client did not register the configuration watchers: %s", e)


def shutdown(ls: ToonLanguageServer, params: None) -> None:
    """Remember the request: ``exit`` after it is a clean end (code 0), without
    it (or a client that just goes) is not (code 1, as LSP says). Work queued
    for documents is dropped."""
    ls.shut_down = True
    ls.worker.shutdown(wait=False, cancel_futures=True)
    ls.counter.shutdown(wait=False, cancel_futures=True)


@answers(_none)
async def did_open(ls: ToonLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    uri = params.text_document.uri
    if not is_toon(uri, params.text_document.language_id):
        return
    ls.saved_versions[uri] = params.text_document.version
    await ls.refresh(uri, check_twin=True)


@answers(_none)
async def did_change(ls: ToonLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    await ls.refresh(params.text_document.uri)


@answers(_none)
async def did_save(ls: ToonLanguageServer, params: types.DidSaveTextDocumentParams) -> None:
    uri = params.text_document.uri
    if uri in ls.saved_versions:
        doc = ls.workspace.text_documents.get(unquote(uri))
        ls.saved_versions[uri] = doc.version if doc is not None else None
        await ls.refresh(uri, check_twin=True)
    path = to_fs_path(uri) if uri.startswith("file:") else None
    if path is not None:
        await ls.files_changed([path])


@answers(_none)
async def did_close(ls: ToonLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    ours = uri in ls.saved_versions
    for held in (ls.snapshots, ls.twins, ls.saved_versions, ls._counting):
        held.pop(uri, None)
    if ours:
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@answers(_none)
async def did_change_watched_files(ls: ToonLanguageServer,
                                   params: types.DidChangeWatchedFilesParams) -> None:
    paths = [to_fs_path(c.uri) for c in params.changes if c.uri.startswith("file:")]
    await ls.files_changed([p for p in paths if p is not None])


# ------------------------------------------------------------- formatting


async def _format(ls: ToonLanguageServer, uri: str, wanted: types.Range | None
                  ) -> list[types.TextEdit]:
    snap = ls.snapshot(uri)
    if snap is None:
        return []

    def work() -> list[types.TextEdit]:
        formatted = snap.formatted()
        if formatted is None:
            return []  # invalid: the diagnostics say why; no error popup
        edits = text_edits(snap.text, formatted, snap.index)
        if wanted is not None:
            r = whole_lines(snap.index.range_from_lsp(
                (wanted.start.line, wanted.start.character),
                (wanted.end.line, wanted.end.character)))
            edits = [e for e in edits if touches(e.range, r)]
        return to_lsp_edits(edits, snap.index)

    return await ls.run(work)


@answers(_empty)
async def formatting(ls: ToonLanguageServer, params: types.DocumentFormattingParams
                     ) -> list[types.TextEdit]:
    """``toon fmt``'s result as minimal edits. The request's options are not
    used: a TOON document's indentation is part of how it reads (two spaces,
    as ``toon fmt`` and ``toon check`` read it), never tabs, and it ends with
    one newline."""
    return await _format(ls, params.text_document.uri, None)


@answers(_empty)
async def range_formatting(ls: ToonLanguageServer, params: types.DocumentRangeFormattingParams
                           ) -> list[types.TextEdit]:
    """The whole document's formatting edits that meet the lines of the range."""
    return await _format(ls, params.text_document.uri, params.range)


# ------------------------------------------------------- analysis (L2's)


@answers(_none)
async def hover(ls: ToonLanguageServer, params: types.HoverParams) -> types.Hover | None:
    snap = ls.snapshot(params.text_document.uri)
    if snap is None:
        return None
    line, column = snap.index.from_lsp(params.position.line, params.position.character)

    def work() -> HoverInfo | None:
        from .analysis import hover_at

        return hover_at(snap.outline, line, column)

    info = await ls.run(work)
    tokens = await ls.token_line(snap, HOVER_WAIT if len(snap.text) > HOVER_BIG else None)
    if tokens is None:
        tokens = "tokens: counting this version; hover again in a moment"
    if info is None:
        return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, tokens))
    text = f"{info.markdown}\n\n---\n\n{tokens}"
    return types.Hover(contents=types.MarkupContent(types.MarkupKind.Markdown, text),
                       range=to_lsp_range(info.range, snap.index))


_SYMBOL_KINDS = {
    "object": types.SymbolKind.Object, "array": types.SymbolKind.Array,
    "table": types.SymbolKind.Struct, "string": types.SymbolKind.String,
    "number": types.SymbolKind.Number, "boolean": types.SymbolKind.Boolean,
    "null": types.SymbolKind.Null,
}


def _symbol(s: Any, index: LineIndex) -> types.DocumentSymbol:
    return types.DocumentSymbol(
        name=s.name or '""', kind=_SYMBOL_KINDS.get(s.kind, types.SymbolKind.Field),
        detail=s.detail or None, range=to_lsp_range(s.range, index),
        selection_range=to_lsp_range(s.selection, index),
        children=[_symbol(c, index) for c in s.children])


@answers(_empty)
async def document_symbol(ls: ToonLanguageServer, params: types.DocumentSymbolParams
                          ) -> list[types.DocumentSymbol]:
    snap = ls.snapshot(params.text_document.uri)
    if snap is None:
        return []

    def work() -> list[types.DocumentSymbol]:
        from .analysis import document_symbols

        return [_symbol(s, snap.index) for s in document_symbols(snap.outline)]

    return await ls.run(work)


@answers(_empty)
async def folding_range(ls: ToonLanguageServer, params: types.FoldingRangeParams
                        ) -> list[types.FoldingRange]:
    snap = ls.snapshot(params.text_document.uri)
    if snap is None:
        return []

    def work() -> list[types.FoldingRange]:
        from .analysis import folding_ranges

        kinds = {"comment": types.FoldingRangeKind.Comment,
                 "region": types.FoldingRangeKind.Region}
        return [types.FoldingRange(start_line=f.start_line - 1, end_line=f.end_line - 1,
                                   kind=kinds.get(f.kind))
                for f in folding_ranges(snap.text, limit=_range_limit(ls))]

    return await ls.run(work)


def _range_limit(ls: ToonLanguageServer) -> int | None:
    """The client's ``foldingRange.rangeLimit`` (VS Code: 5,000), if it gave one."""
    caps = ls.client_capabilities.text_document
    folding = caps.folding_range if caps is not None else None
    return folding.range_limit if folding is not None else None


@answers(_empty)
async def code_action(ls: ToonLanguageServer, params: types.CodeActionParams
                      ) -> list[types.CodeAction]:
    uri = params.text_document.uri
    snap = ls.snapshot(uri)
    if snap is None:
        return []
    wanted = snap.index.range_from_lsp(
        (params.range.start.line, params.range.start.character),
        (params.range.end.line, params.range.end.character))

    def work() -> list[types.CodeAction]:
        from .analysis import table_actions

        found: list[types.CodeAction] = []
        if snap.located is not None:
            for action in table_actions(snap.outline, wanted):
                edit = types.WorkspaceEdit(changes={uri: to_lsp_edits(action.edits, snap.index)})
                found.append(types.CodeAction(title=action.title,
                                              kind=types.CodeActionKind.RefactorRewrite,
                                              edit=edit))
        return found

    actions = await ls.run(work)
    twin = ls.twins.get(uri)
    saved = ls.saved_versions.get(uri, -1) == snap.version
    # offered where a diagnostic says the twin is stale or missing, not on
    # every line of every file in a project that keeps no twins
    if twin is not None and saved and twin.state in ("stale", "missing") \
            and twin_reported(twin, snap.cfg):
        diagnostics = [d for d in params.context.diagnostics
                       if d.source == "toon" and str(d.code).startswith("twin-")]
        actions.append(types.CodeAction(
            title="Regenerate the Markdown twin", kind=types.CodeActionKind.QuickFix,
            diagnostics=diagnostics or None,
            command=types.Command(title="Regenerate the Markdown twin",
                                  command=REGENERATE_TWIN, arguments=[uri])))
    return actions


async def regenerate_twin(ls: ToonLanguageServer, *args: Any) -> None:
    """Write the twin of the saved file (``arguments: [uri]``) by the hooks' own
    rules: a file in its place that toon-tools did not write is left alone and
    reported."""
    try:
        uri = str(args[0]) if args else ""
        snap = ls.snapshot(uri)
        if snap is None or snap.path is None:
            ls.window_show_message(types.ShowMessageParams(
                types.MessageType.Warning, "toon: no saved file to make a twin of"))
            return
        path, cfg = snap.path, snap.cfg

        def work() -> str | None:
            from ..files import commit_temps
            from ..hooks.twins import examine, twin_path

            result = examine((path, str(twin_path(Path(path), cfg))), write=True)
            if result.temp is not None:
                commit_temps([(result.temp, result.twin)])
                return None
            if result.problem is not None:
                return f"toon: twin not written: {result.twin} {result.problem.message}"
            return None

        problem = await ls.run(work)
        if problem is not None:
            ls.window_show_message(types.ShowMessageParams(types.MessageType.Warning, problem))
        await ls.refresh(uri, check_twin=True)
    except Exception:  # noqa: BLE001 - see the module docstring
        ls.log_error("toon.regenerateTwin")


def build() -> ToonLanguageServer:
    """A server with every feature registered (one per process: pygls keeps
    state in it)."""
    ls = ToonLanguageServer()
    features: list[tuple[str, Any, Callable[..., Any]]] = [
        (types.INITIALIZE, None, initialize),
        (types.INITIALIZED, None, initialized),
        (types.SHUTDOWN, None, shutdown),
        (types.TEXT_DOCUMENT_DID_OPEN, None, did_open),
        (types.TEXT_DOCUMENT_DID_CHANGE, None, did_change),
        (types.TEXT_DOCUMENT_DID_SAVE, None, did_save),
        (types.TEXT_DOCUMENT_DID_CLOSE, None, did_close),
        (types.WORKSPACE_DID_CHANGE_WATCHED_FILES, None, did_change_watched_files),
        (types.TEXT_DOCUMENT_FORMATTING, None, formatting),
        (types.TEXT_DOCUMENT_RANGE_FORMATTING, None, range_formatting),
        (types.TEXT_DOCUMENT_HOVER, None, hover),
        (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL, None, document_symbol),
        (types.TEXT_DOCUMENT_FOLDING_RANGE, None, folding_range),
        (types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[
            types.CodeActionKind.RefactorRewrite, types.CodeActionKind.QuickFix]), code_action),
    ]
    for method, options, handler in features:
        ls.feature(method, options)(handler)
    ls.command(REGENERATE_TWIN)(regenerate_twin)
    return ls


def start(log_file: str | None = None) -> int:
    """Serve over stdin/stdout until the client says exit; the exit code LSP
    asks for: 0 after a shutdown request, 1 otherwise (pygls swallows the
    SystemExit that carries it)."""
    if log_file:
        logging.basicConfig(filename=log_file, level=logging.DEBUG,
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ls = build()
    ls.start_io()
    return 0 if ls.shut_down else 1
