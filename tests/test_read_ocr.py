"""The OCR reader: a scanned page gives a grid whose cells hold the truth's numbers, with confidences."""

from __future__ import annotations

import io
import socket
import sys
from dataclasses import replace

import pytest
from conftest import ROOT, require_ocr, require_soffice

from gongkai.document import Paragraph
from gongkai.errors import UnreadableError

sys.path.insert(0, str(ROOT))
require_ocr()

from gongkai.read import ocr, ocr_models  # noqa: E402 — after the check that OCR can load

COLUMNS = ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")


@pytest.fixture(scope="module")
def scanned(monkeypatch_module):
    """Page 2 of a generated report, scanned at 200 dpi and skewed by 0.8°, read with the network cut."""
    from benchmarks.fixtures import GeneratedReport, scan_pages

    require_soffice()
    report = GeneratedReport(seed=1)
    page = scan_pages(report.render("pdf"), skew=0.8)[1]  # a conversion that writes nothing fails here, it is not skipped

    def no_network(*args, **kwargs):
        raise AssertionError("OCR tried to reach the network (models must ship in the wheel)")

    monkeypatch_module.setattr(socket.socket, "connect", no_network)
    ocr_models.forget()  # load the models here, with the network cut
    return report, ocr.read(page)


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_scan_grid_holds_truth_numbers_in_place(scanned):
    from benchmarks.fixtures import REQUEST_ROWS

    report, doc = scanned
    assert doc.format == "image" and doc.pages == 1
    grid = max(doc.grids, key=lambda g: len(g.cells))
    labels = {label: row for row, label, _ in REQUEST_ROWS}
    checked = wrong = 0
    for cells in grid.rows():
        row = next((labels[c.text] for c in cells if c.text in labels), None)
        if row is None:
            continue
        numbers = [c.text for c in cells[-7:]]
        truth = [str(report.truth[f"requests.{row}.{col}"]) for col in COLUMNS]
        checked += 1
        wrong += sum(a != b for a, b in zip(numbers, truth))
    assert checked >= 10, "too few table rows recognised by label"
    assert wrong <= 2, f"{wrong} of {checked * 7} numbers misread"


def test_scan_blocks_carry_confidence_and_pixel_boxes(scanned):
    _, doc = scanned
    for grid in doc.grids:
        assert all(c.where.page == 1 and c.where.bbox for c in grid.cells)
        assert all(0 <= c.confidence <= 1 for c in grid.cells if c.text)
    paragraphs = [b for b in doc.blocks if isinstance(b, Paragraph)]
    assert all(p.confidence is not None and p.where.bbox for p in paragraphs)


def test_skew_is_estimated_and_rules_found():
    from PIL import Image, ImageDraw

    image = Image.new("L", (1600, 1000), 255)
    draw = ImageDraw.Draw(image)
    for y in range(100, 900, 100):
        draw.line([(100, y), (1500, y)], fill=0, width=3)
    for x in range(100, 1600, 350):
        draw.line([(x, 100), (x, 800)], fill=0, width=3)
    skewed = image.rotate(-1.5, fillcolor=255, resample=Image.Resampling.BILINEAR)
    angle = ocr.estimate_skew(ocr._binarise(__import__("numpy").asarray(skewed)))
    assert abs(angle - 1.5) < 0.15
    from gongkai.read.grid_from_lines import find_tables

    tables = find_tables(ocr.find_rules(ocr._binarise(__import__("numpy").asarray(image)), 1.0), ocr._settings(1.0))
    assert len(tables) == 1 and (len(tables[0].ys) - 1, len(tables[0].xs) - 1) == (7, 4)


def test_huge_and_broken_images_are_refused_without_decoding():
    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(buf, format="PNG")
    with pytest.raises(UnreadableError, match="图像过大"):
        ocr.read(buf.getvalue())
    with pytest.raises(UnreadableError):
        ocr.read(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)


