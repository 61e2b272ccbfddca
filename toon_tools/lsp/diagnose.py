"""What is wrong with a TOON document, as the editor holds it: strict decode
errors, schema violations, and (on open and save) a stale, missing or conflicting
Markdown twin. Plain data, no pygls: the server converts positions and sends.

Every rule here is the CLI's own: decoding is :func:`toon_tools.codec.decode_located`
(what ``toon check`` runs), the schema is the one :func:`~toon_tools.schema.mapping.schema_of`
picks (``# schema:`` first line, then ``[tool.toon.schemas]``), and the twin's
state is :func:`toon_tools.hooks.twins.examine`'s, the hooks' check mode.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from ..codec import Located, Range, ToonDecodeError, decode_located
from .positions import LineIndex

if TYPE_CHECKING:
    from ..config import Config
    from ..schema.validate import Schema

#: LSP's DiagnosticSeverity numbers.
ERROR, WARNING, INFORMATION, HINT = 1, 2, 3, 4
SOURCE = "toon"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem at a codec :class:`Range` (1-based, code points, end exclusive)."""

    range: Range
    severity: int
    code: str
    message: str
    source: str = SOURCE


def _first_line(index: LineIndex) -> Range:
    """Line 1, for what concerns the whole file (its schema, its twin)."""
    text = index.line_text(0)
    if text.startswith("\ufeff"):
        text = text[1:]
    return Range(1, 1, 1, max(len(text), 1) + 1)


# --------------------------------------------------------------- decoding


def decode_diagnostic(error: ToonDecodeError, index: LineIndex) -> Diagnostic:
    """A decode error from its line:col to the end of that line's content (at
    least one character, so that every editor draws it)."""
    line = max(error.line, 1)
    text = index.line_text(line - 1)
    if line == 1 and text.startswith("\ufeff"):
        text = text[1:]
    column = max(error.column, 1)
    end = len(text.rstrip()) + 1
    if end <= column:
        end = column + 1
    return Diagnostic(Range(line, column, line, end), ERROR, "decode", error.msg)


def decode(text: str, index: IndexSource, indent_size: int = 2, *, located: bool = True
           ) -> tuple[Any, Diagnostic | None]:
    """The located document (or with ``located=False`` the plain value, a third
    cheaper: diagnostics need positions only for what they report), or the
    strict decode error that stops it. Anything the codec refuses short of an
    error (a stack too deep for Python) is a diagnostic too: a document never
    takes the server down. ``index`` is asked for only when there is an error."""
    from ..codec import decode as decode_plain

    try:
        if located:
            return decode_located(text, indent_size=indent_size), None
        return decode_plain(text, indent_size=indent_size), None
    except ToonDecodeError as e:
        return None, decode_diagnostic(e, _index(index))
    except RecursionError:
        return None, Diagnostic(_first_line(_index(index)), ERROR, "decode",
                                "nested too deeply")
    except ValueError as e:  # lone surrogates and the like: no position to give
        return None, Diagnostic(_first_line(_index(index)), ERROR, "decode", str(e))


#: A line index, or what builds one when a diagnostic needs positions.
IndexSource = Union[LineIndex, Callable[[], LineIndex]]


def _index(source: IndexSource) -> LineIndex:
    return source if isinstance(source, LineIndex) else source()


# ---------------------------------------------------------------- schemas


def stamp(files: tuple[Path, ...]) -> tuple[object, ...]:
    """What tells whether any of ``files`` changed (appeared, went, was written)."""
    found: list[object] = []
    for f in files:
        try:
            st = os.stat(f)
            found.append((f, st.st_mtime_ns, st.st_size))
        except OSError:
            found.append((f, None))
    return tuple(found)


class SchemaCache:
    """Loaded schemas by file, reloaded when the file or a file its ``$ref``
    reach changes (an editor session outlives many schema edits)."""

    def __init__(self) -> None:
        self._loaded: dict[Path, tuple[tuple[object, ...], Schema]] = {}
        self._wanted: set[str] = set()  # every schema file asked for or reached
        self._lock = threading.Lock()

    def get(self, path: Path) -> Schema:
        """The schema in ``path``; SchemaError when it cannot be used."""
        from ..schema.validate import Schema

        with self._lock:
            self._wanted.add(os.path.abspath(path))
            held = self._loaded.get(path)
            if held is not None:
                old, schema = held
                if old == stamp((path, *schema.files)):
                    return schema
            schema = Schema.load(path)
            self._wanted.update(os.path.abspath(f) for f in schema.files)
            self._loaded[path] = (stamp((path, *schema.files)), schema)
            return schema

    def covers(self, path: str) -> bool:
        """Whether ``path`` is a schema file some document was checked against
        (or one it reaches by ``$ref``): a change to it is news for them."""
        with self._lock:
            return os.path.abspath(path) in self._wanted

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


def applicable_schema(path: str, text: str, cfg: Config) -> Path | None:
    """The schema that applies to the document (its ``# schema:`` first line,
    else ``[tool.toon.schemas]``), or None."""
    from ..schema.mapping import schema_of

    return schema_of(path, text[:4096].encode("utf-8", "surrogatepass"), cfg)


