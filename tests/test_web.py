"""The reviewer web app: every route, the safety limits, escaping, and the corpus page over a small store."""

from __future__ import annotations

import hashlib
import io
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

from fastapi.testclient import TestClient

from gongkai.cells import cell_ids, label
from gongkai.report import Finding, Meta, Provenance, Report, Source
from gongkai.web.app import Settings, create_app
from gongkai.web.storage import add_to_store

BALANCE = ["requests.new_received.total", "requests.carried_over.total", "requests.total.total", "requests.carried_forward.total"]
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>街道办事处'

TEXT_REPORT = "某街道办事处2021年政府信息公开工作年度报告\n一、总体情况\n本年度共收到申请5件。\n".encode()


# ── fixtures: reports made by hand (the contract), and a generated faulty report (synth) ─────


def crafted_report(data: bytes = b"x", *, agency: str = "测试街道办事处", year: int = 2021, region: str = "北京市朝阳区",
                   new_received: int = 5, carried_over: int = 0, carried_forward: int = 0, fmt: str = "txt",
                   template: str = "2021", extra: list[Finding] = (), name: str | None = None) -> Report:
    """A report as the pipeline would return it: requests.balance broken in the 总计 column, 办理结果总计 the suspect."""
    cells = dict.fromkeys(cell_ids(template), 0)
    cells["requests.new_received.total"] = new_received
    cells["requests.carried_over.total"] = carried_over
    cells["requests.carried_forward.total"] = carried_forward
    cells["requests.total.total"] = new_received + carried_over - carried_forward - 1
    cells["requests.granted.total"] = max(cells["requests.total.total"] - 1, 0)
    cells["requests.partial.total"] = cells["requests.total.total"] - cells["requests.granted.total"]
    cells["appeals.review.upheld"] = 1
    cells["appeals.review.total"] = 1
    cells["requests.unable.not_held.total"] = None
    findings = [Finding(rule="requests.balance", severity="error", origin="source",
                        message=f"总计列：本年新收 {new_received} + 上年结转 {carried_over} ≠ 办理结果总计 {cells['requests.total.total']} + 结转下年度 {carried_forward}",
                        cells=BALANCE, suspects=["requests.total.total"]), *extra]
    return Report(source=Source(path=name or "报告.txt", sha256=hashlib.sha256(data).hexdigest(), format=fmt, pages=1 if fmt == "pdf" else None),
                  meta=Meta(agency=agency, year=year, template=template, body_type="street", region=region, published=f"{year + 1}-01-20"),
                  cells=cells, findings=findings,
                  provenance={"requests.total.total": Provenance(raw=" 4", line=2),
                              "requests.new_received.total": Provenance(page=1, bbox=(10, 20, 60, 40), raw="5")})


def fake_parser(**overrides):
    def parse(data: bytes, *, name: str | None = None, limits=None) -> Report:
        return crafted_report(data, name=name, **overrides)

    return parse


def generated_faulty_report() -> bytes:
    """A generated 2021 report whose 勾稽关系 is broken (gongkai.synth, balance fault)."""
    from gongkai.synth import make_report

    made = make_report(7, template="2021", faults=["balance"])
    text = made.render("txt")
    return text.encode("utf-8") if isinstance(text, str) else text


def make_store(db: Path) -> list[Report]:
    """A small store: one body over two years (carry broken), another body elsewhere, one clean report."""
    reports = [
        crafted_report(b"a", agency="甲街道办事处", year=2021, region="北京市朝阳区", carried_forward=2),
        crafted_report(b"b", agency="甲街道办事处", year=2022, region="北京市朝阳区", carried_over=3, new_received=7,
                       extra=[Finding(rule="corpus.carry_continuity", severity="error", origin="source",
                                      message="上年结转与2021年度报告的结转下年度不符：总计 3 ≠ 2", cells=["requests.carried_over.total"])]),
        crafted_report(b"c", agency=EVIL, year=2022, region="上海市", new_received=11),
    ]
    clean = crafted_report(b"d", agency="乙区人民政府", year=2021, region="上海市", new_received=2)
    clean.findings = []
    reports.append(clean)
    add_to_store(db, *reports)
    return reports


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", max_upload_mb=1, max_files=3)


def client_for(settings: Settings, parser=None) -> TestClient:
    app = create_app(settings, parser=parser) if parser else create_app(settings)
    return TestClient(app)


