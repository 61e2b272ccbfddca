"""PDF -> TOON on PDFs made in the test with PyMuPDF."""

from __future__ import annotations

import pytest

pytest.importorskip("pymupdf")

from tests.convert.pdfs import make_encrypted, make_image_only, make_report  # noqa: E402
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


def test_page_time_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import toon_tools.convert.pdf as pdf

    real = pdf.extract_page

    def slow(doc: object, number: int) -> object:
        if number == 1:
            time.sleep(5)
        return real(doc, number)

    monkeypatch.setattr(pdf, "extract_page", slow)
    pages = pdf_to_data(make_report(pages=3), "r.pdf", jobs=1, page_time_limit=0.5)["pages"]
    assert pages[1] == {"page": 2, "error": "timed out after 0.5 s"}
    assert "text" in pages[0] and "text" in pages[2]


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
