"""A synthetic report: its metadata, numbers and blocks (headings, paragraphs, tables), and its truth."""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import date

from gongkai.cells import APPEAL_BLOCKS, cell_ids
from gongkai.synth import narrative as text
from gongkai.synth.agency import Agency, make_agency, publication_date
from gongkai.synth.faults import (
    ARITHMETIC,
    FAULTS,
    LABEL_ALTERATIONS,
    Applied,
    apply_numeric,
    blank_cells,
    check_compatible,
)
from gongkai.synth.numbers import APPLICANTS, Values, broken_identities, make_values
from gongkai.synth.template import (
    ACTIVE_2019,
    ACTIVE_2021,
    APPEAL_OUTCOME_LABELS,
    APPLICANT_LABELS,
    FORWARD_ROW,
    NOTE_CELL,
    RESULT_LABEL,
    SECTION_NUMERALS,
    SECTION_TITLES,
    TOP_ROWS,
    TOTAL_ROW,
    Cell,
    Table,
    request_cell,
    result_groups,
)

YEARS = {"2019": (2019, 2020), "2021": (2021, 2025)}


@dataclass(slots=True)
class Para:
    """One paragraph; `kind` is title | meta | heading | subheading | body | sign."""

    text: str
    kind: str = "body"


Block = Para | Table


@dataclass(slots=True)
class Synthetic:
    """A generated report: render it with `render(fmt, layout)`; `truth` is a corpus truth file."""

    seed: int
    template: str
    year: int
    agency: Agency
    published: date
    faults: tuple[str, ...]
    blocks: list[Block]
    truth: dict
    labels: dict[str, str] = field(default_factory=dict)  # label as printed, for altered labels
    variants: tuple[str, ...] = ()  # layout variants (synth/variants.py) it is printed in

    @property
    def title(self) -> str:
        return "".join(b.text for b in self.blocks if isinstance(b, Para) and b.kind == "title")  # a title split over lines is one title

    def tables(self) -> list[Table]:
        return [b for b in self.blocks if isinstance(b, Table)]

    def rng(self, purpose: str) -> random.Random:
        """A random stream for one rendering choice, so renders are deterministic per seed."""
        return random.Random(f"{self.seed}:{purpose}")

    def render(self, fmt: str, layout: str | None = None, *, encoding: str | None = None) -> bytes:
        """Bytes of the report as txt (layouts of render_text.LAYOUTS), md, html, docx, ofd, pdf, doc, scan_png, scan_pdf,
        or as converter markdown of its html, docx or pdf (md_html, md_docx, md_pdf)."""
        if fmt == "txt":
            from gongkai.synth.render_text import render_txt

            return render_txt(self, layout, encoding=encoding)
        if fmt == "md":
            from gongkai.synth.render_text import render_markdown

            return render_markdown(self)
        if fmt == "html":
            from gongkai.synth.render_html import render_html

            return render_html(self, layout)
        if fmt == "docx":
            from gongkai.synth.render_docx import render_docx

            return render_docx(self)
        if fmt == "ofd":
            from gongkai.synth.render_ofd import render_ofd

            return render_ofd(self)
        if fmt in ("md_html", "md_docx", "md_pdf"):
            from gongkai.synth import converted

            return converted.render(self, fmt)
        if fmt in ("pdf", "doc", "scan_png", "scan_pdf"):
            from gongkai.synth import render_office

            return render_office.render(self, fmt)
        raise ValueError(f"unknown format {fmt!r}")

    def truth_for(self, file: str, fmt: str, layout: str | None = None) -> dict:
        """The truth file of one rendered file (a Traditional-character page names the agency in Traditional)."""
        truth = copy.deepcopy(self.truth)
        truth["file"] = file
        if layout and "traditional" in layout:
            from gongkai.synth.render_html import to_traditional

            truth["meta"]["agency"] = to_traditional(truth["meta"]["agency"])
        truth["notes"] += f" Rendered as {fmt}" + (f" ({layout})." if layout else ".")
        if fmt in ("txt",) and layout == "glued" and "blank_cells" in self.faults:
            truth["notes"] += " Blank cells in a glued table cannot be located: flagging them is enough."
        return truth


