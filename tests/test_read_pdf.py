"""The PDF reader: a faithful Document (lines, ruled grids with spans, page + bbox), split tables joined."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pypdfium2 as pdfium
import pytest
from conftest import ROOT, require_soffice, shared_path

from gongkai.document import Grid, Paragraph
from gongkai.errors import UnreadableError
from gongkai.read import pdf

sys.path.insert(0, str(ROOT))  # benchmarks.fixtures builds generated reports until gongkai.synth exists


@pytest.fixture(scope="module")
def hongze():
    return pdf.read(shared_path("corpus", "09_hongze_2023.pdf").read_bytes())


@pytest.fixture(scope="module")
def generated():
    from benchmarks.fixtures import GeneratedReport

    require_soffice()
    report = GeneratedReport(seed=1)  # a conversion that writes nothing fails here, it is not skipped
    return report, report.render("pdf")


def _row(grid: Grid, label: str) -> list[str]:
    for row in grid.rows():
        if any(c.text == label for c in row):
            return [c.text for c in row if c.text != label]
    raise AssertionError(f"no row {label!r}")


def _numbers(grid: Grid, label: str) -> list[str]:
    return [t for t in _row(grid, label) if t.replace(".", "").isdigit()]


def test_hongze_pages_lines_and_three_tables(hongze):
    assert hongze.format == "pdf" and hongze.pages == 5
    assert len(hongze.grids) == 3  # 表一 split over pages 2/3 and 表二 over 3/4 are one grid each
    texts = [b.text for b in hongze.blocks if isinstance(b, Paragraph)]
    assert "一、总体情况" in texts and "六、其他需要报告的事项" in texts
    assert not any(t.strip("- ").isdigit() for t in texts)  # page numbers "- 3 -" are dropped


def test_hongze_request_table_joined_across_pages(hongze):
    grid = hongze.grids[1]
    label = next(c for c in grid.cells if c.text == "三、本年度办理结果")
    assert label.rowspan == 20 and label.col == 0  # one cell, across the page break
    assert {c.where.page for c in grid.cells} == {3, 4}
    assert _numbers(grid, "一、本年新收政府信息公开申请数量") == ["21", "0", "0", "0", "0", "0", "21"]
    assert _numbers(grid, "3.补正后申请内容仍不明确") == ["0"] * 7  # first row of page 4
    assert _numbers(grid, "（七）总计") == ["21", "0", "0", "0", "0", "0", "21"]
    assert next(c for c in grid.cells if c.text == "（四）无法提供").rowspan == 3
    note = grid.cells[0]
    assert note.text.startswith("（本列数据的勾稽关系为") and (note.rowspan, note.colspan) == (3, 3)


def test_hongze_cells_carry_page_and_bbox(hongze):
    for grid in hongze.grids:
        for cell in grid.cells:
            x0, top, x1, bottom = cell.where.bbox
            assert cell.where.page in range(1, 6) and 0 <= x0 < x1 <= 595 and 0 <= top < bottom <= 842
            assert (cell.where.row, cell.where.col) == (cell.row, cell.col)
    for block in hongze.blocks:
        if isinstance(block, Paragraph):
            assert block.where.page and block.where.bbox and block.where.line


def test_hongze_active_table_joined_and_wrapped_labels(hongze):
    grid = hongze.grids[0]
    assert _numbers(grid, "行政事业性收费") == ["7730.28"]
    assert _numbers(grid, "行政处罚") == ["4119"]
    cells = {c.text for c in hongze.grids[1].cells}
    assert "（二）部分公开（区分处理的，只计这一情形，不计其他情形）" in cells  # wrapped CJK joined without space
    assert "社会公益组织" in cells


def test_generated_pdf_cells_match_truth(generated):
    report, data = generated
    doc = pdf.read(data)
    active, requests, appeals = doc.grids
    t = report.truth
    assert _numbers(requests, "1.信访举报投诉类申请") == [str(t[f"requests.not_processed.petition_complaint.{c}"]) for c in ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")]
    assert _numbers(requests, "四、结转下年度继续办理")[-1] == str(t["requests.carried_forward.total"])
    assert next(c for c in requests.cells if c.text == "三、本年度办理结果").rowspan == 22
    assert appeals.n_cols == 15 and [c.text for c in appeals.rows()[-1]][-1] == str(t["appeals.suit_after_review.total"])
    assert _numbers(active, "行政事业性收费") == [f"{t['active.admin_fees.amount_wan']:.2f}".rstrip("0").rstrip(".")] or _numbers(active, "行政事业性收费") == [str(t["active.admin_fees.amount_wan"])]


def _turned(data: bytes, rotate: int, angle: int) -> bytes:
    """Each page's content drawn turned by `angle` (as a form XObject) on a landscape page with /Rotate `rotate`."""
    src, dst = pdfium.PdfDocument(data), pdfium.PdfDocument.new()
    for i in range(len(src)):
        w, h = src[i].get_size()
        obj = src.page_as_xobject(i, dst).as_pageobject()
        matrix = pdfium.PdfMatrix().rotate(angle)
        obj.transform(matrix.translate(0, w) if angle == 90 else matrix.translate(h, 0))
        page = dst.new_page(h, w)
        page.insert_obj(obj)
        page.gen_content()
        page.set_rotation(rotate)
    buf = io.BytesIO()
    dst.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(("rotate", "angle"), [(90, 90), (270, 90), (0, 270)])
