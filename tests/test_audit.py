"""The January audit of a generated city (synth.county) through the command line and a real DuckDB file.

Roster import (and a roster with bad rows refused whole), the region tree, reports matched to the
roster (an uncertain name listed until a person confirms it), coverage right for every body and year
against the generator's truth, roll-ups per division, the region summary, and rectification notices
that name every open source problem and nothing else.
"""

from __future__ import annotations

import json
import shutil

import pytest
from audit_helpers import assert_one_line_error, batch, copy_store, docx_text, gk, gk_json, run

from gongkai.store import Store

YEARS = (2022, 2023, 2024)


@pytest.fixture(scope="module")
def audited(county, tmp_path_factory):
    """The county's reports in a store (one real `gongkai batch`), the bad roster tried, the good one imported."""
    folder, truth = county
    db = tmp_path_factory.mktemp("audit") / "county.duckdb"
    batch(folder / "reports", db, "--workers", "2")
    bad = run("roster", "import", folder / "roster_bad.csv", "--db", db)
    with Store(db) as store:
        after_bad = store.con.execute("SELECT count(*) FROM roster").fetchone()[0]
    code, out, error = gk("roster", "import", folder / "roster.xlsx", "--db", db, "--by", "张三")
    assert code == 0, error
    before = {year: gk_json("coverage", "--db", db, "--year", year) for year in YEARS}
    pending = gk_json("roster", "matches", "--db", db)
    short = truth["short_name"]
    code, _, error = gk("roster", "confirm", short["report_name"], short["roster_name"], "--db", db, "--by", "张三")
    assert code == 0, error
    return {"folder": folder, "truth": truth, "db": db, "bad": bad, "after_bad": after_bad, "import": out,
            "before": before, "pending": pending}  # fmt: skip


def test_a_roster_with_bad_rows_is_refused_whole_naming_each_line(audited):
    bad = audited["bad"]
    lines = json.loads((audited["folder"] / "roster_bad.json").read_text())["bad_lines"]
    assert_one_line_error(bad, "未导入任何一行", "缺少名称", "类型“局”无效", "须为 6、9 或 12 位数字", "不在名单中", "重复", "不符")
    assert [int(line.split("行")[0][1:]) for line in bad.stderr.splitlines()[1:]] == lines
    assert audited["after_bad"] == 0  # not one good row of that file went in


def test_the_roster_from_csv_and_from_xlsx_is_the_same(audited, tmp_path):
    db = copy_store(audited["db"], tmp_path / "csv.duckdb")
    code, _, error = gk("roster", "import", audited["folder"] / "roster.csv", "--db", db)
    assert code == 0, error
    columns = "name, body_type, parent, division_code, region_code, region_name, level"
    with Store(db) as a, Store(audited["db"]) as b:
        assert a.con.execute(f"SELECT {columns} FROM roster ORDER BY name").fetchall() == \
            b.con.execute(f"SELECT {columns} FROM roster ORDER BY name").fetchall()  # fmt: skip
    assert "60 个机关（地级 4，县级 25，乡级 31）" in audited["import"]


def test_the_region_tree_has_every_body_once_departments_under_their_government(audited):
    [province] = gk_json("roster", "show", "--db", audited["db"])
    assert (province["name"], province["code"]) == ("湖南省", "430000")
    [city] = province["children"]
    assert (city["name"], city["level"]) == ("长沙市", "city")
    counties = {c["name"]: c for c in city["children"]}
    assert set(counties) == {"望城区", "长沙县"} and {c["code"] for c in counties.values()} == {"430112", "430121"}

    def names(node):
        for body in node["bodies"]:
            yield from _walk(body)
        for child in node["children"]:
            yield from names(child)

    seen = list(names(province))
    assert sorted(seen) == sorted(b["roster_name"] for b in audited["truth"]["bodies"])
    [government] = counties["望城区"]["bodies"]
    assert government["name"] == "长沙市望城区人民政府" and len(government["children"]) == 18  # its departments
    assert all(c["body_type"] == "department" for c in government["children"])
    towns = counties["望城区"]["children"]
    assert len(towns) == 16 and all(t["level"] == "township" and len(t["bodies"]) == 1 for t in towns)


def _walk(body):
    yield body["name"]
    for child in body["children"]:
        yield from _walk(child)


def test_an_uncertain_name_is_listed_for_a_person_and_not_counted_until_confirmed(audited):
    short = audited["truth"]["short_name"]
    [pending] = [m for m in audited["pending"] if m["state"] == "uncertain"]
    assert pending["report_name"] == short["report_name"]
    assert pending["candidates"][0]["name"] == short["roster_name"]
    for year in YEARS:
        [row] = [r for r in audited["before"][year] if r["body"] == short["roster_name"]]
        assert row["status"] == "missing" and row["candidates"] == [short["report_name"]]  # never guessed silently
    assert gk_json("roster", "matches", "--db", audited["db"]) == []  # confirmed: nothing left to confirm


