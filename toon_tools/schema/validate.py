r"""JSON Schema for TOON files: loading a schema (a JSON or a TOON file, ``$ref``
to sibling files resolved offline) and validating decoded documents, with every
problem placed at its line:col in the TOON text.

The verdict is jsonschema-rs's (draft 2020-12 or draft 7, chosen by ``$schema``;
2020-12 when there is none): it follows the specification where Python's
jsonschema cannot (``pattern`` is an ECMA-262 regex, so ``\d`` is ASCII and
``\p{L}`` works; ``multipleOf: 0.01`` holds for 19.99). jsonschema words the
problems it finds: each one jsonschema also finds (the same instance path and
keyword) is told in jsonschema's words, any other in jsonschema-rs's, and a
problem only jsonschema sees is not one. Without jsonschema-rs, jsonschema
alone decides. This module only loads, resolves and positions; both libraries
are imported when a schema is first loaded, never at import time.

What is asserted is what the drafts assert: ``format`` is an annotation (as in
draft 2020-12's format-annotation vocabulary and draft 7's default), remote
``$ref`` (http/https) are never fetched, and a ``$ref`` that cannot be resolved
is an error in the schema (exit 2), not a finding in the file.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

from ..errors import ToolError
from .violation import Violation

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator
    from referencing import Registry, Resource

    from ..codec import Located

#: Keywords whose values are data, not subschemas: a ``$ref`` inside one is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
#: Keywords whose values map names to subschemas (a key named ``$ref`` there is a name).
_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions",
                            "dependentSchemas"})
_REF_ALONE_DRAFTS = frozenset({"http://json-schema.org/draft-07/schema#",
                               "http://json-schema.org/draft-06/schema#",
                               "http://json-schema.org/draft-04/schema#",
                               "http://json-schema.org/draft-03/schema#"})


class SchemaError(ToolError):
    """The schema cannot be used: unreadable, not JSON/TOON, not a valid schema of
    its draft, or a ``$ref`` that does not resolve (exit 2). ``path`` names the
    schema file (the sibling file, for a broken ``$ref`` into one); ``files``
    are the other files its ``$ref`` reached or tried to reach (a missing one
    among them), so a change to one of them still counts as a change to it."""

    files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Problem:
    """One way a value breaks the schema, before it is placed in the text:
    ``pointer`` (RFC 6901) names the offending value, or for a missing required
    key the key as it would be (``/users/0/email``); ``rule`` is the schema path
    (``properties/age/minimum``); ``keyword`` the failing keyword."""

    pointer: str
    message: str
    rule: str
    keyword: str
    #: The problem is the key itself (an extra property, a bad property name, a
    #: key that requires another): placed at the key's token, not its value.
    on_key: bool = False


class Schema:
    """A loaded, checked JSON Schema, ready to validate any number of documents.

    Build one with :meth:`load` (a file) or :meth:`from_dict`; validating is then
    :meth:`problems` (a value) or :meth:`violations` (a located decode)."""

    def __init__(self, schema: Mapping[str, Any] | bool, validator: Validator,
                 name: str | None, files: tuple[Path, ...] = (),
                 documents: tuple[tuple[Path, Any], ...] = ()) -> None:
        self.schema = schema
        self.name = name  # the schema file, for messages; None for an in-memory schema
        #: The other files its ``$ref`` reached (a change to one changes this schema).
        self.files = files
        self._validator = validator
        #: (file, contents) of each of those files, to say in which one a keyword is.
        self._documents = documents
        self._places: dict[int, str] | None = None
        #: jsonschema-rs's validator for the same schema, when it is installed and
        #: knows the draft: the verdict (see the module's docstring).
        self._fast: Any = None
        #: The URI jsonschema-rs gives the root document (its ``$id``, or the file's
        #: URI), to tell its errors in the root from those in another file.
        self._fast_root: str | None = None
        #: Whether each problem may be worded by validating only where it is (see
        #: :meth:`_worded_where`): not when dynamic scope ($dynamicRef) matters.
        self._targeted = not _mentions(schema, ("$dynamicRef", "$recursiveRef"))

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, path: str | os.PathLike[str], *,
             read: Callable[[Path], bytes] | None = None) -> Schema:
        """The schema in ``path``: TOON if its name ends in ``.toon``, else JSON.
        ``$ref`` to other files resolve relative to it. SchemaError otherwise.
        ``read`` reads a file's bytes (the standalone hook reads the git index)."""
        path = Path(path)
        contents = read_document(path, str(path), read)
        return cls.from_dict(contents, base=path, _name=str(path), _read=read)

    @classmethod
    def from_dict(cls, schema: Mapping[str, Any] | bool, *, base: Path | None = None,
                  _name: str | None = None,
                  _read: Callable[[Path], bytes] | None = None) -> Schema:
        """A schema given as data (an object, or a boolean schema). ``base`` is the
        file it stands for, or a folder: relative ``$ref`` to other files resolve
        from there (without it they are an error). SchemaError if it is invalid."""
        from jsonschema import Draft202012Validator
        from jsonschema.exceptions import SchemaError as MetaError
        from jsonschema.exceptions import best_match
        from jsonschema.validators import validator_for

        name = _name or (str(base) if base is not None and not base.is_dir() else None)
        if not isinstance(schema, (Mapping, bool)):
            raise SchemaError(f"a schema must be an object or a boolean, not "
                              f"{_kind(schema)}", path=name)
        dialect = schema.get("$schema") if isinstance(schema, Mapping) else None
        if dialect is not None and not isinstance(dialect, str):
            raise SchemaError("'$schema' must be a string", path=name)
        known: type[Validator] | None = validator_for(schema, default=None)  # type: ignore[arg-type]
        if dialect is not None and known is None:
            raise SchemaError(f"unknown '$schema' {dialect!r}: toon check knows draft 2020-12 "
                              "(https://json-schema.org/draft/2020-12/schema) and draft 7 "
                              "(http://json-schema.org/draft-07/schema#), among others",
                              path=name)
        validator_cls = known or Draft202012Validator
        try:
            if not _meta_valid(schema):
                validator_cls.check_schema(schema)  # type: ignore[arg-type]
        except MetaError as e:
            worst = best_match([e]) if e.context else e  # type: ignore[list-item]
            where = _pointer(worst.absolute_path) or "the root"
            raise SchemaError(f"not a valid schema: at {where}: {worst.message}",
                              path=name) from None
        folder = None if base is None else (base if base.is_dir() else base.parent)
        retriever = _Retriever(folder, schema, validator_cls, _read)
        try:
            retriever.check_refs(schema, name)
        except SchemaError as e:
            e.files = tuple(retriever.tried)  # what it is made of, as far as it goes
            raise
        validator = validator_cls(schema, registry=retriever.registry())
        loaded = cls(schema, validator, name, tuple(retriever.files),
                     tuple(retriever.documents))
        loaded._fast = _fast_validator(schema, base, retriever, name)
        root_id = schema.get("$id") if isinstance(schema, Mapping) else None
        if isinstance(root_id, str):
            loaded._fast_root = root_id.split("#", 1)[0]
        elif base is not None:
            loaded._fast_root = base.resolve().as_uri() + ("/" if base.is_dir() else "")
        return loaded

    # ------------------------------------------------------------- validating

    def problems(self, value: Any) -> list[Problem]:
        """Every way ``value`` breaks the schema, one per leaf problem: those
        jsonschema words in the order it finds them (document order within each
        keyword), then those only jsonschema-rs words. Empty exactly when
        :meth:`is_valid` is true."""
        verdict = self._fast_errors(value)
        if verdict is None:  # jsonschema alone decides
            return self._worded(value, None)
        if not verdict:
            return []
        # Each of jsonschema-rs's errors, by (instance path, keyword), is worded
        # by the jsonschema error with the same key when there is one.
        wanted = Counter(_fast_key(e) for e in verdict)
        try:
            out = self._worded_where(value, verdict, wanted)
        except re.error:  # a pattern Python cannot compile (\p{L}): rs words it all
            out, wanted = [], Counter(_fast_key(e) for e in verdict)
        for e in verdict:
            key = _fast_key(e)
            if wanted[key] > 0:
                wanted[key] -= 1
                out.extend(_fast_problems(e))
        return out

    def _worded(self, value: Any, wanted: Counter[tuple[tuple[Any, ...], str]] | None
                ) -> list[Problem]:
        """jsonschema's problems of ``value``; with ``wanted``, only those of its
        errors whose (instance path, keyword) it still counts, each taken off."""
        from referencing.exceptions import Unresolvable

        out: list[Problem] = []
        missing_seen: dict[tuple[str, str], int] = {}
        try:
            for error in self._validator.iter_errors(value):
                if wanted is not None:
                    key = (tuple(error.absolute_path), str(error.validator))
                    if wanted[key] <= 0:
                        continue
                    wanted[key] -= 1
                leaf = _leaf(error)
                out.extend(_problems(leaf, self._rule(leaf), missing_seen,
                                     self._fast is not None))
        except Unresolvable as e:
            raise SchemaError(_unresolvable(e), path=self.name) from None
        except re.error as e:
            if wanted is not None:
                raise
            # Only without jsonschema-rs (which refuses such a schema at load).
            raise SchemaError(f"a pattern Python cannot use: {e}", path=self.name) from None
        return out

    def _worded_where(self, value: Any, verdict: list[Any],
                      wanted: Counter[tuple[tuple[Any, ...], str]]) -> list[Problem]:
        """:meth:`_worded`, but validating with jsonschema only where jsonschema-rs
        found a problem: for each failing keyword, the schema object that holds it
        (narrowed to that keyword and the keywords it reads) against the value at
        the error's instance path. jsonschema over a whole 1 MB document costs
        over a second; a problem in one cell then costs what that cell does.
        Falls back to the whole pass when a place cannot be looked up as
        jsonschema would (an embedded ``$id``, dynamic scope), or when there are
        so many problems that one pass is cheaper."""
        if not self._targeted or len(verdict) > _TARGETED_MAX:
            return self._worded(value, wanted)
        from referencing.exceptions import Unresolvable

        groups: dict[tuple[str, tuple[Any, ...]], Counter[str]] = {}
        for e in verdict:
            key = _fast_key(e)
            if key[1] == "$false":
                continue  # always rs's to word
            place = self._keyword_place(e)
            if place is None:
                return self._worded(value, wanted)
            # A keyword reached twice (an allOf of two $refs to it) fails twice.
            groups.setdefault((place[0], key[0]), Counter())[place[1]] += 1
        out: list[Problem] = []
        missing_seen: dict[tuple[str, str], int] = {}
        resolver = self._validator._resolver  # type: ignore[attr-defined]
        for (where, path), keywords in groups.items():
            try:
                resolved = resolver.lookup(where)
                node = resolved.contents
                instance = _at(value, path)
            except (Unresolvable, KeyError, IndexError, TypeError):
                return self._worded(value, wanted)
            if not isinstance(node, Mapping) or "$id" in node or "id" in node:
                return self._worded(value, wanted)  # its own scope: as jsonschema descends
            narrowed = _narrowed(node, list(keywords))
            rule_base = self._rule_base(where)
            validator = self._validator.evolve(schema=narrowed, _resolver=resolved.resolver)
            try:
                errors = list(validator.iter_errors(instance))
            except Unresolvable as e:
                raise SchemaError(_unresolvable(e), path=self.name) from None
            for error in errors:
                error.relative_path.extendleft(reversed(path))
            for error in errors * max(keywords.values()):
                key = (tuple(error.absolute_path), str(error.validator))
                if wanted[key] <= 0:
                    continue
                wanted[key] -= 1
                leaf = _leaf(error)
                fallback = None
                if leaf is error and rule_base is not None:
                    fallback = f"{rule_base}/{error.validator}" if rule_base else \
                        str(error.validator)
                out.extend(_problems(leaf, self._rule(leaf, node, fallback), missing_seen,
                                     self._fast is not None))
        return out

    def _keyword_place(self, error: Any) -> tuple[str, str] | None:
        """(the URI, with a JSON pointer fragment, of the schema object that holds
        a jsonschema-rs error's keyword, as jsonschema's root resolver can look it
        up; the keyword to validate there), or None when it cannot say. Under
        ``propertyNames`` the instance is a key, not the value at the error's
        path: the object that holds ``propertyNames`` is validated instead."""
        segments = [str(p) for p in error.schema_path]
        if not segments:
            return None
        # The schema path is the keyword's place in the document that holds it
        # (after $refs); the location's URI says which document that is (its
        # fragment may run past the keyword: dependentRequired/0).
        location = getattr(error, "absolute_keyword_location", None)
        uri = "" if location is None else str(location).partition("#")[0]
        steps = segments
        cut = _keyword_at(steps, "propertyNames")
        if cut is None and _keyword_at([str(p) for p in getattr(error, "evaluation_path", ())],
                                       "propertyNames") is not None:
            return None  # reached through a $ref from propertyNames
        if cut is not None:
            steps = steps[:cut + 1]
        parent, keyword = _pointer(steps[:-1]), steps[-1]
        if location is None or (self._fast_root is not None and uri == self._fast_root):
            return "#" + parent, keyword
        if not uri.startswith("file:"):
            return None  # an embedded $id, or a place only jsonschema-rs knows
        return f"{uri}#{parent}", keyword

    def _rule_base(self, where: str) -> str | None:
        """Where a looked-up schema object is written, in :meth:`_rule`'s words,
        for objects read from another file (which :meth:`_rule` cannot find by
        identity): ``row.json#/properties/id``."""
        uri, _, fragment = where.partition("#")
        fragment = unquote(fragment)
        if not uri:
            return fragment[1:]
        parts = urlsplit(uri)
        if parts.scheme != "file" or not self.name:
            return None
        relative = os.path.relpath(unquote(parts.path), Path(self.name).resolve().parent)
        return f"{Path(relative).as_posix()}#{fragment}"

    def _fast_errors(self, value: Any) -> list[Any] | None:
        """jsonschema-rs's errors of ``value`` ([] when valid), or None when it
        cannot judge (not installed, or an integer past 64 bits)."""
        if self._fast is None:
            return None
        try:
            if self._fast.is_valid(value):
                return []
            return list(self._fast.iter_errors(value))
        except Exception:  # e.g. an integer past 64 bits: jsonschema decides
            return None

    def _rule(self, error: ValidationError, narrowed_from: Any = None,
              fallback: str | None = None) -> str:
        """Where the failing keyword is written: its path in this schema
        (``properties/age/minimum``), or, when a ``$ref`` led elsewhere, the
        file and its path there (``age.json#/type``, ``$defs/age/type``).
        jsonschema's schema path skips the ``$ref`` it went through, so the
        keyword is found by the identity of the subschema that holds it."""
        plain = "/".join(str(p) for p in error.absolute_schema_path)
        if not isinstance(error.schema, (dict, list)) or not isinstance(error.validator, str):
            return plain
        if self._places is None:
            self._places = {}
            _index_places(self.schema, "", self._places)
            folder = Path(self.name).parent if self.name else None
            for path, contents in self._documents:
                label = path.as_posix() if folder is None else \
                    Path(os.path.relpath(path, folder)).as_posix()
                _index_places(contents, label + "#", self._places)
        schema = error.schema
        if narrowed_from is not None and isinstance(schema, dict) and \
                all(narrowed_from.get(k, _MISSING) is v for k, v in schema.items()):
            schema = narrowed_from  # the object _worded_where narrowed
        place = self._places.get(id(schema))
        if place is None:
            return fallback or plain
        keyword = error.validator
        if place.endswith("#"):  # the root of another file
            return f"{place}/{keyword}"
        return f"{place}/{keyword}" if place else keyword

    def is_valid(self, value: Any) -> bool:
        """Whether ``value`` meets the schema: the same verdict as
        :meth:`problems` (jsonschema-rs's, else jsonschema's)."""
        from referencing.exceptions import Unresolvable

        if self._fast is not None:
            try:
                if self._fast.is_valid(value):
                    return True
            except Exception:  # e.g. an integer past 64 bits: jsonschema decides
                pass
            else:
                return False
        try:
            return bool(self._validator.is_valid(value))
        except Unresolvable as e:
            raise SchemaError(_unresolvable(e), path=self.name) from None
        except re.error as e:
            raise SchemaError(f"a pattern Python cannot use: {e}", path=self.name) from None

    def check_text(self, text: str | bytes, *, indent_size: int = 2) -> list[Violation]:
        """Decode ``text`` strictly (ToonDecodeError as :func:`~toon_tools.codec.decode`
        raises it) and return its violations: what ``toon check`` does per file."""
        from ..codec import decode_located

        return self.violations(decode_located(text, indent_size=indent_size))

    def violations(self, located: Located) -> list[Violation]:
        """Every problem of ``located.value``, each at its position in the text:
        the offending value (a primitive's token, a container from its key), or
        the enclosing object for a missing required key. In document order."""
        found = [Violation.at(located, p.pointer, p.message, p.rule, on_key=p.on_key)
                 for p in self.problems(located.value)]
        return sorted(found, key=lambda v: (v.line, v.column))


