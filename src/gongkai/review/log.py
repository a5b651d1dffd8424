"""The audit trail: one append-only table of who did what, when, to which value, and why.

Rows are only ever inserted, inside the transaction of the change they record, so a change and its
log entry are committed together or not at all. Nothing in gongkai updates or deletes them.
"""

from __future__ import annotations

from datetime import datetime

from gongkai.review.model import LogEntry
from gongkai.store.review_tables import SEQUENCE

_COLUMNS = ("seq", "done_at", "actor", "action", "lineage", "sha256", "target", "old_value", "new_value", "reason", "detail")


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return str(value)


def write(con, actor: str | None, action: str, *, lineage: str | None = None, sha256: str | None = None, target: str | None = None,
          old=None, new=None, reason: str | None = None, detail: str | None = None, at: datetime | None = None) -> None:  # fmt: skip
    """Append one entry (inside the caller's transaction)."""
    con.execute(
        f"INSERT INTO audit_log ({', '.join(_COLUMNS)}) VALUES (nextval('{SEQUENCE}'), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [at or now(), actor, action, lineage, sha256, target, _text(old), _text(new), reason, detail],
    )


def log_login(store, name: str, ok: bool = True, detail: str | None = None) -> None:
    """Record a login (or a refused one) by `name`; committed at once."""
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        write(con, name, "login", new="成功" if ok else "失败", detail=detail)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def history(store, report: str | None = None, *, user=None, action: str | None = None, limit: int | None = None) -> list[LogEntry]:
    """The log, oldest first: everything, or what concerns one report (any version of it, by sha256 or lineage).

    With `user`, only the entries on reports the user may read; logins and user changes only for an administrator.
    """
    from gongkai.review.versions import lineage_of, sync_versions

    sync_versions(store)
    con = store.con
    clauses, params = [], []
    if report:
        lineage = lineage_of(store, report)
        clauses.append("(lineage = ? OR sha256 = ?)")
        params += [lineage, report]
    if action:
        clauses.append("action = ?")
        params.append(action)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM audit_log {where} ORDER BY seq", params).fetchall()
    entries = [LogEntry(*row) for row in rows]
    if user is not None:
        from gongkai.review.accounts import readable_lineages

        allowed = readable_lineages(store, user)  # None: every report
        admin = getattr(user, "role", None) == "admin"
        entries = [e for e in entries
                   if (e.lineage is None and admin) or (e.lineage is not None and (allowed is None or e.lineage in allowed))]
    return entries[-limit:] if limit else entries
