"""A city's audit over several years: ~60 bodies on three levels, some reports missing, some late, some wrong.

The bodies are real divisions' (the gazetteer's): 长沙市 with a few departments, and two of its
counties (望城区, 长沙县) with their governments, departments, towns and streets. Every body-year is
drawn on time, late, missing, or with a planted error (a misprinted cell, a broken block sum, blank
cells); numbers carry over from year to year as the corpus rules expect. `audit.json` is the truth:
for every body and year, whether a report was published, when, by what deadline, and what was
planted in it; `fixed/` holds each wrong report as its body re-submits it, corrected. Rosters are written beside it: `roster.csv`, `roster.xlsx` (the same bodies, spelt
as a 政务公开办 would) and `roster_bad.csv` (rows with every kind of problem, and their lines).

Two details are planted for the audit to handle: one department's reports call it by a short name
(市场监管局) that only a person can confirm is the roster's 市场监督管理局, and one report mixes
UTF-8 and GBK lines, which the reader notes (a parser doubt, origin `extraction`).
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from gongkai.synth.agency import DEADLINES, Agency
from gongkai.synth.anomalies import Body, normal_year, values_of
from gongkai.synth.model import make_report
from gongkai.synth.numbers import APPLICANTS
from gongkai.synth.template import request_cell

YEARS = (2022, 2023, 2024)
CITY = "长沙市"
COUNTIES = (("望城区", 18, 16), ("长沙县", 5, 15))  # (county, departments, towns and streets)
CITY_DEPARTMENTS = ("教育局", "财政局", "生态环境局")
DEPARTMENTS = (
    "市场监督管理局", "教育局", "卫生健康局", "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "生态环境局",
    "住房和城乡建设局", "交通运输局", "水务局", "农业农村局", "商务局", "文化和旅游局", "应急管理局", "统计局", "医疗保障局",
)  # fmt: skip
ERROR_FAULTS = ("typo", "block_sum", "blank_cells")
SHORT_NAME = ("望城区市场监督管理局", "市场监督管理局", "市场监管局")  # (which body, its roster name's tail, the name its reports use)


@dataclass(frozen=True, slots=True)
class CountyBody:
    body: Body
    roster_name: str
    parent: str | None  # roster name of the body above it
    code: str  # the roster's 区划代码
    kind_zh: str
    report_name: str  # the name its reports give


def _body(rng: random.Random, agency: Agency) -> Body:
    small = agency.body_type in ("township", "street")
    return Body(agency, rng.randint(12, 60) if small else rng.randint(20, 200), rng.randint(0, 20) if small else rng.randint(20, 400),
                rng.randint(0, 10) if small else rng.randint(30, 600), rng.randint(0, 4) if small else rng.randint(3, 30),
                0.3 if small else rng.uniform(0.5, 2), rng.uniform(0.8, 1.25))  # fmt: skip


def city_bodies(rng: random.Random) -> list[CountyBody]:
    """The city's government and departments, then each county's government, departments, towns and streets."""
    from gongkai.regions import gazetteer

    g = gazetteer()
    city = g.named(CITY, "city")[0]
    province = city.parent.name
    out: list[CountyBody] = []

    def add(name: str, body_type: str, region: str, short: str, roster_name: str, parent: str | None, code: str, kind_zh: str) -> None:
        report_name = name
        if name.endswith(SHORT_NAME[0]):
            report_name = name[: -len(SHORT_NAME[1])] + SHORT_NAME[2]
        agency = Agency(report_name, body_type, province, region, short)
        out.append(CountyBody(_body(rng, agency), roster_name, parent, code, kind_zh, report_name))

    city_gov = f"{CITY}人民政府"
    add(city_gov, "government", province + CITY, "市政府", city_gov, None, city.code, "人民政府")
    for dept in CITY_DEPARTMENTS:
        add(f"{CITY}{dept}", "department", province + CITY, "我局", f"{CITY}{dept}", city_gov, city.code, "部门")
    for county_name, departments, towns in COUNTIES:
        county = g.named(county_name, "county")[0]
        prefix = CITY + county_name
        gov = f"{prefix}人民政府"
        short = "区政府" if county_name.endswith("区") else "县政府"
        add(gov, "government", province + prefix, short, gov, city_gov, county.code, "人民政府")
        for i, dept in enumerate(DEPARTMENTS[:departments]):
            roster = f"{province}{prefix}{dept}" if i % 3 == 0 else f"{prefix}{dept}"  # spelt with the province now and then
            add(f"{prefix}{dept}", "department", province + prefix, "我局", roster, gov, county.code if i % 2 == 0 else "", "部门")
        for town in sorted((d for d in county.children if d.code), key=lambda d: d.name)[:towns]:  # towns of today
            code = town.code
            if town.name.endswith("街道"):
                add(f"{prefix}{town.name}办事处", "street", province + prefix, "本街道", f"{prefix}{town.name}办事处", gov,
                    code + "000", "街道")  # fmt: skip
            else:
                add(f"{prefix}{town.name}人民政府", "township", province + prefix, "我" + town.name[-1], f"{county_name}{town.name}人民政府",
                    gov, code, "乡镇")  # fmt: skip
    return out


def _fate(rng: random.Random) -> str:
    return rng.choices(("on_time", "late", "missing", "error"), weights=(70, 10, 8, 12))[0]


def _mixed_encoding(text: str) -> bytes:
    """UTF-8, except the first sentence of section 一 in GB18030 (a page pasted together from two sources)."""
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("一、")) + 1
    while not lines[at].strip():
        at += 1
    return b"\n".join(line.encode("gb18030") if i == at else line.encode("utf-8") for i, line in enumerate(lines))


def write_county(outdir: Path, seed: int = 0, years=YEARS) -> dict:
    """Reports of every body and year under `outdir/reports`, rosters and `audit.json` beside them; returns the truth."""
    rng = random.Random(f"county:{seed}")
    outdir = Path(outdir)
    reports = outdir / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    bodies = city_bodies(rng)
    truth: dict = {"seed": seed, "years": list(years), "bodies": [], "short_name": None, "mixed_encoding": None}
    mixed_done = False
    index = 0
    for cb in bodies:
        body = cb.body
        kind = body.agency.body_type
        entry = {"roster_name": cb.roster_name, "report_name": cb.report_name, "body_type": kind, "code": cb.code, "years": {}}
        if cb.report_name.endswith(SHORT_NAME[2]):
            truth["short_name"] = {"roster_name": cb.roster_name, "report_name": cb.report_name}
        in_force, reviews, carried = body.docs_in_force, 0, None
        for year in years:
            plan = normal_year(rng, body, in_force, reviews)
            in_force, reviews = plan.docs_in_force, plan.reviews
            values = values_of(rng, body, plan, carried)
            fate = _fate(rng)
            month, day = DEADLINES[kind]
            deadline = date(year + 1, month, day)
            published = deadline + timedelta(days=rng.randint(1, 60)) if fate == "late" else \
                date(year + 1, 1, 4) + timedelta(days=rng.randint(0, 20))  # fmt: skip
            faults = (rng.choice(ERROR_FAULTS),) if fate == "error" else ()
            report_seed = rng.randrange(1 << 30)
            syn = make_report(report_seed, template="2021", year=year, agency=body.agency, values=values,
                              published=published, faults=faults)  # fmt: skip
            printed = syn.truth["cells"]
            # next year carries what this report printed (the clean value where it printed a blank)
            carried = {c: printed[request_cell("carried_forward", c)] if printed[request_cell("carried_forward", c)] is not None
                       else values[request_cell("carried_forward", c)] for c in APPLICANTS}  # fmt: skip
            record = {"status": "missing" if fate == "missing" else "late" if fate == "late" else "on_time",
                      "deadline": deadline.isoformat(), "published": None if fate == "missing" else published.isoformat(),
                      "faults": list(faults), "file": None}  # fmt: skip
            if fate != "missing":
                fmt = ("txt", "html")[index % 2]
                name = f"{index:04d}_{kind}_{year}.{fmt}"
                if fmt == "txt" and not mixed_done and fate == "on_time" and kind == "department":
                    data, mixed_done = _mixed_encoding(syn.render("txt", "tabs", encoding="utf-8").decode("utf-8")), True
                    truth["mixed_encoding"] = name
                else:
                    data = syn.render(fmt, {"txt": "tabs", "html": "plain"}[fmt])
                (reports / name).write_bytes(data)
                if faults:  # the body's corrected re-submission: the same report without the planted error
                    fixed = make_report(report_seed, template="2021", year=year, agency=body.agency, values=values, published=published)
                    (outdir / "fixed").mkdir(exist_ok=True)
                    (outdir / "fixed" / name).write_bytes(fixed.render(fmt, {"txt": "tabs", "html": "plain"}[fmt]))
                record |= {"file": name, "suspects": syn.truth["suspects"], "fault_details": syn.truth["fault_details"],
                           "clean": {c: values[c] for c in syn.truth["suspects"]}}  # fmt: skip
                index += 1
            entry["years"][str(year)] = record
        truth["bodies"].append(entry)
    write_rosters(outdir, bodies)
    (outdir / "audit.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return truth


ROSTER_HEADER = ("名称", "类型", "上级", "区划代码")


def roster_rows(bodies: list[CountyBody]) -> list[tuple[str, str, str, str]]:
    return [(b.roster_name, b.kind_zh, b.parent or "", b.code) for b in bodies]


def write_rosters(outdir: Path, bodies: list[CountyBody]) -> None:
    """roster.csv (UTF-8 with BOM), roster.xlsx, and roster_bad.csv with a problem on each marked line."""
    from openpyxl import Workbook

    rows = roster_rows(bodies)
    with open(outdir / "roster.csv", "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([ROSTER_HEADER, *rows])
    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    sheet.append(ROSTER_HEADER)
    for name, kind, parent, code in rows:
        sheet.append([name, kind, parent, int(code) if code else None])  # codes typed as numbers, as Excel users do
    book.save(outdir / "roster.xlsx")
    good = rows[:6]
    bad = [
        ("", "部门", "", ""),  # no name
        ("长沙市望城区审计局", "局", rows[0][0], ""),  # a type that is none of the five
        ("长沙市望城区统计局", "部门", rows[0][0], "43011"),  # a code of five digits
        ("长沙市望城区信访局", "部门", "长沙市芙蓉区人民政府", ""),  # a parent not on the roster
        (rows[1][0], "部门", rows[0][0], ""),  # the same name twice
        ("长沙市望城区档案馆", "其他", rows[0][0], "430181"),  # a code of another county than its name says
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows([ROSTER_HEADER, *good, *bad])
    (outdir / "roster_bad.csv").write_text(buffer.getvalue(), encoding="gb18030")
    (outdir / "roster_bad.json").write_text(json.dumps({"bad_lines": list(range(len(good) + 2, len(good) + 2 + len(bad)))}) + "\n",
                                            encoding="utf-8")  # fmt: skip
