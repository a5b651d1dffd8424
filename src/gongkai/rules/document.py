"""Rules on the report as a whole: structure, template, narrative against tables, dates, fees."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from functools import cache
from pathlib import Path

from gongkai.cells import by_id
from gongkai.locate.normalize import simplify
from gongkai.locate.sections import TITLES
from gongkai.report import Finding
from gongkai.rules.catalog import CATALOG

TABLE_NAMES = {"active": "主动公开政府信息情况表（第二部分）", "requests": "收到和处理政府信息公开申请情况表（第三部分）", "appeals": "行政复议、行政诉讼情况表（第四部分）"}
TABLE_SECTION = {"active": 2, "requests": 3, "appeals": 4}
SECTION_NAMES = {n: f"{'一二三四五六'[n - 1]}、{TITLES[n]}" for n in TITLES}
# deadline (month, day) in the year after the report year, per body type
DEADLINES = {"government": (3, 31), "department": (1, 31), "street": (1, 31), "township": (1, 31), "other": (1, 31)}


def finding(rule_id: str, message: str, cells: list[str] | None = None, *, origin: str | None = None) -> Finding:
    rule = CATALOG[rule_id]
    return Finding(rule=rule_id, severity=rule.severity, origin=origin or rule.origin, message=message, cells=cells or [])


def check_structure(extracted) -> list[Finding]:
    out: list[Finding] = []
    present = {s.number for s in extracted.sections}
    tables = extracted.tables
    found = tables.found_tables if tables else set()
    # text read by OCR may have lost a heading or a table the page shows: the parser, not the report, is in doubt
    origin = "extraction" if extracted.ocr or extracted.partial else None
    for number in range(1, 7):
        if number not in present and not (TABLE_SECTION.get("active") == number and "active" in found) and not any(
            TABLE_SECTION[t] == number and t in found for t in found
        ):
            message = f"未找到第{SECTION_NAMES[number][0]}部分“{SECTION_NAMES[number][2:]}”" + ("（文字经 OCR 识别，标题可能未能识别）" if extracted.ocr else "（文件有部分内容未能读取，可能在其中）" if origin else "")
            out.append(finding("structure.section_missing", message, origin=origin))
    for table, section in TABLE_SECTION.items():
        if table in found:
            continue
        cells = [c for c in extracted.cells if c.startswith(table + ".")]
        text = next((s.text for s in extracted.sections if s.number == section), "")
        if section in present and _PROMISES_TABLE.search(simplify(text)):
            out.append(finding("structure.table_unreadable", f"有“{SECTION_NAMES[section]}”部分，但其中的{TABLE_NAMES[table]}无法机读（可能是图片或格式损坏）", cells))
        elif section in present and section in extracted.grid_sections:
            why = "文字经 OCR 识别，表格未能读出" if extracted.ocr else "其中的表格与标准表对不上"
            out.append(finding("structure.table_unreadable", f"有“{SECTION_NAMES[section]}”部分，但未能读出{TABLE_NAMES[table]}（{why}），这些单元格留空", cells))
        elif extracted.partial:
            out.append(finding("structure.table_missing", f"未能读出{TABLE_NAMES[table]}（文件有部分内容未能读取，表格可能在其中）", cells, origin=origin))
        elif extracted.ocr:
            out.append(finding("structure.table_missing", f"未能识别出{TABLE_NAMES[table]}（文字经 OCR 识别，表格可能在页面上却未能读出）", cells, origin=origin))
        else:
            out.append(finding("structure.table_missing", f"报告中没有{TABLE_NAMES[table]}"))
    return out


# the section says a table follows (often an image of it), yet none could be read
_PROMISES_TABLE = re.compile(r"表格如下|如下表|见下表|下表|附表|如下图|见下图|下图|图片|截图|\[图")


def check_cells_missing(extracted, unjudged: set[str]) -> list[Finding]:
    """Blank cells printed in the source, and rows the parser did not find in a found table."""
    tables = extracted.tables
    if tables is None:
        return []
    out: list[Finding] = []
    blank = [c for c in tables.blank if extracted.cells.get(c) is None]
    if blank:
        names = "、".join(by_id()[c].label_zh for c in blank[:6]) + (f" 等 {len(blank)} 个" if len(blank) > 6 else "")
        out.append(finding("structure.cells_missing", f"表格中有空白单元格（空白不等于 0）：{names}", blank))
    unplaced = set(tables.unplaced) | set(blank)
    absent = [c for c, v in extracted.cells.items() if v is None and c not in unplaced and _table_of(c) in tables.found_tables]
    if absent:
        rows = list(dict.fromkeys(by_id()[c].label_zh.split(" / ")[0] for c in absent))  # cells come in table order
        names = "；".join(rows[:5]) + (f" 等 {len(rows)} 行" if len(rows) > 5 else "")
        out.append(finding("structure.cells_missing", f"表格中未能找到这些行或单元格：{names}", absent, origin="extraction"))
    return out


def _table_of(cell_id: str) -> str:
    return cell_id.split(".")[0]


def check_template(extracted) -> list[Finding]:
    out: list[Finding] = []
    meta = extracted.meta
    if meta.template == "2019" and meta.year is not None and meta.year >= 2021:
        out.append(finding("template.outdated", f"{meta.year}年度报告仍使用2019年试行格式的表格（2021年起应使用国办公开办函〔2021〕30号修订格式）"))
    tables = extracted.tables
    for row, headers, numbers, other, cells in tables.other_columns if tables else ():
        values = f"（印出 {numbers}，未填入本格式的单元格）"
        if other == "2019" and meta.year is not None and meta.year >= 2021:
            message = f"{meta.year}年度报告第二部分“{row}”一行仍印2019年试行格式的列“{headers}”{values}，2021年起应为国办公开办函〔2021〕30号修订格式"
            out.append(finding("template.outdated", message, list(cells)))
        else:
            message = f"第二部分“{row}”一行印的是{other}年格式的列“{headers}”{values}，与表格其余部分的格式不同"
            out.append(finding("template.mixed", message, list(cells)))
    if tables and tables.mixed_other_row:
        printed = "、".join(tables.mixed_other_row)
        out.append(
            finding(
                "template.mixed",
                f"第二部分为2021年格式，但第三部分的“（六）其他处理”按2019年格式只印了一行（{printed}），缺少2021年格式的三个子项",
                [c for c in extracted.cells if c.startswith("requests.other.")],
            )
        )
    return out


_APPLICATIONS = re.compile(
    r"(?:共|全年|本年度?|年内)?(?:新?收到|新收|受理|接收|收到各类)(?:了)?(?:政府信息公开|信息公开|依申请公开(?:政府信息)?)?申请(?:共|数量为?|总数为?)?\s*(\d+)\s*(?:件|个|条|宗)"
)
_PERIOD = re.compile(
    r"统计(?:期限|时间|时限|期间|区间)[^。\d]{0,10}((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*起?\s*(?:至|到|—|-|～|~)\s*((?:19|20)\d{2})?\s*年?\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)


# counts the narrative states, and the table cells they must equal
_STATED = (
    (_APPLICATIONS, ("requests.new_received.total",), "本年新收申请总计"),
    (re.compile(r"(?:申请|提起|发生|收到)?行政复议(?:案件)?(?:共)?\s*(\d+)\s*(?:件|起|宗|个)"), ("appeals.review.total",), "行政复议总计"),
    (
        re.compile(r"(?:提起|发生|被提起|涉及)?行政诉讼(?:案件)?(?:共)?\s*(\d+)\s*(?:件|起|宗|个)"),
        ("appeals.suit_direct.total", "appeals.suit_after_review.total"),
        "行政诉讼总计（直接起诉＋复议后起诉）",
    ),
)


def check_narrative(extracted) -> list[Finding]:
    out: list[Finding] = []
    text = simplify(extracted.text)
    narrative = simplify("\n".join(s.text for s in extracted.sections if s.number in (1, 3, 4)))
    for pattern, cells, name in _STATED:
        values = [extracted.cells.get(c) for c in cells]
        if any(v is None for v in values):
            continue
        table = sum(values)  # type: ignore[arg-type]
        for match in pattern.finditer(narrative):
            stated = int(match.group(1))
            carried = extracted.cells.get("requests.carried_over.total") or 0
            if stated == table or (cells[0] == "requests.new_received.total" and stated == table + carried):
                continue
            sentence = _sentence(narrative, match.start(), match.end())
            out.append(finding("narrative.table_mismatch", f"正文称“{sentence}”，而表格{name}为 {table:g}", list(cells)))
            break
    year = extracted.meta.year
    first = next((s.text for s in extracted.sections if s.number == 1), "")
    opening = [int(y) for y in re.findall(r"(?:^|\n)\s*((?:19|20)\d{2})\s*年", simplify(first))]
    if year and opening and year not in opening:
        out.append(finding("narrative.year_mismatch", f"报告年度为{year}年，第一部分却写的是{opening[0]}年的工作"))
    period = _PERIOD.search(text)
    if period and year:
        y1, m1, d1, y2, m2, d2 = period.groups()
        y2 = y2 or y1
        if (int(y1), int(m1), int(d1), int(y2), int(m2), int(d2)) != (year, 1, 1, year, 12, 31):
            rule = "narrative.year_mismatch" if int(y1) != year and (int(m1), int(d1), int(m2), int(d2)) == (1, 1, 12, 31) else "meta.period"
            out.append(finding(rule, f"报告年度为{year}年，正文所述统计期限为“{period.group(0)}”"))
    return out


def _sentence(text: str, start: int, end: int) -> str:
    left = max(text.rfind(p, 0, start) for p in "。；;\n") + 1
    right = min((i for i in (text.find(p, end) for p in "。；;\n") if i >= 0), default=len(text))
    return text[left:right].strip()[:80]


def deadline_for(body_type: str | None, region: str | None) -> tuple[int, int]:
    """(month, day) of the next year: per body type, overridden per province by the JSON file
    named in GONGKAI_DEADLINES, e.g. {"default": {"township": "02-20"}, "湖南省": {"street": "02-20"}}."""
    kind = body_type or "other"
    deadline = DEADLINES.get(kind, DEADLINES["other"])
    for scope, table in _deadline_overrides().items():
        if scope == "default" or (region and region.startswith(scope)):
            if kind in table:
                month, day = table[kind].split("-")
                deadline = (int(month), int(day))
    return deadline


@cache
def _deadline_overrides() -> dict[str, dict[str, str]]:
    path = os.environ.get("GONGKAI_DEADLINES")
    if not path:
        return {}
    try:
        table = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    # "default" first, so a province's own rule wins
    return dict(sorted(table.items(), key=lambda kv: kv[0] != "default"))


def check_dates(extracted) -> list[Finding]:
    meta = extracted.meta
    if not meta.published or not meta.year:
        return []
    month, day = deadline_for(meta.body_type, meta.region)
    deadline = date(meta.year + 1, month, day)
    published = date.fromisoformat(meta.published)
    if published > deadline:
        return [finding("meta.published_late", f"{meta.year}年度报告于{published.isoformat()}发布/落款，晚于期限{deadline.isoformat()}")]
    return []


def check_fees(extracted) -> list[Finding]:
    out: list[Finding] = []
    meta = extracted.meta
    six = next((s for s in extracted.sections if s.number == 6), None)
    six_text = simplify(six.text) if six else ""
    if meta.year and meta.year >= 2021 and six is not None and not re.search(r"处理费|收费|收取费用|费用", six_text):
        out.append(finding("fees.statement_missing", "第六部分“其他需要报告的事项”没有说明信息处理费的收取情况"))
    unpaid = [c for c, v in extracted.cells.items() if c.startswith("requests.other.unpaid_fee.") and v]
    if unpaid and not re.search(r"收费通知|缴费通知|缴纳通知|通知[^。]{0,8}缴", six_text):
        out.append(finding("fees.unpaid_without_notice", "有申请因逾期未缴纳费用而不再处理，但第六部分未提及发出收费通知", unpaid))
    return out


def check_labels(extracted) -> list[Finding]:
    """Rows the template does not have, labels reworded, glued rows no reading can make add up."""
    tables = extracted.tables
    if tables is None:
        return []
    out: list[Finding] = []
    if tables.extra_rows:
        out.append(finding("template.extra_rows", f"表格中有格式之外的行（{'、'.join(tables.extra_rows[:5])}），未计入任何核对"))
    for key, official, printed in dict.fromkeys(tables.altered_labels):
        cells = [c for c in extracted.cells if key and c.startswith(key + ".")]
        kind = "行标签" if key else "列标题"
        out.append(finding("template.label_altered", f"{kind}印作“{printed}”，格式原文为“{official}”", cells))
    for rule, cells, runs in tables.impossible:
        name = CATALOG[rule].name
        out.append(finding(rule, f"{runs} 的数字粘连在一起；无论怎样拆分，“{name}”都不成立", cells))
    for spec, printed in dict.fromkeys(tables.negative):
        message = f"“{spec.label}”一行印出负数“{printed}”：无论它属于哪一列，这一行的数值都不能为负"
        out.append(finding("value.domain", message, list(spec.cells)))
    for spec, run in dict.fromkeys(tables.unsplittable):
        if "-" in run and not spec.key.startswith("requests."):
            message = f"“{spec.label}”一行的数字粘连为“{run}”，含负号：无论怎样拆分都有件数为负"
            out.append(finding("value.domain", message, list(spec.cells)))
            continue
        message = f"“{spec.label}”一行的数字粘连为“{run}”，无论怎样拆成 {len(spec.cells)} 列，各类申请人之和都不等于总计"
        out.append(finding("requests.row_sum", message, list(spec.cells)))
    return out
