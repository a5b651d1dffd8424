"""Findings as a reviewer works on them: listed with their status, and decided one by one.

A finding of a report's current version is 待核 (open) until someone confirms or dismisses it (a
dismissal needs a reason); a finding that an earlier version had and the current one has not is
已更正 (resolved: a correction or a new file made it go). Decisions are kept by finding id, so a
finding that still stands on a re-submitted version keeps its decision, and a re-parse (`--redo`)
changes nothing of them. Each decision is one committed transaction: a kill -9 just after it
returns loses nothing.
"""

from __future__ import annotations

from gongkai.review import log
from gongkai.review.accounts import User, readable_lineages, require_change, require_user
from gongkai.review.model import DECIDABLE, NOT_REVIEWED, STATUS_ZH, Decision, FindingRow, ReviewError, parse_status, with_ids
from gongkai.review.versions import archive_current, lineage_of, sync_versions
from gongkai.store.review_tables import SEQUENCE

_CURRENT_RAW = """
SELECT c.lineage, c.version, c.sha256, f.seq, f.rule, f.severity, f.origin, f.message, f.cells, f.suspects, f.related
FROM current_versions c JOIN findings f ON f.sha256 = c.sha256
WHERE c.kind = 'file' AND EXISTS (SELECT 1 FROM reports r WHERE r.sha256 = c.sha256)
UNION ALL
SELECT c.lineage, c.version, c.sha256, f.seq, f.rule, f.severity, f.origin, f.message, f.cells, f.suspects, f.related
FROM current_versions c JOIN version_findings f ON f.lineage = c.lineage AND f.version = c.version
WHERE NOT (c.kind = 'file' AND EXISTS (SELECT 1 FROM reports r WHERE r.sha256 = c.sha256))
"""

LISTING_SQL = f"""
WITH cur AS ({with_ids(_CURRENT_RAW)}),
last_decision AS (SELECT * FROM decisions QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY seq DESC) = 1),
past AS (
    SELECT f.*, v.sha256 FROM version_findings f
    JOIN current_versions c ON c.lineage = f.lineage AND f.version < c.version
    JOIN report_versions v ON v.lineage = f.lineage AND v.version = f.version
    QUALIFY row_number() OVER (PARTITION BY f.lineage, f.finding_id ORDER BY f.version DESC) = 1
)
SELECT cur.finding_id, cur.lineage, cur.version, cur.sha256, v.agency, v.year, cur.rule, cur.severity, cur.origin, cur.message,
       cur.cells, cur.suspects, cur.related,
       CASE WHEN d.status IN ('confirmed', 'dismissed') THEN d.status ELSE 'open' END AS status, d.reason, d.actor, d.done_at, 0 AS past
FROM cur JOIN current_versions v ON v.lineage = cur.lineage LEFT JOIN last_decision d ON d.finding_id = cur.finding_id
UNION ALL
SELECT p.finding_id, p.lineage, p.version, p.sha256, v.agency, v.year, p.rule, p.severity, p.origin, p.message,
       p.cells, p.suspects, p.related, 'resolved', d.reason, d.actor, d.done_at, 1
FROM past p JOIN current_versions v ON v.lineage = p.lineage LEFT JOIN last_decision d ON d.finding_id = p.finding_id
WHERE NOT EXISTS (SELECT 1 FROM cur WHERE cur.lineage = p.lineage AND cur.finding_id = p.finding_id)
"""

_SEVERITY_ORDER = "CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END"



def statuses(con) -> dict[str, dict]:
    """finding id → its last decision (status, reason, actor, at)."""
    rows = con.execute("SELECT finding_id, status, reason, actor, done_at FROM decisions "
                       "QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY seq DESC) = 1").fetchall()  # fmt: skip
    return {fid: {"status": status, "reason": reason, "actor": actor, "at": at} for fid, status, reason, actor, at in rows}


