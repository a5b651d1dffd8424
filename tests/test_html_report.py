"""The self-contained HTML audit report: same views as the web app, one file, nothing fetched."""

from __future__ import annotations

import re

from test_web import (
    EVIL,
    TEXT_REPORT,
    crafted_report,
    fake_parser,
    generated_faulty_report,
    make_store,
)
from typer.testing import CliRunner

from gongkai.cli import app as cli_app
from gongkai.export.html import html_for_reports, html_for_store, write_html

# anything that would make a browser go to the network: src/href/url()/@import pointing at http(s)
EXTERNAL = re.compile(r"""(?:src|href|action|xlink:href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""", re.IGNORECASE)


def assert_self_contained(html: str) -> None:
    assert not EXTERNAL.search(html), EXTERNAL.search(html).group(0)
    assert "<link" not in html and not re.search(r"<script[^>]+src=", html)
    assert "<style>" in html and "showProvenance" in html  # CSS and JS inline


def test_report_file_marks_cells_and_is_self_contained(tmp_path):
    source = tmp_path / "报告.txt"
    source.write_bytes(b"first line\n 4\n")
    out = write_html(tmp_path / "audit.html", files=[source], parse=fake_parser())
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert 'rowspan="22">三、本年度办理结果' in html and 'colspan="10">行政诉讼' in html
    assert 'data-cell="requests.total.total" class="cell-error suspect"' in html
    assert "勾稽关系不成立" in html
    # provenance without a server: the source lines are embedded
    assert 'class="source-lines">{"1": "first line", "2": " 4"}' in html


def test_malicious_agency_is_escaped_in_the_file():
    html = html_for_reports([crafted_report(b"e", agency=EVIL)])
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert_self_contained(html)


def test_store_file_has_the_corpus_views(tmp_path):
    db = tmp_path / "corpus.duckdb"
    make_store(db)
    html = html_for_store(db)
    assert_self_contained(html)
    assert "各年度新收申请数" in html and "<svg" in html and "问题最多的机关" in html and "跨年度核对" in html
    assert html.count('class="report-block"') == 4
    assert "&lt;script&gt;alert(" in html and "<script>alert" not in html


def test_report_command_writes_the_file(tmp_path):
    db = tmp_path / "corpus.duckdb"
    make_store(db)
    out = tmp_path / "out.html"
    result = CliRunner().invoke(cli_app, ["report", "--db", str(db), "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert_self_contained(out.read_text(encoding="utf-8"))
    result = CliRunner().invoke(cli_app, ["report", "--html", str(out)])
    assert result.exit_code == 2


def test_report_command_on_a_generated_faulty_report(tmp_path):
    source = tmp_path / "generated.txt"
    source.write_bytes(generated_faulty_report())
    out = tmp_path / "one.html"
    result = CliRunner().invoke(cli_app, ["report", str(source), "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "表二：收到和处理政府信息公开申请情况" in html


def test_real_text_report_renders(tmp_path):
    out = write_html(tmp_path / "plain.html", files=[_write(tmp_path / "r.txt", TEXT_REPORT)])
    assert_self_contained(out.read_text(encoding="utf-8"))


def _write(path, data):
    path.write_bytes(data)
    return path
