"""The public token API: one TOON token at a time, read and written exactly as
the decoder and the encoder do (they call the same functions in ``_scalars``).

For code that handles TOON text piecewise (the Markdown converters, the PDF
reader, editors) without building a parser or an encoder. Positions in the
errors raised here are ``line 1`` and a 1-based column within the given text.
"""

from __future__ import annotations

from typing import Any

from ._errors import ToonDecodeError
from ._scalars import UNSAFE_CHAR, ScanError, encode_key as _encode_key, format_primitive as _format
from ._scalars import find_closing_quote as _find_closing_quote, parse_token, quote, unescape
from ._types import PRIMITIVE_TYPES


def _decode_error(e: ScanError, offset: int = 0) -> ToonDecodeError:
    return ToonDecodeError(e.msg, 1, offset + e.pos + 1)


def parse_primitive(token: str) -> Any:
    """One primitive token as the decoder reads a value (§4): a quoted string
    (unescaped per §7.1), a number (§4 grammar: ``05`` stays a string), ``true``,
    ``false`` or ``null``, else the token itself as a string. Surrounding spaces
    are trimmed as around any value (§12).

    Raises :class:`ToonDecodeError` (line 1, column within ``token``) for a
    malformed quoted token, and for a number the decoder refuses (see
    :func:`toon_tools.codec.decode`).
    """
    tok = token.strip(" ")
    try:
        return parse_token(tok)
    except ScanError as e:
        raise _decode_error(e, len(token) - len(token.lstrip(" "))) from None


def format_primitive(value: Any, delimiter: str = ",") -> str:
    """A primitive (str, int, float, bool, None) as the encoder writes it (§2),
    quoted when §7.2 requires it with ``delimiter`` active (§11.1).

    Host types map as in :func:`toon_tools.codec.encode` (``Decimal`` exactly,
    enums by value, ...). Raises ``TypeError`` for a container or an unsupported
    type, and ``ValueError`` for what the encoder refuses (a lone surrogate, an
    integer past Python's int-to-string limit).
    """
    unsafe = UNSAFE_CHAR.get(delimiter)
    if unsafe is None:
        raise ValueError(f"delimiter must be ',', '\\t' or '|', not {delimiter!r}")
    if type(value) not in PRIMITIVE_TYPES:
        from ._host import normalize

        value = normalize(value, None)
        if type(value) not in PRIMITIVE_TYPES:
            raise TypeError(f"format_primitive takes a primitive, not {type(value).__name__}")
    return _format(value, unsafe)


def encode_key(key: str) -> str:
    """A key or field name as the encoder writes it: bare when it matches
    ``^[A-Za-z_][A-Za-z0-9_.]*$``, else quoted and escaped (§7.3)."""
    return _encode_key(key)


def quote_string(s: str) -> str:
    """``s`` in double quotes, always, escaped per §7.1. Raises ``ValueError`` for
    a lone surrogate, which TOON text cannot hold."""
    return quote(s)


def find_closing_quote(text: str, start: int) -> int:
    """Index of the ``"`` that closes the quoted string opening at ``text[start]``
    (escapes skipped, §7.1). Raises :class:`ToonDecodeError` (line 1, the column
    of the opening quote) if the string is unterminated."""
    try:
        return _find_closing_quote(text, start)
    except ScanError as e:
        raise _decode_error(e) from None


def unescape_string(text: str, start: int, end: int) -> str:
    """The value of the escaped body ``text[start:end]`` of a quoted string
    (§7.1, strict: raw control characters other than tab are refused). Raises
    :class:`ToonDecodeError` (line 1, column of the bad escape) for an escape
    §7.1 does not list."""
    try:
        return unescape(text, start, end, True)
    except ScanError as e:
        raise _decode_error(e) from None