def list_findings(store, *, body: str | None = None, year: int | None = None, status: str | None = None,
                  report: str | None = None, origin: str | None = None, rule: str | None = None,
                  finding_id: str | None = None, user: User | None = None) -> list[FindingRow]:  # fmt: skip
    """Findings of every report's current version with their status, and those an earlier version had (已更正).

    Filters: a roster body (or agency name), a year, a status (English or Chinese), a report (sha256 or
    lineage), an origin, a rule; `user` keeps only the reports that user may read.
    """
    sync_versions(store)
    clauses, params = [], []
    if year is not None:
        clauses.append("year = ?")
        params.append(int(year))
    if status:
        clauses.append("status = ?")
        params.append(parse_status(status))
    if report:
        clauses.append("lineage = ?")
        params.append(lineage_of(store, report))
    if origin:
        clauses.append("origin = ?")
        params.append(origin)
    if rule:
        clauses.append("rule = ?")
        params.append(rule)
    if finding_id:
        clauses.append("finding_id = ?")
        params.append(finding_id.strip())
    if body:
        from gongkai.audit.scope import body_lineages

        lineages = body_lineages(store, body)
        if not lineages:
            return []
        clauses.append("list_contains(?, lineage)")
        params.append(sorted(lineages))
    clauses.append("NOT list_contains(?, rule)")
    params.append(list(NOT_REVIEWED))
    where = f"WHERE {' AND '.join(clauses)}"
    rows = store.con.execute(
        f"SELECT * EXCLUDE (past) FROM ({LISTING_SQL}) {where} "
        f"ORDER BY year NULLS LAST, agency NULLS LAST, lineage, past, {_SEVERITY_ORDER}, version, rule, finding_id", params).fetchall()  # fmt: skip
    found = [FindingRow(fid, lineage, version, sha, agency, yr, rl, sev, org, msg or "", list(cells or []), list(sus or []), rel, st, reason, actor, at)
             for fid, lineage, version, sha, agency, yr, rl, sev, org, msg, cells, sus, rel, st, reason, actor, at in rows]  # fmt: skip
    if user is not None:
        allowed = readable_lineages(store, user)
        if allowed is not None:
            found = [f for f in found if f.lineage in allowed]
    return found


def get_finding(store, finding_id: str) -> FindingRow:
    found = list_findings(store, finding_id=finding_id)
    if not found:
        raise ReviewError(f"没有这条发现：{finding_id}（用 gongkai findings 查看编号）")
    return found[0]


def decide(store, finding_id: str, status: str, reason: str | None = None, by: str | User = "") -> Decision:
    """Confirm, dismiss (with a reason) or reopen one finding; committed before it returns.

    `by` is a name (the command line) or a `User` (the web app), whose region must hold the report.
    """
    actor = require_user(by)
    status = parse_status(status, DECIDABLE)
    reason = (reason or "").strip() or None
    if status == "dismissed" and not reason:
        raise ReviewError("驳回须写明理由（--reason）")
    finding = get_finding(store, finding_id)
    if isinstance(by, User):
        require_change(store, by, finding.lineage)
    if finding.status == "resolved":
        raise ReviewError(f"发现 {finding.id} 已更正（{finding.lineage} 的当前版本已没有这个问题），无需再审核")
    con = store.con
    when = log.now()
    con.execute("BEGIN TRANSACTION")
    try:
        archive_current(con, finding.lineage, when)  # what was decided on stays readable if the file is later replaced
        con.execute(
            f"INSERT INTO decisions (seq, finding_id, lineage, version, status, reason, actor, done_at, rule, severity, origin, message, cells) "
            f"VALUES (nextval('{SEQUENCE}'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [finding.id, finding.lineage, finding.version, status, reason, actor, when, finding.rule, finding.severity,
             finding.origin, finding.message, finding.cells])  # fmt: skip
        log.write(con, actor, "decision", lineage=finding.lineage, sha256=finding.sha256, target=finding.id,
                  old=STATUS_ZH[finding.status], new=STATUS_ZH[status], reason=reason,
                  detail=f"{finding.rule}：{finding.message}"[:500], at=when)  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return Decision(finding.id, status, reason, actor, when, finding.status)