def test_coverage_is_right_for_every_body_and_year(audited):
    truth = {b["roster_name"]: b for b in audited["truth"]["bodies"]}
    for year in YEARS:
        rows = gk_json("coverage", "--db", audited["db"], "--year", year)
        assert sorted(r["body"] for r in rows) == sorted(truth)
        for row in rows:
            expected = truth[row["body"]]["years"][str(year)]
            assert (row["status"], row["published"], row["deadline"]) == (expected["status"], expected["published"], expected["deadline"]), row
            if expected["status"] == "missing":
                assert row["errors"] is None and row["warnings"] is None and row["review_state"] is None
            else:
                assert (row["errors"] > 0) == bool(expected["faults"]), (row, expected["faults"])
                assert row["review_state"] in ("open", "clean") and row["version"] == 1


def test_region_totals_roll_up_to_every_level(audited):
    from gongkai.audit import coverage, totals

    truth = audited["truth"]["bodies"]
    with Store(audited["db"]) as store:
        rows = coverage(store, 2024)
    by_code = {t.code: t for t in totals(rows) if t.code}
    for code, county in (("430000", ""), ("430100", ""), ("430112", "望城区"), ("430121", "长沙县")):
        bodies = [b for b in truth if county in b["roster_name"]]
        statuses = [b["years"]["2024"]["status"] for b in bodies]
        total = by_code[code]
        assert (total.bodies, total.on_time, total.late, total.missing) == \
            (len(bodies), statuses.count("on_time"), statuses.count("late"), statuses.count("missing")), code  # fmt: skip
        assert total.with_errors == sum(bool(b["years"]["2024"]["faults"]) for b in bodies)
    code, out, _ = gk("coverage", "--db", audited["db"], "--year", 2024)
    assert code == 0 and "按区划汇总" in out and "望城区" in out


def test_coverage_of_a_region_and_its_summary(audited):
    truth = [b for b in audited["truth"]["bodies"] if "长沙县" in b["roster_name"]]
    rows = gk_json("coverage", "--db", audited["db"], "--year", 2023, "--region", "430121")
    assert sorted(r["body"] for r in rows) == sorted(b["roster_name"] for b in truth)
    summary = gk_json("coverage", "--db", audited["db"], "--year", 2023, "--region", "430121", "--summary")
    for year, counts in ((2023, summary), (2022, summary["previous"])):
        statuses = [b["years"][str(year)]["status"] for b in truth]
        assert (counts["bodies"], counts["on_time"], counts["late"], counts["missing"]) == \
            (len(truth), statuses.count("on_time"), statuses.count("late"), statuses.count("missing"))  # fmt: skip
        assert counts["with_errors"] == sum(bool(b["years"][str(year)]["faults"]) for b in truth)
    assert summary["region_name"] == "湖南省长沙市长沙县" and len(summary["problems"]) <= 10
    everyone = gk_json("coverage", "--db", audited["db"], "--year", 2023, "--summary")
    planted = {"typo": "requests.row_sum", "block_sum": "appeals.block_sum", "blank_cells": "structure.cells_missing"}
    faults = {planted[f] for b in audited["truth"]["bodies"] for f in b["years"]["2023"]["faults"]}
    assert faults <= {p["rule"] for p in everyone["problems"]}


def test_notices_name_every_open_source_problem_and_nothing_else(audited, tmp_path):
    """--all for the year of the report with a parser doubt: one dismissed finding and the doubt stay out."""
    from gongkai.audit import coverage
    from gongkai.audit.notice import safe_name
    from gongkai.review import current, list_findings
    from gongkai.views import format_value

    truth = audited["truth"]
    db = copy_store(audited["db"], tmp_path / "notices.duckdb")
    year = next(int(y) for b in truth["bodies"] for y, r in b["years"].items() if r["file"] == truth["mixed_encoding"])
    with Store(db) as store:
        found = list_findings(store, year=year)
    doubts = [f for f in found if f.origin == "extraction"]
    assert doubts, "the mixed-encoding report gives a parser doubt"
    dismissed = next(f for f in found if f.origin == "source" and f.rule == "meta.published_late")
    code, _, error = gk("review", dismissed.id, "--db", db, "--status", "dismissed", "--reason", "落款日期笔误，网站发布在期限内", "--by", "李四")
    assert code == 0, error
    out = tmp_path / "notices"
    code, _, error = gk("notice", "--db", db, "--year", year, "--all", "--out", out, "--date", f"{year + 1}-03-01")
    assert code == 0, error
    files = {p.name.split("_", 1)[1].rsplit("_", 1)[0]: p for p in out.glob("*.docx")}
    records = {b["roster_name"]: b["years"][str(year)] for b in truth["bodies"]}
    expected_files = set()
    with Store(db) as store:
        rows = {r.body: r for r in coverage(store, year)}
        for body, row in rows.items():
            assert row.status == records[body]["status"]
            if row.status == "missing":
                expected_files.add(safe_name(body))
                assert "未见你单位发布" in docx_text(files[safe_name(body)]), body
                continue
            expected = [f for f in found if f.lineage == row.lineage and f.origin == "source" and f.id != dismissed.id]
            if not expected:
                continue
            expected_files.add(safe_name(body))
            text = docx_text(files[safe_name(body)])
            assert f"{body}：" in text and f"{year + 1}年3月16日前" in text  # 15 days to reply
            cells = current(store, row.sha256).cells
            for f in expected:
                assert f.id in text and f.message in text, (body, f.rule)
                for cell in f.cells:
                    assert (format_value(cells[cell]) or "空白") in text
            for f in doubts + [dismissed]:
                assert f.id not in text and f.message not in text
            for fault, detail in records[body].get("fault_details", {}).items():
                if fault in ("typo", "block_sum"):  # the misprinted value is quoted as printed
                    printed = cells[detail["cell"]]
                    assert printed != records[body]["clean"][detail["cell"]] and format_value(printed) in text
    assert set(files) == expected_files


