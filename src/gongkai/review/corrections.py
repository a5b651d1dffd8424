"""Corrections: a person fixes a cell, and the report gets a new version checked again by the same engine.

The parsed value is never overwritten: the correction is a row of its own, and the new version's
cells are the parsed ones plus every correction made on that file. Its findings are not patched
but computed: the source file is read again by the pipeline with the corrected cells in place of
the printed ones (`parse(…, corrections=…)`, in a child process under the usual limits) and judged
by `rules.check`; where the file is gone, the stored cells and section texts go through the same
engine (`draft.check.as_extracted`, the way a clerk's draft is checked). The carry-over and
现行有效 checks against last year's report run again (`draft.check.continuity`); the other corpus
rules and the anomaly rules are the file's, as the last batch computed them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from gongkai.cells import by_id, cell_ids
from gongkai.review import log
from gongkai.review.accounts import User, require_change, require_user
from gongkai.review.decisions import statuses
from gongkai.review.model import NOT_REVIEWED, STATUS_ZH, Correction, ReviewError, Version, with_ids
from gongkai.review.versions import (
    CELL_SCHEMA,
    VERSION_SCHEMA,
    _insert,
    corrections_of,
    findings_of,
    live_cells,
    resolve_sha,
    snapshot,
    sync_versions,
    versions,
)
from gongkai.store.schema import quote

Reread = Callable[[Path, dict], list]  # (the report's file, cell → corrected value) → the findings of its parse
BLANK_WORDS = ("空", "空白", "null", "none", "")
# corpus and anomaly rules a correction does not recompute: the file's own, from the last batch
KEPT_CORPUS_RULES = ("corpus.copied_text", "corpus.identical_tables")

FINDING_SCHEMA = pa.schema([
    ("lineage", pa.string()), ("version", pa.int32()), ("seq", pa.int32()), ("rule", pa.string()), ("severity", pa.string()),
    ("origin", pa.string()), ("message", pa.string()), ("cells", pa.list_(pa.string())), ("suspects", pa.list_(pa.string())),
    ("related", pa.string()),
])  # fmt: skip
CORRECTION_SCHEMA = pa.schema([
    ("lineage", pa.string()), ("version", pa.int32()), ("sha256", pa.string()), ("cell_id", pa.string()), ("value", pa.float64()),
    ("old_value", pa.float64()), ("reason", pa.string()), ("actor", pa.string()), ("done_at", pa.timestamp("us")),
])  # fmt: skip


def cell_value(cell_id: str, text) -> int | float | None:
    """A value typed for a cell: a whole number for a count, a number for a 万元 amount, 空 for a blank."""
    spec = by_id().get(cell_id)
    if spec is None:
        raise ReviewError(f"没有这个单元格编号：{cell_id}（见 spec/cells.tsv）")
    if text is None or (isinstance(text, str) and text.strip().lower() in BLANK_WORDS):
        return None
    if isinstance(text, bool):
        raise ReviewError(f"“{text}”不是数字")
    try:
        number = float(str(text).strip().replace(",", "").replace("，", ""))
    except ValueError:
        raise ReviewError(f"“{text}”不是数字（单元格 {cell_id}；空白请写“空”）") from None
    if not math.isfinite(number):
        raise ReviewError(f"“{text}”不是有限的数字")
    if spec.is_amount:
        return number
    if number != int(number):
        raise ReviewError(f"单元格 {cell_id} 是件数，须为整数，不是“{text}”")
    return int(number)


def correct(store, sha256: str, cell_id: str, value, reason: str, by: str | User = "", *, source: str | Path | None = None,
            reread: Reread | None = None) -> Correction:  # fmt: skip
    """Correct one cell of a report: a new version, checked again; see `correct_cells`."""
    return correct_cells(store, sha256, {cell_id: value}, reason, by, source=source, reread=reread)


def correct_cells(store, sha256: str, values: dict, reason: str, by: str | User = "", *, source: str | Path | None = None,
                  reread: Reread | None = None) -> Correction:  # fmt: skip
    """Correct cells of a report's current file: one new version whose findings the rule engine computes again.

    `source` is where the report's file is when the store's path is not it (the web app's upload folder).
    `reread(path, corrections)` reads the file again with the corrected cells and returns the parse's
    findings (default: `parse_guarded` in a child forked from this process; the web app hands it to
    its own guarded workers). Findings the correction makes go are 已更正 from then on; those it raises are 待核.
    """
    actor = require_user(by)
    reason = (reason or "").strip()
    if not reason:
        raise ReviewError("更正须写明理由（--reason）")
    sync_versions(store)
    con = store.con
    sha = resolve_sha(store, sha256)
    every = versions(store, sha)
    last = every[-1]
    if isinstance(by, User):
        require_change(store, by, last.lineage)
    if last.sha256 != sha:
        raise ReviewError(f"这份报告已有新文件（{last.label}，SHA-256 {last.sha256[:12]}…），请在当前文件上更正")
    row = _report_row(con, sha)
    if row is None:
        raise ReviewError("这份报告的数据已不在库中（文件被替换或删除），无法更正")
    template = row["template"]
    if template is None:
        raise ReviewError("未能识别这份报告的表格格式，无法按单元格更正")
    typed = {}
    for cell, raw in values.items():
        value = cell_value(cell, raw)
        if cell not in cell_ids(template):
            raise ReviewError(f"单元格 {cell} 不属于这份报告的 {template} 年格式")
        typed[cell] = value
    parsed = live_cells(con, sha)
    before = {c: info["value"] for c, info in corrections_of(con, sha).items()}
    now_cells = {**parsed, **before}
    changed = {c: (now_cells.get(c), v) for c, v in typed.items() if now_cells.get(c) != v}
    if not changed:
        raise ReviewError("新值与当前值相同，没有可更正的")
    overrides = {**before, **typed}
    cells = {**parsed, **overrides}
    findings, how = recheck(con, sha, row, overrides, cells, source, reread)
    old_findings = findings_of(con, last) or []
    when = log.now()
    number = last.version + 1
    new = Version(last.lineage, number, "correction", sha, row["agency"], row["year"], row["published"], row["path"], when, actor, reason)
    con.execute("BEGIN TRANSACTION")
    try:
        snapshot(con, last.lineage, last.version, when, refresh=True)
        _insert(con, "report_versions", [{
            "lineage": last.lineage, "version": number, "kind": "correction", "sha256": sha, "body_key": row["body_key"],
            "agency": row["agency"], "year": row["year"], "published": row["published"], "template": template,
            "body_type": row["body_type"], "region": row["region"], "path": row["path"], "registered_at": when, "actor": actor,
            "note": reason, "snapshot_at": when}], VERSION_SCHEMA)  # fmt: skip
        _insert(con, "version_cells", [{"lineage": last.lineage, "version": number, "cell_id": c, "value": None if v is None else float(v)}
                                       for c, v in cells.items()], CELL_SCHEMA)  # fmt: skip
        _insert_findings(con, last.lineage, number, findings)
        _insert(con, "corrections", [{"lineage": last.lineage, "version": number, "sha256": sha, "cell_id": c,
                                      "value": None if n is None else float(n), "old_value": None if o is None else float(o),
                                      "reason": reason, "actor": actor, "done_at": when} for c, (o, n) in changed.items()],
                CORRECTION_SCHEMA)  # fmt: skip
        for cell, (old, value) in changed.items():
            log.write(con, actor, "correction", lineage=last.lineage, sha256=sha, target=cell, old="空" if old is None else old,
                      new="空" if value is None else value, reason=reason, detail=f"第{number}版", at=when)  # fmt: skip
        log.write(con, actor, "version", lineage=last.lineage, sha256=sha, target=f"第{number}版", reason=reason,
                  detail=f"人工更正 {len(changed)} 格，按同一规则重新核验（依据：{'原文件' if how == 'file' else '库中单元格与正文'}）", at=when)  # fmt: skip
        new_ids = [r[0] for r in con.execute("SELECT finding_id FROM version_findings WHERE lineage = ? AND version = ? "
                                             "AND NOT list_contains(?, rule)", [last.lineage, number, list(NOT_REVIEWED)]).fetchall()]  # fmt: skip
        old_ids = {f["finding_id"]: f for f in old_findings}
        resolved = [fid for fid in old_ids if fid not in set(new_ids)]
        raised = [fid for fid in new_ids if fid not in old_ids]
        decided = statuses(con)
        for fid in resolved:
            f = old_ids[fid]
            before_status = decided.get(fid, {}).get("status", "open")
            log.write(con, actor, "resolved", lineage=last.lineage, sha256=sha, target=fid, old=STATUS_ZH.get(before_status, "待核"), new="已更正",
                      reason=reason, detail=f"{f['rule']}：{f['message']}"[:500], at=when)  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Correction(new, changed, resolved, raised, findings, how)


def _report_row(con, sha: str) -> dict | None:
    columns = ["sha256", "path", "agency", "year", "published", "template", "body_type", "region", "body_key",
               *(f"section_{n}" for n in range(1, 7))]  # fmt: skip
    row = con.execute(f"SELECT {', '.join(quote(c) for c in columns)} FROM reports WHERE sha256 = ?", [sha]).fetchone()
    return dict(zip(columns, row)) if row else None


def _same_file(path: Path, sha: str) -> bool:
    try:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha
    except OSError:
        return False


def reread_guarded(path: Path, corrections: dict) -> list:
    """The findings of the file read again with `corrections` in place of the printed cells, in a guarded child."""
    from gongkai.limits import Limits, parse_guarded

    return parse_guarded(path, limits=Limits(seconds=120, memory_mb=2048), corrections=corrections).findings


def recheck(con, sha: str, row: dict, overrides: dict, cells: dict, source=None, reread: Reread | None = None) -> tuple[list, str]:
    """The findings of the corrected report, and whether the file (`file`) or the store (`store`) was read."""
    from gongkai.draft.check import Previous, as_extracted, continuity
    from gongkai.draft.model import Draft
    from gongkai.report import Finding, Meta
    from gongkai.rules import check

    meta = Meta(agency=row["agency"], year=row["year"], published=str(row["published"])[:10] if row["published"] else None,
                template=row["template"], body_type=row["body_type"], region=row["region"])  # fmt: skip
    draft = Draft(meta=meta, sections={n: row[f"section_{n}"] for n in range(1, 7) if row[f"section_{n}"] is not None}, cells=cells)
    path = Path(source) if source else Path(row["path"]) if row["path"] else None
    findings, how = None, "store"
    if path is not None and path.is_file() and _same_file(path, sha):
        from gongkai.errors import GongkaiError

        try:
            findings, how = (reread or reread_guarded)(path, overrides), "file"
        except GongkaiError:
            findings = None  # the file cannot be read now: the stored cells and texts still can
    if findings is None:
        findings = check(as_extracted(draft))
    previous = _previous(con, row)
    if previous is not None:
        findings += continuity(draft, Previous(previous["sha256"], previous["agency"], row["year"] - 1, previous["template"], previous["cells"]))
    kept = con.execute("SELECT rule, severity, origin, message, cells, suspects FROM findings WHERE sha256 = ? AND "
                       "(rule LIKE 'anomaly.%' OR list_contains(?, rule)) ORDER BY seq", [sha, list(KEPT_CORPUS_RULES)]).fetchall()  # fmt: skip
    findings += [Finding(rule=r, severity=s, origin=o, message=m or "", cells=list(c or []), suspects=list(x or [])) for r, s, o, m, c, x in kept]
    return findings, how


def _previous(con, row: dict) -> dict | None:
    """Last year's report of the same body (the copy the corpus rules pair it with, store/duplicates.py), with its corrections."""
    if row["body_key"] is None or row["year"] is None:
        return None
    from gongkai.store.duplicates import PREFERENCE

    found = con.execute(f"SELECT r.sha256, r.agency, r.template FROM reports r WHERE r.body_key = ? AND r.year = ? "
                        f"ORDER BY {PREFERENCE} LIMIT 1", [row["body_key"], row["year"] - 1]).fetchone()  # fmt: skip
    if found is None:
        return None
    sha, agency, template = found
    cells = {**(live_cells(con, sha) or {}), **{c: info["value"] for c, info in corrections_of(con, sha).items()}}
    return {"sha256": sha, "agency": agency, "template": template, "cells": cells}


def _insert_findings(con, lineage: str, version: int, findings: list) -> None:
    rows = [{"lineage": lineage, "version": version, "seq": seq, "rule": f.rule, "severity": f.severity, "origin": f.origin,
             "message": f.message, "cells": list(f.cells), "suspects": list(f.suspects), "related": None}
            for seq, f in enumerate(findings)]  # fmt: skip
    if not rows:
        return
    con.complete()  # as in `versions._insert`
    con.register("gk_findings", pa.Table.from_pylist(rows, schema=FINDING_SCHEMA))
    try:
        con.execute(f"INSERT INTO version_findings BY NAME {with_ids('SELECT * FROM gk_findings')}")
    finally:
        con.unregister("gk_findings")
