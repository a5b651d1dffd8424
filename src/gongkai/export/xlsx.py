"""Excel for a reviewer: everything a person reads is Chinese, the body's name first; ids (cell ids,
rule ids, sha256) stay for programs in a hidden first row and in hidden or last columns.

The report sheets keep the contract's column order (spec/output.md: sha256, path, agency, year,
published, template, the cells, errors, warnings, then ours): sha256 and path are hidden columns,
so the body's name is the first column a reviewer sees, frozen with the header.

Sheets: 报告 (one row a report; a cell that breaks a rule filled red for an error, yellow for a
warning, the findings in its comment; a cell a person corrected (review) blue, with its current
value and the parsed one and the reason in its comment), 发现, one sheet a year, 无法解析 (files
that could not be read), 覆盖情况 (when the store has a roster: every roster body in every year,
published on time, late or not at all) and 说明 (the legend). Written with xlsxwriter in constant-memory mode, rows streamed from
DuckDB: 200,000 reports fit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import xlsxwriter

from gongkai.cells import label
from gongkai.export.tables import ORDER, findings_source, has_corrections, report_columns, reports_query
from gongkai.report import BODY_TYPE_ZH, PUBLISHED_FROM_ZH
from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH
from gongkai.store.schema import quote
from gongkai.views import FAILURE_KIND_ZH, rule_zh

CHUNK = 2000
ERROR_FILL = "#F8696B"  # red
WARNING_FILL = "#FFE699"  # yellow: never mistaken for the red
CORRECTED_FILL = "#BDD7EE"  # blue: a value a person corrected
COMMENT_LIMIT = 2000  # characters Excel shows comfortably in a note

# contract columns a program needs and a reviewer does not read: hidden, not moved
HIDDEN = ("sha256", "path")
SHOWN = {"body_type": BODY_TYPE_ZH, "published_from": PUBLISHED_FROM_ZH}  # stored codes shown by their Chinese names

MARKS_SQL = """
SELECT m.sha256, m.cell, bool_or(m.severity = 'error') AS is_error,
       list(m.severity ORDER BY m.seq) AS severities, list(m.rule ORDER BY m.seq) AS rules, list(m.message ORDER BY m.seq) AS messages
FROM (
    SELECT sha256, seq, rule, severity, message,
           unnest(CASE WHEN len(cells) > 0 THEN cells
                       WHEN severity = 'error' THEN ['errors'] ELSE ['warnings'] END) AS cell
    FROM {source} WHERE severity IN ('error', 'warning')
) m JOIN reports USING (sha256) {where}
GROUP BY m.sha256, m.cell, reports.year, reports.agency
ORDER BY {order}
"""

# (id, Chinese header, width) of the findings sheet; the ids last
FINDING_COLUMNS = (
    ("agency", "机关", 30), ("year", "年度", 8), ("severity", "级别", 8), ("origin", "来源", 10), ("rule_zh", "问题", 28),
    ("message", "说明", 80), ("cells_zh", "涉及单元格", 40), ("suspects_zh", "可疑单元格", 30), ("related_zh", "对照报告", 30),
    ("path", "文件", 30), ("rule", "规则编号", 24), ("cells", "单元格编号", 40), ("sha256", "文件 SHA-256", 20),
    ("related", "对照报告 SHA-256", 20),
)  # fmt: skip
FINDINGS_SQL = """
SELECT r.agency, r.year, f.severity, f.origin, f.rule, f.message, f.cells, f.suspects, rr.agency, rr.year, r.path, f.sha256, f.related
FROM {source} f LEFT JOIN reports r USING (sha256) LEFT JOIN reports rr ON rr.sha256 = f.related
ORDER BY r.year NULLS LAST, r.agency NULLS LAST, f.sha256, f.seq
"""
FAILURE_COLUMNS = (("path", "文件", 50), ("kind", "类别", 16), ("reason", "原因", 60), ("sha256", "文件 SHA-256", 20))


def write_xlsx(con, target: Path, *, with_text: bool = False, coverage: list | None = None, summaries: list | None = None) -> Path:
    tmp = target.with_name(f".{target.name}.tmp.xlsx")
    book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_urls": False, "strings_to_formulas": False})
    styles = {
        "zh": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}),
        "id": book.add_format({"font_color": "#595959", "font_size": 9, "bg_color": "#F2F2F2"}),
        "error": book.add_format({"bg_color": ERROR_FILL, "font_color": "#7F0000", "bold": True}),
        "warning": book.add_format({"bg_color": WARNING_FILL, "font_color": "#7F6000"}),
        "info": None,
        "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
        "title": book.add_format({"bold": True, "font_size": 14}),
        "corrected": book.add_format({"bg_color": CORRECTED_FILL}),
    }
    corrected = _corrections(con) if has_corrections(con) else None
    columns = excel_columns(with_text, corrected is not None)
    _report_sheet(book.add_worksheet("报告"), con, columns, styles, "", with_text, corrected)
    _findings_sheet(book.add_worksheet("发现"), con, styles, corrected is not None)
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM reports WHERE year IS NOT NULL ORDER BY year").fetchall()]
    for year in years:
        _report_sheet(book.add_worksheet(f"{year}年"), con, columns, styles, f"WHERE reports.year = {int(year)}", with_text, corrected)
    if con.execute("SELECT count(*) FROM failures").fetchone()[0]:
        _failures_sheet(book.add_worksheet("无法解析"), con, styles)
    if coverage:
        _coverage_sheet(book.add_worksheet("覆盖情况"), coverage, styles)
    if summaries:
        _summary_sheet(book.add_worksheet("汇总"), summaries, styles)
    _legend_sheet(book.add_worksheet("说明"), styles)
    book.close()
    tmp.replace(target)
    return target


def excel_columns(with_text: bool = False, corrected: bool = False) -> list[tuple[str, str]]:
    """(column, Chinese header) of the report sheet: the contract's columns in its order, then ours."""
    return report_columns(with_text, corrected)


