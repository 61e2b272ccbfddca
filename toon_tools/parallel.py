"""Per-file work in a process pool, only when the batch pays for the workers.

Results come back in input order whatever order workers finish in, so output
is deterministic; each item's function returns its own result or error, so one
bad file never hides the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Final, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Below these a batch runs in-process: forking workers costs more than it saves
#: (measured with scripts/bench_hooks.py).
POOL_MIN_FILES: Final = 100
POOL_MIN_BYTES: Final = 8 * 1024 * 1024


#: Set to a number of worker processes; 1 forces in-process work.
JOBS_ENV: Final = "TOON_TOOLS_JOBS"


def default_jobs() -> int:
    try:
        return max(1, int(os.environ[JOBS_ENV]))
    except (KeyError, ValueError):
        return os.cpu_count() or 1


def worth_a_pool(count: int, total_bytes: int = 0) -> bool:
    return default_jobs() > 1 and (count >= POOL_MIN_FILES or total_bytes >= POOL_MIN_BYTES)


def map_in_order(fn: Callable[[T], R], items: Sequence[T], *, pool: bool | None = None,
                 jobs: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, in a process pool when ``pool`` (default: when
    the batch is large enough)."""
    if pool is None:
        pool = worth_a_pool(len(items))
    workers = min(jobs or default_jobs(), len(items))
    if not pool or workers < 2:
        return [fn(x) for x in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as ex:
        return list(ex.map(fn, items, chunksize=max(1, len(items) // (workers * 4))))