def test_turned_pages_read_upright(generated, rotate, angle):
    _, data = generated
    plain, turned = pdf.read(data), pdf.read(_turned(data, rotate, angle))

    def lines(doc):
        return [b.text.replace(" ", "") for b in doc.blocks if isinstance(b, Paragraph)]

    assert lines(turned) == lines(plain)
    assert [(g.n_rows, g.n_cols) for g in turned.grids] == [(g.n_rows, g.n_cols) for g in plain.grids]
    assert [c.text for c in turned.grids[1].cells] == [c.text for c in plain.grids[1].cells]


def test_corrupt_pdfs_are_unreadable(generated):
    _, data = generated
    with pytest.raises(UnreadableError, match="损坏"):
        pdf.read(data[: len(data) // 3])
    with pytest.raises(UnreadableError):
        pdf.read(b"%PDF-1.7\n garbage")


CIPHERS = [pytest.param(6, id="AES-256-R6"), pytest.param(4, id="AES-128-R4"), pytest.param(3, id="RC4-128-R3")]


def _encrypted(data: bytes, revision: int, user: str) -> bytes:
    """The PDF re-saved by qpdf with standard security of `revision`, printing, copying and editing forbidden."""
    import pikepdf

    forbidden = pikepdf.Permissions(extract=False, print_lowres=False, print_highres=False, modify_other=False)
    encryption = pikepdf.Encryption(user=user, owner="owner-secret", R=revision, aes=revision >= 4, metadata=revision >= 4, allow=forbidden)
    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(data)) as source:
        source.save(out, encryption=encryption)
    with pikepdf.open(io.BytesIO(out.getvalue()), password=user) as check:  # really encrypted as asked, not silently plain
        assert check.is_encrypted and check.encryption.R == revision and not check.allow.extract
    return out.getvalue()


@pytest.fixture(scope="module")
def generated_cells(generated):
    from gongkai import parse

    return parse(generated[1], name="report.pdf").cells


@pytest.mark.parametrize("revision", CIPHERS)
def test_a_pdf_with_an_open_password_is_unreadable(generated, revision, tmp_path):
    from gongkai import parse

    _, data = generated
    locked = _encrypted(data, revision, user="open-secret")
    with pytest.raises(UnreadableError, match="PDF 已加密"):
        pdf.read(locked)
    with pytest.raises(UnreadableError, match="PDF 已加密"):
        parse(locked, name="report.pdf")
    path = tmp_path / "locked.pdf"
    path.write_bytes(locked)
    done = subprocess.run([sys.executable, "-m", "gongkai.cli", "parse", str(path), "--json"], capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"gongkai: {path}: PDF 已加密\n")


@pytest.mark.parametrize("revision", CIPHERS)
def test_a_pdf_with_only_an_owner_password_reads_as_the_plain_one(generated, generated_cells, revision):
    """Published reports often forbid printing and copying with an owner password alone: the text is still there to read."""
    from gongkai import parse

    report, data = generated
    cells = parse(_encrypted(data, revision, user=""), name="report.pdf").cells
    wrong = {k: (cells.get(k), v) for k, v in report.truth.items() if cells.get(k) != v}
    assert not wrong, f"{len(wrong)} of {len(report.truth)} cells differ: {dict(list(wrong.items())[:8])}"
    assert cells == generated_cells


def test_image_only_pdf_goes_through_ocr_note():
    from PIL import Image

    blank = Image.new("L", (400, 300), 255)
    buf = io.BytesIO()
    blank.save(buf, format="PDF")
    doc = pdf.read(buf.getvalue())
    assert doc.pages == 1 and doc.notes and "OCR" in doc.notes[0]


def test_end_to_end_cells_from_hongze_pdf():
    from gongkai import parse

    truth = json.loads(shared_path("corpus", "truth", "09_hongze_2023.json").read_text(encoding="utf-8"))["cells"]
    cells = parse(shared_path("corpus", "09_hongze_2023.pdf")).cells
    wrong = {k: (cells.get(k), v) for k, v in truth.items() if cells.get(k) != v}
    assert not wrong, f"{len(wrong)} of {len(truth)} cells differ: {dict(list(wrong.items())[:8])}"


def _blocks(document) -> list:
    return [
        (b.text, b.where) if isinstance(b, Paragraph) else (b.where, [(c.row, c.col, c.rowspan, c.colspan, c.text, c.where) for c in b.cells])
        for b in document.blocks
    ]


@pytest.mark.parametrize("source", ["generated", "turned", "hongze"])
def test_runs_read_the_same_as_their_characters(generated, monkeypatch, source):
    """A word drawn by one text object is one piece; the Document is the one read character by character."""
    if source == "hongze":
        data = shared_path("corpus", "09_hongze_2023.pdf").read_bytes()
    else:
        data = generated[1] if source == "generated" else _turned(generated[1], 90, 0)
    by_runs = pdf.read(data)
    monkeypatch.setattr(pdf._TextLayer, "_run", lambda *args: None)
    assert _blocks(by_runs) == _blocks(pdf.read(data))


def test_a_run_over_a_rule_is_split_into_its_cells():
    """Text that overflows its cell into the next one (one text object, no gap) lands in both cells, by character."""
    from hostile import pdf as pdf_bytes

    rules = b"0.5 w 100 700 60 60 re S 129.5 700 m 129.5 760 l S 100 730 m 160 730 l S "
    # Helvetica digits are 6.672 pt wide at 12 pt: 1234 end at 128.7, left of the rule at 129.5; 5678 run past it
    text = b"BT /F1 12 Tf 102 740 Td (12345678) Tj ET BT /F1 12 Tf 102 710 Td (9) Tj ET BT /F1 12 Tf 132 710 Td (10) Tj ET"
    ops = rules + text
    data = pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip
    (grid,) = pdf.read(data).grids
    assert [[c.text for c in grid.cells if c.row == row] for row in (0, 1)] == [["1234", "5678"], ["9", "10"]]


def test_bulk_character_calls_match_pdfium_one_by_one(generated):
    """The reader's fast paths (one GetText per page, calls without argument conversion) give pdfium's own answers."""
    import ctypes

    from pypdfium2 import raw

    _, data = generated
    for source in (data, shared_path("corpus", "09_hongze_2023.pdf").read_bytes()):
        document = pdfium.PdfDocument(source)
        for page in document:
            textpage = page.get_textpage()
            handle = textpage.raw
            n = raw.FPDFText_CountChars(handle)
            assert pdf._page_text(handle) == "".join(chr(raw.FPDFText_GetUnicode(handle, i)) for i in range(n))
            typed, fast = [ctypes.c_double() for _ in range(4)], [ctypes.c_double() for _ in range(4)]
            for i in range(0, n, 7):
                assert raw.FPDFText_GetCharBox(handle, i, *typed) == pdf._GET_CHAR_BOX(handle, i, *map(ctypes.byref, fast))
                assert [v.value for v in typed] == [v.value for v in fast]
                assert raw.FPDFText_GetCharAngle(handle, i) == pdf._GET_CHAR_ANGLE(handle, i)
            textpage.close()
            page.close()
        document.close()


def test_unchecked_path_calls_match_pdfium(generated):
    """The path walk's calls without argument conversion give pdfium's own answers."""
    import ctypes

    from pypdfium2 import raw

    _, data = generated
    for source in (data, shared_path("corpus", "09_hongze_2023.pdf").read_bytes()):
        document = pdfium.PdfDocument(source)
        for page in document:
            for index in range(raw.FPDFPage_CountObjects(page.raw)):
                obj = raw.FPDFPage_GetObject(page.raw, index)
                if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_PATH:
                    continue
                typed, fast = [ctypes.c_int() for _ in range(2)], [ctypes.c_int() for _ in range(2)]
                assert raw.FPDFPath_GetDrawMode(obj, *typed) == pdf._GET_DRAW_MODE(obj, *map(ctypes.byref, fast))
                assert [v.value for v in typed] == [v.value for v in fast]
                for checked, unchecked in ((raw.FPDFPageObj_GetStrokeColor, pdf._GET_STROKE_COLOR), (raw.FPDFPageObj_GetFillColor, pdf._GET_FILL_COLOR)):
                    typed, fast = [ctypes.c_uint() for _ in range(4)], [ctypes.c_uint() for _ in range(4)]
                    assert checked(obj, *typed) == unchecked(obj, *map(ctypes.byref, fast))
                    assert [v.value for v in typed] == [v.value for v in fast]
                n = raw.FPDFPath_CountSegments(obj)
                assert pdf._COUNT_SEGMENTS(obj) == n
                for i in range(n):
                    x, y = ctypes.c_float(), ctypes.c_float()
                    raw.FPDFPathSegment_GetPoint(pdf._GET_SEGMENT(obj, i), x, y)
                    x2, y2 = ctypes.c_float(), ctypes.c_float()
                    raw.FPDFPathSegment_GetPoint(raw.FPDFPath_GetPathSegment(obj, i), x2, y2)
                    assert (x.value, y.value) == (x2.value, y2.value)
            page.close()
        document.close()


def _two_page_table(second_xs: tuple[float, float, float, float]) -> bytes:
    """A ruled table whose last row ends page 1 with '12' (the top of '123') and a part on page 2 whose first
    row holds the '3' the page break cut, its column rules at `second_xs`."""
    from hostile import pdf as pdf_bytes

    def page(ops: bytes, contents: int) -> bytes:
        return b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R /Resources << /Font << /F1 7 0 R >> >> >>" % contents

    def stream(ops: bytes) -> bytes:
        return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops)

    def text(x: float, y: float, s: bytes) -> bytes:
        return b"BT /F1 12 Tf %g %g Td (%s) Tj ET " % (x, y, s)

    first = b"0.5 w 100 80 220 60 re S 100 110 m 320 110 l S 200 80 m 200 140 l S 260 80 m 260 140 l S "
    first += text(102, 125, b"X") + text(202, 125, b"a") + text(262, 125, b"b") + text(102, 90, b"L") + text(202, 90, b"12") + text(262, 90, b"0")
    x0, x1, x2, x3 = second_xs
    second = b"0.5 w %g 700 %g 60 re S %g 730 m %g 730 l S %g 700 m %g 760 l S %g 700 m %g 760 l S " % (x0, x3 - x0, x0, x3, x1, x1, x2, x2)
    second += text(x1 + 2, 740, b"3") + text(x0 + 2, 710, b"M") + text(x1 + 2, 710, b"5") + text(x2 + 2, 710, b"6")
    return pdf_bytes([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        page(first, 5),
        page(second, 6),
        stream(first),
        stream(second),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip


def test_a_number_cut_by_a_page_break_is_joined_when_the_columns_drifted():
    """The next page draws the same columns a few points off (more than the old 4 pt): matched by overlap,
    the table is one, and the '3' under '12' completes 123 instead of leaving '12' in the cell."""
    (grid,) = pdf.read(_two_page_table((100, 207, 254, 320))).grids
    assert [[c.text for c in row] for row in grid.rows()] == [["X", "a", "b"], ["L", "123", "0"], ["M", "5", "6"]]


def test_a_table_of_other_columns_on_the_next_page_is_another_table():
    """Columns that do not correspond (a rule in the middle of a column of the table above) are not joined."""
    grids = pdf.read(_two_page_table((100, 160, 290, 320))).grids
    assert len(grids) == 2
    assert [c.text for c in grids[0].rows()[-1]] == ["L", "12", "0"]
    # but the second opens with numbers and no label: they may be the rest of the row above, cut
    assert [c.doubt is not None for c in grids[0].rows()[-1]] == [False, True, True]
    assert [c.doubt is not None for c in grids[1].rows()[0]] == [False, True, False]
