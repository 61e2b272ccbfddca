"""The JSON-model types the encoder handles directly (kept apart from _host so
that importing the encoder does not import datetime, decimal and friends)."""

from __future__ import annotations

from typing import Final


class Number(str):
    """A number already in canonical TOON text (used for ``Decimal``).

    Emitted unquoted, exactly as it is, so decimals keep every digit.
    """

    __slots__ = ()


#: Types the encoder handles without normalization.
PRIMITIVE_TYPES: Final = frozenset({str, int, float, bool, type(None), Number})
JSON_TYPES: Final = PRIMITIVE_TYPES | {dict, list}
