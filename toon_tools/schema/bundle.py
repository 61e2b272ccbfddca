"""One self-contained schema from a schema and the sibling files its ``$ref``
reach (issue 13, item 5): what a skeleton shows, what a ``json-schema`` request
sends (OpenAI's strict mode resolves only local refs), what ``toon-grammar``
and the offline example are built from. Validation does not need it (the
validator resolves files itself), but gets the same answers from it.

Each sibling document reached goes into the root's ``$defs`` under its file's
stem (``place.json`` -> ``#/$defs/place``); its own ``$defs``/``definitions``
are hoisted beside it (``#/$defs/place.City``), so that every reference left is
a short local one (``#/$defs/NAME``, the form pydantic writes and strict mode
takes). A reference back to the root document becomes ``#...``; references in
a cycle of files are therefore local refs in a cycle, which every consumer
bounds as it bounds a recursive ``#/$defs`` schema.

Files are found as :mod:`.validate` finds them: relative to the referring
file, a ``file:`` URI, or under the root ``$id``'s folder. Call it on a schema
that :class:`~.validate.Schema` has loaded, so that every file is known to be
there and valid; a reference it still cannot follow is a SchemaError naming it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from .validate import SchemaError, read_document

#: Keywords whose values are data, not subschemas: a ``$ref`` inside one is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
#: Keywords whose values map names to subschemas (a key named ``$ref`` there is a name).
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                            "dependentSchemas"})
_DEFS = ("$defs", "definitions")


def bundle(schema: Mapping[str, Any] | bool, base: Path | None) -> Any:
    """``schema`` with every ``$ref`` to another file replaced by a local one into
    the copy of that file placed in ``$defs``. ``base`` is the schema's file, or
    the folder an inline schema stands in. A schema with no such ref comes back
    unchanged (the same object)."""
    if not isinstance(schema, Mapping) or not _has_file_ref(schema):
        return schema
    return _Bundler(schema, base).run()


def _has_file_ref(node: Any) -> bool:
    if isinstance(node, Mapping):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            return True
        return any(_has_file_ref(v) for k, v in node.items() if k not in _DATA_KEYWORDS)
    if isinstance(node, list):
        return any(_has_file_ref(v) for v in node)
    return False


class _Bundler:
    def __init__(self, root: Mapping[str, Any], base: Path | None) -> None:
        self.root = dict(root)
        self.root_file = None if base is None or base.is_dir() else base.resolve()
        self.folder = None if base is None else (base if base.is_dir() else base.parent)
        root_id = root.get("$id")
        self.root_id = root_id if isinstance(root_id, str) else ""
        defs = self.root.get("$defs")
        self.defs: dict[str, Any] = dict(defs) if isinstance(defs, Mapping) else {}
        # Per sibling file: its name in $defs and the names its own defs were hoisted to.
        self.placed: dict[Path, tuple[str, dict[str, str]]] = {}
        self.pending: list[tuple[Path, Any]] = []

    def run(self) -> dict[str, Any]:
        root_uri = self.root_file.as_uri() if self.root_file else \
            (self.folder.resolve().as_uri() + "/" if self.folder else "")
        out: dict[str, Any] = self.rewrite(self.root, root_uri, None)
        while self.pending:
            path, contents = self.pending.pop(0)
            name, hoisted = self.placed[path]
            uri = path.as_uri()
            body = {k: v for k, v in contents.items()
                    if k not in _DEFS and k not in ("$id", "$schema")} \
                if isinstance(contents, Mapping) else contents
            self.defs[name] = self.rewrite(body, uri, path)
            for section in _DEFS:
                inner = contents.get(section) if isinstance(contents, Mapping) else None
                if isinstance(inner, Mapping):
                    for key, sub in inner.items():
                        self.defs[hoisted[f"{section}/{key}"]] = self.rewrite(sub, uri, path)
        out["$defs"] = self.defs
        return out

    def rewrite(self, node: Any, uri: str, doc: Path | None) -> Any:
        """A copy of ``node`` (part of the document at ``uri``; ``doc`` None for the
        root) with every reference made local to the bundle."""
        if isinstance(node, list):
            return [self.rewrite(v, uri, doc) for v in node]
        if not isinstance(node, Mapping):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                out[key] = self.local(value, uri, doc)
            elif key in _DATA_KEYWORDS:
                out[key] = copy.deepcopy(value)
            elif key in _NAMED_SCHEMAS and isinstance(value, Mapping):
                out[key] = {k: self.rewrite(v, uri, doc) for k, v in value.items()}
            else:
                out[key] = self.rewrite(value, uri, doc)
        return out

    def local(self, ref: str, uri: str, doc: Path | None) -> str:
        document, _, fragment = ref.partition("#")
        if not document:
            target = doc
        else:
            target = self.path_of(urljoin(uri, document) if uri else document, ref)
            if target == self.root_file:
                target = None
        if target is None:
            return "#" + fragment
        name, hoisted = self.place(target, ref)
        tokens = fragment.split("/")[1:] if fragment.startswith("/") else []
        if fragment and not fragment.startswith("/"):
            raise SchemaError(f"cannot bundle $ref {ref!r}: an anchor in another file is not "
                              "followed here")
        if len(tokens) >= 2 and f"{tokens[0]}/{tokens[1]}" in hoisted:
            return "#/$defs/" + _escape(hoisted[f"{tokens[0]}/{tokens[1]}"]) + \
                "".join("/" + t for t in tokens[2:])
        return "#/$defs/" + _escape(name) + "".join("/" + t for t in tokens)

    def path_of(self, target: str, ref: str) -> Path:
        parts = urlsplit(target)
        path: Path | None = None
        if parts.scheme == "file":
            path = Path(unquote(parts.path))
        elif parts.scheme == "" and not parts.netloc and self.folder is not None:
            path = self.folder / unquote(parts.path)
        elif self.root_id and self.folder is not None:
            root_dir = urljoin(self.root_id, ".")
            if target.startswith(root_dir) and root_dir.count("/") > 2:
                path = self.folder / unquote(urlsplit(target[len(root_dir):]).path)
        if path is None:
            raise SchemaError(f"cannot resolve $ref {ref!r}: not a file beside the schema")
        return path.resolve()

    def place(self, path: Path, ref: str) -> tuple[str, dict[str, str]]:
        if path in self.placed:
            return self.placed[path]
        contents = read_document(path, str(path))
        name = self.fresh(path.stem or "schema")
        hoisted: dict[str, str] = {}
        self.placed[path] = (name, hoisted)
        for section in _DEFS:
            inner = contents.get(section) if isinstance(contents, Mapping) else None
            if isinstance(inner, Mapping):
                for key in inner:
                    hoisted[f"{section}/{key}"] = self.fresh(f"{name}.{key}")
        self.pending.append((path, contents))
        return name, hoisted

    def fresh(self, wanted: str) -> str:
        taken = set(self.defs) | {n for n, _ in self.placed.values()} | {
            h for _, hs in self.placed.values() for h in hs.values()}
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted}_{n}", n + 1
        self.defs.setdefault(name, None)  # reserved until its content is written
        return name


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