#: Above this many problems, one jsonschema pass over the document words them
#: sooner than a pass per problem.
_TARGETED_MAX = 500
_MISSING = object()
#: Keywords that read their siblings: validating one alone must keep them.
_READS = {
    "additionalProperties": ("properties", "patternProperties"),
    "additionalItems": ("items",),
    "items": ("prefixItems",),
    "then": ("if",), "else": ("if",), "if": ("then", "else"),
    "contains": ("minContains", "maxContains"),
    "minContains": ("contains", "maxContains"), "maxContains": ("contains", "minContains"),
}
#: Keywords that read every sibling (and what in-place applicators evaluated).
_READS_ALL = frozenset({"unevaluatedProperties", "unevaluatedItems"})


def _narrowed(node: Mapping[str, Any], keywords: list[str]) -> Mapping[str, Any]:
    """The schema object ``node`` with only ``keywords`` and what they read."""
    if any(k in _READS_ALL for k in keywords):
        return node
    keep = {"$schema"}
    for k in keywords:
        keep.add(k)
        keep.update(_READS.get(k, ()))
    return {k: v for k, v in node.items() if k in keep}


def _keyword_at(steps: list[str], keyword: str) -> int | None:
    """The index of ``keyword`` in a schema path where it is a keyword (not a
    property or definition named so), or None."""
    for i, step in enumerate(steps):
        if step == keyword and (i == 0 or steps[i - 1] not in _NAMED_SCHEMAS):
            return i
    return None


