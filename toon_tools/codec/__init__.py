"""The TOON codec (spec v4.0): ``encode``/``decode`` with ``json``-style conventions."""

from __future__ import annotations

import gc
import io
from collections.abc import Iterable, Iterator
from typing import IO, Any, Callable

from ._decoder import SpanLog, decode_text
from ._encoder import Encoder
from ._errors import ToonDecodeError
from ._format import format_text
from ._located import Located, Range, Span, SpanMap, json_pointer
from ._scalars import DEFAULT_MAX_DEPTH, utf8_text
from ._stream import EVENT_NAMES, iter_events, lines_of
from ._tokens import (
    encode_key,
    find_closing_quote,
    format_primitive,
    parse_primitive,
    quote_string,
    unescape_string,
)

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "SPEC_VERSION",
    "Located",
    "Range",
    "Span",
    "ToonDecodeError",
    "decode",
    "decode_events",
    "decode_located",
    "dump",
    "encode",
    "encode_key",
    "encode_lines",
    "find_closing_quote",
    "format_primitive",
    "format_text",
    "json_pointer",
    "load",
    "parse_primitive",
    "quote_string",
    "unescape_string",
]

from .. import SPEC_VERSION


def encode_lines(
    value: Any,
    *,
    indent_size: int = 2,
    delimiter: str = ",",
    max_depth: int = DEFAULT_MAX_DEPTH,
    default: Callable[[Any], Any] | None = None,
) -> Iterator[str]:
    """Yield the lines of ``value`` encoded as TOON, without line terminators.

    Lines are produced as the value is walked, so a large document never exists
    as one string.
    """
    enc = Encoder(indent_size=indent_size, delimiter=delimiter, max_depth=max_depth, default=default)
    for chunk in enc.chunks(value):
        yield from chunk


def encode(
    value: Any,
    *,
    indent_size: int = 2,
    delimiter: str = ",",
    max_depth: int = DEFAULT_MAX_DEPTH,
    default: Callable[[Any], Any] | None = None,
) -> str:
    """Encode ``value`` as a TOON document (LF line endings, no trailing newline).

    ``delimiter`` is ``","``, ``"\\t"`` or ``"|"``. ``default`` is called for objects
    the encoder does not know, like ``json.dumps``'s hook. Raises ``TypeError`` for
    unsupported types and ``ValueError`` for what TOON text cannot hold: nesting
    deeper than ``max_depth``, a string with a lone surrogate (U+D800-U+DFFF: no
    UTF-8 form, and §7.1 forbids its escape; the message names it and its index),
    and an int with more digits than ``sys.get_int_max_str_digits()`` (4,300 by
    default; pass it as ``decimal.Decimal`` to keep every digit). Strings that
    start with a byte order mark are quoted, so that readers dropping a leading
    BOM cannot lose it.
    """
    enc = Encoder(indent_size=indent_size, delimiter=delimiter, max_depth=max_depth, default=default)
    return enc.text(value)  # one list and one join, in compiled code


def decode(
    text: str | bytes,
    *,
    indent_size: int = 2,
    strict: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
    type: Any = None,
) -> Any:
    """Decode a TOON document into Python values (dict, list, str, int, float, bool, None).

    ``bytes`` must be UTF-8 (§4); a leading byte order mark is skipped.
    ``parse_float=decimal.Decimal`` keeps decimals exact. Raises
    :class:`ToonDecodeError` with ``line`` and ``column`` for invalid input.

    ``type=T`` returns a validated ``T`` instead (a pydantic model, a dataclass,
    ``list[T]``, ``dict[str, T]``: anything ``pydantic.TypeAdapter`` takes; needs
    the ``types`` extra). A document that decodes but does not fit raises
    :class:`~toon_tools.schema.violation.ToonValidationError`, listing every
    problem at the line:col of its value.

    Out-of-range numbers (§4 asks for a documented policy): integers are exact
    ints up to ``sys.get_int_max_str_digits()`` digits (4,300 by default; the
    interpreter's guard against quadratic-time conversion, which the codec never
    changes). A longer integer is refused with a ``ToonDecodeError`` at its
    position, never rounded: ``parse_int=decimal.Decimal`` keeps it exactly. A
    float beyond the double range is refused the same way (``parse_float=
    decimal.Decimal`` keeps it). An array header length of more than 18 digits,
    which no document can hold, is refused at its position too.
    """
    options = dict(indent_size=indent_size, strict=strict, max_depth=max_depth,
                   parse_float=parse_float, parse_int=parse_int)
    if type is not None:
        from ..typed import decode_as  # pydantic, only when a type is asked for

        return decode_as(text, type, **options)
    return _decode(text, None, **options)


