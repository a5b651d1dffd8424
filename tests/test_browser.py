"""End to end in a real browser: `gongkai serve` in a subprocess, headless Chromium driven by Playwright.

Uploads a seed report and a generated faulty report through the page, waits for the parse,
opens the faulty one, checks the failing cell is marked and its finding shown, clicks a cell
for its provenance, and saves screenshots: those of generated reports to docs/screenshots/ for the
README, those that show the real seed to out/screenshots/ (never committed).
"""

from __future__ import annotations

import pytest
from cli_helpers import served
from conftest import ROOT, SHARED, require_browser, require_soffice
from test_web import generated_faulty_report, make_store

pytestmark = pytest.mark.browser

SHOTS = ROOT / "docs" / "screenshots"  # pages of generated reports only: these go in the README
# pages that show the real seed report stay out of the repository (third-party documents)
LOCAL_SHOTS = ROOT / "out" / "screenshots"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    data = tmp_path_factory.mktemp("serve")
    make_store(data / "corpus.duckdb")  # a few reports already in the corpus, one with a hostile name
    with served("--data-dir", str(data)) as url:
        yield url


def wait_for_jobs(page, count: int) -> None:
    """The upload list says 完成 or 失败 for `count` jobs."""
    page.wait_for_function(
        "n => document.querySelectorAll('#jobs li.status-done, #jobs li.status-failed').length >= n", arg=count, timeout=60_000)


def test_upload_review_and_provenance(server, browser, tmp_path):
    SHOTS.mkdir(parents=True, exist_ok=True)
    LOCAL_SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + "/")
    assert "上传" in page.title()

    faulty = tmp_path / "generated_balance.txt"
    faulty.write_bytes(generated_faulty_report())
    uploads = [faulty]
    seed = next(SHARED.joinpath("seeds").glob("000_*.txt"), None)  # the real seed too, where ../shared is
    if seed is not None:
        uploads.append(seed)

    with page.expect_navigation(timeout=180_000):  # the page reloads itself once every job is done: wait for that, not a fixed time
        page.set_input_files("#file-input", [str(p) for p in uploads])
        wait_for_jobs(page, len(uploads))
    page.goto(server + "/")
    page.wait_for_selector("#report-list tbody tr")
    page.screenshot(path=str(LOCAL_SHOTS / "upload-list.png"))
    assert page.locator("#jobs li.status-failed").count() == 0, page.inner_text("#jobs")

    if seed is not None:
        page.click(f"#jobs li:has-text('{seed.name}') a")
        page.wait_for_selector("table.table-requests")
        assert page.locator("td[data-cell='requests.new_received.total']").inner_text().strip() != ""
        page.click("td[data-cell='requests.new_received.total']")
        panel = page.locator(".prov-panel")
        assert "行号" in panel.inner_text()
        page.wait_for_selector(".prov-panel pre.source mark")
        page.screenshot(path=str(LOCAL_SHOTS / "report-seed.png"), full_page=True)
        page.go_back()

    page.goto(server + "/")
    page.click(f"#jobs li:has-text('{faulty.name}') a")
    page.wait_for_selector("table.table-requests")
    assert "勾稽关系" in page.inner_text("ol.findings")
    marked = page.locator("td.cell-error")
    assert marked.count() >= 1
    li = page.locator("ol.findings li.error", has_text="勾稽关系").first
    li.click()
    assert page.locator("td.flash").count() >= 1
    page.locator("td.cell-error").first.click()
    assert "数值" in page.inner_text(".prov-panel")
    page.screenshot(path=str(SHOTS / "report-faulty.png"), full_page=True)

    page.goto(server + "/corpus")
    page.wait_for_selector(".charts svg")
    page.screenshot(path=str(LOCAL_SHOTS / "corpus.png"), full_page=True)
    visible = "#report-list tbody tr:visible"
    total = page.locator(visible).count()
    page.select_option(".col-filter[data-key='year']", "2021")
    assert 0 < page.locator(visible).count() < total
    page.fill(".table-filter", "甲街道")
    assert page.locator(visible).count() == 1
    page.click("#report-list th:has-text('错误')")  # sorting keeps every row
    page.fill(".table-filter", "")
    page.select_option(".col-filter[data-key='year']", "")
    assert page.locator(visible).count() == total
    assert "<script>alert" in page.inner_text("#report-list")  # shown as text, never run
    assert not dialogs, dialogs
    page.close()


