"""Decoding TOON into Python types through pydantic (issue 13), each problem
placed at its line:col in the text.

``decode_as(text, T)`` (``toon_tools.decode(text, type=T)``) decodes with
positions (:func:`toon_tools.codec.decode_located`), validates the value with
``pydantic.TypeAdapter(T)`` and turns every pydantic error into its own
:class:`~toon_tools.schema.violation.Violation` at the value it concerns: a
tabular cell, an inline array item, a field; a missing key is placed at its
object. They are raised together as one
:class:`~toon_tools.schema.violation.ToonValidationError`.

**JSON mode.** The value is validated as pydantic validates JSON, not Python
objects: TOON's data model is JSON's (§3), so a TOON document should mean to a
model exactly what the same document in JSON means. It matters wherever strict
validation is on (``ConfigDict(strict=True)``, ``Field(strict=True)``,
``StrictInt``): in JSON mode ``"2024-01-01"`` still becomes a ``date`` and a list
a ``tuple`` (TOON has no other way to write them), while ``"42"`` is refused for
an ``int`` (TOON writes numbers unquoted); Python mode would refuse every date
of a strict model. It also honours ``val_json_bytes`` and the other JSON-only
settings. Lax models (pydantic's default) coerce as they do from JSON. The
price: pydantic's JSON parser stops at 200 levels of nesting, so a deeper
document is a :class:`ToolError` here (plain ``decode`` goes to ``max_depth``).

pydantic is an optional extra (``toon-tools[types]``), imported only here and
only when a type is asked for.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Final

from .errors import ToolError
from .schema.violation import ToonValidationError, Violation, readable_path

if TYPE_CHECKING:
    from pydantic import TypeAdapter

    from .codec import Located

INSTALL_HINT: Final = "pip install 'toon-tools[types]'"

#: pydantic error types that name a key the document lacks: placed at the object.
#: Nesting pydantic's JSON parser (jiter) accepts; deeper input is ``json_invalid``.
_JSON_DEPTH: Final = 200

_MISSING: Final = frozenset({"missing", "missing_argument", "missing_keyword_only_argument",
                             "missing_positional_only_argument"})


def decode_as(text: str | bytes, type_: Any, **decode_opts: Any) -> Any:
    """Decode ``text`` and validate it as ``type_`` (a model, a dataclass,
    ``list[T]``, ``dict[str, T]``: anything ``pydantic.TypeAdapter`` takes).

    ``decode_opts`` are :func:`~toon_tools.codec.decode`'s (``indent_size``,
    ``strict``, ``max_depth``); numbers are read as ``type_`` says, so
    ``parse_float``/``parse_int`` must be None. Raises ``ToonDecodeError`` for
    text that is not TOON, :class:`ToonValidationError` (exit 1) listing every
    problem for a document that does not fit, and :class:`ToolError` (exit 2)
    when pydantic is not installed.
    """
    adapter = _adapter(type_)
    for name in ("parse_float", "parse_int"):
        if decode_opts.pop(name, None) is not None:
            raise TypeError(f"decode(type=...) reads numbers as the type says; "
                            f"{name}= does not apply")
    from pydantic import ValidationError

    from .codec import decode_located

    located = decode_located(text, **decode_opts)
    # The decoded value holds only JSON types, and json.dumps writes floats and
    # ints exactly, so the JSON text carries the same data (see JSON mode above).
    data = json.dumps(located.value, ensure_ascii=False, separators=(",", ":"))
    try:
        return adapter.validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            # Our JSON is valid: only pydantic's parser depth limit can refuse it.
            raise ToolError(f"decode(type=...) cannot validate this document: it nests deeper "
                            f"than pydantic's JSON parser allows ({_JSON_DEPTH} levels)") from exc
        raise ToonValidationError([violation(located, error) for error in errors]) from exc


def violation(located: Located, error: Any) -> Violation:
    """One pydantic error (an item of ``ValidationError.errors()``) placed in the text.

    A pydantic ``loc`` mixes data keys with the names of union members (``int``,
    ``Cat``, a discriminator tag) and ``[key]`` for a dict key; the segments that
    exist in the data make the pointer, the others are shown in brackets. The
    last segment of a missing key is kept: :meth:`Violation.at` then places it
    at its object. A dict key's problem and an extra key are placed at the key.
    """
    from .codec import json_pointer

    node: Any = located.value
    parts: list[str | int] = []
    tags: list[str] = []
    loc = tuple(error["loc"])
    kind = str(error["type"])
    for i, seg in enumerate(loc):
        if isinstance(node, dict) and isinstance(seg, str) and seg in node:
            node = node[seg]
            parts.append(seg)
        elif (isinstance(node, list) and isinstance(seg, int) and not isinstance(seg, bool)
              and 0 <= seg < len(node)):
            node = node[seg]
            parts.append(seg)
        elif i == len(loc) - 1 and kind in _MISSING:
            parts.append(seg)
            node = None
        else:
            tags.append(str(seg))
    pointer = json_pointer(tuple(parts))
    where = readable_path(parts)  # "a/b": 1 reads as the key, not a pointer's a~1b
    on_key = "[key]" in tags or kind == "extra_forbidden"
    if tags:
        shown = ", ".join("key" if t == "[key]" else f"as {t}" for t in tags)
        where = f"{where} ({shown})" if where else f"({shown})"
    message = f"{where}: {error['msg']}" if where else str(error["msg"])
    found, span = located.find(pointer)
    if on_key and found == pointer and span.key is not None:
        r = span.key
        return Violation(pointer, message, r.line, r.column, r.end_line, r.end_column, kind)
    return Violation.at(located, pointer, message, rule=kind)


def _adapter(type_: Any) -> TypeAdapter[Any]:
    """``TypeAdapter(type_)``, cached per type (building one compiles a validator)."""
    try:
        import pydantic  # noqa: F401
        from pydantic import TypeAdapter
    except ImportError as exc:
        raise ToolError(f"decoding into a Python type needs pydantic 2: {INSTALL_HINT}") from exc
    try:
        hash(type_)
    except TypeError:  # e.g. Annotated[...] with unhashable metadata
        return TypeAdapter(type_)
    return _cached_adapter(type_)


@functools.lru_cache(maxsize=256)
def _cached_adapter(type_: Any) -> TypeAdapter[Any]:
    from pydantic import TypeAdapter

    return TypeAdapter(type_)
