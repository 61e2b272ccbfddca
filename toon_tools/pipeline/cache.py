"""Where model replies are cached: one record per call key, on disk.

The runner asks a :class:`ReplyCache` before every call and stores the reply
before the call counts as done, so a killed run resumes without repeating it.
The key (``runner.call_key``) covers everything that changes the answer.

With a shared cache configured (``cache-url``, :mod:`toon_tools.remote_cache`),
:meth:`DiskReplyCache.in_cache_dir` gives a cache with a second level: a local
miss is looked up in Redis/Valkey (a hit is copied to disk), and a miss on both
takes the call's lease, so two machines running the same pipeline make each
call once: ``get`` returns None only to the lease's holder, which must ``set``
(stores on both levels, releases) or ``release``; another machine's ``get``
waits for that reply. ``peek`` looks on both levels without a lease or a wait.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TypedDict, cast

from ..errors import ToolError

if TYPE_CHECKING:
    from ..cache_upkeep import CacheInfo, Removed
    from ..remote_cache import Leases, SharedCache

#: Cached replies kept at most, in bytes; the oldest stored go first.
SIZE_LIMIT: Final = 2**30
#: The replies' folder in toon-tools' cache folder.
FOLDER: Final = "llm"
#: ``in_cache_dir(shared=FROM_SETTINGS)``: the shared level the settings name, if any.
FROM_SETTINGS: Final = "settings"


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

    def __init__(self, folder: Path, size_limit: int = SIZE_LIMIT,
                 shared: SharedCache | None = None, lease_ms: int | None = None) -> None:
        """ToolError (exit 2) naming the folder when the database cannot be opened.
        ``shared``: the second level (None: this folder only); ``lease_ms``: how
        long a lease outlives a holder that died (default ``LEASE_MS``, 15 s)."""
        import diskcache

        self.folder = folder
        #: What went wrong after opening (a read taken as a miss, a reply not
        #: stored, the shared level's one-line failure), for the caller to
        #: report; a run goes on without the cache.
        self.problems: list[str] = []
        self.shared = shared
        self._leases: Leases | None = None
        self._told = False
        self._stop_waits = threading.Event()
        if shared is not None:
            from ..remote_cache import LEASE_MS, Leases

            self._leases = Leases(shared, ms=lease_ms or LEASE_MS)
        try:
            self._cache = diskcache.Cache(str(folder), size_limit=size_limit,
                                          eviction_policy="least-recently-stored")
        except _FAILURES as e:
            raise _unusable(folder, e) from None

    @classmethod
    def in_cache_dir(cls, cache_dir: Path,
                     shared: SharedCache | str | None = FROM_SETTINGS) -> DiskReplyCache:
        """The replies' place in toon-tools' cache folder: ``<cache-dir>/llm``;
        with the shared level the settings name (``TOON_CACHE_URL``, else
        ``[tool.toon] cache-url``) unless ``shared`` says otherwise."""
        problem = None
        if isinstance(shared, str):
            from ..remote_cache import configured

            shared, problem = configured()
        cache = cls(cache_dir / FOLDER, shared=shared)
        if problem:
            cache.problems.append(problem)
        return cache

    def get(self, key: str) -> CachedReply | None:
        """The reply, locally or in the shared level (then copied to disk). With
        a shared level, None means the call's lease is now this process's: the
        caller must ``set`` or ``release``; while another machine holds it, this
        waits for its reply (or for the lease to go)."""
        found = self._get_local(key)
        if found is not None or self.shared is None or self._leases is None:
            return found
        from ..remote_cache import LEASES, REPLIES, wait_for

        value, _held = wait_for(self.shared, self._leases, REPLIES + key, LEASES + key,
                                stop=self._stop_waits)
        self._note_shared()
        return self._copied(key, value)

    def peek(self, key: str) -> CachedReply | None:
        """The reply on either level; no lease, never waits (batch lookups)."""
        found = self._get_local(key)
        if found is not None or self.shared is None:
            return found
        from ..remote_cache import REPLIES

        value = self.shared.get(REPLIES + key)
        self._note_shared()
        return self._copied(key, value)

    def stop_waiting(self) -> None:
        """End every wait for another machine's call now, and any later one at
        once (a stopped run starts no call): such a ``get`` returns None
        without the lease."""
        self._stop_waits.set()

    def release(self, key: str) -> None:
        """Give up the call's lease (the call failed or its reply was rejected):
        another machine may make it now. A no-op without one."""
        if self._leases is not None:
            from ..remote_cache import LEASES

            self._leases.drop(LEASES + key)
            self._note_shared()

    def _copied(self, key: str, value: Any) -> CachedReply | None:
        if not isinstance(value, dict) or not isinstance(value.get("content"), str):
            return None
        reply = cast(CachedReply, value)
        self._set_local(key, reply)
        return reply

    def _note_shared(self) -> None:
        if not self._told and self.shared is not None and self.shared.problem is not None:
            self._told = True
            self.problems.append(self.shared.problem)

    def _get_local(self, key: str) -> CachedReply | None:
        import diskcache

        try:
            value: CachedReply | None = self._cache.get(key)
        except (*_FAILURES, diskcache.Timeout) as e:
            self.problems.append(f"a cached reply could not be read ({type(e).__name__}: {e})")
            return None
        return value

    def set(self, key: str, value: CachedReply) -> None:
        """Store on both levels (the local one first: durable before the call
        counts as done), then release this process's lease on ``key``."""
        self._set_local(key, value)
        if self.shared is not None:
            from ..remote_cache import LEASES, REPLIES

            self.shared.set(REPLIES + key, value)
            if self._leases is not None:
                self._leases.drop(LEASES + key, all_holders=True)
            self._note_shared()

    def _set_local(self, key: str, value: CachedReply) -> None:
        import diskcache

        try:
            self._cache.set(key, value)
        except (*_FAILURES, diskcache.Timeout) as e:
            self.problems.append(f"an accepted reply could not be cached ({type(e).__name__}: {e})")

    def close(self) -> None:
        """Release the leases still held; close the local database."""
        self._stop_waits.set()
        if self._leases is not None:
            self._leases.close()
            self._note_shared()
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
            return cls.in_cache_dir(cache_dir, shared=None)
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
