"""Exports of the corpus tables: Excel with red cells and comments, CSV and Parquet with findings beside."""

from __future__ import annotations

import csv
import re

import openpyxl
import pyarrow.parquet as pq
import pytest
from corpus_helpers import carried, hand_report

from gongkai.cells import all_cells, label
from gongkai.export import export
from gongkai.export.xlsx import ERROR_FILL, WARNING_FILL
from gongkai.report import Finding
from gongkai.store import Store
from gongkai.store.rows import failure_rows, report_rows

EARLIER, LATER = "1" * 64, "2" * 64
CONTRACT = ["sha256", "path", "agency", "year", "published", "template", *(c.id for c in all_cells()), "errors", "warnings"]
EXTRA = ["body_type", "region", "format", "pages", "bytes", "cells_found", "body_key", "source_url", "source_page", "published_from"]


@pytest.fixture
def db(tmp_path):
    """Two years of one body, the later one with a broken carry-over and an own finding."""
    balance = Finding(rule="requests.balance", severity="error", origin="source", message="总计列：本年新收 5 + 上年结转 1 ≠ 7",
                      cells=["requests.new_received.total", "requests.total.total"])
    late = Finding(rule="meta.published_late", severity="warning", origin="source", message="2021年度报告于2022-04-01发布/落款，晚于期限2022-03-31")
    reports = [
        hand_report(EARLIER, "某县人民政府", 2020, cells=carried("carried_forward", natural_person=2)),
        hand_report(LATER, "某县政府", 2021, cells={**carried("carried_over", natural_person=1), "requests.new_received.total": 5},
                    findings=[balance, late]),
    ]
    for report in reports:
        report.meta.body_type = "government"
    path = tmp_path / "corpus.duckdb"
    with Store(path) as store:
        store.add([report_rows(r, r.source.path) for r in reports] + [failure_rows("3" * 64, "/reports/bad.pdf", "unreadable", "文件已损坏")])
        store.refresh()
    return path


def test_xlsx_marks_the_broken_cell_red_with_the_finding(db, tmp_path):
    [target] = export(db, tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["报告", "发现", "2020年", "2021年", "无法解析", "说明"]
    sheet = book["报告"]
    ids = [c.value for c in sheet[1]]  # the hidden id row: every column of the contract, named exactly
    assert sheet.row_dimensions[1].hidden and ids[: len(CONTRACT)] == CONTRACT and sorted(ids) == sorted(CONTRACT + EXTRA)
    # the contract's order kept, its sha256 and path hidden: the body's name is the first column a reviewer sees, frozen
    hidden = {i for d in sheet.column_dimensions.values() if d.hidden for i in range(d.min, d.max + 1)}
    visible = [n for i, n in enumerate(ids, 1) if i not in hidden]
    assert visible[0] == "agency" and {"sha256", "path"}.isdisjoint(visible) and sheet.freeze_panes == "D3"
    assert sheet.cell(2, ids.index("requests.carried_over.natural_person") + 1).value == label("requests.carried_over.natural_person")
    later_row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 1).value == LATER)
    assert sheet.cell(later_row, ids.index("agency") + 1).value == "某县政府" and sheet.cell(later_row, ids.index("body_type") + 1).value == "人民政府"
    broken = sheet.cell(later_row, ids.index("requests.carried_over.natural_person") + 1)
    assert broken.value == 1
    assert broken.fill.fgColor.rgb.upper().endswith(ERROR_FILL.lstrip("#"))
    assert "上年结转≠上一年度报告的结转下年度" in broken.comment.text and "自然人 1 ≠ 2" in broken.comment.text
    own = sheet.cell(later_row, ids.index("requests.total.total") + 1)
    assert own.fill.fgColor.rgb.upper().endswith(ERROR_FILL.lstrip("#")) and "勾稽关系不成立" in own.comment.text
    late = sheet.cell(later_row, ids.index("warnings") + 1)  # a warning on no cell: marked yellow on the count
    assert late.fill.fgColor.rgb.upper().endswith(WARNING_FILL.lstrip("#")) and "发布晚于期限" in late.comment.text
    fine = sheet.cell(later_row, ids.index("requests.granted.total") + 1)
    assert fine.comment is None and fine.fill.fgColor.rgb in (None, "00000000")
    findings = book["发现"]
    columns = [c.value for c in findings[1]]
    rules = [findings.cell(r, columns.index("rule") + 1).value for r in range(3, findings.max_row + 1)]
    assert sorted(rules) == ["corpus.carry_continuity", "meta.published_late", "requests.balance"]
    carry = next(r for r in range(3, findings.max_row + 1) if findings.cell(r, columns.index("rule") + 1).value == "corpus.carry_continuity")
    assert findings.cell(carry, columns.index("related_zh") + 1).value == "某县人民政府 2020年度"
    assert findings.cell(carry, columns.index("severity") + 1).value == "错误"
    assert findings.cell(carry, columns.index("severity") + 1).fill.fgColor.rgb.upper().endswith(ERROR_FILL.lstrip("#"))
    assert book["2020年"].max_row == 3 and book["2021年"].max_row == 3
    assert book["无法解析"].cell(3, 2).value == "无法读取"