def _at(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _mentions(node: Any, keys: tuple[str, ...]) -> bool:
    """Whether any object in ``node`` has one of ``keys``."""
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            if any(k in value for k in keys):
                return True
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _meta_valid(schema: Mapping[str, Any] | bool) -> bool:
    """jsonschema-rs's word that ``schema`` meets its draft's metaschema (about
    250x faster than jsonschema's check, which a pipeline pays per step). It reads
    the draft from ``$schema`` as jsonschema does, 2020-12 without one. False when
    it cannot say: jsonschema then checks the schema and words the error."""
    try:
        import jsonschema_rs

        return bool(jsonschema_rs.meta.is_valid(schema if isinstance(schema, (dict, bool))
                                                else dict(schema)))
    except Exception:  # not installed, or a draft it does not know
        return False


def _fast_validator(schema: Mapping[str, Any] | bool, base: Path | None,
                    retriever: _Retriever, name: str | None = None) -> Any:
    """jsonschema-rs's validator for ``schema``, or None (not installed, or a
    draft it does not know: jsonschema alone decides). A schema it cannot
    compile (a ``pattern`` that is no ECMA-262 regex) is a SchemaError: its
    metaschema check does not look at formats. It resolves ``$ref`` through
    the same offline retriever, and treats ``format`` as an annotation, as
    jsonschema does here; the official test suite (tests/schema/test_suite.py)
    holds both to the same verdicts."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    from referencing.exceptions import NoSuchResource

    def retrieve(uri: str) -> Any:
        try:
            return retriever.retrieve(uri).contents
        except NoSuchResource:
            raise ValueError(f"cannot retrieve {uri}") from None

    options: dict[str, Any] = {"validate_formats": False, "retriever": retrieve}
    if base is not None and not (isinstance(schema, Mapping) and "$id" in schema):
        # Relative $refs resolve against the schema's file URI, which the
        # retriever maps back to the sibling file (as it does for jsonschema).
        options["base_uri"] = base.resolve().as_uri() + ("/" if base.is_dir() else "")
    try:
        return jsonschema_rs.validator_for(schema, **options)  # type: ignore[arg-type]
    except jsonschema_rs.ValidationError as e:
        if type(e.kind).__name__ == "Referencing":  # a draft it does not know
            return None
        where = _pointer(e.instance_path) or "the root"
        raise SchemaError(f"not a valid schema: at {where}: {e.message}", path=name) from None
    except Exception:  # anything else it does not accept: jsonschema alone decides
        return None


def _fast_key(error: Any) -> tuple[tuple[Any, ...], str]:
    """(instance path, keyword) of a jsonschema-rs error, to find jsonschema's
    wording of it. A false subschema has no keyword: jsonschema reports it at
    the enclosing value, without the key, so it is always rs's to word."""
    path = error.schema_path
    if type(error.kind).__name__ == "FalseSchema" or not path or \
            not isinstance(path[-1], str):
        return (tuple(error.instance_path), "$false")
    return (tuple(error.instance_path), path[-1])


def _fast_problems(error: Any) -> list[Problem]:
    """The problems of a jsonschema-rs error that jsonschema does not word."""
    path = list(error.instance_path)
    where = list(error.schema_path)
    rule = "/".join(str(p) for p in where)
    kind = error.kind
    name = type(kind).__name__
    keyword = str(where[-1]) if where else ""
    if name in ("AdditionalProperties", "UnevaluatedProperties"):
        head = "Additional" if name == "AdditionalProperties" else "Unevaluated"
        return [Problem(_pointer([*path, k]),
                        f"{head} properties are not allowed ({k!r} was unexpected)",
                        rule, keyword, on_key=True) for k in kind.unexpected]
    if name == "Required":
        return [Problem(_pointer([*path, kind.property]), error.message, rule, keyword)]
    if name == "PropertyNames":
        inner = kind.error
        if isinstance(inner.instance, str):
            return [Problem(_pointer([*path, inner.instance]), inner.message, rule,
                            keyword, on_key=True)]
    if name == "FalseSchema":
        parent = where[-2] if len(where) > 1 else None
        if parent == "dependentSchemas" and isinstance(where[-1], str):
            # The key that brought the false schema in is what is wrong.
            return [Problem(_pointer([*path, where[-1]]), error.message, rule, "false",
                            on_key=True)]
        # A key properties/patternProperties refuses: the key is what is wrong.
        on_key = parent in ("properties", "patternProperties") and bool(path)
        return [Problem(_pointer(path), error.message, rule, "false", on_key=on_key)]
    return [Problem(_pointer(path), error.message, rule, keyword)]


@lru_cache(maxsize=64)
def load_shared(path: str) -> Schema:
    """:meth:`Schema.load`, once per process for each path (a pool worker loads
    each schema once, not once per file; forked workers inherit the parent's)."""
    return Schema.load(path)


# ------------------------------------------------------------------ helpers


def _leaf(error: ValidationError) -> ValidationError:
    """The error to show for one top-level failure: for anyOf/oneOf, the single
    most relevant sub-error when one stands out (jsonschema's best_match stops
    descending when the alternatives fail equally), else the failure itself."""
    if not error.context:
        return error
    from jsonschema.exceptions import best_match

    return best_match([error]) or error


def _index_places(node: Any, prefix: str, places: dict[int, str]) -> None:
    """id of every object and array of a schema document -> its place there
    (``prefix`` and the pointer: ``properties/age`` in the root schema,
    ``age.json#/items`` in another file)."""
    stack: list[tuple[Any, str]] = [(node, "")]
    while stack:
        value, pointer = stack.pop()
        if isinstance(value, dict):
            items: Iterator[tuple[Any, Any]] = iter(value.items())
        elif isinstance(value, list):
            items = iter(enumerate(value))
        else:
            continue
        places.setdefault(id(value), prefix + (pointer if prefix else pointer[1:]))
        for key, child in items:
            if isinstance(child, (dict, list)):
                stack.append((child, pointer + "/" + str(key).replace("~", "~0")
                              .replace("/", "~1")))


def _problems(error: ValidationError, rule: str,
              missing_seen: dict[tuple[str, str], int], ecma: bool = False) -> list[Problem]:
    """The problems one jsonschema error stands for, each pointing at what is
    wrong: the value, or the key itself (one problem per extra key)."""
    path = list(error.absolute_path)
    keyword = str(error.validator)
    pointer = _pointer(path)
    instance = error.instance
    value = error.validator_value
    if keyword == "required" and isinstance(instance, Mapping) and isinstance(value, list):
        # jsonschema yields one error per missing key, in the order the schema
        # lists them: name the key itself, so the pointer says which field.
        missing = [k for k in value if k not in instance]
        n = missing_seen.get((pointer, rule), 0)
        missing_seen[(pointer, rule)] = n + 1
        if n < len(missing) and isinstance(missing[n], str):
            pointer = _pointer([*path, missing[n]])
        return [Problem(pointer, error.message, rule, keyword)]
    if keyword in ("dependentRequired", "dependencies") and isinstance(instance, Mapping) \
            and isinstance(value, Mapping):
        # "'b' is a dependency of 'a'": placed at the key 'a' that asks for it.
        pairs = [(prop, each) for prop, deps in value.items() if prop in instance
                 and isinstance(deps, list) for each in deps if each not in instance]
        n = missing_seen.get((pointer, rule), 0)
        missing_seen[(pointer, rule)] = n + 1
        if n < len(pairs):
            return [Problem(_pointer([*path, pairs[n][0]]), error.message, rule, keyword,
                            on_key=True)]
        return [Problem(pointer, error.message, rule, keyword)]
    if keyword == "additionalProperties" and isinstance(instance, Mapping) \
            and isinstance(error.schema, Mapping):
        extras = _additional(instance, error.schema, ecma)
        if extras:
            patterns = error.schema.get("patternProperties")
            out = []
            for key in extras:
                if patterns:
                    shown = ", ".join(repr(p) for p in sorted(patterns))
                    message = f"{key!r} does not match any of the regexes: {shown}"
                else:
                    message = f"Additional properties are not allowed ({key!r} was unexpected)"
                out.append(Problem(_pointer([*path, key]), message, rule, keyword, on_key=True))
            return out
    if keyword == "unevaluatedProperties" and isinstance(instance, Mapping):
        head, _, listed = error.message.partition(" (")
        extras = [k for k in instance if isinstance(k, str) and repr(k) in listed]
        if extras:
            return [Problem(_pointer([*path, k]), f"{head} ({k!r} was unexpected)", rule,
                            keyword, on_key=True) for k in extras]
    if isinstance(instance, str) and "propertyNames" in error.absolute_schema_path:
        # A property name broke propertyNames: jsonschema reports it at the
        # object, with the name as the instance; the name is a key there.
        return [Problem(_pointer([*path, instance]), _render(error), rule, keyword,
                        on_key=True)]
    return [Problem(pointer, _render(error), rule, keyword)]


def _additional(instance: Mapping[str, Any], schema: Mapping[str, Any],
                ecma: bool = False) -> list[str]:
    """The keys additionalProperties covers: in neither properties nor a
    patternProperties regex, in document order. Each pattern is matched on its
    own (joined by '|', an inline flag breaks and backreferences renumber), as
    the verdict matches it: ECMA-262 through jsonschema-rs when ``ecma``."""
    properties = schema.get("properties", {})
    patterns = [p for p in schema.get("patternProperties", {}) if isinstance(p, str)]
    matches = _ecma_search if ecma else _python_search
    return [k for k in instance if k not in properties
            and not any(matches(p, k) for p in patterns)]


@lru_cache(maxsize=256)
def _ecma_matcher(pattern: str) -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for({"pattern": pattern})


def _ecma_search(pattern: str, text: str) -> bool:
    """Whether the ECMA-262 regex ``pattern`` matches somewhere in ``text``, as
    jsonschema-rs matches ``pattern`` and ``patternProperties``."""
    return bool(_ecma_matcher(pattern).is_valid(text))


def _python_search(pattern: str, text: str) -> bool:
    return re.search(pattern, text) is not None


#: Longest rendering of a value quoted in a message before it is shortened.
_SHOWN_MAX = 60


def _render(error: ValidationError) -> str:
    """jsonschema's message with the data and schema values it quotes written as
    JSON (``null``, ``true``, ``{"a": 1}``), not as Python reprs, and shortened
    when long; a long object or array that the message starts with is named by
    its kind (the position shows it). Strings keep jsonschema's quotes."""
    message = error.message
    instance = error.instance
    shown = repr(instance)
    start = 0
    if message.startswith(shown) and error.validator != "const":
        if isinstance(instance, (dict, list)) and len(shown) > 40:
            head = _kind(instance)
        else:
            head = _show(instance)
        message = head + message[len(shown):]
        start = len(head)
    value = error.validator_value
    if not isinstance(value, str):
        quoted = repr(value)
        rendered = _show(value)
        at = message.rfind(quoted, start)
        if rendered != quoted and at >= 0:
            message = message[:at] + rendered + message[at + len(quoted):]
    return message


def _show(value: Any) -> str:
    """A data value as a message quotes it: JSON (a string in quotes), at most
    about :data:`_SHOWN_MAX` characters."""
    if isinstance(value, str):
        text = repr(value)
        if len(text) > _SHOWN_MAX:
            text = repr(value[:_SHOWN_MAX - 5])
            text = text[:-1] + "…" + text[-1]
        return text
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX - 1] + "…"