@pytest.mark.slow
def test_a_sealed_phone_photo_as_jpeg_reads_the_tables_right(tmp_path):
    """A generated report's table page as a phone would give it (colour JPEG, red seal over the table,
    shadow, skew, specks): its cells come out as the truth, a seal over numbers hiding none of them."""
    import random

    import gongkai
    from gongkai.evaluate import compare
    from gongkai.synth import make_report
    from gongkai.synth.render_office import _degrade, _pages, convert

    syn = make_report(8202, faults=())
    try:
        pdf = convert(syn.render("docx"), "pdf")
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"LibreOffice needed for the generated scan: {exc}")
    looks = {"kind": "photo", "contrast": (60, 220), "shadow": 0.6, "seal_over_table": True}
    rng = random.Random(8202)
    buffer = io.BytesIO()
    pages = [_degrade(page, rng, 200, looks, seal=True, agency=syn.agency.name) for page in _pages(pdf, 200)]
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:], compression="jpeg")  # a multi-page TIFF of photos
    report = gongkai.parse(buffer.getvalue())
    result = compare(report, syn.truth_for("photo.tif", "tif"))
    assert report.source.format == "image" and report.source.pages == len(pages)
    assert not result.silent and not result.false_errors
    assert result.right >= 0.97 * result.cells, result.flagged


def _ruled_page(size=(900, 700), rows=10, seal: bool = False):
    """A page of rules (no text), as a scanner gives it: a little blur, saved as a JPEG (colour at half resolution)."""
    import random

    from PIL import Image, ImageDraw, ImageFilter

    from gongkai.synth.render_office import _stamp

    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    for y in range(100, 100 + 60 * rows, 60):
        draw.line([(50, y), (size[0] - 50, y)], fill="black", width=2)
    for x in range(50, size[0] - 40, 200):
        draw.line([(x, 100), (x, 100 + 60 * (rows - 1))], fill="black", width=2)
    if seal:
        _stamp(image, random.Random(3), 150, "某某县人民政府办公室", near="middle")
    buffer = io.BytesIO()
    image.filter(ImageFilter.GaussianBlur(0.5)).save(buffer, format="JPEG", quality=75)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_a_seal_smeared_by_jpeg_leaves_no_ink_and_the_rules_under_it_stay():
    import numpy as np

    clean = ocr._binarise(np.asarray(ocr._page_grey(_ruled_page())[0]))
    gray, sealed = ocr._page_grey(_ruled_page(seal=True))
    ink = ocr._binarise(np.asarray(gray))
    assert np.asarray(sealed).any(), "the seal's place is known"
    assert (ink & ~clean).sum() <= 20, "the seal's strokes (darker and greyer after JPEG) are not ink"
    assert (clean & ~ink).sum() <= 0.01 * clean.sum(), "the rules under the seal stay"


def test_a_rule_a_seal_hid_is_joined_across_it_and_only_there():
    import numpy as np

    from gongkai.read.grid_from_lines import Rule

    sealed = np.zeros((400, 600), dtype=bool)
    sealed[80:120, 200:300] = True  # a seal's stroke lay over the rule at y=100 between x=200 and 300
    pieces = [Rule(True, 100.0, 50.0, 205.0), Rule(True, 100.0, 296.0, 550.0)]
    assert ocr.rules_across_seals(pieces, sealed) == [Rule(True, 100.0, 50.0, 550.0)]
    apart = [Rule(True, 300.0, 50.0, 205.0), Rule(True, 300.0, 296.0, 550.0)]  # the same gap on bare paper: two rules
    assert ocr.rules_across_seals(apart, sealed) == apart


