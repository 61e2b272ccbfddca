#!/usr/bin/env python3
"""Codec cost in CPU instructions (callgrind), against toons: a figure that does not move
with the machine's load, unlike bench_codec.py's times.

    python scripts/bench_codec_instructions.py     # needs valgrind (Debian: apt install valgrind)

For each of bench_codec.py's table, events and config datasets, and each of encode and
decode, a child process runs the call 0 and then 2 times under
``valgrind --tool=callgrind``; half the difference is one call's instructions (start-up,
imports and reading the input cancel out). Each library decodes its own encoder's output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_codec  # noqa: E402

DATASETS = {"table": bench_codec.uniform_table, "events": bench_codec.event_log,
            "config": bench_codec.nested_config}
CHILD = """
import json, sys
lib, op, path, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if lib == "toon_tools":
    import toon_tools as m; enc, dec = m.encode, m.decode
else:
    import toons as m; enc, dec = m.dumps, m.loads
raw = open(path, encoding="utf-8").read()
arg = json.loads(raw) if op == "encode" else raw
fn = enc if op == "encode" else dec
fn(arg)  # warm: caches and first-call costs are not what is measured
for _ in range(n):
    fn(arg)
"""


def instructions(lib: str, op: str, path: Path, n: int) -> int:
    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", CHILD, lib, op, str(path), str(n)],
        capture_output=True, text=True, check=True)
    for line in proc.stderr.splitlines():
        if "Collected :" in line:
            return int(line.split()[-1])
    raise RuntimeError(proc.stderr[-500:])


def per_call(lib: str, op: str, path: Path) -> float:
    return (instructions(lib, op, path, 2) - instructions(lib, op, path, 0)) / 2


def main() -> None:
    import toons  # noqa: F401  (the peer must be installed: pip install -e ".[bench]")

    import toon_tools

    print(f"{'dataset':8} {'op':7} {'toon_tools':>12} {'toons':>12} {'us/toons':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in DATASETS.items():
            data = make()
            src = Path(tmp, f"{name}.json")
            src.write_text(json.dumps(data), encoding="utf-8")
            texts = {"toon_tools": toon_tools.encode(data), "toons": toons.dumps(data)}
            for op in ("encode", "decode"):
                counts = {}
                for lib in ("toon_tools", "toons"):
                    path = src
                    if op == "decode":
                        path = Path(tmp, f"{name}.{lib}.toon")
                        path.write_text(texts[lib], encoding="utf-8")
                    counts[lib] = per_call(lib, op, path)
                ratio = counts["toon_tools"] / counts["toons"]
                print(f"{name:8} {op:7} {counts['toon_tools'] / 1e6:11.0f}M"
                      f" {counts['toons'] / 1e6:11.0f}M {ratio:8.2f}x", flush=True)


if __name__ == "__main__":
    main()
