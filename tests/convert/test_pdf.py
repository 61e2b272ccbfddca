"""PDF -> TOON on PDFs made in the test with PyMuPDF."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pymupdf")

from tests.convert.pdfs import (  # noqa: E402
    make_dense_grid,
    make_encrypted,
    make_image_only,
    make_report,
)
from toon_tools.convert.pdf import pdf_to_data  # noqa: E402
from toon_tools.convert.registry import ConversionError  # noqa: E402


def test_report_structure() -> None:
    doc = pdf_to_data(make_report(pages=3), "report.pdf", jobs=1)
    assert doc["metadata"]["title"] == "ACME Quarterly Report"
    assert len(doc["pages"]) == 3
    assert [o["path"] for o in doc["outline"]] == [
        "Quarterly Results", "Quarterly Results > Section 1: Findings",
        "Quarterly Results > Section 2: Findings", "Quarterly Results > Section 3: Findings"]
    first = doc["pages"][0]
    assert "headings" not in first  # the outline names them already
    assert len(first["text"]) == 3 and first["text"][0].startswith("Token budgets matter")
    (table,) = first["tables"]
    assert table["rows"][0] == {"Item": "widget-1", "Qty": 3, "Price": "1.50"}
    assert len(table["rows"]) == 4
    everything = str(doc["pages"])
    assert "ACME Quarterly Report" not in everything  # running header dropped
    assert "Page 2 of 3" not in everything  # running footer dropped


def test_headings_from_font_sizes_without_an_outline() -> None:
    doc = pdf_to_data(make_report(pages=2, toc=False), "report.pdf", jobs=1)
    assert "outline" not in doc
    assert doc["pages"][0]["headings"] == [{"level": 1, "text": "Quarterly Results"},
                                           {"level": 2, "text": "Section 1: Findings"}]
    assert doc["pages"][1]["headings"] == [{"level": 2, "text": "Section 2: Findings"}]


@pytest.mark.slow
def test_pool_and_serial_agree() -> None:
    data = make_report(pages=30)
    assert pdf_to_data(data, "r.pdf", jobs=2) == pdf_to_data(data, "r.pdf", jobs=1)


def test_image_only_and_empty_pages_are_flagged() -> None:
    pages = pdf_to_data(make_image_only(), "i.pdf", jobs=1)["pages"]
    assert pages[0]["text"] == ["A page with text"]
    assert pages[1] == {"page": 2, "image_only": True}
    assert pages[2] == {"page": 3, "empty": True}


def _spin_on_page(monkeypatch: pytest.MonkeyPatch, slow_page: int) -> None:
    """Page ``slow_page`` spins in Python for up to a minute: only the time limit
    ends it early (without the limit the test takes a minute, then fails)."""
    import time

    import toon_tools.convert.pdf as pdf

    real = pdf.extract_page

    def slow(doc: object, number: int) -> object:
        if number == slow_page:
            end = time.monotonic() + 60
            while time.monotonic() < end:
                pass
        return real(doc, number)

    monkeypatch.setattr(pdf, "extract_page", slow)


def test_page_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    _spin_on_page(monkeypatch, 1)
    pages = pdf_to_data(make_report(pages=3), "r.pdf", jobs=1, page_time_limit=0.5)["pages"]
    assert pages[1] == {"page": 2, "error": "timed out after 0.5 s"}
    assert "text" in pages[0] and "text" in pages[2]


def test_page_time_limit_off_the_main_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SIGALRM there (nor on Windows): the limit must hold all the same."""
    import threading

    _spin_on_page(monkeypatch, 0)
    result: dict[str, object] = {}

    def convert() -> None:
        result["doc"] = pdf_to_data(make_report(pages=2), "r.pdf", jobs=1, page_time_limit=1.0)

    worker = threading.Thread(target=convert)
    worker.start()
    worker.join()
    pages = result["doc"]["pages"]  # type: ignore[index]
    assert pages[0] == {"page": 1, "error": "timed out after 1 s"}
    assert "text" in pages[1]


def test_page_time_limit_interrupts_real_table_detection() -> None:
    """A real slow page (a dense ruled grid) under a forced tiny limit: stopped
    inside PyMuPDF's find_tables(), and the document goes on to the next page."""
    from toon_tools.convert.pdf import _extract_range

    data = make_dense_grid()
    dense, after = _extract_range(data, [0, 1], 0.001)
    assert dense == {"number": 1, "error": "timed out after 0.001 s"}
    assert after.get("error") == "timed out after 0.001 s" or \
        [ln["text"] for ln in after["lines"]] == ["After the dense page"]
    dense, after = _extract_range(data, [0, 1], 600)
    assert "error" not in dense and len(dense["tables"]) == 1
    assert [ln["text"] for ln in after["lines"]] == ["After the dense page"]


@pytest.mark.parametrize("limit", [0.0, 0.001, 0.005, 0.02])
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_a_time_limit_near_the_page_time_never_leaks_a_timeout(limit: float) -> None:
    """Whatever the timing, a limit that fires as a page ends is taken for that page
    (or dropped), never raised later in the caller, nor printed as "Exception ignored"
    where it landed in a __del__ or a gc callback (pytest reports those as warnings:
    an error here)."""
    import gc

    from toon_tools.convert.pdf import _extract_range

    def busy_gc_callback(phase: str, info: dict[str, int]) -> None:
        for _ in range(2_000):  # Python time where a PageTimeout can land
            pass

    data = make_report(pages=6)
    gc.callbacks.append(busy_gc_callback)
    threshold = gc.get_threshold()
    gc.set_threshold(50)
    try:
        _check_limit_is_contained(_extract_range, data, limit)
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(busy_gc_callback)


def _check_limit_is_contained(extract: Callable[..., list[dict[str, Any]]], data: bytes,
                              limit: float) -> None:
    for _ in range(3):
        pages = extract(data, list(range(6)), limit)
        assert [p["number"] for p in pages] == [1, 2, 3, 4, 5, 6]
        assert all(p.get("error", f"timed out after {limit:g} s") == f"timed out after {limit:g} s"
                   for p in pages)
        total = 0
        for i in range(200_000):  # a stray PageTimeout would land in here
            total += i
        assert total == 199_999 * 100_000


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty file (0 bytes), not a PDF"),
    (b"PK\x03\x04 this is a zip", "a ZIP archive (no %PDF header)"),
    (b"%PDF-1.7\n garbage garbage", "corrupt PDF"),
])
def test_bad_files(data: bytes, message: str) -> None:
    with pytest.raises(ConversionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        pdf_to_data(data, "x.pdf", jobs=1)


def test_encrypted() -> None:
    with pytest.raises(ConversionError, match="encrypted PDF: a password is required"):
        pdf_to_data(make_encrypted(), "e.pdf", jobs=1)
