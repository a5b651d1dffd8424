"""The canonical cell ids of spec/cells.tsv, loaded once: the contract for JSON keys and columns."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

APPLICANT_COLUMNS = ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")
APPEAL_BLOCKS = ("review", "suit_direct", "suit_after_review")
APPEAL_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
TEMPLATES = ("2019", "2021")


@dataclass(frozen=True, slots=True)
class CellSpec:
    id: str
    templates: tuple[str, ...]
    section: str  # 二 / 三 / 四
    label_zh: str
    meaning: str
    type: str  # count | signed count | amount (万元)

    @property
    def is_amount(self) -> bool:
        return self.type.startswith("amount")

    @property
    def is_signed(self) -> bool:
        return self.type.startswith("signed")


@cache
def all_cells() -> tuple[CellSpec, ...]:
    text = resources.files("gongkai.spec").joinpath("cells.tsv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return tuple(
        CellSpec(r["id"], tuple(r["templates"].split(",")), r["section"], r["label_zh"], r["meaning"], r["type"])
        for r in rows
    )


@cache
def by_id() -> dict[str, CellSpec]:
    return {c.id: c for c in all_cells()}


@cache
def cell_ids(template: str) -> tuple[str, ...]:
    """Every id that belongs to `template`, in the order of cells.tsv."""
    return tuple(c.id for c in all_cells() if template in c.templates)


def label(cell_id: str) -> str:
    """A short Chinese name for a cell, for messages and column headers."""
    spec = by_id().get(cell_id)
    if spec is None:
        return cell_id
    return re.sub(r" — [^/]*", "", spec.label_zh).replace(" / ", "·")


def unit(cell_id: str) -> str:
    """The unit of a cell's value: 万元 for amounts, 项 for items and projects, 件 for requests, cases and documents."""
    spec = by_id().get(cell_id)
    if spec is None:
        return ""
    if spec.is_amount:
        return "万元"
    return "项" if "item" in spec.meaning or "project" in spec.meaning else "件"
