#!/usr/bin/env python3
"""Checkpoint benchmark: ``toon checkpoint`` on repositories with 0, 10, 20 and 40
submodules, against a baseline measured in the same run: a loop that asks git
once per submodule (``git -C sub status --porcelain``), the approach that makes
snapshot time grow with the number of submodules.

    python scripts/bench_checkpoint.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toon_tools.convert.checkpoint import checkpoint  # noqa: E402

ENV = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x", "GIT_COMMITTER_NAME": "b",
       "GIT_COMMITTER_EMAIL": "b@x", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null"}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=cwd, check=True,
                   capture_output=True, env=ENV)


def repo_with(root: Path, n: int) -> Path:
    main = root / f"main{n}"
    main.mkdir()
    git(main, "init", "-q")
    (main / "a.txt").write_text("a")
    git(main, "add", ".")
    git(main, "commit", "-qm", "a")
    for i in range(n):
        sub = root / f"lib{n}-{i}"
        sub.mkdir()
        git(sub, "init", "-q")
        (sub / "x").write_text("x")
        git(sub, "add", ".")
        git(sub, "commit", "-qm", "x")
        git(main, "submodule", "add", "-q", str(sub), f"vendor/lib{i}")
    if n:
        git(main, "commit", "-qm", "subs")
    return main


def per_submodule_loop(main: Path, n: int) -> None:
    subprocess.run(["git", "status", "--porcelain"], cwd=main, capture_output=True, env=ENV)
    for i in range(n):
        subprocess.run(["git", "status", "--porcelain"], cwd=main / "vendor" / f"lib{i}",
                       capture_output=True, env=ENV)


def median(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'submodules':>10} {'checkpoint ms':>14} {'per-submodule loop ms':>22}")
        for n in (0, 10, 20, 40):
            repo = repo_with(Path(tmp), n)
            ours = median(lambda: checkpoint(repo))
            loop = median(lambda: per_submodule_loop(repo, n))
            print(f"{n:>10} {ours:14.1f} {loop:22.1f}")


if __name__ == "__main__":
    main()
