"""rules/: the catalog of spec/rules.md as data, evaluated by one small engine."""

from __future__ import annotations

from gongkai.report import Finding
from gongkai.rules import document
from gongkai.rules.catalog import CATALOG
from gongkai.rules.identities import check_domain, check_identities

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check(extracted) -> list[Finding]:
    """Every single-report rule over what extraction found; extraction's own doubts come first."""
    findings: list[Finding] = list(extracted.findings)
    for note in extracted.notes:
        findings.append(document.finding("extraction.reader_note", note))
    findings += document.check_structure(extracted)
    template = extracted.meta.template
    if template is not None and extracted.tables is not None:
        broken, unjudged = check_identities(extracted.cells, template)
        findings += broken
        findings += check_domain(extracted.cells)
        findings += document.check_cells_missing(extracted, unjudged)
    findings += document.check_template(extracted)
    findings += document.check_labels(extracted)
    findings += document.check_narrative(extracted)
    findings += document.check_dates(extracted)
    findings += document.check_fees(extracted)
    if extracted.ocr:
        findings = [_doubted_by_ocr(f) for f in findings]
    if extracted.partial:
        findings = [_doubted_by_gap(f) for f in findings]
    return sorted(findings, key=lambda f: _SEVERITY_ORDER[f.severity])


_OCR_DOUBT = "（文字经 OCR 识别，也可能是识别有误，请核对原件）"


def _doubted_by_ocr(finding: Finding) -> Finding:
    """On a scan, numbers that break an identity or a label that differs may be misread: the parser is the one unsure."""
    if finding.origin != "source" or not (finding.cells or finding.rule == "template.label_altered"):
        return finding
    return finding.model_copy(update={"origin": "extraction", "message": finding.message + _OCR_DOUBT})


_GAP_DOUBT = "（文件有部分内容未能读取，也可能是未读的部分所致）"


def _doubted_by_gap(finding: Finding) -> Finding:
    """Part of the file was not read (a reader note says which): what seems missing or wrong may lie in that part."""
    if finding.origin != "source":
        return finding
    return finding.model_copy(update={"origin": "extraction", "message": finding.message + _GAP_DOUBT})


__all__ = ["CATALOG", "check"]