def _corrections(con) -> dict[str, dict[str, str]]:
    """sha256 → cell → the note a corrected cell carries (parsed value, reason, who, when)."""
    from gongkai.views import format_value

    out: dict[str, dict[str, str]] = {}
    rows = con.execute("SELECT sha256, cell_id, value, parsed_value, reason, actor, done_at FROM current_cells").fetchall()
    for sha, cell, value, parsed, reason, actor, at in rows:
        before, after = format_value(parsed) or "空", format_value(value) or "空"
        out.setdefault(sha, {})[cell] = f"人工更正：原值 {before} → {after}（理由：{reason}；{actor}，{at:%Y-%m-%d %H:%M}）"
    return out


def write_header(sheet, columns: list[tuple[str, str]], styles) -> None:
    """Row 1 (hidden): the ids programs use, as in CSV and Parquet; row 2: the Chinese headers."""
    sheet.set_row(0, None, styles["id"], {"hidden": True})  # constant-memory mode: a row's settings before its cells
    for col, (name, _) in enumerate(columns):
        sheet.write_string(0, col, name, styles["id"])
    sheet.set_row(1, 45)
    for col, (_, zh) in enumerate(columns):
        sheet.write_string(1, col, zh, styles["zh"])


def _report_sheet(sheet, con, columns, styles, where: str, with_text: bool, corrected: dict | None = None) -> None:
    names = [name for name, _ in columns]
    position = {name: i for i, name in enumerate(names)}
    write_header(sheet, columns, styles)
    sheet.set_column(0, len(names) - 1, 10)
    for name in HIDDEN:
        sheet.set_column(position[name], position[name], 20, None, {"hidden": True})
    sheet.set_column(position["agency"], position["agency"], 32)
    sheet.set_column(position["region"], position["region"], 24)
    sheet.freeze_panes(2, position["agency"] + 1)
    shown = {position[n]: table for n, table in SHOWN.items() if n in position}
    marks = _marks(con, where, corrected is not None)
    mark = next(marks, None)
    rows = con.execute(reports_query(with_text, where, names, corrected is not None))
    row_index = 1
    while chunk := rows.fetchmany(CHUNK):
        for values in chunk:
            row_index += 1
            sha = values[position["sha256"]]
            marked: dict[int, tuple[bool, str]] = {}
            while mark is not None and mark[0] == sha:
                if mark[1] in position:
                    marked[position[mark[1]]] = (mark[2], _comment(mark[3], mark[4], mark[5]))
                mark = next(marks, None)
            fixed = {position[c]: note for c, note in (corrected or {}).get(sha, {}).items() if c in position}
            for col, value in enumerate(values):
                if col in shown and value is not None:
                    value = shown[col].get(value, value)
                style = styles["error" if marked[col][0] else "warning"] if col in marked else styles["corrected"] if col in fixed else None
                write_cell(sheet, row_index, col, value, style)
                notes = [n for n in (fixed.get(col), marked[col][1] if col in marked else None) if n]
                if notes:
                    sheet.write_comment(row_index, col, "\n".join(notes)[:COMMENT_LIMIT], {"x_scale": 3, "y_scale": 2})
    sheet.autofilter(1, 0, max(row_index, 2), len(names) - 1)


