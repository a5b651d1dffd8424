"""The API's response models (the report itself is gongkai.report.Report, the contract of output.md)."""

from __future__ import annotations

from pydantic import BaseModel

from gongkai.report import Report
from gongkai.views import BODY_TYPE_ZH


class Job(BaseModel):
    id: str  # the sha256 of the uploaded bytes; also the report's id once parsed
    name: str
    status: str  # queued | parsing | done | failed
    status_zh: str = ""
    format: str | None = None
    message: str = ""
    errors: int | None = None
    warnings: int | None = None
    pages: int | None = None  # pages OCR reads (a scan), when there are any
    pages_done: int | None = None


class ReportSummary(BaseModel):
    sha256: str
    path: str | None = None
    agency: str | None = None
    year: int | None = None
    published: str | None = None
    template: str | None = None
    body_type: str | None = None
    region: str | None = None
    errors: int = 0
    warnings: int = 0


class FindingRow(BaseModel):
    sha256: str
    rule: str
    severity: str
    origin: str | None = None
    message: str
    cells: list[str] = []


class YearStat(BaseModel):
    year: int
    reports: int
    requests_received: float


class RuleStat(BaseModel):
    rule: str
    severity: str
    count: int


class Stats(BaseModel):
    reports: int
    errors: int
    warnings: int
    by_year: list[YearStat]
    by_rule: list[RuleStat]


def summary_of(report: Report) -> dict:
    """A report's line in the list (the fields of ReportSummary, plus the body type in Chinese)."""
    m = report.meta
    return {"sha256": report.source.sha256, "path": report.source.path, "agency": m.agency, "year": m.year,
            "published": m.published, "template": m.template, "body_type": m.body_type, "region": m.region,
            "errors": len(report.errors), "warnings": len(report.warnings),
            "body_type_zh": BODY_TYPE_ZH.get(m.body_type or "", m.body_type or "")}
