"""The per-report downloads: an Excel workbook (cells with provenance, findings, metadata)."""

from __future__ import annotations

import io

import xlsxwriter

from gongkai.cells import cell_ids, label
from gongkai.report import Report
from gongkai.views import BODY_TYPE_ZH, ORIGIN_ZH, SEVERITY_ZH, detect_template, rule_zh


def report_xlsx(report: Report) -> bytes:
    """Three sheets: 单元格 (id, label, value, raw, line/page), 发现, 基本信息."""
    out = io.BytesIO()
    # strings_to_formulas off: a cell text like "=HYPERLINK(…)" from a report must stay text
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#E6EAF0"})
    bad = book.add_format({"bg_color": "#FDECEA", "font_color": "#C62828"})

    marked = {c for f in report.findings if f.severity == "error" for c in f.cells}
    sheet = book.add_worksheet("单元格")
    sheet.write_row(0, 0, ["编号", "名称", "数值", "原文", "行号", "页码", "问题"], bold)
    ids = [c for c in cell_ids(detect_template(report))] + [c for c in report.cells if c not in cell_ids(detect_template(report))]
    for n, cid in enumerate(ids, start=1):
        prov = report.provenance.get(cid)
        value = report.cells.get(cid)
        sheet.write_string(n, 0, cid)
        sheet.write_string(n, 1, label(cid))
        if value is None:
            sheet.write_blank(n, 2, None)
        else:
            sheet.write_number(n, 2, value, bad if cid in marked else None)
        sheet.write_string(n, 3, (prov.raw or "") if prov else "")
        if prov and prov.line is not None:
            sheet.write_number(n, 4, prov.line)
        if prov and prov.page is not None:
            sheet.write_number(n, 5, prov.page)
        sheet.write_string(n, 6, "错误" if cid in marked else "")
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 1, 48)
    sheet.set_column(3, 3, 16)
    sheet.freeze_panes(1, 0)

    sheet = book.add_worksheet("发现")
    sheet.write_row(0, 0, ["级别", "来源", "规则", "规则说明", "说明", "涉及单元格", "可疑单元格"], bold)
    for n, f in enumerate(report.findings, start=1):
        sheet.write_row(n, 0, [SEVERITY_ZH.get(f.severity, f.severity), ORIGIN_ZH.get(f.origin, f.origin), f.rule, rule_zh(f.rule),
                               f.message, "、".join(f.cells), "、".join(f.suspects)])
    sheet.set_column(3, 4, 50)

    sheet = book.add_worksheet("基本信息")
    meta = report.meta
    rows = [("机关", meta.agency), ("报告年度", meta.year), ("格式", meta.template), ("发布日期", meta.published),
            ("机关类型", BODY_TYPE_ZH.get(meta.body_type or "", meta.body_type)), ("地区", meta.region), ("文件", report.source.path), ("来源网址", report.source.url), ("格式类型", report.source.format),
            ("SHA-256", report.source.sha256), ("错误数", len(report.errors)), ("警告数", len(report.warnings))]
    for n, (k, v) in enumerate(rows):
        sheet.write_string(n, 0, k, bold)
        if isinstance(v, int | float):
            sheet.write_number(n, 1, v)
        else:
            sheet.write_string(n, 1, "" if v is None else str(v))
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 70)
    book.close()
    return out.getvalue()
