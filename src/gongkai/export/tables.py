"""The queries every export shares: which columns, in which order, with which Chinese headers."""

from __future__ import annotations

from gongkai.cells import by_id
from gongkai.store.review_tables import LATEST_CORRECTION
from gongkai.store.schema import FINDING_HEADERS, SECTIONS, duck_type, quote, report_fields

ORDER = "year NULLS LAST, agency NULLS LAST, sha256"
FINDING_COLUMNS = ("sha256", "path", "agency", "year", "rule", "severity", "origin", "message", "cells", "suspects", "related")
# review (gongkai.review): which cells of the row a person corrected; the row carries their current values
CORRECTED = ("corrected_cells", "人工更正的单元格")



def has_corrections(con) -> bool:
    """Whether a person corrected any cell in this store (a store never reviewed has no such table)."""
    try:
        return bool(con.execute("SELECT count(*) FROM corrections").fetchone()[0])
    except Exception:  # noqa: BLE001 — an older store without the review tables
        return False


def report_columns(with_text: bool = False, corrected: bool = False) -> list[tuple[str, str]]:
    """(column, Chinese header) of the exported reports table: the contract's columns, then ours."""
    skip = set() if with_text else {name for name, _, _ in SECTIONS}
    return [(name, zh) for name, _, zh in report_fields() if name not in skip] + ([CORRECTED] if corrected else [])


def reports_query(with_text: bool = False, where: str = "", columns: list[str] | None = None, corrected: bool = False) -> str:
    """The reports, in the contract's column order or in `columns`; with `corrected`, every cell a person corrected
    carries its current value, the counts are those of the corrected version, and `corrected_cells` names them."""
    names = columns or [name for name, _ in report_columns(with_text, corrected)]
    if not corrected:
        return f"SELECT {', '.join(quote(name) for name in names)} FROM reports {where} ORDER BY {ORDER}"
    kinds = {name: kind for name, kind, _ in report_fields()}
    selected = []
    for name in names:
        if name in by_id():
            literal = "'" + name + "'"
            selected.append(f"CASE WHEN map_contains(cc.vals, {literal}) THEN CAST(cc.vals[{literal}] AS {duck_type(kinds[name])}) "
                            f"ELSE reports.{quote(name)} END AS {quote(name)}")  # fmt: skip
        elif name in ("errors", "warnings"):
            selected.append(f"coalesce(cf.{name}, reports.{name}) AS {name}")
        elif name == CORRECTED[0]:
            selected.append(f"array_to_string(cc.cells, ' ') AS {CORRECTED[0]}")
        else:
            selected.append(f"reports.{quote(name)}")
    return (
        f"SELECT {', '.join(selected)} FROM reports "
        "LEFT JOIN (SELECT sha256, map_from_entries(list(struct_pack(k := cell_id, v := value))) AS vals, list(cell_id ORDER BY cell_id) AS cells "
        "FROM current_cells GROUP BY sha256) cc USING (sha256) "
        "LEFT JOIN (SELECT c.sha256, count(f.rule) FILTER (WHERE f.severity = 'error')::INTEGER AS errors, "
        "count(f.rule) FILTER (WHERE f.severity = 'warning')::INTEGER AS warnings "
        f"FROM ({LATEST_CORRECTION}) c LEFT JOIN version_findings f ON f.lineage = c.lineage AND f.version = c.version GROUP BY c.sha256) cf "
        f"USING (sha256) {where} ORDER BY {ORDER}"
    )


def findings_source(corrected: bool = False) -> str:
    """The findings of every report file: stored, or for a file a person corrected, those of its corrected version."""
    if not corrected:
        return "findings"
    return (
        f"(SELECT sha256, seq, rule, severity, origin, message, cells, suspects, related FROM findings "
        f"WHERE sha256 NOT IN (SELECT sha256 FROM ({LATEST_CORRECTION})) "
        f"UNION ALL SELECT c.sha256, f.seq, f.rule, f.severity, f.origin, f.message, f.cells, f.suspects, f.related "
        f"FROM ({LATEST_CORRECTION}) c JOIN version_findings f ON f.lineage = c.lineage AND f.version = c.version)"
    )


def findings_query(cells_as_text: bool = False, corrected: bool = False) -> str:
    """Findings with the report's path, agency and year beside them (report order, then finding order)."""
    cells = "array_to_string(f.cells, ' ') AS cells, array_to_string(f.suspects, ' ') AS suspects" if cells_as_text else "f.cells, f.suspects"
    return (
        f"SELECT f.sha256, r.path, r.agency, r.year, f.rule, f.severity, f.origin, f.message, {cells}, f.related "
        f"FROM {findings_source(corrected)} f LEFT JOIN reports r USING (sha256) "
        f"ORDER BY r.year NULLS LAST, r.agency NULLS LAST, f.sha256, f.seq"
    )


def finding_headers() -> list[str]:
    base = {**FINDING_HEADERS, "path": "路径", "agency": "机关", "year": "年度"}
    return [base[c] for c in FINDING_COLUMNS]

