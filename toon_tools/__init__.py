"""toon-tools: a toolchain for TOON, Token-Oriented Object Notation (spec v4.0).

The public API mirrors the ``json`` module::

    >>> import toon_tools
    >>> toon_tools.encode({"users": [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Bob"}]})
    'users[2]{id,name}:\\n  1,Ada\\n  2,Bob'
    >>> toon_tools.decode("tags[2]: a,b")
    {'tags': ['a', 'b']}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .codec import (
        DEFAULT_MAX_DEPTH,
        ToonDecodeError,
        decode,
        decode_events,
        decode_located,
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


_CODEC_NAMES = frozenset({"DEFAULT_MAX_DEPTH", "ToonDecodeError", "decode", "decode_events", "decode_located",
                          "dump", "encode", "encode_lines", "format_text", "load"})
#: Without importing the codec, so that ``toon --help`` stays fast.
SPEC_VERSION = "4.0"


def __getattr__(name: str) -> Any:
    # The codec is imported on first use (PEP 562), not by ``import toon_tools``:
    # the CLI and the hooks start without it.
    if name in _CODEC_NAMES:
        from . import codec

        return getattr(codec, name)
    raise AttributeError(f"module 'toon_tools' has no attribute {name!r}")


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "SPEC_VERSION",
    "ToonDecodeError",
    "__version__",
    "count_tokens",
    "decode",
    "decode_events",
    "decode_located",
    "dump",
    "encode",
    "encode_lines",
    "format_text",
    "load",
]
