"""One self-contained schema from a schema and the sibling files its ``$ref``
reach (issue 13, item 5): what a skeleton shows, what a ``json-schema`` request
sends (OpenAI's strict mode resolves only local refs), what ``toon-grammar``
and the offline example are built from. Validation does not need it (the
validator resolves files itself), but gets the same answers from it.

Each sibling document reached goes into the root's ``$defs`` under its file's
stem (``place.json`` -> ``#/$defs/place``); its own ``$defs``/``definitions``
are hoisted beside it (``#/$defs/place.City``), so that every reference left is
a short local JSON pointer (``#/$defs/NAME``, the form pydantic writes and
strict mode takes). A reference back to the root document becomes ``#...``;
references in a cycle of files are therefore local refs in a cycle, which every
consumer bounds as it bounds a recursive ``#/$defs`` schema.

References are resolved as the validator resolves them (draft 2020-12 §8.2,
§9): against the base URI that ``$id`` sets, fragments unescaped (``~1``,
``~0``, ``%20``), an anchor (``#city``, ``$anchor``/``$dynamicAnchor``, a
draft-7 ``"$id": "#city"``) looked up in its resource. Since the bundle is one
resource, every reference becomes a pointer and nested ``$id`` and ``$anchor``
are dropped. A draft-7 file reached from a 2020-12 schema is converted (a
``$ref`` alone, ``items`` array -> ``prefixItems``, ``additionalItems`` ->
``items``, ``definitions`` -> ``$defs``, ``dependencies`` split). What cannot be
bundled faithfully (another draft mixed in, a dynamic anchor made ambiguous, a
pointer to no schema) is a SchemaError naming the reference, never a bundle
that judges differently.

Files are found as :mod:`.validate` finds them: relative to the referring
file, a ``file:`` URI, or under the root ``$id``'s folder. Call it on a schema
that :class:`~.validate.Schema` has loaded, so that every file is known to be
there and valid; a reference it still cannot follow is a SchemaError naming it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urldefrag, urljoin, urlsplit

from .validate import SchemaError, read_document

#: Keywords whose values are data, not subschemas: a ``$ref`` inside one is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples", "dependentRequired"})
#: Keywords whose values map names to subschemas (a key named ``$ref`` there is a name).
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                            "dependentSchemas", "dependencies"})
_DEFS = ("$defs", "definitions")
_DRAFT_2020 = "json-schema.org/draft/2020-12/schema"
_DRAFT_7 = "json-schema.org/draft-07/schema"
#: Drafts in which "$ref" makes its siblings ignored (and "$id": "#name" is an anchor).
_REF_ALONE = frozenset({_DRAFT_7, "json-schema.org/draft-06/schema",
                        "json-schema.org/draft-04/schema", "json-schema.org/draft-03/schema"})
#: Dropped from every copy: the bundle is one resource, every reference a pointer.
_RESOURCE_KEYWORDS = frozenset({"$id", "$anchor"})
#: Characters a pointer token keeps as they are in a URI fragment (RFC 3986 §3.5).
_FRAGMENT_SAFE = "!$&'()*+,;=:@-._~"


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


def _dialect(schema: Any, default: str) -> str:
    """The draft ``$schema`` names, without scheme and trailing ``#``."""
    named = schema.get("$schema") if isinstance(schema, Mapping) else None
    if not isinstance(named, str):
        return default
    return named.split("://", 1)[-1].rstrip("#")


@dataclass
class _Doc:
    """One document in the bundle: the root (``path`` None) or a sibling file."""

    path: Path | None
    contents: Any
    base: str  # its base URI (its file's, or its own $id)
    #: Up to draft 7 a ``$ref`` makes its siblings ignored; converted to 2020-12
    #: when the root is 2020-12 (``convert``).
    legacy: bool
    convert: bool = False
    name: str = ""  # its name in the bundle's $defs (siblings)
    hoisted: dict[tuple[str, str], str] = field(default_factory=dict)
    via: str = ""  # the first reference that reached it, for messages


