"""HTML: the article without the page around it, paragraphs in order, grids with their spans."""

from __future__ import annotations

import pytest
from conftest import SHARED, shared_path

from gongkai.document import Grid, Paragraph
from gongkai.errors import UnreadableError
from gongkai.read import html

PAGE = """<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>某县人民政府2022年政府信息公开工作年度报告_某县人民政府网</title>
<script>var x = "<p>脚本里的文字</p>";</script><style>p {color: red}</style></head>
<body><form id="form1" action="x.aspx">
<div class="header"><a href="/">首页</a> 某县人民政府门户网站欢迎您</div>
<div class="nav"><ul><li><a href="#">政务公开</a></li><li><a href="#">政务服务</a></li></ul></div>
<div class="position">当前位置：首页 &gt; 政府信息公开 &gt; 年度报告</div>
<div class="main">
 <div class="sidebar"><h3>相关链接</h3><ul><li><a href="a.html">某县人民政府2021年政府信息公开工作年度报告</a></li></ul></div>
 <div id="zoom" class="content">
  <h1>某县人民政府2022年政府信息公开工作年度报告</h1>
  <p>&nbsp;&nbsp;本报告依据《条例》编制。<br/>第二行文字。<br><br>空行之后。</p>
  <p>一、总体情况</p>
  <div>2022年，我县<span>认真</span>贯彻落实<b>条例</b>。</div>
  <p>二、主动公开政府信息情况</p>
  <table border="1">
   <tr><td colspan="4">第二十条第（一）项</td></tr>
   <tr><td>信息内容</td><td>本年制发件数<br/>（件）</td><td>本年废止件数</td><td>现行有效件数</td></tr>
   <tr><td>规章</td><td>&nbsp;0&nbsp;</td><td><p>1</p><p>2</p></td><td>3</td></tr>
  </table>
  <p>三、收到和处理政府信息公开申请情况</p>
  <table>
   <tr><td rowspan="2" colspan="2">（本列数据的勾稽关系）</td><td colspan="2">申请人情况</td></tr>
   <tr><td>自然人</td><td>总计</td></tr>
   <tr><td rowspan="2">三、本年度办理结果</td><td>（一）予以公开</td><td>5</td><td>5</td></tr>
   <tr><td>（二）部分公开</td><td>1</td><td><table><tr><td>内1</td><td>内2</td></tr><tr><td>内3</td></tr></table></td></tr>
  </table>
  <div class="share">分享到：微信 微博</div>
 </div>
</div>
<div class="footer">主办单位：某县人民政府办公室 版权所有 网站标识码1234</div>
<button>打印本页</button><select><option>友情链接</option></select>
</form></body></html>"""


def _paragraphs(doc):
    return [b.text for b in doc.blocks if isinstance(b, Paragraph)]


def _cells(grid: Grid):
    return {(c.row, c.col): (c.text, c.rowspan, c.colspan) for c in grid.cells}


@pytest.fixture(scope="module")
def page():
    return html.read(PAGE.encode("gb18030"))


def test_gbk_meta_charset_is_honoured(page):
    assert "某县人民政府2022年政府信息公开工作年度报告" in _paragraphs(page)


def test_page_chrome_is_dropped_and_the_article_kept(page):
    text = page.text()
    for chrome in ("脚本里的文字", "首页", "政务服务", "当前位置", "相关链接", "2021年", "分享到", "版权所有", "打印本页", "友情链接"):
        assert chrome not in text, chrome
    assert _paragraphs(page) == [
        "某县人民政府2022年政府信息公开工作年度报告",
        "本报告依据《条例》编制。",
        "第二行文字。",
        "",  # <br><br> is a blank line
        "空行之后。",
        "一、总体情况",
        "2022年，我县认真贯彻落实条例。",
        "二、主动公开政府信息情况",
        "三、收到和处理政府信息公开申请情况",
    ]


def test_blocks_come_in_reading_order_with_source_lines(page):
    kinds = [type(b).__name__ for b in page.blocks]
    assert kinds == ["Paragraph"] * 8 + ["Grid", "Paragraph", "Grid"]
    assert page.blocks[0].where.line == 12
    assert page.blocks[5].where.line == 14  # 一、总体情况
    assert page.blocks[8].where.line == 17 and page.blocks[8].where.table == 0


def test_colspan_br_and_paragraphs_inside_cells(page):
    grid = page.grids[0]
    cells = _cells(grid)
    assert cells[(0, 0)] == ("第二十条第（一）项", 1, 4)
    assert cells[(1, 1)] == ("本年制发件数\n（件）", 1, 1)
    assert cells[(2, 1)] == ("0", 1, 1)  # &nbsp; around the value is stripped
    assert cells[(2, 2)] == ("1\n2", 1, 1)
    assert (grid.n_rows, grid.n_cols) == (3, 4)
    cell = next(c for c in grid.cells if (c.row, c.col) == (2, 3))
    assert (cell.where.table, cell.where.row, cell.where.col, cell.where.line) == (0, 2, 3, 20)