def test_a_piece_of_rule_between_two_gaps_belongs_to_its_table_on_a_scan_not_in_a_pdf():
    from gongkai.read.grid_from_lines import Rule, table_groups

    frame = [Rule(True, 0.0, 0.0, 300.0), Rule(True, 100.0, 0.0, 300.0), Rule(False, 0.0, 0.0, 100.0), Rule(False, 300.0, 0.0, 100.0)]
    middle = [Rule(True, 50.0, 0.0, 100.0), Rule(True, 50.0, 120.0, 180.0), Rule(True, 50.0, 200.0, 300.0)]  # a rule in three pieces
    scan = ocr._settings(1.0)
    assert len(table_groups(frame + middle, scan)) == 1
    pdf = replace(scan, bridge=0.0)
    assert len(table_groups(frame + middle, pdf)) == 2, "PDF rules are exact: pieces apart are apart"


def test_pages_come_back_in_order_and_only_as_many_are_held_as_are_read_at_once():
    """A report's pages are read by `ocr.read_pages` (several at once when this process may use more
    than one core): blocks come back in page order, and a page is taken from the reader only when
    there is room for it."""
    from gongkai.document import Grid

    workers = ocr.page_workers(4)
    taken: list[int] = []

    def pages():
        for number in range(1, 5):
            taken.append(number)
            yield _ruled_page(rows=number + 2), number, 1.0

    held = []
    results = []
    for blocks in ocr.read_pages(pages(), 4):
        held.append(len(taken) - len(results))
        results.append(blocks)
    rows = [max(c.row for c in next(b for b in blocks if isinstance(b, Grid)).cells) + 1 for blocks in results]
    assert rows == [2, 3, 4, 5], "each page's table, in page order"
    assert [b.where.page for blocks in results for b in blocks] == [1, 2, 3, 4]
    assert max(held) <= workers


def test_a_batch_worker_with_one_core_reads_one_page_at_a_time(monkeypatch):
    monkeypatch.setenv("GONGKAI_OCR_THREADS", "1")
    assert ocr_models.streams_for(1) == 1
    assert ocr_models.streams_for(2) == 2 and ocr_models.streams_for(64) == ocr_models.MAX_STREAMS
    monkeypatch.setenv("GONGKAI_OCR_STREAMS", "1")
    assert ocr_models.streams_for(4) == 1, "one page at a time on all the cores, when asked"


def test_a_cells_line_box_leaves_out_specks_around_its_text_but_keeps_a_minus_sign():
    import numpy as np

    line = ocr.LINE
    cell = np.zeros((80, 120), dtype=bool)
    cell[20:44, 60:64] = True  # a '1'
    cell[31:33, 48:54] = True  # a minus sign before it, on its row
    cell[66:68, 100:102] = True  # a speck below, in the corner
    lines = ocr._cell_lines(np.pad(cell, 6), (0.0, 0.0, 132.0, 92.0), line)
    assert len(lines) == 1
    x0, y0, x1, y1 = lines[0]
    assert x0 <= 6 + 48 and x1 >= 6 + 64, "the minus sign is inside the line's box"
    assert y1 <= 6 + 50, "the speck below is not"


def _ruled_ink(rows: int = 9, width: int = 1500, columns: int = 5):
    """A table's ink as the reader sees it after binarising: rules 3 px thick, rows 60 px apart, columns 280 px wide."""
    import numpy as np

    ink = np.zeros((200 + 60 * rows, width + 100), dtype=bool)
    ys = [100 + 60 * k for k in range(rows + 1)]
    xs = [100 + 280 * k for k in range(columns + 1)]
    for y in ys:
        ink[y - 1 : y + 2, xs[0] : xs[-1] + 2] = True
    for x in xs:
        ink[ys[0] : ys[-1] + 2, x - 1 : x + 2] = True
    return ink, ys, xs


def _merged(table) -> list[tuple[int, int, int, int]]:
    return [(c.row, c.col, c.row_end, c.col_end) for c in table.cells if c.row_end - c.row > 1 or c.col_end - c.col > 1]