class _Bundler:
    def __init__(self, root: Mapping[str, Any], base: Path | None) -> None:
        self.root = dict(root)
        self.root_file = None if base is None or base.is_dir() else base.resolve()
        self.folder = None if base is None else (base if base.is_dir() else base.parent)
        root_id = root.get("$id")
        self.root_id = root_id if isinstance(root_id, str) else ""
        self.dialect = _dialect(root, _DRAFT_2020)
        defs = self.root.get("$defs")
        # The root's own names first, so sibling names avoid them; their
        # contents are the rewritten ones, filled in by run().
        self.defs: dict[str, Any] = dict(defs) if isinstance(defs, Mapping) else {}
        self.docs: dict[Path, _Doc] = {}
        self.pending: list[_Doc] = []
        #: Absolute URI of every resource (a document, an embedded $id) -> where.
        self.resources: dict[str, tuple[_Doc, tuple[str, ...]]] = {}
        #: (resource URI, anchor name) -> where the anchor is.
        self.anchors: dict[tuple[str, str], tuple[_Doc, tuple[str, ...]]] = {}
        #: Each local reference written -> the reference it stands for (for errors).
        self.written: dict[str, str] = {}
        self.dynamic: dict[str, str] = {}  # $dynamicAnchor name -> the first to bring it

        file_uri = self.root_file.as_uri() if self.root_file else \
            (self.folder.resolve().as_uri() + "/" if self.folder else "")
        root_base = urljoin(file_uri, self.root_id) if file_uri else self.root_id
        self.top = _Doc(None, self.root, urldefrag(root_base)[0],
                        legacy=self.dialect in _REF_ALONE)
        for uri in (file_uri, self.top.base):
            if uri:
                self.resources[uri] = (self.top, ())
        self.index(self.top)

    def run(self) -> dict[str, Any]:
        out: dict[str, Any] = self.rewrite(self.root, self.top, self.top.base, "the schema")
        if isinstance(out.get("$defs"), Mapping):
            self.defs.update(out["$defs"])  # keeps the root's order; bug 4 of review 2
        while self.pending:
            doc = self.pending.pop(0)
            contents = doc.contents
            label = f"{doc.path.name if doc.path else 'the schema'} (reached by $ref " \
                f"{doc.via!r})"
            body = {k: v for k, v in contents.items() if k not in _DEFS and k != "$schema"} \
                if isinstance(contents, Mapping) else contents
            self.defs[doc.name] = self.rewrite(body, doc, doc.base, label)
            for (section, key), hoisted in doc.hoisted.items():
                self.defs[hoisted] = self.rewrite(contents[section][key], doc, doc.base, label)
        out["$defs"] = self.defs
        self.verify(out)
        return out

    # ------------------------------------------------------------ indexing

    def index(self, doc: _Doc) -> None:
        """Record the resources (``$id``) and anchors of ``doc`` with their places."""
        stack: list[tuple[Any, str, tuple[str, ...]]] = [(doc.contents, doc.base, ())]
        while stack:
            node, base, tokens = stack.pop()
            if isinstance(node, list):
                stack.extend((v, base, (*tokens, str(i))) for i, v in enumerate(node))
                continue
            if not isinstance(node, Mapping):
                continue
            base = self.scope(node, doc, base, tokens)
            for key in ("$anchor", "$dynamicAnchor"):
                if isinstance(node.get(key), str):
                    self.anchors.setdefault((base, node[key]), (doc, tokens))
            for key, value in node.items():
                if key in _DATA_KEYWORDS:
                    continue
                if key in _NAMED_SCHEMAS and isinstance(value, Mapping):
                    stack.extend((v, base, (*tokens, key, str(k))) for k, v in value.items())
                else:
                    stack.append((value, base, (*tokens, key)))

    def scope(self, node: Mapping[str, Any], doc: _Doc, base: str,
              tokens: tuple[str, ...] | None) -> str:
        """The base URI inside ``node``; ``tokens`` given: record the resource or
        (draft 7, ``"$id": "#name"``) the anchor it declares."""
        node_id = node.get("$id")
        if not isinstance(node_id, str) or (doc.legacy and "$ref" in node):
            return base
        if node_id.startswith("#"):
            if tokens is not None and doc.legacy:
                self.anchors.setdefault((base, node_id[1:]), (doc, tokens))
            return base
        uri, fragment = urldefrag(urljoin(base, node_id) if base else node_id)
        if tokens is not None:
            self.resources.setdefault(uri, (doc, tokens))
            if fragment and doc.legacy:
                self.anchors.setdefault((uri, fragment), (doc, tokens))
        return uri

    # ----------------------------------------------------------- rewriting

    def rewrite(self, node: Any, doc: _Doc, base: str, label: str) -> Any:
        """A copy of ``node`` (part of ``doc``, under base URI ``base``) with every
        reference a local pointer into the bundle."""
        if isinstance(node, list):
            return [self.rewrite(v, doc, base, label) for v in node]
        if not isinstance(node, Mapping):
            return node
        base = self.scope(node, doc, base, None)
        items = list(node.items())
        if doc.convert:
            items = _draft7_to_2020(node)
        out: dict[str, Any] = {}
        for key, value in items:
            if (key in _RESOURCE_KEYWORDS and node is not self.root) or \
                    (key == "$schema" and doc.path is not None):
                continue  # the root's own $id stays: it is the bundle's base
            if key == "$ref" and isinstance(value, str):
                out[key] = self.local(value, base, label)
            elif key == "$dynamicRef" and isinstance(value, str) and not value.startswith("#"):
                raise SchemaError(f"cannot bundle $dynamicRef {value!r} (in {label}): "
                                  "a dynamic reference into another file")
            elif key in _DATA_KEYWORDS:
                out[key] = copy.deepcopy(value)
            elif key in _NAMED_SCHEMAS and isinstance(value, Mapping):
                out[key] = {k: self.rewrite(v, doc, base, label) for k, v in value.items()}
            else:
                out[key] = self.rewrite(value, doc, base, label)
        anchor = out.get("$dynamicAnchor")
        if isinstance(anchor, str):
            # The bundle is one resource: the same dynamic anchor twice in it would
            # make a $dynamicRef land on either.
            first = self.dynamic.get(anchor)
            if first is not None:
                raise SchemaError(f"cannot bundle {label}: its $dynamicAnchor {anchor!r} is "
                                  f"also in {first}, and a dynamic anchor must be unique in "
                                  "the one resource the bundle is")
            self.dynamic[anchor] = label
        return out

    def local(self, ref: str, base: str, label: str) -> str:
        """The local pointer for ``ref``, written under base URI ``base``."""
        target = urljoin(base, ref) if base else ref
        uri, fragment = urldefrag(target)
        if ref.startswith("#") and not base:
            uri = ""
        known = self.resources.get(uri)
        if known is not None:
            doc, prefix = known
            resource = uri if prefix else doc.base  # a document's anchors are under its base
        else:
            path = self.path_of(uri, ref)
            doc = self.top if path == self.root_file else self.place(path, ref)
            prefix, resource = (), doc.base
        if not fragment:
            tokens = prefix
        elif fragment.startswith("/"):
            tokens = prefix + tuple(t.replace("~1", "/").replace("~0", "~")
                                    for t in unquote(fragment).split("/")[1:])
        else:
            found = self.anchors.get((resource, unquote(fragment)))
            if found is None:
                raise SchemaError(f"cannot bundle $ref {ref!r} (in {label}): no anchor "
                                  f"{unquote(fragment)!r} there")
            doc, tokens = found
        local = self.pointer(doc, tokens, ref, label)
        self.written.setdefault(local, ref)
        return local

    def pointer(self, doc: _Doc, tokens: tuple[str, ...], ref: str, label: str) -> str:
        """Where ``tokens`` of ``doc`` stand in the bundle, as a local reference."""
        if doc.path is None:
            return "#" + "".join("/" + _escape(t) for t in tokens)
        out = ["$defs", doc.name]
        node = doc.contents
        rest = list(tokens)
        if len(rest) >= 2 and (rest[0], rest[1]) in doc.hoisted:
            out = ["$defs", doc.hoisted[(rest[0], rest[1])]]
            node = node[rest[0]][rest[1]]
            rest = rest[2:]
        elif rest and rest[0] in _DEFS:
            raise SchemaError(f"cannot bundle $ref {ref!r} (in {label}): it names "
                              f"{rest[0]} itself, not a schema in it")
        for token in rest:
            written: str | None = token
            if doc.convert and isinstance(node, Mapping):
                written = _draft7_key(node, token)
                if written is None:
                    raise SchemaError(f"cannot bundle $ref {ref!r} (in {label}): draft 7 "
                                      "ignores what it points at")
            out.append(written or token)
            if isinstance(node, Mapping):
                node = node.get(token)
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                node = None
        return "#" + "".join("/" + _escape(t) for t in out)

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

    def place(self, path: Path, ref: str) -> _Doc:
        if path in self.docs:
            return self.docs[path]
        contents = read_document(path, str(path))
        dialect = _dialect(contents, self.dialect)
        convert = dialect == _DRAFT_7 and self.dialect == _DRAFT_2020
        if dialect != self.dialect and not convert:
            raise SchemaError(f"cannot bundle $ref {ref!r}: {path.name} is {_draft(dialect)} "
                              f"and the schema {_draft(self.dialect)}; only a draft-07 file "
                              "is converted, into a 2020-12 schema")
        file_uri = path.as_uri()
        own = contents.get("$id") if isinstance(contents, Mapping) else None
        base = urldefrag(urljoin(file_uri, own))[0] if isinstance(own, str) else file_uri
        doc = _Doc(path, contents, base, legacy=dialect in _REF_ALONE, convert=convert,
                   name=self.fresh(path.stem or "schema"), via=ref)
        self.docs[path] = doc
        for section in _DEFS:
            inner = contents.get(section) if isinstance(contents, Mapping) else None
            if isinstance(inner, Mapping):
                for key in inner:
                    doc.hoisted[(section, str(key))] = self.fresh(f"{doc.name}.{key}")
        for uri in (file_uri, base):
            self.resources.setdefault(uri, (doc, ()))
        self.index(doc)
        self.pending.append(doc)
        return doc

    def fresh(self, wanted: str) -> str:
        name, n = wanted, 2
        while name in self.defs:
            name, n = f"{wanted}_{n}", n + 1
        self.defs[name] = None  # reserved until its content is written
        return name

    def verify(self, bundled: dict[str, Any]) -> None:
        """Every reference written points at a schema in the bundle: a pointer
        that would dangle is refused naming the reference it came from."""
        for local, ref in self.written.items():
            node: Any = bundled
            for raw in local[2:].split("/") if local != "#" else []:
                token = unquote(raw).replace("~1", "/").replace("~0", "~")
                if isinstance(node, Mapping) and token in node:
                    node = node[token]
                elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                    node = node[int(token)]
                else:
                    node = None
                    break
            if not isinstance(node, (Mapping, bool)):
                raise SchemaError(f"cannot bundle $ref {ref!r}: it does not point at a "
                                  "schema once the files are one")


