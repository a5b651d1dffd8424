"""Anomaly rules over a generated two-county, five-year corpus with planted anomalies and normal variation."""

import subprocess
import sys

import duckdb
import pytest

from gongkai.synth.anomalies import write_anomaly_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("anomalies")
    planted = write_anomaly_corpus(folder / "reports", seed=7)
    db = folder / "store.duckdb"
    subprocess.run([sys.executable, "-m", "gongkai", "batch", str(folder / "reports"), "--db", str(db)],
                   check=True, capture_output=True)  # fmt: skip
    con = duckdb.connect(str(db), read_only=True)
    found = con.execute("SELECT r.agency, r.year, f.rule, f.message, f.severity FROM findings f "
                        "JOIN reports r USING (sha256) WHERE f.rule LIKE 'anomaly.%'").fetchall()  # fmt: skip
    con.close()
    return planted, found, db


def test_every_planted_anomaly_is_found(corpus):
    planted, found, _ = corpus
    got = {(a, y, rule) for a, y, rule, _, _ in found}
    expected = {(e["agency"], e["year"], e["rule"]) for e in planted["expected"]}
    assert len(expected) >= 12
    assert expected <= got, sorted(expected - got)


def test_normal_years_are_rarely_flagged(corpus):
    planted, found, _ = corpus
    flagged = {(a, y) for a, y, *_ in found}
    normal = {(n["agency"], n["year"]) for n in planted["normal"]}
    assert len(normal) > 300
    assert len(normal & flagged) < len(normal) / 50, sorted(normal & flagged)


def test_anomalies_are_warnings_that_quote_the_comparison(corpus):
    _, found, _ = corpus
    assert {severity for *_, severity in found} == {"warning"}
    jumps = [m for _, _, rule, m, _ in found if rule == "anomaly.yoy_jump"]
    assert jumps and all("上年" in m and "倍" in m for m in jumps)
    peers = [m for _, _, rule, m, _ in found if rule == "anomaly.peer_outlier"]
    assert peers and all("中位数" in m and "家" in m for m in peers)


def test_corpus_page_and_audit_file_list_anomalies_apart_from_errors(corpus, tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from gongkai.export.html import write_html
    from gongkai.web.app import Settings, create_app

    planted, found, db = corpus
    message = next(m for a, y, rule, m, _ in found if rule == "anomaly.yoy_jump")
    page = TestClient(create_app(Settings(data_dir=tmp_path / "data", db=db))).get("/corpus").text
    audit = write_html(tmp_path / "audit.html", db=db).read_text(encoding="utf-8")
    for html in (page, audit):
        section = html[html.index("异常值（anomaly.*）"):html.index("报告列表")]
        assert message in section
        assert f"<b>{len(found)}</b>条异常值提示" in html
        assert "corpus.carry_continuity" not in section  # cross-year errors are listed apart


def test_rules_doc_is_written_from_the_catalog():
    from gongkai.rules.catalog import CATALOG
    from gongkai.rules.docs import PATH, rules_markdown
    from gongkai.store.anomalies import DEFAULTS

    text = rules_markdown()
    assert PATH.read_text(encoding="utf-8") == text, "docs/rules.md is stale: python -m gongkai.rules.docs"
    assert all(f"`{rule}`" in text for rule in CATALOG)
    assert all(f"| `{name}` | {t.value:g} | {t.reason} |" in text for name, t in DEFAULTS.items())


def test_coverage_counts_anomalies_apart_from_errors_and_warnings(corpus):
    """Without a roster every body seen is the roster: each report's anomaly hints are a column of their own."""
    import json

    _, found, db = corpus
    with duckdb.connect(str(db), read_only=True) as con:
        anomalies = dict(con.execute("SELECT sha256, count(*) FROM findings WHERE rule LIKE 'anomaly.%' GROUP BY ALL").fetchall())
        warnings = dict(con.execute("SELECT sha256, count(*) FILTER (severity = 'warning' AND rule NOT LIKE 'anomaly.%') "
                                    "FROM findings GROUP BY ALL").fetchall())  # fmt: skip
        years = [y for (y,) in con.execute("SELECT DISTINCT year FROM reports ORDER BY year").fetchall()]
    rows = []
    for year in years:
        done = subprocess.run([sys.executable, "-m", "gongkai", "coverage", "--db", str(db), "--year", str(year), "--json"],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        rows += [row for row in json.loads(done.stdout) if row["sha256"]]
    assert sum(row["anomalies"] for row in rows) == len(found)
    assert all(row["anomalies"] == anomalies.get(row["sha256"], 0) for row in rows)
    assert all(row["warnings"] == warnings.get(row["sha256"], 0) for row in rows)
