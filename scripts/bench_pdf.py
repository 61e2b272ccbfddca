#!/usr/bin/env python3
"""PDF benchmark: toon_tools' PDF -> TOON against pymupdf4llm.to_markdown on the
same generated PDFs, in one run: pages per second, output tokens (o200k_base),
and whether each output kept the tables' cells.

    python scripts/bench_pdf.py        # needs: pip install -e ".[pdf,bench]"
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.convert.pdfs import make_report  # noqa: E402
from toon_tools import encode  # noqa: E402
from toon_tools.convert.pdf import pdf_to_data  # noqa: E402
from toon_tools.tokens import TokenCounter  # noqa: E402


def timed(fn, repeat: int = 3):  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


PYMUPDF4LLM = """
import sys, time, pymupdf, pymupdf4llm
path = sys.argv[1]
times = []
for _ in range(3):
    t0 = time.perf_counter()
    md = pymupdf4llm.to_markdown(pymupdf.open(path), show_progress=False)
    times.append(time.perf_counter() - t0)
sys.stdout.write(str(sorted(times)[1]) + chr(10) + md)
"""


def pymupdf4llm_markdown(path: Path) -> tuple[float, str]:
    """Run in its own process: pymupdf4llm changes PyMuPDF's global text settings,
    which would skew anything measured after it in the same process."""
    import subprocess

    out = subprocess.run([sys.executable, "-c", PYMUPDF4LLM, str(path)], check=True,
                         capture_output=True, text=True).stdout
    seconds, _, md = out.partition("\n")
    return float(seconds), md


def main() -> None:
    counter = TokenCounter(cache=False)
    print(f"{'pages':>5} {'tool':12} {'pages/s':>8} {'tokens':>8} {'page content':>13} {'tables kept':>12}")
    for pages in (5, 40):
        data = make_report(pages=pages, table_rows=12)
        cells = [f"widget-{i}" for i in range(1, 13)]
        path = Path(f"/tmp/bench-{pages}.pdf")
        path.write_bytes(data)
        t_toon, toon_text = timed(lambda: encode(pdf_to_data(data, path.name)))
        # The same content as pymupdf4llm emits: the pages (it has no metadata or outline).
        content = counter.count_uncached(encode({"pages": pdf_to_data(data, path.name)["pages"]}))
        t_one, _ = timed(lambda: encode(pdf_to_data(data, path.name, jobs=1)))
        t_md, md_text = pymupdf4llm_markdown(path)
        for tool, t, text in (("toon_tools", t_toon, toon_text), ("toon 1 proc", t_one, toon_text),
                              ("pymupdf4llm", t_md, md_text)):
            kept = all(c in text for c in cells)
            n = counter.count_uncached(text)
            page_content = content if tool.startswith("toon") else n
            print(f"{pages:>5} {tool:12} {pages / t:8.1f} {n:8,} {page_content:13,} {str(kept):>12}")


if __name__ == "__main__":
    main()
