"""The queries every export shares: which columns, in which order, with which Chinese headers."""

from __future__ import annotations

from gongkai.store.schema import FINDING_HEADERS, SECTIONS, quote, report_fields

ORDER = "year NULLS LAST, agency NULLS LAST, sha256"
FINDING_COLUMNS = ("sha256", "path", "agency", "year", "rule", "severity", "origin", "message", "cells", "suspects", "related")


def report_columns(with_text: bool = False) -> list[tuple[str, str]]:
    """(column, Chinese header) of the exported reports table: the contract's columns, then ours."""
    skip = set() if with_text else {name for name, _, _ in SECTIONS}
    return [(name, zh) for name, _, zh in report_fields() if name not in skip]


def reports_query(with_text: bool = False, where: str = "", columns: list[str] | None = None) -> str:
    """The reports, in the contract's column order or in `columns`."""
    names = columns or [name for name, _ in report_columns(with_text)]
    return f"SELECT {', '.join(quote(name) for name in names)} FROM reports {where} ORDER BY {ORDER}"


def findings_query(cells_as_text: bool = False) -> str:
    """Findings with the report's path, agency and year beside them (report order, then finding order)."""
    cells = "array_to_string(f.cells, ' ') AS cells, array_to_string(f.suspects, ' ') AS suspects" if cells_as_text else "f.cells, f.suspects"
    return (
        f"SELECT f.sha256, r.path, r.agency, r.year, f.rule, f.severity, f.origin, f.message, {cells}, f.related "
        f"FROM findings f LEFT JOIN reports r USING (sha256) "
        f"ORDER BY r.year NULLS LAST, r.agency NULLS LAST, f.sha256, f.seq"
    )


def finding_headers() -> list[str]:
    base = {**FINDING_HEADERS, "path": "路径", "agency": "机关", "year": "年度"}
    return [base[c] for c in FINDING_COLUMNS]