def _unresolvable(e: Exception) -> str:
    ref = str(getattr(e, "ref", "") or e)
    return _unresolvable_ref("#" + ref if ref.startswith("/") else ref)


def _unresolvable_ref(ref: str) -> str:
    return f"cannot resolve $ref {ref!r}"


def _pointer(path: Any) -> str:
    """RFC 6901 pointer of a sequence of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__


def read_document(path: Path, name: str, read: Callable[[Path], bytes] | None = None) -> Any:
    """A schema file's data: TOON for ``*.toon``, JSON otherwise (through the one
    JSON reader); a SchemaError naming ``name``, with a position, if it cannot be."""
    try:
        data = read(path) if read is not None else path.read_bytes()
    except IsADirectoryError:
        raise SchemaError("is a directory, not a schema file", path=name) from None
    except OSError as e:
        raise SchemaError(e.strerror or str(e), path=name) from None
    except ValueError as e:  # a name no file can have (a NUL byte in it)
        raise SchemaError(f"cannot be read: {e}", path=name) from None
    if path.suffix == ".toon":
        from ..codec import ToonDecodeError, decode

        try:
            return decode(data)
        except ToonDecodeError as e:
            raise SchemaError(f"not a valid TOON schema: {e.msg}", path=name, line=e.line,
                              column=e.column) from None
    from ..convert.json_toon import read_json
    from ..convert.registry import ConversionError

    try:
        return read_json(data, name)
    except ConversionError as e:
        raise SchemaError(f"not a valid JSON schema: {e.message}", path=name, line=e.line,
                          column=e.column) from None


class _Retriever:
    """Offline ``$ref`` retrieval: a relative reference (or a ``file:`` URI, or one
    under the root ``$id``'s folder) is a file beside the schema; nothing is
    fetched from the network. Each file is read once."""

    def __init__(self, folder: Path | None, root: Mapping[str, Any] | bool,
                 validator_cls: type[Validator],
                 read: Callable[[Path], bytes] | None = None) -> None:
        self.folder = folder
        self.read = read
        self.files: list[Path] = []  # the local files retrieved
        self.documents: list[tuple[Path, Any]] = []  # and their contents
        self.tried: list[Path] = []  # every local file asked for, found or not
        root_id = root.get("$id") if isinstance(root, Mapping) else None
        self.root_id = root_id if isinstance(root_id, str) else ""
        self.validator_cls = validator_cls
        self.failures: dict[str, SchemaError] = {}
        self._cache: dict[str, Resource[Any]] = {}

    def relative(self, name: str) -> str:
        """A file named in a message: relative to the schema's folder, as the
        ``$ref`` said it (whichever folder the check runs from, or the hook)."""
        if self.folder is None:
            return name
        try:
            return Path(os.path.relpath(name, self.folder)).as_posix()
        except ValueError:  # another drive
            return name

    def registry(self) -> Registry[Any]:
        from referencing import Registry

        return Registry(retrieve=self.retrieve)  # type: ignore[call-arg]

    def local_path(self, uri: str) -> Path | None:
        """The file a retrieved URI stands for, or None (remote, or no base)."""
        if self.folder is None:
            return None
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme == "" and not parts.netloc:
            return self.folder / unquote(parts.path)
        if self.root_id:
            # $id "https://example.com/schemas/user.json" + $ref "address.json":
            # the $id's folder is the schema's own folder.
            root_dir = urljoin(self.root_id, ".")
            if uri.startswith(root_dir) and root_dir.count("/") > 2:
                return self.folder / unquote(urlsplit(uri[len(root_dir):]).path)
        return None

    def retrieve(self, uri: str) -> Resource[Any]:
        from referencing import Resource
        from referencing.exceptions import NoSuchResource

        if uri in self._cache:
            return self._cache[uri]
        path = self.local_path(uri)
        if path is None:
            self.failures[uri] = SchemaError(
                "not a file beside the schema, and toon check does not fetch schemas over "
                "the network")
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]
        self.tried.append(path)
        try:
            contents = read_document(path, str(path), self.read)
        except SchemaError as e:
            self.failures[uri] = e
            raise NoSuchResource(ref=uri) from None  # type: ignore[call-arg]
        self.files.append(path)
        self.documents.append((path, contents))
        spec = _specification(self.validator_cls)
        resource = Resource.from_contents(contents, default_specification=spec)
        self._cache[uri] = resource
        return resource

    def check_refs(self, schema: Mapping[str, Any] | bool, name: str | None) -> None:
        """Resolve every ``$ref`` to another document now, so a missing or broken
        sibling file is an error in the schema before any file is checked."""
        from importlib import import_module

        from referencing import Registry
        from referencing.exceptions import Unresolvable

        spec = _specification(self.validator_cls)
        # The meta-schemas, as jsonschema's own validators see them.
        meta_schemas = import_module("jsonschema_specifications").REGISTRY
        registry: Registry[Any] = meta_schemas.combine(self.registry()).with_resource(
            self.root_id, spec.create_resource(schema))
        # Up to draft 7, "$ref" makes its siblings (an "$id" among them) ignored.
        ref_alone = self.validator_cls.META_SCHEMA.get("$schema", "") in _REF_ALONE_DRAFTS
        for base, ref in _refs(schema, self.root_id, ref_alone):
            document = ref.split("#", 1)[0]
            try:
                registry.resolver(base_uri=base).lookup(ref)
            except Unresolvable:
                target = urljoin(base, document) if base else document
                failure = self.failures.get(target) or next(
                    (f for u, f in self.failures.items() if document and u.endswith(document)),
                    None)
                if failure is None:
                    raise SchemaError(_unresolvable_ref(ref), path=name) from None
                if failure.line is not None:  # a sibling that is not a valid document
                    raise SchemaError(f"{failure.message} (reached by $ref {ref!r} from "
                                      f"{name or 'the schema'})", path=failure.path,
                                      line=failure.line, column=failure.column) from None
                where = f"{self.relative(failure.path)}: " if failure.path else ""
                raise SchemaError(f"$ref {ref!r}: {where}{failure.message}", path=name) from None


def _specification(validator_cls: type[Validator]) -> Any:
    from referencing.jsonschema import specification_with

    return specification_with(validator_cls.META_SCHEMA["$schema"])


def _refs(node: Any, base: str, ref_alone: bool) -> Iterator[tuple[str, str]]:
    """(base URI, reference) of every ``$ref`` in a schema, following ``$id``."""
    if isinstance(node, Mapping):
        node_id = node.get("$id")
        if isinstance(node_id, str) and not node_id.startswith("#") \
                and not (ref_alone and "$ref" in node):
            base = urljoin(base, node_id) if base else node_id
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield base, ref
        for key, child in node.items():
            if key in _DATA_KEYWORDS:
                continue
            if key in _NAMED_SCHEMAS and isinstance(child, Mapping):
                for sub in child.values():
                    yield from _refs(sub, base, ref_alone)
            else:
                yield from _refs(child, base, ref_alone)
    elif isinstance(node, list):
        for child in node:
            yield from _refs(child, base, ref_alone)
