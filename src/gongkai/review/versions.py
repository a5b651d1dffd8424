"""Versions of a report: every file for one body and year, and every correction a person made, in order.

A report's lineage is one body's report for one year (`2023:长沙市望城区教育局`, the body key of
store/bodies.py). `sync_versions` registers every report the store holds that is not a version yet:
the first file of a lineage is version 1, a later file for the same body and year (a re-submission,
by batch or upload) the next one, and `correct` adds versions of its own. The rows of a version a
later one supersedes are archived at that moment (cells and findings), so a file replaced on disk —
whose rows a batch then removes — can still be compared and its decisions still make sense.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa

from gongkai.cells import by_id, cell_ids, label
from gongkai.review import log
from gongkai.review.model import NOT_REVIEWED, CellChange, FindingRow, ReviewError, Version, VersionDiff, with_ids
from gongkai.store.schema import cell_columns, quote

VERSION_COLUMNS = ("lineage", "version", "kind", "sha256", "agency", "year", "published", "path", "registered_at", "actor", "note")

_NEW_FILES = """
SELECT r.sha256, r.body_key, r.agency, r.year, r.published, r.template, r.body_type, r.region, r.path
FROM reports r
WHERE NOT EXISTS (SELECT 1 FROM report_versions v WHERE v.kind = 'file' AND v.sha256 = r.sha256)
ORDER BY r.year NULLS LAST, r.body_key NULLS LAST, r.published NULLS LAST, r.path, r.sha256
"""

_LINEAGE_KEYS = """
SELECT v.lineage, v.year, coalesce(r.body_key, v.body_key) FROM report_versions v LEFT JOIN reports r USING (sha256)
WHERE v.kind = 'file' ORDER BY v.lineage, v.version
"""


def lineage_name(year: int | None, body_key: str | None, sha256: str) -> str:
    """`year:body key`, or `file:sha256` for a report whose body or year could not be read."""
    if year is not None and body_key:
        return f"{year}:{body_key}"
    return f"file:{sha256}"


def _insert(con, table: str, rows: list[dict], schema: pa.Schema) -> None:
    if not rows:
        return
    data = pa.Table.from_pylist(rows, schema=schema)
    con.complete()  # DuckDB 2 refuses register() while a fetchone() before left its result open
    con.register("gk_rows", data)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM gk_rows")
    finally:
        con.unregister("gk_rows")


VERSION_SCHEMA = pa.schema([
    ("lineage", pa.string()), ("version", pa.int32()), ("kind", pa.string()), ("sha256", pa.string()),
    ("body_key", pa.string()), ("agency", pa.string()), ("year", pa.int32()), ("published", pa.date32()),
    ("template", pa.string()), ("body_type", pa.string()), ("region", pa.string()), ("path", pa.string()),
    ("registered_at", pa.timestamp("us")), ("actor", pa.string()), ("note", pa.string()), ("snapshot_at", pa.timestamp("us")),
])  # fmt: skip
LOG_SCHEMA = pa.schema([
    ("done_at", pa.timestamp("us")), ("actor", pa.string()), ("action", pa.string()), ("lineage", pa.string()), ("sha256", pa.string()),
    ("target", pa.string()), ("old_value", pa.string()), ("new_value", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
])  # fmt: skip
CELL_SCHEMA = pa.schema([("lineage", pa.string()), ("version", pa.int32()), ("cell_id", pa.string()), ("value", pa.float64())])


def sync_versions(store, actor: str | None = None) -> list[Version]:
    """Register every stored report that is not a version yet; returns the new versions.

    Cheap when nothing is new (one query). Called by every review and audit function, so a batch,
    an upload or a re-submission is seen the next time anyone looks; the web app may call it right
    after an upload with the uploader as `actor`.
    """
    from gongkai.store.review_tables import has_review_tables

    con = store.con
    if not has_review_tables(con):
        raise ReviewError(f"{getattr(store, 'path', '数据库')}：还没有审核用的表（须以可写方式打开：Store(db)，而不是 read_only）")
    new = con.execute(_NEW_FILES).fetchall()
    if not new:
        return []
    by_key: dict[tuple[int, str], str] = {}
    for lineage, year, key in con.execute(_LINEAGE_KEYS).fetchall():
        if year is not None and key:
            by_key.setdefault((year, key), lineage)
    last = dict(con.execute("SELECT lineage, max(version) FROM report_versions GROUP BY lineage").fetchall())
    when = log.now()
    rows, entries, superseded, added = [], [], [], []
    for sha, key, agency, year, published, template, body_type, region, path in new:
        lineage = by_key.get((year, key)) if year is not None and key else None
        if lineage is None:
            lineage = base = lineage_name(year, key, sha)
            n = 2
            while lineage in last:
                lineage, n = f"{base}#{n}", n + 1
            if year is not None and key:
                by_key[(year, key)] = lineage
        number = last.get(lineage, 0) + 1
        if number > 1:
            superseded.append((lineage, number - 1))
        last[lineage] = number
        rows.append({"lineage": lineage, "version": number, "kind": "file", "sha256": sha, "body_key": key, "agency": agency,
                     "year": year, "published": published, "template": template, "body_type": body_type, "region": region,
                     "path": path, "registered_at": when, "actor": actor})  # fmt: skip
        entries.append({"done_at": when, "actor": actor, "action": "version", "lineage": lineage, "sha256": sha, "target": f"第{number}版",
                        "new_value": path, "detail": "首次入库" if number == 1 else "重新提交的新文件"})  # fmt: skip
        added.append(Version(lineage, number, "file", sha, agency, year, published, path, when, actor))
    con.execute("BEGIN TRANSACTION")
    try:
        for lineage, version in superseded:  # archive what is superseded while its rows are still there
            snapshot(con, lineage, version, when, refresh=True)
        _insert(con, "report_versions", rows, VERSION_SCHEMA)
        log_many(con, entries)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return added


def log_many(con, entries: list[dict]) -> None:
    """Append many log entries at once (a first sync of a large store registers every report)."""
    if not entries:
        return
    from gongkai.store.review_tables import SEQUENCE

    data = pa.Table.from_pylist(entries, schema=LOG_SCHEMA)
    con.complete()  # as in `_insert`
    con.register("gk_log", data)
    try:
        con.execute(f"INSERT INTO audit_log SELECT nextval('{SEQUENCE}') AS seq, * FROM gk_log")
    finally:
        con.unregister("gk_log")


# ── reading versions ─────────────────────────────────────────────────────────────────────────


def resolve_sha(store, text: str) -> str:
    """A report's sha256 from itself or a unique prefix of at least 8 characters."""
    value = (text or "").strip().lower()
    if len(value) < 8 or any(ch not in "0123456789abcdef" for ch in value):
        raise ReviewError(f"“{text}”不是报告的 SHA-256（至少 8 位十六进制）")
    rows = store.con.execute(
        "SELECT DISTINCT sha256 FROM (SELECT sha256 FROM reports UNION SELECT sha256 FROM report_versions) WHERE starts_with(sha256, ?)",
        [value]).fetchall()  # fmt: skip
    if not rows:
        raise ReviewError(f"库中没有这份报告：{text}")
    if len(rows) > 1:
        raise ReviewError(f"“{text}”对应多份报告，请写出更长的 SHA-256")
    return rows[0][0]


