"""The corpus as a reviewer meets it in the web app (a real `gongkai serve`) and in the HTML report:
the files that failed listed, the whole corpus as Excel, a body's years side by side."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import pytest
from cli_helpers import fetch, gongkai, served
from test_web import make_store

from gongkai.store import Store
from gongkai.store.rows import failure_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.duckdb"
    make_store(path)  # 甲街道办事处 in 2021 and 2022 (carry-over broken), two other bodies
    with Store(path) as store:
        store.add([failure_rows("9" * 64, "/in/坏文件.pdf", "unreadable", "文件已损坏"),
                   failure_rows("8" * 64, "/in/慢文件.pdf", "limit", "超过时限 60 秒")])  # fmt: skip
        store.refresh()
    return path


def body_key(db) -> str:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT DISTINCT body_key FROM reports WHERE agency = '甲街道办事处'").fetchone()[0]


def test_the_web_app_lists_failures_serves_the_corpus_excel_and_a_body_over_its_years(db, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    key = body_key(db)
    with served("--db", str(db), "--data-dir", str(tmp_path / "data")) as url:
        status, body, _ = fetch(url + "/corpus")
        page = body.decode("utf-8")
        assert status == 200 and "无法读取的文件" in page and "2</b>个文件无法读取" in page
        assert "/in/坏文件.pdf" in page and "文件已损坏" in page and "超出时限或内存上限" in page
        assert 'href="/corpus.xlsx"' in page and f"/body?key={quote(key)}" in page

        status, data, headers = fetch(url + "/corpus.xlsx")
        assert status == 200 and headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "attachment" in headers["content-disposition"]
        book = openpyxl.load_workbook(io.BytesIO(data))
        assert book.sheetnames == ["报告", "发现", "2021年", "2022年", "无法解析", "说明"]
        assert book["报告"].max_row == 2 + 4 and book["无法解析"].max_row == 2 + 2

        status, body, _ = fetch(url + f"/body?key={quote(key)}")
        page = body.decode("utf-8")
        assert status == 200 and "甲街道办事处：各年度报告并排" in page
        assert page.index("2021年度") < page.index("2022年度")  # the years side by side, in order
        row = page[page.index('<tr data-cell="requests.carried_over.total">'):]
        row = row[: row.index("</tr>")]
        assert row.count("<td") == 3 and "cell-error" in row.split("<td")[3]  # the 2022 carry-over, marked
        assert "上年结转与2021年度报告的结转下年度不符" in page  # the cross-year finding under the table

        status, body, _ = fetch(url + "/reports/" + hashlib.sha256(b"b").hexdigest())  # 甲街道办事处 2022
        assert status == 200 and f"/body?key={quote(key)}" in body.decode("utf-8")
        status, body, _ = fetch(url + "/body?key=" + quote("没有这个机关"))
        assert status == 404 and "没有这个机关" in body.decode("utf-8")


def test_the_html_report_lists_the_files_that_failed(db, tmp_path):
    out = tmp_path / "audit.html"
    assert gongkai("report", "--db", str(db), "--html", str(out)).returncode == 0
    html = out.read_text(encoding="utf-8")
    assert "无法读取的文件" in html and "/in/坏文件.pdf" in html and "文件已损坏" in html and "gongkai batch … --retry-failed" in html
    assert "/body?key=" not in html  # no server behind a file: no body pages to link to
