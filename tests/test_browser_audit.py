"""The audit and the review in a real browser: `gongkai serve` over a few bodies of the generated city
(conftest `audited_store`, with accounts), headless Chromium driven by Playwright.

An administrator logs in, imports the roster, reads the coverage, narrows it to a county in the
region tree, drills down to a report and downloads a notice. 望城区's reviewer confirms one finding,
dismisses another with a reason, corrects the misprinted cell so the identities hold (the findings
say 已更正), sees the Excel export carry and mark the corrected value and the history name who did
what with old and new values, and uploads a fixed report that becomes version 2 with its
differences; 长沙县's reviewer is refused all of it through the API. Screenshots go to
out/screenshots/ (never committed).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, require_browser
from web_audit_helpers import USERS, fault_year, fresh_store, sha_of, start_server

pytestmark = pytest.mark.browser

SHOTS = ROOT / "out" / "screenshots"


@pytest.fixture
def server(audited_store, tmp_path_factory):
    """A server of its own for each test: the reviewer's corrections would change what the administrator sees."""
    require_browser()
    folder = tmp_path_factory.mktemp("browser-audit")
    running = start_server(folder, fresh_store(audited_store, folder / "store.duckdb"))
    yield running
    running.stop()


def logged_in(browser, server, name: str):
    """A page of a fresh browser context, logged in as `name` through the login form."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(server.url + "/audit")  # any page: the server sends a person who has not logged in to the form
    assert "/login" in page.url
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", USERS[name][2])
    with page.expect_navigation():
        page.click("form.login button[type=submit]")
    assert "/login" not in page.url and name in page.inner_text("header .me"), page.url
    return page


def test_an_administrator_imports_the_roster_reads_the_coverage_and_downloads_a_notice(audited_store, server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    typo = audited_store["typo"]
    year, _ = fault_year(typo, "typo")
    page = logged_in(browser, server, "admin")

    page.goto(server.url + "/audit/roster")
    page.set_input_files("#roster-form input[name=file]", str(audited_store["folder"] / "roster.xlsx"))
    with page.expect_navigation():
        page.click("#roster-form button[type=submit]")
    imported = page.inner_text("#roster-imported")
    bodies = len(audited_store["truth"]["bodies"])
    assert "roster.xlsx" in imported and f"{bodies} 个机关" in imported, imported
    assert typo["roster_name"] in page.inner_text("#roster-tree")

    page.goto(f"{server.url}/audit?year={year}")
    rows = page.locator("#coverage tbody tr[data-body]")
    assert rows.count() == bodies  # every body of the roster, with or without a report
    row = page.locator(f'#coverage tr[data-body="{typo["roster_name"]}"]')
    assert row.get_attribute("data-status") == typo["years"][str(year)]["status"]
    assert int(row.locator(".badge.error").inner_text()) >= 1  # its misprint
    page.screenshot(path=str(SHOTS / "audit-coverage.png"), full_page=True)

    with page.expect_navigation():
        page.click('#region-totals tr[data-code="430112"] a')  # 望城区 in the region tree
    assert "region=430112" in page.url
    assert 0 < rows.count() < bodies and page.locator("#region-totals tr.selected").get_attribute("data-code") == "430112"

    with page.expect_navigation():
        row.locator("a.drill").click()
    sha = sha_of(audited_store, typo["years"][str(year)]["file"])
    assert page.url.endswith(f"/reports/{sha}") and page.locator("ol.findings.review li[data-finding-id]").count() >= 1

    page.go_back()
    with page.expect_navigation():
        row.locator("a.notice-link").click()
    assert page.locator("#notice-items tbody tr").count() >= 1
    page.screenshot(path=str(SHOTS / "audit-notice.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#notice-form button[value=docx]")
    saved = download.value.path()
    assert download.value.suggested_filename.endswith(".docx") and Path(saved).read_bytes()[:2] == b"PK"
    import docx

    text = "\n".join(p.text for p in docx.Document(saved).paragraphs)
    assert typo["roster_name"] in text or typo["report_name"] in text
    entry = page.request.get(f"{server.url}/history.json?action=notice").json()[0]
    assert entry["actor"] == "admin"
    page.context.close()


def test_a_reviewer_confirms_dismisses_corrects_and_uploads_a_fixed_report(audited_store, server, browser, tmp_path):
    import openpyxl

    SHOTS.mkdir(parents=True, exist_ok=True)
    year, record = fault_year(audited_store["typo"], "typo")
    sha = sha_of(audited_store, record["file"])
    cell, clean = record["suspects"][0], record["clean"][record["suspects"][0]]
    page = logged_in(browser, server, "wang")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server.url}/reports/{sha}")

    open_ones = page.locator(f'ol.findings.review:not(.settled) li[data-finding-id]:not([data-finding-id=""])[data-cells~="{cell}"]')
    assert open_ones.count() >= 2
    first, second = open_ones.nth(0).get_attribute("data-finding-id"), open_ones.nth(1).get_attribute("data-finding-id")
    with page.expect_navigation():
        page.locator(f'li[data-finding-id="{first}"] button.confirm').click()
    assert page.locator(f'li[data-finding-id="{first}"] .badge.status').inner_text() == "已确认"

    mine = page.locator(f'li[data-finding-id="{second}"]')
    mine.locator("input[name=reason]").fill("表外另有说明")
    with page.expect_navigation():
        mine.locator("button.dismiss").click()
    settled = page.locator(f'ol.settled li[data-finding-id="{second}"]')
    assert settled.locator(".badge.status").inner_text() == "已驳回" and "wang：表外另有说明" in settled.inner_text()

    td = page.locator(f'table td[data-cell="{cell}"]').first
    td.click()
    form = page.locator(".prov-panel form.correct")
    form.locator("input[name=value]").fill(str(clean))
    form.locator("input[name=reason]").fill("与原件核对，誊写有误")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url.endswith(f"/reports/{sha}")
    for fid in (first, second):
        assert page.locator(f'ol.settled li[data-finding-id="{fid}"] .badge.status').inner_text() == "已更正"
    td = page.locator(f'table td[data-cell="{cell}"]').first
    assert "corrected" in td.get_attribute("class") and "第2版（人工更正）" in page.inner_text("main")
    page.screenshot(path=str(SHOTS / "review-corrected.png"), full_page=True)

    book = openpyxl.load_workbook(io.BytesIO(page.request.get(f"{server.url}/reports/{sha}.xlsx").body()))
    row = next(r for r in book["单元格"].iter_rows(min_row=2) if r[0].value == cell)
    assert row[2].value == clean and "人工更正" in row[2].comment.text and "wang" in row[2].comment.text

    page.goto(f"{server.url}/history?report={sha}")
    logged = set()
    for tr in page.locator("#history tbody tr").all():
        cells = [td.inner_text().strip() for td in tr.locator("td").all()]  # 时间 操作人 操作 报告 对象 原值 新值 理由 说明
        logged.add((tr.get_attribute("data-action"), cells[1], cells[4], cells[5], cells[6], cells[7]))
    old = next(e for e in page.request.get(f"{server.url}/history.json?report={sha}").json() if e["action"] == "correction")["old_value"]
    assert old != str(clean) and ("correction", "wang", cell, old, str(clean), "与原件核对，誊写有误") in logged, logged
    assert {("decision", "wang", first, "待核", "已确认", ""), ("decision", "wang", second, "待核", "已驳回", "表外另有说明")} <= logged, logged
    assert {("resolved", "wang", first, "已确认", "已更正", "与原件核对，誊写有误"), ("resolved", "wang", second, "已驳回", "已更正", "与原件核对，誊写有误")} <= logged
    page.screenshot(path=str(SHOTS / "review-history.png"), full_page=True)

    # another county's reviewer, through the API: may neither read nor change any of it
    other = logged_in(browser, server, "chang")
    csrf = other.request.get(f"{server.url}/api/me").json()["csrf_token"]
    assert other.request.get(f"{server.url}/reports/{sha}.json").status == 403
    assert other.request.get(f"{server.url}/history.json?report={sha}").status == 403
    refused = other.request.post(f"{server.url}/findings/{first}/decision", data={"status": "open"}, headers={"X-CSRF-Token": csrf})
    assert refused.status == 403 and "无权" in refused.json()["detail"]
    other.context.close()

    # the fixed re-submission of 望城区's government: version 2 with its differences
    year, record = fault_year(audited_store["block"], "block_sum")
    fixed = tmp_path / f"重新发布_{record['file']}"
    shutil.copy(audited_store["folder"] / "fixed" / record["file"], fixed)
    page.goto(server.url + "/")
    with page.expect_navigation(timeout=180_000):  # the page reloads itself once every job is done
        page.set_input_files("#file-input", str(fixed))
        page.wait_for_function("() => document.querySelectorAll('#jobs li.status-done, #jobs li.status-failed').length >= 1", timeout=180_000)
    assert page.locator("#jobs li.status-failed").count() == 0, page.inner_text("#jobs")
    with page.expect_navigation():
        page.click(f"#jobs li:has-text('{fixed.name}') a")
    assert "第2版（新文件）" in page.inner_text("main")
    with page.expect_navigation():
        page.click("#diff-link")
    differences = page.inner_text("main")
    assert "appeals." in differences and "已更正" in differences, differences[:1000]
    page.screenshot(path=str(SHOTS / "review-version-2.png"), full_page=True)
    assert not dialogs, dialogs
    page.context.close()
