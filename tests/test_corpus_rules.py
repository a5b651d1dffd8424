"""Corpus rules (corpus.*) as SQL over the store: a body's report against its previous year's."""

from __future__ import annotations

import json

import pytest
from conftest import shared_path
from corpus_helpers import carried, hand_report

from gongkai.store import Store
from gongkai.store.rows import report_rows

SHA = {y: f"{y:04d}".ljust(64, "a") for y in range(2018, 2024)}
OVERVIEW = (
    "本年度，我街道坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "围绕中心工作，主动公开政府信息{n}条，依申请公开办理及时规范，政府信息管理和平台建设不断加强，监督保障机制持续完善。"
)


def corpus_findings(tmp_path, reports) -> list[tuple]:
    with Store(tmp_path / "corpus.duckdb") as store:
        store.add([report_rows(r, r.source.path) for r in reports])
        store.refresh()
        return store.con.execute(
            "SELECT sha256, rule, severity, origin, cells, related, message FROM findings WHERE rule LIKE 'corpus.%' ORDER BY sha256, seq"
        ).fetchall()


def test_broken_carry_over_is_an_error_of_the_later_report(tmp_path):
    before = hand_report(SHA[2020], "北京市朝阳区小关街道办事处", 2020, cells=carried("carried_forward", natural_person=3, commercial=1))
    after = hand_report(SHA[2021], "朝阳区小关街道", 2021, cells=carried("carried_over", natural_person=2, commercial=1))
    [(sha, rule, severity, origin, cells, related, message)] = corpus_findings(tmp_path, [before, after])
    assert (sha, rule, severity, origin, related) == (SHA[2021], "corpus.carry_continuity", "error", "source", SHA[2020])
    assert cells == ["requests.carried_over.natural_person", "requests.carried_over.total"]
    assert "自然人 2 ≠ 3" in message and "总计 3 ≠ 4" in message


def test_consistent_carry_over_raises_nothing(tmp_path):
    before = hand_report(SHA[2020], "小关街道办事处", 2020, cells=carried("carried_forward", natural_person=3))
    after = hand_report(SHA[2021], "小关街道办事处", 2021, cells=carried("carried_over", natural_person=3))
    assert corpus_findings(tmp_path, [before, after]) == []


def test_other_bodies_and_gaps_are_not_compared(tmp_path):
    one = hand_report(SHA[2019], "甲镇人民政府", 2019, cells=carried("carried_forward", natural_person=3))
    other = hand_report(SHA[2020], "乙镇人民政府", 2020, cells=carried("carried_over", natural_person=1))
    two_years_later = hand_report(SHA[2021], "甲镇人民政府", 2021, cells=carried("carried_over", natural_person=1))
    assert corpus_findings(tmp_path, [one, other, two_years_later]) == []


def test_in_force_must_follow_from_last_year(tmp_path):
    before = hand_report(SHA[2021], "某区司法局", 2021, cells={"active.normative_docs.in_force": 10})
    after = hand_report(
        SHA[2022], "某区司法局", 2022,
        cells={"active.normative_docs.in_force": 13, "active.normative_docs.issued": 4, "active.normative_docs.repealed": 2},
    )
    [(sha, rule, severity, *_rest, message)] = corpus_findings(tmp_path, [before, after])
    assert (sha, rule, severity) == (SHA[2022], "corpus.in_force_continuity", "warning")
    assert "行政规范性文件" in message and "13" in message and "12" in message


def test_in_force_is_not_judged_against_the_2019_format(tmp_path):
    before = hand_report(SHA[2020], "某区司法局", 2020, template="2019")
    after = hand_report(SHA[2021], "某区司法局", 2021, cells={"active.rules.in_force": 5})
    assert corpus_findings(tmp_path, [before, after]) == []


def test_copied_overview_is_flagged_even_with_new_numbers(tmp_path):
    before = hand_report(SHA[2020], "某镇", 2020, cells={"requests.new_received.total": 1}, sections={1: OVERVIEW.format(n=120)})
    after = hand_report(SHA[2021], "某镇", 2021, cells={"requests.new_received.total": 2}, sections={1: OVERVIEW.format(n=345)})
    [(sha, rule, severity, *_rest, message)] = corpus_findings(tmp_path, [before, after])
    assert (sha, rule, severity) == (SHA[2021], "corpus.copied_text", "warning")
    assert message.startswith("一、总体情况")


def test_new_text_and_short_sections_are_not_copies(tmp_path):
    before = hand_report(SHA[2020], "某镇", 2020, sections={1: OVERVIEW.format(n=1), 5: "无。"})
    after = hand_report(
        SHA[2021], "某镇", 2021,
        sections={1: "今年重点推进基层政务公开标准化规范化建设，编制公开事项目录，更新政策解读栏目，开展政府开放日活动三次，群众满意度明显提高。" * 2, 5: "无。"},
    )
    assert corpus_findings(tmp_path, [before, after]) == []


def test_identical_tables_need_non_zero_values(tmp_path):
    same = {"requests.new_received.natural_person": 4, "requests.new_received.total": 4}
    flagged = [hand_report(SHA[2020], "某局", 2020, cells=same), hand_report(SHA[2021], "某局", 2021, template="2019", cells=same)]
    assert [f[1] for f in corpus_findings(tmp_path / "a", flagged)] == ["corpus.identical_tables"]
    zeros = [hand_report(SHA[2020], "某局", 2020), hand_report(SHA[2021], "某局", 2021, template="2019")]
    assert corpus_findings(tmp_path / "b", zeros) == []