def test_xlsx_a_reviewer_reads_only_chinese(tmp_path):
    """Every cell a person sees (not the hidden id row, not the id columns) and every comment holds no
    ASCII word but those allowed here: file names and formats, and the name SHA-256."""
    from gongkai import parse
    from gongkai.synth import make_report
    from gongkai.web.storage import add_to_store

    faulty = [parse(make_report(seed, template=t, faults=f).render("txt"), name=f"{seed}.txt")
              for seed, t, f in ((21, "2021", ["balance", "narrative_mismatch"]), (22, "2019", ["outdated_template"]),
                                 (23, "2021", ["blank_cells", "label_altered", "published_late", "extra_rows"]))]  # fmt: skip
    db = tmp_path / "s.duckdb"
    add_to_store(db, *faulty)
    with Store(db) as store:
        store.add([failure_rows("4" * 64, "/in/broken.pdf", "unreadable", "文件已损坏"), failure_rows("5" * 64, "/in/slow.pdf", "limit", "超过时限 120 秒")])
        store.refresh()
    [target] = export(db, tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(target)
    id_columns = {"sha256", "related", "rule", "cells"}  # the designated id columns, last in their sheets
    allowed = {"SHA", "txt", "pdf", "docx", "doc", "html", "md", "image"}  # the name of the hash, file formats
    words = re.compile(r"[A-Za-z]{2,}")
    seen = 0
    for sheet in book.worksheets:
        ids = [c.value for c in sheet[1]] if sheet.title != "说明" else []
        for row in sheet.iter_rows(min_row=1 if sheet.title == "说明" else 2):
            for cell in row:
                column = ids[cell.column - 1] if ids and cell.column <= len(ids) else None
                if column in id_columns or column == "path" or sheet.column_dimensions[cell.column_letter].hidden:
                    continue
                for value in (cell.value, cell.comment.text if cell.comment else None):
                    if isinstance(value, str):
                        seen += 1
                        english = set(words.findall(value)) - allowed
                        assert not english, (sheet.title, cell.coordinate, value)
    assert seen > 200
    findings = book["发现"]
    shown = {findings.cell(r, c).value for r in range(3, findings.max_row + 1) for c in (3, 4)}
    assert shown <= {"错误", "警告", "提示", "报告本身", "解析存疑"} and {"错误", "报告本身"} <= shown


def test_csv_has_the_contract_columns_and_a_findings_file(db, tmp_path):
    reports, findings = export(db, tmp_path / "out.csv")
    with open(reports, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][: len(CONTRACT)] == CONTRACT and len(rows) == 3
    assert "section_1" not in rows[0]
    with open(findings, encoding="utf-8-sig", newline="") as handle:
        found = list(csv.DictReader(handle))
    assert {f["rule"] for f in found} == {"corpus.carry_continuity", "requests.balance", "meta.published_late"}
    carry = next(f for f in found if f["rule"] == "corpus.carry_continuity")
    assert carry["sha256"] == LATER and carry["related"] == EARLIER and "requests.carried_over.natural_person" in carry["cells"]


def test_parquet_keeps_types_and_lists(db, tmp_path):
    reports, findings = export(db, tmp_path / "out.parquet", with_text=True)
    table = pq.read_table(reports)
    assert table.column_names[: len(CONTRACT)] == CONTRACT and "section_1" in table.column_names
    assert table.num_rows == 2
    assert table.schema.field("requests.carried_over.total").type == "int64"
    cells = pq.read_table(findings).column("cells").to_pylist()
    assert ["requests.new_received.total", "requests.total.total"] in cells


def test_an_unknown_format_is_one_clear_error(db, tmp_path):
    from gongkai.errors import GongkaiError

    with pytest.raises(GongkaiError, match="不支持的导出格式"):
        export(db, tmp_path / "out.json")


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(tmp_path):
    """An upload named `=1+2.txt` (or `@SUM…`, `-2+3+cmd|…`), or an agency read as `=HYPERLINK(…)`, must not
    become a formula when the CSV is opened in Excel; negative numbers stay numbers."""
    from gongkai import parse
    from gongkai.synth import make_report
    from gongkai.web.storage import add_to_store

    hostile = ["=1+2.txt", "@SUM(A1).txt", "-2+3+cmd|' /C calc'!A0.txt", "+cmd.txt"]
    reports = []
    for i, name in enumerate(hostile):
        report = parse(make_report(60 + i, template="2019").render("txt"), name=name)
        report.meta.agency = '=HYPERLINK("http://evil.example","点击")' if i == 0 else report.meta.agency
        report.cells["active.licensing.delta"] = -2  # 本年增/减 of the 2019 format may be negative
        reports.append(report)
    db = tmp_path / "s.duckdb"
    add_to_store(db, *reports)
    out, _ = export(db, tmp_path / "out.csv")
    with open(out, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["path"] for row in rows) == sorted("'" + name for name in hostile)
    assert any(row["agency"].startswith("'=HYPERLINK") for row in rows)
    live = [v for row in rows for v in row.values() if v[:1] in ("=", "+", "@") or (v[:1] == "-" and not _number(v))]
    assert not live
    assert any(v.startswith("-") and _number(v) for row in rows for k, v in row.items() if k.endswith(".delta")), \
        "a 2019 report's negative 本年增/减 stays a number"


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
