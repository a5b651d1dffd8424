"""What review speaks of: statuses, finding ids, versions, decisions, log entries — and its errors.

A finding's id says what the finding is, not where it was found: the report's lineage (one body's
report for one year, `2023:长沙市望城区教育局`), the rule, and the cells it names (or, for a finding
that names none, its message without digits). The same finding on a later version, or after a
re-parse, has the same id, so a decision made on it still applies.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

from gongkai.errors import GongkaiError

STATUSES = ("open", "confirmed", "dismissed", "resolved")
STATUS_ZH = {"open": "待核", "confirmed": "已确认", "dismissed": "已驳回", "resolved": "已更正"}
DECIDABLE = ("open", "confirmed", "dismissed")  # 已更正 comes of a correction or a new version, never of a decision
# for review, a second file of one body's report for a year is its next version, not a copy to choose between:
# the corpus's choice of copy (store/duplicates.py) is no problem of the report for anyone to decide on
NOT_REVIEWED = ("corpus.duplicate_report",)
KIND_ZH = {"file": "新文件", "correction": "人工更正"}
ACTION_ZH = {
    "decision": "审核决定", "correction": "更正单元格", "version": "新版本", "resolved": "发现已更正", "login": "登录",
    "user": "用户变更", "roster": "导入名单", "match": "确认机关对应", "notice": "生成整改通知",
}  # fmt: skip


class ReviewError(GongkaiError):
    """A review action that cannot be done as asked (unknown id, missing reason, bad value…)."""


class PermissionDenied(ReviewError):
    """The user may not read or change this report."""


def parse_status(text: str, allowed: tuple[str, ...] = STATUSES) -> str:
    """A status from its English or Chinese word (confirmed / 已确认 …)."""
    word = (text or "").strip()
    by_zh = {zh: en for en, zh in STATUS_ZH.items()}
    status = by_zh.get(word, word.lower())
    if status not in allowed:
        names = "、".join(f"{s}（{STATUS_ZH[s]}）" for s in allowed)
        raise ReviewError(f"状态“{word}”无效：只能是 {names}")
    return status


# ── finding ids: one formula, written once for SQL and once for Python (a test keeps them equal) ──

FINDING_KEY_SQL = (
    "CASE WHEN len(coalesce({cells}, [])) > 0 THEN array_to_string(list_sort({cells}), ',') "
    "ELSE regexp_replace(coalesce({message}, ''), '[0-9]', '', 'g') END"
)


def with_ids(raw_sql: str) -> str:
    """`raw_sql` (columns lineage, version, seq, rule, cells, message, …) with `finding_id` added in front.

    A second finding of the same rule on the same cells in one version (rare) gets occurrence 2.
    """
    key = FINDING_KEY_SQL.format(cells="cells", message="message")
    return (
        f"SELECT 'F' || substr(md5(lineage || '|' || rule || '|' || fkey || '|' || "
        f"row_number() OVER (PARTITION BY lineage, version, rule, fkey ORDER BY seq)), 1, 12) AS finding_id, * EXCLUDE (fkey) "
        f"FROM (SELECT *, {key} AS fkey FROM ({raw_sql}))"
    )


def finding_id(lineage: str, rule: str, cells: list[str] | None, message: str | None, occurrence: int = 1) -> str:
    """The id `with_ids` gives a finding (the first of its kind in its version, unless `occurrence` says otherwise)."""
    key = ",".join(sorted(cells)) if cells else re.sub(r"[0-9]", "", message or "")
    return "F" + hashlib.md5(f"{lineage}|{rule}|{key}|{occurrence}".encode()).hexdigest()[:12]


# ── records ─────────────────────────────────────────────────────────────────────────────────


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a report: a file (kind `file`) or a person's correction of the file before it (`correction`)."""

    lineage: str
    version: int
    kind: str
    sha256: str
    agency: str | None
    year: int | None
    published: date | None
    path: str | None
    registered_at: datetime | None
    actor: str | None
    note: str | None = None

    @property
    def label(self) -> str:
        return f"第{self.version}版（{KIND_ZH.get(self.kind, self.kind)}）"

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()} | {"label": self.label}


@dataclass(slots=True)
class FindingRow:
    """A finding as a reviewer sees it: what it is, where, and where it stands."""

    id: str
    lineage: str
    version: int
    sha256: str
    agency: str | None
    year: int | None
    rule: str
    severity: str
    origin: str
    message: str
    cells: list[str]
    suspects: list[str]
    related: str | None
    status: str
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    def to_dict(self) -> dict:
        from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH
        from gongkai.views import rule_zh

        out = {k: _plain(v) for k, v in asdict(self).items()}
        return out | {"status_zh": self.status_zh, "rule_zh": rule_zh(self.rule),
                      "severity_zh": SEVERITY_ZH.get(self.severity, self.severity), "origin_zh": ORIGIN_ZH.get(self.origin, self.origin)}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    finding_id: str
    status: str
    reason: str | None
    actor: str
    at: datetime
    previous: str  # the status before

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()} | {"status_zh": STATUS_ZH[self.status]}


@dataclass(slots=True)
class Correction:
    """What `correct` did: the new version, the cells changed, and which findings it resolved or raised."""

    version: Version
    changed: dict[str, tuple[float | int | None, float | int | None]]  # cell → (old, new)
    resolved: list[str] = field(default_factory=list)  # finding ids now 已更正
    raised: list[str] = field(default_factory=list)  # finding ids the corrected cells newly break
    findings: list = field(default_factory=list)  # every finding of the new version (gongkai.report.Finding)
    rechecked_from: str = "file"  # file (the source re-read) | store (stored cells and section texts)

    def to_dict(self) -> dict:
        return {"version": self.version.to_dict(), "changed": {c: {"old": o, "new": n} for c, (o, n) in self.changed.items()},
                "resolved": self.resolved, "raised": self.raised, "rechecked_from": self.rechecked_from,
                "findings": [f.model_dump(mode="json") for f in self.findings]}  # fmt: skip


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    at: datetime
    actor: str | None
    action: str
    lineage: str | None
    sha256: str | None
    target: str | None
    old_value: str | None
    new_value: str | None
    reason: str | None
    detail: str | None

    @property
    def action_zh(self) -> str:
        return ACTION_ZH.get(self.action, self.action)

    def to_dict(self) -> dict:
        return {k: _plain(v) for k, v in asdict(self).items()} | {"action_zh": self.action_zh}


@dataclass(slots=True)
class CellChange:
    cell_id: str
    label: str
    old: float | int | None
    new: float | int | None


@dataclass(slots=True)
class VersionDiff:
    """Two versions of one report side by side: the cells that differ, and the findings gained and lost."""

    lineage: str
    old: Version
    new: Version
    cells: list[CellChange]
    added: list[FindingRow]  # findings of the new version the old one did not have
    resolved: list[FindingRow]  # findings of the old version gone in the new one
    kept: list[FindingRow]
    old_available: bool = True  # False: the old file's rows left the store before it was archived

    def to_dict(self) -> dict:
        return {
            "lineage": self.lineage, "old": self.old.to_dict(), "new": self.new.to_dict(), "old_available": self.old_available,
            "cells": [asdict(c) for c in self.cells],
            "added": [f.to_dict() for f in self.added], "resolved": [f.to_dict() for f in self.resolved],
            "kept": [f.to_dict() for f in self.kept],
        }  # fmt: skip


def actor_name(by) -> str:
    """The name to record for `by` (a user or a name); a blank name is refused."""
    name = getattr(by, "name", by)
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise ReviewError("须写明操作人（--by 姓名）")
    return name
