"""Where model replies are cached: one record per call key, on disk.

The runner asks a :class:`ReplyCache` before every call and stores the reply
before the call counts as done, so a killed run resumes without repeating it.
The key (``runner.call_key``) covers everything that changes the answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, Protocol, TypedDict

#: Cached replies kept at most, in bytes; the oldest stored go first.
SIZE_LIMIT: Final = 2**30


class CachedReply(TypedDict):
    content: str
    prompt_tokens: int
    completion_tokens: int


class ReplyCache(Protocol):
    """What the runner needs of a reply cache (``diskcache.Cache`` is one)."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> Any: ...


class DiskReplyCache:
    """Replies in a diskcache (SQLite) folder: durable once ``set`` returns, safe
    to share between processes and threads."""

    def __init__(self, folder: Path, size_limit: int = SIZE_LIMIT) -> None:
        import diskcache

        self.folder = folder
        self._cache = diskcache.Cache(str(folder), size_limit=size_limit,
                                      eviction_policy="least-recently-stored")

    @classmethod
    def in_cache_dir(cls, cache_dir: Path) -> DiskReplyCache:
        """The replies' place in toon-tools' cache folder: ``<cache-dir>/llm``."""
        return cls(cache_dir / "llm")

    def get(self, key: str) -> CachedReply | None:
        value: CachedReply | None = self._cache.get(key)
        return value

    def set(self, key: str, value: CachedReply) -> None:
        self._cache.set(key, value)

    def close(self) -> None:
        self._cache.close()
