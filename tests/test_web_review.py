"""Review in the web app through a real `gongkai serve` on loopback: decisions, a correction that makes
the identities hold, the exports that carry it, the history, a fixed re-submission as version 2,
kill -9 of the server after a decision, and 20 reviewers at once losing nothing.

The store is a few bodies of the generated city (conftest `audited_store`): 望城区's department
with a misprinted cell, its government with a broken appeals sum (re-submitted fixed), and bodies
of 长沙县; the reviewer `wang` is 望城区's.
"""

from __future__ import annotations

import io
import sys
import time

import pytest
from conftest import ROOT
from web_audit_helpers import client, fault_year, fresh_store, sha_of, start_server

pytest.importorskip("uvicorn")


@pytest.fixture(scope="module")
def server(audited_store, tmp_path_factory):
    folder = tmp_path_factory.mktemp("web-review-server")
    running = start_server(folder, fresh_store(audited_store, folder / "store.duckdb"))
    yield running
    running.stop()


def _cell_row(book, sheet: str, sha: str | None, cell: str):
    """The Excel cell of `cell`: in 单元格 (one report), or in 报告 the row of report `sha`."""
    ws = book[sheet]
    if sheet == "单元格":
        row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == cell)
        return row[2]
    header = [c.value for c in next(ws.iter_rows(min_row=1, max_row=1))]
    row = next(r for r in ws.iter_rows(min_row=3) if r[header.index("sha256")].value == sha)
    return row[header.index(cell)], row[header.index("corrected_cells")].value


def test_a_reviewer_decides_corrects_and_the_exports_and_history_say_so(audited_store, server):
    import openpyxl

    year, record = fault_year(audited_store["typo"], "typo")
    sha = sha_of(audited_store, record["file"])
    cell = record["suspects"][0]
    clean = record["clean"][cell]
    with client(server, "wang") as wang, client(server, "admin") as admin:
        found = wang.get(f"/findings.json?report={sha}").json()
        assert len(found) >= 2 and {f["status"] for f in found} == {"open"} and all(cell in f["cells"] for f in found)
        first, second = found[0]["id"], found[1]["id"]
        confirmed = wang.post(f"/findings/{first}/decision", json={"status": "confirmed"})
        assert confirmed.status_code == 200 and confirmed.json()["previous"] == "open" and confirmed.json()["actor"] == "wang"
        unreasoned = wang.post(f"/findings/{second}/decision", json={"status": "dismissed"})
        assert unreasoned.status_code == 400 and "理由" in unreasoned.json()["detail"]
        by_form = wang.post(f"/findings/{second}/decision", data={"status": "dismissed", "reason": "表外另有说明", "next": f"/reports/{sha}"},
                            follow_redirects=False)  # fmt: skip
        assert by_form.status_code == 303 and by_form.headers["location"] == f"/reports/{sha}"
        now = {f["id"]: f for f in wang.get(f"/findings.json?report={sha}").json()}
        assert (now[first]["status"], now[second]["status"], now[second]["reason"], now[second]["decided_by"]) == ("confirmed", "dismissed", "表外另有说明", "wang")
        page = wang.get(f"/reports/{sha}").text
        assert "已确认" in page and "已驳回" in page and "表外另有说明" in page and f'action="/findings/{first}/decision"' in page

        assert wang.post(f"/reports/{sha}/corrections", json={"cells": {cell: "许多"}, "reason": "试一下"}).status_code == 400
        fixed = wang.post(f"/reports/{sha}/corrections", data={"cell_id": cell, "value": str(clean), "reason": "与原件核对，誊写有误"},
                          headers={"Accept": "application/json"})  # fmt: skip
        assert fixed.status_code == 200, fixed.text
        done = fixed.json()
        assert done["version"]["version"] == 2 and done["version"]["kind"] == "correction" and done["version"]["actor"] == "wang"
        assert done["rechecked_from"] == "file" and {first, second} <= set(done["resolved"]) and done["raised"] == []
        old_value = done["changed"][cell]["old"]
        assert done["changed"][cell]["new"] == clean != old_value
        now = {f["id"]: f for f in wang.get(f"/findings.json?report={sha}").json()}
        assert now[first]["status"] == now[second]["status"] == "resolved"

        page = wang.get(f"/reports/{sha}").text
        assert f'data-cell="{cell}" class="' in page and "corrected" in page.split(f'data-cell="{cell}"')[1].split(">")[0]
        assert "第2版（人工更正）" in page and "已更正" in page
        diff = wang.get(f"/reports/{sha}/diff.json").json()
        assert [(c["cell_id"], c["old"], c["new"]) for c in diff["cells"]] == [(cell, old_value, clean)]
        assert {first, second} <= {f["id"] for f in diff["resolved"]}
        assert "与上一版的差异" in page and wang.get(f"/reports/{sha}/diff").status_code == 200

        one = openpyxl.load_workbook(io.BytesIO(wang.get(f"/reports/{sha}.xlsx").content))
        value = _cell_row(one, "单元格", None, cell)
        assert value.value == clean and value.fill.fgColor.rgb.endswith("DDEBF7") and "人工更正" in value.comment.text
        corpus = openpyxl.load_workbook(io.BytesIO(wang.get("/corpus.xlsx").content))
        value, names = _cell_row(corpus, "报告", sha, cell)
        assert value.value == clean and cell in names.split() and "人工更正" in value.comment.text and "与原件核对" in value.comment.text

        history = admin.get(f"/history.json?report={sha}").json()
        mine = [(e["action"], e["target"], e["old_value"], e["new_value"], e["reason"]) for e in history if e["actor"] == "wang"]
        assert ("decision", first, "待核", "已确认", None) in mine and ("decision", second, "待核", "已驳回", "表外另有说明") in mine
        correction = next(e for e in history if e["action"] == "correction")
        assert (correction["actor"], correction["target"], correction["new_value"], correction["reason"]) == ("wang", cell, str(clean), "与原件核对，誊写有误")
        assert correction["old_value"] == str(old_value)
        assert {e["target"] for e in history if e["action"] == "resolved"} >= {first, second}
        assert "与原件核对，誊写有误" in admin.get(f"/history?report={sha}").text

        with client(server, "chang") as chang:  # 长沙县's reviewer: neither the decisions nor the corrected report
            assert chang.get(f"/history.json?report={sha}").status_code == chang.get(f"/reports/{sha}/diff.json").status_code == 403
            assert chang.post(f"/findings/{first}/decision", json={"status": "open"}).status_code == 403
            assert chang.post(f"/reports/{sha}/corrections", json={"cells": {cell: clean}, "reason": "不是我的"}).status_code == 403

        again = wang.post(f"/reports/{sha}/corrections", json={"cells": {cell: clean + 1}, "reason": "再核一次"})
        assert again.status_code == 200, again.text  # a correction of a correction: version 3
        assert again.json()["version"]["version"] == 3 and again.json()["changed"][cell] == {"old": clean, "new": clean + 1}


