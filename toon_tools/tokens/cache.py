"""The disk cache of token counts (diskcache on SQLite).

Keys are ``tokens:<encoding>:<sha256 of the bytes>``, values are counts, so a
cache entry can never describe the wrong content. diskcache is safe for many
processes at once (hooks and CI jobs share one cache). The cache is a speed-up,
never a point of failure: a corrupted database is reported once, moved aside and
rebuilt, and if even that fails counting goes on without a cache.

With a shared cache configured (``cache-url``: Redis or Valkey, see
:mod:`toon_tools.remote_cache`), a batch's local misses are looked up there in
one round trip, its hits copied to the local cache, and new counts stored in
both. The shared level never fails a count: its first failure is one line in
``problems`` and the level is off for the rest of the process.

Where the cache lives is the caller's choice (the CLI takes it from
``[tool.toon] cache-dir``); :func:`default_cache_dir` is the fallback, and it
reads no configuration file.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from ..cache_upkeep import CacheInfo, Removed
    from ..remote_cache import SharedCache

#: ``TokenCache(shared=FROM_SETTINGS)``: the shared level the settings name, if any.
FROM_SETTINGS: Final = "settings"

#: Upper bound of the cache's size on disk; least recently stored entries go
#: first. A count entry is about 100 bytes, so this holds roughly half a million.
SIZE_LIMIT: Final = 64 * 1024 * 1024
_TIMEOUT: Final = 30.0  # seconds to wait for another process's write lock
_FAILURES: Final = (sqlite3.Error, OSError)
_CULL_LIMIT: Final = 10  # entries evicted per set when the cache is full (diskcache's default)
_ENTRY_BYTES: Final = 400  # generous size of one entry on disk, for the room check
#: The counts' folder in toon-tools' cache folder.
FOLDER: Final = "tokens"
#: The environment variable that moves every toon-tools cache.
CACHE_DIR_ENV: Final = "TOON_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$TOON_CACHE_DIR``, else the user cache folder (platformdirs:
    ``~/.cache/toon-tools`` on Linux, honouring ``XDG_CACHE_HOME``)."""
    given = os.environ.get(CACHE_DIR_ENV)
    if given:
        return Path(os.path.expanduser(given))
    import platformdirs

    return Path(platformdirs.user_cache_dir("toon-tools", appauthor=False))


def key_for(encoding: str, sha256: str) -> str:
    return f"tokens:{encoding}:{sha256}"


