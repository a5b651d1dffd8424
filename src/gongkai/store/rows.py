"""One parsed `Report` (or one failure) as rows of the corpus tables, each stamped with the parser that made it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gongkai.report import Report
from gongkai.store.parsed_by import current_parser
from gongkai.store.schema import SECTION_NUMBERS, cell_columns


@dataclass(slots=True)
class Rows:
    """What one input file contributes to the store."""

    sha256: str
    path: str
    report: dict | None = None
    findings: list[dict] = field(default_factory=list)
    failure: dict | None = None


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _parsed_by() -> dict:
    parser = current_parser()
    return {"gongkai_version": parser.version, "parser_fingerprint": parser.fingerprint}


def report_rows(report: Report, path: str) -> Rows:
    """The `reports` row and the `findings` rows of one report."""
    sha = report.source.sha256
    meta = report.meta
    row: dict = {
        "sha256": sha,
        "path": path,
        "agency": meta.agency,
        "year": meta.year,
        "published": _date(meta.published),
        "template": meta.template,
    }
    for cell_id in cell_columns():
        row[cell_id] = report.cells.get(cell_id)
    row["errors"] = sum(f.severity == "error" for f in report.findings)
    row["warnings"] = sum(f.severity == "warning" for f in report.findings)
    row.update(
        body_type=meta.body_type,
        region=meta.region,
        format=report.source.format,
        pages=report.source.pages,
        bytes=report.source.bytes,
        cells_found=sum(v is not None for v in report.cells.values()),
        body_key=None,  # set for the whole corpus at once (bodies.py)
        source_url=report.source.url,  # a batch sets these from a fetch manifest (Store.set_sources)
        source_page=report.source.page,
        published_from=meta.published_from,
    )
    texts = {n: [] for n in SECTION_NUMBERS}
    for section in report.sections:
        if section.number in texts:
            texts[section.number].append(section.text)
    for n, parts in texts.items():
        row[f"section_{n}"] = "\n".join(parts) if parts else None
    row.update(_parsed_by())
    findings = [
        {
            "sha256": sha,
            "seq": seq,
            "rule": f.rule,
            "severity": f.severity,
            "origin": f.origin,
            "message": f.message,
            "cells": list(f.cells),
            "suspects": list(f.suspects),
            "related": None,
        }
        for seq, f in enumerate(report.findings)
    ]
    return Rows(sha, path, row, findings)


def failure_rows(sha256: str, path: str, kind: str, reason: str) -> Rows:
    """The `failures` row of a file that could not be parsed."""
    return Rows(sha256, path, failure={"sha256": sha256, "path": path, "kind": kind, "reason": reason, "source_url": None, **_parsed_by()})
