"""docx: paragraphs in order, tables with their merges as python-docx writes them."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest

from gongkai.document import Grid, Paragraph
from gongkai.errors import UnreadableError
from gongkai.read import docx as reader

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _save(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _cells(grid: Grid):
    return {(c.row, c.col): (c.text, c.rowspan, c.colspan) for c in grid.cells}


@pytest.fixture(scope="module")
def report():
    d = docx.Document()
    d.add_paragraph("某县2022年政府信息公开工作年度报告")
    p = d.add_paragraph("第一行")
    p.add_run().add_break()
    p.add_run("第二行\t制表")
    d.add_paragraph("")
    t = d.add_table(rows=4, cols=4)
    for i, row in enumerate(t.rows):
        for j, cell in enumerate(row.cells):
            cell.text = f"{i}{j}"
    t.cell(0, 0).merge(t.cell(0, 1)).text = "横向合并"
    t.cell(1, 0).merge(t.cell(3, 0)).text = "纵向合并"
    t.cell(1, 2).merge(t.cell(2, 3)).text = "块"
    inner = t.cell(3, 3).add_table(rows=2, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text, inner.cell(1, 0).text = "内1", "内2", "内3"
    d.add_paragraph("表后文字")
    d.add_table(rows=1, cols=2).rows[0].cells[1].text = "第二张表"
    return reader.read(_save(d))


def test_paragraphs_with_breaks_tabs_and_blank_lines(report):
    paragraphs = [(b.text, b.where.line) for b in report.blocks if isinstance(b, Paragraph)]
    assert paragraphs == [
        ("某县2022年政府信息公开工作年度报告", 1),
        ("第一行", 2),
        ("第二行\t制表", 2),  # a w:br splits the paragraph; both halves keep its index
        ("", 3),
        ("表后文字", 4),
    ]
    assert [type(b).__name__ for b in report.blocks] == ["Paragraph"] * 4 + ["Grid", "Paragraph", "Grid"]


def test_horizontal_vertical_and_block_merges(report):
    assert _cells(report.grids[0]) == {
        (0, 0): ("横向合并", 1, 2),
        (0, 2): ("02", 1, 1),
        (0, 3): ("03", 1, 1),
        (1, 0): ("纵向合并", 3, 1),
        (1, 1): ("11", 1, 1),
        (1, 2): ("块", 2, 2),
        (2, 1): ("21", 1, 1),
        (3, 1): ("31", 1, 1),
        (3, 2): ("32", 1, 1),
        (3, 3): ("33\n内1\t内2\n内3", 1, 1),  # the nested table flattened into its cell
    }
    cell = next(c for c in report.grids[0].cells if c.text == "块")
    assert (cell.where.table, cell.where.row, cell.where.col) == (0, 1, 2)


def test_grids_are_numbered_in_order(report):
    assert [g.where.table for g in report.grids] == [0, 1]
    assert _cells(report.grids[1]) == {(0, 0): ("", 1, 1), (0, 1): ("第二张表", 1, 1)}


def _docx_with_body(body_xml: str) -> bytes:
    base = docx.Document()
    data = _save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "word/document.xml":
                content = f'<w:document xmlns:w="{W}"><w:body>{body_xml}</w:body></w:document>'.encode()
            dst.writestr(info, content)
    return out.getvalue()


def _p(text: str) -> str:
    return f"<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>"


def _tc(text: str, props: str = "") -> str:
    return f"<w:tc><w:tcPr>{props}</w:tcPr>{_p(text)}</w:tc>"


def test_grid_before_content_controls_and_revisions():
    body = (
        "<w:sdt><w:sdtPr/><w:sdtContent>" + _p("控件里的标题") + "</w:sdtContent></w:sdt>"
        "<w:p><w:ins><w:r><w:t>新增</w:t></w:r></w:ins><w:del><w:r><w:delText>删除</w:delText></w:r></w:del>"
        "<w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:tab/><w:t>尾</w:t></w:r></w:p>"
        "<w:tbl>"
        "<w:tr>" + _tc("表头", '<w:gridSpan w:val="3"/>') + "</w:tr>"
        "<w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>" + _tc("甲", '<w:vMerge w:val="restart"/>') + _tc("乙") + "</w:tr>"
        "<w:tr><w:trPr><w:gridBefore w:val=\"1\"/></w:trPr>" + _tc("", "<w:vMerge/>") + _tc("丙") + "</w:tr>"
        "<w:sdt><w:sdtContent><w:tr>" + _tc("控件行") + "<w:sdt><w:sdtContent>" + _tc("控件格") + "</w:sdtContent></w:sdt></w:tr></w:sdtContent></w:sdt>"
        "</w:tbl>"
    )
    doc = reader.read(_docx_with_body(body))
    assert [(b.text, b.where.line) for b in doc.blocks if isinstance(b, Paragraph)] == [("控件里的标题", 1), ("新增\t尾", 2)]
    assert _cells(doc.grids[0]) == {
        (0, 0): ("表头", 1, 3),
        (1, 1): ("甲", 2, 1),
        (1, 2): ("乙", 1, 1),
        (2, 2): ("丙", 1, 1),
        (3, 0): ("控件行", 1, 1),
        (3, 1): ("控件格", 1, 1),
    }


def test_a_zip_bomb_is_refused():
    huge = f'<w:document xmlns:w="{W}"><w:body>'.encode() + b" " * (70 * 1024 * 1024) + b"</w:body></w:document>"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", huge)
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(UnreadableError, match="超出解压大小上限"):
        reader.read(out.getvalue())


def test_a_lying_zip_header_is_caught_by_the_bounded_read(monkeypatch):
    monkeypatch.setattr(reader, "MAX_PART_BYTES", 1000)
    data = _docx_with_body(_p("正文" * 1000))
    with pytest.raises(UnreadableError, match="超出解压大小上限"):
        reader.read(data)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"PK\x03\x04 not really a zip", "损坏"),
        (b"", "损坏"),
        (None, "缺少正文"),
    ],
    ids=["corrupt", "empty", "no-document-part"],
)
def test_broken_archives_are_unreadable(data, reason):
    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("hello.txt", "x")
        data = out.getvalue()
    with pytest.raises(UnreadableError, match=reason):
        reader.read(data)


def test_broken_xml_and_dtds_are_unreadable():
    for body, reason in (("<w:p>", "XML 已损坏"),):
        with pytest.raises(UnreadableError, match=reason):
            reader.read(_docx_with_body(body))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", '<!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>')
    with pytest.raises(UnreadableError, match="DTD"):
        reader.read(out.getvalue())


# the fast path (lxml's iteration over text tags) against the general walk ------------------------

MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _alt_chunks(data: bytes) -> tuple[int, int]:
    """altChunks the body holds, as the fast walk and the general walk count them."""
    root = reader._parse(reader._document_xml(data))
    counts = []
    for fast in (True, False):
        body = reader._Body(fast=fast)
        body.walk(root.find(f"{{{W}}}body"))
        counts.append(body.alt_chunks)
    return tuple(counts)


def _both(data: bytes):
    """The Document of `read`, and the one the general walk gives for every paragraph."""
    root = reader._parse(reader._document_xml(data))
    body = reader._Body(fast=False)
    general = reader.Document(body.walk(root.find(f"{{{W}}}body")), "docx")
    if body.alt_chunks:  # what `read` says of content it cannot reach, whichever walk counted it
        general.notes, general.partial = reader.read(data).notes, True
    return reader.read(data), general


def test_the_fast_path_reads_what_the_general_walk_reads_on_tricky_paragraphs():
    textbox = (
        f'<w:r><mc:AlternateContent xmlns:mc="{MC}"><mc:Choice Requires="wps"><w:drawing><w:txbxContent>'
        + _p("框内文字")
        + "</w:txbxContent></w:drawing></mc:Choice>"
        "<mc:Fallback><w:pict><w:txbxContent>" + _p("备用副本") + "</w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    )
    body = (
        # tab stops in the paragraph's properties are not tabs of its text
        '<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>甲</w:t><w:tab/><w:t>乙</w:t></w:r></w:p>'
        "<w:p><w:r><w:t>前</w:t></w:r>" + textbox + "<w:r><w:t>后</w:t></w:r></w:p>"
        "<w:p><w:del><w:r><w:t>删掉的</w:t></w:r></w:del><w:moveFrom><w:r><w:t>移走的</w:t></w:r></w:moveFrom><w:r><w:t>留下</w:t></w:r></w:p>"
        "<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>正文</w:t><w:noBreakHyphen/><w:sym w:char=\"F0B7\"/><w:cr/><w:t>下一行</w:t></w:r></w:p>"
        "<w:p><w:hyperlink><w:r><w:t>链接</w:t></w:r></w:hyperlink><w:fldSimple><w:r><w:t>域结果</w:t></w:r></w:fldSimple>"
        "<w:r><w:instrText>PAGE</w:instrText></w:r><w:r><w:br/></w:r><w:ins><w:r><w:t>插入</w:t></w:r></w:ins></w:p>"
        "<w:tbl><w:tr>" + _tc("格", '<w:gridSpan w:val="2"/>') + "<w:tc><w:p><w:del><w:r><w:t>删</w:t></w:r></w:del><w:r><w:t>留</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    )
    fast, general = _both(_docx_with_body(body + "<w:altChunk/>"))
    assert fast == general
    assert _alt_chunks(_docx_with_body(body + "<w:altChunk/><w:sdt><w:sdtContent><w:altChunk/></w:sdtContent></w:sdt>")) == (2, 2)
    assert [b.text for b in fast.blocks if isinstance(b, Paragraph)] == [
        "甲\t乙", "前", "框内文字", "后", "留下", "正文-·", "下一行", "链接域结果", "插入",
    ]  # fmt: skip
    assert _cells(fast.grids[0]) == {(0, 0): ("格", 1, 2), (0, 2): ("留", 1, 1)}


def test_the_fast_path_reads_generated_reports_as_the_general_walk_does():
    from gongkai.synth.corpus import plan

    reports = [plan(index, 31, "random") for index in range(24)]  # both templates, random faults
    assert {syn.template for syn in reports} == {"2019", "2021"}
    for syn in reports:
        fast, general = _both(syn.render("docx"))
        assert fast == general
        assert fast.grids and sum(len(g.cells) for g in fast.grids) > 100
