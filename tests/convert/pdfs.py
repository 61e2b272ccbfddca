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


def make_dense_grid(cells: int = 12) -> bytes:
    """One page ruled into cells x cells with text in most cells, then one ordinary
    page: table detection on the first is slow (~0.2 s) the way a dense
    spreadsheet printout is, in PyMuPDF's Python over many short MuPDF calls."""
    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    w, h = 500 / cells, 750 / cells
    shape = page.new_shape()
    for i in range(cells + 1):
        shape.draw_line((40, 40 + i * h), (540, 40 + i * h))
        shape.draw_line((40 + i * w, 40), (40 + i * w, 790))
    shape.finish(width=0.3)
    shape.commit()
    for r in range(cells):
        for c in range(0, cells, 2):
            page.insert_text((42 + c * w, 40 + (r + 0.7) * h), f"r{r}c{c}", fontsize=4)
    doc.new_page().insert_text((72, 72), "After the dense page", fontsize=11)
    return doc.tobytes()
