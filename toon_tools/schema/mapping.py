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
    """The path a ``# schema: path`` first line names (as written), or None. A
    UTF-8 byte order mark before it is not part of the line (editors on Windows
    write one, and decoding drops it too)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
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
    A schema that cannot be loaded is made of itself and the files its ``$ref``
    tried to reach (a deleted one among them); its users, once checked, report
    why."""
    from .validate import Schema, SchemaError

    try:
        loaded = Schema.load(schema, read=read)
    except SchemaError as e:
        return {_norm(schema), *(_norm(p) for p in e.files)}
    return {_norm(schema), *(_norm(p) for p in loaded.files)}


# ------------------------------------------- which changed files can be schemas

#: The configuration files whose ``schemas`` table maps files to schemas.
CONFIG_NAMES = frozenset({"pyproject.toml", ".toon.toml"})

#: JSON Schema's type names: ``type: object`` is a schema's, ``type: admin`` data's.
_TYPES = frozenset({"null", "boolean", "object", "array", "number", "string", "integer"})
_NUMERIC = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
                      "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
                      "minProperties", "maxProperties", "minContains", "maxContains"})
_REFS = frozenset({"$ref", "$dynamicRef", "$recursiveRef"})
#: Subschema keywords whose value ``false`` (or, for ``not`` and ``contains``, any
#: schema but ``not: false``: ``not: {}`` and ``not: true`` refuse everything,
#: ``contains: true`` wants an item) asserts.
_FALSE_ASSERTS = frozenset({"additionalProperties", "unevaluatedProperties",
                            "unevaluatedItems", "items", "additionalItems",
                            "propertyNames", "contains", "not", "then", "else"})
#: Keywords whose value is a list of subschemas: a ``false`` among them asserts.
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
#: Keywords whose value maps names to subschemas: a ``false`` among them asserts
#: (``properties: {x: false}`` refuses the key x; a false ``$defs`` entry is one
#: a ``$ref`` may reach).
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas",
                          "dependencies", "$defs", "definitions"})


def is_config_name(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is named like a file ``[tool.toon]`` settings live in."""
    return os.path.basename(path) in CONFIG_NAMES


def table_schemas(cfg: Config) -> set[Path]:
    """The schema files ``[tool.toon.schemas]`` names, absolute and normalised."""
    root = os.path.abspath(cfg.root)
    return {_norm(Path(root, os.path.expanduser(v))) for v in cfg["schemas"].values()}


#: A changed file longer than this is taken for a possible schema without being
#: decoded: its users are looked for (a walk that reads first lines only).
#: Schemas are small, and deciding would hold a large data file whole in memory,
#: where ``toon check`` otherwise validates it as it reads. Callers may pass only
#: the first ``SCHEMA_SCAN_BYTES + 1`` bytes of a file.
SCHEMA_SCAN_BYTES = 1024 * 1024


def may_be_schema(path: str | os.PathLike[str], data: bytes, cfg: Config) -> bool:
    """Whether a changed ``.json`` or ``.toon`` file can make another file fail
    as (part of) its schema, so that its users must be looked for (which walks
    the project). Cheap: it reads only this file. True for a schema the
    ``[tool.toon.schemas]`` table names; for any other file, when its content
    could assert something: it is not a valid document (a broken schema must
    stop its users), it is ``false``, or somewhere in it stands an asserting
    keyword with a value of the keyword's shape (``type: object``,
    ``required[1]: id``, ``minimum: 0``, ``$ref: x.json``,
    ``additionalProperties: false``...). A document with none of these accepts
    everything wherever it is used, so no user of it can fail: data files
    (package.json, a table of users) are passed over without a walk. A file
    over :data:`SCHEMA_SCAN_BYTES` is not read: it may be a schema."""
    name = os.fspath(path)
    if not name.endswith((".json", ".toon")):
        return False
    if _norm(Path(name)) in table_schemas(cfg) or len(data) > SCHEMA_SCAN_BYTES:
        return True
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if name.endswith(".json"):
            from ..convert.json_toon import read_json

            value = read_json(data, name)
        else:
            from ..codec import decode

            value = decode(data)
    except Exception:
        # Any failure to read it (not JSON or TOON, not UTF-8, nested too deep):
        # it may be a broken schema, which its users must report.
        return True
    return value is False or _asserts(value)


def _asserts(value: object) -> bool:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if _asserting(key, child):
                    return True
                if isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(node, list):
            stack.extend(c for c in node if isinstance(c, (dict, list)))
    return False


def _asserting(key: str, value: object) -> bool:
    """Whether ``key: value`` is an asserting JSON Schema keyword (drafts 7 and
    2020-12) with a value of its shape. A ``false`` subschema asserts wherever a
    subschema keyword holds it (directly, in its list or in its map)."""
    if key in _SCHEMA_LISTS and isinstance(value, list) and any(v is False for v in value):
        return True
    if key in _SCHEMA_MAPS and isinstance(value, dict) and \
            any(v is False for v in value.values()):
        return True
    if key == "type":
        return (value in _TYPES if isinstance(value, str) else
                isinstance(value, list) and bool(value) and all(v in _TYPES for v in value))
    if key in _NUMERIC:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if key in _REFS or key == "pattern":
        return isinstance(value, str)
    if key == "required":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if key == "enum":
        return isinstance(value, list)
    if key == "const":
        return True
    if key == "uniqueItems":
        return value is True
    if key in ("dependentRequired", "dependencies"):
        return isinstance(value, dict) and any(isinstance(v, (list, dict))
                                               for v in value.values())
    if key in _FALSE_ASSERTS:
        if key in ("not", "contains"):
            return value is not False and isinstance(value, (bool, dict))
        return value is False
    return False


def mapped_by_table(candidates: Iterable[tuple[str, bytes]], cfg: Config) -> list[str]:
    """The candidates (path, first bytes) whose schema the ``[tool.toon.schemas]``
    table gives (no ``# schema:`` first line of their own): what a change to
    the table may change."""
    return [path for path, head in candidates
            if named_schema(head) is None and cfg.schema_for(path) is not None]


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


def rechecked(changed: Iterable[tuple[str | os.PathLike[str], bytes]],
              deleted: Iterable[str | os.PathLike[str]], config_changed: bool, cfg: Config,
              candidates: Callable[[], list[tuple[str, bytes]]],
              read: Callable[[Path], bytes] | None = None) -> list[str] | None:
    """The TOON files that a commit's other changes may break, the one rule of
    both hook routes (and of ``toon check`` naming files): the users of a
    ``changed`` file (path, content) that can be a schema or that a schema
    reaches by ``$ref``; of a ``deleted`` one; and every file the table maps
    when the configuration changed. ``candidates`` lists the project's TOON files with their first
    bytes; it is asked only when something calls for it, and None is returned
    when nothing did (no walk done). ``read`` reads schemas as the commit holds
    them."""
    schemas: list[str | os.PathLike[str]] = [
        p for p, data in changed if not is_config_name(p) and may_be_schema(p, data, cfg)]
    schemas += [p for p in deleted if os.fspath(p).endswith((".json", ".toon"))]
    # A table schema missing before this change breaks only its users, which say
    # so when they are checked: no walk for it (a new mapping to a missing file
    # is a changed configuration, which re-checks every mapped file).
    if not schemas and not config_changed:
        return None
    listed = candidates()
    found = users(schemas, listed, cfg, read=read)
    if config_changed:
        found += mapped_by_table(listed, cfg)
    return found


def _norm(path: Path) -> Path:
    return Path(os.path.normpath(os.path.abspath(path)))
