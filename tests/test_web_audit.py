"""The January audit in the web app, and who may do what: through a real `gongkai serve` on loopback.

A few bodies of the generated city (conftest `audited_store`) with the roster imported, and four
accounts: an administrator, a reviewer of 望城区 (wang), one of 长沙县 (chang), a reader. Coverage
and its JSON twin against the generator's truth, the filters and the drill-down, the roster
uploaded with bad lines and good, an uncertain match confirmed, notices downloaded; a reviewer of
one county can neither read nor change the other's reports, through every route; a write without
the CSRF token is refused by every state-changing route the app has; logins, logouts, disabled
accounts, the open single-user server and the shared token.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile

import pytest
from web_audit_helpers import USERS, Browserless, client, fresh_store, sha_of, start_server

pytest.importorskip("uvicorn")

YEAR = 2024


@pytest.fixture(scope="module")
def server(audited_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-audit-server")
    running = start_server(folder, fresh_store(audited_store, folder / "store.duckdb"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def admin(server):
    with client(server, "admin") as c:
        yield c


@pytest.fixture(scope="module")
def wang(server):
    with client(server, "wang") as c:
        yield c


@pytest.fixture(scope="module")
def chang(server):
    with client(server, "chang") as c:
        yield c


def _in_store(audited_store) -> set[str]:
    return {b["roster_name"] for b in (audited_store["typo"], audited_store["block"], *audited_store["others"])}


# ── coverage, summary, drill-down ───────────────────────────────────────────────────────────


def test_coverage_json_is_right_for_every_body_of_the_roster(audited_store, admin):
    truth = audited_store["truth"]
    twin = admin.get(f"/audit.json?year={YEAR}").json()
    rows = {r["body"]: r for r in twin["rows"]}
    assert len(rows) == len(truth["bodies"]) == 60
    with_reports = _in_store(audited_store)
    short = audited_store["short"]["roster_name"]
    for body in truth["bodies"]:
        row, record = rows[body["roster_name"]], body["years"][str(YEAR)]
        if body["roster_name"] in with_reports:
            assert row["status"] == record["status"], (body["roster_name"], row, record)
            assert row["published"] == record["published"] and row["sha256"]
            assert row["errors"] is not None and row["anomalies"] is not None
        else:  # no report in this store; the short-named department's wait for a person to confirm them
            assert row["status"] == "missing" and row["errors"] is None and row["sha256"] is None, row
    assert rows[short]["candidates"] == [audited_store["short"]["report_name"]]  # its reports, waiting for a person
    assert any(m["report_name"] == audited_store["short"]["report_name"] for m in twin["pending_matches"])
    top = twin["totals"][0]
    assert top["name"] == "湖南省" and top["bodies"] == 60 and top["missing"] == 60 - len(with_reports)


def test_coverage_filters_and_the_region_tree(admin):
    every = admin.get(f"/audit.json?year={YEAR}").json()["rows"]
    missing = admin.get(f"/audit.json?year={YEAR}&status=missing").json()["rows"]
    assert missing and {r["status"] for r in missing} == {"missing"} and len(missing) == sum(r["status"] == "missing" for r in every)
    county = admin.get(f"/audit.json?year={YEAR}&region=430121").json()
    assert county["rows"] and all("430121" in r["region_codes"] for r in county["rows"])
    assert {t["code"] for t in county["totals"]} >= {"430000", "430100", "430121"} and "430112" not in {t["code"] for t in county["totals"]}
    governments = admin.get(f"/audit.json?year={YEAR}&body_type=government").json()["rows"]
    assert governments and {r["body_type"] for r in governments} == {"government"}
    page = admin.get(f"/audit?year={YEAR}&region=430121")
    assert page.status_code == 200 and "长沙县" in page.text and 'id="region-totals"' in page.text
    assert admin.get(f"/audit.json?year={YEAR}&region=43011").status_code == 400  # a malformed code: one Chinese line
    assert "区划代码" in admin.get(f"/audit.json?year={YEAR}&region=43011").json()["detail"]


def test_drill_down_from_a_coverage_row_to_its_report_and_findings(audited_store, admin):
    typo = audited_store["typo"]
    page = admin.get(f"/audit?year={YEAR}").text
    row = re.search(rf'<tr data-body="{re.escape(typo["roster_name"])}".*?</tr>', page, re.S).group(0)
    report = re.search(r'href="(/reports/[0-9a-f]{64})"', row).group(1)
    opened = admin.get(report)
    assert opened.status_code == 200 and typo["report_name"] in opened.text and "第1版" in opened.text
    found = admin.get(f"/findings.json?body={typo['roster_name']}&year={YEAR}").json()
    assert all(f["year"] == YEAR and f["agency"] == typo["report_name"] for f in found)


def test_region_summary_page_and_twin(admin):
    summary = admin.get(f"/audit/summary.json?year={YEAR}&region=430112").json()
    assert summary["region_name"].endswith("望城区") and summary["bodies"] == summary["published"] + summary["missing"]
    assert summary["previous"]["year"] == YEAR - 1
    assert "最常见的问题" in admin.get(f"/audit/summary?year={YEAR}&region=430112").text


# ── the roster, matches, notices ────────────────────────────────────────────────────────────


def test_a_roster_with_bad_lines_is_refused_whole_and_a_good_one_imported(audited_store, admin, wang):
    folder = audited_store["folder"]
    before = admin.get("/audit/roster.json").json()
    bad = admin.post("/audit/roster", files={"file": ("roster_bad.csv", (folder / "roster_bad.csv").read_bytes(), "text/csv")})
    assert bad.status_code == 400
    for line in ("第8行：缺少名称", "第9行", "第10行", "第11行", "第12行", "第13行"):
        assert line in bad.text, line
    assert admin.get("/audit/roster.json").json() == before  # nothing half-imported
    good = admin.post("/audit/roster", files={"file": ("roster.xlsx", (folder / "roster.xlsx").read_bytes())}, headers={"Accept": "application/json"})
    assert good.status_code == 200 and good.json()["count"] == 60
    assert wang.post("/audit/roster", files={"file": ("roster.xlsx", b"x")}).status_code == 403  # an administrator's job
    history = admin.get("/history.json?action=roster").json()
    assert history[-1]["actor"] == "admin" and "60" in (history[-1]["new_value"] or "")


def test_an_uncertain_match_is_confirmed_by_a_person_and_then_counts(audited_store, tmp_path):
    server = start_server(tmp_path, fresh_store(audited_store, tmp_path / "store.duckdb"))
    try:
        with client(server, "admin") as admin:
            short = audited_store["short"]
            pending = admin.get("/audit/matches.json").json()
            match = next(m for m in pending if m["report_name"] == short["report_name"])
            assert match["state"] == "uncertain" and match["candidates"][0]["name"] == short["roster_name"]
            before = {r["body"]: r for r in admin.get(f"/audit.json?year={YEAR}").json()["rows"]}[short["roster_name"]]
            assert before["status"] == "missing"
            done = admin.post("/audit/matches", data={"report": match["report_key"], "roster_name": short["roster_name"]}, follow_redirects=False)
            assert done.status_code == 303
            after = {r["body"]: r for r in admin.get(f"/audit.json?year={YEAR}").json()["rows"]}[short["roster_name"]]
            assert after["status"] == short["years"][str(YEAR)]["status"] and after["sha256"]
            assert all(m["report_name"] != short["report_name"] for m in admin.get("/audit/matches.json").json())
            entry = admin.get("/history.json?action=match").json()[-1]
            assert entry["actor"] == "admin" and entry["new_value"] == short["roster_name"]
    finally:
        server.stop()


def _docx_text(data: bytes) -> str:
    import docx

    document = docx.Document(io.BytesIO(data))
    return "\n".join([p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells])


def test_notices_are_downloaded_one_by_one_and_for_a_region(audited_store, wang, admin):
    block = audited_store["block"]

    def issued_by_wang() -> int:  # other tests of the module issue notices too, in any order
        return len([e for e in admin.get("/history.json?action=notice").json() if e["actor"] == "wang"])

    before = issued_by_wang()
    preview = wang.get(f"/audit/notice.json?body={block['roster_name']}&year={YEAR}").json()
    assert preview["items"] and all(i["finding_id"] for i in preview["items"])
    one = wang.post("/audit/notice", data={"body": block["roster_name"], "year": YEAR, "format": "docx"})
    assert one.status_code == 200 and one.content[:2] == b"PK"
    assert "filename*=UTF-8''" in one.headers["content-disposition"]
    text = _docx_text(one.content)
    assert block["roster_name"] in text and all(i["finding_id"] in text for i in preview["items"])
    everyone = wang.post("/audit/notice", data={"all": "1", "year": YEAR, "region": "430112", "format": "docx"})
    names = zipfile.ZipFile(io.BytesIO(everyone.content)).namelist()
    rows = [r for r in wang.get(f"/audit.json?year={YEAR}").json()["rows"] if r["status"] == "missing" or r["errors"] or r["warnings"]]
    assert len(names) >= len([r for r in rows if r["status"] == "missing"]) and all(n.endswith("_整改通知.docx") for n in names)
    assert all("长沙县" not in n for n in names)  # wang's region only
    assert issued_by_wang() - before == 1 + len(names)
    assert admin.get(f"/audit/notice?body={block['roster_name']}&year={YEAR}").status_code == 200


@pytest.mark.skipif(shutil.which("soffice") is None and shutil.which("libreoffice") is None, reason="没有 LibreOffice：跳过 PDF 整改通知")
def test_a_notice_as_pdf_is_made_by_libreoffice_in_a_guarded_worker(audited_store, wang):
    answer = wang.post("/audit/notice", data={"body": audited_store["block"]["roster_name"], "year": YEAR, "format": "pdf"})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.content[:5] == b"%PDF-" and answer.headers["content-type"] == "application/pdf"


def test_a_reader_may_read_but_not_issue_notices_nor_decide(audited_store, server):
    with client(server, "reader") as reader:
        sha = sha_of(audited_store, audited_store["typo"]["years"]["2023"]["file"])
        assert reader.get(f"/reports/{sha}").status_code == 200
        found = reader.get(f"/findings.json?report={sha}").json()
        assert reader.post(f"/findings/{found[0]['id']}/decision", json={"status": "confirmed"}).status_code == 403
        assert reader.post("/audit/notice", data={"body": audited_store["block"]["roster_name"], "year": YEAR}).status_code == 403
        assert reader.post("/upload", files={"files": ("x.txt", b"x")}).status_code == 403


# ── region scope, through every route ───────────────────────────────────────────────────────


def test_a_reviewer_of_one_county_can_neither_read_nor_change_another_s_reports(audited_store, admin, wang, chang):
    typo = audited_store["typo"]
    sha = sha_of(audited_store, typo["years"]["2023"]["file"])
    theirs = admin.get(f"/findings.json?report={sha}").json()
    assert theirs and wang.get(f"/reports/{sha}").status_code == 200
    body_key = re.search(r'href="/body\?key=([^"]+)"', wang.get(f"/reports/{sha}").text).group(1)
    refused = {
        "page": chang.get(f"/reports/{sha}"), "json": chang.get(f"/reports/{sha}.json"), "xlsx": chang.get(f"/reports/{sha}.xlsx"),
        "source": chang.get(f"/reports/{sha}/source?line=1"), "page image": chang.get(f"/reports/{sha}/pages/1.png"),
        "versions": chang.get(f"/reports/{sha}/versions.json"), "diff": chang.get(f"/reports/{sha}/diff.json"),
        "history": chang.get(f"/history.json?report={sha}"), "findings": chang.get(f"/findings.json?report={sha}"),
        "api report": chang.get(f"/api/reports/{sha}"), "api findings": chang.get(f"/api/findings?sha256={sha}"),
        "draft": chang.get(f"/draft?sha={sha}"),
        "decision": chang.post(f"/findings/{theirs[0]['id']}/decision", json={"status": "dismissed", "reason": "不是我的"}),
        "correction": chang.post(f"/reports/{sha}/corrections", json={"cells": {"requests.total.total": 1}, "reason": "不是我的"}),
    }  # fmt: skip
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    assert all("无权" in r.json()["detail"] for r in refused.values() if r.headers["content-type"].startswith("application/json"))
    assert chang.get(f"/body?key={body_key}").status_code == 404
    assert chang.get(f"/audit/notice.json?body={typo['roster_name']}&year=2023").status_code == 404
    assert chang.post("/audit/notice", data={"body": typo["roster_name"], "year": 2023}).status_code == 404
    # the lists hold the caller's own region only
    assert all("长沙县" in r["agency"] for r in chang.get("/api/reports").json())
    assert all("长沙县" in (f["agency"] or "") for f in chang.get("/findings.json").json())
    assert all("430121" in r["region_codes"] for r in chang.get(f"/audit.json?year={YEAR}").json()["rows"])
    assert chang.get("/api/stats").json()["reports"] == len(chang.get("/api/reports").json()) < admin.get("/api/stats").json()["reports"]
    assert all("望城区" not in (e["lineage"] or "") for e in chang.get("/history.json").json())
    assert "望城区" not in chang.get("/corpus").text.split("<h2>报告列表</h2>")[1]
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(chang.get("/corpus.xlsx").content), read_only=True)
    sheet = book["报告"]
    header = [c.value for c in next(sheet.iter_rows(min_row=1, max_row=1))]
    agencies = [row[header.index("agency")] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert agencies and all("长沙县" in a for a in agencies)
    # and nothing of theirs changed
    after = admin.get(f"/findings.json?report={sha}").json()
    assert [f["status"] for f in after] == [f["status"] for f in theirs]
    assert not [e for e in admin.get("/history.json").json() if e["actor"] == "chang" and e["action"] != "login"]
    assert wang.get("/users").status_code == 403 and wang.get("/audit/roster").status_code == 403


# ── CSRF, sessions, the open server, the token ──────────────────────────────────────────────


def _write_routes() -> list[tuple[str, str]]:
    """Every state-changing route of the app, its path parameters filled in (a route added later is in this list too)."""
    import tempfile
    from pathlib import Path

    from gongkai.web.app import Settings, create_app

    def walk(routes):
        for route in routes:
            inner = getattr(getattr(route, "original_router", None), "routes", None)  # an included router (no prefix in this app)
            yield from walk(inner) if inner is not None else [route]

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp) / "d"))
        routes = [(method, route.path) for route in walk(app.routes) for method in sorted(getattr(route, "methods", None) or ())
                  if method in ("POST", "PUT", "PATCH", "DELETE")]  # fmt: skip
        app.state.web.queue.shutdown()
    fill = {"{sha}": "0" * 64, "{finding_id}": "F000000000000", "{name}": "wang"}
    for placeholder, value in fill.items():
        routes = [(m, p.replace(placeholder, value)) for m, p in routes]
    assert all("{" not in p for _, p in routes), routes
    return routes


def test_every_state_changing_route_refuses_a_write_without_the_csrf_token(server, admin):
    routes = _write_routes()
    paths = {p for _, p in routes}
    assert {"/login", "/logout", "/users", "/upload", "/api/parse", "/audit/roster", "/audit/matches", "/audit/notice",
            "/reports/" + "0" * 64 + "/corrections", "/findings/F000000000000/decision", "/api/draft/check"} <= paths  # fmt: skip
    for method, path in routes:
        for headers in ({}, {"X-CSRF-Token": "0" * 64}):
            answer = admin.request(method, path, data={"status": "confirmed"}, headers=headers, csrf=False)
            assert answer.status_code == 403 and "CSRF" in answer.json()["detail"], (method, path, answer.status_code, answer.text[:200])
        form = admin.request(method, path, data={"csrf_token": "0" * 64}, csrf=False)
        assert form.status_code == 403, (method, path)
    assert admin.get("/api/me").status_code == 200  # still logged in: the refusals ended nothing
    assert not [e for e in admin.get("/history.json").json() if e["action"] in ("decision", "correction", "user", "notice", "roster", "match")
                and e["actor"] == "admin" and e["target"] in ("F000000000000", "wang")]  # fmt: skip


def test_logins_are_logged_throttled_and_sessions_end_with_logout_or_a_disabled_account(audited_store, tmp_path):
    server = start_server(tmp_path, fresh_store(audited_store, tmp_path / "store.duckdb"))
    try:
        with client(server, "admin") as admin, Browserless(server) as stranger:
            page = stranger.get("/", follow_redirects=False)
            assert page.status_code == 303 and page.headers["location"].startswith("/login")
            assert stranger.get("/api/reports").status_code == 401 and stranger.get("/audit.json").status_code == 401
            for _ in range(5):
                wrong = stranger.post("/login", data={"name": "wang", "password": "不对的口令"})
                assert wrong.status_code == 401 and "不正确" in wrong.text
            assert stranger.post("/login", data={"name": "wang", "password": USERS["wang"][2]}).status_code == 429  # throttled
            logins = admin.get("/history.json?action=login").json()
            assert [e["new_value"] for e in logins if e["actor"] == "wang"] == ["失败"] * 5
            assert any(e["actor"] == "admin" and e["new_value"] == "成功" for e in logins)
            with client(server, "chang") as chang:
                cookie = chang.cookies.get("gongkai_session")
                assert chang.post("/logout", follow_redirects=False).status_code == 303
                with Browserless(server) as replay:
                    replay.cookies.set("gongkai_session", cookie)
                    assert replay.get("/api/me").status_code == 401  # the session is gone on the server, not just in the browser
            with client(server, "reader") as reader:
                assert reader.get("/api/me").json()["user"]["role"] == "readonly"
                assert admin.post("/users/reader", data={"active": "0"}, follow_redirects=False).status_code == 303
                assert reader.get("/api/me").status_code == 401
            with Browserless(server) as again:
                form = again.get("/login")
                token = re.search(r'name="csrf-token" content="([0-9a-f]*)"', form.text).group(1)
                assert again.post("/login", data={"name": "reader", "password": USERS["reader"][2], "csrf_token": token}).status_code == 401
            made = admin.post("/users", data={"name": "zhao", "role": "reviewer", "region": "430121", "password": "赵的口令12345"}, follow_redirects=False)
            assert made.status_code == 303
            with client(server, "zhao") as zhao:
                assert zhao.get("/api/me").json()["user"]["region"] == "430121"
            refused = admin.post("/users", data={"name": "qian", "role": "reviewer", "password": "钱的口令12345"}, headers={"Accept": "application/json"})
            assert refused.status_code == 400 and "区划" in refused.json()["detail"]
    finally:
        server.stop()


def test_an_open_server_is_its_local_user_s_until_a_user_exists(audited_store, tmp_path):
    server = start_server(tmp_path, fresh_store(audited_store, tmp_path / "store.duckdb", users=False))
    try:
        with Browserless(server) as local:
            me = local.get("/api/me").json()
            assert me["open"] and me["user"]["name"] == "本机用户" and me["user"]["role"] == "admin"
            assert local.get(f"/audit.json?year={YEAR}").status_code == 200
            found = local.get("/findings.json").json()
            assert local.post(f"/findings/{found[0]['id']}/decision", json={"status": "confirmed"}).json()["actor"] == "本机用户"
            assert local.post("/users", data={"name": "admin", "role": "admin", "password": USERS["admin"][2]}, follow_redirects=False).status_code == 303
            assert local.get("/", follow_redirects=False).status_code == 303  # from now on every page needs a login
            assert local.get("/api/me").status_code == 401
            assert local.post(f"/findings/{found[1]['id']}/decision", json={"status": "confirmed"}).status_code == 401
            assert local.login("admin").get("/api/me").json()["open"] is False
    finally:
        server.stop()


def test_the_shared_token_acts_as_an_administrator_for_scripts(audited_store, tmp_path):
    server = start_server(tmp_path, fresh_store(audited_store, tmp_path / "store.duckdb"), env={"GONGKAI_TOKEN": "s3cret-for-scripts"})
    try:
        with Browserless(server) as script:
            assert script.get("/findings.json").status_code == 401
            bearer = {"Authorization": "Bearer s3cret-for-scripts"}
            found = script.get("/findings.json", headers=bearer).json()
            made = script.post(f"/findings/{found[0]['id']}/decision", json={"status": "confirmed"}, headers=bearer)
            assert made.status_code == 200 and made.json()["actor"] == "令牌"  # a header is no browser's ambient credential: no CSRF token needed
            assert script.get("/findings.json", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert "s3cret-for-scripts" not in server.log_text()
    finally:
        server.stop()
