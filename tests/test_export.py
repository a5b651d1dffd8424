"""Exports of the corpus tables: Excel with red cells and comments, CSV and Parquet with findings beside."""

from __future__ import annotations

import csv

import openpyxl
import pyarrow.parquet as pq
import pytest
from corpus_helpers import carried, hand_report

from gongkai.cells import all_cells, label
from gongkai.export import export
from gongkai.report import Finding
from gongkai.store import Store
from gongkai.store.rows import failure_rows, report_rows

EARLIER, LATER = "1" * 64, "2" * 64
CONTRACT = ["sha256", "path", "agency", "year", "published", "template", *(c.id for c in all_cells()), "errors", "warnings"]


@pytest.fixture
def db(tmp_path):
    """Two years of one body, the later one with a broken carry-over and an own finding."""
    balance = Finding(rule="requests.balance", severity="error", origin="source", message="总计列：本年新收 5 + 上年结转 1 ≠ 7",
                      cells=["requests.new_received.total", "requests.total.total"])
    reports = [
        hand_report(EARLIER, "某县人民政府", 2020, cells=carried("carried_forward", natural_person=2)),
        hand_report(LATER, "某县政府", 2021, cells={**carried("carried_over", natural_person=1), "requests.new_received.total": 5},
                    findings=[balance]),
    ]
    path = tmp_path / "corpus.duckdb"
    with Store(path) as store:
        store.add([report_rows(r, r.source.path) for r in reports] + [failure_rows("3" * 64, "/reports/bad.pdf", "unreadable", "文件已损坏")])
        store.refresh()
    return path


def test_xlsx_marks_the_broken_cell_red_with_the_finding(db, tmp_path):
    [target] = export(db, tmp_path / "out.xlsx")
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["报告", "发现", "2020年", "2021年", "无法解析"]
    sheet = book["报告"]
    ids = [c.value for c in sheet[2]]
    assert ids[: len(CONTRACT)] == CONTRACT
    assert sheet.cell(1, ids.index("requests.carried_over.natural_person") + 1).value == label("requests.carried_over.natural_person")
    later_row = next(r for r in range(3, sheet.max_row + 1) if sheet.cell(r, 1).value == LATER)
    broken = sheet.cell(later_row, ids.index("requests.carried_over.natural_person") + 1)
    assert broken.value == 1
    assert broken.fill.fgColor.rgb.upper().endswith("FF8080")
    assert "corpus.carry_continuity" in broken.comment.text and "自然人 1 ≠ 2" in broken.comment.text
    own = sheet.cell(later_row, ids.index("requests.total.total") + 1)
    assert own.fill.fgColor.rgb.upper().endswith("FF8080") and "requests.balance" in own.comment.text
    fine = sheet.cell(later_row, ids.index("requests.granted.total") + 1)
    assert fine.comment is None and fine.fill.fgColor.rgb in (None, "00000000")
    findings = book["发现"]
    rules = [findings.cell(r, 5).value for r in range(3, findings.max_row + 1)]
    assert sorted(rules) == ["corpus.carry_continuity", "requests.balance"]
    assert book["2020年"].max_row == 3 and book["2021年"].max_row == 3


def test_csv_has_the_contract_columns_and_a_findings_file(db, tmp_path):
    reports, findings = export(db, tmp_path / "out.csv")
    with open(reports, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][: len(CONTRACT)] == CONTRACT and len(rows) == 3
    assert "section_1" not in rows[0]
    with open(findings, encoding="utf-8-sig", newline="") as handle:
        found = list(csv.DictReader(handle))
    assert {f["rule"] for f in found} == {"corpus.carry_continuity", "requests.balance"}
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
