#!/usr/bin/env python3
"""Streaming decode benchmark: ``toon decode`` and ``toon check`` of a big table.

    python scripts/bench_stream.py              # ~200 MB tabular file, 3 repeats
    python scripts/bench_stream.py --mb 20 --repeat 5 --json-indent 0

A tabular TOON file of about ``--mb`` MB is generated in a temporary folder;
then, interleaved, each in its own process (peak RSS is the process's own,
from wait4's rusage):

  stream   toon decode big.toon -o a.json             (the streaming path)
  whole    toon decode big.toon -o b.json --no-stream (decode() + json.dumps)
  check    toon check big.toon                        (validation, streaming above 1 MB)

Prints median seconds and peak RSS of each, and stream/whole as a ratio.
Targets (issue 16): stream and check under 100 MB RSS; stream/whole <= 1.3.
Both decodes' outputs are compared byte for byte once.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIELDS = "id,name,email,score,active,team,note"


def row(i: int) -> str:
    return (f"  {i},user{i},u{i}@example.com,{(i * 37) % 10000 / 100},"
            f"{'true' if i % 3 else 'false'},team {i % 17},\"note, {i % 101}\"")


def generate(path: Path, megabytes: float) -> int:
    """A root-keyed table of about ``megabytes`` MB; returns its row count."""
    target = int(megabytes * 1_000_000)
    body = path.with_suffix(".body")
    n = size = 0
    with open(body, "w", encoding="utf-8", newline="\n") as fh:
        chunk: list[str] = []
        while size < target:
            line = row(n) + "\n"
            chunk.append(line)
            size += len(line)
            n += 1
            if len(chunk) == 10000:
                fh.write("".join(chunk))
                chunk.clear()
        fh.write("".join(chunk).rstrip("\n"))
    with open(path, "wb") as out, open(body, "rb") as src:
        out.write(f"users[{n}]{{{FIELDS}}}:\n".encode())
        while block := src.read(1 << 20):
            out.write(block)
    body.unlink()
    return n


def run(args: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of ``toon ARGS`` in a child process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "toon_tools", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code:
        raise SystemExit(f"toon {' '.join(args)}: exit {code}")
    return seconds, usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200, help="size of the file (MB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json-indent", default="2", help="passed to both decodes (0: one line)")
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp, "big.toon")
        rows = generate(big, opts.mb)
        mb = big.stat().st_size / 1e6
        print(f"{big.name}: {mb:.0f} MB, {rows:,} rows; {opts.repeat} interleaved runs each")
        a, b = str(Path(tmp, "a.json")), str(Path(tmp, "b.json"))
        cases = {
            "stream": ["decode", str(big), "-o", a, "--json-indent", opts.json_indent],
            "whole": ["decode", str(big), "-o", b, "--no-stream", "--json-indent", opts.json_indent],
            "check": ["check", "-q", str(big)],
        }
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for _ in range(opts.repeat):
            for name, args in cases.items():
                figures[name].append(run(args))
        same = filecmp.cmp(a, b, shallow=False)
        print(f"{'case':8} {'seconds':>8} {'peak RSS MB':>12}")
        med: dict[str, float] = {}
        for name, runs in figures.items():
            med[name] = statistics.median(s for s, _ in runs)
            rss = statistics.median(r for _, r in runs)
            print(f"{name:8} {med[name]:8.2f} {rss:12.1f}")
        print(f"stream/whole time: {med['stream'] / med['whole']:.2f}x (target <= 1.3); "
              f"outputs identical: {same}")


if __name__ == "__main__":
    main()
