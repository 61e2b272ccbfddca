"""How soon ``toon check --watch`` answers a save (issue 14: within 200 ms).

For N saves of one file in a watched folder: the time from the write to the
command's output line for it. Baselines in the same run: ``toon check one.toon``
in-process (the work a re-run does) and as a new process (what a watcher that
spawned one per change would pay).

    .venv/bin/python scripts/bench_watch.py [--saves 30]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def watch_latencies(folder: Path, saves: int) -> list[float]:
    proc = subprocess.Popen([sys.executable, "-m", "toon_tools", "check", "--watch", "data"],
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()

    def wait_for(text: str) -> float:
        while True:
            line = lines.get(timeout=30)
            if text in line:
                return time.perf_counter()

    wait_for("watching data")
    target = folder / "data" / "one.toon"
    found = []
    extra = 0
    try:
        for i in range(saves):
            time.sleep(0.3)  # separate saves (not a burst)
            # A save that started two runs would leave a second "All good" line
            # that the next save's wait would take for its own: drop (and count)
            # whatever is already there, so each figure is its own save's.
            while not lines.empty():
                extra += "All good" in lines.get_nowait()
            start = time.perf_counter()
            target.write_text(f"n: {i}\nitems[2]: a,b\n")
            found.append(wait_for("All good: 1 file checked") - start)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    if extra:
        print(f"note: {extra} save(s) started a second run; not counted as answers")
    return found


def in_process(folder: Path, runs: int) -> list[float]:
    from click.testing import CliRunner

    from toon_tools.cli.main import cli

    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            result = runner.invoke(cli, ["check", "data/one.toon"])
            times.append(time.perf_counter() - start)
            assert result.exit_code == 0, result.output
        return times
    finally:
        os.chdir(cwd)


def new_process(folder: Path, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "toon_tools", "check", "data/one.toon"],
                       cwd=folder, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        (folder / "data" / "one.toon").write_text("n: 0\n")
        rows = [("save -> output line, toon check --watch", watch_latencies(folder, args.saves)),
                ("toon check one.toon, in-process", in_process(folder, args.saves)),
                ("toon check one.toon, new process", new_process(folder, 10))]
    base = statistics.median(rows[1][1])
    print(f"{'what':44} {'n':>3} {'median ms':>10} {'max ms':>8} {'x in-process':>13}")
    for name, times in rows:
        med = statistics.median(times)
        print(f"{name:44} {len(times):3d} {med * 1000:10.1f} {max(times) * 1000:8.1f} "
              f"{med / base:13.1f}")


if __name__ == "__main__":
    main()
