"""Upkeep shared by toon-tools' disk caches (token counts, model replies): what a
diskcache folder holds, and removing entries by when they were stored.

Both caches are diskcache folders (SQLite plus a file per large value). Removal
goes through diskcache's own batched delete, the one its ``clear``, ``expire``
and ``evict`` use: each batch is one write transaction under the lock every
writer takes, and the value files of removed entries are deleted after it
commits. So pruning is safe while a pipeline run or a hook uses the cache, and
the folder itself is never removed from under them.

Nothing here opens a cache that is not there: a missing cache has no entries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final, NamedTuple, TypedDict

#: The database file diskcache keeps in its folder.
DATABASE: Final = "cache.db"

# Rows stored before a time, oldest first, through the store_time index that
# the least-recently-stored policy keeps. Each batch resumes at the last store
# time seen (``>=``: ties at a batch's edge are not skipped; removed rows are
# gone, so none is seen twice).
_STORED_BEFORE: Final = (
    "SELECT rowid, store_time, filename FROM Cache"
    " WHERE ? <= store_time AND store_time < ?"
    " ORDER BY store_time LIMIT ?"
)
_BATCH: Final = 100


class Removed(NamedTuple):
    """What a prune took away: entries, and bytes of disk freed (diskcache's
    estimate: database pages and value files)."""

    entries: int
    bytes: int


class CacheInfo(TypedDict):
    directory: str
    entries: int
    bytes: int
    size_limit: int
    usable: bool


def exists(folder: Path) -> bool:
    """Whether ``folder`` holds a diskcache database (a bare folder holds nothing)."""
    return (folder / DATABASE).is_file()


def info(cache: Any, folder: Path, size_limit: int) -> CacheInfo:
    return {"directory": str(folder), "entries": int(len(cache)),
            "bytes": int(cache.volume()), "size_limit": size_limit, "usable": True}


def empty_info(folder: Path, size_limit: int, *, usable: bool = True) -> CacheInfo:
    return {"directory": str(folder), "entries": 0, "bytes": 0, "size_limit": size_limit,
            "usable": usable}


def prune(cache: Any, stored_before: float) -> Removed:
    """Remove the entries of ``cache`` (a ``diskcache.Cache``) stored before the
    time ``stored_before`` (seconds since the epoch).

    diskcache has no public "stored before" selection, so this hands its batched
    delete (``Cache._select_delete``, diskcache 5) a query on the ``store_time``
    column of its ``Cache`` table; tests/pipeline/test_cache.py guards the
    contract. Raises ``diskcache.Timeout`` (with the count removed so far) when
    another process holds the lock too long, and sqlite3/OS errors as they come.
    """
    before = cache.volume()
    count = cache._select_delete(_STORED_BEFORE, [0.0, stored_before, _BATCH], row_index=1)
    return Removed(int(count), max(0, int(before - cache.volume())))