def lineage_of(store, report: str) -> str:
    """The lineage of a report given by sha256 (or a prefix of one) or by its lineage."""
    con = store.con
    if con.execute("SELECT 1 FROM report_versions WHERE lineage = ? LIMIT 1", [report]).fetchone():
        return report
    sha = resolve_sha(store, report)
    row = con.execute("SELECT lineage FROM report_versions WHERE sha256 = ? ORDER BY version LIMIT 1", [sha]).fetchone()
    if row is None:
        sync_versions(store)
        row = con.execute("SELECT lineage FROM report_versions WHERE sha256 = ? ORDER BY version LIMIT 1", [sha]).fetchone()
    if row is None:
        raise ReviewError(f"库中没有这份报告：{report}")
    return row[0]


def versions(store, report: str) -> list[Version]:
    """Every version of a report (sha256 of any of its files, or its lineage), the first first."""
    sync_versions(store)
    lineage = lineage_of(store, report)
    rows = store.con.execute(f"SELECT {', '.join(VERSION_COLUMNS)} FROM report_versions WHERE lineage = ? ORDER BY version",
                             [lineage]).fetchall()  # fmt: skip
    return [Version(*row) for row in rows]


def current_version(store, report: str) -> Version:
    return versions(store, report)[-1]


def _typed(cell_id: str, value):
    """A stored DOUBLE back as the cell's type: counts are whole numbers, amounts 万元."""
    if value is None:
        return None
    spec = by_id().get(cell_id)
    if spec is not None and not spec.is_amount and float(value) == int(value):
        return int(value)
    return float(value)


