"""Real PDFs for the tests and the benchmark, made with PyMuPDF."""

from __future__ import annotations

from typing import Any

LOREM = ("Token budgets matter when context windows fill up. Each section of this report "
         "explains one part of the pipeline and how its artifacts are stored.")


def make_report(pages: int = 3, table_rows: int = 4, toc: bool = True) -> bytes:
    """Headings, paragraphs, a ruled table, running header/footer, an outline."""
    import pymupdf

    doc = pymupdf.open()
    with_toc = toc
    toc = []
    for n in range(1, pages + 1):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 30), "ACME Quarterly Report", fontsize=9)  # running header
        page.insert_text((280, 820), f"Page {n} of {pages}", fontsize=9)  # running footer
        y = 90.0
        if n == 1:
            page.insert_text((72, y), "Quarterly Results", fontsize=22)
            toc.append([1, "Quarterly Results", 1])
            y += 40
        title = f"Section {n}: Findings"
        page.insert_text((72, y), title, fontsize=15)
        toc.append([2, title, n])
        y += 28
        for _ in range(3):
            page.insert_textbox(pymupdf.Rect(72, y, 523, y + 60), LOREM, fontsize=10)
            y += 60
        if n == 1:
            y = _table(page, y + 10, table_rows)
    if with_toc:
        doc.set_toc(toc)
    doc.set_metadata({"title": "ACME Quarterly Report", "author": "Ada"})
    return doc.tobytes()


def _table(page: Any, top: float, rows: int) -> float:
    import pymupdf

    header = ["Item", "Qty", "Price"]
    data = [[f"widget-{i}", str(i * 3), f"{i * 1.5:.2f}"] for i in range(1, rows + 1)]
    widths = [200, 80, 100]
    h = 20
    for r, cells in enumerate([header, *data]):
        x = 72.0
        for c, text in enumerate(cells):
            rect = pymupdf.Rect(x, top + r * h, x + widths[c], top + (r + 1) * h)
            page.draw_rect(rect, color=(0, 0, 0), width=0.7)
            page.insert_text((x + 4, rect.y1 - 6), text, fontsize=10)
            x += widths[c]
    return top + (rows + 1) * h


def make_image_only() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "A page with text", fontsize=11)
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.set_rect(pix.irect, (200, 30, 30))
    page.insert_image(pymupdf.Rect(72, 72, 272, 272), pixmap=pix)
    doc.new_page()  # a blank page
    return doc.tobytes()


def make_encrypted() -> bytes:
    import pymupdf

    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret", fontsize=11)
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="owner")
