"""toon-tools: a toolchain for TOON, Token-Oriented Object Notation (spec v4.0).

The public API mirrors the ``json`` module::

    >>> import toon_tools
    >>> toon_tools.encode({"users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]})
    'users[2]{id,name}:\\n  1,Ada\\n  2,Bob'
    >>> toon_tools.decode("tags[2]: a,b")
    {'tags': ['a', 'b']}
"""

from __future__ import annotations

from .codec import (
    DEFAULT_MAX_DEPTH,
    SPEC_VERSION,
    ToonDecodeError,
    decode,
    dump,
    encode,
    encode_lines,
    format_text,
    load,
)

__version__ = "0.1.0"


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    """Exact tiktoken token count of ``text`` (see :mod:`toon_tools.tokens`);
    imported lazily so that ``import toon_tools`` stays light."""
    from .tokens import count_tokens as count

    return count(text, encoding)


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "SPEC_VERSION",
    "ToonDecodeError",
    "__version__",
    "count_tokens",
    "decode",
    "dump",
    "encode",
    "encode_lines",
    "format_text",
    "load",
]