def test_rowspan_and_colspan_place_cells_by_occupancy(page):
    grid = page.grids[1]
    assert _cells(grid) == {
        (0, 0): ("（本列数据的勾稽关系）", 2, 2),
        (0, 2): ("申请人情况", 1, 2),
        (1, 2): ("自然人", 1, 1),
        (1, 3): ("总计", 1, 1),
        (2, 0): ("三、本年度办理结果", 2, 1),
        (2, 1): ("（一）予以公开", 1, 1),
        (2, 2): ("5", 1, 1),
        (2, 3): ("5", 1, 1),
        (3, 1): ("（二）部分公开", 1, 1),
        (3, 2): ("1", 1, 1),
        (3, 3): ("内1\t内2\n内3", 1, 1),  # a nested table is flattened into its cell
    }
    assert grid.where.table == 1


def test_utf8_page_with_traditional_characters_and_no_meta():
    doc = html.read("<p>政府信息公開工作年度報告</p><p>一、總體情況</p>".encode())
    assert _paragraphs(doc) == ["政府信息公開工作年度報告", "一、總體情況"]


def test_a_page_wrongly_declaring_gbk_but_written_in_utf8():
    doc = html.read('<meta charset="gbk"><p>二、主动公开政府信息情况</p>'.encode())
    assert _paragraphs(doc) == ["二、主动公开政府信息情况"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig", "big5"])
def test_other_encodings(encoding):
    page = '<html><head><meta charset="big5"></head><body><p>一、總體情況</p><table><tr><td>規章</td><td>3</td></tr></table></body></html>'
    doc = html.read(page.encode(encoding))
    assert _paragraphs(doc) == ["一、總體情況"]
    assert [c.text for c in doc.grids[0].cells] == ["規章", "3"]


def test_a_layout_table_around_the_article_is_walked_not_gridded():
    page = """<table width="100%"><tr><td>网站导航</td></tr><tr><td>
    <p>某局2023年政府信息公开工作年度报告</p>
    <p>一、总体情况</p><p>""" + "本局认真贯彻落实条例，" * 30 + """</p>
    <table><tr><td>信息内容</td><td>本年制发件数</td></tr><tr><td>规章</td><td>0</td></tr></table>
    </td></tr></table>"""
    doc = html.read(page.encode())
    assert len(doc.grids) == 1
    assert _cells(doc.grids[0])[(1, 0)] == ("规章", 1, 1)
    assert "一、总体情况" in _paragraphs(doc)


def test_rowspan_past_the_end_and_zero_are_clamped_to_the_table():
    doc = html.read(b"<table><tr><td rowspan=9>a</td><td rowspan=0>b</td><td>c</td></tr><tr><td>d</td></tr></table>")
    assert _cells(doc.grids[0]) == {(0, 0): ("a", 2, 1), (0, 1): ("b", 2, 1), (0, 2): ("c", 1, 1), (1, 2): ("d", 1, 1)}


def test_deep_nesting_does_not_crash_and_is_noted():
    doc = html.read(b"<html><body>" + b"<div>" * 50_000 + "深处".encode() + b"</div>" * 50_000 + b"</body></html>")
    assert any("过深" in note for note in doc.notes)


def test_a_table_with_absurd_spans_is_unreadable():
    rows = "<tr><td colspan=1000 rowspan=5000>x</td></tr>" * 3000
    with pytest.raises(UnreadableError, match="表格过大"):
        html.read(f"<table>{rows}</table>".encode())


def test_the_page_title_is_kept_when_the_article_lacks_it():
    page = "<html><head><title>某镇2020年政府信息公开工作年度报告-某镇网</title></head><body><p>一、总体情况</p></body></html>"
    assert _paragraphs(html.read(page.encode())) == ["某镇2020年政府信息公开工作年度报告-某镇网", "一、总体情况"]


def test_a_word_single_file_web_page_is_unwrapped():
    mime = (
        b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b1\"\r\n\r\n--b1\r\n"
        b"Content-Type: text/html; charset=\"gb2312\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    ) + __import__("base64").encodebytes("<html><body><p>一、总体情况</p></body></html>".encode("gbk")) + b"\r\n--b1--\r\n"
    assert _paragraphs(html.read(mime)) == ["一、总体情况"]


def _corpus_pages():
    folder = SHARED / "corpus"
    return sorted(p.name for p in folder.glob("*.html")) if folder.exists() else ["missing"]


@pytest.mark.parametrize("name", _corpus_pages())
def test_every_real_html_report_reads(name):
    doc = html.read(shared_path("corpus", name).read_bytes())
    assert doc.blocks and doc.grids


def test_shanghai_2019_gives_three_grids_with_the_rowspan_20_label():
    doc = html.read(shared_path("corpus", "01_sh_szfbgt_2019.html").read_bytes())
    assert len(doc.grids) == 3
    requests = doc.grids[1]
    result = next(c for c in requests.cells if c.text == "三、本年度办理结果")
    assert (result.row, result.col, result.rowspan, result.colspan) == (5, 0, 20, 1)
    assert (requests.n_rows, requests.n_cols) == (26, 10)
    header = next(c for c in doc.grids[0].cells if c.text.startswith("本年新") and c.col == 1)
    assert header.text == "本年新\n制作数量"
    assert "一、总体情况" in [b.text for b in doc.blocks if isinstance(b, Paragraph)]