def decode_events(
    lines: str | bytes | Iterable[str] | IO[bytes],
    *,
    indent_size: int = 2,
    strict: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Iterator[tuple[str, Any]]:
    """Decode TOON incrementally into JSON events, without building the value.

    Yields ``(type, value)`` pairs, as the TypeScript reference's
    ``decodeStreamSync`` yields ``JsonStreamEvent``s: ``("startObject", None)``,
    ``("endObject", None)``, ``("startArray", length)`` (the header's declared
    length), ``("endArray", None)``, ``("key", key)`` and ``("primitive",
    value)``. Match on them directly::

        for kind, value in decode_events(open("big.toon", "rb")):
            if kind == "key": ...

    ``lines`` is an iterable of lines (one trailing LF, then one CR, is dropped
    from each, so a text file object or ``text.split("\n")`` works), a binary file object (read in chunks
    and decoded as ``decode(bytes)`` does: UTF-8, byte order mark, CR LF), or a
    whole document as ``str`` or ``bytes``. Memory stays proportional to the
    nesting depth and one line (plus the keys of each open object, for the strict
    duplicate-key check), whatever the document's size.

    Invalid input raises :class:`ToonDecodeError` with the same message, line
    and column as :func:`decode`, after the events of what came before it.
    ``decode`` checks UTF-8 and indentation (§12) over the whole text before it
    parses, so when a parse error is found the rest of the input is read (and
    dropped) to find any such earlier-ranked error first.
    """
    if isinstance(lines, (bytes, bytearray, memoryview)):
        source: Any = lines_of(io.BytesIO(bytes(lines)), strict=strict)
    elif isinstance(lines, (io.RawIOBase, io.BufferedIOBase)):
        source = lines_of(lines, strict=strict)
    else:
        source = lines
    events = iter_events(source, indent_size=indent_size, strict=strict, max_depth=max_depth)
    return ((EVENT_NAMES[kind], payload) for kind, payload in events)


def decode_located(
    text: str | bytes,
    *,
    indent_size: int = 2,
    strict: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
) -> Located:
    """Decode like :func:`decode`, and say where every value stands in the text.

    ``located.value`` is what ``decode`` returns; ``located.spans`` maps the JSON
    pointer of every value (RFC 6901; "" is the root) to its :class:`Span`: the
    line:col range of its key and of its value, down to each tabular cell and
    inline array item. ``located.find(pointer)`` falls back to the nearest
    enclosing value (for a missing key: its object).
    """
    log = SpanLog()
    value = _decode(text, log, indent_size=indent_size, strict=strict,
                    max_depth=max_depth, parse_float=parse_float, parse_int=parse_int)
    return Located(value, SpanMap(log))


def _decode(text: str | bytes, spans: SpanLog | None, **options: Any) -> Any:
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = utf8_text(bytes(text), options["strict"])
    elif text.startswith("\ufeff"):
        text = text[1:]
    # Decoding builds only acyclic containers, yet each allocation ages the
    # cyclic GC, whose full collections rescan everything built so far: on large
    # documents that makes decode time grow faster than the input. Pause it.
    pause = len(text) > _GC_PAUSE_THRESHOLD and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return decode_text(text, spans=spans, **options)
    finally:
        if pause:
            gc.enable()


_GC_PAUSE_THRESHOLD = 256 * 1024


def dump(value: Any, fp: IO[str], **opts: Any) -> None:
    """Write ``value`` as TOON to the text file ``fp``, line by line."""
    first = True
    for line in encode_lines(value, **opts):
        if not first:
            fp.write("\n")
        fp.write(line)
        first = False


def load(fp: IO[str] | IO[bytes], **opts: Any) -> Any:
    """Decode the TOON document read from ``fp`` (text or binary)."""
    return decode(fp.read(), **opts)
