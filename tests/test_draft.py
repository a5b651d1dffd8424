"""Drafting: a clerk's report filled in (form, Excel or a published report), checked by the rule engine,
carried over from last year's report in a real store, and written in the official layout that
`gongkai parse` reads back to the same cells — through the CLI, the web app and a real browser."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from gongkai import parse
from gongkai.draft import check_draft, draft_from_report, load_draft, read_sheet, render_docx, render_pdf, write_sheet
from gongkai.synth import make_report
from gongkai.synth.agency import Agency

AGENCY = Agency("长沙市望城区民政局", "department", "湖南省", "湖南省长沙市望城区", "我局")
CASES = [(1, "2021", ()), (2, "2019", ()), (3, "2021", ("balance", "narrative_mismatch")), (4, "2021", ("blank_cells",)),
         (5, "2021", ("row_sum", "fees_missing")), (6, "2019", ("outcomes_sum",)), (7, "2021", ("block_sum", "unpaid_without_notice"))]  # fmt: skip


def gongkai(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gongkai", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def rules(findings) -> list[tuple[str, tuple]]:
    return sorted((f.rule, tuple(f.cells)) for f in findings)


@pytest.mark.parametrize("seed,template,faults", CASES)
def test_a_published_report_opened_as_a_draft_renders_back_to_the_same_cells_and_findings(seed, template, faults):
    report = parse(make_report(seed, template=template, faults=faults).render("docx"), name="published.docx")
    draft = draft_from_report(report.to_dict())
    checked = check_draft(draft)
    again = parse(render_docx(draft), name="draft.docx")
    assert again.cells == report.cells
    assert again.meta.model_dump() == report.meta.model_dump()
    assert not [f for f in again.findings if f.origin == "extraction"]
    # the draft states the statistical period itself, so only meta.period may differ from the published file
    assert rules(checked.findings) == rules(f for f in report.findings if f.rule != "meta.period")
    assert rules(again.findings) == rules(checked.findings)
    if faults:
        assert checked.findings, "a faulty report must not draft clean"


def test_broken_balance_names_its_cells_as_the_clerk_types():
    report = parse(make_report(11, template="2021").render("docx"), name="r.docx")
    draft = draft_from_report(report.to_dict())
    assert not [f for f in check_draft(draft).findings if f.severity == "error"]
    cell = "requests.new_received.natural_person"
    typed = load_draft({**draft.model_dump(mode="json"), "cells": {**draft.cells, cell: str(draft.cells[cell] + 7)}})
    broken = {f.rule: f for f in check_draft(typed).findings}
    assert cell in broken["requests.row_sum"].cells
    assert cell in broken["requests.balance"].cells
    blank = load_draft({**draft.model_dump(mode="json"), "cells": {**draft.cells, cell: ""}})
    missing = [f for f in check_draft(blank).findings if f.rule == "structure.cells_missing"]
    assert missing and cell in missing[0].cells  # blank is null, never 0


@pytest.mark.slow
def test_pdf_render_reads_back_the_same_cells():
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("没有 LibreOffice（soffice）：跳过 PDF 生成")
    report = parse(make_report(12, template="2021").render("docx"), name="r.docx")
    again = parse(render_pdf(draft_from_report(report.to_dict())), name="draft.pdf")
    assert again.cells == report.cells
    assert not [f for f in again.findings if f.origin == "extraction"]


def test_excel_sheet_protects_labels_and_reads_back_what_a_clerk_types():
    from openpyxl import load_workbook

    report = parse(make_report(13, template="2021").render("docx"), name="r.docx")
    draft = draft_from_report(report.to_dict())
    data = write_sheet(draft)
    assert read_sheet(data).filled() == draft.filled()
    book = load_workbook(io.BytesIO(data))
    sheet = book["年度报告"]
    assert sheet.protection.sheet
    refs = {key: ref for key, _sheet, ref, *_ in book["_cells"].iter_rows(min_row=2, values_only=True)}
    target = refs["requests.new_received.commercial"]
    assert sheet[target].protection.locked is False
    assert sheet["A1"].protection.locked is not False  # the title and every label stay protected
    sheet[target] = "１,000"  # full-width digits and a thousands separator, as typed
    sheet[refs["requests.carried_over.research"]] = None
    book["正文"][refs["section.1"]] = "本年度共收到政府信息公开申请99999件。"
    out = io.BytesIO()
    book.save(out)
    back = read_sheet(out.getvalue())
    assert back.cells["requests.new_received.commercial"] == 1000
    assert back.cells["requests.carried_over.research"] is None
    found = {f.rule for f in check_draft(back).findings}
    assert {"requests.row_sum", "structure.cells_missing", "narrative.table_mismatch"} <= found


@pytest.fixture(scope="module")
def store_with_last_year(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("lastyear")
    (folder / "reports").mkdir()
    last = make_report(21, template="2021", year=2024, agency=AGENCY, published=date(2025, 1, 20))
    (folder / "reports" / "2024.docx").write_bytes(last.render("docx"))
    db = folder / "corpus.duckdb"
    done = gongkai("batch", str(folder / "reports"), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return db, last.truth["cells"]


def test_last_years_report_fills_the_carry_over_and_checks_in_force(store_with_last_year):
    db, last = store_with_last_year
    draft = load_draft({"meta": {"agency": AGENCY.name, "year": 2025, "region": AGENCY.region, "template": "2021"}})
    result = check_draft(draft, db)
    assert result.previous is not None and result.previous.year == 2024
    expected = {c.replace("carried_forward", "carried_over"): v for c, v in last.items() if c.startswith("requests.carried_forward.")}
    assert result.prefilled == expected
    wrong_over = {**expected, "requests.carried_over.natural_person": expected["requests.carried_over.natural_person"] + 3}
    in_force = last["active.normative_docs.in_force"]
    typed = load_draft({**draft.model_dump(mode="json"), "cells": {**wrong_over, "active.normative_docs.in_force": in_force + 5,
                        "active.normative_docs.issued": 1, "active.normative_docs.repealed": 0}})  # fmt: skip
    found = {f.rule: f for f in check_draft(typed, db).findings}
    assert found["corpus.carry_continuity"].cells == ["requests.carried_over.natural_person"]
    assert "2024年现行有效" in found["corpus.in_force_continuity"].message
    other = load_draft({"meta": {"agency": "长沙市望城区司法局", "year": 2025, "template": "2021"}})
    assert check_draft(other, db).previous is None


def test_cli_template_check_render(tmp_path, store_with_last_year):
    db, _ = store_with_last_year
    sheet = tmp_path / "填报.xlsx"
    done = gongkai("draft", "template", "--out", str(sheet), "--year", "2025", "--agency", AGENCY.name, "--region", AGENCY.region,
                   "--db", str(db))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "上年结转已按 2024 年度报告" in done.stdout
    assert read_sheet(sheet).cells["requests.carried_over.total"] is not None
    blank = gongkai("draft", "check", str(sheet), "--json")
    assert blank.returncode == 1  # the rest is blank: cells missing is an error
    assert "structure.cells_missing" in {f["rule"] for f in json.loads(blank.stdout)["findings"]}

    published = tmp_path / "published.docx"
    published.write_bytes(make_report(31, template="2021").render("docx"))
    filled = tmp_path / "filled.xlsx"
    assert gongkai("draft", "template", "--from", str(published), "--out", str(filled)).returncode == 0
    assert gongkai("draft", "check", str(filled)).returncode == 0
    out = tmp_path / "report.docx"
    done = gongkai("draft", "render", str(filled), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert parse(out).cells == parse(published).cells

    for args, words in ((("draft", "render", str(filled), "--out", str(tmp_path / "x.txt")), "只能生成"),
                        (("draft", "check", str(tmp_path / "none.xlsx")), "文件不存在"),
                        (("draft", "check", str(published.with_suffix(".json"))), "文件不存在")):  # fmt: skip
        bad = gongkai(*args)
        assert bad.returncode == 2 and words in bad.stderr and "Traceback" not in bad.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"cells": {"requests.total.total": "很多"}}', encoding="utf-8")
    bad = gongkai("draft", "check", str(broken))
    assert bad.returncode == 2 and "须为数字" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    plain = tmp_path / "plain.xlsx"
    import xlsxwriter

    book = xlsxwriter.Workbook(str(plain))
    book.add_worksheet().write(0, 0, "名称")
    book.close()
    bad = gongkai("draft", "check", str(plain))
    assert bad.returncode == 2 and "不是 gongkai draft template 写出的填报表" in bad.stderr


def test_web_api_checks_and_renders(tmp_path, store_with_last_year):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from gongkai.web.app import Settings, create_app

    db, _ = store_with_last_year
    client = TestClient(create_app(Settings(data_dir=tmp_path / "data", db=db)))
    assert client.get("/draft?year=2019").text.count('<input name="cell.') == 198
    assert client.get("/draft?year=2025").text.count('<input name="cell.') == 200
    draft = {"meta": {"agency": AGENCY.name, "year": 2025, "region": AGENCY.region, "template": "2021"}, "cells": {}}
    result = client.post("/api/draft/check", content=json.dumps(draft, ensure_ascii=False).encode()).json()
    assert result["previous"]["year"] == 2024 and result["prefilled"]
    report = parse(make_report(41, template="2021").render("docx"), name="r.docx")
    body = json.dumps(report.to_dict(), ensure_ascii=False).encode()
    docx = client.post("/api/draft/render?format=docx", content=body)
    assert docx.status_code == 200 and parse(docx.content, name="d.docx").cells == report.cells
    assert client.post("/api/draft/check", content=b"{nope").status_code == 400
    assert client.post("/api/draft/render?format=exe", content=body).status_code == 422
    assert client.post("/api/draft/check", content=b"[" * (1 << 21)).status_code == 413
    empty = client.post("/api/draft/render?format=docx", content=b"{}")
    assert empty.status_code == 400 and "机关名称" in empty.json()["detail"]


# ---- a real browser on a real server ----

def continuing(values: dict, last: dict) -> dict:
    """A year's cells whose 上年结转 is last year's 结转下年度, every identity still holding."""
    from gongkai.synth.numbers import APPLICANTS

    v = dict(values)
    for c in APPLICANTS:
        v[f"requests.carried_over.{c}"] = last[f"requests.carried_forward.{c}"]
        forward = v[f"requests.new_received.{c}"] + v[f"requests.carried_over.{c}"] - v[f"requests.total.{c}"]
        if forward < 0:
            v[f"requests.new_received.{c}"] -= forward
            forward = 0
        v[f"requests.carried_forward.{c}"] = forward
    for row in ("new_received", "carried_over", "carried_forward"):
        v[f"requests.{row}.total"] = sum(v[f"requests.{row}.{c}"] for c in APPLICANTS)
    return v


@pytest.fixture(scope="module")
def served(store_with_last_year, tmp_path_factory):
    from cli_helpers import served as serving
    from conftest import require_browser

    require_browser()
    db, last = store_with_last_year
    data = tmp_path_factory.mktemp("draft-serve")
    with serving("--data-dir", str(data), "--db", str(db)) as url:
        yield url, last


@pytest.mark.browser
def test_browser_clerk_fills_the_form_sees_the_broken_cell_and_downloads_the_report(served, browser, tmp_path):
    from test_browser import SHOTS

    served, last = served
    values = continuing(make_report(51, template="2021", year=2025, agency=AGENCY).truth["cells"], last)
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{served}/draft?year=2025&agency={AGENCY.name}")
    page.fill('input[name="meta.region"]', AGENCY.region)
    page.select_option('select[name="meta.body_type"]', "department")
    over = "requests.carried_over.total"
    page.wait_for_function(f"() => document.querySelector('input[name=\"cell.{over}\"]').value !== ''", timeout=20_000)
    assert "2024年度" in page.inner_text("#draft-previous")
    # type every cell but 上年结转 (already filled in from last year), the way a clerk would
    prefilled = {c: page.input_value(f'input[name="cell.{c}"]') for c in values if c.startswith("requests.carried_over.")}
    assert prefilled == {c: f"{values[c]:g}" for c in prefilled}
    for cell, value in values.items():
        if not cell.startswith("requests.carried_over."):
            page.fill(f'input[name="cell.{cell}"]', "" if value is None else f"{value:g}")
    cell = "requests.new_received.natural_person"
    page.fill(f'input[name="cell.{cell}"]', str(values[cell] + 5))
    page.wait_for_selector(f'td[data-cell="{cell}"].error', timeout=20_000)
    assert "requests.row_sum" in page.inner_text("#draft-findings")
    page.fill(f'input[name="cell.{cell}"]', f"{values[cell]:g}")
    page.wait_for_function(f"() => !document.querySelector('td[data-cell=\"{cell}\"]').classList.contains('error')", timeout=20_000)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "draft.png"), full_page=False)  # a generated body: fit for the README
    with page.expect_download() as got:
        page.click('button[data-download="docx"]')
    target = tmp_path / "report.docx"
    got.value.save_as(target)
    page.close()
    back = parse(target)
    assert back.meta.agency == AGENCY.name and back.meta.year == 2025
    assert back.cells == values
    assert not [f for f in back.findings if f.severity == "error" or f.origin == "extraction"]
