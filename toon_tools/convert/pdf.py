"""PDF -> TOON with PyMuPDF (the optional ``pdf`` extra).

Output: ``source``, ``metadata``, ``outline`` (table of contents
as section paths) and per page its ``headings`` (from font sizes; those the
outline already names on that page are not repeated), ``text``
blocks in reading order and ``tables`` (``page.find_tables()``) as tabular
arrays keyed by their header row. Running headers and footers (lines repeated in
the top or bottom margin of most pages, page numbers ignored) are dropped.
Pages without text are flagged ``image_only`` or ``empty``, never silently
missing. Large documents are extracted in a process pool (the PDF_PAGES
workload of :mod:`toon_tools.parallel`; in-process inside another pool's
worker); every page has a time limit, after which it is reported as timed out
and the rest go on.

PyMuPDF's own output is switched off: MuPDF's error and warning lines and the
layout-package recommendation would otherwise be printed to stdout, in the
middle of the TOON a conversion writes there. Failures still reach the user as
our one-line errors (a damaged file raises, and we report it).

PyMuPDF 1.2x is chosen over 2.0 on purpose: 1.2x is one ~25 MB wheel with
``find_tables()``, while 2.0 pulls in onnxruntime, numpy and more (~240 MB),
which hook and CI environments should not carry for a converter.
"""

from __future__ import annotations

import re
import sys
import threading
import time
from collections import Counter
from typing import Any, Final

from ..codec import ToonDecodeError, encode, format_primitive, parse_primitive
from ..parallel import PDF_PAGES, executor, pool_size
from .registry import ConversionError, Converter, register

INSTALL_HINT: Final = 'PDF support needs PyMuPDF: pip install "toon-tools[pdf]"'
PAGE_TIME_LIMIT: Final = 30.0  # seconds per page
_REFIRE: Final = 0.1  # seconds between PageTimeouts while an overrun page goes on
_MARGIN: Final = 0.08  # top/bottom fraction of a page where running lines live
_DIGITS: Final = re.compile(r"\d+")


def _pymupdf() -> Any:
    try:
        import pymupdf
    except ImportError:
        raise ConversionError(INSTALL_HINT) from None
    _quiet(pymupdf)
    return pymupdf


def _quiet(pymupdf: Any) -> None:
    """Keep PyMuPDF from printing (see the module docstring); the switches are
    documented (``TOOLS.mupdf_display_errors``/``_warnings``, and since 1.26
    ``no_recommend_layout``), and older releases lack the last one."""
    pymupdf.TOOLS.mupdf_display_errors(False)
    pymupdf.TOOLS.mupdf_display_warnings(False)
    no_recommend = getattr(pymupdf, "no_recommend_layout", None)
    if no_recommend is not None:
        no_recommend()
    # PyMuPDF's Python-level messages (find_tables() reports an exception it
    # swallowed, e.g. a page time limit landing in a callback) go to stdout
    # by default; to the "pymupdf" logger instead, silent unless configured.
    set_messages = getattr(pymupdf, "set_messages", None)
    if set_messages is not None:
        set_messages(pylogging=True)


class PageTimeout(BaseException):
    """Raised inside the extracting thread when a page overruns its time limit.

    A BaseException, like KeyboardInterrupt: PyMuPDF's own ``except Exception``
    fallbacks must not swallow it and carry on with the page."""


def _async_raise(thread_id: int, exc: type[BaseException] | None) -> None:
    """Raise ``exc`` in another thread at its next bytecode, or with None drop one
    that has not landed yet (``PyThreadState_SetAsyncExc``, the C API's documented
    way; CPython on every platform)."""
    import ctypes

    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), None if exc is None else ctypes.py_object(exc))