def schema_diagnostics(path: str, text: str,
                       located: Located | None | Callable[[], Located | None], cfg: Config,
                       schemas: SchemaCache, index: IndexSource, *,
                       value: Any = None) -> list[Diagnostic]:
    """Violations of the schema that applies to ``path`` (none applies: []). A
    schema that cannot be used is one diagnostic on line 1 naming it.
    ``located`` may be a function that makes the located decode: it is called
    only when ``value`` (the plain decode) breaks the schema."""
    from ..schema.validate import SchemaError

    schema_path = applicable_schema(path, text, cfg)
    if schema_path is None or located is None:
        return []
    try:
        schema = schemas.get(schema_path)
        if callable(located):
            if schema.is_valid(value):
                return []
            located = located()
            if located is None:
                return []
        found = schema.violations(located)
    except SchemaError as e:
        # the file at fault when it is another one (a $ref's target)
        named = e.path and os.path.abspath(str(e.path)) != os.path.abspath(schema_path)
        where = f"{e.path}: " if named and str(e.path) not in e.message else ""
        return [Diagnostic(_first_line(_index(index)), ERROR, "schema-unusable",
                           f"schema {schema_path} cannot be used: {where}{e.message}")]
    except RecursionError:
        return [Diagnostic(_first_line(_index(index)), ERROR, "schema-unusable",
                           f"schema {schema_path} cannot be used: nested too deeply")]
    return [Diagnostic(Range(v.line, v.column, v.end_line, v.end_column), ERROR,
                       v.rule or "schema", v.message) for v in found]


# ------------------------------------------------------------------ twins


def uses_twins(cfg: Config, path: str | None = None) -> bool:
    """Whether the project keeps Markdown twins: its configuration sets a
    ``twins.*`` key, or its pre-commit configuration runs a toon-twins hook.
    Only then is a missing twin, or someone else's file in its place, news.

    The pre-commit configuration is at the root of the repository: with a
    configuration file, its folder; without one (the hooks' defaults), the
    nearest ``.pre-commit-config.yaml`` from the document's folder up to its
    repository's root, never the folder the editor started the server in."""
    if any(key.startswith("twins.") and origin != "default"
           for key, origin in cfg.origins.items()):
        return True
    if cfg.file is not None or path is None:
        folders: list[Path] = [cfg.root]
    else:
        start = Path(os.path.dirname(os.path.abspath(path)))
        folders = []
        for folder in (start, *start.parents):
            folders.append(folder)
            if os.path.exists(folder / ".git"):
                break
    for folder in folders:
        try:
            with open(folder / ".pre-commit-config.yaml", "rb") as fh:
                return b"toon-twins" in fh.read(1 << 20)
        except OSError:
            continue
    return False


@dataclass(frozen=True, slots=True)
class TwinState:
    """The twin of a saved document: ``state`` is examine()'s ("current",
    "missing", "stale", "conflict", "invalid", "unreadable")."""

    source: str
    twin: str
    state: str
    message: str = ""


def twin_state(path: str, cfg: Config) -> TwinState:
    """The twin of the file ``path`` as it is on disk (call it once the editor
    has saved), by the hooks' own rules."""
    from ..hooks.twins import examine, twin_path

    twin = str(twin_path(Path(path), cfg))
    result = examine((path, twin))
    message = result.problem.message if result.problem is not None else ""
    return TwinState(path, twin, result.state, message)


def twin_reported(state: TwinState, cfg: Config) -> bool:
    """Whether the twin's state is news: a stale twin always; a missing twin or a
    conflicting file only in a project that keeps twins (:func:`uses_twins`)."""
    if state.state == "stale":
        return True
    return state.state in ("missing", "conflict") and uses_twins(cfg, state.source)


def twin_name(state: TwinState, cfg: Config) -> str:
    """The twin as a user finds it: its file name beside its source; in a
    mirror folder, its path from the project's root (the file name alone
    would point at whatever sits beside the source)."""
    twin = os.path.abspath(state.twin)
    if os.path.dirname(twin) == os.path.dirname(os.path.abspath(state.source)):
        return os.path.basename(twin)
    rel = os.path.relpath(twin, os.path.abspath(cfg.root))
    return twin if rel.startswith("..") else Path(rel).as_posix()


def twin_diagnostics(state: TwinState, cfg: Config, index: LineIndex) -> list[Diagnostic]:
    """The twin's state where it is news (:func:`twin_reported`). Warnings: the
    data itself is fine."""
    if not twin_reported(state, cfg):
        return []
    where = _first_line(index)
    shown = twin_name(state, cfg)
    if state.state == "stale":
        return [Diagnostic(where, WARNING, "twin-stale",
                           f"the Markdown twin {shown} is stale; run toon twins "
                           "or the 'Regenerate the Markdown twin' code action")]
    if state.state == "missing":
        return [Diagnostic(where, WARNING, "twin-missing",
                           f"the Markdown twin {shown} is missing; run toon twins "
                           "or the 'Regenerate the Markdown twin' code action")]
    return [Diagnostic(where, WARNING, "twin-conflict", f"{shown} {state.message}")]


def config_diagnostic(message: str, index: LineIndex) -> Diagnostic:
    """A configuration that cannot be read: said once per document, on line 1
    (the defaults apply meanwhile)."""
    return Diagnostic(_first_line(index), WARNING, "config",
                      f"configuration not used (defaults apply): {message}")
