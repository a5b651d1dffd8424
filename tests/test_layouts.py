"""Layouts the parser had not seen (issue 19), each a generated family with its truth, in every format it occurs in.

A value goes into a cell only where the report's own labels say it belongs; whatever cannot be
placed is null and named, and only what the report itself got wrong is blamed on the report.
"""

from __future__ import annotations

import shutil

import pytest

import gongkai
from gongkai.evaluate import compare
from gongkai.synth import make_report

TEXT_FORMATS = [("docx", None), ("html", None), ("md", None)] + [
    ("txt", layout) for layout in ("tabs", "glued", "cell_per_line", "pipe_rows", "spaced_labels", "cell_per_line_blank")
]
OFFICE = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice needed to render pdf and doc")
FORMATS = TEXT_FORMATS + [pytest.param("pdf", None, marks=OFFICE), pytest.param("doc", None, marks=OFFICE)]


def _parse(syn, fmt: str, layout: str | None):
    name = f"report.{fmt}"
    report = gongkai.parse(syn.render(fmt, layout), name=name)
    return report, compare(report, syn.truth_for(name, fmt, layout))


def _exact(result) -> None:
    assert result.silent == [], "cells wrong with no finding naming them"
    assert result.errors_missed == [], "source errors of the truth not raised"
    assert result.false_errors == [], "errors the report does not have"


# ── class 5: the columns of the other template ─────────────────────────────────────────────


@pytest.mark.parametrize(("fmt", "layout"), FORMATS)
def test_2019_columns_in_a_2021_table_fill_no_2021_cell(fmt: str, layout: str | None) -> None:
    syn = make_report(3, template="2021", year=2023, faults=("columns_2019",))
    report, result = _parse(syn, fmt, layout)
    _exact(result)
    assert report.meta.template == "2021"
    first_block = [f"active.{row}.{col}" for row in ("rules", "normative_docs") for col in ("issued", "repealed", "in_force")]
    assert all(report.cells[c] is None for c in first_block), "本年新公开数量 is not 本年废止件数"
    outdated = [f for f in report.findings if f.rule == "template.outdated"]
    assert set(first_block) <= {c for f in outdated for c in f.cells}
    assert all("本年新制作数量" in f.message and "对外公开总数量" in f.message for f in outdated)
    # the other blocks are 2021 columns and read as usual
    assert report.cells["active.licensing.decisions"] == syn.truth["cells"]["active.licensing.decisions"]


@pytest.mark.parametrize("seed", range(6))
def test_2019_columns_over_many_reports(seed: int) -> None:
    syn = make_report(500 + seed, template="2021", year=2021 + seed % 4, faults=("columns_2019",))
    for fmt, layout in TEXT_FORMATS:
        _exact(_parse(syn, fmt, layout)[1])


def test_columns_in_another_order_are_read_by_their_headers() -> None:
    """A block whose columns are printed in another order: each value goes under the header that means it."""
    syn = make_report(11, template="2021", year=2022)
    text = syn.render("txt", "tabs").decode()
    v = syn.truth["cells"]
    old = f"信息内容\t本年制发件数\t本年废止件数\t现行有效件数"
    new = f"信息内容\t现行有效件数\t本年制发件数\t本年废止件数"
    assert old in text
    row = f"规章\t{v['active.rules.issued']}\t{v['active.rules.repealed']}\t{v['active.rules.in_force']}"
    moved = f"规章\t{v['active.rules.in_force']}\t{v['active.rules.issued']}\t{v['active.rules.repealed']}"
    assert row in text
    text = text.replace(old, new, 1).replace(row, moved, 1)
    docs = [v[f"active.normative_docs.{c}"] for c in ("issued", "repealed", "in_force")]
    text = text.replace("行政规范性文件\t" + "\t".join(map(str, docs)), "行政规范性文件\t" + "\t".join(map(str, docs[2:] + docs[:2])), 1)
    report = gongkai.parse(text.encode(), name="report.txt")
    for cid in ("active.rules.issued", "active.rules.repealed", "active.rules.in_force", "active.normative_docs.repealed"):
        assert report.cells[cid] == v[cid]
    assert not [f for f in report.findings if f.severity == "error"]