def live_cells(con, sha256: str) -> dict | None:
    """The parsed cells of a report file as the store holds them (those of its template), or None when not stored."""
    columns = [c for c in cell_columns()]
    row = con.execute(f"SELECT template, {', '.join(quote(c) for c in columns)} FROM reports WHERE sha256 = ?", [sha256]).fetchone()
    if row is None:
        return None
    template, values = row[0], dict(zip(columns, row[1:]))
    if template:
        return {c: _typed(c, values[c]) for c in cell_ids(template)}
    return {c: _typed(c, v) for c, v in values.items() if v is not None}


def corrections_of(con, sha256: str) -> dict[str, dict]:
    """Every cell a person corrected in this file: its current value, the parsed one, who, when, why."""
    rows = con.execute("SELECT cell_id, value, parsed_value, version, reason, actor, done_at FROM current_cells WHERE sha256 = ?", [sha256]).fetchall()
    return {cell: {"value": _typed(cell, value), "parsed": _typed(cell, parsed), "version": version, "reason": reason, "actor": actor, "at": at}
            for cell, value, parsed, version, reason, actor, at in rows}  # fmt: skip


def cells_of(con, version: Version) -> dict | None:
    """A version's cells: a file's as stored (or archived, once its rows are gone), a correction's as archived."""
    if version.kind == "file":
        live = live_cells(con, version.sha256)
        if live is not None:
            return live
    rows = con.execute("SELECT cell_id, value FROM version_cells WHERE lineage = ? AND version = ?", [version.lineage, version.version]).fetchall()
    if not rows and not _archived(con, version.lineage, version.version):
        return None
    return {cell: _typed(cell, value) for cell, value in rows}


def _archived(con, lineage: str, version: int) -> bool:
    row = con.execute("SELECT snapshot_at FROM report_versions WHERE lineage = ? AND version = ?", [lineage, version]).fetchone()
    return bool(row and row[0] is not None)


_RAW_FINDING = "lineage, version, sha256, seq, rule, severity, origin, message, cells, suspects, related"


def findings_of(con, version: Version) -> list[dict] | None:
    """A version's findings with their ids: a file's as stored (archived once its rows are gone), a correction's as archived."""
    if version.kind == "file" and con.execute("SELECT 1 FROM reports WHERE sha256 = ?", [version.sha256]).fetchone():
        raw = "SELECT ?::VARCHAR AS lineage, ?::INTEGER AS version, sha256, seq, rule, severity, origin, message, cells, suspects, related FROM findings WHERE sha256 = ?"
        cursor = con.execute(f"{with_ids(raw)} ORDER BY seq", [version.lineage, version.version, version.sha256])
    elif _archived(con, version.lineage, version.version):
        cursor = con.execute(
            "SELECT finding_id, lineage, version, ? AS sha256, seq, rule, severity, origin, message, cells, suspects, related "
            "FROM version_findings WHERE lineage = ? AND version = ? ORDER BY seq", [version.sha256, version.lineage, version.version])  # fmt: skip
    else:
        return None
    names = [d[0] for d in cursor.description]
    return [f for f in (dict(zip(names, row)) for row in cursor.fetchall()) if f["rule"] not in NOT_REVIEWED]


def snapshot(con, lineage: str, version: int, when: datetime, *, refresh: bool = False) -> bool:
    """Archive a file version's cells and findings from the live tables (inside the caller's transaction).

    Once archived a version stays so, unless `refresh` (the moment it is superseded) and its rows are still there.
    Returns whether the version is archived.
    """
    row = con.execute("SELECT kind, sha256, snapshot_at FROM report_versions WHERE lineage = ? AND version = ?", [lineage, version]).fetchone()
    if row is None:
        return False
    kind, sha, archived = row
    if kind != "file" or (archived is not None and not refresh):
        return archived is not None
    cells = live_cells(con, sha)
    if cells is None:
        return archived is not None
    con.execute("DELETE FROM version_cells WHERE lineage = ? AND version = ?", [lineage, version])
    con.execute("DELETE FROM version_findings WHERE lineage = ? AND version = ?", [lineage, version])
    _insert(con, "version_cells", [{"lineage": lineage, "version": version, "cell_id": c, "value": None if v is None else float(v)}
                                   for c, v in cells.items()], CELL_SCHEMA)  # fmt: skip
    raw = f"SELECT ?::VARCHAR AS lineage, ?::INTEGER AS version, {_RAW_FINDING.split(', ', 2)[2]} FROM findings WHERE sha256 = ?"
    con.execute(f"INSERT INTO version_findings BY NAME SELECT * EXCLUDE (sha256) FROM ({with_ids(raw)})", [lineage, version, sha])
    con.execute("UPDATE report_versions SET snapshot_at = ? WHERE lineage = ? AND version = ?", [when, lineage, version])
    return True


