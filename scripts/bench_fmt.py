#!/usr/bin/env python3
"""``toon fmt`` benchmark: --check and --diff against formatting itself.

    python scripts/bench_fmt.py            # ~1 MB file, every line changed
    python scripts/bench_fmt.py --mb 4

The file is a canonical document with every line made non-canonical (spaces
around delimiters and after colons). fmt (write), fmt --check and fmt --diff
run on it in the same run, through the command's own per-file function, so the
figures are ratios to fmt: --check and --diff must stay within 2x (issue 10).
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toon_tools  # noqa: E402
from toon_tools.cli.commands.fmt import CHANGED, format_file  # noqa: E402


def messy_document(megabytes: float) -> str:
    """A canonical document of about ``megabytes`` MB, every line then changed."""
    rng = random.Random(7)
    rows = int(megabytes * 1_000_000 / 42)
    value = {
        "service": "billing", "owner": "platform team",
        "users": [{"id": i, "name": f"user{i}", "email": f"u{i}@example.com",
                   "score": round(rng.random() * 100, 2), "active": rng.random() < 0.5}
                  for i in range(rows // 2)],
        "events": [{"ts": f"2025-01-01T00:00:{i % 60:02d}Z", "kind": rng.choice(["a", "b"]),
                    "detail": {"code": rng.randint(1, 999), "note": f"event {i}"}}
                   for i in range(rows // 4)],
        "settings": {f"key{i}": {"limit": i, "label": f"setting {i}"} for i in range(rows // 8)},
    }
    lines = []
    for line in toon_tools.encode(value).split("\n"):
        if ": " in line:
            line = line.replace(": ", ":   ", 1)
        elif "," in line:
            line = line.replace(",", " , ")
        else:
            line = line + "   " if line.endswith(":") else line.replace(":", ":  ", 1)
        lines.append(line)
    return "\n".join(lines) + "\n"


def timed(path: Path, mode: str, source: Path, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        shutil.copyfile(source, path)
        start = time.perf_counter()
        outcome, _ = format_file(str(path), 2, None, mode)
        times.append(time.perf_counter() - start)
        assert outcome == CHANGED, outcome
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="file size in MB")
    parser.add_argument("--repeat", type=int, default=3, help="runs per mode (median)")
    args = parser.parse_args()
    text = messy_document(args.mb)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp, "source.toon")
        source.write_text(text)
        lines = text.count("\n")
        formatted = toon_tools.format_text(text)
        changed = sum(a != b for a, b in zip(text.split("\n"), formatted.split("\n")))
        print(f"file: {len(text.encode()) / 1e6:.2f} MB, {lines} lines, {changed} changed")
        work = Path(tmp, "work.toon")
        base = timed(work, "write", source, args.repeat)
        print(f"{'command':<16}{'seconds':>10}{'vs fmt':>10}")
        print(f"{'fmt':<16}{base:>10.3f}{1.0:>9.2f}x")
        for label, mode in (("fmt --check", "check"), ("fmt --diff", "diff")):
            t = timed(work, mode, source, args.repeat)
            print(f"{label:<16}{t:>10.3f}{t / base:>9.2f}x")


if __name__ == "__main__":
    main()