def test_a_fixed_report_uploaded_again_is_version_2_and_decisions_on_what_stands_carry_over(audited_store, server):
    year, record = fault_year(audited_store["block"], "block_sum")
    old = sha_of(audited_store, record["file"])
    fixed = (audited_store["folder"] / "fixed" / record["file"]).read_bytes()
    with client(server, "wang") as wang:
        before = wang.get(f"/findings.json?report={old}").json()
        broken = next(f for f in before if f["rule"] == "appeals.block_sum")
        standing = [f for f in before if f["rule"] != "appeals.block_sum"]
        if standing:
            assert wang.post(f"/findings/{standing[0]['id']}/decision", json={"status": "confirmed"}).status_code == 200
        jobs = wang.post("/upload", files=[("files", (f"重新发布_{record['file']}", fixed))], headers={"Accept": "application/json"}).json()["jobs"]
        new = jobs[0]["id"]
        for _ in range(600):
            job = wang.get(f"/api/jobs?ids={new}").json()
            if job and job[0]["status"] in ("done", "failed"):
                break
            time.sleep(0.2)
        assert job[0]["status"] == "done", job
        every = wang.get(f"/reports/{new}/versions.json").json()
        assert [(v["version"], v["kind"], v["sha256"]) for v in every] == [(1, "file", old), (2, "file", new)]
        assert every[1]["actor"] == "wang"
        diff = wang.get(f"/reports/{new}/diff.json").json()
        assert diff["cells"] and all(c["cell_id"].startswith("appeals.") for c in diff["cells"])
        assert broken["id"] in {f["id"] for f in diff["resolved"]}
        after = {f["id"]: f for f in wang.get(f"/findings.json?report={new}").json()}
        assert after[broken["id"]]["status"] == "resolved"
        if standing:
            assert after[standing[0]["id"]]["status"] == "confirmed" and after[standing[0]["id"]]["version"] == 2
        assert "已被新文件取代" in wang.get(f"/reports/{old}").text
        page = wang.get(f"/reports/{new}").text
        assert "第2版（新文件）" in page and f"/reports/{new}/diff" in page
        entry = [e for e in wang.get(f"/history.json?report={new}").json() if e["action"] == "version"][-1]
        assert entry["actor"] == "wang" and entry["target"] == "第2版" and entry["detail"] == "重新提交的新文件"


def test_kill_9_of_the_server_loses_no_decision_it_answered(audited_store, tmp_path):
    db = fresh_store(audited_store, tmp_path / "store.duckdb")
    server = start_server(tmp_path, db)
    try:
        with client(server, "chang") as chang:
            found = chang.get("/findings.json").json()
            answered = []
            for f in found[:4]:
                made = chang.post(f"/findings/{f['id']}/decision", json={"status": "dismissed", "reason": f"kill 之前 {f['id']}"})
                assert made.status_code == 200
                answered.append(made.json())
        server.kill9()  # right after the last answer: no shutdown, no checkpoint
    finally:
        server.stop()
    again = start_server(tmp_path, db)
    try:
        with client(again, "chang") as chang:
            now = {f["id"]: f for f in chang.get("/findings.json").json()}
            for made in answered:
                assert (now[made["finding_id"]]["status"], now[made["finding_id"]]["reason"]) == ("dismissed", made["reason"])
            logged = {e["target"] for e in chang.get("/history.json?action=decision").json() if e["actor"] == "chang"}
            assert {m["finding_id"] for m in answered} <= logged
    finally:
        again.stop()


@pytest.mark.slow
def test_twenty_reviewers_deciding_and_correcting_at_once_lose_nothing(audited_store, tmp_path):
    """The load test of benchmarks/load.py (there 60 s over a larger city) for 20 s over this store,
    each reviewer acting at least twice (seven of them correcting first), however slow the machine."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.load import add_reviewers, lost, reviewer_accounts, run_reviewers

    db = fresh_store(audited_store, tmp_path / "store.duckdb", users=False)
    accounts = reviewer_accounts(20)
    add_reviewers(db, accounts)
    server = start_server(tmp_path, db)
    try:
        out = run_reviewers(server.url, accounts, seconds=20, correct_every=6, at_least=2)  # 40 actions at least, however loaded the machine
    finally:
        server.stop()
    assert not out.failures, (out.failures[:10], server.log_text()[-4000:])
    assert len(out.decisions) >= 20 and out.corrections, (len(out.decisions), len(out.corrections))
    assert lost(db, out) == []
    assert "Traceback" not in server.log_text()
