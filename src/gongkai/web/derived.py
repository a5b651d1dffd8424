"""What the server makes from an upload's bytes besides its parse — a page image, the source lines —
each written to the data directory by the guarded child (`limits.run_guarded`) that made it.

The server's own memory never holds more than what one answer needs: a page image is read back
from its file, the lines of a report from an SQLite file one range at a time.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from gongkai.errors import LimitExceededError
from gongkai.views import source_lines
from gongkai.web.pages import render_page_png
from gongkai.web.storage import write_private

MAX_PNG_BYTES = 32 * 1024 * 1024
MAX_LINE_CHARS = 2000  # a line is shown as context for a cell; a 2 MB line is cut for display


def render_page_to(data: bytes, out: str, number: int) -> str:
    """Runs in the guarded child: page `number` as PNG into file `out`."""
    png = render_page_png(data, number)
    if len(png) > MAX_PNG_BYTES:
        raise LimitExceededError(f"页面图像过大（超过 {MAX_PNG_BYTES // (1024 * 1024)} MB）")
    write_private(Path(out), png)
    return ""


def write_source_lines(data: bytes, out: str, name: str | None = None) -> str:
    """Runs in the guarded child: every numbered line of the report into SQLite file `out`."""
    tmp = out + ".part"
    if os.path.exists(tmp):
        os.unlink(tmp)
    con = sqlite3.connect(tmp)
    try:
        con.execute("CREATE TABLE lines (n INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        con.executemany("INSERT INTO lines VALUES (?, ?)", ((n, text[:MAX_LINE_CHARS]) for n, text in source_lines(data, name=name).items()))
        con.commit()
    finally:
        con.close()
    os.chmod(tmp, 0o600)
    os.replace(tmp, out)
    return ""


def read_source_lines(path: Path, first: int, last: int) -> list[list]:
    """[line, text] for the lines numbered first…last that the file holds."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [[n, text] for n, text in con.execute("SELECT n, text FROM lines WHERE n BETWEEN ? AND ? ORDER BY n", (first, last))]
    finally:
        con.close()
