"""Anomaly rules over a generated two-county, five-year corpus with planted anomalies and normal variation."""

import json
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
    return planted, found


def test_every_planted_anomaly_is_found(corpus):
    planted, found = corpus
    got = {(a, y, rule) for a, y, rule, _, _ in found}
    expected = {(e["agency"], e["year"], e["rule"]) for e in planted["expected"]}
    assert len(expected) >= 12
    assert expected <= got, sorted(expected - got)


def test_normal_years_are_rarely_flagged(corpus):
    planted, found = corpus
    flagged = {(a, y) for a, y, *_ in found}
    normal = {(n["agency"], n["year"]) for n in planted["normal"]}
    assert len(normal) > 300
    assert len(normal & flagged) < len(normal) / 50, sorted(normal & flagged)


def test_anomalies_are_warnings_that_quote_the_comparison(corpus):
    _, found = corpus
    assert {severity for *_, severity in found} == {"warning"}
    jumps = [m for _, _, rule, m, _ in found if rule == "anomaly.yoy_jump"]
    assert jumps and all("上年" in m and "倍" in m for m in jumps)
    peers = [m for _, _, rule, m, _ in found if rule == "anomaly.peer_outlier"]
    assert peers and all("中位数" in m and "家" in m for m in peers)
