"""One definition per statistic: `gongkai stats`, the HTML report and the web corpus page show the
same shares for the same store, on a store where two definitions would part (a report whose
outcomes do not add up to its 办理结果总计, another with no 办理结果总计 at all)."""

from __future__ import annotations

import csv
import re

import pytest
from cli_helpers import fetch, gongkai, served, text
from corpus_helpers import hand_report

from gongkai.store.stats import OUTCOMES, share_text
from gongkai.web.storage import add_to_store

pytestmark = pytest.mark.slow

OUTCOME_ZH = {"granted": "予以公开", "partial": "部分公开", "denied": "不予公开", "unable": "无法提供", "not_processed": "不予处理", "other": "其他处理"}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    balanced = {"requests.total.total": 10, "requests.granted.total": 6, "requests.partial.total": 4}
    unbalanced = {"requests.total.total": 10, "requests.granted.total": 8, "requests.partial.total": 4}  # outcomes 12 ≠ 10
    no_total = {"requests.total.total": None, "requests.granted.total": 5}
    reports = [hand_report("a" * 64, "甲县人民政府", 2021, cells=balanced), hand_report("b" * 64, "乙县人民政府", 2021, cells=unbalanced),
               hand_report("c" * 64, "丙县人民政府", 2022, cells=no_total)]  # fmt: skip
    path = tmp_path_factory.mktemp("agree") / "corpus.duckdb"
    add_to_store(path, *reports)
    return path


def shares_in_html(html: str) -> dict[str, str]:
    """The outcome chart's printed share of each outcome (the bar's text in the SVG)."""
    chart = html[html.index("办理结果占比"):]
    return {name: re.search(rf">{zh}</text>.*?<text [^>]*>([0-9.]+%)", chart, re.S).group(1) for name, zh in OUTCOME_ZH.items()}


def test_cli_html_and_web_give_the_same_shares(db, tmp_path):
    table = tmp_path / "stats.csv"
    done = gongkai("stats", "--db", str(db), "--csv", str(table))
    assert done.returncode == 0, done.stderr
    with open(table, encoding="utf-8-sig", newline="") as handle:
        (row,) = list(csv.DictReader(handle))
    expected = {name: share_text(float(row[name])) for name in OUTCOMES}
    assert expected["granted"] == "70.0%"  # (6 + 8) of 办理结果总计 (10 + 10); the report without a total adds to neither
    terminal = text(done)[0]
    for name in OUTCOMES:
        assert re.search(rf"{OUTCOME_ZH[name]}\s*│\s*{re.escape(expected[name])}", terminal), (name, terminal)

    page = tmp_path / "audit.html"
    assert gongkai("report", "--db", str(db), "--html", str(page)).returncode == 0
    assert shares_in_html(page.read_text(encoding="utf-8")) == expected

    with served("--db", str(db), "--data-dir", str(tmp_path / "data")) as url:
        status, body, _ = fetch(url + "/corpus")
        assert status == 200
        assert shares_in_html(body.decode("utf-8")) == expected
        status, body, _ = fetch(url + "/corpus?year=2021")  # filtered: the same definition under the filter
        assert shares_in_html(body.decode("utf-8"))["granted"] == "70.0%"
