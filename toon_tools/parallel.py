"""The one pool policy: how many workers, when a batch pays for them, how they
start, and that pools never nest.

Every command that spreads work over processes (check, fmt, twins, convert,
PDF pages, token counting) goes through here, so ``TOON_TOOLS_JOBS`` and
``--jobs`` mean the same everywhere: a number of worker processes, with 1
meaning "work in this process".

Results come back in input order whatever order workers finish in, so output
is deterministic; each item's function returns its own result or error, so one
bad file never hides the others.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

#: Set to a number of worker processes; 1 forces in-process work.
JOBS_ENV: Final = "TOON_TOOLS_JOBS"


@dataclass(frozen=True)
class Workload:
    """A kind of work and the batch size from which a pool pays for itself:
    starting workers costs ~50 ms, so a batch must hold more work than that.
    A batch qualifies when it reaches either threshold."""

    name: str
    min_items: int
    min_bytes: int = 1 << 62


#: Measured with the scripts/bench_*.py benchmarks on 2 cores.
#: Validating is ~30 ms per MB whatever the file count: only the volume decides.
CHECK: Final = Workload("check", min_items=1 << 62, min_bytes=8 << 20)
FORMAT: Final = Workload("format", min_items=200, min_bytes=8 << 20)  # decode + encode
TWINS: Final = Workload("twins", min_items=200)  # ~0.25 ms per twin (bench_hooks.py)
CONVERT: Final = Workload("convert", min_items=8)  # files of any format, PDFs among them
PDF_PAGES: Final = Workload("pdf-pages", min_items=24)  # ~10 ms per page
TOKENS: Final = Workload("tokens", min_items=1 << 62, min_bytes=2 << 20)  # ~17 MB/s uncached

# Set in every worker this module starts: a worker never starts a pool of its own.
_IN_WORKER_ENV: Final = "TOON_TOOLS_IN_WORKER"


def worker_count(jobs: int | None = None) -> int:
    """``jobs`` if given, else ``TOON_TOOLS_JOBS``, else the CPU count; always 1
    inside a pool worker. A ``TOON_TOOLS_JOBS`` that is no whole number from 1 is
    an environment error (exit 2), never silently ignored."""
    if os.environ.get(_IN_WORKER_ENV):
        return 1
    if jobs is not None:
        return max(1, jobs)
    value = os.environ.get(JOBS_ENV)
    if value is None or value == "":
        return os.cpu_count() or 1
    if not value.strip().isdigit() or int(value) < 1:
        from .errors import ToolError

        raise ToolError(f"{JOBS_ENV}: expected a whole number of worker processes from 1, "
                        f"got {value!r}")
    return int(value)


def pool_size(workload: Workload, items: int, total_bytes: int = 0,
              jobs: int | None = None) -> int:
    """How many workers to use for this batch; 1 means in-process."""
    workers = min(worker_count(jobs), items)
    if workers < 2:
        return 1
    if items < workload.min_items and total_bytes < workload.min_bytes:
        return 1
    return workers


def _mark_worker(initializer: Callable[..., None] | None, *initargs: Any) -> None:
    os.environ[_IN_WORKER_ENV] = "1"
    if initializer is not None:
        initializer(*initargs)


def executor(workers: int, initializer: Callable[..., None] | None = None,
             initargs: tuple[Any, ...] = ()) -> ProcessPoolExecutor:
    """A process pool of ``workers``, forked where the platform can (workers
    inherit what the parent has loaded) and marked so that they never nest."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_mark_worker,
                               initargs=(initializer, *initargs))


def imap_in_order(fn: Callable[[T], R], items: Sequence[T], workload: Workload, *,
                  total_bytes: int = 0, jobs: int | None = None) -> Iterator[R]:
    """``(fn(x) for x in items)``, in a pool when the batch is big enough for
    ``workload``; results are yielded in input order as they come."""
    workers = pool_size(workload, len(items), total_bytes, jobs)
    if workers < 2:
        yield from (fn(x) for x in items)
        return
    with executor(workers) as ex:
        yield from ex.map(fn, items, chunksize=max(1, len(items) // (workers * 8)))


def map_in_order(fn: Callable[[T], R], items: Sequence[T], workload: Workload, *,
                 total_bytes: int = 0, jobs: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``; see :func:`imap_in_order`."""
    return list(imap_in_order(fn, items, workload, total_bytes=total_bytes, jobs=jobs))
