"""Where the server keeps things: uploaded files and report JSON under sha256 names, what is derived
from an upload (page images, source lines, and why one could not be made), and the corpus store.

File names are always chosen by the server (the sha256 of the content); a client's file name is
only ever shown, escaped, never used as a path. Everything is readable by the server's user only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from pathlib import Path

import duckdb

from gongkai.errors import GongkaiError, LimitExceededError, UnreadableError
from gongkai.report import Report
from gongkai.store import Store
from gongkai.store.rows import report_rows

SHA256 = re.compile(r"^[0-9a-f]{64}$")
# DuckDB refuses a second handle on a file that one is writing: every open in this process takes turns
_store_lock = threading.RLock()


def is_sha256(value: str) -> bool:
    return bool(SHA256.match(value))


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole (a temp file renamed), readable and writable by its owner only."""
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


class DataDir:
    """The server's data directory: files/<sha256> (the upload), reports/<sha256>.json (the parse) and
    derived/<sha256>/ (page images, source lines, and the reason one could not be made)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.files = self.root / "files"
        self.reports = self.root / "reports"
        self.derived = self.root / "derived"
        for d in (self.root, self.files, self.reports, self.derived):
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(d, 0o700)

    def file_path(self, sha256: str) -> Path:
        assert is_sha256(sha256)
        return self.files / sha256

    def save_file(self, sha256: str, data: bytes) -> Path:
        path = self.file_path(sha256)
        if not path.exists():
            write_private(path, data)
        return path

    def remove_file(self, sha256: str) -> None:
        """Forget an upload that could not be parsed (nothing will ever show its pages or lines)."""
        if self.load_report(sha256) is None:
            self.file_path(sha256).unlink(missing_ok=True)

    def save_report(self, report: Report) -> None:
        write_private(self.reports / f"{report.source.sha256}.json", report.to_json().encode("utf-8"))

    def derived_path(self, sha256: str, name: str) -> Path:
        """Where something made from upload `sha256` is kept (`name` is the server's own: page-3.png, lines.sqlite)."""
        assert is_sha256(sha256) and "/" not in name
        folder = self.derived / sha256
        folder.mkdir(mode=0o700, exist_ok=True)
        return folder / name

    def derived_failure(self, path: Path) -> GongkaiError | None:
        """The error that an earlier try to make `path` ended with (kept, so a bad file is not tried again)."""
        try:
            kind, message = json.loads((path.parent / (path.name + ".failed")).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return (LimitExceededError if kind == "limit" else UnreadableError)(message)

    def save_derived_failure(self, path: Path, error: GongkaiError) -> None:
        kind = "limit" if isinstance(error, LimitExceededError) else "unreadable"
        write_private(path.parent / (path.name + ".failed"), json.dumps([kind, str(error)], ensure_ascii=False).encode("utf-8"))

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


def add_to_store(db: Path, *reports: Report, actor: str | None = None) -> None:
    """Put parsed reports into the store, replacing earlier rows of the same sha256, through the
    store package (its rows, its shards, its corpus rules), so an upload and `gongkai batch`
    never disagree; then register them as versions (a fixed re-submission is its report's next
    version, `actor` the uploader, in the audit trail)."""
    from gongkai.review import sync_versions

    with _store_lock, Store(db) as store:
        store.add([report_rows(r, r.source.path or r.source.sha256) for r in reports])
        store.refresh()
        sync_versions(store, actor=actor)
