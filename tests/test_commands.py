"""Commands as a user runs them (a real `gongkai` process): eval, schema, batch --retry-failed, batch --aliases."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from gongkai.pipeline import parse
from gongkai.store import Store
from gongkai.synth import make_report
from gongkai.synth.agency import Agency

SAMPLES = ROOT / "samples"


def gongkai(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gongkai", *args], capture_output=True, text=True, timeout=timeout)


def truths(folder: Path) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((folder / "truth").glob("*.json"))]


# ── gongkai eval ─────────────────────────────────────────────────────────────────────────


def test_eval_of_the_samples_counts_every_truth_cell_and_passes():
    done = gongkai("eval", str(SAMPLES))
    assert done.returncode == 0, done.stdout + done.stderr
    cells = sum(len(t["cells"]) for t in truths(SAMPLES))
    errors = sum(len(t.get("source_errors", [])) for t in truths(SAMPLES))
    assert f"单元格 {cells}：" in done.stdout and "正确或已标记 100.0%，静默错误 0" in done.stdout
    assert f"元数据正确 {4 * len(truths(SAMPLES))}/{4 * len(truths(SAMPLES))}" in done.stdout
    assert f"源错误检出 {errors}/{errors}；误报错误 0" in done.stdout


def test_eval_names_a_cell_that_is_wrong_and_not_flagged(tmp_path):
    """One truth cell changed by hand: the parse now disagrees with it and no finding names it."""
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    path = folder / "truth" / "00001_township_2024_chrome.json"
    truth = json.loads(path.read_text(encoding="utf-8"))
    truth["cells"]["requests.new_received.total"] += 1
    path.write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    done = gongkai("eval", str(folder), "--verbose")
    assert done.returncode == 1
    assert "静默错误 1" in done.stdout
    assert re.search(r"00001_township_2024_chrome\.html silent: requests\.new_received\.total", done.stdout), done.stdout


def test_eval_markdown_has_a_row_per_truth_file():
    done = gongkai("eval", str(SAMPLES), "--markdown")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| 0")]
    assert sorted(r.split(" | ")[0][2:] for r in rows) == sorted(t["file"] for t in truths(SAMPLES))
    assert "**silent wrong 0**" in done.stdout


# ── gongkai schema ───────────────────────────────────────────────────────────────────────


def test_schema_is_the_documented_one_and_describes_a_parsed_report():
    done = gongkai("schema")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (ROOT / "docs" / "schema.json").read_text(encoding="utf-8")
    schema = json.loads(done.stdout)
    report = json.loads(parse(next(SAMPLES.glob("*.txt"))).to_json())
    assert set(schema["required"]) <= set(report) <= set(schema["properties"])
    assert schema["properties"]["schema"]["default"] == report["schema"]


# ── gongkai batch --retry-failed ─────────────────────────────────────────────────────────


def store_rows(db: Path) -> tuple[set[str], dict[str, str]]:
    with Store(db, read_only=True) as store:
        reports = {Path(p).name for (p,) in store.con.execute("SELECT path FROM reports").fetchall()}
        failures = {Path(p).name: kind for p, kind in store.con.execute("SELECT path, kind FROM failures").fetchall()}
    return reports, failures


def test_retry_failed_parses_again_only_what_failed(tmp_path):
    """A report 1,000 times over fails under a 32 MB cap; a rerun skips it, --retry-failed with room parses it."""
    folder = tmp_path / "in"
    folder.mkdir()
    for seed in (1, 2):
        (folder / f"r{seed}.txt").write_bytes(make_report(seed).render("txt"))
    (folder / "long.txt").write_bytes(make_report(3).render("txt") * 1000)
    db = tmp_path / "s.duckdb"
    first = gongkai("batch", str(folder), "--db", str(db), "--memory-mb", "32")
    assert first.returncode == 0, first.stderr
    assert store_rows(db) == ({"r1.txt", "r2.txt"}, {"long.txt": "limit"})
    again = gongkai("batch", str(folder), "--db", str(db))
    assert again.returncode == 0 and store_rows(db) == ({"r1.txt", "r2.txt"}, {"long.txt": "limit"})
    retried = gongkai("batch", str(folder), "--db", str(db), "--retry-failed")
    assert retried.returncode == 0, retried.stderr
    assert store_rows(db) == ({"r1.txt", "r2.txt", "long.txt"}, {})
    assert re.search(r"已在库中，重新解析\s*│\s*1\b", retried.stdout), retried.stdout


# ── gongkai batch --aliases ──────────────────────────────────────────────────────────────


def test_aliases_from_the_command_line_make_one_body_of_two_names(tmp_path):
    """A township renamed between two years: only the aliases file says the two names are one body."""
    old = Agency("湖南省长沙市岳麓区莲花镇人民政府", "township", "湖南省", "湖南省长沙市岳麓区", "我镇")
    new = Agency("湖南省长沙市岳麓区莲华乡人民政府", "township", "湖南省", "湖南省长沙市岳麓区", "我乡")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2021.txt").write_bytes(make_report(51, agency=old, year=2021).render("txt"))
    (folder / "2022.txt").write_bytes(make_report(52, agency=new, year=2022).render("txt"))
    aliases = tmp_path / "aliases.tsv"
    aliases.write_text(f"# 更名\n{new.name}\t{old.name}\n", encoding="utf-8")

    def keys(db: Path) -> dict[str, str]:
        with Store(db, read_only=True) as store:
            return dict(store.con.execute("SELECT agency, body_key FROM reports").fetchall())

    plain = gongkai("batch", str(folder), "--db", str(tmp_path / "plain.duckdb"))
    assert plain.returncode == 0, plain.stderr
    apart = keys(tmp_path / "plain.duckdb")
    assert set(apart) == {old.name, new.name} and len(set(apart.values())) == 2
    linked = gongkai("batch", str(folder), "--db", str(tmp_path / "linked.duckdb"), "--aliases", str(aliases))
    assert linked.returncode == 0, linked.stderr
    together = keys(tmp_path / "linked.duckdb")
    assert set(together) == {old.name, new.name} and len(set(together.values())) == 1


def test_a_missing_aliases_file_is_one_line(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.txt").write_bytes(make_report(1).render("txt"))
    done = gongkai("batch", str(tmp_path / "in"), "--db", str(tmp_path / "s.duckdb"), "--aliases", str(tmp_path / "none.tsv"))
    assert done.returncode == 2, done.stdout[-500:]
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "别名文件" in done.stderr, done.stderr
    assert not (tmp_path / "s.duckdb").exists()  # refused before a store is made