@pytest.mark.slow
def test_a_notice_as_pdf_through_libreoffice(audited, tmp_path):
    if not shutil.which("soffice") and not shutil.which("libreoffice"):
        pytest.skip("LibreOffice (soffice) 未安装：PDF 通知无法生成")
    import pypdfium2

    truth = audited["truth"]
    body, year = next((b["roster_name"], y) for b in truth["bodies"] for y, r in b["years"].items() if "block_sum" in r["faults"])
    db = copy_store(audited["db"], tmp_path / "pdf.duckdb")
    code, out, error = gk("notice", "--db", db, "--year", year, "--body", body, "--out", tmp_path / "n.pdf")
    assert code == 0, error
    pdf = pypdfium2.PdfDocument(str(tmp_path / "n.pdf"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf))).replace("\r", "").replace("\n", "")
    assert "整改通知" in text and body in text and "行政复议、行政诉讼各项之和等于总计" in text


def test_the_excel_export_has_the_coverage_of_every_year(audited, tmp_path):
    import openpyxl

    code, _, error = gk("export", "--db", audited["db"], "--to", tmp_path / "out.xlsx")
    assert code == 0, error
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx")["覆盖情况"]
    assert [c.value for c in sheet[2]][:7] == ["年度", "机关", "机关类型", "区划级别", "区划代码", "所在区划", "发布情况"]  # row 1: ids, hidden
    assert sheet.row_dimensions[1].hidden and [c.value for c in sheet[1]][:2] == ["year", "body"]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    truth = {b["roster_name"]: b for b in audited["truth"]["bodies"]}
    assert len(rows) == len(truth) * len(YEARS)
    words = {"on_time": "按时发布", "late": "逾期发布", "missing": "未发布"}
    for year, body, *_, status in (r[:7] for r in rows):
        assert status == words[truth[body]["years"][str(year)]["status"]]

    summary = [[c.value for c in row] for row in openpyxl.load_workbook(tmp_path / "out.xlsx")["汇总"].iter_rows()]
    titles = [i for i, row in enumerate(summary) if row[0] and str(row[0]).endswith("年度汇总")]
    assert [summary[i][0].split()[-2] for i in titles] == [str(y) for y in sorted(YEARS, reverse=True)]
    for i in titles:
        year = summary[i][0].split()[-2]
        counts = {row[0]: [v for v in row[2:] if v is not None][-1] for row in summary[i + 2 : i + 11]}  # this year's column is the last
        statuses = [b["years"][year]["status"] for b in truth.values()]
        assert counts["名单机关"] == len(truth) and counts["未发布"] == statuses.count("missing")
        assert counts["按时发布"] == statuses.count("on_time") and counts["逾期发布"] == statuses.count("late")


def test_bad_input_is_one_chinese_line_and_exit_2(audited, tmp_path):
    db = audited["db"]
    assert_one_line_error(run("coverage", "--db", tmp_path / "absent.duckdb", "--year", 2024), "数据库不存在")
    assert not (tmp_path / "absent.duckdb").exists()
    assert_one_line_error(run("notice", "--db", db, "--year", 2024, "--body", "某某局", "--out", tmp_path / "n.docx"), "名单中没有这个机关")
    for args, words in (
        (("coverage", "--db", db, "--year", 2024, "--region", "12345"), "6、9 或 12 位"),
        (("coverage", "--db", db, "--year", 2024, "--region", "990000"), "不是已知的行政区划"),
        (("notice", "--db", db, "--year", 2024, "--body", "长沙市教育局", "--out", tmp_path / "n.txt"), ".docx 或 .pdf"),
        (("notice", "--db", db, "--year", 2024, "--out", tmp_path / "n.docx"), "--all"),
        (("roster", "import", tmp_path / "none.csv", "--db", db), "文件不存在"),
        (("roster", "import", audited["folder"] / "audit.json", "--db", db), ".csv 或 .xlsx"),
        (("roster", "confirm", "没有的机关", "长沙市教育局", "--db", db, "--by", "张三"), "没有以“没有的机关”为名"),
    ):
        code, _, error = gk(*args)
        assert code == 2 and words in error, (args, error)
    with Store(db) as store:
        assert store.con.execute("SELECT count(*) FROM roster").fetchone()[0] == 60  # nothing half-written
