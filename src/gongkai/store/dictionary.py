"""The data dictionary: a comment in Chinese and English on every table, view and column of the store.

The comments are written into the DuckDB file (`COMMENT ON`), so a researcher reads them where the
data is (`SELECT * FROM duckdb_columns() WHERE comment IS NOT NULL`), and docs/data.md is generated
from them (`python -m gongkai.store.docs`). A comment costs DuckDB about a millisecond, so they are
written where a store is finished rather than each time one is opened: at the end of `gongkai batch`,
by `gongkai panel`, and only those missing or changed.
"""

from __future__ import annotations

from functools import cache

from gongkai.cells import all_cells, label, unit

# the corpus tables of spec/output.md and the store's bookkeeping: table → comment
TABLE_COMMENTS = {
    "reports": "报告：每个解析成功的文件一行（单元格为解析值；人工更正见 current_cells） / reports: one row per file parsed "
               "(cells as parsed; corrections in current_cells)",
    "findings": "发现：每份报告每条规则发现一行，含跨年核验 / findings: one row per rule finding of a report, cross-year checks included",
    "failures": "无法解析的文件及原因 / files that could not be parsed, and why",
    "inputs": "输入文件：路径、大小、修改时间与 SHA-256（续跑时据此跳过未变的文件） / input files: path, size, mtime and sha256 "
              "(a rerun skips unchanged files)",
    "loaded_shards": "已装入的分片（中断后续跑不重复装入） / shards loaded (a resumed run loads none twice)",
    "name_aliases": "机关名别名（gongkai batch --aliases） / agency name aliases (gongkai batch --aliases)",
    "bodies": "机关：同一机关各年度的报告归于一个机关归一名 / bodies: the reports of one body across years under one body key",
    "agency_keys": "报告所写的机关名与地区 → 机关归一名 / agency name and region as reports give them → body key",
}  # fmt: skip

COLUMN_COMMENTS = {
    "reports": {
        "sha256": "文件内容的 SHA-256（主键） / sha256 of the file's bytes (key)",
        "path": "文件路径（同一内容多处出现时取第一个） / file path (the first, when the same bytes lie in several)",
        "agency": "机关名称（报告所写） / agency as the report gives it",
        "year": "报告年度 / report year",
        "published": "发布日期 / publication date",
        "published_from": "发布日期的来历：空 = 正文所写，listed = 网站列表日期，last_modified = 服务器的 Last-Modified / where published came from when the text gives no date",
        "template": "表格格式 2019|2021 / table template",
        "errors": "错误数 / error findings",
        "warnings": "警告数 / warning findings",
        "body_type": "机关类型 department|government|township|street|other / body type",
        "region": "地区（报告所写） / region as the report gives it",
        "format": "文件格式 txt|md|html|docx|doc|pdf|image / file format",
        "pages": "页数（PDF、图片） / pages (PDF, images)",
        "bytes": "字节数 / size in bytes",
        "cells_found": "读出的单元格数 / cells read",
        "body_key": "机关归一名（store/bodies.py） / normalised body key (store/bodies.py)",
        "gongkai_version": "解析时的 gongkai 版本 / gongkai version that parsed it",
        "parser_fingerprint": "解析器指纹（解析代码变了即不同） / parser fingerprint (changes with the parsing code)",
        "source_url": "来源网址（gongkai fetch 的清单；附件或网页报告的地址） / web address from a fetch manifest",
        "source_page": "来源详情页网址 / the detail page that linked the report",
        **{f"section_{n}": f"第{'一二三四五六'[n - 1]}部分正文 / text of section {n}" for n in range(1, 7)},
    },
    "findings": {
        "sha256": "报告文件 SHA-256 / the report's sha256",
        "seq": "报告内的顺序 / order within the report",
        "rule": "规则编号（docs/rules.md） / rule id (docs/rules.md)",
        "severity": "级别 error|warning|info / severity",
        "origin": "来源 source（报告本身）|extraction（解析存疑） / origin: the report itself, or a doubt of the parser",
        "message": "说明 / message",
        "cells": "涉及单元格（单元格编号） / cells involved (cell ids)",
        "suspects": "可疑单元格 / suspect cells",
        "related": "对照报告的 SHA-256（跨年核验） / the other report of a cross-year finding",
    },
    "failures": {
        "sha256": "文件 SHA-256 / sha256",
        "path": "文件路径 / path",
        "kind": "类别 unreadable 无法读取|limit 超出时限或内存|crash 解析出错 / kind",
        "reason": "原因 / reason",
        "source_url": "来源网址（gongkai fetch 的清单） / web address from a fetch manifest",
        "gongkai_version": "gongkai 版本 / gongkai version",
        "parser_fingerprint": "解析器指纹 / parser fingerprint",
    },
    "inputs": {
        "path": "文件路径 / path",
        "size": "字节数 / size",
        "mtime_ns": "修改时间（纳秒） / modification time (ns)",
        "sha256": "文件 SHA-256 / sha256",
    },
    "loaded_shards": {"name": "分片名 / shard name"},
    "name_aliases": {"alias": "别名 / alias", "canonical": "标准名 / canonical name"},
    "bodies": {
        "body_key": "机关归一名 / body key",
        "name": "报告中最常用的写法 / the spelling most of its reports use",
        "region": "地区（报告所写） / region as reports give it",
        "body_type": "机关类型 / body type",
        "first_year": "最早年度 / first year",
        "last_year": "最晚年度 / last year",
        "reports": "报告份数 / reports",
    },
    "agency_keys": {
        "agency": "机关名称（报告所写） / agency as printed",
        "region": "地区（报告所写） / region as printed",
        "folder": "文件夹：名称未写明地区时用它区分机关，否则为空 / folder: tells apart bodies whose name says no place, else null",
        "body_key": "机关归一名 / body key",
    },
}

