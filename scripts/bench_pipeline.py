#!/usr/bin/env python3
"""Pipeline benchmark: the Snowflake example (50 scenes) against a Chat Completions
server on loopback with 50 ms latency per call, in one run:

- calls made and wall time with --jobs 16;
- the critical-path lower bound: the longest chain of dependent calls x latency;
- the sequential baseline: the same pipeline one call at a time (--jobs 1),
  as the original script ran it;
- the re-run of the unchanged pipeline (target: under 1 s, zero calls).

    python scripts/bench_pipeline.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pipeline.server import FakeLLM  # noqa: E402
from toon_tools.pipeline.cache import DiskReplyCache  # noqa: E402
from toon_tools.pipeline.providers import OpenAIProvider  # noqa: E402
from toon_tools.pipeline.runner import Runner  # noqa: E402
from toon_tools.pipeline.spec import load_pipeline  # noqa: E402

LATENCY = 0.05


def run(server: FakeLLM, cache_dir: Path, run_dir: Path, jobs: int) -> tuple[float, int]:
    p = load_pipeline(ROOT / "examples" / "snowflake" / "pipeline.toon")
    before = len(server.requests)
    t0 = time.perf_counter()
    state = Runner(p, {"premise": "A lighthouse keeper finds a letter from her future self"},
                   OpenAIProvider(server.url, "k"), cache=DiskReplyCache(cache_dir),
                   run_dir=run_dir, jobs=jobs).run()
    assert state.status == "done", state.error
    return time.perf_counter() - t0, len(server.requests) - before


def critical_path(steps: dict[str, object]) -> int:
    """Dependent calls on the longest chain: a foreach step counts once (its items
    are independent), a python step not at all."""
    p = load_pipeline(ROOT / "examples" / "snowflake" / "pipeline.toon")
    depth: dict[str, int] = {}
    for wave in p.waves():
        for sid in wave:
            s = p.steps[sid]
            depth[sid] = max((depth[n] for n in s.needs), default=0) + (0 if s.python else 1)
    return max(depth.values())


def main() -> None:
    server = FakeLLM(latency=LATENCY, items=50)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            wall, calls = run(server, root / "c1", root / "r1", jobs=16)
            rerun, recalls = run(server, root / "c1", root / "r1", jobs=16)
            wide, _ = run(server, root / "c3", root / "r3", jobs=64)
            seq, _ = run(server, root / "c2", root / "r2", jobs=1)
        chain = critical_path({})
        bound = chain * LATENCY
        print(f"calls made                 {calls}")
        print(f"wall time, --jobs 16       {wall:6.2f} s")
        print(f"critical-path lower bound  {bound:6.2f} s  ({chain} dependent calls x {LATENCY * 1000:.0f} ms)"
              f"  -> {wall / bound:.2f}x the bound (target <= 1.25x)")
        print(f"wall time, --jobs 64       {wide:6.2f} s  -> {wide / bound:.2f}x the bound")
        print(f"sequential baseline        {seq:6.2f} s  ({seq / wall:.1f}x slower)")
        print(f"re-run, unchanged          {rerun:6.2f} s  with {recalls} calls (target < 1 s, 0 calls)")
    finally:
        server.close()


if __name__ == "__main__":
    main()
