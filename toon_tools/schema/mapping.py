"""Which schema applies to which TOON file, the same on every route (``toon check``,
the pre-commit framework's toon-check, the standalone hook), and which files a
changed schema brings back in.

A file's schema is, from the strongest: ``--schema`` on the command line; a
``# schema: path`` comment as the file's first line (relative to the file: the
file speaks for itself, like a YAML language-server modeline); the last matching
pattern of ``[tool.toon.schemas]`` (relative to the config file's folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config import Config

#: ``# schema: path`` as a TOON comment line (§5.1: only spaces before the "#").
_SCHEMA_LINE = re.compile(rb"[ ]*#[ \t]*schema:[ \t]*(\S(?:.*\S)?)[ \t]*")
#: Enough of a file to hold its first line.
FIRST_LINE_BYTES = 4096


def named_schema(data: bytes) -> str | None:
    """The path a ``# schema: path`` first line names (as written), or None."""
    first = data[:FIRST_LINE_BYTES].split(b"\n", 1)[0].rstrip(b"\r")
    m = _SCHEMA_LINE.fullmatch(first)
    if m is None:
        return None
    return m.group(1).decode("utf-8", "surrogateescape")


def schema_of(path: str, data: bytes, cfg: Config) -> Path | None:
    """The schema that applies to the TOON file ``path`` holding ``data`` (absolute
    or relative to the working folder), without ``--schema``; None if none does."""
    named = named_schema(data)
    if named is not None:
        return Path(os.path.dirname(os.path.abspath(path)), os.path.expanduser(named))
    return cfg.schema_for(path)


def read_head(path: str) -> bytes:
    """The start of a file (its first line), or b"" if it cannot be read."""
    try:
        with open(path, "rb") as fh:
            return fh.read(FIRST_LINE_BYTES)
    except OSError:
        return b""


def schema_files(schema: Path, read: Callable[[Path], bytes] | None = None) -> set[Path]:
    """The files a schema is made of: itself and every file its ``$ref`` reach.
    A schema that cannot be loaded is made of itself (its users, once checked,
    report why)."""
    from .validate import Schema, SchemaError

    try:
        loaded = Schema.load(schema, read=read)
    except SchemaError:
        return {_norm(schema)}
    return {_norm(schema), *(_norm(p) for p in loaded.files)}


def users(changed: Iterable[str | os.PathLike[str]],
          candidates: Iterable[tuple[str, bytes]], cfg: Config,
          read: Callable[[Path], bytes] | None = None) -> list[str]:
    """The candidates (path, first bytes) whose schema is, or reaches by ``$ref``,
    one of the ``changed`` files: what a changed schema must re-check."""
    changed_set = {_norm(Path(p)) for p in changed}
    if not changed_set:
        return []
    made_of: dict[Path, set[Path]] = {}
    found: list[str] = []
    for path, head in candidates:
        schema = schema_of(path, head, cfg)
        if schema is None:
            continue
        key = _norm(schema)
        if key not in made_of:
            made_of[key] = schema_files(schema, read)
        if made_of[key] & changed_set:
            found.append(path)
    return found


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))
