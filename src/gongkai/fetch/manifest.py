"""The manifest of a fetch folder: one JSON line per URL handled, appended as it happens.

DIR/manifest.jsonl holds a `Record` per request the fetch made or refused (kind robots | list |
detail | file | image): the URL, where it ended up, the detail page and title it was found under,
the validators the server gave (ETag, Last-Modified, Date), the sha256 and name of what was
saved, and the status. A later line for the same (kind, url) supersedes an earlier one.

Crash safety: a line is written by one `write` and flushed before the next request, so a kill -9
loses at most the line being written; a torn last line is skipped when read. A run starts by
compacting the log to its latest lines in a new file renamed over the old one, so the manifest
is never half-rewritten. Saved files are written beside it under a temporary name and renamed
into place before their line is written: a file named in the manifest is always whole.

This module imports nothing of the network: `gongkai batch` reads manifests with it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

MANIFEST = "manifest.jsonl"
CACHE = ".fetch-cache"  # list and detail pages as last seen, for conditional requests (hidden: batch skips it)

KINDS = ("robots", "list", "detail", "file", "image")
# downloaded: new or changed bytes saved; unchanged: the server said 304 or sent the same bytes;
# failed: no usable answer (reason says why); skipped: not requested on purpose (outside the site, robots.txt)
STATUSES = ("downloaded", "unchanged", "failed", "skipped")
CHINA = timezone(timedelta(hours=8))


@dataclass(slots=True)
class Record:
    kind: str
    url: str
    status: str
    final_url: str | None = None  # after redirects
    detail: str | None = None  # the detail page a file or image was linked from
    title: str | None = None  # the report's title as the site lists it
    listed: str | None = None  # the date printed beside the link on the list page (YYYY-MM-DD)
    http_date: str | None = None  # the response's Date header
    last_modified: str | None = None
    etag: str | None = None
    sha256: str | None = None
    saved: str | None = None  # path relative to the folder (file, image) or the cached page's name
    bytes: int | None = None
    mtime_ns: int | None = None  # of the saved file when written: a file changed on disk is fetched again
    content_type: str | None = None
    parts: list[str] | None = None  # a report of several image pages: the image URLs, in order
    reason: str | None = None  # failed or skipped: the kind of trouble, in Chinese (the summary groups by it)
    note: str | None = None  # …and the particulars
    at: str | None = None  # when this line was written (UTC, ISO)

    def to_line(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Record | None:
        known = {f.name for f in fields(cls)}
        if not isinstance(data.get("kind"), str) or not isinstance(data.get("url"), str) or not isinstance(data.get("status"), str):
            return None
        return cls(**{k: v for k, v in data.items() if k in known})


def read_records(path: Path) -> Iterator[Record]:
    """Every well-formed line of a manifest, in order (a line torn by a kill, or garbage, is skipped)."""
    try:
        handle = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return
    with handle:
        for line in handle:
            try:
                data = json.loads(line)
            except ValueError:
                continue
            record = Record.from_dict(data) if isinstance(data, dict) else None
            if record is not None:
                yield record


def latest(path: Path) -> dict[tuple[str, str], Record]:
    """(kind, url) → its last record."""
    return {(r.kind, r.url): r for r in read_records(path)}


class Manifest:
    """The manifest of `folder`, open for appending; `get` answers from the latest lines."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / MANIFEST
        self.records = latest(self.path)
        self._compact()
        self._lock = threading.Lock()
        self._handle = open(self.path, "a", encoding="utf-8")

    def _compact(self) -> None:
        """Rewrite the log as its latest lines (new file, then rename: a kill leaves the old or the new)."""
        if not self.path.exists():
            return
        lines = sum(1 for _ in read_records(self.path))
        if lines == len(self.records) and _ends_cleanly(self.path):
            return
        tmp = self.path.with_name(f".{MANIFEST}.tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            for record in self.records.values():
                out.write(record.to_line())
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)

    def get(self, kind: str, url: str) -> Record | None:
        with self._lock:
            return self.records.get((kind, url))

    def write(self, record: Record) -> Record:
        record.at = datetime.now(UTC).isoformat(timespec="seconds")
        line = record.to_line()
        with self._lock:
            self.records[(record.kind, record.url)] = record
            self._handle.write(line)
            self._handle.flush()  # in the kernel before the next request: a kill -9 keeps it
        return record

    def close(self) -> None:
        with self._lock:
            self._handle.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ends_cleanly(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        if handle.tell() == 0:
            return True
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


# what gongkai batch takes from a manifest ------------------------------------------------


@dataclass(frozen=True, slots=True)
class FetchedFile:
    """A report file a fetch saved: where it lies and where it came from."""

    path: str  # absolute
    url: str  # the address its bytes came from (the attachment, or the page of an inline or image report)
    page: str | None  # the detail page it was linked from
    published_hint: date | None  # the listed date, else the server's Last-Modified (China time)
    hint_from: str | None  # listed | last_modified


def fetched_files(folder: str | os.PathLike) -> list[FetchedFile]:
    """The report files the manifest in `folder` names and that are still there (none without a manifest)."""
    root = os.path.abspath(folder)  # as gongkai batch names the files it finds (symlinks not resolved)
    out = []
    for record in latest(Path(root) / MANIFEST).values():
        if record.kind != "file" or not record.saved:
            continue
        path = os.path.normpath(os.path.join(root, record.saved))
        if os.path.commonpath([path, root]) != root or not os.path.isfile(path):
            continue  # a line naming a path outside the folder is not followed
        hint, hint_from = publication_hint(record)
        out.append(FetchedFile(path, record.url, record.detail, hint, hint_from))
    return out


def publication_hint(record: Record) -> tuple[date | None, str | None]:
    """The date the site lists beside the report, else the day (China time) of its Last-Modified."""
    if record.listed:
        try:
            return date.fromisoformat(record.listed), "listed"
        except ValueError:
            pass
    if record.last_modified:
        try:
            return parsedate_to_datetime(record.last_modified).astimezone(CHINA).date(), "last_modified"
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    return None, None
