"""review/: decisions on findings, corrected cells, versions, accounts and the audit trail — plain functions over the store.

The command line (cli/review.py) and the web app call the same functions; a route is a call:

    >>> from gongkai.store import Store
    >>> from gongkai import review
    >>> with Store("corpus.duckdb") as store:
    ...     rows = review.list_findings(store, year=2023, status="待核")
    ...     review.decide(store, rows[0].id, "dismissed", "系统误报：表格另有说明", by="张三")
    ...     fixed = review.correct(store, rows[0].sha256, "requests.total.total", 12, "按原件更正", by="张三")
    ...     fixed.resolved  # finding ids now 已更正
"""

from gongkai.review.accounts import (
    ROLE_ZH,
    ROLES,
    User,
    add_user,
    authenticate,
    can_change,
    can_manage_users,
    can_read,
    can_submit,
    get_user,
    list_users,
    readable_lineages,
    reads_everything,
    require_change,
    require_read,
    set_user,
    visible_reports,
)
from gongkai.review.corrections import cell_value, correct, correct_cells
from gongkai.review.decisions import decide, get_finding, list_findings
from gongkai.review.log import history, log_login
from gongkai.review.model import (
    STATUS_ZH,
    STATUSES,
    Correction,
    Decision,
    FindingRow,
    LogEntry,
    PermissionDenied,
    ReviewError,
    Version,
    VersionDiff,
    finding_id,
    parse_status,
)
from gongkai.review.versions import Current, current, diff, lineage_of, resolve_sha, sync_versions, versions

__all__ = [
    "ROLES", "ROLE_ZH", "STATUSES", "STATUS_ZH", "Correction", "Current", "Decision", "FindingRow", "LogEntry", "PermissionDenied",
    "ReviewError", "User", "Version", "VersionDiff", "add_user", "authenticate", "can_change", "can_manage_users", "can_read", "can_submit",
    "cell_value", "correct", "correct_cells", "current", "decide", "diff", "finding_id", "get_finding", "get_user", "history",
    "lineage_of", "list_findings", "list_users", "log_login", "parse_status", "readable_lineages", "reads_everything", "require_change",
    "require_read", "resolve_sha", "set_user", "sync_versions", "versions", "visible_reports",
]  # fmt: skip
