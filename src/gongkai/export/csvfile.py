"""CSV: reports to out.csv, findings to out.findings.csv (UTF-8 with BOM, so Excel reads the Chinese)."""

from __future__ import annotations

import csv
from pathlib import Path

from gongkai.export.tables import (
    FINDING_COLUMNS,
    findings_query,
    has_corrections,
    report_columns,
    reports_query,
)

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what Excel and LibreOffice take for the start of a formula


def neutral(value):
    """A text cell that a spreadsheet would run as a formula (`=1+2`, `@SUM(…)`, `-2+3+cmd|…`), quoted with
    a leading apostrophe, as OWASP advises; numbers, negative ones included, stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _write(con, sql: str, header: list[str], target: Path) -> None:
    cursor = con.execute(sql)
    tmp = target.with_name(f".{target.name}.tmp")
    with open(tmp, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        while rows := cursor.fetchmany(CHUNK):
            writer.writerows([neutral(v) for v in row] for row in rows)
    tmp.replace(target)


def write_csv(con, target: Path, *, with_text: bool = False) -> list[Path]:
    from gongkai.export import findings_path

    corrected = has_corrections(con)
    _write(con, reports_query(with_text, corrected=corrected), [name for name, _ in report_columns(with_text, corrected)], target)
    findings = findings_path(target)
    _write(con, findings_query(cells_as_text=True, corrected=corrected), list(FINDING_COLUMNS), findings)
    return [target, findings]
