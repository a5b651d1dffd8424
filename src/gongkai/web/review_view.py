"""A report's page as review sees it: the cells as they stand (parsed, plus what a person corrected),
the findings of its current version with their status, those already resolved, and its versions.

Composed from gongkai.review's functions (current, versions, list_findings, can_change); nothing is
decided here. The page draws `view` with the same macros as every report, so a corrected cell
shows its current value and the findings are those the rule engine found for the corrected version.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.report import Finding, Report
from gongkai.review import FindingRow, Version, can_change, current, list_findings, versions
from gongkai.views import ReportView, body_key_of, report_view


@dataclass(slots=True)
class ReportReview:
    view: ReportView  # drawn with the current cells and the current version's open and confirmed findings
    shown: Report  # the report as it stands
    lineage: str
    versions: list[Version]
    version: Version  # this file's latest version (a correction of it, or the file itself)
    is_current: bool  # this file is the current one of its lineage (else a later file replaced it)
    may_change: bool  # the caller may decide on its findings and correct its cells
    corrected: dict[str, dict] = field(default_factory=dict)  # cell → {value, parsed, reason, actor, at, version}
    items: dict[int, FindingRow] = field(default_factory=dict)  # index of view.findings → its review row
    settled: list[FindingRow] = field(default_factory=list)  # dismissed (not marked in the tables) and resolved ones
    body_key: str | None = None

    @property
    def latest(self) -> Version:
        return self.versions[-1]


def _key(rule: str, message: str, cells) -> tuple:
    return rule, message or "", tuple(cells or ())


def report_review(w, user, report: Report) -> ReportReview | None:
    """The review state of a stored report (None when the store does not hold it: a parse whose store write failed)."""
    sha = report.source.sha256
    if not w.settings.store.exists():
        return None
    with w.store() as store:
        if not store.con.execute("SELECT count(*) FROM reports WHERE sha256 = ?", [sha]).fetchall()[0][0]:
            return None
        every = versions(store, sha)
        now = current(store, sha)
        is_current = every[-1].sha256 == sha
        rows = list_findings(store, report=sha) if is_current else []
        may_change = is_current and can_change(store, user, sha)
        body_key = body_key_of(store.con, sha)
    cells = {**report.cells, **now.cells}
    if not is_current:  # a file a later one replaced: its own findings, as parsed
        shown = report.model_copy(update={"cells": cells})
        return ReportReview(_marked(report_view(shown), now.corrected), shown, every[-1].lineage, every, now.version, False, False,
                            now.corrected, body_key=body_key)  # fmt: skip
    standing = [r for r in rows if r.status in ("open", "confirmed")]
    findings = [Finding(rule=r.rule, severity=r.severity, origin=r.origin, message=r.message, cells=r.cells, suspects=r.suspects)
                for r in standing]  # fmt: skip
    shown = report.model_copy(update={"cells": cells, "findings": findings})
    view = _marked(report_view(shown), now.corrected)
    by_key = {_key(r.rule, r.message, r.cells): r for r in standing}
    items = {f.index: by_key[k] for f in view.findings if (k := _key(f.rule, f.message, [n[0] for n in f.numbers])) in by_key}
    settled = [r for r in rows if r.status in ("dismissed", "resolved")]
    return ReportReview(view, shown, every[-1].lineage, every, now.version, True, may_change, now.corrected, items, settled, body_key)


def _marked(view: ReportView, corrected: dict) -> ReportView:
    """The cells a person corrected carry the class `corrected` (drawn blue, as in the Excel)."""
    for table in view.tables:
        for row in table.body:
            for cell in row:
                if cell.kind == "value" and cell.cell_id in corrected:
                    cell.classes.append("corrected")
    for cid, info in corrected.items():
        if cid in view.provenance:
            view.provenance[cid]["corrected"] = {"parsed": info["parsed"], "reason": info["reason"], "actor": info["actor"],
                                                 "version": info["version"]}  # fmt: skip
    return view
