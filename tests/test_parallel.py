"""The one pool policy: worker counts, thresholds, input order, and no nesting."""

from __future__ import annotations

import os

import pytest

from toon_tools import parallel
from toon_tools.errors import ToolError
from toon_tools.parallel import CHECK, Workload, map_in_order, pool_size, worker_count

SMALL = Workload("test", min_items=4)


def test_jobs_env_sets_the_worker_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOON_TOOLS_JOBS", "3")
    assert worker_count() == 3
    assert worker_count(5) == 5  # --jobs wins over the environment
    monkeypatch.delenv("TOON_TOOLS_JOBS")
    assert worker_count() == (os.cpu_count() or 1)


@pytest.mark.parametrize("value", ["abc", "0", "-3", "1.5", " "])
def test_a_bad_jobs_variable_is_an_environment_error(monkeypatch: pytest.MonkeyPatch,
                                                     value: str) -> None:
    monkeypatch.setenv("TOON_TOOLS_JOBS", value)
    with pytest.raises(ToolError, match="TOON_TOOLS_JOBS: expected a whole number of worker "
                                        "processes from 1") as info:
        worker_count()
    assert info.value.exit_code == 2
    assert worker_count(2) == 2  # --jobs given: the variable is not consulted


def test_one_job_means_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOON_TOOLS_JOBS", "1")
    assert pool_size(SMALL, 1000) == 1
    assert map_in_order(_pid, list(range(10)), SMALL) == [os.getpid()] * 10


def _pid(_: object) -> int:
    return os.getpid()


def _nested_pool_size(_: object) -> int:
    return pool_size(SMALL, 1000, jobs=4)


def test_thresholds_decide_when_a_pool_pays() -> None:
    assert pool_size(CHECK, 10, total_bytes=1000, jobs=2) == 1
    assert pool_size(CHECK, 100_000, jobs=2) == 1  # file count alone never pays
    assert pool_size(CHECK, 3, total_bytes=CHECK.min_bytes, jobs=2) == 2
    assert pool_size(CHECK, 1, total_bytes=CHECK.min_bytes, jobs=2) == 1  # one item: no pool


def test_results_keep_input_order_and_run_in_workers() -> None:
    items = list(range(40))
    assert map_in_order(_square, items, SMALL, jobs=2) == [i * i for i in items]
    pids = set(map_in_order(_pid, items, SMALL, jobs=2))
    assert os.getpid() not in pids


def _square(x: int) -> int:
    return x * x


def test_pools_never_nest() -> None:
    # Inside a worker, even an explicit --jobs asks for no pool of its own.
    assert set(map_in_order(_nested_pool_size, list(range(8)), SMALL, jobs=2)) == {1}
    assert os.environ.get(parallel._IN_WORKER_ENV) is None  # the parent is untouched
