"""One version of one open document and everything worked out from it, each
part once: the line index, the located decode (diagnostics, hover, outline and
code actions all read the same one), the outline, the formatted text and the
token counts for hover. A new version is a new :class:`Snapshot`; nothing is
ever recomputed for an old one. No pygls here.

Parts are computed lazily under one lock, so the server's worker thread and a
request that arrives meanwhile never parse the same version twice.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..codec import Located, ToonDecodeError
from . import diagnose
from .diagnose import Diagnostic, SchemaCache
from .positions import UTF16, LineIndex

if TYPE_CHECKING:
    from ..config import Config
    from ..tokens import TokenCounter

#: The indentation every document is read with: ``toon check`` and ``toon fmt``'s
#: default, and the only one a project can count on (``[tool.toon]`` has no
#: indent setting).
INDENT = 2


class Snapshot:
    """``text`` at ``version`` of the file ``path`` (None: not a file, e.g. an
    untitled buffer; then no schema and no twin apply)."""

    def __init__(self, uri: str, version: int | None, text: str, path: str | None,
                 cfg: Config, config_error: str | None = None,
                 encoding: str = UTF16) -> None:
        self.uri, self.version, self.text, self.path = uri, version, text, path
        self.cfg, self.config_error, self.encoding = cfg, config_error, encoding
        self._lock = threading.RLock()
        self._token_lock = threading.Lock()
        self._index: LineIndex | None = None
        self._decoded = False  # the located decode is done (or known to fail)
        self._located: Located | None = None
        self._checked = False  # the plain decode is done (diagnostics need no more)
        self._value: Any = None
        self._decode_problem: Diagnostic | None = None
        self._diagnostics: list[Diagnostic] | None = None
        self._outline: Any = None
        self._formatted: tuple[str | None] | None = None
        self._token_line: str | None = None

    @property
    def index(self) -> LineIndex:
        with self._lock:
            if self._index is None:
                self._index = LineIndex(self.text, self.encoding)
            return self._index

    @property
    def located(self) -> Located | None:
        """The located decode, None for an invalid document."""
        with self._lock:
            if not self._decoded:
                self._located, problem = diagnose.decode(self.text, lambda: self.index, INDENT)
                if not self._checked:
                    self._decode_problem, self._checked = problem, True
                self._decoded = True
            return self._located

    @property
    def valid(self) -> bool:
        """Whether this version decodes (strictly)."""
        with self._lock:
            self._check()
            return self._decode_problem is None

    def _check(self) -> None:
        """The plain decode, for diagnostics: a third cheaper than the located
        one on nested documents, and a valid document needs no positions. The
        located decode follows when something asks for it (hover, outline, or a
        schema violation to place)."""
        if self._checked:
            return
        if self._decoded:
            self._checked = True  # located already said
            return
        self._value, self._decode_problem = diagnose.decode(
            self.text, lambda: self.index, INDENT, located=False)
        if self._decode_problem is not None:
            self._decoded = True  # the located decode would fail the same way
        self._checked = True

    def diagnostics(self, schemas: SchemaCache) -> list[Diagnostic]:
        """Decode and schema problems of this version (twins are the server's:
        they follow saves, not versions)."""
        with self._lock:
            if self._diagnostics is None:
                if self.path is not None and not self.excluded and \
                        diagnose.applicable_schema(self.path, self.text, self.cfg) is not None:
                    _ = self.located  # one decode with positions: a violation needs them
                self._check()
                found: list[Diagnostic] = []
                if self.config_error is not None:
                    found.append(diagnose.config_diagnostic(self.config_error, self.index))
                if self._decode_problem is not None:
                    found.append(self._decode_problem)
                elif self.path is not None and not self.excluded:
                    value = self._located.value if self._located is not None else self._value
                    found += diagnose.schema_diagnostics(
                        self.path, self.text, lambda: self.located, self.cfg, schemas,
                        lambda: self.index, value=value)
                self._diagnostics = found
                self._value = None  # the located decode holds the data from now on
            return self._diagnostics

    @property
    def excluded(self) -> bool:
        """Whether ``[tool.toon] exclude`` covers the file: the hooks (which pass
        ``--force-exclude``) check no schema there and keep no twin, so neither
        is reported; decode errors are, being about the text being typed."""
        return self.path is not None and self.cfg.excluded(self.path)

    @property
    def outline(self) -> Any:
        """L2's :class:`toon_tools.lsp.analysis.Outline` of this version."""
        from .analysis import Outline

        with self._lock:
            if self._outline is None:
                self._outline = Outline(self.text, self.located)
            return self._outline

    def formatted(self) -> str | None:
        """``toon fmt``'s result for this text; None if it is not a valid
        document (its diagnostics say why). A byte order mark is kept: which
        encoding the file is saved in is the editor's business."""
        from ..codec import format_text

        with self._lock:
            if self._formatted is None:
                try:
                    result: str | None = format_text(self.text, indent_size=INDENT)
                except (ToonDecodeError, RecursionError, ValueError):
                    result = None
                if result is not None and self.text.startswith("\ufeff") \
                        and not result.startswith("\ufeff"):
                    result = "\ufeff" + result
                self._formatted = (result,)
            return self._formatted[0]

    def token_line(self) -> str:
        """Hover's line for the whole document: its tokens and what the same data
        costs as compact JSON, in the configured encoding (o200k_base by
        default). Worked out on the first hover of a version, never while
        diagnosing."""
        with self._token_lock:  # not self._lock: hover and outline go on meanwhile
            if self._token_line is None:
                self._token_line = self._count_tokens()
            return self._token_line

    @property
    def token_line_ready(self) -> str | None:
        """The token line if it has been worked out already."""
        return self._token_line

    def _count_tokens(self) -> str:
        encoding: str = self.cfg["tokens.encoding"]
        try:
            counter = _counter(encoding, self.cfg.cache_dir())
            body = self.text[1:] if self.text.startswith("\ufeff") else self.text
            toon = counter.count(body)
        except Exception as e:  # noqa: BLE001 - a vocabulary that cannot load: say so
            return f"tokens ({encoding}): not counted: {e}"
        line = f"**{toon:,}** tokens ({encoding})"
        located = self.located
        if located is None:
            return line + "; as compact JSON: not comparable while the document is invalid"
        try:
            compact = json.dumps(located.value, separators=(",", ":"), ensure_ascii=False)
            as_json = counter.count(compact)
        except (ValueError, RecursionError):
            return line
        if as_json:
            saving = round(100.0 * (as_json - toon) / as_json, 1)
            verdict = (f"TOON saves {saving}%" if saving >= 0
                       else f"TOON costs {-saving}% more")
            return line + f"; as compact JSON **{as_json:,}** ({verdict})"
        return line + f"; as compact JSON {as_json:,}"


@lru_cache(maxsize=4)
def _counter(encoding: str, cache_dir: Path) -> TokenCounter:
    from ..tokens import TokenCounter

    return TokenCounter(encoding, cache_dir=cache_dir)
