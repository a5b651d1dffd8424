"""A county's bodies followed over five years, with planted anomalies among normal year-to-year variation.

Every body keeps its name, its usual volume of requests and its usual activity; each year varies
around them (requests ×0.6–1.6, decisions ×0.7–1.4, documents in force carried over with what was
issued and repealed, appeals tied to the requests). Then a few body-years get one anomaly each, of
every kind the `anomaly.*` rules look for, and `planted.json` names them: the reports a rule must
flag (`expected`) and every body-year an anomaly touched (`touched`, which a rule may also flag).
All other body-years are normal, and should not be flagged.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from gongkai.synth.agency import DEPARTMENTS, Agency
from gongkai.synth.model import make_report
from gongkai.synth.numbers import APPLICANTS, make_requests
from gongkai.synth.template import request_cell

YEARS = (2021, 2022, 2023, 2024, 2025)
COUNTIES = ("望城区", "浏阳市")  # real divisions (the gazetteer gives their streets and towns)
REFUSAL_HEAVY = {f"denied.{d}": w for d, w in (("third_party", 80), ("internal_affairs", 80), ("process_info", 100))}


@dataclass(frozen=True, slots=True)
class Body:
    agency: Agency
    volume: int  # requests a year, usually
    penalties: int
    licences: int
    docs_in_force: int
    appeals: float  # reconsiderations a year, usually
    granted_bias: float  # this body's own leaning, the normal spread between peers


@dataclass(slots=True)
class Plan:
    """What a body-year is made of; plant_* functions change it."""

    volume: int
    weights: dict[str, float]
    penalties: int
    licences: int
    docs_issued: int
    docs_repealed: int
    docs_in_force: int
    reviews: int
    suits_after_review: int
    fee_collected: int = 0  # 元, stated in section 六


def county_bodies(rng: random.Random, county_name: str, departments: int = 14) -> list[Body]:
    """The county's government, `departments` departments, and its streets and towns (from the gazetteer)."""
    from gongkai.regions import gazetteer

    county = gazetteer().named(county_name, "county")[0]
    city = county.at("city")
    prefix = (city.name if city else "") + county.name
    province = county.at("province").name

    def agency(name: str, body_type: str, short: str) -> Agency:
        return Agency(prefix + name, body_type, province, province + prefix, short)

    short = "区政府" if county.name.endswith("区") else "市政府" if county.name.endswith("市") else "县政府"
    bodies = [Body(agency("人民政府", "government", short), rng.randint(80, 400), 0, 0, rng.randint(30, 80), 4, 1.0)]
    for dept in rng.sample(DEPARTMENTS, departments):
        bodies.append(Body(agency(dept, "department", "我局"), rng.randint(20, 300), rng.randint(20, 600),
                           rng.randint(30, 900), rng.randint(3, 30), rng.uniform(0.5, 3), rng.uniform(0.8, 1.25)))  # fmt: skip
    for town in county.children:
        if town.name.endswith("街道"):
            bodies.append(Body(agency(town.name + "办事处", "street", "本街道"), rng.randint(15, 80), rng.randint(0, 20), 0,
                               rng.randint(0, 4), 0.3, rng.uniform(0.8, 1.25)))  # fmt: skip
        elif town.name.endswith(("镇", "乡")):
            bodies.append(Body(agency(town.name + "人民政府", "township", "我" + town.name[-1]), rng.randint(12, 60),
                               rng.randint(0, 20), rng.randint(0, 10), rng.randint(0, 4), 0.3, rng.uniform(0.8, 1.25)))  # fmt: skip
    return bodies


def _vary(rng: random.Random, value: int, low: float, high: float) -> int:
    return max(0, round(value * rng.uniform(low, high)))