def make_report(seed: int, *, template: str = "2021", year: int | None = None, faults=(),
                body_type: str | None = None, agency: Agency | None = None, values: Values | None = None,
                published: date | None = None, variants=()) -> Synthetic:  # fmt: skip
    """A random, realistic report with its truth; `faults` names entries of faults.FAULTS.

    The outdated_template fault uses the 2019 template whatever `template` says, with a year ≥ 2021.
    `agency`, `values` (every cell of the template, consistent) and `published` fix what is otherwise
    drawn at random: a body followed over several years. `variants` names layouts of synth/variants.py.
    """
    from gongkai.synth import variants as layout
    rng = random.Random(seed)
    faults = tuple(dict.fromkeys(faults))
    if "outdated_template" in faults:
        template = "2019"
        year = year if year and year >= 2021 else rng.randint(2021, 2025)
    if template not in YEARS:
        raise ValueError(f"template must be '2019' or '2021', not {template!r}")
    year = year or rng.randint(*YEARS[template])
    if template == "2021" and year < 2021:
        raise ValueError("the 2021 template applies from report year 2021")
    check_compatible(faults, template, year)
    variants = tuple(sorted(set(variants)))
    layout.check(variants)

    drawn_agency = make_agency(rng, body_type)  # drawn even when given, so a seed draws the same numbers
    agency = agency or drawn_agency
    drawn_date = publication_date(rng, agency.body_type, year, late="published_late" in faults)
    published = published or drawn_date
    drawn_values = make_values(rng, template, agency.body_type)
    if values is not None and set(values) != set(cell_ids(template)):
        raise ValueError(f"values must give every cell of the {template} template")
    values = dict(values) if values is not None else drawn_values
    if "narrow_cells" in variants:
        layout.scale_requests(values)
    applied = Applied()
    for name in ("unpaid_without_notice", *ARITHMETIC):
        if name in faults:
            apply_numeric(rng, name, values, template, applied)
    facts = _facts(rng, values, year, template)
    if "year_mismatch" in faults:
        facts.year = year - 1
        applied.details["year_mismatch"] = {"narrative_year": year - 1}
    if "period" in faults:
        facts.period = rng.choice((("1月1日", "11月30日"), ("2月1日", "12月31日"), ("1月1日", "12月20日")))
        applied.details["period"] = {"stated": list(facts.period)}
    blanks = blank_cells(rng, values, template, applied) if "blank_cells" in faults else []
    old_columns = _columns_2019(seed, values, applied) if "columns_2019" in faults else None
    missing_table = None
    if "table_missing" in faults:
        missing_table = "active" if "block_sum" in faults else rng.choice(("appeals", "appeals", "active"))
    if "narrative_mismatch" in faults:
        _mismatch(rng, facts, applied, appeals_shown=missing_table != "appeals")
    if missing_table:
        for cid in values:
            if cid.startswith(missing_table + "."):
                values[cid] = None
        applied.details["table_missing"] = missing_table

    labels = {}
    if "label_altered" in faults:
        old, new = rng.choice(
            LABEL_ALTERATIONS if template == "2021" else LABEL_ALTERATIONS[:2] + LABEL_ALTERATIONS[3:]
        )
        labels[old] = new
        applied.details["label_altered"] = {"template": old, "printed": new}
    missing_section = None
    if "section_missing" in faults:
        missing_section = 5 if "narrative_mismatch" in faults or "year_mismatch" in faults else rng.choice((1, 5))
        applied.details["section_missing"] = SECTION_NUMERALS[missing_section - 1]

    blocks = _blocks(rng, template, year, agency, published, values, facts, faults, labels,
                     missing_table=missing_table, missing_section=missing_section, old_columns=old_columns)  # fmt: skip
    if variants:
        blocks = layout.apply(blocks, variants, seed=seed, agency=agency, year=year, values=values)
    truth = _truth(seed, template, year, agency, published, values, faults, applied, blanks)
    if variants:
        truth["layout_variants"] = list(variants)
        truth["notes"] += f" Layout variants: {', '.join(variants)}."
    return Synthetic(seed, template, year, agency, published, faults, blocks, truth, labels, variants)


def _columns_2019(seed: int, values: Values, applied: Applied) -> Values:
    """The 2019 columns of block （一） printed in a 2021 table: the 2021 cells were not printed (null)."""
    rng = random.Random(f"{seed}:columns_2019")  # its own stream: the report's other draws stay as they were
    printed: Values = {}
    for row in ("rules", "normative_docs"):
        made = values[f"active.{row}.issued"] or 0
        printed[f"active.{row}.new_made"] = made
        printed[f"active.{row}.new_published"] = made + rng.randint(0, 3)
        printed[f"active.{row}.total_published"] = (values[f"active.{row}.in_force"] or 0) + rng.randint(1, 40)
        for column in ("issued", "repealed", "in_force"):
            values[f"active.{row}.{column}"] = None
    applied.details["columns_2019"] = {"printed": dict(printed)}
    return printed


