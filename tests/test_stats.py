"""`gongkai stats` and `compute_stats`: every figure, recomputed here from the generated reports' truth.

The expected figures are sums over the truth files' cells, chosen by the cell ids' own structure
(every `requests.denied.*.total`, …), not by the lists in store/stats.py, and grouped by the
region and body type each agency was made with: a reason left out of a sum, a wrong column or
a wrong group fails here.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import defaultdict

import pytest

from gongkai.store import BatchOptions, Store, run_batch
from gongkai.store.stats import compute_stats
from gongkai.synth import make_report
from gongkai.synth.agency import Agency

# (agency, its body type as a person reads it, its region as the name prints it)
BODIES = [
    (Agency("北京市朝阳区小关街道办事处", "street", "北京市", "北京市朝阳区", "本街道"), "街道", "北京市朝阳区"),
    (Agency("北京市朝阳区统计局", "department", "北京市", "北京市朝阳区", "我局"), "部门", "北京市朝阳区"),
    (Agency("上海市浦东新区花木街道办事处", "street", "上海市", "上海市浦东新区", "本街道"), "街道", "上海市浦东新区"),
    (Agency("上海市浦东新区川沙新镇人民政府", "township", "上海市", "上海市浦东新区", "我镇"), "乡镇", "上海市浦东新区"),
    (Agency("江苏省南京市江宁区人民政府", "government", "江苏省", "江苏省南京市江宁区", "我区"), "人民政府", "江苏省南京市江宁区"),
]
# (seed, body, template, faults): both templates, a report with a broken balance
MADE = [(40, 0, "2019", ()), (41, 0, "2021", ()), (42, 1, "2021", ()), (43, 2, "2021", ("balance",)),
        (44, 3, "2019", ()), (45, 4, "2021", ()), (46, 2, "2019", ())]  # fmt: skip
OUTCOMES = ("granted", "partial", "denied", "unable", "not_processed", "other")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The store of the generated reports, and (body type, region, year, truth) of each."""
    folder = tmp_path_factory.mktemp("stats")
    made = []
    for seed, body, template, faults in MADE:
        agency, body_type, region = BODIES[body]
        report = make_report(seed, agency=agency, template=template, faults=faults)
        (folder / f"{seed}.txt").write_bytes(report.render("txt", "pipe_rows"))  # one layout read whole: the figures, not the layouts, are tested here
        made.append((body_type, region, str(report.truth["meta"]["year"]), report.truth))
    db = folder / "stats.duckdb"
    run_batch([folder], db, BatchOptions(progress=False))
    return db, made


def expected(made, by: str | None) -> dict[str, dict]:
    column = {"body_type": 0, "region": 1, "year": 2}
    groups = defaultdict(list)
    for entry in made:
        groups[entry[column[by]] if by else "全部"].append(entry[3])
    return {group: figures(truths) for group, truths in groups.items()}


def figures(truths: list[dict]) -> dict:
    def total(pick) -> int:
        return sum(v for t in truths for k, v in t["cells"].items() if v is not None and pick(k))

    handled = total(lambda k: k == "requests.total.total")
    decided = total(lambda k: k.startswith("appeals.") and k.rsplit(".", 1)[1] in ("upheld", "corrected", "other"))
    row = {
        "reports": len(truths),
        "with_errors": sum(bool(t["source_errors"]) for t in truths) / len(truths),
        "received": total(lambda k: k == "requests.new_received.total"),
        "handled": handled,
        "reviews": total(lambda k: k == "appeals.review.total"),
        "lawsuits": total(lambda k: k in ("appeals.suit_direct.total", "appeals.suit_after_review.total")),
        "corrected": total(lambda k: k.startswith("appeals.") and k.endswith(".corrected")) / decided if decided else None,
    }
    for outcome in OUTCOMES:  # every reason under an outcome, in the 总计 column
        share = total(lambda k, o=outcome: k.startswith(f"requests.{o}.") and k.endswith(".total"))
        row[outcome] = share / handled if handled else None
    return row


def same(got: dict[str, dict], want: dict[str, dict]) -> None:
    assert set(got) == set(want)
    for group, figures_wanted in want.items():
        for metric, value in figures_wanted.items():
            assert got[group][metric] == pytest.approx(value), (group, metric)


@pytest.mark.parametrize("by", [None, "year", "region", "body_type"])
def test_compute_stats_gives_the_truths_figures(corpus, by):
    db, made = corpus
    assert len({entry[0] for entry in made}) > 2 and len({entry[1] for entry in made}) > 2  # groups worth the name
    with Store(db, read_only=True) as store:
        rows = compute_stats(store.con, by)
    same({row["group"]: row for row in rows}, expected(made, by))


@pytest.mark.parametrize("by", ["region", "body_type"])
def test_the_stats_command_writes_the_same_figures(corpus, tmp_path, by):
    db, made = corpus
    out = tmp_path / f"{by}.csv"
    done = subprocess.run([sys.executable, "-m", "gongkai", "stats", "--db", str(db), "--by", by, "--csv", str(out)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    want = expected(made, by)
    assert all(group in done.stdout for group in want)
    with open(out, encoding="utf-8-sig", newline="") as fh:
        ids, *rows = list(csv.reader(fh))  # one header row: R, Stata and pandas read numbers
    got = {row[0]: {k: (float(v) if v else None) for k, v in zip(ids[1:], row[1:])} for row in rows}
    same(got, want)


def test_an_unknown_grouping_is_one_line(corpus):
    db, _ = corpus
    done = subprocess.run([sys.executable, "-m", "gongkai", "stats", "--db", str(db), "--by", "province"],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2 and "未知的分组" in done.stderr and "Traceback" not in done.stderr
