"""Where the server keeps things: uploaded files and report JSON under sha256 names, and the corpus store.

File names are always chosen by the server (the sha256 of the content); a client's file name is
only ever shown, escaped, never used as a path.
"""

from __future__ import annotations

import contextlib
import re
import threading
from pathlib import Path

import duckdb

from gongkai.report import Report
from gongkai.store import Store
from gongkai.store.rows import report_rows

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


def add_to_store(db: Path, *reports: Report) -> None:
    """Put parsed reports into the store, replacing earlier rows of the same sha256, through the
    store package (its rows, its shards, its corpus rules), so an upload and `gongkai batch`
    never disagree."""
    with _store_lock, Store(db) as store:
        store.add([report_rows(r, r.source.path or r.source.sha256) for r in reports])
        store.refresh()