def test_a_rule_broken_under_a_seal_or_by_noise_is_rebuilt_where_the_other_columns_have_it():
    """A seal's strokes crossing a rule lift its ink into short pieces (JPEG gives the black under them a
    red tinge): the rule is rebuilt from the other columns' pieces at its height and its own pixels, so
    the cells above and below do not merge ('48\\n3'). A cell the table merges stays merged."""
    import numpy as np

    ink, ys, xs = _ruled_ink()
    sealed = np.zeros(ink.shape, dtype=bool)
    y, (x0, x1) = ys[3], xs[1:3]
    ink[y - 1 : y + 2, x0 + 2 : x1 - 2] = False
    for x in range(x0 + 2, x1 - 2, 14):
        ink[y - 1 : y + 2, x : x + 8] = True  # what is left of the rule: pieces far shorter than a rule
    sealed[y - 40 : y + 40, x0 + 60 : x1 - 90] = True  # the seal over half of it: too little to join the rule across it
    y2, (x2, x3) = ys[6], xs[3:5]
    ink[y2 - 1 : y2 + 2, x2 + 2 : x3 - 2] = False
    for x in range(x2 + 2, x3 - 2, 9):
        ink[y2 - 1 : y2 + 2, x : x + 6] = True  # a pale rule broken by a photocopy's noise, no seal
    y3, (x4, x5) = ys[5], xs[0:2]
    ink[y3 - 1 : y3 + 2, x4 + 2 : x5 - 2] = False  # a cell the table merges over two rows ...
    for top in range(y3 - 60 + 12, y3 + 60 - 30, 34):
        for x in range(x4 + 40, x5 - 40, 36):
            ink[top : top + 26, x : x + 3] = ink[top + 12 : top + 14, x - 10 : x + 14] = True  # ... holds text across the line
    ink[y3 - 1 : y3 + 2, x4 + 100 : x4 + 180] = True  # and a stroke on it
    table = ocr.page_tables(ink, sealed)[0]
    assert len(table.ys) == len(ys) and len(table.xs) == len(xs)
    assert _merged(table) == [(4, 0, 6, 1)], "the two broken rules rebuilt, the merged cell left merged"
    before = ocr._find_tables(ocr.rules_across_seals(ocr.find_rules(ink), sealed), 1.0)[0]
    assert len(_merged(before)) == 3, "without them the cells on either side of each broken rule merge"


def test_a_row_edge_is_the_rules_line_not_pulled_by_a_labels_strokes_under_it():
    """The top strokes of a label's characters a few pixels under a rule (属 right under it, on a long
    picture at 150 dpi) are not a rule: the row's edge stays on the rule and no cells merge."""
    ink, ys, xs = _ruled_ink()
    y = ys[4]
    for x in range(xs[0] + 30, xs[1] - 40, 30):
        ink[y + 7 : y + 10, x : x + 26] = True  # the characters' top strokes, joined along the line
        ink[y + 7 : y + 32, x + 2 : x + 5] = True
    ink[y + 7 : y + 10, xs[0] + 30 : xs[0] + 110] = True
    table = ocr.page_tables(ink, ink & False)[0]
    assert min(abs(edge - y) for edge in table.ys) <= 1.5, [round(e) for e in table.ys]
    assert len(table.ys) == len(ys) and not _merged(table)


def test_a_long_pictures_skew_is_estimated_as_a_pages():
    """A whole report as one picture, turned a little: thin rules must not fall between the rows the
    estimate looks at (a long picture's rows had been kept one in five, and 0.2° came out as -0.2°)."""
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("L", (1300, 7000), 255)
    draw = ImageDraw.Draw(image)
    for y in range(150, 6900, 53):
        draw.line([(150, y), (1150, y)], fill=0, width=3)
    for x in range(150, 1200, 250):
        draw.line([(x, 150), (x, 6840)], fill=0, width=3)
    for angle in (0.2, -0.35):
        turned = image.rotate(-angle, fillcolor=255, resample=Image.Resampling.BILINEAR)
        assert abs(ocr.estimate_skew(ocr._binarise(np.asarray(turned))) - angle) <= 0.05