def _facts(rng: random.Random, v: Values, year: int, template: str) -> text.Facts:
    docs = v["active.normative_docs.issued" if template == "2021" else "active.normative_docs.new_made"]
    return text.Facts(
        year=year,
        received=v["requests.new_received.total"],
        carried_over=v["requests.carried_over.total"],
        closed=v["requests.total.total"],
        reviews=v["appeals.review.total"],
        lawsuits=v["appeals.suit_direct.total"] + v["appeals.suit_after_review.total"],
        normative_docs=docs,
        published_items=rng.randint(20, 3000),
    )


def _mismatch(rng: random.Random, facts: text.Facts, applied: Applied, *, appeals_shown: bool) -> None:
    choices = [("received", "requests.new_received.total")] + [("reviews", "appeals.review.total")] * appeals_shown
    field_, cell = rng.choice(choices)
    table = getattr(facts, field_)
    stated = table + rng.choice((1, 2, 3, 10)) if table < 3 or rng.random() < 0.5 else table - rng.randint(1, table - 1)
    setattr(facts, field_, stated)
    applied.details["narrative_mismatch"] = {
        "cell": cell,
        "table": table,
        "text": stated,
    }


# ---- the tables ----


def shown(cell_id: str, value) -> str:
    """How a cell's value is printed (blank for None; 万元 amounts up to 4 decimals; procurement with its unit)."""
    if value is None:
        return ""
    if cell_id == "active.procurement.amount_wan":
        if value == 0:
            return "0"
        yuan = round(value * 10000, 2)
        return f"{yuan:.2f}".rstrip("0").rstrip(".") + "元" if int(yuan * 100) % 100 else f"{int(yuan)}元"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def _value_cell(cid: str, v: Values, colspan: int = 1) -> Cell:
    return Cell(shown(cid, v[cid]), colspan=colspan, cell_id=cid)


def active_table(template: str, v: Values, relabel, old_columns: Values | None = None) -> Table:
    """Table 二; `old_columns` prints block （一） in the 2019 columns with those values (a 2021 report gone wrong)."""
    table = Table("active")
    blocks = ACTIVE_2021 if template == "2021" else ACTIVE_2019
    if old_columns is not None:
        blocks = (ACTIVE_2019[0], *blocks[1:])
        v = {**v, **old_columns}
    for block in blocks:
        table.rows.append([Cell(block.caption, colspan=4, header=True)])
        spans = {1: (3,), 2: (1, 2), 3: (1, 1, 1)}[len(block.headers)]
        table.rows.append([Cell("信息内容", header=True)]
                          + [Cell(relabel(h), colspan=s, header=True) for h, s in zip(block.headers, spans)])  # fmt: skip
        for label, ids in block.rows:
            table.rows.append([Cell(relabel(label), header=True)] + [_value_cell(c, v, s) for c, s in zip(ids, spans)])
    return table


def requests_table(template: str, v: Values, relabel, extra_rows: bool) -> Table:
    table = Table("requests")
    table.rows.append(
        [
            Cell(NOTE_CELL, rowspan=3, colspan=3, header=True),
            Cell("申请人情况", colspan=7, header=True),
        ]
    )
    table.rows.append([Cell("自然人", rowspan=2, header=True), Cell("法人或其他组织", colspan=5, header=True),
                       Cell("总计", rowspan=2, header=True)])  # fmt: skip
    table.rows.append([Cell(relabel(lab), header=True) for lab in APPLICANT_LABELS[1:6]])

    def values(row: str) -> list[Cell]:
        return [_value_cell(request_cell(row, c), v) for c in (*APPLICANTS, "total")]

    for key, label in TOP_ROWS:
        table.rows.append([Cell(label, colspan=3, header=True)] + values(key))
    result_rows: list[list[Cell]] = []
    for group in result_groups(template):
        if not group.subrows:
            result_rows.append([Cell(relabel(group.label), colspan=2, header=True)] + values(group.key))
            continue
        rows = []
        for sub, label in group.subrows:
            rows.append([Cell(relabel(label), header=True)] + values(f"{group.key}.{sub}"))
        if extra_rows:  # a 小计 row of the report's own making, not in any identity
            sums = []
            for c in (*APPLICANTS, "total"):
                parts = [v[request_cell(f"{group.key}.{s}", c)] for s, _ in group.subrows]
                sums.append(Cell("" if None in parts else str(sum(parts))))
            rows.append([Cell("小计", header=True)] + sums)
        rows[0].insert(0, Cell(relabel(group.label), rowspan=len(rows), header=True))
        result_rows.extend(rows)
    result_rows.append([Cell(TOTAL_ROW[1], colspan=2, header=True)] + values(TOTAL_ROW[0]))
    result_rows[0].insert(0, Cell(RESULT_LABEL, rowspan=len(result_rows), header=True))
    table.rows.extend(result_rows)
    table.rows.append([Cell(FORWARD_ROW[1], colspan=3, header=True)] + values(FORWARD_ROW[0]))
    return table