def _comment(severities: list[str], rules: list[str], messages: list[str]) -> str:
    """The findings on one cell as a reviewer reads them: 错误 · 勾稽关系不成立：…"""
    return "\n".join(f"{SEVERITY_ZH.get(s, s)} · {rule_zh(r)}：{m}" for s, r, m in zip(severities, rules, messages))


def _marks(con, where: str, corrected: bool = False):
    """(sha256, cell, is_error, severities, rules, messages) in the order of the reports query, streamed;
    for a file a person corrected, the findings of its corrected version."""
    order = ORDER.replace("year", "reports.year").replace("agency", "reports.agency").replace("sha256", "m.sha256")
    cursor = con.execute(MARKS_SQL.format(where=where, order=order, source=findings_source(corrected)))
    while chunk := cursor.fetchmany(CHUNK):
        yield from chunk


def _labels(cells) -> str:
    return "；".join(label(c) for c in cells or [])


def _findings_sheet(sheet, con, styles, corrected: bool = False) -> None:
    write_header(sheet, [(name, zh) for name, zh, _ in FINDING_COLUMNS], styles)
    for col, (_, _, width) in enumerate(FINDING_COLUMNS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(2, 1)
    severity = [name for name, _, _ in FINDING_COLUMNS].index("severity")
    cursor = con.execute(FINDINGS_SQL.format(source=findings_source(corrected)))
    row_index = 1
    while chunk := cursor.fetchmany(CHUNK):
        for agency, year, sev, origin, rule, message, cells, suspects, r_agency, r_year, path, sha, related in chunk:
            row_index += 1
            related_zh = f"{r_agency or '（未知机关）'} {r_year}年度" if related else None
            values = (agency, year, SEVERITY_ZH.get(sev, sev), ORIGIN_ZH.get(origin, origin), rule_zh(rule), message,
                      _labels(cells), _labels(suspects), related_zh, path, rule, " ".join(cells or []), sha, related)  # fmt: skip
            for col, value in enumerate(values):
                write_cell(sheet, row_index, col, value, styles.get(sev) if col == severity else None)
    sheet.autofilter(1, 0, max(row_index, 2), len(FINDING_COLUMNS) - 1)


def _failures_sheet(sheet, con, styles) -> None:
    write_header(sheet, [(name, zh) for name, zh, _ in FAILURE_COLUMNS], styles)
    for col, (_, _, width) in enumerate(FAILURE_COLUMNS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(2, 1)
    cursor = con.execute(f"SELECT {', '.join(quote(n) for n, _, _ in FAILURE_COLUMNS)} FROM failures ORDER BY path, sha256")
    for row_index, (path, kind, reason, sha) in enumerate(cursor.fetchall(), start=2):
        for col, value in enumerate((path, FAILURE_KIND_ZH.get(kind, kind), reason, sha)):
            write_cell(sheet, row_index, col, value, None)


COVERAGE_COLUMNS = (
    ("year", "年度", 8), ("body", "机关", 36), ("body_type_zh", "机关类型", 10), ("level_zh", "区划级别", 10),
    ("division_code", "区划代码", 14), ("region", "所在区划", 30), ("status_zh", "发布情况", 12), ("published", "发布日期", 12),
    ("deadline", "发布期限", 12), ("days_late", "逾期天数", 10), ("errors", "错误数", 8), ("warnings", "警告数", 8),
    ("review_state_zh", "审核状态", 10), ("version", "版本", 6), ("sha256", "文件 SHA-256", 20),
)  # fmt: skip


def _coverage_sheet(sheet, rows, styles) -> None:
    """Every roster body in every year: published on time, late or not at all, with its errors and review state."""
    write_header(sheet, [(name, zh) for name, zh, _ in COVERAGE_COLUMNS], styles)
    for col, (_, _, width) in enumerate(COVERAGE_COLUMNS):
        sheet.set_column(col, col, width)
    sheet.freeze_panes(2, 2)
    fills = {"late": styles["warning"], "missing": styles["error"]}
    for row_index, row in enumerate(rows, start=2):
        data = row.to_dict()
        for col, (name, _, _) in enumerate(COVERAGE_COLUMNS):
            write_cell(sheet, row_index, col, data.get(name), fills.get(row.status) if name == "status_zh" else None)
    sheet.autofilter(1, 0, max(len(rows) + 1, 2), len(COVERAGE_COLUMNS) - 1)


def _summary_sheet(sheet, summaries, styles) -> None:
    """Each year of the roster, newest first: how many published, late, missing, with errors, rectified, beside the
    year before for the same bodies, then the commonest open problems (as `gongkai coverage --summary` prints)."""
    from gongkai.audit import COUNT_ZH

    sheet.set_column(0, 0, 16)
    sheet.set_column(1, 1, 40)
    sheet.set_column(2, 3, 10)
    row = 0
    for s in summaries:
        sheet.write_string(row, 0, f"{s.region_name} {s.year} 年度汇总", styles["title"])
        row += 1
        heads = ["指标", "", *([f"{s.previous['year']}年"] if s.previous else []), f"{s.year}年"]
        for col, head in enumerate(heads):
            sheet.write_string(row, col, head, styles["zh"])
        row += 1
        for key, value in s.counts().items():
            sheet.write_string(row, 0, COUNT_ZH[key])
            values = [s.previous[key], value] if s.previous else [value]
            for col, number in enumerate(values, start=2):
                sheet.write_number(row, col, number)
            row += 1
        if s.problems:
            row += 1
            for col, head in enumerate(("规则", "最常见的问题（待核与已确认，报告本身）", "机关数", "条数")):
                sheet.write_string(row, col, head, styles["zh"])
            row += 1
            for p in s.problems:
                sheet.write_string(row, 0, p["rule"])
                sheet.write_string(row, 1, p["rule_zh"])
                sheet.write_number(row, 2, p["bodies"])
                sheet.write_number(row, 3, p["findings"])
                row += 1
        row += 2


LEGEND = (
    ("工作表", "「报告」一行一份报告；「发现」每条规则发现一行；「某年」只含该年度的报告；「无法解析」列出没能读取的文件及原因；本页是说明。"),
    ("红色单元格", "错误：报告违反了必须成立的规则（如勾稽关系、各项之和），或与上一年度报告不衔接。"),
    ("黄色单元格", "警告：可能有问题（如发布晚于期限、正文与表格不一致、数字异常），请对照原件核实。"),
    ("蓝色单元格", "人工更正：审核人员更正过的数值（原解析值保留在库中），批注写明原值、理由、更正人和时间；「人工更正的单元格」一列列出这些单元格。"),
    ("覆盖情况", "有名单时，「覆盖情况」列出名单中每个机关每年的报告：按时发布、逾期发布或未发布，发布日期与期限，错误和警告数，审核状态。"),
    ("汇总", "有名单时，「汇总」按年度（新的在前）列出名单机关中已发布、按时、逾期、未发布、有错误、已整改和待审核的数目，与上一年度同一批机关比较，以及最常见的问题。"),
    ("批注", "标色的单元格带有批注，写明级别、问题和涉及的数字；一条发现不涉及具体单元格时，标在「错误数」或「警告数」上。"),
    ("级别", "错误、警告、提示：提示只列在「发现」中，不标色。"),
    ("来源", "报告本身：报告原文就是这样写的，数字本身有问题；解析存疑：程序不能确定是否读对了原文，请核对原件。"),
    ("空白单元格", "报告中该格空白、缺失或无法读取；空白不等于 0。"),
    ("机关类型", "、".join(BODY_TYPE_ZH.values()) + "。"),
    ("无法解析的类别", "、".join(f"{zh}" for zh in FAILURE_KIND_ZH.values()) + "。"),
    ("编号", "第 1 行（已隐藏）是各列的编号，与另外两种导出格式的列名相同，取消隐藏即可看到；「发现」的最后几列是规则编号、单元格编号和文件 SHA-256（文件内容的指纹），供程序使用。"),
)


def _legend_sheet(sheet, styles) -> None:
    sheet.set_column(0, 0, 18)
    sheet.set_column(1, 1, 100)
    sheet.write_string(0, 0, "说明", styles["title"])
    for row, (term, text) in enumerate(LEGEND, start=2):
        style = styles["error"] if term == "红色单元格" else styles["warning"] if term == "黄色单元格" else styles["zh"]
        sheet.write_string(row, 0, term, style)
        sheet.write_string(row, 1, text, styles["wrap"])


def write_cell(sheet, row: int, col: int, value, style) -> None:
    if value is None:
        if style is not None:
            sheet.write_blank(row, col, None, style)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, style)
    elif isinstance(value, int | float):
        sheet.write_number(row, col, value, style)
    elif isinstance(value, date):
        sheet.write_string(row, col, value.isoformat(), style)
    else:
        sheet.write_string(row, col, str(value), style)
