"""Parquet: reports to out.parquet, findings to out.findings.parquet (cells as lists)."""

from __future__ import annotations

from pathlib import Path

from gongkai.export.tables import findings_query, has_corrections, reports_query


def _copy(con, sql: str, target: Path) -> None:
    tmp = target.with_name(f".{target.name}.tmp")
    con.execute(f"COPY ({sql}) TO '{_literal(tmp)}' (FORMAT parquet, COMPRESSION zstd)")
    tmp.replace(target)


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def write_parquet(con, target: Path, *, with_text: bool = False) -> list[Path]:
    from gongkai.export import findings_path

    corrected = has_corrections(con)
    _copy(con, reports_query(with_text, corrected=corrected), target)
    findings = findings_path(target)
    _copy(con, findings_query(corrected=corrected), findings)
    return [target, findings]
