"""How soon ``toon lsp`` re-diagnoses a 1 MB document after a change (issue 14:
within 300 ms on the 2-core machine).

The real server (``python -m toon_tools lsp``) over stdio, driven by pygls' real
client: open a ~1 MB document, then N incremental changes (one character in the
middle, alternately changed and restored); each is timed from sending
``didChange`` to the ``publishDiagnostics`` for that version. Shapes: a big
table, a nested document, a document with a decode error near its end, and a
table under a schema (``# schema:`` first line), valid and with one violation
near its end.
Baselines in the same run: a bare ``decode`` in-process and ``toon check FILE``
as a new process, each on the same text.

    .venv/bin/python scripts/bench_lsp.py [--changes 20] [--size-kb 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

from toon_tools.codec import decode, encode


def table(size: int) -> str:
    rows, body = [], ""
    i = 0
    while True:
        rows.append({"id": i, "name": f"user {i}", "email": f"u{i}@example.com",
                     "active": i % 2 == 0, "score": round(i * 1.5, 1)})
        i += 1
        if i % 2000 == 0:
            body = encode({"users": rows})
            if len(body.encode()) >= size:
                return body + "\n"


def nested(size: int) -> str:
    items: list[Any] = []
    i = 0
    while True:
        items.append({"id": i, "meta": {"tags": ["a", "b", str(i)],
                                        "owner": {"name": f"n{i}", "since": 2020}},
                      "notes": f"note {i}"})
        i += 1
        if i % 1000 == 0:
            body = encode({"items": items})
            if len(body.encode()) >= size:
                return body + "\n"


def broken(size: int) -> str:
    text = table(size)
    lines = text.split("\n")
    lines[-3] = lines[-3] + ",extra"  # a row with one value too many, near the end
    return "\n".join(lines)


SCHEMA = {"type": "object", "properties": {"users": {"type": "array", "items": {
    "type": "object", "required": ["id", "name", "email"],
    "properties": {"id": {"type": "integer", "minimum": 0},
                   "email": {"type": "string", "pattern": "@"},
                   "score": {"type": "number", "maximum": 1e9}}}}}}


def with_schema(size: int) -> str:
    text = table(size)
    lines = text.split("\n")
    lines[-3] = lines[-3].replace("@", "_", 1)  # one violation near the end
    return "# schema: schema.json\n" + "\n".join(lines)


def schema_valid(size: int) -> str:
    return "# schema: schema.json\n" + table(size)


SHAPES = {"table": table, "nested": nested, "error near end": broken,
          "schema, valid": schema_valid, "schema, 1 error": with_schema}


class Bench:
    def __init__(self) -> None:
        self.client = LanguageClient("bench", "1")
        self.published: dict[tuple[str, int | None], float] = {}
        self.counts: dict[tuple[str, int | None], int] = {}
        self.event = asyncio.Event()

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_publish(params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version)
            self.published[key] = time.perf_counter()
            self.counts[key] = len(params.diagnostics)
            self.event.set()

    async def start(self, root: Path) -> None:
        await self.client.start_io(sys.executable, "-m", "toon_tools", "lsp")
        await self.client.initialize_async(types.InitializeParams(
            capabilities=types.ClientCapabilities(), root_uri=root.as_uri()))
        self.client.initialized(types.InitializedParams())

    async def wait(self, uri: str, version: int) -> tuple[float, int]:
        while (uri, version) not in self.published:
            self.event.clear()
            await asyncio.wait_for(self.event.wait(), 60)
        return self.published[(uri, version)], self.counts[(uri, version)]

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()


async def measure(bench: Bench, path: Path, text: str, changes: int) -> tuple[list[float], int]:
    uri = path.as_uri()
    bench.client.text_document_did_open(types.DidOpenTextDocumentParams(
        types.TextDocumentItem(uri=uri, language_id="toon", version=1, text=text)))
    await bench.wait(uri, 1)
    lines = text.split("\n")
    line = len(lines) // 2
    col = next(i for i, ch in enumerate(lines[line]) if ch.isdigit())
    original = lines[line][col]
    times = []
    count = 0
    for n in range(changes):
        version = n + 2
        new = original if n % 2 else ("7" if original != "7" else "8")
        sent = time.perf_counter()
        bench.client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, col), types.Position(line, col + 1)),
                text=new)]))
        arrived, count = await bench.wait(uri, version)
        times.append((arrived - sent) * 1000)
        await asyncio.sleep(0.05)  # an editor's keystrokes, not a flood
    bench.client.text_document_did_close(types.DidCloseTextDocumentParams(
        types.TextDocumentIdentifier(uri=uri)))
    return times, count


def baselines(path: Path, text: str) -> tuple[float, float]:
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        try:
            decode(text)
        except ValueError:
            pass
        runs.append((time.perf_counter() - t0) * 1000)
    cli = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "toon_tools", "check", str(path)],
                       capture_output=True, check=False)
        cli.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs), statistics.median(cli)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--size-kb", type=int, default=1024)
    args = parser.parse_args()
    size = args.size_kb * 1024
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "schema.json").write_text(json.dumps(SCHEMA))
        bench = Bench()
        await bench.start(root)
        print(f"{'shape':<16}{'size':>9}{'diags':>7}{'median ms':>11}{'max ms':>8}"
              f"{'decode ms':>11}{'x decode':>10}{'toon check ms':>15}")
        try:
            for name, make in SHAPES.items():
                text = make(size)
                path = root / (name.replace(" ", "_") + ".toon")
                path.write_text(text)
                times, count = await measure(bench, path, text, args.changes)
                bare, cli = baselines(path, text)
                med = statistics.median(times)
                print(f"{name:<16}{len(text.encode()) / 1e6:>7.2f}MB{count:>7}{med:>11.0f}"
                      f"{max(times):>8.0f}{bare:>11.0f}{med / bare:>10.1f}{cli:>15.0f}")
        finally:
            await bench.stop()
    print(f"\n{args.changes} changes per shape; time from didChange to the "
          "publishDiagnostics of that version")


if __name__ == "__main__":
    asyncio.run(main())
