#!/usr/bin/env python3
"""Located decoding benchmark: ``decode_located`` against a plain ``decode`` of
the same text, measured interleaved in the same run, so the figure is a ratio
(issue 13: at most 1.5x). Also times reading every span once, which a schema
check or an editor does only for the values it reports on.

    python scripts/bench_located.py
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import toon_tools  # noqa: E402
from bench_codec import event_log, mixed_document, nested_config, uniform_table  # noqa: E402
from toon_tools.codec import decode_located  # noqa: E402


def rounds(fns: dict[str, Callable[[], Any]], repeat: int) -> dict[str, list[float]]:
    """Seconds per run of each function, the functions interleaved in every round
    so that a burst of load on this shared machine hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            gc.collect()
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return times


def ratio(times: dict[str, list[float]], name: str, base: str = "plain") -> float:
    """The median of the per-round ratios: steadier than a ratio of medians."""
    return statistics.median(a / b for a, b in zip(times[name], times[base]))


def read_all(text: str) -> None:
    loc = decode_located(text)
    for span in loc.spans.values():
        span.value  # noqa: B018


def main() -> None:
    compiled = toon_tools.codec._decoder.__file__.endswith(".so")
    print(f"codec: {'compiled (mypyc)' if compiled else 'pure Python'}")
    datasets = {
        "uniform table (10k rows)": uniform_table(),
        "event log (5k, semi-uniform)": event_log(),
        "nested config": nested_config(),
        "mixed document (~2 MB)": mixed_document(2_000_000),
    }
    print(f"{'dataset':32} {'KB':>7} {'decode ms':>10} {'located ms':>11} {'ratio':>6} "
          f"{'+ every span':>13}")
    for name, value in datasets.items():
        text = toon_tools.encode(value)
        times = rounds({
            "plain": lambda: toon_tools.decode(text),
            "located": lambda: decode_located(text),
            "all spans": lambda: read_all(text),
        }, repeat=21)
        ms = {k: statistics.median(v) * 1000 for k, v in times.items()}
        print(f"{name:32} {len(text) // 1024:7,} {ms['plain']:10.1f} {ms['located']:11.1f} "
              f"{ratio(times, 'located'):5.2f}x {ratio(times, 'all spans'):12.2f}x")


if __name__ == "__main__":
    main()
