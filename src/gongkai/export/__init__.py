"""export/: the corpus tables of a store as CSV, Excel or Parquet (output.md, Corpus tables).

    >>> from gongkai.export import export
    >>> export("corpus.duckdb", "corpus.xlsx")   # or .csv / .parquet (+ corpus.findings.csv / .parquet)
"""

from __future__ import annotations

import os
from pathlib import Path

from gongkai.errors import GongkaiError

FORMATS = (".xlsx", ".csv", ".parquet")


def export(db: str | os.PathLike, to: str | os.PathLike, *, with_text: bool = False) -> list[Path]:
    """Write the store's reports (and findings) to `to`, by its suffix; returns the files written."""
    from gongkai.store import Store

    target = Path(to)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise GongkaiError(f"{target}: 不支持的导出格式（可用 {' / '.join(FORMATS)}）")
    target.parent.mkdir(parents=True, exist_ok=True)
    coverage, summaries = _audit(db) if suffix == ".xlsx" else (None, None)
    with Store(db, read_only=True) as store:
        if suffix == ".xlsx":
            from gongkai.export.xlsx import write_xlsx

            return [write_xlsx(store.con, target, with_text=with_text, coverage=coverage, summaries=summaries)]
        if suffix == ".csv":
            from gongkai.export.csvfile import write_csv

            return write_csv(store.con, target, with_text=with_text)
        from gongkai.export.parquet import write_parquet

        return write_parquet(store.con, target, with_text=with_text)


def _audit(db: str | os.PathLike) -> tuple[list | None, list | None]:
    """When the store has a roster: the coverage of every report year, newest first (the audit's 覆盖情况 sheet),
    and each year's summary of the whole roster (its 汇总 sheet)."""
    from gongkai.store import Store
    from gongkai.store.review_tables import has_review_tables

    with Store(db, read_only=True) as store:
        if not has_review_tables(store.con) or not store.con.execute("SELECT count(*) FROM roster").fetchone()[0]:
            return None, None
    from gongkai.audit import coverage, summary

    with Store(db) as store:  # coverage registers new report versions first: a write
        years = [y for (y,) in store.con.execute("SELECT DISTINCT year FROM reports WHERE year IS NOT NULL ORDER BY year DESC").fetchall()]
        return [row for year in years for row in coverage(store, year)], [summary(store, year) for year in years]


def findings_path(target: Path) -> Path:
    """out.csv → out.findings.csv: where the second table goes."""
    return target.with_name(f"{target.stem}.findings{target.suffix}")
