"""The draft as an Excel workbook: the three tables in the official layout, labels protected, only
the input cells open; `read_sheet` takes a filled-in workbook back as a `Draft`.

Sheet 年度报告 holds the metadata and the tables (merged header cells as in the official format),
sheet 正文 the section texts; a hidden sheet `_cells` maps every input to its cell id, so the
reading never depends on where a row happens to be.
"""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from gongkai.draft.model import NUMERALS, TITLES, Draft, DraftError, number_of
from gongkai.report import Meta
from gongkai.synth.model import active_table, appeals_table, requests_table
from gongkai.synth.template import Table

MAP_SHEET = "_cells"
BODY_TYPES = {"department": "部门", "government": "人民政府", "township": "乡镇", "street": "街道", "other": "其他"}
META_FIELDS = (("agency", "机关名称"), ("year", "报告年度"), ("published", "发布日期（YYYY-MM-DD）"),
               ("body_type", "机关类型"), ("region", "所属地区"))  # fmt: skip
TABLE_TITLES = {"active": "二、主动公开政府信息情况", "requests": "三、收到和处理政府信息公开申请情况",
                "appeals": "四、政府信息公开行政复议、行政诉讼情况"}  # fmt: skip


def write_sheet(draft: Draft) -> bytes:
    """The workbook of a draft (an empty one gives the blank form)."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    f = {
        "title": book.add_format({"bold": True, "font_size": 16, "align": "center"}),
        "label": book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True, "valign": "vcenter",
                                  "align": "center", "font_size": 10}),  # fmt: skip
        "input": book.add_format({"locked": False, "border": 1, "bg_color": "#FFFBE6", "align": "center", "num_format": "0"}),
        "amount": book.add_format({"locked": False, "border": 1, "bg_color": "#FFFBE6", "align": "center", "num_format": "0.0000"}),
        "text": book.add_format({"locked": False, "border": 1, "bg_color": "#FFFBE6", "text_wrap": True, "valign": "top"}),
        "heading": book.add_format({"bold": True, "font_size": 12}),
        "note": book.add_format({"italic": True, "font_color": "#666666"}),
    }
    main = book.add_worksheet("年度报告")
    texts = book.add_worksheet("正文")
    mapping = book.add_worksheet(MAP_SHEET)
    mapping.hide()
    refs: list[tuple[str, str, str]] = []  # (key, sheet, cell)

    main.merge_range(0, 0, 0, 14, "政府信息公开工作年度报告（填报表）", f["title"])
    main.write(1, 0, "黄色格子可以填写，其余为格式文字（已保护）。填好后用 gongkai draft check 本文件 核对。", f["note"])
    meta = draft.meta
    for i, (key, name) in enumerate(META_FIELDS):
        row = 3 + i
        main.merge_range(row, 0, row, 2, name, f["label"])
        value = getattr(meta, key)
        if key == "body_type":
            value = BODY_TYPES.get(value or "", "")
            main.data_validation(row, 3, row, 3, {"validate": "list", "source": list(BODY_TYPES.values())})
        main.merge_range(row, 3, row, 8, "" if value is None else value, f["text"])
        refs.append((f"meta.{key}", "年度报告", _a1(row, 3)))
    main.write(3 + len(META_FIELDS), 0, f"格式：{draft.template} 年版（报告年度 2021 起用 2021 年版）", f["note"])
    mapping.write_row(0, 0, ["key", "sheet", "cell", "template"])
    mapping.write(1, 3, draft.template)

    values = draft.filled()
    shown = dict.fromkeys(values)  # labels only: the values are written as numbers below
    row = 5 + len(META_FIELDS)
    for table in (active_table(draft.template, shown, str), requests_table(draft.template, shown, str, False),
                  appeals_table(shown)):  # fmt: skip
        main.write(row, 0, TABLE_TITLES[table.key], f["heading"])
        row = _write_table(main, table, row + 1, values, f, refs) + 1
    main.set_column(0, 2, 14)
    main.set_column(3, 15, 9)
    main.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})

    texts.set_column(0, 0, 26)
    texts.set_column(1, 1, 100)
    texts.write(0, 0, "部分", f["label"])
    texts.write(0, 1, "正文（第二、三部分一般只有表格；第四部分可写表格前的说明）", f["label"])
    rows = [("intro", "前言（可空：留空时写入通行的开头与统计期限）", draft.intro)]
    rows += [(f"section.{n}", f"{NUMERALS[n - 1]}、{TITLES[n - 1]}", draft.sections.get(n, "")) for n in range(1, 7)]
    for i, (key, name, text) in enumerate(rows, start=1):
        texts.write(i, 0, name, f["label"])
        texts.write(i, 1, text or "", f["text"])
        texts.set_row(i, 90)
        refs.append((key, "正文", _a1(i, 1)))
    texts.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})

    for i, (key, sheet, cell) in enumerate(refs, start=1):
        mapping.write_row(i, 0, [key, sheet, cell])
    book.close()
    return out.getvalue()


def _write_table(ws, table: Table, top: int, values: dict, f: dict, refs: list) -> int:
    """The table at row `top` with its merged cells; returns the row after it."""
    for r, row in enumerate(table.positions()):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            y, x = top + r, c
            if cell.cell_id:
                value = values.get(cell.cell_id)
                fmt = f["amount"] if cell.cell_id.endswith("amount_wan") else f["input"]
                if cell.colspan > 1 or cell.rowspan > 1:
                    ws.merge_range(y, x, y + cell.rowspan - 1, x + cell.colspan - 1, "" if value is None else value, fmt)
                else:
                    ws.write(y, x, "" if value is None else value, fmt)
                refs.append((cell.cell_id, "年度报告", _a1(y, x)))
            elif cell.colspan > 1 or cell.rowspan > 1:
                ws.merge_range(y, x, y + cell.rowspan - 1, x + cell.colspan - 1, cell.text, f["label"])
            else:
                ws.write(y, x, cell.text, f["label"])
    return top + len(table.rows)


def _a1(row: int, col: int) -> str:
    from xlsxwriter.utility import xl_rowcol_to_cell

    return xl_rowcol_to_cell(row, col)


def read_sheet(source: str | os.PathLike | bytes) -> Draft:
    """A filled-in workbook of `write_sheet` as a Draft; DraftError (one line) for anything else."""
    from openpyxl import load_workbook

    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        book = load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DraftError(f"不是可读的 Excel 文件（{type(exc).__name__}）") from None
    if MAP_SHEET not in book.sheetnames:
        raise DraftError("这个 Excel 不是 gongkai draft template 写出的填报表（缺少单元格对照表）")
    mapping = book[MAP_SHEET]
    template = str(mapping["D2"].value or "2021")
    meta: dict = {"template": template}
    sections: dict[int, str] = {}
    intro = ""
    cells: dict = {}
    for key, sheet, ref, *_ in mapping.iter_rows(min_row=2, values_only=True):
        if not key or sheet not in book.sheetnames:
            continue
        value = book[sheet][ref].value
        if key.startswith("meta."):
            meta[key[5:]] = value
        elif key == "intro":
            intro = str(value or "")
        elif key.startswith("section."):
            sections[int(key.split(".")[1])] = str(value or "")
        else:
            cells[key] = number_of(key, value)
    by_name = {v: k for k, v in BODY_TYPES.items()}
    meta["body_type"] = by_name.get(str(meta.get("body_type") or "").strip()) or None
    year = meta.get("year")
    if year not in (None, ""):
        try:
            meta["year"] = int(str(year).strip().rstrip("年"))
        except ValueError:
            raise DraftError(f"报告年度须为四位数字，不是“{year}”") from None
    else:
        meta["year"] = None
    published = meta.get("published")
    if hasattr(published, "date"):  # a cell typed as a date
        meta["published"] = published.date().isoformat()
    elif published not in (None, ""):
        meta["published"] = str(published).strip()
    else:
        meta["published"] = None
    for key in ("agency", "region"):
        meta[key] = (str(meta[key]).strip() or None) if meta.get(key) is not None else None
    return Draft(meta=Meta(**meta), intro=intro, sections=sections, cells=cells)
