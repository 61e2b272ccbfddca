#!/usr/bin/env python3
"""Codec benchmark: toon_tools against json (the floor), toon_format (the official
Python port) and toons (Rust), measured in the same run so the figures are ratios.

    python scripts/bench_codec.py            # four datasets, medians and ratios
    python scripts/bench_codec.py --scaling  # decode time and memory at 1, 10, 50 MB

Peers are optional (``pip install -e ".[bench]"``); missing ones are skipped.
Each library decodes its own encoder's output, so a peer is never asked to read
a form it does not implement.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import toon_tools  # noqa: E402


def uniform_table(n: int = 10_000) -> dict[str, Any]:
    rng = random.Random(1)
    cities = ["Berlin", "Oslo", "Lisbon", "New York", "São Paulo", "Tokyo"]
    return {"users": [
        {"id": i, "name": f"user{i}", "email": f"user{i}@example.com", "age": rng.randint(18, 90),
         "active": rng.random() < 0.5, "score": round(rng.random() * 100, 2),
         "city": rng.choice(cities), "role": rng.choice(["admin", "user", "guest"])}
        for i in range(n)
    ]}


def event_log(n: int = 5_000) -> dict[str, Any]:
    """Semi-uniform: common fields, optional ones, and nested payloads that vary."""
    rng = random.Random(2)
    events = []
    for i in range(n):
        e: dict[str, Any] = {"ts": f"2025-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z",
                             "level": rng.choice(["info", "warn", "error"]),
                             "service": rng.choice(["api", "worker", "db"]),
                             "msg": f"request {i} handled in {rng.randint(1, 900)}ms"}
        if rng.random() < 0.3:
            e["user"] = {"id": rng.randint(1, 500), "plan": rng.choice(["free", "pro"])}
        if rng.random() < 0.2:
            e["tags"] = rng.sample(["slow", "retry", "cache", "auth"], rng.randint(1, 3))
        events.append(e)
    return {"events": events}


def nested_config(width: int = 6, depth: int = 5) -> dict[str, Any]:
    """Config-like: objects of objects, short arrays, mixed scalars."""
    rng = random.Random(3)

    def level(d: int) -> dict[str, Any]:
        node: dict[str, Any] = {"enabled": rng.random() < 0.5, "timeout": rng.randint(1, 60),
                                "name": f"node-{d}-{rng.randint(0, 999)}",
                                "ports": [rng.randint(1000, 9000) for _ in range(3)]}
        if d < depth:
            for k in range(width):
                node[f"child_{k}"] = level(d + 1)
        return node

    return {"config": level(0)}


def mixed_document(target_bytes: int = 8_000_000) -> dict[str, Any]:
    """Tables, logs, nested config and prose, repeated until about ``target_bytes``
    of TOON."""
    rng = random.Random(4)
    doc: dict[str, Any] = {}
    i = 0
    size = 0
    while size < target_bytes:
        part = {
            "orders": [{"id": j, "sku": f"SKU-{rng.randint(1, 99999)}", "qty": rng.randint(1, 9),
                        "price": round(rng.random() * 500, 2),
                        "customer": {"name": f"c{j}", "country": rng.choice(["DK", "UK", "US"])}}
                       for j in range(500)],
            "log": event_log(200)["events"],
            "settings": nested_config(3, 3)["config"],
            "notes": [" ".join(rng.choice(["alpha", "beta", "gamma", "delta, x", "é"])
                               for _ in range(30)) for _ in range(50)],
        }
        doc[f"section_{i}"] = part
        size += len(toon_tools.encode(part))
        i += 1
    return doc


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def libraries() -> dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]]:
    libs: dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]] = {
        "json": (json.dumps, json.loads),
        "toon_tools": (toon_tools.encode, toon_tools.decode),
    }
    try:
        import toon_format
        libs["toon_format"] = (toon_format.encode, toon_format.decode)
    except ImportError:
        print("(toon_format not installed: pip install -e '.[bench]')")
    try:
        import toons
        libs["toons (Rust)"] = (toons.dumps, toons.loads)
    except ImportError:
        print("(toons not installed: pip install -e '.[bench]')")
    return libs


def run_datasets(repeat: int) -> None:
    datasets = {
        "uniform table 10k x 8": uniform_table(),
        "event log 5k (semi-uniform)": event_log(),
        "nested config": nested_config(),
        "mixed 8 MB": mixed_document(),
    }
    libs = libraries()
    print(f"{'dataset':30} {'library':14} {'size':>9} {'encode ms':>10} {'decode ms':>10}"
          f" {'enc vs us':>10} {'dec vs us':>10}")
    for name, data in datasets.items():
        ours: dict[str, float] = {}
        rows = []
        for lib, (enc, dec) in libs.items():
            try:
                text = enc(data)
                e_ms = median_ms(lambda: enc(data), repeat)
                d_ms = median_ms(lambda: dec(text), repeat)
            except Exception as exc:  # a peer that cannot handle a dataset
                rows.append(f"{name:30} {lib:14} failed: {type(exc).__name__}: {str(exc)[:60]}")
                continue
            if lib == "toon_tools":
                ours = {"e": e_ms, "d": d_ms}
            rows.append((name, lib, len(text.encode()), e_ms, d_ms))
        for row in rows:
            if isinstance(row, str):
                print(row)
                continue
            n, lib, size, e_ms, d_ms = row
            print(f"{n:30} {lib:14} {size / 1e6:8.2f}M {e_ms:10.1f} {d_ms:10.1f}"
                  f" {e_ms / ours['e']:9.2f}x {d_ms / ours['d']:9.2f}x")
        print()
    print("'enc vs us' is the library's time over toon_tools' (above 1: toon_tools is faster).")


def run_scaling() -> None:
    """Decode time and peak memory per MB should stay flat as input grows."""
    print(f"{'input':>8} {'decode s':>9} {'s per MB':>9} {'peak MB':>8} {'peak/input':>10}")
    unit = toon_tools.encode(mixed_document(1_000_000))
    for mb in (1, 10, 50):
        copies = max(1, round(mb * 1_000_000 / len(unit)))
        # Concatenate documents under distinct root keys: same shapes, larger file.
        text = "\n".join(
            f"part{i}:\n" + "\n".join("  " + ln for ln in unit.split("\n")) for i in range(copies)
        )
        size = len(text.encode()) / 1e6
        gc.collect()
        t0 = time.perf_counter()
        toon_tools.decode(text)
        seconds = time.perf_counter() - t0
        gc.collect()
        tracemalloc.start()
        toon_tools.decode(text)
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(f"{size:7.1f}M {seconds:9.2f} {seconds / size:9.3f} {peak:8.0f} {peak / size:10.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--scaling", action="store_true", help="decode at 1, 10 and 50 MB")
    args = ap.parse_args()
    if args.scaling:
        run_scaling()
    else:
        run_datasets(args.repeat)


if __name__ == "__main__":
    main()
