#!/usr/bin/env python3
"""Start-up benchmark: what a commit hook pays before it does any work.

Times, interleaved in one run (so machine noise hits all alike), the median of
N runs of:

- ``python -c "import click"`` (the baseline: no CLI can start faster);
- ``toon --help``;
- ``toon check one.toon`` on a small valid file.

and prints each as a ratio to the baseline. Targets (issue 11): ``--help`` at
most 1.6x, ``check one.toon`` at most 2x.

    python scripts/bench_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(cmd: list[str], cwd: str) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "one.toon").write_text("name: Ada\ntags[2]: a,b\n", encoding="utf-8")
        commands = {
            'python -c "import click"': [py, "-c", "import click"],
            "toon --help": [py, "-m", "toon_tools", "--help"],
            "toon check one.toon": [py, "-m", "toon_tools", "check", "-q", "one.toon"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for name, cmd in commands.items():  # warm the OS caches and .pyc files
            timed(cmd, tmp)
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, tmp))
    base = statistics.median(times['python -c "import click"'])
    print(f"{'command':<28} {'median ms':>10} {'ratio':>7}   ({args.runs} interleaved runs)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:<28} {median * 1000:>10.1f} {median / base:>6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
