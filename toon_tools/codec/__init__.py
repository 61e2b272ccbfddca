"""The TOON codec (spec v4.0): ``encode``/``decode`` with ``json``-style conventions."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import IO, Any, Callable

from ._decoder import decode_text
from ._encoder import Encoder
from ._errors import ToonDecodeError
from ._format import format_text
from ._scalars import DEFAULT_MAX_DEPTH, utf8_text
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
    "ToonDecodeError",
    "decode",
    "dump",
    "encode",
    "encode_key",
    "encode_lines",
    "find_closing_quote",
    "format_primitive",
    "format_text",
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
    chunks = list(enc.chunks(value))
    if len(chunks) == 1:
        return "\n".join(chunks[0])
    return "\n".join(line for chunk in chunks for line in chunk)


def decode(
    text: str | bytes,
    *,
    indent_size: int = 2,
    strict: bool = True,
    max_depth: int = DEFAULT_MAX_DEPTH,
    parse_float: Callable[[str], Any] | None = None,
    parse_int: Callable[[str], Any] | None = None,
) -> Any:
    """Decode a TOON document into Python values (dict, list, str, int, float, bool, None).

    ``bytes`` must be UTF-8 (§4); a leading byte order mark is skipped.
    ``parse_float=decimal.Decimal`` keeps decimals exact. Raises
    :class:`ToonDecodeError` with ``line`` and ``column`` for invalid input.

    Out-of-range numbers (§4 asks for a documented policy): integers are exact
    ints up to ``sys.get_int_max_str_digits()`` digits (4,300 by default; the
    interpreter's guard against quadratic-time conversion, which the codec never
    changes). A longer integer is refused with a ``ToonDecodeError`` at its
    position, never rounded: ``parse_int=decimal.Decimal`` keeps it exactly. A
    float beyond the double range is refused the same way (``parse_float=
    decimal.Decimal`` keeps it). An array header length of more than 18 digits,
    which no document can hold, is refused at its position too.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = utf8_text(bytes(text), strict)
    elif text.startswith("\ufeff"):
        text = text[1:]
    # Decoding builds only acyclic containers, yet each allocation ages the
    # cyclic GC, whose full collections rescan everything built so far: on large
    # documents that makes decode time grow faster than the input. Pause it.
    pause = len(text) > _GC_PAUSE_THRESHOLD and gc.isenabled()
    if pause:
        gc.disable()
    try:
        return decode_text(
            text,
            indent_size=indent_size,
            strict=strict,
            max_depth=max_depth,
            parse_float=parse_float,
            parse_int=parse_int,
        )
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
