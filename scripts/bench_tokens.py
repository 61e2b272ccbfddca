#!/usr/bin/env python3
"""Token-count benchmark, every figure measured in one run against its baseline:

1. raw tiktoken (``encode_ordinary`` in a loop, one thread) vs ``toon tokens``'
   uncached path in-process (target: at least 90% of raw);
2. the uncached path with 2 worker processes vs 1 (target: near 2x on 2 cores);
3. the whole ``toon tokens`` command, start-up included, on 1,000 cached files
   (target: under 0.5 s), next to a bare ``python -c pass`` for scale;
4. one cached lookup of a 1 MB file (target: under 5 ms);
5. 10,000 small files counted cold into a fresh cache (stat, read, hash, count,
   one batched cache write), next to raw tiktoken on the same texts: the
   per-file overhead that a 100,000-file folder multiplies.

    python scripts/bench_tokens.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toon_tools import encode  # noqa: E402
from toon_tools.tokens import TokenCounter  # noqa: E402

WORDS = ("the model reads context tokens prompt agent state pipeline artifact budget "
         "Ada Bob São Paulo 東京 naïve 42 3.14 {json} [array] user_id: null true").split()


def make_text(rng: random.Random, size: int) -> str:
    parts = []
    n = 0
    while n < size:
        if rng.random() < 0.3:
            rows = [{"id": i, "name": rng.choice(WORDS), "score": round(rng.random() * 100, 2)}
                    for i in range(20)]
            chunk = encode({"rows": rows}) + "\n"
        else:
            chunk = " ".join(rng.choice(WORDS) for _ in range(60)) + ".\n"
        parts.append(chunk)
        n += len(chunk)
    return "".join(parts)


def median(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="bench-tokens-") as tmp:
        root = Path(tmp)
        cache = root / "cache"
        corpus = root / "corpus"
        corpus.mkdir()
        texts = [make_text(rng, 100_000) for _ in range(100)]  # 100 files, ~10 MB
        for i, t in enumerate(texts):
            (corpus / f"doc{i:03d}.md").write_text(t)
        paths = [str(corpus / f"doc{i:03d}.md") for i in range(len(texts))]
        mb = sum(len(t.encode()) for t in texts) / 1e6

        counter = TokenCounter(cache_dir=cache, cache=False, jobs=1)
        enc = counter.encoding  # loaded once, outside every timing
        raw = median(lambda: [len(enc.encode_ordinary(t)) for t in texts], args.repeat)
        ours1 = median(lambda: counter.count_files(paths), args.repeat)
        counter2 = TokenCounter(cache_dir=cache, cache=False, jobs=2)
        counter2.encoding
        ours2 = median(lambda: counter2.count_files(paths), args.repeat)
        print(f"uncached, {len(texts)} files, {mb:.1f} MB")
        print(f"  raw tiktoken, 1 thread     {mb / raw:7.1f} MB/s")
        print(f"  toon tokens, 1 process     {mb / ours1:7.1f} MB/s  = {raw / ours1:.0%} of raw (target >= 90%)")
        print(f"  toon tokens, 2 processes   {mb / ours2:7.1f} MB/s  = {ours1 / ours2:.2f}x one process (target ~2x)")

        small = root / "small"
        small.mkdir()
        for i in range(1000):
            (small / f"p{i:04d}.toon").write_text(make_text(rng, 2_000))
        env_cache = {"TOON_CACHE_DIR": str(cache)}
        import os

        env = {**os.environ, **env_cache}
        cmd = [sys.executable, "-m", "toon_tools", "tokens", str(small)]
        subprocess.run(cmd, env=env, check=True, capture_output=True)  # warm the cache
        whole = median(lambda: subprocess.run(cmd, env=env, check=True, capture_output=True),
                       args.repeat)
        bare = median(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True),
                      args.repeat)
        print("cached, whole command, start-up included")
        print(f"  toon tokens on 1,000 files {whole * 1000:7.0f} ms  (target < 500 ms)")
        print(f"  python -c pass             {bare * 1000:7.0f} ms  (baseline: interpreter start)")

        one = root / "one.txt"
        one.write_text(make_text(rng, 1_000_000))
        cached = TokenCounter(cache_dir=cache)
        cached.count_files([str(one)])  # warm
        lookup = median(lambda: cached.count_files([str(one)]), max(args.repeat, 20))
        hit = cached.count_files([str(one)])[0]
        assert hit.cached
        t_raw = median(lambda: len(enc.encode_ordinary(one.read_text())), args.repeat)
        print("cached lookup of one 1 MB file (read + sha256 + cache get)")
        print(f"  cached                     {lookup * 1000:7.2f} ms  (target < 5 ms)")
        print(f"  uncached tiktoken          {t_raw * 1000:7.2f} ms  (baseline)")

        many = root / "many"
        many.mkdir()
        small_texts = [f"item {i}: {rng.choice(WORDS)} {rng.choice(WORDS)}\n" for i in range(10_000)]
        for i, t in enumerate(small_texts):
            (many / f"{i:05d}.txt").write_text(t)
        many_paths = sorted(str(p) for p in many.iterdir())
        fresh = iter(range(1_000_000))

        def cold() -> None:
            TokenCounter(cache_dir=root / f"cold{next(fresh)}", jobs=1).count_files(many_paths)

        t_cold = median(cold, args.repeat)
        t_texts = median(lambda: [len(enc.encode_ordinary(t)) for t in small_texts], args.repeat)
        print("10,000 small files, cold cache, 1 process")
        print(f"  toon tokens                {t_cold * 1000:7.0f} ms  = {t_cold * 100:.0f} us per file")
        print(f"  raw tiktoken on the texts  {t_texts * 1000:7.0f} ms  (baseline: tokenizing only)")


if __name__ == "__main__":
    main()
