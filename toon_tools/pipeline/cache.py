"""Where model replies are cached: one record per call key, on disk.

The runner asks a :class:`ReplyCache` before every call and stores the reply
before the call counts as done, so a killed run resumes without repeating it.
The key (``runner.call_key``) covers everything that changes the answer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict

from ..errors import ToolError

if TYPE_CHECKING:
    from ..cache_upkeep import CacheInfo, Removed

#: Cached replies kept at most, in bytes; the oldest stored go first.
SIZE_LIMIT: Final = 2**30
#: The replies' folder in toon-tools' cache folder.
FOLDER: Final = "llm"


class CachedReply(TypedDict, total=False):
    """An accepted reply, stored under the key of its step's first ask."""

    content: str
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int
    finish_reason: str | None
    attempts: int  # the try that was accepted (1: the first ask)
    salvage_rounds: int  # follow-ups that completed a table cut short in that try


class ReplyCache(Protocol):
    """What the runner needs of a reply cache (``diskcache.Cache`` is one)."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> Any: ...


class DiskReplyCache:
    """Replies in a diskcache (SQLite) folder: durable once ``set`` returns, safe
    to share between processes and threads."""

    def __init__(self, folder: Path, size_limit: int = SIZE_LIMIT) -> None:
        """ToolError (exit 2) naming the folder when the database cannot be opened."""
        import diskcache

        self.folder = folder
        #: What went wrong after opening (a read taken as a miss, a reply not
        #: stored), for the caller to report; a run goes on without the cache.
        self.problems: list[str] = []
        try:
            self._cache = diskcache.Cache(str(folder), size_limit=size_limit,
                                          eviction_policy="least-recently-stored")
        except _FAILURES as e:
            raise _unusable(folder, e) from None

    @classmethod
    def in_cache_dir(cls, cache_dir: Path) -> DiskReplyCache:
        """The replies' place in toon-tools' cache folder: ``<cache-dir>/llm``."""
        return cls(cache_dir / FOLDER)

    def get(self, key: str) -> CachedReply | None:
        import diskcache

        try:
            value: CachedReply | None = self._cache.get(key)
        except (*_FAILURES, diskcache.Timeout) as e:
            self.problems.append(f"a cached reply could not be read ({type(e).__name__}: {e})")
            return None
        return value

    def set(self, key: str, value: CachedReply) -> None:
        import diskcache

        try:
            self._cache.set(key, value)
        except (*_FAILURES, diskcache.Timeout) as e:
            self.problems.append(f"an accepted reply could not be cached ({type(e).__name__}: {e})")

    def close(self) -> None:
        self._cache.close()

    # -- upkeep (``toon cache``): never depends on what a stored value holds

    @classmethod
    def existing_in(cls, cache_dir: Path) -> DiskReplyCache | None:
        """The replies in ``cache_dir`` if a cache is there, else None; creates
        nothing. A database that cannot be opened is a ToolError naming the
        folder: it is left as it is (replies cost money; the user decides)."""
        from ..cache_upkeep import exists

        folder = cache_dir / FOLDER
        if not exists(folder):
            return None
        try:
            return cls.in_cache_dir(cache_dir)
        except _FAILURES as e:
            raise _unusable(folder, e) from None

    def info(self) -> CacheInfo:
        """Entries, bytes on disk (diskcache's estimate) and the size limit."""
        from ..cache_upkeep import info

        try:
            return info(self._cache, self.folder, int(self._cache.size_limit))
        except _FAILURES as e:
            raise _unusable(self.folder, e) from None

    def clear(self) -> int:
        """Remove every reply (value files too); the number removed."""
        import diskcache

        try:
            return int(self._cache.clear())
        except diskcache.Timeout as e:
            raise _busy(self.folder, e) from None
        except _FAILURES as e:
            raise _unusable(self.folder, e) from None

    def prune(self, stored_before: float) -> Removed:
        """Remove the replies stored before ``stored_before`` (seconds since the
        epoch): entries removed and bytes freed."""
        import diskcache

        from ..cache_upkeep import prune

        try:
            return prune(self._cache, stored_before)
        except diskcache.Timeout as e:
            raise _busy(self.folder, e) from None
        except _FAILURES as e:
            raise _unusable(self.folder, e) from None


_FAILURES: Final = (sqlite3.Error, OSError)


def _unusable(folder: Path, error: BaseException) -> ToolError:
    return ToolError(f"unusable reply cache ({type(error).__name__}: {error}); "
                     "remove the folder to start afresh", path=str(folder))


def _busy(folder: Path, error: BaseException) -> ToolError:
    done = error.args[0] if error.args and isinstance(error.args[0], int) else 0
    return ToolError(f"reply cache busy: another process held its lock too long "
                     f"({done} removed before that); try again", path=str(folder))
