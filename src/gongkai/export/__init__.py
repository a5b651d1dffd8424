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
    with Store(db, read_only=True) as store:
        if suffix == ".xlsx":
            from gongkai.export.xlsx import write_xlsx

            return [write_xlsx(store.con, target, with_text=with_text)]
        if suffix == ".csv":
            from gongkai.export.csvfile import write_csv

            return write_csv(store.con, target, with_text=with_text)
        from gongkai.export.parquet import write_parquet

        return write_parquet(store.con, target, with_text=with_text)


def findings_path(target: Path) -> Path:
    """out.csv → out.findings.csv: where the second table goes."""
    return target.with_name(f"{target.stem}.findings{target.suffix}")
