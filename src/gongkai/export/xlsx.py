"""Excel: a reports sheet (Chinese header row over the id row), cells that break a rule filled red
with the finding as a comment, cells a person corrected filled blue with the parsed value and the
reason, a findings sheet, a sheet per year, the files that failed, and — when the store has a
roster — the coverage of every year (覆盖情况). Words a person reads are in Chinese.

Written with xlsxwriter in constant-memory mode, rows streamed from DuckDB: 200,000 reports fit.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import xlsxwriter

from gongkai.export.tables import (
    FINDING_COLUMNS,
    ORDER,
    finding_headers,
    findings_query,
    findings_source,
    has_corrections,
    report_columns,
    reports_query,
)
from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH
from gongkai.store.schema import quote
from gongkai.views import BODY_TYPE_ZH

CHUNK = 2000
ERROR_FILL = "#FF8080"
WARNING_FILL = "#FFC7CE"
CORRECTED_FILL = "#BDD7EE"
ZH_VALUES = {"severity": SEVERITY_ZH, "origin": ORIGIN_ZH, "body_type": BODY_TYPE_ZH}  # ids stay in CSV, JSON and Parquet
COMMENT_LIMIT = 2000  # characters Excel shows comfortably in a note

MARKS_SQL = """
SELECT m.sha256, m.cell, bool_or(m.severity = 'error') AS is_error,
       string_agg('[' || m.rule || '] ' || m.message, chr(10) ORDER BY m.seq) AS notes
