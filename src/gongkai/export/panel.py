"""The panel (store/panel.py) for a researcher: Parquet partitioned by year, CSV, or Excel.

- Parquet: a folder, hive style (`panel.parquet/year=2021/part-0.parquet`), each field carrying its
  Chinese label, unit and description in its metadata (`label_zh`, `unit`, `comment`), the schema
  the same for every column in `gongkai.columns` (JSON), so `year` keeps its label too;
- CSV: one header row of the column names, numbers as numbers (no thousands separators), blanks
  empty, UTF-8 without BOM (R's read.csv and readr, Stata's import delimited and pandas read it
  as is), `corrected_cells` as names separated by spaces;
- Excel: Chinese headers over the ids (a hidden first row, as the reviewer's Excel), the corrected
  cells blue, and a sheet 字段说明 listing every column.

Every file is written beside its target and renamed into place, so a failed export leaves the old one.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa

from gongkai.errors import GongkaiError
from gongkai.store.panel import VIEW, PanelColumn, arrow_type, panel_columns

FORMATS = (".parquet", ".csv", ".xlsx")
CHUNK = 5000
EXCEL_ROWS = 1_048_576 - 2  # Excel's limit less the two header rows


def panel_schema() -> pa.Schema:
    """The panel's arrow schema, every field with its label, unit and description in its metadata."""
    fields = [pa.field(c.name, arrow_type(c.kind), metadata=_metadata(c)) for c in panel_columns()]
    described = {c.name: {"label_zh": c.label_zh, "unit": c.unit, "comment": c.comment} for c in panel_columns()}
    return pa.schema(fields, metadata={"gongkai.columns": json.dumps(described, ensure_ascii=False)})


def _metadata(column: PanelColumn) -> dict[str, str]:
    return {"label_zh": column.label_zh, "unit": column.unit, "comment": column.comment}


def _select() -> str:
    return f"SELECT {', '.join(c.name for c in panel_columns())} FROM {VIEW} ORDER BY year, body_id"


def write_panel(con, target: Path) -> Path:
    """Write the store's panel to `target` by its suffix (.parquet folder, .csv, .xlsx); returns it."""
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise GongkaiError(f"{target}: 不支持的面板格式（可用 {' / '.join(FORMATS)}）")
    target.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        return _parquet(con, target)
    if suffix == ".csv":
        return _csv(con, target)
    return _xlsx(con, target)


def _batches(con):
    """The panel as arrow record batches with the panel's schema (labels and units attached)."""
    schema = panel_schema()
    reader = con.cursor().sql(_select()).to_arrow_reader(CHUNK)
    for batch in reader:
        yield pa.RecordBatch.from_arrays(
            [column.cast(field.type) for column, field in zip(batch.columns, schema)], schema=schema
        )


def _parquet(con, target: Path) -> Path:
    import pyarrow.dataset as ds

    schema = panel_schema()
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    ds.write_dataset(
        _batches(con), tmp, schema=schema, format="parquet",
        partitioning=ds.partitioning(pa.schema([schema.field("year")]), flavor="hive"),
        basename_template="part-{i}.parquet", existing_data_behavior="error",
        file_options=ds.ParquetFileFormat().make_write_options(compression="zstd"),
    )  # fmt: skip
    if not tmp.exists():
        tmp.mkdir()  # an empty panel: an empty folder
    _swap(tmp, target)
    return target


