"""Generated reports (gongkai.synth) in every layout and format, with every fault of rules.md.

Each generated file comes with its truth: the cells it must give, the rule each injected fault
breaks, and the warnings it must raise. Real reports are the backbone (test_truth.py); these
cover what the real ones do not: merged cells in .docx/.html, both templates, each fault.
"""

from __future__ import annotations

import random

import pytest

import gongkai
from gongkai.evaluate import compare
from gongkai.extract.rows import identities
from gongkai.synth import make_report
from gongkai.synth.faults import FAULTS, pick_random
from gongkai.synth.render_text import LAYOUTS

TEMPLATES = (("2021", 2023), ("2019", 2020))
FORMATS = [("docx", None), ("html", None), ("html", "chrome+gbk+traditional"), ("md", None)] + [("txt", layout) for layout in LAYOUTS]


def _check(syn, fmt: str, layout: str | None) -> None:
    name = f"report.{ 'txt' if fmt == 'txt' else fmt}"
    truth = syn.truth_for(name, fmt, layout)
    report = gongkai.parse(syn.render(fmt, layout), name=name)
    result = compare(report, truth)
    assert result.silent == [], f"{fmt}/{layout}: cells wrong with no finding naming them"
    missed = result.errors_missed
    if layout == "glued":
        # a glued row no reading can split stays null; identities through its cells are not judged
        named = {c for f in report.findings if f.rule == "structure.cells_missing" for c in f.cells}
        missed = [r for r in missed if not any(set(i.cells) & named for i in identities(syn.truth["meta"]["template"]) if i.rule == r)]
    assert missed == [], f"{fmt}/{layout}: injected source errors not raised"
    assert result.false_errors == [], f"{fmt}/{layout}: error findings the truth does not have"
    assert result.meta_wrong == [], f"{fmt}/{layout}: metadata"
    raised = {f.rule for f in report.findings}
    assert set(truth.get("expected_findings", [])) <= raised, f"{fmt}/{layout}: expected warnings"


@pytest.mark.parametrize(("template", "year"), TEMPLATES)
@pytest.mark.parametrize(("fmt", "layout"), FORMATS)
def test_clean_report_reads_exactly(template: str, year: int, fmt: str, layout: str | None) -> None:
    syn = make_report(7, template=template, year=year)
    _check(syn, fmt, layout)
    report = gongkai.parse(syn.render(fmt, layout), name=f"r.{fmt}")
    if layout == "glued":
        # glued 表一 rows have no identity to split by: left null and named, the rest is exact
        assert all(f.origin == "extraction" for f in report.findings if f.severity == "error")
        return
    assert [f for f in report.findings if f.severity == "error"] == []
    filled = [c for c, v in syn.truth["cells"].items() if v is not None]
    assert all(report.cells[c] == syn.truth["cells"][c] for c in filled)


def _fault_cases():
    for fault in sorted(FAULTS):
        template, year = ("2021", 2023)
        if fault == "outdated_template":
            template, year = "2019", 2022
        yield fault, template, year


@pytest.mark.parametrize(
    ("fault", "template", "year", "fmt", "layout"),
    [
        (*case, fmt, layout)
        for case in _fault_cases()
        for fmt, layout in [("docx", None), ("html", None), ("txt", "tabs"), ("txt", "glued")]
        if not (case[0] == "blank_cells" and layout == "glued")  # a blank cell cannot be printed in glued text: nothing separates it
    ],
)
def test_each_fault_is_found(fault: str, template: str, year: int, fmt: str, layout: str | None) -> None:
    syn = make_report(3, template=template, year=year, faults=(fault,))
    _check(syn, fmt, layout)


@pytest.mark.parametrize("seed", range(40))
def test_random_reports_in_random_layouts(seed: int) -> None:
    """A sweep over seeds: random template, body, layout and faults; never a silent wrong cell."""
    template, year = TEMPLATES[seed % 2]
    year = year + seed % 3 if template == "2021" else year
    syn = make_report(1000 + seed, template=template, year=year, faults=pick_random(random.Random(seed), template, year))
    fmt, layout = FORMATS[seed % len(FORMATS)]
    _check(syn, fmt, layout)


def test_suspect_names_the_single_wrong_cell() -> None:
    syn = make_report(5, template="2021", year=2022, faults=("typo",))
    report = gongkai.parse(syn.render("docx"), name="r.docx")
    suspects = {s for f in report.findings for s in f.suspects}
    assert set(syn.truth["suspects"]) <= suspects
