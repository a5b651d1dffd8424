"""What OCR reads is judged with doubt: a spoilt number, a table not found, a broken identity on a scan.

The documents are built by hand as the OCR reader builds them (every block with a confidence),
so each test shows one decision of extract/ and rules/ without running OCR.
"""

from __future__ import annotations

from dataclasses import replace

from gongkai.document import Document, Grid, GridCell, Paragraph, Where
from gongkai.extract import extract
from gongkai.extract.alternatives import choose_readings
from gongkai.locate import locate
from gongkai.rules import check

APPEALS_HEADER = [
    [(0, "行政复议", 5, 1), (5, "行政诉讼", 10, 1)],
    [(0, "结果维持", 1, 2), (1, "结果纠正", 1, 2), (2, "其他结果", 1, 2), (3, "尚未审结", 1, 2), (4, "总计", 1, 2),
     (5, "未经复议直接起诉", 5, 1), (10, "复议后起诉", 5, 1)],
    [(5 + k, t, 1, 1) for k, t in enumerate(["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 2)],
]  # fmt: skip
VALUES = ["1", "0", "0", "0", "1", "2", "0", "1", "1", "4", "0", "0", "0", "0", "0"]


def _document(values: list[str], *, confidence: float | None = 0.97, grid: bool = True, rows: list | None = None) -> Document:
    lines = [
        "丰城市教育局2024年政府信息公开工作年度报告",
        "一、总体情况",
        "本年度我局认真落实政府信息公开工作。",
        "四、政府信息公开行政复议、行政诉讼情况",
    ]
    blocks: list = [Paragraph(text, Where(line=n, page=1), confidence) for n, text in enumerate(lines, start=1)]
    if grid:
        rows = rows or [*APPEALS_HEADER, [(k, v, 1, 1) for k, v in enumerate(values)]]
        cells = [
            GridCell(r, c, text, colspan=cs, rowspan=rs, where=Where(table=0, row=r, col=c, page=1), confidence=confidence)
            for r, row in enumerate(rows)
            for c, text, cs, rs in row
        ]
        blocks.append(Grid(cells, Where(table=0, page=1)))
    blocks.append(Paragraph("五、存在的主要问题及改进情况", Where(line=9, page=1), confidence))
    return Document(blocks=blocks, format="image", pages=1)


def _read(document: Document):
    extracted = extract(locate(document))
    return extracted, check(extracted)


def test_a_number_spoilt_by_a_speck_is_named_not_guessed():
    values = VALUES.copy()
    values[8] = "1."  # 'appeals.suit_direct.pending': the '1' with a speck after it
    extracted, findings = _read(_document(values))
    cells = {k: v for k, v in extracted.cells.items() if k.startswith("appeals.")}
    assert cells["appeals.suit_direct.pending"] is None
    named = [f for f in findings if "appeals.suit_direct.pending" in f.cells and f.origin == "extraction"]
    assert named and "1." in named[0].message
    assert [cells[k] for k in cells if k != "appeals.suit_direct.pending"] == [int(v) for i, v in enumerate(VALUES) if i != 8]


def test_the_same_cell_in_a_text_document_is_not_taken_for_a_number():
    values = VALUES.copy()
    values[8] = "1."  # in a Word table '1.' is a label's numbering, not a spoilt number
    extracted, _ = _read(_document(values, confidence=None))
    assert extracted.cells.get("appeals.suit_direct.pending") is None


def test_a_table_not_read_in_a_section_that_holds_one_is_unreadable_not_missing():
    misread = [[(0, "序号", 1, 1), (1, "事项", 1, 1), (2, "件数", 1, 1)], [(0, "1", 1, 1), (1, "复核", 1, 1), (2, "3", 1, 1)]]
    _, findings = _read(_document(VALUES, rows=misread))  # a table is there, but nothing in it reads as the standard one
    (appeals,) = [f for f in findings if f.rule.startswith("structure.table_") and "行政复议" in f.message]
    assert appeals.rule == "structure.table_unreadable"
    assert appeals.origin == "extraction" and "appeals.review.total" in appeals.cells


def test_on_a_scan_a_table_not_found_at_all_is_the_parsers_doubt():
    _, findings = _read(_document(VALUES, grid=False))
    missing = [f for f in findings if f.rule == "structure.table_missing"]
    assert missing and all(f.origin == "extraction" and f.cells for f in missing)
    _, findings = _read(_document(VALUES, grid=False, confidence=None))
    assert all(f.origin == "source" for f in findings if f.rule == "structure.table_missing")


def test_on_a_scan_a_broken_identity_may_be_a_misread():
    values = VALUES.copy()
    values[4] = "7"  # 行政复议 total: 1 + 0 + 0 + 0 ≠ 7
    _, findings = _read(_document(values))
    broken = [f for f in findings if f.rule.startswith("appeals.") and f.severity == "error"]
    assert broken and all(f.origin == "extraction" and "OCR" in f.message for f in broken)
    _, findings = _read(_document(values, confidence=None))
    assert any(f.rule.startswith("appeals.") and f.origin == "source" for f in findings)


def test_a_letter_read_for_a_digit_is_a_digit_in_doubt():
    values = VALUES.copy()
    values[6] = "o"  # the 0 of 'appeals.suit_direct.corrected'
    extracted, findings = _read(_document(values))
    assert extracted.cells["appeals.suit_direct.corrected"] is None
    assert any(f.origin == "extraction" and f.cells == ["appeals.suit_direct.corrected"] for f in findings)
    assert extracted.cells["appeals.suit_direct.other"] == 1


def test_digits_in_several_boxes_of_one_cell_leave_the_columns_in_doubt():
    """'2 6 1' in one OCR'd cell is one number, or the numbers of columns whose rule was missed: nothing is placed."""
    values = VALUES.copy()
    values[5] = "2 6 1"
    extracted, findings = _read(_document(values))
    named = {c for f in findings if f.origin == "extraction" for c in f.cells}
    appeals = [c for c in extracted.cells if c.startswith("appeals.")]
    assert all(extracted.cells[c] is None and c in named for c in appeals)


def test_a_title_cut_short_by_ocr_still_names_the_body():
    from gongkai.extract.meta import read_agency_and_year

    lines = [
        "金沙市青山区南门街道办事处2022年度政府信息公开工",
        "本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人",
        "民共和国政府信息公开工作年度报告格式》要求，由金沙市青山区南门街道办事处编制。",
    ]
    assert read_agency_and_year(lines, "\n".join(lines)) == ("金沙市青山区南门街道办事处", 2022)
    # without the title, the name of the format document ('…人民共和国政府信息公开工作年度报告格式') is no body's name
    agency, _ = read_agency_and_year(lines[1:], "\n".join(lines[1:]))
    assert agency is None or "共和国" not in agency


def _with_readings(values: list[str], doubtful: dict[int, tuple[float, tuple[str, ...]]]) -> Document:
    """The appeals document with some value cells read in doubt: {index: (confidence, other readings)}."""
    document = _document(values)
    grid = document.grids[0]
    last = max(c.row for c in grid.cells)
    for k, cell in enumerate(grid.cells):
        if cell.row == last and cell.col in doubtful:
            confidence, readings = doubtful[cell.col]
            grid.cells[k] = replace(cell, confidence=confidence, readings=readings)
    return document


def _chosen(document: Document):
    extracted = extract(locate(document))
    choose_readings(extracted, document)
    return extracted, check(extracted)


def test_the_one_reading_that_makes_every_identity_hold_is_taken_and_says_so():
    values = VALUES.copy()
    values[4] = "7"  # 行政复议 total, truly 1: the recogniser's second reading
    extracted, findings = _chosen(_with_readings(values, {4: (0.41, ("1", "4"))}))
    assert extracted.cells["appeals.review.total"] == 1
    assert "唯一" in extracted.provenance["appeals.review.total"].chosen
    assert not [f for f in findings if "appeals.review.total" in f.cells]


def test_when_several_readings_hold_the_cell_stays_in_doubt():
    values = VALUES.copy()
    values[0], values[4] = "7", "7"  # 结果维持 and 总计 both doubtful: 1/1 and 4/4 both hold
    extracted, findings = _chosen(_with_readings(values, {0: (0.5, ("1", "4")), 4: (0.5, ("1", "4"))}))
    assert extracted.provenance["appeals.review.total"].chosen is None
    assert any(f.rule == "extraction.low_confidence" and f.cells == ["appeals.review.total"] for f in findings)


def test_a_sure_reading_that_breaks_an_identity_is_not_changed_without_other_readings():
    values = VALUES.copy()
    values[4] = "7"  # read with confidence and no other reading: the report may well be wrong
    extracted, findings = _chosen(_with_readings(values, {}))
    assert extracted.cells["appeals.review.total"] == 7
    assert any(f.rule == "appeals.block_sum" for f in findings)


def test_a_doubtful_reading_with_no_other_digit_is_taken_when_every_identity_through_it_holds():
    """A seal's stroke beside a '1' made the recogniser unsure, but no other digit was in the running:
    the identities through the cell (all judged) hold with it, so its doubt is lifted and it says why."""
    extracted, findings = _chosen(_with_readings(VALUES.copy(), {4: (0.41, ())}))
    assert extracted.cells["appeals.review.total"] == int(VALUES[4])
    assert "没有别的数字候选" in extracted.provenance["appeals.review.total"].chosen
    assert not [f for f in findings if "appeals.review.total" in f.cells]


def test_a_doubtful_reading_with_no_other_digit_that_breaks_an_identity_stays_in_doubt():
    values = VALUES.copy()
    values[4] = "7"  # 行政复议 total, truly 1, read in doubt with nothing else to try
    extracted, findings = _chosen(_with_readings(values, {4: (0.41, ())}))
    assert extracted.provenance["appeals.review.total"].chosen is None
    assert any(f.rule == "extraction.low_confidence" and f.cells == ["appeals.review.total"] for f in findings)


def test_a_count_read_with_a_speck_for_a_decimal_point_is_read_without_it_when_the_identities_say_so():
    values = VALUES.copy()
    values[0], values[4] = "11", "1.1"  # 结果维持 11, and 行政复议 total 11 read with a speck between its digits
    extracted, findings = _chosen(_with_readings(values, {4: (0.78, ())}))
    assert extracted.cells["appeals.review.total"] == 11
    assert extracted.provenance["appeals.review.total"].chosen
    assert not [f for f in findings if "appeals.review.total" in f.cells]