def _sealed_zeros():
    """A table of 0s, one of them under a seal's filled star whose ink lay on the 0's top and bottom arcs
    (JPEG leaves them dark red): with the seal's traces turned white, that 0 is left as '( )'."""
    import numpy as np
    from PIL import Image, ImageChops, ImageDraw

    from gongkai.synth.render_office import _cjk_font

    image = Image.new("RGB", (1654, 1000), "white")
    draw = ImageDraw.Draw(image)
    for y in range(200, 441, 60):
        draw.line([(200, y), (1400, y)], fill="black", width=3)
    for x in range(200, 1401, 200):
        draw.line([(x, 200), (x, 440)], fill="black", width=3)
    for row in range(4):
        for col in range(6):
            draw.text((300 + 200 * col, 230 + 60 * row), "0", fill="black", font=_cjk_font(40), anchor="mm")
    pixels = np.asarray(image).copy()
    rows, cols = np.mgrid[: pixels.shape[0], : pixels.shape[1]]
    glyph = (pixels[..., 0] < 128) & (rows >= 272) & (rows < 308) & (cols >= 488) & (cols < 512)  # the 0 of row 1, column 1
    pixels[glyph & ((rows < 280) | (rows >= 300))] = (120, 30, 35)
    image = Image.fromarray(pixels)
    seal = Image.new("L", image.size, 0)
    ImageDraw.Draw(seal).polygon([(430, 262), (570, 262), (600, 318), (400, 318)], fill=255)
    return Image.composite(ImageChops.multiply(image, Image.new("RGB", image.size, (205, 35, 40))), image, seal)


def test_a_number_under_a_seal_that_reads_as_nothing_is_read_again_with_the_seal_left_in_and_in_doubt():
    from gongkai.document import Grid

    grid = next(b for b in ocr.read_image_blocks(_sealed_zeros(), page=1) if isinstance(b, Grid))
    row = {c.col: c for c in grid.cells if c.row == 1}
    assert [row[col].text for col in range(6)] == ["0"] * 6
    assert row[1].confidence <= ocr.SEAL_LEFT_IN < 0.8, "read with the seal's traces in: in doubt, for the identities to judge"
    assert all(row[col].confidence > ocr.SEAL_LEFT_IN for col in (0, 2, 3, 4, 5))


@pytest.mark.slow
def test_a_long_picture_reports_its_pages_as_its_cells_are_read():
    """A whole report as one long picture is one frame but several pages: the pages done move while it is
    read (the web app's job showed 0 of 4 until the end), never back, and end at every page."""
    import gongkai
    from gongkai import progress
    from gongkai.synth import make_report

    try:
        data = make_report(8203, faults=()).render("scan_png")
    except (RuntimeError, OSError) as exc:
        pytest.skip(f"LibreOffice needed for the generated scan: {exc}")
    from gongkai.read.ocr import pages_to_recognise

    total = pages_to_recognise(data)
    assert total >= 3, "a long picture of a whole report is several pages tall"
    heard: list[tuple[int, int]] = []
    with progress.listening(lambda done, of: heard.append((done, of))):
        report = gongkai.parse(data, name="long.png")
    done = [d for d, _ in heard]
    assert report.source.pages == 1 and {of for _, of in heard} == {total}
    assert done == sorted(done) and done[0] == 0 and done[-1] == total
    assert any(0 < d < total for d in done), heard



def test_a_child_forked_after_ocr_ran_neither_uses_nor_destroys_its_models(monkeypatch):
    """A child forked from a process whose OCR models have run (their threads did not fork) parses without
    touching them: releasing them in the child had run their destructors there — a segfault (signal 11)."""
    import numpy as np

    from gongkai import limits
    from gongkai.limits import Limits, parse_guarded
    from gongkai.pipeline import parse
    from gongkai.synth import make_report

    report = make_report(1).render("txt")

    ocr_models.models().recognise([np.full((48, 160), 255, dtype=np.uint8)] * 2)
    monkeypatch.setattr(limits, "_fork_is_safe", lambda: True)  # fork although the models are loaded
    assert parse_guarded(report, limits=Limits(seconds=60)).cells == parse(report).cells