class TokenCache:
    """Token counts by content, in batches (``put_many`` writes a batch in one
    transaction). Failures never propagate: they are recorded in
    ``problems`` (for the caller to report once) and the cache steps aside."""

    def __init__(self, directory: Path,
                 shared: SharedCache | str | None = FROM_SETTINGS) -> None:
        """``shared``: the second level; FROM_SETTINGS (the default) resolves
        ``TOON_CACHE_URL`` / ``[tool.toon] cache-url`` at the first lookup."""
        self.directory = directory
        self.problems: list[str] = []  # what went wrong, for the CLI to report once
        self._cache: Any = None
        self._broken = False
        self._shared_given = shared
        self._shared_told = False

    @property
    def shared(self) -> SharedCache | None:
        """The shared level, resolved once (None: none configured, or unusable)."""
        given = self._shared_given
        if isinstance(given, str):
            from ..remote_cache import configured

            level, problem = configured()
            if problem:
                self.problems.append(problem)
            self._shared_given = given = level
        return given

    def _note_shared(self) -> None:
        """The shared level's one-line failure, into ``problems`` once."""
        level = self._shared_given
        if not self._shared_told and not isinstance(level, str) and level is not None \
                and level.problem is not None:
            self._shared_told = True
            self.problems.append(level.problem)

    @staticmethod
    def _shared_key(key: str) -> str:
        from ..remote_cache import PREFIX

        return PREFIX + key

    def _open(self) -> Any:
        if self._cache is None and not self._broken:
            try:
                self._cache = _connect(self.directory)
            except _FAILURES as e:
                self._recover(e)
        return self._cache

    def _recover(self, error: BaseException) -> None:
        """Move a broken cache aside and start a new one; give up after one try."""
        first = not self.problems
        if self._cache is not None:
            try:
                self._cache.close()
            except _FAILURES:
                pass
            self._cache = None
        if not first or self._broken:
            self._broken = True
            return
        self.problems.append(f"token cache at {self.directory} was unusable "
                             f"({type(error).__name__}: {error}); rebuilt it")
        aside = self.directory.with_name(f"{self.directory.name}.broken-{int(time.time())}")
        try:
            if self.directory.exists():
                self.directory.rename(aside)
                shutil.rmtree(aside, ignore_errors=True)
            self._cache = _connect(self.directory)
        except _FAILURES as e:
            self.problems.append(f"token cache disabled for this run: {e}")
            self._broken = True
            self._cache = None

    def get_many(self, keys: Iterable[str]) -> dict[str, int]:
        """Counts found: locally, then (for the local misses) in the shared level
        in one round trip; shared hits are copied to the local cache."""
        keys = list(keys)
        found = self._get_local(keys)
        shared = self.shared if len(found) < len(keys) else None
        if shared is not None:
            missing = [k for k in keys if k not in found]
            remote = shared.get_many([self._shared_key(k) for k in missing])
            self._note_shared()
            copied = {k: v for k in missing
                      if isinstance(v := remote.get(self._shared_key(k)), int)
                      and not isinstance(v, bool)}
            if copied:
                self._put_local(copied)
                found.update(copied)
        return found

    def _get_local(self, keys: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for _attempt in (1, 2):
            cache = self._open()
            if cache is None:
                return found
            try:
                for k in keys:
                    v = cache.get(k)
                    if isinstance(v, int):
                        found[k] = v
                return found
            except _FAILURES as e:
                found.clear()
                self._recover(e)
        return found

    def put_many(self, items: Mapping[str, int]) -> None:
        """Store new counts locally and in the shared level."""
        if not items:
            return
        self._put_local(items)
        shared = self.shared
        if shared is not None:
            shared.set_many({self._shared_key(k): v for k, v in items.items()})
            self._note_shared()

    def _put_local(self, items: Mapping[str, int]) -> None:
        for _attempt in (1, 2):
            cache = self._open()
            if cache is None:
                return
            try:
                # diskcache evicts a few entries on every set, which costs a third
                # of a batch's time; skip that when the batch fits under the limit
                # (for this connection only: update=False leaves other processes
                # sharing the cache their own setting).
                fits = cache.volume() + len(items) * _ENTRY_BYTES < SIZE_LIMIT
                cache.reset("cull_limit", 0 if fits else _CULL_LIMIT, update=False)
                with cache.transact():  # one transaction: one fsync for the batch
                    for k, v in items.items():
                        cache.set(k, v)
                return
            except _FAILURES as e:
                self._recover(e)

    def _give_up(self, problem: str) -> None:
        self.problems.append(problem)
        self._broken = True
        self.close()

    @property
    def disabled(self) -> bool:
        """Whether the cache gave up for this process (``problems`` says why)."""
        return self._broken

    def _absent(self) -> bool:
        """No cache on disk yet, and none opened: upkeep has nothing to do and
        must not create one."""
        from ..cache_upkeep import exists

        return self._cache is None and not exists(self.directory)

    def info(self) -> CacheInfo:
        """Entries, bytes on disk and the size limit; a missing cache has none
        (and is not created)."""
        from ..cache_upkeep import empty_info, info

        for _attempt in (1, 2):
            if self._absent():
                return empty_info(self.directory, SIZE_LIMIT)
            cache = self._open()
            if cache is None:
                break
            try:
                return info(cache, self.directory, SIZE_LIMIT)
            except _FAILURES as e:
                self._recover(e)
        return empty_info(self.directory, SIZE_LIMIT, usable=False)

    def clear(self) -> int:
        """Remove every count (through diskcache, safe while others use the
        cache); the number removed."""
        import diskcache

        if self._absent():
            return 0
        cache = self._open()
        if cache is None:
            return 0
        try:
            return int(cache.clear())
        except diskcache.Timeout as e:
            self._give_up(f"token cache at {self.directory} was busy: another process "
                          f"held its lock too long ({e.args[0] if e.args else 0} cleared)")
        except _FAILURES as e:
            self._recover(e)
        return 0

    def prune(self, stored_before: float) -> Removed:
        """Remove the counts stored before ``stored_before`` (seconds since the
        epoch): entries removed and bytes freed. Failures go to ``problems``."""
        import diskcache

        from ..cache_upkeep import Removed, prune

        if self._absent():
            return Removed(0, 0)
        cache = self._open()
        if cache is None:
            return Removed(0, 0)
        try:
            return prune(cache, stored_before)
        except diskcache.Timeout as e:
            self._give_up(f"token cache at {self.directory} was busy: another process "
                          f"held its lock too long ({e.args[0] if e.args else 0} pruned)")
        except _FAILURES as e:
            self._recover(e)
        return Removed(0, 0)

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def _connect(directory: Path) -> Any:
    import diskcache

    return diskcache.Cache(str(directory), size_limit=SIZE_LIMIT, timeout=_TIMEOUT,
                           eviction_policy="least-recently-stored", cull_limit=_CULL_LIMIT)
