#!/usr/bin/env python3
"""Codec benchmark: toon_tools against json (the floor), toon_format (the official
Python port) and toons (Rust), measured in the same run so the figures are ratios.

    python scripts/bench_codec.py               # four datasets, medians and ratios
    python scripts/bench_codec.py --quick       # the issue's three datasets, 5 repeats
    python scripts/bench_codec.py --dataset events --repeat 15
    python scripts/bench_codec.py --scaling     # decode time and memory at 1, 10, 50 MB

Ratios are "us/lib": toon_tools' median time over the library's, so 2.00x means
toon_tools takes twice as long. Issue 16's target is at most 2x toons on encode
and decode; the last lines say per dataset whether it holds.

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


def libraries() -> dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]]:
    """toon_tools first (the baseline of every ratio), then the peers present."""
    libs: dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]] = {
        "toon_tools": (toon_tools.encode, toon_tools.decode),
    }
    try:
        import toons
        libs["toons"] = (toons.dumps, toons.loads)
    except ImportError:
        print("(toons not installed: pip install -e '.[bench]')")
    try:
        import toon_format
        libs["toon_format"] = (toon_format.encode, toon_format.decode)
    except ImportError:
        print("(toon_format not installed: pip install -e '.[bench]')")
    libs["json"] = (json.dumps, json.loads)
    return libs


DATASETS: dict[str, Callable[[], dict[str, Any]]] = {
    "table": uniform_table,
    "events": event_log,
    "config": nested_config,
    "mixed": mixed_document,
}
TITLES = {
    "table": "uniform table 10k x 8",
    "events": "event log 5k (semi-uniform)",
    "config": "nested config",
    "mixed": "mixed 8 MB",
}
#: Issue 16: toon_tools within this factor of toons on encode and decode.
TARGET = 2.0


def _time(fn: Callable[[], Any]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(data: Any, libs: dict[str, tuple[Callable[[Any], str], Callable[[str], Any]]],
            repeat: int) -> tuple[dict[str, tuple[int, float, float]], dict[str, str]]:
    """Median encode and decode seconds per library. The repeats go round-robin
    over the libraries (encode then decode of each, then the next library) so
    that machine noise lands on all of them alike."""
    texts: dict[str, str] = {}
    failed: dict[str, str] = {}
    for lib, (enc, dec) in libs.items():
        try:  # also the warm-up: each library decodes its own encoder's output
            texts[lib] = enc(data)
            dec(texts[lib])
        except Exception as exc:  # a peer that cannot handle a dataset
            failed[lib] = f"{type(exc).__name__}: {str(exc)[:60]}"
    enc_t: dict[str, list[float]] = {lib: [] for lib in texts}
    dec_t: dict[str, list[float]] = {lib: [] for lib in texts}
    for _ in range(repeat):
        for lib in texts:
            enc, dec = libs[lib]
            text = texts[lib]
            enc_t[lib].append(_time(lambda: enc(data)))
            dec_t[lib].append(_time(lambda: dec(text)))
    results = {lib: (len(texts[lib].encode()), statistics.median(enc_t[lib]),
                     statistics.median(dec_t[lib])) for lib in texts}
    return results, failed


def run_datasets(names: list[str], repeat: int) -> None:
    libs = libraries()
    print(f"{'dataset':28} {'library':12} {'size':>8} {'enc ms':>8} {'dec ms':>8}"
          f" {'enc us/lib':>11} {'dec us/lib':>11}")
    verdicts = []
    for name in names:
        title = TITLES[name]
        results, failed = measure(DATASETS[name](), libs, repeat)
        _, our_e, our_d = results["toon_tools"]
        for lib, (size, e, d) in results.items():
            print(f"{title:28} {lib:12} {size / 1e6:7.2f}M {e * 1e3:8.1f} {d * 1e3:8.1f}"
                  f" {our_e / e:10.2f}x {our_d / d:10.2f}x")
        for lib, why in failed.items():
            print(f"{title:28} {lib:12} failed: {why}")
        if "toons" in results:
            _, t_e, t_d = results["toons"]
            ok = our_e <= TARGET * t_e and our_d <= TARGET * t_d
            verdicts.append(f"{title:28} within {TARGET:g}x of toons: {'yes' if ok else 'no'}"
                            f" (encode {our_e / t_e:.2f}x, decode {our_d / t_d:.2f}x)")
        print()
    print("'us/lib' is toon_tools' median time over the library's, measured in the same")
    print("round-robin repeats: 2.00x means toon_tools takes twice as long; below 1, it is faster.")
    print(f"repeats: {repeat}")
    for v in verdicts:
        print(v)


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
    ap.add_argument("--dataset", action="append", choices=list(DATASETS),
                    help="only this dataset (repeatable); default: all four")
    ap.add_argument("--quick", action="store_true",
                    help="table, events and config (the issue's three), 5 repeats")
    args = ap.parse_args()
    if args.scaling:
        run_scaling()
        return
    names = args.dataset or (["table", "events", "config"] if args.quick else list(DATASETS))
    run_datasets(names, 5 if args.quick and args.repeat == 7 else args.repeat)


if __name__ == "__main__":
    main()
