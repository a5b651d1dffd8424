"""Every sample, every seed and every report of shared/corpus against its truth file.

Each truth cell is right, or wrong only where a finding of origin `extraction` (or
`structure.cells_missing`) names it; every `source_errors` rule is raised; no other `error`
finding of origin `source` is raised (structure.* excepted on excerpts). And no file has fewer
cells right than tests/floors.json says it had (scripts/write_floors.py): more doubt fails.
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, SHARED, shared_path

import gongkai
from gongkai.evaluate import FileResult, compare

FLOORS = json.loads((ROOT / "tests" / "floors.json").read_text(encoding="utf-8"))
SAMPLES = ROOT / "samples"


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
    assert_floor(f"{folder}/{truth['file']}", result)


@pytest.mark.parametrize("truth_name", sorted(p.name for p in (SAMPLES / "truth").glob("*.json")))
def test_sample_matches_its_truth(truth_name: str) -> None:
    """The samples are the project's own (gongkai synth): this runs on any clone."""
    truth = json.loads((SAMPLES / "truth" / truth_name).read_text(encoding="utf-8"))
    result = compare(gongkai.parse(SAMPLES / truth["file"]), truth)
    assert (result.silent, result.errors_missed, result.false_errors, result.meta_wrong) == ([], [], [], [])
    assert_floor(f"samples/{truth['file']}", result)


def test_every_sample_has_its_truth() -> None:
    reports = sorted(p.stem for p in SAMPLES.iterdir() if p.is_file())
    assert reports and reports == sorted(p.stem for p in (SAMPLES / "truth").glob("*.json"))


def assert_floor(key: str, result: FileResult) -> None:
    """No fewer cells right than today (tests/floors.json, written by scripts/write_floors.py)."""
    floor = FLOORS.get(key)
    assert floor is not None, f"{key}: no floor in tests/floors.json (run scripts/write_floors.py)"
    assert result.cells == floor["cells"], f"{key}: the truth file changed (run scripts/write_floors.py)"
    assert result.right >= floor["right"], f"{key}: {result.right} cells right, below the floor of {floor['right']}; flagged: {result.flagged}"


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
