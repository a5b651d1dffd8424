"""The output contract (spec/output.md): keys, nulls, schema, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import gongkai
from gongkai.cells import cell_ids
from gongkai.report import json_schema

ROOT = Path(__file__).resolve().parent.parent
GK = [sys.executable, "-m", "gongkai.cli"]


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GK, *args], capture_output=True, input=stdin, timeout=120, cwd=ROOT)


def test_schema_file_is_current() -> None:
    assert (ROOT / "docs" / "schema.json").read_text(encoding="utf-8") == json_schema()


def test_every_cell_of_the_template_is_a_key_and_blanks_are_null(tmp_path: Path) -> None:
    text = "某某局2021年政府信息公开工作年度报告\n二、主动公开政府信息情况\n第二十条第（一）项\n信息内容\t本年制发件数\t本年废止件数\t现行有效件数\n规章\t1\t\t3\n"
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    report = gongkai.parse(path)
    assert report.meta.template == "2021"
    assert list(report.cells) == list(cell_ids("2021"))
    assert report.cells["active.rules.issued"] == 1
    assert report.cells["active.rules.repealed"] is None  # printed blank: null, never 0
    assert report.cells["active.rules.in_force"] == 3
    assert report.provenance["active.rules.in_force"].line == 5
    blank = [f for f in report.findings if f.rule == "structure.cells_missing" and "active.rules.repealed" in f.cells]
    assert blank and blank[0].origin == "source"


def test_parse_json_and_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("某某县人民政府2022年政府信息公开工作年度报告\n一、总体情况\n", encoding="utf-8")
    done = run("parse", str(good), "--json")
    assert done.returncode == 0
    data = json.loads(done.stdout)
    assert data["schema"] == "gongkai.report/1"
    assert data["meta"]["year"] == 2022 and data["meta"]["body_type"] == "government"
    missing = run("parse", str(tmp_path / "nope.pdf"), "--json")
    assert missing.returncode == 2
    assert missing.stderr.decode().count("\n") == 1 and "Traceback" not in missing.stderr.decode()
    noise = tmp_path / "noise.docx"
    noise.write_bytes(bytes(range(256)) * 20)
    bad = run("parse", str(noise), "--jsonl")
    assert bad.returncode == 2 and "noise.docx" in bad.stderr.decode() and "Traceback" not in bad.stderr.decode()


def test_check_exit_code_follows_errors(tmp_path: Path) -> None:
    text = (
        "某某街道办事处2021年政府信息公开工作年度报告\n三、收到和处理政府信息公开申请情况\n"
        "一、本年新收政府信息公开申请数量\t2\t0\t0\t0\t0\t0\t2\n"
        "二、上年结转政府信息公开申请数量\t0\t0\t0\t0\t0\t0\t0\n"
    )
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    done = run("check", str(path))
    assert done.returncode == 1  # sections and tables are missing: errors
    assert "错误" in done.stdout.decode()


def test_deadlines_can_be_set_per_province(tmp_path: Path, monkeypatch) -> None:
    from gongkai.rules import document

    config = tmp_path / "deadlines.json"
    config.write_text('{"default": {"township": "02-20"}, "湖南省": {"township": "03-10"}}', encoding="utf-8")
    monkeypatch.setenv("GONGKAI_DEADLINES", str(config))
    document._deadline_overrides.cache_clear()
    try:
        assert document.deadline_for("township", "湖南省长沙市") == (3, 10)
        assert document.deadline_for("township", "河北省保定市") == (2, 20)
        assert document.deadline_for("department", "湖南省长沙市") == (1, 31)
        assert document.deadline_for("government", None) == (3, 31)
    finally:
        document._deadline_overrides.cache_clear()
