"""Faults a synthetic report can carry, each tied to the rules.md id it makes true.

Arithmetic faults change the numbers so that exactly their identity breaks (two cells move
together where one cell would break two identities); `typo`, `block_sum` and `negative_count`
change a single cell, which the truth names as the suspect.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from gongkai.cells import APPEAL_BLOCKS
from gongkai.synth.numbers import APPLICANTS, Values
from gongkai.synth.template import outcome_rows, request_cell, request_rows

# fault name → (rule id it makes true, severity of that rule)
FAULTS: dict[str, tuple[str, str]] = {
    "balance": ("requests.balance", "error"),
    "outcomes_sum": ("requests.outcomes_sum", "error"),
    "row_sum": ("requests.row_sum", "error"),
    "block_sum": ("appeals.block_sum", "error"),
    "negative_count": ("value.domain", "error"),
    "typo": (
        "requests.row_sum",
        "error",
    ),  # one wrong cell of section 三: row_sum plus balance or outcomes_sum
    "section_missing": ("structure.section_missing", "error"),
    "table_missing": ("structure.table_missing", "error"),
    "blank_cells": ("structure.cells_missing", "error"),
    "outdated_template": ("template.outdated", "error"),
    # a 2021 report whose 第二十条第（一）项 block still prints the 2019 columns and their numbers
    "columns_2019": ("template.outdated", "error"),
    "label_altered": ("template.label_altered", "warning"),
    "extra_rows": ("template.extra_rows", "info"),
    "narrative_mismatch": ("narrative.table_mismatch", "warning"),
    "year_mismatch": ("narrative.year_mismatch", "warning"),
    "published_late": ("meta.published_late", "warning"),
    "period": ("meta.period", "warning"),
    "fees_missing": ("fees.statement_missing", "info"),
    "unpaid_without_notice": ("fees.unpaid_without_notice", "warning"),
}
ARITHMETIC = (
    "balance",
    "outcomes_sum",
    "row_sum",
    "block_sum",
    "negative_count",
    "typo",
)

# Pairs that cannot live in one report (the second would undo or hide the first).
_CONFLICTS = {
    frozenset(p)
    for p in (
        ("table_missing", "blank_cells"),
        ("fees_missing", "unpaid_without_notice"),
    )
}
NEEDS_2021_TEMPLATE = ("unpaid_without_notice", "columns_2019")
NEEDS_YEAR_2021 = ("fees_missing", "unpaid_without_notice", "outdated_template", "columns_2019")
LAYOUT_FAULTS = ("columns_2019",)  # drawn only when asked for, so earlier seeds draw what they drew

# Cells the narrative states: never blanked, so text and table can always be compared.
NARRATED = (
    "requests.new_received.total", "requests.carried_over.total", "requests.total.total",
    "appeals.review.total", "appeals.suit_direct.total", "appeals.suit_after_review.total",
    "active.normative_docs.issued", "active.normative_docs.new_made",
)  # fmt: skip

LABEL_ALTERATIONS = (
    (
        "（二）部分公开（区分处理的，只计这一情形，不计其他情形）",
        "（二）部分公开（区分处理的，只计这一情况，不计其他情形）",
    ),
    ("5.属于三类内部事务信息", "5.属于三类内容事务信息"),
    ("现行有效件数", "现行有效件数（历史累计）"),
    ("社会公益组织", "社会组织"),
    ("4.无正当理由大量反复申请", "4.无正当理由大量重复申请"),
)


@dataclass(slots=True)
class Applied:
    """What the faults did: cells they touched, single-cell suspects, details for the truth notes."""

    touched: set[str] = field(default_factory=set)
    suspects: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


def check_compatible(faults: tuple[str, ...], template: str, year: int) -> None:
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {unknown}; known: {sorted(FAULTS)}")
    for pair in _CONFLICTS:
        if pair <= set(faults):
            raise ValueError(f"faults {sorted(pair)} cannot be combined")
    if template != "2021" and any(f in NEEDS_2021_TEMPLATE for f in faults):
        raise ValueError(f"faults {[f for f in faults if f in NEEDS_2021_TEMPLATE]} need the 2021 template")
    if year < 2021 and any(f in NEEDS_YEAR_2021 for f in faults):
        raise ValueError(f"faults {[f for f in faults if f in NEEDS_YEAR_2021]} need a report year ≥ 2021")


def pick_random(rng: random.Random, template: str, year: int) -> tuple[str, ...]:
    """No fault half of the time, else one or two compatible ones."""
    if rng.random() < 0.5:
        return ()
    pool = [f for f in FAULTS if f != "outdated_template" and f not in LAYOUT_FAULTS]
    for _ in range(20):
        chosen = tuple(sorted(set(rng.sample(pool, k=rng.choice((1, 1, 2))))))
        try:
            check_compatible(chosen, template, year)
        except ValueError:
            continue
        return chosen
    return ()


def add_request(v: Values, column: str, row: str) -> None:
    """One more application received and settled as `row`: every identity still holds."""
    for r in ("new_received", row, "total"):
        v[request_cell(r, column)] += 1
        v[request_cell(r, "total")] += 1


def _nonzero(v: Values, rows, columns) -> list[tuple[str, str]]:
    return [(r, c) for r in rows for c in columns if (v.get(request_cell(r, c)) or 0) > 0]


def apply_numeric(rng: random.Random, name: str, v: Values, template: str, applied: Applied) -> None:
    """Change the numbers for one arithmetic (or fee) fault."""
    outcomes = outcome_rows(template)
    d = rng.choice((1, 1, 2, 3, 5, 10))
    if name == "unpaid_without_notice":
        if not _nonzero(v, ["other.unpaid_fee"], APPLICANTS):
            add_request(
                v,
                rng.choice(("natural_person", "natural_person", "commercial")),
                "other.unpaid_fee",
            )
        return
    if name == "balance":  # one row off by d in a column and its total: only the balance breaks
        row, column = (
            rng.choice(("new_received", "carried_over", "carried_forward")),
            rng.choice(APPLICANTS[:2]),
        )
        cells = [request_cell(row, column), request_cell(row, "total")]
        for cid in cells:
            v[cid] += d
        applied.touched.update(cells)
        applied.details["balance"] = {"cells": cells, "delta": d}
    elif name == "outcomes_sum":  # a result row off by d in a column and its total
        row, column = rng.choice(outcomes), rng.choice(APPLICANTS[:2])
        cells = [request_cell(row, column), request_cell(row, "total")]
        for cid in cells:
            v[cid] += d
        applied.touched.update(cells)
        applied.details["outcomes_sum"] = {"cells": cells, "delta": d}
    elif name == "row_sum":  # d moved between two result rows of one column: column sums hold, row sums break
        if not _nonzero(v, outcomes, APPLICANTS):
            add_request(v, "natural_person", "granted")
        row_from, column = rng.choice(_nonzero(v, outcomes, APPLICANTS))
        d = min(d, v[request_cell(row_from, column)])
        row_to = rng.choice([r for r in outcomes if r != row_from])
        v[request_cell(row_from, column)] -= d
        v[request_cell(row_to, column)] += d
        cells = [request_cell(row_from, column), request_cell(row_to, column)]
        applied.touched.update(cells)
        applied.details["row_sum"] = {"cells": cells, "moved": d}
    elif name == "typo":  # one cell of section 三 misprinted
        row, column = (
            rng.choice(request_rows(template)),
            rng.choice(("natural_person", "total")),
        )
        cid = request_cell(row, column)
        v[cid] = v[cid] + d if v[cid] < d or rng.random() < 0.5 else v[cid] - d
        applied.touched.add(cid)
        applied.suspects.append(cid)
        applied.details["typo"] = {"cell": cid, "delta": d}
    elif name == "block_sum":
        block = rng.choice(APPEAL_BLOCKS)
        cid = f"appeals.{block}.{rng.choice(('upheld', 'corrected', 'other', 'pending', 'total'))}"
        v[cid] = v[cid] + d if v[cid] < d or rng.random() < 0.5 else v[cid] - d
        applied.touched.add(cid)
        applied.suspects.append(cid)
        applied.details["block_sum"] = {"cell": cid, "delta": d}
    elif name == "negative_count":  # a table 二 count outside every identity turns negative
        candidates = [c for c in v if c.startswith("active.") and not c.endswith((".delta", ".amount_wan"))]
        cid = rng.choice(candidates)
        v[cid] = -(v[cid] or rng.randint(1, 20))
        applied.touched.add(cid)
        applied.suspects.append(cid)
        applied.details["negative_count"] = {"cell": cid}


def blank_cells(rng: random.Random, v: Values, template: str, applied: Applied) -> list[str]:
    """Leave a few cells empty: zeros left blank in a row (a common habit) or one or two stray cells."""
    free = [c for c in v if c not in NARRATED and c not in applied.touched and c.startswith(("requests.", "active."))]
    if rng.random() < 0.5:
        row = rng.choice(request_rows(template))
        chosen = [request_cell(row, c) for c in APPLICANTS[1:] if request_cell(row, c) in free]
        chosen = [c for c in chosen if v[c] == 0] or chosen
    else:
        chosen = rng.sample(free, k=rng.randint(1, 3))
    for cid in chosen:
        v[cid] = None
    applied.details["blank_cells"] = chosen
    return chosen