def upload(client: TestClient, *files: tuple[str, bytes]) -> list[dict]:
    r = client.post("/upload", files=[("files", (n, d, "application/octet-stream")) for n, d in files],
                    headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()["jobs"]


def wait_done(client: TestClient, ids: list[str], timeout: float = 30) -> list[dict]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        jobs = client.get("/api/jobs", params={"ids": ",".join(ids)}).json()
        if jobs and all(j["status"] in ("done", "failed") for j in jobs):
            return jobs
        time.sleep(0.1)
    raise AssertionError(f"jobs not finished: {jobs}")


# ── upload, parse, read back ─────────────────────────────────────────────────────────────


def test_upload_text_report_is_parsed_and_listed(settings):
    with client_for(settings) as client:
        page = client.get("/")
        assert page.status_code == 200 and "拖到这里" in page.text
        jobs = upload(client, ("报告.txt", TEXT_REPORT))
        (job,) = wait_done(client, [jobs[0]["id"]])
        assert job["status"] == "done", job
        sha = hashlib.sha256(TEXT_REPORT).hexdigest()
        assert job["id"] == sha
        report = client.get(f"/api/reports/{sha}").json()
        assert report["schema"] == "gongkai.report/1" and report["source"]["sha256"] == sha
        assert any(r["sha256"] == sha for r in client.get("/api/reports").json())
        assert sha in client.get("/").text


def test_upload_generated_faulty_report_shows_the_balance_finding(settings):
    data = generated_faulty_report()
    with client_for(settings) as client:
        (job,) = wait_done(client, [upload(client, ("generated.txt", data))[0]["id"]])
        assert job["status"] == "done", job
        report = client.get(f"/api/reports/{job['id']}").json()
        rules = [f["rule"] for f in report["findings"]]
        assert "requests.balance" in rules, rules
        page = client.get(f"/reports/{job['id']}").text
        balance = next(f for f in report["findings"] if f["rule"] == "requests.balance")
        assert "勾稽关系不成立" in page
        for cell in balance["cells"]:
            assert f'data-cell="{cell}" class="cell-error' in page


def test_report_page_lays_out_the_official_tables_and_marks_the_failing_cell(settings):
    with client_for(settings, fake_parser()) as client:
        (job,) = wait_done(client, [upload(client, ("a.txt", b"line one\nline two 4\n"))[0]["id"]])
        page = client.get(f"/reports/{job['id']}")
        assert page.status_code == 200
        html = page.text
        # the merged headers of 表二 and 表三 and the 22-row 办理结果 of the 2021 format
        assert 'rowspan="3" colspan="3"' in html and 'colspan="7">申请人情况' in html
        assert 'rowspan="22">三、本年度办理结果' in html and 'rowspan="8">（三）不予公开' in html
        assert 'colspan="10">行政诉讼' in html and 'colspan="5">未经复议直接起诉' in html
        # the failing cells marked, the suspect emphasised, the finding in Chinese with its numbers
        assert 'data-cell="requests.total.total" class="cell-error suspect"' in html
        assert 'data-cell="requests.new_received.total" class="cell-error"' in html
        assert "勾稽关系不成立" in html and "本年新收 5 + 上年结转 0 ≠ 办理结果总计 4" in html
        assert f"{label('requests.total.total')}（可疑）" in html
        assert 'data-cell="requests.unable.not_held.total" class="blank"' in html
        assert "六个部分" in html and "缺失" in html  # the crafted report has no sections
        # provenance: the raw line of a text source
        lines = client.get(f"/reports/{job['id']}/source", params={"line": 2}).json()["lines"]
        assert [2, "line two 4"] in lines


def test_2019_layout_has_twenty_result_rows(settings):
    with client_for(settings, fake_parser(template="2019")) as client:
        (job,) = wait_done(client, [upload(client, ("a.txt", b"2019"))[0]["id"]])
        html = client.get(f"/reports/{job['id']}").text
        assert 'rowspan="20">三、本年度办理结果' in html and "第二十条第（九）项" in html and "规范性文件" in html


def test_downloads_json_and_excel(settings):
    openpyxl = pytest.importorskip("openpyxl")
    with client_for(settings, fake_parser()) as client:
        (job,) = wait_done(client, [upload(client, ("a.txt", b"abc"))[0]["id"]])
        sha = job["id"]
        r = client.get(f"/reports/{sha}.json")
        assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
        assert Report.model_validate_json(r.content).source.sha256 == sha
        r = client.get(f"/reports/{sha}.xlsx")
        book = openpyxl.load_workbook(io.BytesIO(r.content))
        assert book.sheetnames == ["单元格", "发现", "基本信息"]
        assert book["发现"]["C2"].value == "requests.balance"


def test_pdf_page_image_for_provenance(settings):
    pdfium = pytest.importorskip("pypdfium2")
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(200, 100)
    buf = io.BytesIO()
    pdf.save(buf)
    with client_for(settings, fake_parser(fmt="pdf")) as client:
        (job,) = wait_done(client, [upload(client, ("scan.pdf", buf.getvalue()))[0]["id"]])
        assert job["format"] == "pdf"
        r = client.get(f"/reports/{job['id']}/pages/1.png")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        assert client.get(f"/reports/{job['id']}/pages/9.png").status_code == 404
        assert 'data-page-scale="2"' in client.get(f"/reports/{job['id']}").text


def test_api_parse_and_openapi(settings):
    with client_for(settings) as client:
        r = client.post("/api/parse", files={"file": ("x.txt", TEXT_REPORT, "text/plain")})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["schema"] == "gongkai.report/1" and set(body) >= {"source", "meta", "sections", "cells", "provenance", "findings"}
        spec = client.get("/openapi.json").json()
        assert {"/api/parse", "/api/reports", "/api/reports/{sha}", "/api/findings", "/api/stats"} <= set(spec["paths"])
        assert "Report" in spec["components"]["schemas"] and "Finding" in spec["components"]["schemas"]
        docs = client.get("/docs")
        assert docs.status_code == 200 and "/api/findings" in docs.text
        assert "cdn" not in docs.text.lower() and 'src="http' not in docs.text  # works offline


def test_unknown_or_malformed_report_ids_are_404(settings):
    with client_for(settings) as client:
        assert client.get("/reports/" + "0" * 64).status_code == 404
        assert client.get("/api/reports/" + "0" * 64).status_code == 404
        assert client.get("/reports/..%2F..%2Fetc%2Fpasswd").status_code == 404
        assert client.get("/reports/abc/pages/1.png").status_code == 404


# ── safety ──────────────────────────────────────────────────────────────────────────────


def test_token_required_when_set(tmp_path):
    settings = Settings(data_dir=tmp_path / "d", token="s3cret")
    with client_for(settings, fake_parser()) as client:
        r = client.get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        assert client.get("/api/reports").status_code == 401
        assert client.get("/openapi.json").status_code == 401
        assert client.post("/upload", files={"files": ("a.txt", b"x")}).status_code == 401
        assert client.get("/static/gongkai.css").status_code == 200
        assert client.get("/api/reports", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/api/reports", headers={"X-Gongkai-Token": "wrong"}).status_code == 401
        assert client.post("/login", data={"token": "nope", "next": "/"}).status_code == 401
        r = client.post("/login", data={"token": "s3cret", "next": "/corpus"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/corpus"
        assert client.get("/api/reports").status_code == 200  # the cookie now
    with client_for(settings, fake_parser()) as client:
        assert client.get("/?token=s3cret").status_code == 200
        assert client.get("/api/reports").status_code == 200


def test_oversize_and_too_many_uploads_are_refused(settings):
    big = b"a" * (settings.max_upload_bytes + 10)
    with client_for(settings, fake_parser()) as client:
        r = client.post("/upload", files=[("files", ("big.txt", big))], headers={"Accept": "application/json"})
        assert r.status_code == 413 and "MB" in r.json()["detail"]
        r = client.post("/api/parse", files={"file": ("big.txt", big * 2)})
        assert r.status_code == 413
        r = client.post("/upload", files=[("files", (f"{i}.txt", b"x%d" % i)) for i in range(4)], headers={"Accept": "application/json"})
        assert r.status_code == 413
        assert not any((settings.data_dir / "files").iterdir())


def test_file_type_is_judged_from_content_and_stored_under_sha256(settings):
    text = "这是一份纯文本报告\n一、总体情况\n".encode()
    junk = bytes(range(256)) * 8
    with client_for(settings) as client:
        good, bad = upload(client, ("report.pdf", text), ("notes.txt", junk))
        assert good["format"] == "txt" and good["status"] != "failed"
        assert bad["status"] == "failed" and "不支持的文件类型" in bad["message"]
        wait_done(client, [good["id"]])
        stored = [p.name for p in (settings.data_dir / "files").iterdir()]
        assert stored == [hashlib.sha256(text).hexdigest()]
        r = client.post("/api/parse", files={"file": ("x.docx", junk)})
        assert r.status_code == 415


def test_malicious_agency_name_is_escaped_everywhere(settings):
    with client_for(settings, fake_parser(agency=EVIL)) as client:
        (job,) = wait_done(client, [upload(client, ('<b>x</b>".txt', b"evil"))[0]["id"]])
        for path in (f"/reports/{job['id']}", "/", "/corpus"):
            html = client.get(path).text
            assert "<script>alert" not in html and "<img src=x" not in html, path
            assert "&lt;script&gt;alert(" in html, path
        assert "<b>x</b>" not in client.get("/").text


# ── the corpus page over a store ─────────────────────────────────────────────────────────


def test_corpus_page_and_api_over_a_small_store(tmp_path):
    db = tmp_path / "corpus.duckdb"
    reports = make_store(db)
    settings = Settings(data_dir=tmp_path / "data", db=db)
    with client_for(settings) as client:
        html = client.get("/corpus").text
        assert "各年度新收申请数" in html and "办理结果占比" in html and "行政复议结果" in html and "各地区有错误的报告比例" in html
        assert "<svg" in html and "甲街道办事处" in html
        assert "跨年度核对" in html and "上年结转≠上一年度报告的结转下年度" in html and "3 ≠ 2" in html
        assert html.count("<tr data-errors=") == 4
        filtered = client.get("/corpus", params={"year": "2021"}).text
        assert filtered.count("<tr data-errors=") == 2
        assert client.get("/corpus", params={"region": "上海市"}).text.count("<tr data-errors=") == 2
        stats = client.get("/api/stats").json()
        assert stats["reports"] == 4 and stats["errors"] >= 3
        assert {y["year"] for y in stats["by_year"]} == {2021, 2022}
        found = client.get("/api/findings", params={"rule": "corpus.carry_continuity"}).json()
        assert len(found) == 1 and found[0]["cells"] == ["requests.carried_over.total"]
        listed = client.get("/api/reports", params={"year": 2022}).json()
        assert {r["agency"] for r in listed} == {"甲街道办事处", EVIL}
        # a stored report (no JSON beside it) still opens, with its marked cells
        sha = reports[0].source.sha256
        page = client.get(f"/reports/{sha}").text
        assert 'data-cell="requests.total.total" class="cell-error suspect"' in page
        assert client.get(f"/api/reports/{sha}").json()["cells"]["requests.new_received.total"] == 5


def test_scanned_image_page_for_provenance(settings):
    image = pytest.importorskip("PIL.Image")
    buf = io.BytesIO()
    image.new("RGB", (120, 80), "white").save(buf, format="JPEG")
    with client_for(settings, fake_parser(fmt="image")) as client:
        (job,) = wait_done(client, [upload(client, ("scan.jpg", buf.getvalue()))[0]["id"]])
        assert job["format"] == "image"
        r = client.get(f"/reports/{job['id']}/pages/1.png")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
        assert 'data-page-scale="1"' in client.get(f"/reports/{job['id']}").text
        assert client.get(f"/reports/{job['id']}/pages/2.png").status_code == 404


def test_a_full_parse_queue_refuses_more_uploads(tmp_path):
    import threading

    release = threading.Event()
    slow = fake_parser()

    def parse(data, **kwargs):
        release.wait(10)
        return slow(data, **kwargs)

    settings = Settings(data_dir=tmp_path / "d", max_queue=1)
    with client_for(settings, parse) as client:
        (first,) = upload(client, ("a.txt", b"one"))
        r = client.post("/upload", files=[("files", ("b.txt", b"two"))], headers={"Accept": "application/json"})
        assert r.status_code == 503 and "排队" in r.json()["detail"]
        release.set()
        wait_done(client, [first["id"]])
        assert upload(client, ("b.txt", b"two"))[0]["status"] in ("queued", "parsing", "done")