def _poisson(rng: random.Random, mean: float) -> int:
    count, threshold, product = 0, pow(2.718281828, -mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def normal_year(rng: random.Random, body: Body, in_force_before: int, reviews_before: int) -> Plan:
    issued = _poisson(rng, 1.5) if body.docs_in_force else 0
    repealed = min(in_force_before, _poisson(rng, 1.0))
    reviews = _poisson(rng, body.appeals)
    after = _poisson(rng, 0.3) if reviews + reviews_before else 0  # a suit after review needs a review
    return Plan(
        volume=_vary(rng, body.volume, 0.6, 1.6),
        weights={"granted": 40 * body.granted_bias},
        penalties=_vary(rng, body.penalties, 0.7, 1.4),
        licences=_vary(rng, body.licences, 0.7, 1.4),
        docs_issued=issued,
        docs_repealed=repealed,
        docs_in_force=in_force_before + issued - repealed,
        reviews=reviews,
        suits_after_review=after,
    )


def values_of(rng: random.Random, body: Body, plan: Plan, carried_over: dict[str, int] | None = None,
              carry_forward: bool = True) -> dict:  # fmt: skip
    """Every cell of the 2021 template for one body-year, consistent with its identities (and with last year's carry)."""
    v = make_requests(rng, "2021", body.agency.body_type, volume=plan.volume, outcome_weights=plan.weights,
                      carried_over=carried_over, carry_forward=carry_forward)  # fmt: skip
    rules_in_force = 12 if body.agency.body_type == "government" else 0
    v |= {
        "active.rules.issued": 0, "active.rules.repealed": 0, "active.rules.in_force": rules_in_force,
        "active.normative_docs.issued": plan.docs_issued, "active.normative_docs.repealed": plan.docs_repealed,
        "active.normative_docs.in_force": plan.docs_in_force,
        "active.licensing.decisions": plan.licences, "active.penalty.decisions": plan.penalties,
        "active.coercion.decisions": 0, "active.admin_fees.amount_wan": 0.0,
    }  # fmt: skip
    for block, total in (("review", plan.reviews), ("suit_direct", _poisson(rng, 0.2)),
                         ("suit_after_review", plan.suits_after_review)):  # fmt: skip
        parts = [0, 0, 0, 0]
        for i in rng.choices(range(4), weights=(6, 1, 2, 2), k=total):
            parts[i] += 1
        v |= {f"appeals.{block}.{name}": n for name, n in zip(("upheld", "corrected", "other", "pending"), parts)}
        v[f"appeals.{block}.total"] = total
    return v


# ---- the anomalies: each changes one body-year's plan (or a run of them) and says what must be flagged ----


def plant_jump(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    """From `year` on the body reports ten times its requests (a unit typed on, or a merger)."""
    for y in plans:
        if y >= year:
            plans[y].volume *= 10
    return [(year, "anomaly.yoy_jump")]


def plant_refusals(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    """One year the body refuses most requests."""
    plans[year].weights = dict(REFUSAL_HEAVY)
    plans[year].volume = max(plans[year].volume, 40)
    return [(year, "anomaly.peer_outlier")]


def plant_zero_run(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    """From `year` on the body reports no request at all, while its peers keep theirs."""
    for y in plans:
        if y >= year:
            plans[y].volume = 0
    return [(y, "anomaly.zero_run") for y in plans if y >= year + 2]


def plant_fee(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    """No request this year, but section 六 says a fee was collected."""
    plans[year].volume = 0
    plans[year].fee_collected = 300
    return [(year, "anomaly.fee_without_requests")]


def plant_suit_without_review(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    plans[year - 1].reviews = plans[year].reviews = 0
    plans[year - 1].suits_after_review = 0
    plans[year].suits_after_review = 2
    return [(year, "anomaly.review_missing_for_suit")]


def plant_in_force_vanished(plans: dict[int, Plan], year: int) -> list[tuple[int, str]]:
    plans[year - 1].docs_in_force = max(plans[year - 1].docs_in_force, 12)
    plans[year].docs_in_force = plans[year].docs_repealed = 0
    for y in plans:
        if y > year:
            plans[y].docs_in_force = plans[y].docs_issued
            plans[y].docs_repealed = 0
    return [(year, "anomaly.in_force_vanished")]


# (plant, body types it suits, years it can start)
PLANTS = (
    (plant_jump, ("department",), (2022, 2023, 2024)),
    (plant_refusals, ("department",), YEARS),
    (plant_zero_run, ("street",), (2022, 2023)),
    (plant_fee, ("township",), (2022, 2023, 2024, 2025)),
    (plant_suit_without_review, ("department",), (2022, 2023, 2024, 2025)),
    (plant_in_force_vanished, ("department",), (2022, 2023, 2024, 2025)),
)


def _fee_sentence(amount: int) -> str:
    return f"依据《政府信息公开信息处理费管理办法》，本年度共发出收费通知1件，实际收取信息处理费{amount}元。"


def _state_fee(syn, amount: int) -> None:
    """Section 六's sentence on 信息处理费 replaced by one saying `amount` 元 was collected."""
    from gongkai.synth.model import Para

    six = next(n for n, b in enumerate(syn.blocks) if isinstance(b, Para) and b.kind == "heading" and b.text.startswith("六"))
    for n in range(six + 1, len(syn.blocks)):
        block = syn.blocks[n]
        if isinstance(block, Para) and ("信息处理费" in block.text or "收费" in block.text):
            syn.blocks[n] = Para(_fee_sentence(amount), block.kind)
            return
    syn.blocks.insert(six + 1, Para(_fee_sentence(amount)))


def write_anomaly_corpus(outdir: Path, seed: int = 0, counties=COUNTIES, formats=("txt", "html")) -> dict:
    """Reports of every body and year into `outdir` (with truth/ and planted.json); returns the plan."""
    rng = random.Random(f"anomalies:{seed}")
    outdir = Path(outdir)
    (outdir / "truth").mkdir(parents=True, exist_ok=True)
    expected, touched, normal = [], [], []
    index = 0
    for county in counties:
        bodies = county_bodies(rng, county)
        chosen: dict[int, tuple] = {}
        for plant in PLANTS:  # one body of a fitting type each, never the same body twice
            candidates = [i for i, b in enumerate(bodies) if b.agency.body_type in plant[1] and i not in chosen]
            if plant[0] is plant_fee:  # a small township, so that a year of 0 is not also a jump
                candidates = [i for i in candidates if bodies[i].volume < 25] or candidates
            chosen[rng.choice(candidates)] = plant
        for i, body in enumerate(bodies):
            plans, in_force, reviews = {}, body.docs_in_force, 0
            for year in YEARS:
                plans[year] = normal_year(rng, body, in_force, reviews)
                in_force, reviews = plans[year].docs_in_force, plans[year].reviews
            flagged: list[tuple[int, str]] = []
            if i in chosen:
                plant, _, starts = chosen[i]
                start = rng.choice(starts)
                flagged = plant(plans, start)
                touched_years = {y for y in YEARS if y >= start - 1} if plant in (plant_jump, plant_zero_run) else {start - 1, start, start + 1}
                touched += [{"agency": body.agency.name, "year": y} for y in sorted(touched_years & set(YEARS))]
                expected += [{"agency": body.agency.name, "year": y, "rule": rule} for y, rule in flagged]
            carried: dict[str, int] | None = None  # the first year's carry-over is drawn; later ones continue the last
            for year in YEARS:
                plan = plans[year]
                published = date(year + 1, 1, 5) + timedelta(days=rng.randint(0, 20))
                report_seed = rng.randrange(1 << 30)
                quiet_next = year + 1 in plans and plans[year + 1].volume == 0  # a year of no request inherits none
                values = values_of(rng, body, plan, carried, carry_forward=not quiet_next)
                carried = {c: values[request_cell("carried_forward", c)] for c in APPLICANTS}
                syn = make_report(report_seed, template="2021", year=year, agency=body.agency,
                                  values=values, published=published)  # fmt: skip
                if plan.fee_collected:
                    _state_fee(syn, plan.fee_collected)
                fmt = formats[index % len(formats)]
                name = f"{index:04d}_{body.agency.body_type}_{year}.{fmt}"
                layout = {"txt": "tabs", "html": "plain"}.get(fmt)  # layouts every reader reads whole: the numbers are the point
                (outdir / name).write_bytes(syn.render(fmt, layout))
                truth = syn.truth_for(name, fmt, layout)
                (outdir / "truth" / f"{Path(name).stem}.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
                if not any(t["agency"] == body.agency.name and t["year"] == year for t in touched):
                    normal.append({"agency": body.agency.name, "year": year})
                index += 1
    planted = {"seed": seed, "expected": expected, "touched": touched, "normal": normal}
    (outdir / "planted.json").write_text(json.dumps(planted, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return planted
