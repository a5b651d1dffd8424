"""The store: table contract, shards loaded exactly once, names of one body across years."""

from __future__ import annotations

import pytest
from corpus_helpers import hand_report

from gongkai.cells import all_cells
from gongkai.report import Finding
from gongkai.store import Store
from gongkai.store.bodies import body_keys, full_name, load_aliases, normalise_name
from gongkai.store.rows import report_rows
from gongkai.store.shards import commit_shard

SHA_A, SHA_B = "a" * 64, "b" * 64


def rows_of(*reports):
    return [report_rows(r, r.source.path) for r in reports]


def test_reports_columns_follow_the_output_contract(tmp_path):
    with Store(tmp_path / "c.duckdb") as store:
        columns = [c for (c,) in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'reports' ORDER BY ordinal_position"
        ).fetchall()]
        cells = [c.id for c in all_cells()]
        head = ["sha256", "path", "agency", "year", "published", "template"]
        assert columns[: len(head) + len(cells) + 2] == head + cells + ["errors", "warnings"]
        findings = [c for (c,) in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'findings' ORDER BY ordinal_position"
        ).fetchall()]
        assert {"sha256", "rule", "severity", "origin", "message", "cells"} <= set(findings)


def test_a_report_becomes_one_row_with_its_findings(tmp_path):
    finding = Finding(rule="requests.balance", severity="error", origin="source", message="总计列不平", cells=["requests.total.total"])
    report = hand_report(SHA_A, "某镇人民政府", 2021, cells={"requests.new_received.total": 7, "active.admin_fees.amount_wan": 1.5},
                         sections={1: "总体情况正文"}, findings=[finding])
    with Store(tmp_path / "c.duckdb") as store:
        store.add(rows_of(report))
        row = store.con.execute(
            'SELECT year, template, "requests.new_received.total", "active.admin_fees.amount_wan", "requests.other.total",'
            " errors, warnings, section_1, published FROM reports"
        ).fetchone()
        assert row[:8] == (2021, "2021", 7, 1.5, None, 1, 0, "总体情况正文")  # a 2019-only cell is null, never 0
        assert str(row[8]) == "2022-01-20"
        assert store.con.execute("SELECT rule, cells FROM findings").fetchall() == [("requests.balance", ["requests.total.total"])]


def test_loading_the_same_rows_again_replaces_them(tmp_path):
    report = hand_report(SHA_A, "某镇", 2020, findings=[Finding(rule="value.domain", severity="error", origin="source", message="x")])
    with Store(tmp_path / "c.duckdb") as store:
        store.add(rows_of(report))
        store.add(rows_of(report))
        assert (store.count("reports"), store.count("findings")) == (1, 1)


def test_a_committed_shard_left_by_a_kill_is_loaded_on_recovery(tmp_path):
    db = tmp_path / "c.duckdb"
    with Store(db) as store:
        parts = store.parts
    commit_shard(parts, rows_of(hand_report(SHA_A, "某镇", 2020), hand_report(SHA_B, "某镇", 2021)))
    (parts / ".tmp-shard-half-written").mkdir()  # a shard killed while being written
    with Store(db) as store:
        assert store.recover() == 1
        assert store.count("reports") == 2
        assert store.recover() == 0
    assert list(parts.iterdir()) == []


def test_a_shard_loaded_but_not_yet_removed_is_not_loaded_twice(tmp_path):
    db = tmp_path / "c.duckdb"
    with Store(db) as store:
        shard = commit_shard(store.parts, rows_of(hand_report(SHA_A, "某镇", 2020)))
        store.con.execute("INSERT INTO loaded_shards VALUES (?)", [shard.name])  # as if killed right after the commit
        assert store.recover() == 1
        assert store.count("reports") == 0 and not shard.exists()


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("北京市朝阳区小关街道办事处", "北京朝阳区小关街道"),
        ("平潭综合实验区管理委员会", "平潭综合实验区管委会（办公室）"),
        ("某县人民政府", "某县 政府"),
        ("广州市海珠区官洲街道办事处", "广州市海珠区官洲街道"),
        ("ＸＸ区教育局", "XX区教育局"),
    ],
)
def test_spellings_of_one_body_normalise_alike(one, other):
    assert normalise_name(one) == normalise_name(other)


def test_short_region_forms_fold_into_the_one_full_name():
    names = [normalise_name(n) for n in ("广州市海珠区官洲街道办事处", "海珠区官洲街道", "官洲街道办事处")]
    keys = body_keys(names)
    assert set(keys.values()) == {"广州市海珠区官洲街道"}


def test_an_ambiguous_short_name_stays_apart():
    keys = body_keys(["甲县城关镇", "乙县城关镇", "城关镇"])
    assert keys["城关镇"] == "城关镇" and keys["甲县城关镇"] != keys["乙县城关镇"]


def test_the_region_of_the_report_completes_a_bare_name():
    assert full_name("小关街道办事处", "北京市朝阳区") == "北京市朝阳区小关街道"
    assert full_name("朝阳区小关街道办事处", "北京市朝阳区") == "北京市朝阳区小关街道"


def test_aliases_file_joins_what_rules_cannot(tmp_path):
    aliases = tmp_path / "aliases.tsv"
    aliases.write_text("# 别名\t标准名\n岚县政务服务中心\t岚县行政审批服务管理局\n", encoding="utf-8")
    table = load_aliases(aliases)
    assert normalise_name("岚县政务服务中心", table) == normalise_name("岚县行政审批服务管理局")
    with Store(tmp_path / "c.duckdb") as store:
        store.set_aliases(table)
        store.add(rows_of(hand_report(SHA_A, "岚县政务服务中心", 2020), hand_report(SHA_B, "岚县行政审批服务管理局", 2021)))
        store.refresh()
        assert store.count("bodies") == 1
        assert store.con.execute("SELECT count(DISTINCT body_key) FROM reports").fetchone() == (1,)
