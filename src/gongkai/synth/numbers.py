"""The numbers of a report: random but consistent tables, and the identities of rules.md.

Values are ints (counts) or floats (万元 amounts); `None` marks a blank cell.
"""

from __future__ import annotations

import random
from collections import Counter

from gongkai.cells import APPEAL_BLOCKS, APPLICANT_COLUMNS, cell_ids
from gongkai.synth.template import outcome_rows, request_cell, request_rows

APPLICANTS = APPLICANT_COLUMNS[:-1]  # the six columns that add up to 总计
_APPLICANT_SHARE = {"natural_person": 1.0, "commercial": 0.18, "research": 0.01,
                    "public_interest": 0.02, "legal_service": 0.06, "other_org": 0.06}  # fmt: skip
_OUTCOME_WEIGHT = {
    "granted": 40, "partial": 8, "denied.state_secret": 0.5, "denied.law_prohibited": 1, "denied.security_stability": 0.5,
    "denied.third_party": 2, "denied.internal_affairs": 2, "denied.process_info": 3, "denied.enforcement_file": 1,
    "denied.admin_query": 2, "unable.not_held": 20, "unable.needs_creation": 3, "unable.still_unclear": 3,
    "not_processed.petition_complaint": 5, "not_processed.duplicate": 4, "not_processed.publication": 1,
    "not_processed.excessive": 1, "not_processed.confirm_reissue": 1, "other": 5,
    "other.no_correction": 3, "other.unpaid_fee": 0.4, "other.other": 2,
}  # fmt: skip

Values = dict[str, "int | float | None"]


def _volume(rng: random.Random, body_type: str) -> int:
    """How many requests the body received: often none, mostly few, sometimes many."""
    busy = {
        "government": 3.0,
        "department": 1.5,
        "other": 1.0,
        "street": 0.6,
        "township": 0.5,
    }[body_type]
    roll = rng.random()
    if roll < 0.3 / busy:
        return 0
    if roll < 0.75:
        return rng.randint(1, 15)
    if roll < 0.95:
        return rng.randint(15, 150)
    return rng.randint(150, 2500)