class _Watchdog:
    """The page time limit, kept by a second thread rather than SIGALRM, which
    exists only on POSIX and only in the main thread: this works on Windows, in
    a pool's worker, and in a thread of an embedding application.

    When a page overruns, the watchdog raises PageTimeout in the extracting
    thread, as a signal handler would, and with the same reach: it lands between
    bytecodes, so a single MuPDF call that holds the GIL finishes first. A slow
    page is slow in ``find_tables()``, which is Python over many short MuPDF
    calls (the longest measured: ~40 ms on a 0.5 s dense ruled page), so the
    limit holds to within the longest of those calls. A MuPDF call that never
    returns is out of its reach, as it was of SIGALRM's: only a process that is
    killed bounds that, at the price of a process per document. One thread per
    range of pages, idle between deadlines: no cost per page worth measuring.
    """

    def __init__(self, limit: float) -> None:
        self._limit = limit
        self._target = threading.get_ident()
        # The extracting thread takes the bare lock: a Lock's __enter__ is C, so a
        # PageTimeout cannot land between acquiring it and the with-block's cleanup
        # (a Condition's __enter__ is Python code).
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._deadline: float | None = None
        self.fired = False  # the current page overran (set under the lock)
        self._closed = False
        self._thread = threading.Thread(target=self._watch, name="toon-pdf-page-limit",
                                        daemon=True)
        self._thread.start()
        # A PageTimeout that lands in a __del__ (PyMuPDF's objects have them) or a gc
        # callback cannot propagate: Python reports it through sys.unraisablehook,
        # which prints "Exception ignored in ..." and a traceback. It is ours and
        # expected (the watchdog fires again), so it is dropped, and nothing else.
        self._previous_hook = sys.unraisablehook
        sys.unraisablehook = self._drop_stray_timeout

    def arm(self) -> None:
        with self._cond:
            self._deadline = time.monotonic() + self._limit
            self.fired = False
            self._cond.notify()

    def disarm(self) -> None:
        """After this returns no PageTimeout can land: the deadline is gone, and
        one raised but not delivered yet is dropped. One that lands while this
        runs is the page's timeout (``fired`` says so): disarming starts over."""
        while True:
            try:
                with self._lock:
                    self._deadline = None
                    fired = self.fired
                if fired:
                    _async_raise(self._target, None)
                return
            except PageTimeout:
                continue

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        if sys.unraisablehook == self._drop_stray_timeout:
            sys.unraisablehook = self._previous_hook

    def _drop_stray_timeout(self, unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, PageTimeout):
            self._previous_hook(unraisable)

    def _watch(self) -> None:
        with self._cond:
            while not self._closed:
                if self._deadline is None:
                    self._cond.wait()
                    continue
                left = self._deadline - time.monotonic()
                if left > 0:
                    self._cond.wait(left)
                    continue
                self.fired = True
                # Again until disarmed: an exception that lands in a __del__ or a gc
                # callback is printed and dropped there, and the page runs on.
                self._deadline = time.monotonic() + _REFIRE
                _async_raise(self._target, PageTimeout)


def _open(data: bytes, name: str) -> Any:
    pymupdf = _pymupdf()
    if not data:
        raise ConversionError("empty file (0 bytes), not a PDF", path=name)
    if not data.lstrip()[:5].startswith(b"%PDF"):
        kind = "a ZIP archive" if data.startswith(b"PK\x03\x04") else "not a PDF"
        raise ConversionError(f"{kind} (no %PDF header)", path=name)
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:  # PyMuPDF raises several types for damaged files
        raise ConversionError(f"corrupt PDF ({e})", path=name) from None
    if doc.needs_pass:
        raise ConversionError("encrypted PDF: a password is required", path=name)
    if doc.page_count == 0:
        raise ConversionError("the PDF has no pages", path=name)
    return doc


def _lines(page: Any) -> list[dict[str, Any]]:
    """Text lines with their bounding box and largest font size."""
    out = []
    for block in page.get_text("dict", sort=True)["blocks"]:
        if block.get("type") != 0:
            continue
        for line in block["lines"]:
            text = "".join(span["text"] for span in line["spans"]).strip()
            if not text:
                continue
            size = max(round(span["size"], 1) for span in line["spans"])
            chars = sum(len(span["text"]) for span in line["spans"])
            out.append({"text": text, "bbox": line["bbox"], "size": size, "chars": chars,
                        "block": id(block)})
    return out


def _in_any(bbox: tuple[float, ...], rects: list[Any]) -> bool:
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return any(r.x0 <= cx <= r.x1 and r.y0 <= cy <= r.y1 for r in rects)


def _table_rows(table: Any) -> list[dict[str, Any]]:
    data = table.extract()
    names = [str(n).strip() if n is not None else "" for n in table.header.names]
    if not table.header.external and data:
        data = data[1:]  # the header row is part of the table's cells
    seen: Counter[str] = Counter()
    keys = []
    for i, n in enumerate(names):
        n = n or f"column {i + 1}"
        seen[n] += 1
        keys.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    rows = []
    for row in data:
        cells = [_typed("" if c is None else str(c).strip()) for c in row]
        rows.append(dict(zip(keys, cells)))
    return rows


def _typed(cell: str) -> Any:
    """A cell that is a canonical number becomes one (``3``); anything that would
    change on the way (``1.50``, ``007``) stays text."""
    if cell and cell[0] in "-0123456789":
        try:
            value = parse_primitive(cell)
        except ToonDecodeError:  # e.g. an integer over Python's digit limit
            return cell
        if type(value) in (int, float) and format_primitive(value) == cell:
            return value
    return cell


def extract_page(doc: Any, number: int) -> dict[str, Any]:
    """Raw facts of one page: lines (outside tables), tables, images."""
    pymupdf = _pymupdf()
    page = doc[number]
    found = page.find_tables().tables
    # Extract cells before anything else reads the page's text: a later
    # get_text() replaces the text page the tables were found on.
    tables = [_table_rows(t) for t in found]
    table_rects = [pymupdf.Rect(t.bbox) for t in found]
    lines = [ln for ln in _lines(page) if not _in_any(ln["bbox"], table_rects)]
    return {
        "number": number + 1,
        "height": page.rect.height,
        "lines": lines,
        "tables": tables,
        "images": len(page.get_images(full=False)),
    }


