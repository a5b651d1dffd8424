"""Review through the command line and a real DuckDB file: findings, decisions, corrections, versions, the log, accounts.

A few bodies of the generated city (synth.county) make a small store: one report with a misprinted
cell (corrected here until its identities hold), one with a broken appeals sum (re-submitted fixed,
as version 2), bodies of two counties (for region-limited reviewers). Decisions must survive a
`--redo` and a kill -9.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from audit_helpers import assert_one_line_error, batch, copy_store, gk, gk_json, run

from gongkai.store import Store


@pytest.fixture(scope="module")
def small(county, tmp_path_factory):
    """Every report of four bodies: a misprint (typo), a broken appeals sum with its fixed re-submission, two of the other county."""
    folder, truth = county
    bodies = truth["bodies"]

    def pick(fault, county_name=None, exclude=()):
        return next(b for b in bodies if b["roster_name"] not in exclude and (county_name is None or county_name in b["roster_name"])
                    and any(fault in r["faults"] and int(y) >= 2023 for y, r in b["years"].items()))  # fmt: skip

    typo = pick("typo", "望城区")
    block = pick("block_sum", "望城区", exclude=(typo["roster_name"],))
    others = [b for b in bodies if "长沙县" in b["roster_name"]][:2]
    work = tmp_path_factory.mktemp("review")
    reports = work / "reports"
    reports.mkdir()
    for body in (typo, block, *others):
        for record in body["years"].values():
            if record["file"]:
                shutil.copy(folder / "reports" / record["file"], reports / record["file"])
    db = work / "small.duckdb"
    batch(reports, db)
    return {"folder": folder, "reports": reports, "db": db, "typo": typo, "block": block, "others": others}


def _sha(db, file: str) -> str:
    with Store(db) as store:
        return store.con.execute("SELECT sha256 FROM reports WHERE path LIKE ?", [f"%/{file}"]).fetchone()[0]


def _fault_year(body: dict, fault: str) -> tuple[int, dict]:
    return next((int(y), r) for y, r in body["years"].items() if fault in r["faults"] and int(y) >= 2023)


def test_finding_ids_are_one_formula_in_sql_and_python(small):
    from gongkai.review import finding_id, list_findings

    with Store(small["db"]) as store:
        rows = list_findings(store)
    assert rows and all(len(r.id) == 13 and r.id.startswith("F") for r in rows)
    assert len({r.id for r in rows}) == len(rows)
    for r in rows:
        assert r.id == finding_id(r.lineage, r.rule, r.cells, r.message)
        assert r.lineage == f"{r.year}:" + r.lineage.split(":", 1)[1]  # body and year, not the file


def test_findings_review_and_history_round_trip(small, tmp_path):
    db = copy_store(small["db"], tmp_path / "r.duckdb")
    found = gk_json("findings", "--db", db)
    assert found and {"id", "sha256", "rule", "severity", "origin", "status"} <= set(found[0])
    assert {f["status"] for f in found} == {"open"}
    first, second = found[0]["id"], found[1]["id"]
    code, out, _ = gk("review", first, "--db", db, "--status", "confirmed", "--by", "李四")
    assert code == 0 and "待核 → 已确认" in out
    code, _, error = gk("review", second, "--db", db, "--status", "dismissed", "--by", "李四")
    assert code == 2 and "理由" in error
    code, out, _ = gk("review", second, "--db", db, "--status", "已驳回", "--reason", "表外已说明", "--by", "王五")
    assert code == 0 and "已驳回（理由：表外已说明）" in out
    assert [f["id"] for f in gk_json("findings", "--db", db, "--status", "dismissed")] == [second]
    assert [f["id"] for f in gk_json("findings", "--db", db, "--status", "已确认")] == [first]
    code, _, _ = gk("review", first, "--db", db, "--status", "待核", "--by", "李四")  # reopened
    assert code == 0 and gk_json("findings", "--db", db, "--status", "confirmed") == []
    log = [e for e in gk_json("history", "--db", db) if e["action"] == "decision"]
    assert [(e["actor"], e["target"], e["old_value"], e["new_value"], e["reason"]) for e in log] == [
        ("李四", first, "待核", "已确认", None), ("王五", second, "待核", "已驳回", "表外已说明"), ("李四", first, "已确认", "待核", None)]
    report = [e for e in gk_json("history", "--db", db, "--report", found[1]["sha256"])]
    assert {e["action"] for e in report} >= {"version", "decision"} and all(e["lineage"] == found[1]["lineage"] for e in report)


def test_a_correction_that_makes_the_identities_hold_turns_its_findings_resolved(small, tmp_path):
    import csv

    db = copy_store(small["db"], tmp_path / "c.duckdb")
    year, record = _fault_year(small["typo"], "typo")
    cell = record["fault_details"]["typo"]["cell"]
    sha = _sha(db, record["file"])
    before = gk_json("findings", "--db", db, "--report", sha)
    broken = {f["id"] for f in before if f["rule"].startswith("requests.")}
    assert broken and all(cell in f["cells"] for f in before if f["id"] in broken)
    code, out, error = gk("correct", sha[:12], cell, record["clean"][cell], "--db", db, "--reason", "按原件更正", "--by", "李四")
    assert code == 0, error
    assert "第2版（人工更正）" in out and "重新读取原文件" in out
    after = {f["id"]: f for f in gk_json("findings", "--db", db, "--report", sha)}
    assert {i for i, f in after.items() if f["status"] == "resolved"} == broken
    assert all(f["status"] == "open" for i, f in after.items() if i not in broken)
    with Store(db) as store:
        parsed = store.con.execute(f'SELECT "{cell}" FROM reports WHERE sha256 = ?', [sha]).fetchone()[0]
        [(version, kind)] = store.con.execute("SELECT version, kind FROM current_versions WHERE sha256 = ?", [sha]).fetchall()
    assert parsed != record["clean"][cell] and (version, kind) == (2, "correction")  # the parsed value is never overwritten
    log = gk_json("history", "--db", db, "--report", sha)
    change = next(e for e in log if e["action"] == "correction")
    assert (change["actor"], change["target"], change["old_value"], change["new_value"], change["reason"]) == \
        ("李四", cell, str(parsed), str(record["clean"][cell]), "按原件更正")  # fmt: skip
    assert {e["target"] for e in log if e["action"] == "resolved"} == broken
    difference = gk_json("diff", sha, "--db", db)
    assert [(c["cell_id"], c["old"], c["new"]) for c in difference["cells"]] == [(cell, parsed, record["clean"][cell])]
    assert {f["id"] for f in difference["resolved"]} == broken and difference["added"] == []
    code, _, _ = gk("export", "--db", db, "--to", tmp_path / "out.csv")
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["sha256"] == sha)
    assert (row[cell], row["corrected_cells"], row["errors"]) == (str(record["clean"][cell]), cell, "0")


def test_without_its_file_a_correction_is_checked_from_the_stored_cells_and_texts(small, tmp_path):
    from gongkai.review import correct, list_findings

    db = copy_store(small["db"], tmp_path / "f.duckdb")
    year, record = _fault_year(small["typo"], "typo")
    cell = record["fault_details"]["typo"]["cell"]
    sha = _sha(db, record["file"])
    moved = tmp_path / "moved"
    shutil.copytree(small["reports"], moved)
    with Store(db) as store:
        store.con.execute("UPDATE reports SET path = ? WHERE sha256 = ?", [str(tmp_path / "gone" / record["file"]), sha])
        broken = {f.id for f in list_findings(store, report=sha) if f.rule.startswith("requests.")}
        done = correct(store, sha, cell, record["clean"][cell], "按原件更正", by="李四")
    assert done.rechecked_from == "store" and set(done.resolved) == broken and done.raised == []


def test_a_resubmitted_fixed_report_is_version_2_and_decisions_on_what_still_stands_carry_over(small, tmp_path):
    db = copy_store(small["db"], tmp_path / "v.duckdb")
    reports = tmp_path / "reports"
    shutil.copytree(small["reports"], reports)
    year, record = _fault_year(small["block"], "block_sum")
    sha = _sha(db, record["file"])
    before = gk_json("findings", "--db", db, "--report", sha)
    block = [f for f in before if f["rule"] == "appeals.block_sum"]
    standing = [f for f in before if f["rule"] != "appeals.block_sum"]
    assert block and standing, before
    for f in block:
        gk("review", f["id"], "--db", db, "--status", "confirmed", "--reason", "核实属实", "--by", "李四")
    for f in standing:
        gk("review", f["id"], "--db", db, "--status", "dismissed", "--reason", "本年工作确与上年相近", "--by", "李四")
    fixed = small["folder"] / "fixed" / record["file"]
    shutil.copy(fixed, reports / f"resubmitted_{record['file']}")  # the body's corrected file, under a new name
    batch(reports, db)
    after = {f["id"]: f for f in gk_json("findings", "--db", db, "--report", sha)}
    assert {after[f["id"]]["status"] for f in block} == {"resolved"}
    still = [f for f in standing if f["id"] in after and after[f["id"]]["version"] == 2]
    assert still and all(after[f["id"]]["status"] == "dismissed" and after[f["id"]]["reason"] == "本年工作确与上年相近" for f in still)
    difference = gk_json("diff", sha, "--db", db)
    assert (difference["old"]["version"], difference["new"]["version"], difference["new"]["kind"]) == (1, 2, "file")
    cell = record["fault_details"]["block_sum"]["cell"]
    assert any(c["cell_id"] == cell and c["new"] == record["clean"][cell] for c in difference["cells"])
    assert {f["id"] for f in difference["resolved"]} == {f["id"] for f in block}
    rows = [r for r in gk_json("coverage", "--db", db, "--year", year) if r["lineage"] == block[0]["lineage"]]
    assert rows[0]["versions"] == 2 and rows[0]["errors"] == 0 and rows[0]["review_state"] == "rectified"


def test_redo_keeps_every_decision_and_correction(small, tmp_path):
    from gongkai.review import current, list_findings

    db = copy_store(small["db"], tmp_path / "redo.duckdb")
    year, record = _fault_year(small["typo"], "typo")
    cell = record["fault_details"]["typo"]["cell"]
    sha = _sha(db, record["file"])
    found = gk_json("findings", "--db", db)
    for i, f in enumerate(found[:4]):
        gk("review", f["id"], "--db", db, "--status", "confirmed" if i % 2 else "dismissed", "--reason", f"第{i}条", "--by", "李四")
    gk("correct", sha, cell, record["clean"][cell], "--db", db, "--reason", "按原件更正", "--by", "李四")
    with Store(db) as store:
        statuses = [(f.id, f.status, f.reason) for f in list_findings(store)]
        log = store.count("audit_log")
    batch(small["reports"], db, "--redo")
    with Store(db) as store:
        assert [(f.id, f.status, f.reason) for f in list_findings(store)] == statuses
        assert current(store, sha).cells[cell] == record["clean"][cell]
        assert store.count("decisions") == 4 and store.count("corrections") == 1 and store.count("audit_log") == log


KILLABLE = r"""
import sys
from gongkai.review import decide, list_findings
from gongkai.store import Store

