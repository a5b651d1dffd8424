"""Coverage of a year: for every roster body, whether its report was published, on time, and how it stands.

One row per body: `on_time`, `late` or `missing` (and `undated` when a report is there but no
publication date could be read: never guessed on time), the publication date and the deadline
used (rules/document.py `deadline_for`: per body type, per province through GONGKAI_DEADLINES), the
errors and warnings of its current version that are not dismissed (null when missing), its anomaly
hints (`anomaly.*`, counted apart: numbers that hold together and are still implausible), and where
review stands. Then totals for every division of the region tree, and a summary of a region.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date

from gongkai.audit.bodies import TYPE_ZH
from gongkai.audit.scope import scope
from gongkai.regions import LEVEL_ZH
from gongkai.review.accounts import can_read_codes, check_region, in_region

STATUS_ZH = {"on_time": "按时发布", "late": "逾期发布", "missing": "未发布", "undated": "发布日期不明"}
REVIEW_ZH = {"open": "待审核", "confirmed": "待整改", "rectified": "已整改", "clean": "无问题"}


@dataclass(slots=True)
class CoverageRow:
    body: str
    body_type: str | None
    level: str | None
    division_code: str | None  # the roster's code, else its division's (9 digits for a township)
    region: str | None
    year: int
    status: str  # on_time | late | missing | undated
    deadline: date
    published: date | None = None
    days_late: int | None = None
    errors: int | None = None  # of the current version, dismissed ones not counted; null when missing
    warnings: int | None = None  # anomaly hints not counted here: see `anomalies`
    anomalies: int | None = None  # open or confirmed anomaly.* findings (issue 20), apart from the report's own errors
    review_state: str | None = None  # open | confirmed | rectified | clean; null when missing
    findings: dict[str, int] | None = None  # open / confirmed / dismissed / resolved
    sha256: str | None = None
    version: int | None = None
    versions: int = 0
    lineage: str | None = None
    path: str | None = None
    reports: int = 0  # lineages of this body for the year (more than one: several bodies' reports matched to it)
    candidates: list[str] = field(default_factory=list)  # reports awaiting a person's confirmation that they are this body's
    chain: tuple[tuple[str | None, str, str], ...] = ()  # (code, name, level) from the province down

    @property
    def status_zh(self) -> str:
        return STATUS_ZH[self.status]

    def to_dict(self) -> dict:
        out = asdict(self)
        out.pop("chain")
        for key in ("deadline", "published"):
            out[key] = out[key].isoformat() if out[key] else None
        return out | {
            "status_zh": self.status_zh, "body_type_zh": TYPE_ZH.get(self.body_type or "", ""),
            "level_zh": LEVEL_ZH.get(self.level or "", ""), "review_state_zh": REVIEW_ZH.get(self.review_state or "", None),
            "region_codes": [c for c, _, _ in self.chain if c],
        }  # fmt: skip


@dataclass(slots=True)
class RegionTotal:
    code: str | None
    name: str
    level: str | None
    depth: int
    bodies: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    undated: int = 0
    with_errors: int = 0
    rectified: int = 0

    @property
    def published(self) -> int:
        return self.on_time + self.late + self.undated

    def to_dict(self) -> dict:
        return asdict(self) | {"published": self.published, "level_zh": LEVEL_ZH.get(self.level or "", "")}


def _lineages_of_year(con, year: int) -> dict[str, list[dict]]:
    """report key → the lineages of that year with their current version and first publication."""
    rows = con.execute(
        "SELECT c.lineage, c.version, c.sha256, c.path, coalesce(r.body_key, c.body_key), "
        "(SELECT min(w.published) FROM report_versions w WHERE w.lineage = c.lineage AND w.kind = 'file'), "
        "(SELECT count(*) FROM report_versions w WHERE w.lineage = c.lineage) "
        "FROM current_versions c LEFT JOIN reports r USING (sha256) WHERE c.year = ? ORDER BY c.lineage", [year]).fetchall()  # fmt: skip
    out: dict[str, list[dict]] = {}
    for lineage, version, sha, path, key, published, count in rows:
        out.setdefault(key, []).append({"lineage": lineage, "version": version, "sha256": sha, "path": path,
                                        "published": published, "versions": count})  # fmt: skip
    return out


_NO_COUNTS = {"open": 0, "confirmed": 0, "dismissed": 0, "resolved": 0, "errors": 0, "warnings": 0, "anomalies": 0}


def _counts(store, year: int) -> dict[str, dict]:
    """lineage → finding counts by status, and its errors, warnings and anomaly hints not dismissed."""
    from gongkai.review.decisions import list_findings

    out: dict[str, dict] = {}
    for f in list_findings(store, year=year):
        c = out.setdefault(f.lineage, dict(_NO_COUNTS))
        c[f.status] += 1
        if f.status in ("open", "confirmed"):
            if f.rule.startswith("anomaly."):
                c["anomalies"] += 1
            elif f.severity == "error":
                c["errors"] += 1
            elif f.severity == "warning":
                c["warnings"] += 1
    return out


def _review_state(counts: dict) -> str:
    if counts["open"]:
        return "open"
    if counts["confirmed"]:
        return "confirmed"
    if counts["resolved"]:
        return "rectified"
    return "clean"


def coverage(store, year: int, region: str | None = None, *, user=None) -> list[CoverageRow]:
    """One row per roster body (in `region`'s subtree, and that `user` may read) for report year `year`."""
    from gongkai.rules.document import deadline_for

    year = int(year)
    region = check_region(region)
    s = scope(store)
    con = store.con
    by_key = _lineages_of_year(con, year)
    counts = _counts(store, year)
    waiting: dict[str, list[str]] = {}
    for m in s.matches:
        if m.state == "uncertain" and year in m.years:
            for name, _ in m.candidates:
                waiting.setdefault(name, []).append(m.report_name)
    rows = []
    for body in s.bodies:
        codes = body.region_codes
        if region is not None and not in_region(region, codes):
            continue
        if user is not None and not can_read_codes(user, codes):
            continue
        found = sorted((info for key in s.keys_of.get(body.name, ()) for info in by_key.get(key, [])),
                       key=lambda i: (i["published"] is None, i["published"] or date.max, i["lineage"]))  # fmt: skip
        kind = body.body_type
        month, day = deadline_for(kind, body.region_name)
        deadline = date(year + 1, month, day)
        chain = tuple((d.code, d.name, d.level) for d in body.division.chain()) if body.division else ()
        row = CoverageRow(body.name, kind, body.level, body.division_code or body.region_code, body.region_name, year, "missing",
                          deadline, candidates=waiting.get(body.name, []), chain=chain, reports=len(found))  # fmt: skip
        if found:
            info = found[0]
            c = counts.get(info["lineage"], _NO_COUNTS)
            published = info["published"]
            row.published = published
            row.status = "undated" if published is None else "late" if published > deadline else "on_time"
            row.days_late = (published - deadline).days if row.status == "late" else None
            row.errors, row.warnings, row.anomalies = c["errors"], c["warnings"], c["anomalies"]
            row.findings = {k: c[k] for k in ("open", "confirmed", "dismissed", "resolved")}
            row.review_state = _review_state(c)
            row.sha256, row.version, row.versions = info["sha256"], info["version"], info["versions"]
            row.lineage, row.path = info["lineage"], info["path"]
        rows.append(row)
    return rows


def totals(rows: list[CoverageRow]) -> list[RegionTotal]:
    """Counts for every division the rows lie in, province first, each followed by the divisions under it."""
    nodes: dict[tuple, RegionTotal] = {}
    for row in rows:
        path = row.chain or ((None, "（地区不明）", None),)
        for depth in range(len(path)):
            key = path[: depth + 1]
            code, name, level = path[depth]
            total = nodes.setdefault(key, RegionTotal(code, name, level, depth))
            total.bodies += 1
            setattr(total, row.status, getattr(total, row.status) + 1)
            total.with_errors += bool(row.errors)
            total.rectified += row.review_state == "rectified"
    return [nodes[key] for key in sorted(nodes, key=lambda k: [(c or "~", n) for c, n, _ in k])]


@dataclass(slots=True)
class Summary:
    """A region's year: how many published, late, missing, with errors, rectified; its commonest problems; the year before."""

    year: int
    region: str | None
    region_name: str
    bodies: int
    published: int
    on_time: int
    late: int
    missing: int
    undated: int
    with_errors: int
    rectified: int
    awaiting_review: int
    problems: list[dict]
    previous: dict | None = None  # the same counts for the year before, same bodies

    def counts(self) -> dict:
        return {k: getattr(self, k) for k in ("bodies", "published", "on_time", "late", "missing", "undated", "with_errors",
                                              "rectified", "awaiting_review")}  # fmt: skip

    def to_dict(self) -> dict:
        return {"year": self.year, "region": self.region, "region_name": self.region_name, **self.counts(),
                "problems": self.problems, "previous": self.previous}  # fmt: skip


COUNT_ZH = {"bodies": "名单机关", "published": "已发布", "on_time": "按时发布", "late": "逾期发布", "missing": "未发布", "undated": "发布日期不明",
            "with_errors": "有错误", "rectified": "已整改", "awaiting_review": "待审核"}  # fmt: skip


def _count(rows: list[CoverageRow]) -> dict:
    return {
        "bodies": len(rows), "published": sum(r.status != "missing" for r in rows),
        "on_time": sum(r.status == "on_time" for r in rows), "late": sum(r.status == "late" for r in rows),
        "missing": sum(r.status == "missing" for r in rows), "undated": sum(r.status == "undated" for r in rows),
        "with_errors": sum(bool(r.errors) for r in rows), "rectified": sum(r.review_state == "rectified" for r in rows),
        "awaiting_review": sum(r.review_state == "open" for r in rows),
    }  # fmt: skip


def summary(store, year: int, region: str | None = None, *, user=None, top: int = 10) -> Summary:
    """The summary of a region (every body when None) for a year."""
    from gongkai.regions import gazetteer
    from gongkai.review.decisions import list_findings
    from gongkai.views import rule_zh

    rows = coverage(store, year, region, user=user)
    lineages = {r.lineage for r in rows if r.lineage}
    problems: dict[str, dict] = {}
    for f in list_findings(store, year=int(year)):
        if f.lineage in lineages and f.origin == "source" and f.status in ("open", "confirmed"):
            p = problems.setdefault(f.rule, {"rule": f.rule, "rule_zh": rule_zh(f.rule), "severity": f.severity, "bodies": set(), "findings": 0})
            p["bodies"].add(f.lineage)
            p["findings"] += 1
    ranked = sorted(problems.values(), key=lambda p: (-len(p["bodies"]), -p["findings"], p["rule"]))[:top]
    ranked = [p | {"bodies": len(p["bodies"])} for p in ranked]
    names = {r.body for r in rows}
    before = [r for r in coverage(store, int(year) - 1, region, user=user) if r.body in names]
    division = gazetteer().by_code(region) if region else None
    name = division.full_name if division else "全部"
    counts = _count(rows)
    previous = {"year": int(year) - 1, **_count(before)} if any(r.status != "missing" for r in before) else None
    return Summary(int(year), region, name, **counts, problems=ranked, previous=previous)