def test_html_report_opens_offline(browser, tmp_path):
    """The audit file works from file:// with the network cut off."""
    from test_web import crafted_report

    from gongkai.export.html import html_for_reports

    out = tmp_path / "audit.html"
    out.write_text(html_for_reports([crafted_report(b"x")]), encoding="utf-8")
    context = browser.new_context(offline=True)
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    page.click("td[data-cell='requests.total.total']")
    assert "requests.total.total" in page.inner_text(".prov-panel")
    assert all(u.startswith(("file:", "data:")) for u in requests), requests
    context.close()


def test_a_value_cut_out_of_glued_text_is_marked_alone(browser, tmp_path):
    """In a crawler's one-line page, the provenance view marks the value's own characters, not the line."""
    synth = pytest.importorskip("gongkai.synth", reason="gongkai.synth 尚未就绪")
    import gongkai
    from gongkai.export.html import html_for_reports

    data = synth.make_report(1903).render("txt", "glued")
    report = gongkai.parse(data, name="glued.txt")
    out = tmp_path / "audit.html"
    out.write_text(html_for_reports([report], {report.source.sha256: data}), encoding="utf-8")
    page = browser.new_page()
    page.goto(out.as_uri())
    page.click("td[data-cell='requests.new_received.total']")
    assert page.inner_text(".prov-panel pre.source mark.value") == str(report.cells["requests.new_received.total"])
    assert "本行第" in page.inner_text(".prov-panel")
    page.close()


def test_pdf_cell_shows_the_page_with_its_box(server, browser, tmp_path):
    from gongkai.synth import make_report

    require_soffice()
    pdf = tmp_path / "generated.pdf"
    pdf.write_bytes(make_report(3, template="2021", faults=["balance"]).render("pdf"))
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(server + "/")
    with page.expect_navigation(timeout=180_000):  # the page reloads itself once the job is done
        page.set_input_files("#file-input", [str(pdf)])
        page.wait_for_selector("#jobs li.status-done:has-text('generated.pdf'), #jobs li.status-failed:has-text('generated.pdf')", timeout=120_000)
    page.goto(server + "/")
    assert page.locator("#jobs li.status-failed:has-text('generated.pdf')").count() == 0, page.inner_text("#jobs")
    page.click("#jobs li:has-text('generated.pdf') a")
    cell = page.locator("td[data-cell='requests.new_received.total']")
    assert '"page"' in page.locator("script.prov-data").inner_text(), "PDF cells carry no page provenance"
    cell.click()
    page.wait_for_selector(".prov-panel .page-view img")
    page.wait_for_function("() => { const i = document.querySelector('.prov-panel .page-view img'); return i && i.complete && i.naturalWidth > 0; }")
    box = page.locator(".prov-panel .page-view .bbox")
    assert box.count() == 1
    page.wait_for_function("() => document.querySelector('.prov-panel .page-view .bbox').style.left !== ''")
    b = box.bounding_box()
    img = page.locator(".prov-panel .page-view img").bounding_box()
    assert img["x"] <= b["x"] <= img["x"] + img["width"] and img["y"] <= b["y"] <= img["y"] + img["height"]
    assert 0 < b["width"] < img["width"] / 4
    page.locator(".prov-panel").screenshot(path=str(SHOTS / "provenance-pdf.png"))
    page.close()


def test_an_upload_error_stays_until_dismissed(server, browser, tmp_path):
    """A refused upload is not lost when the page reloads; it goes when the reviewer dismisses it."""
    junk = tmp_path / "不是报告.bin"
    junk.write_bytes(bytes(range(256)) * 8)  # judged by content: nothing gongkai reads
    page = browser.new_page()
    page.goto(server + "/")
    page.evaluate("() => localStorage.clear()")
    page.set_input_files("#file-input", [str(junk)])
    shown = "#upload-errors li:has-text('不是报告.bin')"
    page.wait_for_selector(shown, timeout=30_000)
    assert "不支持的文件类型" in page.inner_text(shown)
    page.reload()
    page.wait_for_selector(shown)  # still there after a reload
    page.click(f"{shown} button.dismiss")
    assert page.locator(shown).count() == 0
    page.reload()
    page.wait_for_load_state()
    assert page.locator("#upload-errors li").count() == 0
    page.close()
