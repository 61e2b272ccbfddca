"""Benchmark the shared cache (issue 15): a hit in Redis/Valkey against a hit in
the local cache and against a miss, for token counts (tiktoken) and model replies
(a loopback model with a realistic delay); and a two-machine simulation: the
second machine makes 0 model calls and 0 tokenizations.

    .venv/bin/python scripts/bench_shared_cache.py [--files 2000] [--replies 40]
        [--delay 0.4] [--server redis|valkey]

Starts its own server on a free loopback port (tests/redis_server.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.pipeline.server import FakeLLM  # noqa: E402
from tests.redis_server import RedisServer, binaries  # noqa: E402
from toon_tools.pipeline.cache import DiskReplyCache  # noqa: E402
from toon_tools.remote_cache import SharedCache  # noqa: E402
from toon_tools.tokens import TokenCounter  # noqa: E402
from toon_tools.tokens.cache import TokenCache  # noqa: E402


class CountingCounter(TokenCounter):
    tokenizations = 0

    def count_uncached(self, text: str) -> int:
        type(self).tokenizations += 1
        return super().count_uncached(text)


def _counter(folder: Path, shared: SharedCache | None) -> CountingCounter:
    c = CountingCounter(cache_dir=folder, jobs=1)
    c.cache = TokenCache(folder / "tokens", shared=shared)
    return c


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


def bench_tokens(url: str, root: Path, n: int) -> None:
    docs = root / "docs"
    docs.mkdir()
    text = "".join(f"row {i}: the quick brown fox jumps over the lazy dog\n" for i in range(400))
    paths = []
    for i in range(n):
        p = docs / f"f{i}.toon"
        p.write_text(f"id: {i}\n{text}")
        paths.append(str(p))
    shared = SharedCache(url)
    miss = _timed(lambda: _counter(root / "m1", shared).count_files(paths))
    local_c = _counter(root / "m1", None)
    local = _timed(lambda: local_c.count_files(paths))
    CountingCounter.tokenizations = 0
    second = _counter(root / "m2", SharedCache(url))
    remote = _timed(lambda: second.count_files(paths))
    print(f"token counts, {n:,} files of {len(text) // 1024} KiB:")
    print(f"  miss (tokenize, store both) {miss * 1000:8.1f} ms")
    print(f"  shared hit (new machine)    {remote * 1000:8.1f} ms  "
          f"{miss / remote:6.1f}x faster than a miss")
    print(f"  local hit                   {local * 1000:8.1f} ms  "
          f"{remote / local:6.1f}x faster than a shared hit")
    print(f"  second machine tokenizations: {CountingCounter.tokenizations}")


def bench_replies(url: str, root: Path, n: int, delay: float) -> None:
    llm = FakeLLM(latency=delay)
    import json
    import urllib.request

    def call(i: int) -> dict[str, object]:
        body = json.dumps({"model": "m", "messages": [{"role": "user", "content": f"say {i}"}]})
        req = urllib.request.Request(f"{llm.url}/chat/completions", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return {"content": json.loads(r.read())["choices"][0]["message"]["content"]}

    def machine(folder: Path) -> float:
        cache = DiskReplyCache(folder, shared=SharedCache(url))
        start = time.perf_counter()
        for i in range(n):
            if cache.get(f"k{i}") is None:
                cache.set(f"k{i}", call(i))  # type: ignore[arg-type]
        cache.close()
        return time.perf_counter() - start

    miss = machine(root / "r1")
    calls_first = len(llm.requests)
    remote = machine(root / "r2")
    local = machine(root / "r2")
    print(f"model replies, {n} calls at {delay:g} s each:")
    print(f"  miss (call, store both)     {miss * 1000:8.1f} ms  ({calls_first} model calls)")
    print(f"  shared hit (new machine)    {remote * 1000:8.1f} ms  "
          f"{miss / remote:6.1f}x faster than a miss")
    print(f"  local hit                   {local * 1000:8.1f} ms  "
          f"{remote / local:6.1f}x faster than a shared hit")
    print(f"  second machine model calls: {len(llm.requests) - calls_first}")
    llm.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--replies", type=int, default=40)
    ap.add_argument("--delay", type=float, default=0.4)
    ap.add_argument("--server", choices=("redis", "valkey"), default=None)
    args = ap.parse_args()
    found = {k: v for k, v in binaries().items() if v}
    kind = args.server or next(iter(found), None)
    if kind is None or kind not in found:
        sys.exit("no redis-server or valkey-server binary here")
    with tempfile.TemporaryDirectory() as tmp:
        server = RedisServer(found[kind], Path(tmp) / "server")
        try:
            print(f"server: {kind} ({found[kind]}) on {server.url}")
            bench_tokens(server.url, Path(tmp), args.files)
            bench_replies(server.url, Path(tmp), args.replies, args.delay)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