def archive_current(con, lineage: str, when: datetime) -> None:
    """Archive the current version of a lineage if it is not yet (before a decision, a correction or a notice refers to it)."""
    row = con.execute("SELECT max(version) FROM report_versions WHERE lineage = ?", [lineage]).fetchone()
    if row and row[0]:
        snapshot(con, lineage, row[0], when)


# ── the current values of a report file, and two versions compared ───────────────────────────


@dataclass(slots=True)
class Current:
    """A report file's cells as they stand: parsed, plus what a person corrected (marked), and its version."""

    sha256: str
    version: Version
    cells: dict[str, int | float | None]
    parsed: dict[str, int | float | None]
    corrected: dict[str, dict] = field(default_factory=dict)  # cell → {value, parsed, reason, actor, at, version}

    def to_dict(self) -> dict:
        from gongkai.review.model import _plain

        return {"sha256": self.sha256, "version": self.version.to_dict(), "cells": self.cells,
                "corrected": {c: {k: _plain(v) for k, v in info.items()} for c, info in self.corrected.items()}}  # fmt: skip


def current(store, sha256: str) -> Current:
    """The current values of one report file: its parsed cells with every correction made on it, each marked."""
    sync_versions(store)
    sha = resolve_sha(store, sha256)
    con = store.con
    parsed = live_cells(con, sha)
    if parsed is None:
        raise ReviewError(f"库中没有这份报告的数据：{sha256}")
    corrected = corrections_of(con, sha)
    row = con.execute(f"SELECT {', '.join(VERSION_COLUMNS)} FROM report_versions WHERE sha256 = ? ORDER BY version DESC LIMIT 1", [sha]).fetchone()
    return Current(sha, Version(*row), {**parsed, **{c: info["value"] for c, info in corrected.items()}}, parsed, corrected)


def diff(store, report: str, old: int | None = None, new: int | None = None) -> VersionDiff:
    """Two versions of a report compared (by default the current one and the one before): cells and findings."""
    from gongkai.review.decisions import statuses

    every = versions(store, report)
    numbers = {v.version: v for v in every}
    new = new if new is not None else every[-1].version
    old = old if old is not None else new - 1
    if old not in numbers or new not in numbers or old == new:
        have = "、".join(str(v.version) for v in every)
        raise ReviewError(f"这份报告只有第 {have} 版，无法比较第 {old} 版与第 {new} 版")
    a, b = numbers[old], numbers[new]
    con = store.con
    cells_a, cells_b = cells_of(con, a), cells_of(con, b) or {}
    changes = []
    if cells_a is not None:
        for cell in [c for c in cell_columns() if c in cells_a or c in cells_b]:
            before, after = cells_a.get(cell), cells_b.get(cell)
            if before != after:
                changes.append(CellChange(cell, label(cell), before, after))
    found_a, found_b = findings_of(con, a), findings_of(con, b) or []
    status = statuses(con)
    current_number = every[-1].version

    def row(f: dict, gone: bool) -> FindingRow:
        decided = status.get(f["finding_id"], {})
        state = "resolved" if gone and b.version == current_number else decided.get("status", "open")
        return FindingRow(f["finding_id"], f["lineage"], f["version"], f["sha256"], a.agency, a.year, f["rule"], f["severity"],
                          f["origin"], f["message"] or "", list(f["cells"] or []), list(f["suspects"] or []), f["related"], state,
                          decided.get("reason"), decided.get("actor"), decided.get("at"))  # fmt: skip

    ids_b = {f["finding_id"] for f in found_b}
    ids_a = {f["finding_id"] for f in found_a} if found_a is not None else ids_b  # unknown: nothing said to be gained or lost
    return VersionDiff(
        lineage=a.lineage, old=a, new=b, cells=changes,
        added=[row(f, False) for f in found_b if f["finding_id"] not in ids_a],
        resolved=[row(f, True) for f in found_a or [] if f["finding_id"] not in ids_b],
        kept=[row(f, False) for f in found_b if f["finding_id"] in ids_a],
        old_available=cells_a is not None and found_a is not None,
    )  # fmt: skip
