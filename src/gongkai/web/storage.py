"""Where the server keeps things: uploaded files and report JSON under sha256 names, and the corpus store.

File names are always chosen by the server (the sha256 of the content); a client's file name is
only ever shown, escaped, never used as a path.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from pathlib import Path

import duckdb

from gongkai.cells import all_cells
from gongkai.report import Report

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# DuckDB refuses a second handle on a file that one is writing: every open in this process takes turns
_store_lock = threading.RLock()


def is_sha256(value: str) -> bool:
    return bool(SHA256.match(value))


class DataDir:
    """The server's data directory: files/<sha256> (the upload) and reports/<sha256>.json (the parse)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.files = self.root / "files"
        self.reports = self.root / "reports"
        for d in (self.files, self.reports):
            d.mkdir(parents=True, exist_ok=True)

    def file_path(self, sha256: str) -> Path:
        assert is_sha256(sha256)
        return self.files / sha256

    def save_file(self, sha256: str, data: bytes) -> Path:
        path = self.file_path(sha256)
        if not path.exists():
            tmp = path.with_suffix(".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    def save_report(self, report: Report) -> None:
        path = self.reports / f"{report.source.sha256}.json"
        tmp = path.with_suffix(".part")
        tmp.write_text(report.to_json(), encoding="utf-8")
        tmp.replace(path)

    def load_report(self, sha256: str) -> Report | None:
        if not is_sha256(sha256):
            return None
        path = self.reports / f"{sha256}.json"
        if not path.exists():
            return None
        return Report.model_validate_json(path.read_text(encoding="utf-8"))

    def report_shas(self) -> list[str]:
        return [p.stem for p in self.reports.glob("*.json") if is_sha256(p.stem)]


@contextlib.contextmanager
def open_store(db: Path, *, write: bool = False):
    """A short-lived DuckDB connection (the file may be shared with `gongkai batch`)."""
    with _store_lock:
        if not write and not Path(db).exists():
            con = duckdb.connect(":memory:")
        else:
            con = duckdb.connect(str(db), read_only=False)
        try:
            yield con
        finally:
            con.close()


def _cell_type(spec) -> str:
    return "DOUBLE" if spec.is_amount else "BIGINT"


def ensure_tables(con) -> None:
    """Create `reports` and `findings` as output.md fixes them, when the store has none yet."""
    cell_cols = ", ".join(f'"{c.id}" {_cell_type(c)}' for c in all_cells())
    con.execute(
        "CREATE TABLE IF NOT EXISTS reports (sha256 VARCHAR, path VARCHAR, agency VARCHAR, year INTEGER, "
        f"published VARCHAR, template VARCHAR, {cell_cols}, errors INTEGER, warnings INTEGER, "
        "body_type VARCHAR, region VARCHAR, format VARCHAR)")
    con.execute("CREATE TABLE IF NOT EXISTS findings (sha256 VARCHAR, rule VARCHAR, severity VARCHAR, "
                "origin VARCHAR, message VARCHAR, cells VARCHAR[])")


def report_row(report: Report) -> dict:
    """One `reports` row of output.md for a report."""
    row = {
        "sha256": report.source.sha256, "path": report.source.path, "agency": report.meta.agency,
        "year": report.meta.year, "published": report.meta.published, "template": report.meta.template,
        "body_type": report.meta.body_type, "region": report.meta.region, "format": report.source.format,
        "errors": len(report.errors), "warnings": len(report.warnings),
    }
    for spec in all_cells():
        row[spec.id] = report.cells.get(spec.id)
    return row


def add_to_store(db: Path, *reports: Report) -> None:
    """Put parsed reports into the store, replacing earlier rows of the same sha256.

    Goes through the store package (its rows, its shards, its corpus rules) when it is there,
    so an upload and `gongkai batch` never disagree; else inserts the rows of output.md itself.
    """
    try:
        from gongkai.store import Store
        from gongkai.store.rows import report_rows
    except ImportError:
        Store = None
    with _store_lock:
        if Store is not None:
            with Store(db) as store:
                store.add([report_rows(r, r.source.path or r.source.sha256) for r in reports])
                store.refresh()
            return
        with open_store(db, write=True) as con:
            ensure_tables(con)
            for report in reports:
                _insert(con, report)


def _insert(con, report: Report) -> None:
    columns = {r[0]: r[1] for r in con.execute("DESCRIBE reports").fetchall()}
    row = {k: v for k, v in report_row(report).items() if k in columns}
    con.execute("BEGIN")
    try:
        con.execute("DELETE FROM reports WHERE sha256 = ?", [report.source.sha256])
        con.execute("DELETE FROM findings WHERE sha256 = ? AND rule NOT LIKE 'corpus.%'", [report.source.sha256])
        names = ", ".join(f'"{k}"' for k in row)
        con.execute(f"INSERT INTO reports ({names}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
        cells_type = {r[0]: r[1] for r in con.execute("DESCRIBE findings").fetchall()}.get("cells", "VARCHAR[]")
        for f in report.findings:
            cells = f.cells if cells_type.endswith("[]") else json.dumps(f.cells, ensure_ascii=False)
            con.execute("INSERT INTO findings (sha256, rule, severity, origin, message, cells) VALUES (?, ?, ?, ?, ?, ?)",
                        [report.source.sha256, f.rule, f.severity, f.origin, f.message, cells])
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