def _extract_range(data: bytes, numbers: list[int], limit: float) -> list[dict[str, Any]]:
    """Pages by number, each under a time limit (see _Watchdog)."""
    doc = _pymupdf().open(stream=data, filetype="pdf")
    out = []
    watchdog = _Watchdog(limit)
    try:
        for n in numbers:
            page: dict[str, Any] | None = None
            try:
                try:
                    watchdog.arm()
                    page = extract_page(doc, n)
                finally:
                    watchdog.disarm()
            except PageTimeout:
                pass
            except Exception:
                if not watchdog.fired:
                    raise
            # An overrun page is reported as timed out however PyMuPDF ended it: the
            # interruption can land in a Python callback of a C function and surface
            # as another error (a SystemError), or be swallowed (find_tables() then
            # returns None), or leave a partial page.
            if watchdog.fired or page is None:
                page = {"number": n + 1, "error": f"timed out after {limit:g} s"}
            out.append(page)
    finally:
        watchdog.close()
    return out


def _running_lines(pages: list[dict[str, Any]]) -> set[str]:
    """Lines in the top or bottom margin that recur on most pages."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for p in pages:
        h = p.get("height", 0)
        keys = {_DIGITS.sub("#", ln["text"]) for ln in p.get("lines", [])
                if ln["bbox"][1] < h * _MARGIN or ln["bbox"][3] > h * (1 - _MARGIN)}
        counts.update(keys)
    return {k for k, c in counts.items() if c >= max(3, len(pages) * 0.5)}


def assemble(name: str, metadata: dict[str, Any], toc: list[Any],
             pages: list[dict[str, Any]]) -> dict[str, Any]:
    running = _running_lines(pages)
    sizes: Counter[float] = Counter()
    for p in pages:
        for ln in p.get("lines", []):
            sizes[ln["size"]] += ln["chars"]
    body = sizes.most_common(1)[0][0] if sizes else 0.0
    heading_sizes = sorted({s for s in sizes if s >= body * 1.15 and s - body >= 1.0}, reverse=True)
    level_of = {s: min(i + 1, 6) for i, s in enumerate(heading_sizes)}

    # Headings the outline already names on that page are not repeated per page.
    in_outline = {(page, " ".join(str(title).split())) for _, title, page, *_ in toc}
    out_pages = []
    for p in pages:
        entry: dict[str, Any] = {"page": p["number"]}
        if "error" in p:
            entry["error"] = p["error"]
            out_pages.append(entry)
            continue
        headings = []
        paragraphs: list[str] = []
        current: list[str] = []
        last_block = None
        for ln in p["lines"]:
            if _DIGITS.sub("#", ln["text"]) in running:
                continue
            level = level_of.get(ln["size"])
            if level is not None and len(ln["text"]) <= 200:
                if current:
                    paragraphs.append(" ".join(current))
                    current = []
                if (p["number"], " ".join(ln["text"].split())) not in in_outline:
                    headings.append({"level": level, "text": ln["text"]})
                last_block = None
                continue
            if ln["block"] != last_block and current:
                paragraphs.append(" ".join(current))
                current = []
            current.append(ln["text"])
            last_block = ln["block"]
        if current:
            paragraphs.append(" ".join(current))
        if headings:
            entry["headings"] = headings
        if paragraphs:
            entry["text"] = paragraphs
        tables = [{"rows": t} for t in p["tables"] if t]
        if tables:
            entry["tables"] = tables
        if not headings and not paragraphs and not tables:
            entry["image_only" if p["images"] else "empty"] = True
        out_pages.append(entry)

    doc: dict[str, Any] = {"source": name}
    meta = {k: v for k, v in metadata.items() if v and k not in ("encryption", "format")}
    if meta:
        doc["metadata"] = meta
    if toc:
        trail: list[str] = []
        outline = []
        for level, title, page, *_ in toc:  # a section's path names its level and title
            trail = trail[: level - 1] + [title]
            outline.append({"page": page, "path": " > ".join(trail)})
        doc["outline"] = outline
    doc["pages"] = out_pages
    return doc


def pdf_to_data(data: bytes, name: str, *, jobs: int | None = None,
                page_time_limit: float = PAGE_TIME_LIMIT) -> dict[str, Any]:
    doc = _open(data, name)
    count = doc.page_count
    metadata = dict(doc.metadata or {})
    toc = doc.get_toc(simple=True)
    doc.close()
    numbers = list(range(count))
    workers = pool_size(PDF_PAGES, count, jobs=jobs)  # 1 inside another pool's worker
    if workers > 1:
        step = -(-count // (workers * 4))
        ranges = [numbers[i:i + step] for i in range(0, count, step)]
        with executor(workers) as pool:
            parts = pool.map(_extract_range, [data] * len(ranges), ranges,
                             [page_time_limit] * len(ranges))
            pages = [p for part in parts for p in part]
    else:
        pages = _extract_range(data, numbers, page_time_limit)
    return assemble(name, metadata, toc, pages)


@register
class PdfToToon(Converter):
    source, target = "pdf", "toon"
    description = "PDF (PyMuPDF extra) to TOON: metadata, outline, headings, text, tables"
    suffixes, output_suffix = (".pdf",), ".toon"

    def convert(self, data: bytes, name: str) -> str:
        return encode(pdf_to_data(data, name, jobs=self.jobs))