def _draft7_key(node: Mapping[str, Any], key: str) -> str | None:
    """What a draft-7 keyword of ``node`` is called in 2020-12, or None when draft 7
    ignores it (a sibling of ``$ref``)."""
    if "$ref" in node and key not in ("$ref", *_DEFS):
        return None
    if key == "definitions":
        return "$defs"
    if isinstance(node.get("items"), list):
        if key == "items":
            return "prefixItems"
        if key == "additionalItems":
            return "items"
    elif key == "additionalItems":
        return None  # ignored unless items is an array
    if key == "dependencies":
        return "dependencies"  # split by _draft7_to_2020; a pointer into it is refused
    return key


def _draft7_to_2020(node: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The keywords of a draft-7 schema object as 2020-12 spells them."""
    out: list[tuple[str, Any]] = []
    for key, value in node.items():
        new = _draft7_key(node, key)
        if new is None:
            continue
        if new == "dependencies" and isinstance(value, Mapping):
            required = {k: v for k, v in value.items() if isinstance(v, list)}
            schemas = {k: v for k, v in value.items() if not isinstance(v, list)}
            if required:
                out.append(("dependentRequired", required))
            if schemas:
                out.append(("dependentSchemas", schemas))
            continue
        out.append((new, value))
    return out


def _draft(dialect: str) -> str:
    if dialect == _DRAFT_2020:
        return "draft 2020-12"
    if dialect == _DRAFT_7:
        return "draft-07"
    return dialect


def _escape(token: str) -> str:
    """A JSON pointer token as a URI fragment writes it (RFC 6901 §5-6)."""
    return quote(token.replace("~", "~0").replace("/", "~1"), safe=_FRAGMENT_SAFE)
