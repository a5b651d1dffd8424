"""Markdown: pipe tables become grids as printed; everything else stays a line."""

from __future__ import annotations

from conftest import shared_path

from gongkai.document import Grid, Paragraph
from gongkai.read import markdown

MD = """# 某委2024年政府信息公开工作年度报告

## 二、主动公开政府信息情况
| 信息内容 | 本年制发件数 | 本年废止件数 |
|---|:---:|---|
| 规章 | 0 | **1** |
|  规范性文件|13|  |
段落\t带制表符
| 0 | 0 |
|---|---|
|---|---|
| a \\| b | c<br>d |
"""


def _rows(grid: Grid):
    return [[c.text for c in row] for row in grid.rows()]


def test_pipe_tables_become_grids_and_lines_keep_their_numbers():
    doc = markdown.read(MD.encode("utf-8"))
    assert doc.format == "md"
    kinds = [(type(b).__name__, b.where.line) for b in doc.blocks]
    assert kinds == [("Paragraph", 1), ("Paragraph", 2), ("Paragraph", 3), ("Grid", 4), ("Paragraph", 8), ("Grid", 9)]
    assert [b.text for b in doc.blocks if isinstance(b, Paragraph)] == [
        "某委2024年政府信息公开工作年度报告",
        "",
        "二、主动公开政府信息情况",
        "段落\t带制表符",
    ]
    first, second = doc.grids
    assert _rows(first) == [["信息内容", "本年制发件数", "本年废止件数"], ["规章", "0", "1"], ["规范性文件", "13", ""]]
    assert _rows(second) == [["0", "0"], ["a | b", "c\nd"]]  # repeated separators skipped
    cell = first.rows()[2][1]
    assert (cell.where.line, cell.where.table, cell.where.row, cell.where.col) == (7, 0, 2, 1)
    assert second.rows()[1][0].where.line == 12 and second.where.table == 1
    assert all(c.rowspan == 1 and c.colspan == 1 for c in first.cells)


def test_an_html_table_inside_markdown_keeps_its_spans():
    doc = markdown.read("说明\n<table><tr><td rowspan=2>甲</td><td>乙</td></tr>\n<tr><td>丙</td></tr></table>\n| x |".encode())
    html_grid, pipe_grid = doc.grids
    assert {(c.row, c.col): (c.text, c.rowspan) for c in html_grid.cells} == {(0, 0): ("甲", 2), (0, 1): ("乙", 1), (1, 1): ("丙", 1)}
    assert html_grid.cells[2].where.line == 3
    assert (pipe_grid.where.table, pipe_grid.where.line) == (1, 4)


def test_gbk_markdown():
    doc = markdown.read("| 规章 | 5 |\n".encode("gbk"))
    assert _rows(doc.grids[0]) == [["规章", "5"]]


def test_the_broken_kewei_report_is_reported_as_printed():
    doc = markdown.read(shared_path("corpus", "13_sh_kewei_2024.md").read_bytes())
    assert len(doc.grids) >= 3
    active = doc.grids[0]
    assert _rows(active)[0] == ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"]
    assert _rows(active)[2] == ["规范性文件", "13", "0", "55"]
    requests = doc.grids[1]
    assert _rows(requests)[0] == ["业", "构", "益组织", "务机构", "", "", "", "", ""]  # broken header kept as is
    assert ["三、", "（一）予以公开", "9", "0", "0", "0", "0", "0", "9"] in _rows(requests)
    assert ["0", "0", "0", "0", "0", "0", "0"] in _rows(requests)  # an unlabeled value row
    lines = [b.text for b in doc.blocks if isinstance(b, Paragraph)]
    assert "一、总体情况" in lines