def test_rerunning_the_rules_gives_the_same_findings_and_counts(tmp_path):
    before = hand_report(SHA[2020], "某镇", 2020, cells=carried("carried_forward", research=1))
    after = hand_report(SHA[2021], "某镇", 2021, cells=carried("carried_over"))
    with Store(tmp_path / "c.duckdb") as store:
        store.add([report_rows(r, r.source.path) for r in (before, after)])
        first = (store.refresh(), store.con.execute("SELECT * FROM findings ORDER BY ALL").fetchall())
        second = (store.refresh(), store.con.execute("SELECT * FROM findings ORDER BY ALL").fetchall())
        assert first == second and first[0] == 1
        assert store.con.execute("SELECT errors FROM reports WHERE sha256 = ?", [SHA[2021]]).fetchone() == (1,)


def test_the_preferred_copy_does_not_change_with_the_corpus_rules_own_errors(tmp_path):
    """Which copy of a year counts is decided once: the corpus rules' errors (which depend on that choice) do not
    decide it, so a second refresh never moves the comparisons of the following year to the other copy."""

    def copy(sha: str, year: int, fmt: str, over: dict, forward: dict):
        report = hand_report(sha, "某镇", year, cells={**carried("carried_over", **over), **carried("carried_forward", **forward)})
        report.source.format, report.source.path = fmt, f"/reports/{sha[:8]}.{fmt}"
        return report

    sha = {name: name.ljust(64, "b") for name in ("p2020", "q2020", "r2021", "s2021", "t2022")}
    reports = [
        copy(sha["p2020"], 2020, "html", {}, {"research": 1}),  # the preferred copy of 2020 (html over txt)
        copy(sha["q2020"], 2020, "txt", {}, {"research": 2}),
        copy(sha["r2021"], 2021, "html", {"research": 2}, {"natural_person": 5}),  # breaks the carry-over from p2020
        copy(sha["s2021"], 2021, "txt", {"research": 1}, {"natural_person": 7}),
        copy(sha["t2022"], 2022, "txt", {"natural_person": 5}, {}),  # follows r2021, not s2021
    ]
    with Store(tmp_path / "c.duckdb") as store:
        store.add([report_rows(r, r.source.path) for r in reports])
        runs = []
        for _ in range(3):
            store.refresh()
            runs.append(store.con.execute("SELECT sha256, rule, related FROM findings WHERE rule = 'corpus.carry_continuity' ORDER BY ALL").fetchall())
        assert runs[0] == runs[1] == runs[2]
        assert runs[0] == [(sha["r2021"], "corpus.carry_continuity", sha["p2020"])]  # 2022 compared with r2021, the html copy


PINGTAN = ("02_pingtan_2019", "03_pingtan_2020", "04_pingtan_2021", "05_pingtan_2022")


def pingtan_truth_reports() -> list:
    reports = []
    for name in PINGTAN:
        truth = json.loads(shared_path("corpus", "truth", f"{name}.json").read_text(encoding="utf-8"))
        meta = truth["meta"]
        reports.append(hand_report(name.ljust(64, "0"), meta["agency"], meta["year"], template=meta["template"], cells=truth["cells"]))
    return reports


def test_pingtan_truth_breaks_no_corpus_rule(tmp_path):
    """Computed by hand from the truth: carried_over(Y) = carried_forward(Y−1) for 2020–2022 in every
    column, and 行政规范性文件 665 + 88 − 55 = 698 in 2022 (2021 is the first year of the 2021 format)."""
    assert corpus_findings(tmp_path, pingtan_truth_reports()) == []


def test_pingtan_with_a_broken_carry_over_is_caught(tmp_path):
    reports = pingtan_truth_reports()
    reports[2].cells["requests.carried_over.natural_person"] += 1
    [(sha, rule, *_rest)] = corpus_findings(tmp_path, reports)
    assert (sha, rule) == (reports[2].source.sha256, "corpus.carry_continuity")


@pytest.mark.slow
def test_parsed_pingtan_reports_form_one_body(tmp_path):
    from gongkai.store import BatchOptions, run_batch

    folder = shared_path("corpus")
    files = [folder / f"{name}.txt" for name in PINGTAN]
    run_batch(files, tmp_path / "p.duckdb", BatchOptions(progress=False))
    with Store(tmp_path / "p.duckdb", read_only=True) as store:
        years = store.con.execute("SELECT year, body_key FROM reports ORDER BY year").fetchall()
        assert all(year is not None and key is not None for year, key in years), years
        assert [y for y, _ in years] == [2019, 2020, 2021, 2022]
        assert len({key for _, key in years}) == 1
        rules = [r for (r,) in store.con.execute("SELECT rule FROM findings WHERE rule LIKE 'corpus.%'").fetchall()]
        # the truth breaks no corpus rule; a finding here is an extraction error worth seeing
        assert "corpus.copied_text" not in rules and "corpus.identical_tables" not in rules
        assert "corpus.carry_continuity" not in rules, rules