VIEW_COLUMN_COMMENTS = {
    "current_cells": {
        "sha256": "被更正的文件 SHA-256 / sha256 of the file corrected",
        "lineage": "报告系列 / lineage",
        "cell_id": "单元格编号 / cell id",
        "value": "当前值（最后一次更正） / current value (the last correction)",
        "parsed_value": "解析值 / the parsed value",
        "version": "最后一次更正产生的版本 / version of the last correction",
        "reason": "理由 / reason",
        "actor": "更正人 / who corrected",
        "done_at": "更正时间 / when",
        "corrected": "是否人工更正（恒为真） / corrected by a person (always true)",
    },
}


def cell_comment(cell_id: str) -> str:
    """A cell column's comment: its Chinese label and unit, then its id and meaning."""
    spec = next(c for c in all_cells() if c.id == cell_id)
    return f"{label(cell_id)}（{unit(cell_id)}；{spec.section}） / {cell_id}: {spec.meaning}"


@cache
def expected_comments() -> dict[tuple[str, str | None], str]:
    """(table or view, column or None) → comment, for every object the store creates."""
    from gongkai.store.panel import PANEL_BODIES, VIEW, panel_columns
    from gongkai.store.review_tables import TABLES, VIEWS

    out: dict[tuple[str, str | None], str] = {}
    for table, comment in TABLE_COMMENTS.items():
        out[(table, None)] = comment
        for column, text in COLUMN_COMMENTS[table].items():
            out[(table, column)] = text
    for c in all_cells():
        out[("reports", c.id)] = cell_comment(c.id)
    for table, (comment, columns) in {**TABLES, "panel_bodies": PANEL_BODIES}.items():
        out[(table, None)] = comment
        for column, _, text in columns:
            out[(table, column)] = text
    for view, (comment, _) in VIEWS.items():
        out[(view, None)] = comment
    for column, _, text in TABLES["report_versions"][1]:
        out[("current_versions", column)] = text
    for view, columns in VIEW_COLUMN_COMMENTS.items():
        for column, text in columns.items():
            out[(view, column)] = text
    out[(VIEW, None)] = ("研究用面板：每个机关每年一行（多份文件取一份），含稳定的机关编号、区划、上一年度报告、审核状态、"
                         "人工更正后的全部单元格 / the researcher's panel: one row per body and year (one copy of several), "
                         "stable body id, division, previous report, review state, every cell as corrected")  # fmt: skip
    for column in panel_columns():
        out[(VIEW, column.name)] = column.comment
    return out


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def current_comments(con) -> dict[tuple[str, str | None], str | None]:
    """The comments the store holds now, for the tables, views and columns of its main schema."""
    have: dict[tuple[str, str | None], str | None] = {}
    for name, comment in con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'").fetchall():
        have[(name, None)] = comment
    for name, comment in con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT temporary AND NOT internal "
                                     "AND schema_name = 'main'").fetchall():  # fmt: skip
        have[(name, None)] = comment
    for table, column, comment in con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                                              "WHERE NOT internal AND schema_name = 'main'").fetchall():  # fmt: skip
        have[(table, column)] = comment
    return have


def ensure_comments(con) -> int:
    """Write every comment the store lacks or holds in an older wording; returns how many were written."""
    from gongkai.store.panel import VIEW
    from gongkai.store.review_tables import VIEWS

    views = {VIEW, *VIEWS}
    have = current_comments(con)
    todo = [(key, text) for key, text in expected_comments().items() if key in have and have[key] != text]
    if not todo:
        return 0
    con.execute("BEGIN TRANSACTION")
    try:
        for (table, column), text in todo:
            if column is None:
                con.execute(f"COMMENT ON {'VIEW' if table in views else 'TABLE'} {table} IS {_literal(text)}")
            else:
                con.execute(f'COMMENT ON COLUMN {table}."{column}" IS {_literal(text)}')
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return len(todo)