def make_requests(rng: random.Random, template: str, body_type: str, *, volume: int | None = None,
                  outcome_weights: dict[str, float] | None = None, carried_over: dict[str, int] | None = None,
                  carry_forward: bool = True) -> Values:  # fmt: skip
    """Section 三: balanced rows, every row summing to 总计, outcomes summing to （七）总计.

    `volume` fixes the new requests of the year; `outcome_weights` overrides some outcomes' weights;
    `carried_over` (applicant column → count) continues last year's 结转下年度; `carry_forward=False`
    leaves nothing for next year.
    """
    rows = request_rows(template)
    outcomes = outcome_rows(template)
    weight_of = {**_OUTCOME_WEIGHT, **(outcome_weights or {})}
    weights = [weight_of[r] for r in outcomes]
    v: dict[str, int] = {request_cell(r, c): 0 for r in rows for c in APPLICANT_COLUMNS}
    n = _volume(rng, body_type) if volume is None else volume
    shares = {c: s * rng.uniform(0.3, 1.7) for c, s in _APPLICANT_SHARE.items()}
    for column, count in Counter(rng.choices(APPLICANTS, weights=list(shares.values()), k=n)).items():
        v[request_cell("new_received", column)] = count
    for column in APPLICANTS:
        new = v[request_cell("new_received", column)]
        if carried_over is None:
            over = rng.randint(0, max(1, new // 8)) if new and rng.random() < 0.3 else 0
        else:
            over = carried_over.get(column, 0)
        v[request_cell("carried_over", column)] = over
        forward = rng.randint(0, max(1, (new + over) // 6)) if new + over and rng.random() < 0.35 else 0
        forward = forward if carry_forward else 0
        forward = min(forward, new + over)
        v[request_cell("carried_forward", column)] = forward
        for row, count in Counter(rng.choices(outcomes, weights=weights, k=new + over - forward)).items():
            v[request_cell(row, column)] = count
    for column in APPLICANTS:
        v[request_cell("total", column)] = sum(v[request_cell(r, column)] for r in outcomes)
    for row in rows:
        v[request_cell(row, "total")] = sum(v[request_cell(row, c)] for c in APPLICANTS)
    return v


def make_appeals(rng: random.Random, busy: bool) -> Values:
    v: Values = {}
    for block, p in zip(APPEAL_BLOCKS, (0.35, 0.2, 0.1)):
        parts = [0, 0, 0, 0]
        if rng.random() < p * (2 if busy else 1):
            k = rng.randint(1, 12 if busy else 3)
            for i in rng.choices(range(4), weights=(6, 1, 2, 2), k=k):
                parts[i] += 1
        for name, value in zip(("upheld", "corrected", "other", "pending"), parts):
            v[f"appeals.{block}.{name}"] = value
        v[f"appeals.{block}.total"] = sum(parts)
    return v


def _small(rng: random.Random, p_zero: float, hi: int) -> int:
    return 0 if rng.random() < p_zero else rng.randint(1, hi)


def make_active(rng: random.Random, template: str, body_type: str) -> Values:
    """Section 二: documents, decisions, fees (and 2019 item counts, procurement)."""
    rules_maker = body_type == "government" and rng.random() < 0.4
    big = body_type in ("department", "government")
    v: Values = {}
    if template == "2021":
        for doc, p_zero, hi in (
            ("rules", 0.3 if rules_maker else 1.0, 6),
            ("normative_docs", 0.45, 12),
        ):
            issued, repealed = (
                _small(rng, p_zero, hi),
                _small(rng, min(1.0, p_zero + 0.3), hi),
            )
            v[f"active.{doc}.issued"] = issued
            v[f"active.{doc}.repealed"] = repealed
            v[f"active.{doc}.in_force"] = issued + _small(rng, p_zero, hi * 6)
        for item, p_zero, hi in (("licensing", 0.4, 3000 if big else 60), ("penalty", 0.45, 1500 if big else 80),
                                 ("coercion", 0.8, 40)):  # fmt: skip
            v[f"active.{item}.decisions"] = _small(rng, p_zero, rng.choice((hi // 20 or 1, hi)))
        fee = 0 if rng.random() < 0.7 else rng.randint(1, rng.choice((99, 9999, 999999)))
        v["active.admin_fees.amount_wan"] = round(fee / 10000, 4) if rng.random() < 0.6 else float(fee // 10000)
        return v
    for doc, p_zero, hi in (
        ("rules", 0.3 if rules_maker else 1.0, 6),
        ("normative_docs", 0.4, 15),
    ):
        made = _small(rng, p_zero, hi)
        v[f"active.{doc}.new_made"] = made
        v[f"active.{doc}.new_published"] = made if rng.random() < 0.85 else rng.randint(0, made)
        v[f"active.{doc}.total_published"] = made + _small(rng, p_zero, hi * 8)
    for item, p_zero, hi in (("licensing", 0.4, 3000 if big else 60), ("other_services", 0.6, 300),
                             ("penalty", 0.45, 1500 if big else 80), ("coercion", 0.8, 40)):  # fmt: skip
        prev = _small(rng, p_zero, 400)
        v[f"active.{item}.prev_items"] = prev
        v[f"active.{item}.delta"] = 0 if rng.random() < 0.6 else rng.randint(-prev, max(3, prev // 4))
        v[f"active.{item}.decisions"] = _small(rng, p_zero, hi)
    prev = _small(rng, 0.5, 40)
    v["active.admin_fees.prev_items"] = prev
    v["active.admin_fees.delta"] = 0 if rng.random() < 0.7 else rng.randint(-prev, 3)
    projects = _small(rng, 0.5, 150 if big else 10)
    v["active.procurement.projects"] = projects
    v["active.procurement.amount_wan"] = (
        round(rng.randint(500, 5_000_000) * projects / 100 / 10000, 6) if projects else 0.0
    )
    return v


def make_values(rng: random.Random, template: str, body_type: str, **requests_options) -> Values:
    """Every cell of `template`, consistent; `requests_options` go to make_requests."""
    requests = make_requests(rng, template, body_type, **requests_options)
    busy = requests["requests.new_received.total"] > 20
    values = {
        **make_active(rng, template, body_type),
        **requests,
        **make_appeals(rng, busy),
    }
    assert set(values) == set(cell_ids(template)), set(cell_ids(template)) ^ set(values)
    return {cid: values[cid] for cid in cell_ids(template)}


# ---- identities of rules.md (an identity with a null term is skipped, not broken) ----


def _holds(lhs: list, rhs: list) -> bool | None:
    if any(x is None for x in lhs + rhs):
        return None
    return abs(sum(lhs) - sum(rhs)) < 1e-9


def broken_identities(values: Values, template: str) -> dict[str, list[str]]:
    """Rule id → the cells of each broken instance (rows, columns or blocks), in rules.md terms."""
    broken: dict[str, list[str]] = {}

    def judge(rule: str, where: str, lhs: list, rhs: list) -> None:
        if _holds(lhs, rhs) is False:
            broken.setdefault(rule, []).append(where)

    if any(k.startswith("requests.") for k in values):
        for c in APPLICANT_COLUMNS:

            def g(row: str, c: str = c):
                return values.get(request_cell(row, c))

            judge(
                "requests.balance",
                c,
                [g("new_received"), g("carried_over")],
                [g("total"), g("carried_forward")],
            )
            judge(
                "requests.outcomes_sum",
                c,
                [g("total")],
                [g(r) for r in outcome_rows(template)],
            )
        for row in request_rows(template):
            judge("requests.row_sum", row, [values.get(request_cell(row, "total"))],
                  [values.get(request_cell(row, c)) for c in APPLICANTS])  # fmt: skip
    for block in APPEAL_BLOCKS:
        parts = [values.get(f"appeals.{block}.{p}") for p in ("upheld", "corrected", "other", "pending")]
        if f"appeals.{block}.total" in values:
            judge("appeals.block_sum", block, [values[f"appeals.{block}.total"]], parts)
    for cid, value in values.items():
        if value is not None and value < 0 and not cid.endswith(".delta"):
            broken.setdefault("value.domain", []).append(cid)
    return broken
