"""Every cell's provenance points at the place its value was printed.

For each format the place is looked up here with a reader of our own choosing, not gongkai's:
the line of a text or Markdown file, python-docx's table cell, the HTML table expanded by hand
(rowspan/colspan), and for a scan the page picture cropped at the box and read again by OCR.
The raw text found there must be the provenance's `raw`, and hold the cell's value.
"""

from __future__ import annotations

import io
import re
import sys

import pytest
from conftest import ROOT, require_ocr, require_soffice
from lxml import html as lxml_html

from gongkai.evaluate import compare
from gongkai.pipeline import parse
from gongkai.synth import make_report

sys.path.insert(0, str(ROOT))  # benchmarks.fixtures: the scanned report
SYN = make_report(5, template="2021")


def number(raw: str) -> float:
    return float(re.sub(r"[\s,，]", "", raw))


def placed(report) -> list[tuple[str, object]]:
    """(cell id, provenance) of every cell that holds a value: all the truth's."""
    found = placed_in(report)
    assert len(found) == sum(v is not None for v in SYN.truth["cells"].values())
    return found


@pytest.mark.parametrize("fmt", ["txt", "md"])
def test_text_cells_point_at_their_line(fmt):
    data = SYN.render(fmt)
    report = parse(data)
    lines = data.decode("utf-8").splitlines()
    for cell, where in placed(report):
        assert where.raw.strip() in lines[where.line - 1], cell
        assert number(where.raw) == report.cells[cell], cell


def test_docx_cells_point_at_their_table_cell():
    import docx

    data = SYN.render("docx")
    report = parse(data)
    tables = docx.Document(io.BytesIO(data)).tables
    for cell, where in placed(report):
        text = tables[where.table].cell(where.row, where.col).text
        assert text.strip() == where.raw.strip(), (cell, text, where)
        assert number(text) == report.cells[cell], cell


def expanded(table) -> list[list[str]]:
    """An HTML table as a grid: a cell spanning rows or columns fills every position it covers."""
    grid: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(table.xpath("./tr | ./thead/tr | ./tbody/tr")):
        c = 0
        for td in tr.xpath("./td | ./th"):
            while (r, c) in grid:
                c += 1
            for dr in range(int(td.get("rowspan", 1))):
                for dc in range(int(td.get("colspan", 1))):
                    grid[(r + dr, c + dc)] = td.text_content()
            c += int(td.get("colspan", 1))
    rows = 1 + max(r for r, _ in grid)
    return [[grid.get((r, c), "") for c in range(1 + max(c for _, c in grid))] for r in range(rows)]


def test_html_cells_point_at_their_table_cell():
    data = SYN.render("html")
    report = parse(data)
    tables = [expanded(t) for t in lxml_html.fromstring(data).xpath("//table")]
    for cell, where in placed(report):
        text = tables[where.table][where.row][where.col]
        assert text.strip() == where.raw.strip(), (cell, text, where)
        assert number(text) == report.cells[cell], cell


# ── a scan, end to end ───────────────────────────────────────────────────────────────────

SKEW = 0.8  # degrees the scanner turned the pages


@pytest.fixture(scope="module")
def scanned():
    """A generated report as LibreOffice prints it, scanned at 150 dpi and turned 0.8°, as an image-only PDF,
    parsed in a guarded child (the OCR engine loads there, not in the test process)."""
    require_ocr()
    require_soffice()
    from benchmarks.fixtures import GeneratedReport, images_to_pdf, scan_pages
    from gongkai.limits import Limits, parse_guarded

    generated = GeneratedReport(seed=1)
    printed = generated.render("pdf")
    scan = images_to_pdf(scan_pages(printed, dpi=150, skew=SKEW), dpi=150)
    return generated, printed, parse_guarded(scan, limits=Limits(seconds=900))


@pytest.mark.slow
def test_a_scan_gives_cells_right_or_named(scanned):
    generated, _, report = scanned
    assert report.source.format == "pdf" and report.meta.template == "2021"
    truth = {"meta": {}, "cells": generated.truth}
    result = compare(report, truth)
    assert result.silent == [], "cells misread with no finding naming them"
    assert result.right >= 170, f"only {result.right} of {result.cells} cells read right from the scan; flagged {result.flagged}"


@pytest.mark.slow
def test_a_scanned_cell_points_at_its_box_on_the_page(scanned):
    """Inside a value's box lies one word of the printed PDF (before the scan): that value as printed."""
    import pdfplumber

    _, printed, report = scanned
    with pdfplumber.open(io.BytesIO(printed)) as pdf:
        words = {n: page.extract_words() for n, page in enumerate(pdf.pages, start=1)}
    checked = 0
    for cell, where in placed_in(report):
        assert where.page is not None and where.bbox is not None, cell
        x0, top, x1, bottom = where.bbox
        inside = [w["text"] for w in words[where.page] if x0 <= (w["x0"] + w["x1"]) / 2 <= x1 and top <= (w["top"] + w["bottom"]) / 2 <= bottom]
        assert inside == [where.raw.strip()], (cell, where, inside)
        checked += 1
    assert checked >= 170


def placed_in(report) -> list[tuple[str, object]]:
    return [(cell, report.provenance[cell]) for cell, value in report.cells.items() if value is not None]