def _swap(tmp: Path, target: Path) -> None:
    """Put the finished folder `tmp` at `target`, replacing what was there only once the new one is whole."""
    old = target.with_name(f".{target.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if target.is_dir():
        target.rename(old)
    elif target.exists():
        target.unlink()
    tmp.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def _csv_select() -> str:
    """The panel as CSV columns: lists as space-separated names, and text that a spreadsheet would run as a
    formula quoted with an apostrophe (export/csvfile.py's `neutral`, in SQL)."""
    from gongkai.export.csvfile import FORMULA_STARTS

    starts = ", ".join(_literal(s) for s in FORMULA_STARTS)
    columns = []
    for c in panel_columns():
        if c.kind == "VARCHAR[]":
            columns.append(f"array_to_string({c.name}, ' ') AS {c.name}")
        elif c.kind == "VARCHAR":
            columns.append(f"CASE WHEN left({c.name}, 1) IN ({starts}) THEN {_literal(APOSTROPHE)} || {c.name} ELSE {c.name} END AS {c.name}")
        else:
            columns.append(c.name)
    return f"SELECT {', '.join(columns)} FROM {VIEW} ORDER BY year, body_id"


APOSTROPHE = "'"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _csv(con, target: Path) -> Path:
    """DuckDB writes it: numbers as numbers, blanks empty, one header row, UTF-8 without BOM."""
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({_csv_select()}) TO {_literal(str(tmp))} (FORMAT csv, HEADER true, DELIMITER ',', NULLSTR '')")
    tmp.replace(target)
    return target


def _xlsx(con, target: Path) -> Path:
    import xlsxwriter

    from gongkai.export.xlsx import CORRECTED_FILL, write_cell, write_header
    from gongkai.regions import LEVEL_ZH
    from gongkai.report import BODY_TYPE_ZH
    from gongkai.store.panel import ROSTER_STATES

    rows = con.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0]
    if rows > EXCEL_ROWS:
        raise GongkaiError(f"面板有 {rows} 行，超过 Excel 一个工作表的上限（{EXCEL_ROWS} 行）：请导出 .parquet 或 .csv")
    columns = panel_columns()
    names = [c.name for c in columns]
    position = {name: i for i, name in enumerate(names)}
    shown = {position["body_type"]: BODY_TYPE_ZH, position["roster_state"]: ROSTER_STATES, position["division_level"]: LEVEL_ZH}
    tmp = target.with_name(f".{target.name}.tmp.xlsx")
    book = xlsxwriter.Workbook(str(tmp), {"constant_memory": True, "strings_to_urls": False, "strings_to_formulas": False})
    styles = {
        "zh": book.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7", "border": 1}),
        "id": book.add_format({"font_color": "#595959", "font_size": 9, "bg_color": "#F2F2F2"}),
        "corrected": book.add_format({"bg_color": CORRECTED_FILL}),
    }
    sheet = book.add_worksheet("面板")
    write_header(sheet, [(c.name, f"{c.label_zh}（{c.unit}）" if c.unit else c.label_zh) for c in columns], styles)
    sheet.set_column(0, len(names) - 1, 10)
    sheet.set_column(position["body_name"], position["body_name"], 32)
    sheet.freeze_panes(2, position["body_name"] + 1)
    cursor = con.execute(_select())
    row_index = 1
    corrected_at = position["corrected_cells"]
    while chunk := cursor.fetchmany(CHUNK):
        for values in chunk:
            row_index += 1
            fixed = {position[c] for c in values[corrected_at] or [] if c in position}
            for col, value in enumerate(values):
                if col in shown and value is not None:
                    value = shown[col].get(value, value)
                elif isinstance(value, list):
                    value = " ".join(value) or None
                write_cell(sheet, row_index, col, value, styles["corrected"] if col in fixed else None)
    sheet.autofilter(1, 0, max(row_index, 2), len(names) - 1)
    _columns_sheet(book.add_worksheet("字段说明"), columns, styles)
    book.close()
    tmp.replace(target)
    return target


def _columns_sheet(sheet, columns: tuple[PanelColumn, ...], styles) -> None:
    """Every column of the panel: its id, Chinese name, unit and description (the data dictionary, docs/data.md)."""
    from gongkai.export.xlsx import write_cell, write_header

    write_header(sheet, [("column", "列名"), ("label_zh", "中文名"), ("unit", "单位"), ("comment", "说明")], styles)
    for col, width in enumerate((40, 30, 8, 100)):
        sheet.set_column(col, col, width)
    for row_index, c in enumerate(columns, start=2):
        for col, value in enumerate((c.name, c.label_zh, c.unit or None, c.comment)):
            write_cell(sheet, row_index, col, value, None)
