"""A draft checked as the clerk types: the rule engine's single-report rules, and last year's report.

`check_draft` builds what extraction would have produced for a report that says exactly what the
form says (every table found, every cell where it belongs, blanks blank) and hands it to
`rules.check`, the engine every parsed report goes through. With a store, the body's report of the
year before fills 上年结转 from its 结转下年度 (where the clerk typed nothing) and judges the carry and
现行有效 the way the corpus rules will once the report is published.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.cells import APPLICANT_COLUMNS
from gongkai.draft.model import Draft
from gongkai.extract import Extracted
from gongkai.extract.tables import TableResult
from gongkai.report import Finding
from gongkai.rules import check
from gongkai.rules.catalog import CATALOG

COLUMN_NAMES = {"natural_person": "自然人", "commercial": "商业企业", "research": "科研机构", "public_interest": "社会公益组织",
                "legal_service": "法律服务机构", "other_org": "其他组织", "total": "总计"}  # fmt: skip
IN_FORCE_KINDS = {"rules": "规章", "normative_docs": "行政规范性文件"}


@dataclass(slots=True)
class Previous:
    """The body's report of the year before, as the store holds it."""

    sha256: str
    agency: str
    year: int
    template: str | None
    cells: dict[str, int | float | None]


@dataclass(slots=True)
class DraftCheck:
    findings: list[Finding]
    prefilled: dict[str, int | float | None] = field(default_factory=dict)  # cells filled from last year
    previous: Previous | None = None

    def to_dict(self) -> dict:
        return {
            "findings": [{**f.model_dump(mode="json"), "rule_zh": CATALOG[f.rule].broken if f.rule in CATALOG else f.rule}
                         for f in self.findings],
            "prefilled": self.prefilled,
            "previous": None if self.previous is None else
            {"sha256": self.previous.sha256, "agency": self.previous.agency, "year": self.previous.year},
        }  # fmt: skip


def as_extracted(draft: Draft) -> Extracted:
    """What a perfect reading of the rendered draft would give: the rules judge the draft, not a parse of it."""
    cells = draft.filled()
    tables = TableResult(template=draft.template, cells=cells, found_tables={"active", "requests", "appeals"},
                         rows_found={c.rsplit(".", 1)[0] for c in cells},
                         blank=[c for c, v in cells.items() if v is None])  # fmt: skip
    return Extracted(meta=draft.meta, sections=draft.report_sections(), cells=cells, tables=tables, text=draft.text(),
                     grid_sections={2, 3, 4})  # fmt: skip


def check_draft(draft: Draft, db: str | os.PathLike | None = None) -> DraftCheck:
    """The findings of a draft; with a store `db`, last year's carry-over filled in and checked."""
    previous = previous_report(db, draft) if db else None
    prefilled: dict[str, int | float | None] = {}
    if previous is not None:
        for column in APPLICANT_COLUMNS:
            over, forward = f"requests.carried_over.{column}", f"requests.carried_forward.{column}"
            if draft.cells.get(over) is None and previous.cells.get(forward) is not None:
                prefilled[over] = previous.cells[forward]
        draft = draft.model_copy(update={"cells": {**draft.cells, **prefilled}})
    findings = check(as_extracted(draft))
    if previous is not None:
        findings += continuity(draft, previous)
    return DraftCheck(findings, prefilled, previous)


def _finding(rule: str, message: str, cells: list[str]) -> Finding:
    r = CATALOG[rule]
    return Finding(rule=rule, severity=r.severity, origin=r.origin, message=message, cells=cells)


def continuity(draft: Draft, previous: Previous) -> list[Finding]:
    """The corpus rules' carry-over and 现行有效 checks, for one draft against last year's report."""
    out = []
    diffs, cells = [], []
    for column in APPLICANT_COLUMNS:
        over, forward = f"requests.carried_over.{column}", f"requests.carried_forward.{column}"
        now, before = draft.cells.get(over), previous.cells.get(forward)
        if now is not None and before is not None and now != before:
            diffs.append(f"{COLUMN_NAMES[column]} {now:g} ≠ {before:g}")
            cells.append(over)
    if diffs:
        out.append(_finding("corpus.carry_continuity",
                            f"上年结转与{previous.year}年度报告的结转下年度不符：{'；'.join(diffs)}", cells))  # fmt: skip
    if draft.template == "2021" and previous.template == "2021":
        for kind, name in IN_FORCE_KINDS.items():
            now, issued, repealed = (draft.cells.get(f"active.{kind}.{c}") for c in ("in_force", "issued", "repealed"))
            before = previous.cells.get(f"active.{kind}.in_force")
            if None in (now, issued, repealed, before):
                continue
            expected = before + issued - repealed
            if now != expected:
                out.append(_finding("corpus.in_force_continuity",
                                    f"{name}现行有效 {now:g} ≠ {previous.year}年现行有效 {before:g} + 本年制发 {issued:g} − 本年废止 "
                                    f"{repealed:g}（= {expected:g}）",
                                    [f"active.{kind}.in_force", f"active.{kind}.issued", f"active.{kind}.repealed"]))  # fmt: skip
    return out


def previous_report(db: str | os.PathLike | None, draft: Draft) -> Previous | None:
    """The store's report of the same body for the year before the draft's (the copy with most cells read)."""
    if db is None or not draft.meta.agency or not draft.meta.year or not Path(db).exists():
        return None
    from gongkai.store.bodies import full_name
    from gongkai.views import store_columns
    from gongkai.web.storage import open_store

    with open_store(Path(db)) as con:
        columns = store_columns(con, "reports")
        if not {"sha256", "agency", "year", "body_key"} <= columns:
            return None
        aliases = dict(con.execute("SELECT alias, canonical FROM name_aliases").fetchall()) if store_columns(con, "name_aliases") else {}
        key = full_name(draft.meta.agency, draft.meta.region, aliases)
        row = con.execute(
            "SELECT sha256 FROM reports WHERE year = ? AND (body_key = ? OR agency = ? OR body_key IN "
            "(SELECT body_key FROM agency_keys WHERE agency = ?)) ORDER BY cells_found DESC NULLS LAST, sha256 LIMIT 1",
            [draft.meta.year - 1, key, draft.meta.agency, draft.meta.agency]).fetchone()  # fmt: skip
        if row is None:
            return None
        cell_columns = [c for c in columns if c.startswith(("requests.", "active.", "appeals."))]
        select = ", ".join(['agency', 'year', 'template'] + [f'"{c}"' for c in cell_columns])
        values = con.execute(f"SELECT {select} FROM reports WHERE sha256 = ?", [row[0]]).fetchone()
    agency, year, template, *numbers = values
    return Previous(row[0], agency, year, template, dict(zip(cell_columns, numbers)))