with Store(sys.argv[1]) as store:
    ids = [f.id for f in list_findings(store)]
    for i in range(10_000):
        decide(store, ids[i % len(ids)], "confirmed" if i % 2 else "dismissed", f"第{i}次", by="压力测试")
        print(i, flush=True)
"""


@pytest.mark.slow
def test_kill_9_in_a_series_of_decisions_loses_no_committed_one(small, tmp_path):
    db = copy_store(small["db"], tmp_path / "k.duckdb")
    process = subprocess.Popen([sys.executable, "-c", KILLABLE, str(db)], stdout=subprocess.PIPE, text=True, start_new_session=True)
    done = []
    deadline = time.monotonic() + 120
    while len(done) < 12 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        done.append(int(line))
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert len(done) >= 12, "the loop did not get going"
    with Store(db) as store:
        kept = {int(r[0][1:-1]) for r in store.con.execute("SELECT reason FROM decisions").fetchall()}
        logged = store.count("audit_log", "WHERE action = 'decision'")
    assert set(done) <= kept  # every decision reported as made is there
    assert logged == len(kept)  # and each with its log entry, never one without the other


def test_accounts_roles_and_region_limited_reviewers(small, tmp_path):
    from gongkai.review import (
        PermissionDenied,
        authenticate,
        can_change,
        can_read,
        decide,
        get_user,
        history,
        list_findings,
        log_login,
        visible_reports,
    )

    db = copy_store(small["db"], tmp_path / "u.duckdb")
    for name, role, region in (("admin", "admin", None), ("wc", "reviewer", "430112"), ("cs", "reviewer", "430121"), ("reader", "readonly", None)):
        code, out, error = gk("user", "add", name, "--db", db, "--role", role, *(("--region", region) if region else ()), "--password-stdin",
                              input="correct horse battery\n")  # fmt: skip
        assert code == 0, error
    code, _, error = gk("user", "add", "x", "--db", db, "--role", "reviewer", "--password-stdin", input="long enough pw\n")
    assert code == 2 and "须指定可管辖的区划" in error
    code, _, error = gk("user", "add", "y", "--db", db, "--role", "admin", "--password-stdin", input="short\n")
    assert code == 2 and "至少 8 个字符" in error
    assert [u["name"] for u in gk_json("user", "list", "--db", db)] == ["admin", "cs", "reader", "wc"]
    with Store(db) as store:
        assert store.con.execute("SELECT password_hash FROM users WHERE name = 'wc'").fetchone()[0].startswith("$argon2id$")
        wc, cs, reader = get_user(store, "wc"), get_user(store, "cs"), get_user(store, "reader")
        assert authenticate(store, "wc", "correct horse battery") == wc
        assert authenticate(store, "wc", "wrong") is None and authenticate(store, "nobody", "x") is None
        log_login(store, "wc", True)
        found = list_findings(store)
        mine = [f for f in found if "望城区" in (f.agency or "")]
        theirs = [f for f in found if "长沙县" in (f.agency or "")]
        assert mine and theirs
        assert can_change(store, wc, mine[0].sha256) and not can_change(store, wc, theirs[0].sha256)
        assert can_read(store, cs, theirs[0].sha256) and not can_read(store, cs, mine[0].sha256)
        assert can_read(store, reader, mine[0].sha256) and not can_change(store, reader, mine[0].sha256)
        assert {f.id for f in list_findings(store, user=wc)} == {f.id for f in mine}
        assert visible_reports(store, cs) == _all_files(store, "长沙县")
        with pytest.raises(PermissionDenied):
            decide(store, theirs[0].id, "confirmed", None, by=wc)
        with pytest.raises(PermissionDenied):
            decide(store, mine[0].id, "confirmed", None, by=reader)
        decide(store, mine[0].id, "confirmed", None, by=wc)
        assert all(e.lineage != theirs[0].lineage for e in history(store, user=wc))
        assert not [e for e in history(store, user=wc) if e.action in ("login", "user")]
        assert [e.actor for e in history(store, user=get_user(store, "admin")) if e.action == "login"] == ["wc"]
    code, _, _ = gk("user", "set", "wc", "--db", db, "--disable")
    with Store(db) as store:
        assert authenticate(store, "wc", "correct horse battery") is None
        assert [e.new_value for e in history(store, action="user") if e.target == "wc"][-1] == "停用"


def _all_files(store, county: str) -> set[str]:
    return {sha for (sha,) in store.con.execute("SELECT sha256 FROM reports WHERE agency LIKE ?", [f"%{county}%"]).fetchall()}


def test_bad_input_is_one_chinese_line_and_exit_2(small, tmp_path):
    db = small["db"]
    sha = _sha(db, next(r["file"] for r in small["typo"]["years"].values() if r["file"]))
    assert_one_line_error(run("findings", "--db", tmp_path / "absent.duckdb"), "数据库不存在")
    assert_one_line_error(run("review", "Fdeadbeef0000", "--db", db, "--status", "confirmed", "--by", "李四"), "没有这条发现")
    assert_one_line_error(run("correct", sha, "requests.nothing.total", "3", "--db", db, "--reason", "r", "--by", "李四"), "没有这个单元格编号")
    for args, words in (
        (("correct", sha, "requests.total.total", "abc", "--db", db, "--reason", "r", "--by", "李四"), "不是数字"),
        (("correct", sha, "requests.total.total", "2.5", "--db", db, "--reason", "r", "--by", "李四"), "须为整数"),
        (("correct", sha, "active.rules.new_made", "2", "--db", db, "--reason", "r", "--by", "李四"), "不属于这份报告的 2021 年格式"),
        (("correct", sha, "requests.total.total", "2", "--db", db, "--reason", " ", "--by", "李四"), "须写明理由"),
        (("correct", "0" * 64, "requests.total.total", "2", "--db", db, "--reason", "r", "--by", "李四"), "库中没有这份报告"),
        (("review", "x", "--db", db, "--status", "maybe", "--by", "李四"), "状态“maybe”无效"),
        (("findings", "--db", db, "--status", "done"), "状态“done”无效"),
        (("findings", "--db", db, "--body", "没有的机关"), "都没有这个机关"),
        (("user", "add", "z", "--db", db, "--role", "boss", "--password-stdin"), "角色“boss”无效"),
        (("diff", sha, "--db", db), "只有第 1 版"),
    ):
        code, _, error = gk(*args, input="long enough pw\n")
        assert code == 2 and words in error, (args, error)
    with Store(db) as store:
        assert store.count("corrections") == 0 and store.count("decisions") == 0 and store.count("users") == 0