def appeals_table(v: Values) -> Table:
    table = Table("appeals")
    table.rows.append(
        [
            Cell("行政复议", colspan=5, header=True),
            Cell("行政诉讼", colspan=10, header=True),
        ]
    )
    table.rows.append([Cell(lab, rowspan=2, header=True) for lab in APPEAL_OUTCOME_LABELS]
                      + [Cell("未经复议直接起诉", colspan=5, header=True), Cell("复议后起诉", colspan=5, header=True)])  # fmt: skip
    table.rows.append([Cell(lab, header=True) for lab in APPEAL_OUTCOME_LABELS * 2])
    table.rows.append([_value_cell(f"appeals.{b}.{c}", v) for b in APPEAL_BLOCKS
                       for c in ("upheld", "corrected", "other", "pending", "total")])  # fmt: skip
    return table


# ---- the document ----


def _heading(rng: random.Random, number: int) -> str:
    title = SECTION_TITLES[number - 1]
    name = title[0] if len(title) == 1 or rng.random() < 0.6 else rng.choice(title[1:])
    sep = "、" if rng.random() < 0.85 else "."
    return f"{SECTION_NUMERALS[number - 1]}{sep}{name}"


def _blocks(
    rng,
    template,
    year,
    agency,
    published,
    values,
    facts,
    faults,
    labels,
    *,
    missing_table,
    missing_section,
    old_columns=None,
):
    def relabel(label: str) -> str:
        return labels.get(label, label)

    blocks: list[Block] = [Para(text.title(rng, agency, year), "title")]
    if rng.random() < 0.5:
        blocks.append(Para(f"发布日期：{published.isoformat()}", "meta"))
    blocks += [Para(t) for t in text.intro(rng, agency, year, facts)]
    sections: dict[int, list[Block]] = {}
    overview = text.overview(rng, agency, facts)
    sections[1] = [Para(overview[0])] + [Para(t, "subheading" if t.startswith("（") else "body") for t in overview[1:]]
    if missing_table == "active":
        sections[2] = [Para("本年度主动公开政府信息情况详见政府信息公开专栏。")]
    else:
        sections[2] = [active_table(template, values, relabel, old_columns)]
    sections[3] = [requests_table(template, values, relabel, "extra_rows" in faults)]
    appeals: list[Block] = [Para(text.appeals_text(rng, agency, facts))]
    if missing_table != "appeals":
        appeals.append(appeals_table(values))
    sections[4] = appeals
    sections[5] = [Para(t) for t in text.problems(rng, agency, year)]
    six = [Para(t) for t in text.other_matters(rng, agency, year)]
    if year >= 2021 and "fees_missing" not in faults:
        unpaid = (
            sum(values.get(request_cell("other.unpaid_fee", c)) or 0 for c in APPLICANTS) if template == "2021" else 0
        )
        notices = unpaid + (rng.randint(1, 3) if rng.random() < 0.1 else 0)
        statement = text.fee_statement(rng, notices, unpaid, mention_notice="unpaid_without_notice" not in faults)
        six.insert(0, Para(statement))
    sections[6] = six
    for number in range(1, 7):
        if number == missing_section:
            continue
        blocks.append(Para(_heading(rng, number), "heading"))
        blocks.extend(sections[number])
    blocks += [Para(t, "sign") for t in text.signoff(agency, published)]
    return blocks


# ---- the truth ----


def _truth(seed, template, year, agency, published, values, faults, applied, blanks) -> dict:
    computed = broken_identities(values, template)
    errors = set(computed)
    expected = set()
    for name in faults:
        rule, severity = FAULTS[name]
        if name in ARITHMETIC:
            continue  # their rules are whatever the final numbers break (a blank cell may hide one)
        (errors if severity == "error" else expected).add(rule)
    if template == "2019" and year >= 2021:
        errors.add("template.outdated")
    cells = {cid: values[cid] for cid in cell_ids(template)}
    notes = f"gongkai.synth seed {seed}, template {template}, year {year}."
    if faults:
        notes += f" Faults: {', '.join(faults)}."
    truth = {
        "file": "",
        "meta": {
            "agency": agency.name,
            "year": year,
            "template": template,
            "published": published.isoformat(),
        },
        "cells": cells,
        "source_errors": sorted(errors),
        "allowed_findings": [],
        "complete": True,
        "notes": notes,
        "expected_findings": sorted(expected),
        "suspects": sorted(set(applied.suspects)),
        "body_type": agency.body_type,
        "faults": list(faults),
        "fault_details": applied.details,
        "broken": computed,
    }
    if blanks:
        truth["blank_cells"] = blanks
    return truth
