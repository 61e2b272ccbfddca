#!/usr/bin/env python3
"""Hook benchmark: stage 1, 10, 100 and 1,000 realistic .toon files in a real git
repository and time the whole hook work for check + twins, process start
included, as the pre-commit framework runs it (``toon check FILES`` then
``toon twins FILES``). Baselines in the same run:

- a shell loop running one process per file (how the design documents began);
  at 1,000 files it is timed on 100 of them and scaled (marked "est.");
- the same command forced serial (TOON_TOOLS_JOBS=1), to show the pool's gain.

Targets: 10 files < 0.3 s, 100 files < 1 s, 1,000 files pool >= 1.6x serial.

    python scripts/bench_hooks.py
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toon_tools import encode  # noqa: E402

TOON = [sys.executable, "-m", "toon_tools"]


def realistic(rng: random.Random, i: int) -> str:
    """An agent-state file: a config block, a 20-row task table, a few notes (~2 KB)."""
    return encode({
        "agent": {"name": f"agent-{i}", "model": "gpt-4o", "temperature": 0.2, "max_tokens": 800},
        "tasks": [{"id": j, "title": f"step {j} of plan {i}", "status": rng.choice(["todo", "done"]),
                   "owner": rng.choice(["ada", "bob", "eve"]), "cost": round(rng.random() * 3, 3)}
                  for j in range(20)],
        "notes": [f"remember item {k}: keep answers short" for k in range(5)],
    }) + "\n"


def timed(cmds: list[list[str]], cwd: Path, env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        for twin in cwd.glob("*.md"):
            twin.unlink()  # every run regenerates all twins
        t0 = time.perf_counter()
        for cmd in cmds:
            subprocess.run(cmd, cwd=cwd, env=env, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    rng = random.Random(3)
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    print(f"{'files':>6} {'hook (check+twins)':>19} {'forced serial':>14} {'pool gain':>10} "
          f"{'per-file loop':>16}")
    for n in (1, 10, 100, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp)
            subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
            names = [f"state{i:04d}.toon" for i in range(n)]
            for i, name in enumerate(names):
                (repo / name).write_text(realistic(rng, i))
            subprocess.run(["git", "add", "."], cwd=repo, check=True)
            hook = [[*TOON, "check", "--quiet", "--", *names], [*TOON, "twins", "--", *names]]
            repeat = 5 if n <= 100 else 3
            ours = timed(hook, repo, env, repeat)
            serial = timed(hook, repo, {**env, "TOON_TOOLS_JOBS": "1"}, repeat)
            sample = names[: min(n, 100)]
            loop_cmds = [c for f in sample for c in ([*TOON, "check", "--quiet", "--", f],
                                                     [*TOON, "twins", "--", f])]
            loop = timed(loop_cmds, repo, env, 1) * (n / len(sample))
            est = " est." if len(sample) < n else ""
            print(f"{n:>6} {ours:18.2f}s {serial:13.2f}s {serial / ours:9.2f}x {loop:11.1f}s{est}")


if __name__ == "__main__":
    main()
