"""Every seed and every report of shared/corpus against its truth file.

Each truth cell is right, or wrong only where a finding of origin `extraction` (or
`structure.cells_missing`) names it; every `source_errors` rule is raised; no other `error`
finding of origin `source` is raised (structure.* excepted on excerpts).
"""

from __future__ import annotations

import json

import pytest
from conftest import SHARED, shared_path

import gongkai
from gongkai.evaluate import compare


def _truth_files() -> list[tuple[str, str]]:
    out = []
    for folder in ("seeds", "corpus"):
        truth_dir = SHARED / folder / "truth"
        if truth_dir.is_dir():
            out += [(folder, p.name) for p in sorted(truth_dir.glob("*.json"))]
    return out or [("corpus", "missing.json")]


@pytest.mark.parametrize(("folder", "truth_name"), _truth_files())
def test_report_matches_truth(folder: str, truth_name: str) -> None:
    truth = json.loads(shared_path(folder, "truth", truth_name).read_text(encoding="utf-8"))
    report = gongkai.parse(shared_path(folder, truth["file"]))
    result = compare(report, truth)
    assert result.silent == [], "cells wrong with no finding naming them"
    assert result.errors_missed == [], "source errors the report contains but gongkai did not raise"
    assert result.false_errors == [], "error findings of origin source the truth does not have"
    assert report.meta.template == truth["meta"]["template"]
    assert report.meta.year == truth["meta"]["year"]


def test_pingtan_glued_rows_are_split_by_their_identities() -> None:
    """'801000081' after 一、本年新收 is 80,1,0,0,0,0,81: the only split whose columns sum to 总计."""
    report = gongkai.parse(shared_path("corpus", "04_pingtan_2021.txt"))
    truth = json.loads(shared_path("corpus", "truth", "04_pingtan_2021.json").read_text(encoding="utf-8"))
    row = [f"requests.new_received.{c}" for c in ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org", "total")]
    assert [report.cells[c] for c in row] == [truth["cells"][c] for c in row]
    assert report.provenance[row[0]].raw is not None


def test_missing_cell_is_null_and_named_never_zero() -> None:
    """Seed 002 prints six numbers for seven columns: the row stays null, and a finding says so."""
    report = gongkai.parse(shared_path("seeds", "002_94358fe22916de47.txt"))
    total_row = [c for c in report.cells if c.startswith("requests.total.")]
    assert all(report.cells[c] is None for c in total_row)
    named = {c for f in report.findings if f.rule == "structure.cells_missing" for c in f.cells}
    assert set(total_row) <= named


def test_suspect_is_the_cell_whose_fix_closes_the_identity() -> None:
    report = gongkai.parse(shared_path("corpus", "09_hongze_2023.pdf"))
    broken = [f for f in report.findings if f.rule == "appeals.block_sum"]
    assert {s for f in broken for s in f.suspects} >= {"appeals.review.total", "appeals.suit_after_review.total"}