FROM (
    SELECT sha256, seq, rule, severity, message,
           unnest(CASE WHEN len(cells) > 0 THEN cells
                       WHEN severity = 'error' THEN ['errors'] ELSE ['warnings'] END) AS cell
    FROM {source} WHERE severity IN ('error', 'warning')
) m JOIN reports USING (sha256) {where}
GROUP BY m.sha256, m.cell, reports.year, reports.agency
ORDER BY {order}
"""


def write_xlsx(con, target: Path, *, with_text: bool = False, coverage: list | None = None) -> Path:
    tmp = target.with_name(f".{target.name}.tmp.xlsx")
    book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_urls": False, "strings_to_formulas": False})
    styles = {
        "zh": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}),
        "id": book.add_format({"font_color": "#595959", "font_size": 9, "bg_color": "#F2F2F2", "border": 1}),
        "error": book.add_format({"bg_color": ERROR_FILL}),
        "warning": book.add_format({"bg_color": WARNING_FILL}),
        "corrected": book.add_format({"bg_color": CORRECTED_FILL}),
    }
    corrected = _corrections(con) if has_corrections(con) else None
    columns = report_columns(with_text, corrected is not None)
    _report_sheet(book.add_worksheet("报告"), con, columns, styles, "", with_text, corrected)
    _findings_sheet(book.add_worksheet("发现"), con, styles, corrected is not None)
    years = [y for (y,) in con.execute("SELECT DISTINCT year FROM reports WHERE year IS NOT NULL ORDER BY year").fetchall()]
    for year in years:
        _report_sheet(book.add_worksheet(f"{year}年"), con, columns, styles, f"WHERE reports.year = {int(year)}", with_text, corrected)
    if con.execute("SELECT count(*) FROM failures").fetchone()[0]:
        _failures_sheet(book.add_worksheet("无法解析"), con, styles)
    if coverage:
        _coverage_sheet(book.add_worksheet("覆盖情况"), coverage, styles)
    book.close()
    tmp.replace(target)
    return target


def _corrections(con) -> dict[str, dict[str, str]]:
    """sha256 → cell → the note a corrected cell carries (parsed value, reason, who, when)."""
    from gongkai.views import format_value

    out: dict[str, dict[str, str]] = {}
    rows = con.execute("SELECT sha256, cell_id, value, parsed_value, reason, actor, done_at FROM current_cells").fetchall()
    for sha, cell, value, parsed, reason, actor, at in rows:
        before, after = format_value(parsed) or "空", format_value(value) or "空"
        out.setdefault(sha, {})[cell] = f"人工更正：原值 {before} → {after}（理由：{reason}；{actor}，{at:%Y-%m-%d %H:%M}）"
    return out


def _report_sheet(sheet, con, columns, styles, where: str, with_text: bool, corrected: dict | None = None) -> None:
    names = [name for name, _ in columns]
    position = {name: i for i, name in enumerate(names)}
    sheet.set_row(0, 45)  # constant-memory mode: a row's settings before its cells
    for col, (_, zh) in enumerate(columns):
        sheet.write_string(0, col, zh, styles["zh"])
    for col, (name, _) in enumerate(columns):
        sheet.write_string(1, col, name, styles["id"])
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 2, 32)
    sheet.set_column(3, len(names) - 1, 10)
    sheet.freeze_panes(2, 3)
    marks = _marks(con, where, corrected is not None)
    mark = next(marks, None)
    rows = con.execute(reports_query(with_text, where, corrected is not None))
    translated = {position[name]: ZH_VALUES[name] for name in ZH_VALUES if name in position}
    row_index = 1
    while chunk := rows.fetchmany(CHUNK):
        for values in chunk:
            row_index += 1
            sha = values[0]
            marked: dict[int, tuple[bool, str]] = {}
            while mark is not None and mark[0] == sha:
                if mark[1] in position:
                    marked[position[mark[1]]] = (mark[2], mark[3])
                mark = next(marks, None)
            fixed = {position[c]: note for c, note in (corrected or {}).get(sha, {}).items() if c in position}
            for col, value in enumerate(values):
                style = None
                if col in marked:
                    is_error, _notes = marked[col]
                    style = styles["error" if is_error else "warning"]
                elif col in fixed:
                    style = styles["corrected"]
                if col in translated and value is not None:
                    value = translated[col].get(value, value)
                _write(sheet, row_index, col, value, style)
                notes = [n for n in (fixed.get(col), marked[col][1] if col in marked else None) if n]
                if notes:
                    sheet.write_comment(row_index, col, "\n".join(notes)[:COMMENT_LIMIT], {"x_scale": 3, "y_scale": 2})
    sheet.autofilter(1, 0, max(row_index, 1), len(names) - 1)


def _marks(con, where: str, corrected: bool = False):
    """(sha256, cell, is_error, notes) in the order of the reports query, streamed."""
    order = ORDER.replace("year", "reports.year").replace("agency", "reports.agency").replace("sha256", "m.sha256")
    cursor = con.execute(MARKS_SQL.format(where=where, order=order, source=findings_source(corrected)))
    while chunk := cursor.fetchmany(CHUNK):
        yield from chunk


def _findings_sheet(sheet, con, styles, corrected: bool = False) -> None:
    for col, zh in enumerate(finding_headers()):
        sheet.write_string(0, col, zh, styles["zh"])
    for col, name in enumerate(FINDING_COLUMNS):
        sheet.write_string(1, col, name, styles["id"])
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 2, 30)
    sheet.set_column(4, 4, 28)
    sheet.set_column(7, 7, 80)
    sheet.freeze_panes(2, 0)
    severity = FINDING_COLUMNS.index("severity")
    translated = {FINDING_COLUMNS.index(name): words for name, words in ZH_VALUES.items() if name in FINDING_COLUMNS}
    cursor = con.execute(findings_query(cells_as_text=True, corrected=corrected))
    row_index = 1
    while chunk := cursor.fetchmany(CHUNK):
        for values in chunk:
            row_index += 1
            for col, value in enumerate(values):
                style = styles.get(values[severity]) if col == severity else None
                _write(sheet, row_index, col, translated[col].get(value, value) if col in translated else value, style)
    sheet.autofilter(1, 0, max(row_index, 1), len(FINDING_COLUMNS) - 1)


COVERAGE_COLUMNS = (
    ("year", "年度"), ("body", "机关"), ("body_type_zh", "机关类型"), ("level_zh", "区划级别"), ("division_code", "区划代码"),
    ("region", "所在区划"), ("status_zh", "发布情况"), ("published", "发布日期"), ("deadline", "发布期限"), ("days_late", "逾期天数"),
    ("errors", "错误数"), ("warnings", "警告数"), ("review_state_zh", "审核状态"), ("version", "版本"), ("sha256", "文件 SHA-256"),
)  # fmt: skip


def _coverage_sheet(sheet, rows, styles) -> None:
    """Every roster body in every year: published on time, late or not at all, with its errors and review state."""
    fills = {"late": styles["warning"], "missing": styles["error"]}
    for col, (_, zh) in enumerate(COVERAGE_COLUMNS):  # constant-memory mode: a row at a time, in order
        sheet.write_string(0, col, zh, styles["zh"])
    for col, (name, _) in enumerate(COVERAGE_COLUMNS):
        sheet.write_string(1, col, name, styles["id"])
    sheet.set_column(1, 1, 36)
    sheet.set_column(5, 5, 30)
    sheet.freeze_panes(2, 2)
    for row_index, row in enumerate(rows, start=2):
        data = row.to_dict()
        for col, (name, _) in enumerate(COVERAGE_COLUMNS):
            _write(sheet, row_index, col, data.get(name), fills.get(row.status) if name == "status_zh" else None)
    sheet.autofilter(1, 0, max(len(rows) + 1, 1), len(COVERAGE_COLUMNS) - 1)


def _failures_sheet(sheet, con, styles) -> None:
    headers = (("sha256", "文件 SHA-256"), ("path", "路径"), ("kind", "类别"), ("reason", "原因"))
    for row, index in ((0, 1), (1, 0)):
        for col, pair in enumerate(headers):
            sheet.write_string(row, col, pair[index], styles["zh" if row == 0 else "id"])
    sheet.set_column(1, 1, 50)
    sheet.set_column(3, 3, 60)
    cursor = con.execute(f"SELECT {', '.join(quote(n) for n, _ in headers)} FROM failures ORDER BY path, sha256")
    for row_index, values in enumerate(cursor.fetchall(), start=2):
        for col, value in enumerate(values):
            _write(sheet, row_index, col, value, None)


def _write(sheet, row: int, col: int, value, style) -> None:
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
