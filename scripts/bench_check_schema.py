#!/usr/bin/env python3
"""Schema check benchmark: ``toon check --schema`` on 1,000 realistic .toon files
against ``check-jsonschema --schemafile`` on the same 1,000 documents as JSON,
same schema, process start included, files named one by one as a hook names
them. Both are told the schema once; the figure is the ratio.

Goal (issue 13): toon check is faster. check-jsonschema is bench-only:
``pip install check-jsonschema``.

    python scripts/bench_check_schema.py [--files 1000] [--repeat 3] [--invalid 10]

``--invalid P`` makes P% of the files break the schema (a task whose status is not
in the enum): valid files get their verdict from jsonschema-rs, invalid ones go
to jsonschema for the messages, so both paths are measured.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toon_tools import encode  # noqa: E402

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["agent", "tasks"],
    "properties": {
        "agent": {"type": "object", "required": ["name", "model"],
                  "properties": {"name": {"type": "string", "minLength": 1},
                                 "model": {"enum": ["gpt-4o", "claude", "gemma"]},
                                 "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                                 "max_tokens": {"type": "integer", "minimum": 1}}},
        "tasks": {"type": "array", "items": {
            "type": "object", "required": ["id", "title", "status"],
            "properties": {"id": {"type": "integer"}, "title": {"type": "string"},
                           "status": {"enum": ["todo", "done"]},
                           "owner": {"type": "string"}, "cost": {"type": "number"}}}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}


def document(rng: random.Random, i: int, valid: bool = True) -> dict[str, object]:
    """An agent-state file: a config block, a 20-row task table, a few notes (~2 KB TOON)."""
    doc: dict[str, object] = {
        "agent": {"name": f"agent-{i}", "model": "gpt-4o", "temperature": 0.2, "max_tokens": 800},
        "tasks": [{"id": j, "title": f"step {j} of plan {i}", "status": rng.choice(["todo", "done"]),
                   "owner": rng.choice(["ada", "bob", "eve"]), "cost": round(rng.random() * 3, 3)}
                  for j in range(20)],
        "notes": [f"remember item {k}: keep answers short" for k in range(5)],
    }
    if not valid:
        doc["tasks"][7]["status"] = "blocked"  # type: ignore[index]
    return doc


def timed(cmd: list[str], cwd: Path, repeat: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        code = subprocess.run(cmd, cwd=cwd, capture_output=True).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), code


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--invalid", type=float, default=0.0, metavar="PERCENT")
    args = ap.parse_args()
    baseline = shutil.which("check-jsonschema") or str(
        Path(sys.executable).parent / "check-jsonschema")
    if not os.path.exists(baseline):
        sys.exit("pip install check-jsonschema first (the baseline)")
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schema.json").write_text(json.dumps(SCHEMA))
        (root / "toon").mkdir()
        (root / "json").mkdir()
        bad = round(args.files * args.invalid / 100)
        for i in range(args.files):
            doc = document(rng, i, valid=i >= bad)
            (root / "toon" / f"f{i:04}.toon").write_text(encode(doc) + "\n")
            (root / "json" / f"f{i:04}.json").write_text(json.dumps(doc, indent=2))
        toon_files = sorted(str(p.relative_to(root)) for p in (root / "toon").iterdir())
        json_files = sorted(str(p.relative_to(root)) for p in (root / "json").iterdir())
        toon_bytes = sum((root / p).stat().st_size for p in toon_files)
        json_bytes = sum((root / p).stat().st_size for p in json_files)
        rows = [
            ("toon check --schema", [sys.executable, "-m", "toon_tools", "check", "--quiet",
                                     "--schema", "schema.json", *toon_files], toon_bytes),
            ("check-jsonschema", [baseline, "--schemafile", "schema.json", *json_files],
             json_bytes),
        ]
        results = []
        for name, cmd, size in rows:
            seconds, code = timed(cmd, root, args.repeat)
            if code != (1 if bad else 0):
                sys.exit(f"{name}: exit {code}, expected {1 if bad else 0}")
            results.append((name, seconds, size))
    print(f"{args.files} files ({bad} invalid), median of {args.repeat}, process start included")
    print(f"{'command':<22}{'seconds':>9}{'data KB':>9}{'files/s':>9}")
    for name, seconds, size in results:
        print(f"{name:<22}{seconds:>9.3f}{size / 1024:>9.0f}{args.files / seconds:>9.0f}")
    ratio = results[1][1] / results[0][1]
    print(f"toon check is {ratio:.2f}x as fast as check-jsonschema (goal: > 1)")


if __name__ == "__main__":
    main()
