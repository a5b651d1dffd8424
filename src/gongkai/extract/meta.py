"""Metadata from the text: agency, report year, publication date, body type and region."""

from __future__ import annotations

import re
from datetime import date

from gongkai.locate.normalize import char_normalise

_TITLE = re.compile(
    r"(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)\s*(?:关于)?\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*"
    r"(?:的)?\s*(?:政府)?信息公开(?:工作)?(?:年度)?报告"
)
_TITLE_NO_YEAR = re.compile(r"(?P<agency>[\u4e00-\u9fff（）()]{2,40}?)\s*(?:政府)?信息公开(?:工作)?年度报告")
_PERIOD_YEAR = re.compile(r"(?:统计期限|统计期|统计时间|数据统计)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_YEAR_OF_WORK = re.compile(r"((?:19|20)\d{2})\s*年度?(?:政府信息公开|政务公开|信息公开)")
_LABELLED_DATE = re.compile(
    r"(?:发布时间|发布日期|成文日期|发文日期|日期|时间)\s*[:：]?\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_DATE_LINE = re.compile(r"^\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_CHROME_PREFIX = re.compile(r"^(?:标题|题目|名称|文件名称|索引号|首页|当前位置|您的位置|位置)\s*[:：>]?\s*")
_REGION = re.compile(
    r"^((?:[\u4e00-\u9fff]{1,8}?(?:省|自治区|特别行政区))?(?:[\u4e00-\u9fff]{1,8}?(?:市|自治州|地区|盟|州))?"
    r"(?:[\u4e00-\u9fff]{1,8}?(?:区|县|自治县|旗|市))?)"
)


def find_title(lines: list[str]) -> re.Match | None:
    for line in lines[:80]:
        text = _CHROME_PREFIX.sub("", char_normalise(line.strip()))
        match = _TITLE.search(text)
        if match:
            return match
    return None


def read_agency_and_year(lines: list[str], text: str) -> tuple[str | None, int | None]:
    match = find_title(lines)
    agency = year = None
    if match:
        agency, year = _clean_agency(match.group("agency")), int(match.group("year"))
    else:
        for line in lines[:40]:
            m = _TITLE_NO_YEAR.search(_CHROME_PREFIX.sub("", char_normalise(line.strip())))
            if m:
                agency = _clean_agency(m.group("agency"))
                break
    if year is None:
        m = _PERIOD_YEAR.search(text) or _YEAR_OF_WORK.search(text)
        if m:
            year = int(m.group(1))
    return agency, year


def _clean_agency(name: str) -> str | None:
    name = re.sub(r"^(?:关于|印发|公布|发布)", "", name.strip())
    name = re.sub(r"(?:关于)$", "", name)
    return name or None


def read_published(lines: list[str], year: int | None) -> str | None:
    """The signing or publication date: a labelled date, else a date line at the end or the top."""

    def plausible(y: int, m: int, d: int) -> str | None:
        try:
            day = date(y, m, d)
        except ValueError:
            return None
        if year is not None and not (date(year, 12, 1) <= day <= date(year + 2, 12, 31)):
            return None
        return day.isoformat()

    for line in lines[:60]:
        m = _LABELLED_DATE.search(char_normalise(line))
        if m and (found := plausible(*map(int, m.groups()))):
            return found
    tail = [line for line in lines[-15:] if line.strip()]
    for line in reversed(tail):
        m = _DATE_LINE.match(char_normalise(line))
        if m and (found := plausible(*map(int, m.groups()))):
            return found
    for line in lines[:15]:
        m = _DATE_LINE.match(char_normalise(line))
        if m and (found := plausible(*map(int, m.groups()))):
            return found
    if tail:
        m = None
        for m in _DATE.finditer(char_normalise(tail[-1])):
            pass
        if m and (found := plausible(*map(int, m.groups()))):
            return found
    return None


def body_type(agency: str | None) -> str | None:
    if not agency:
        return None
    if re.search(r"街道", agency):
        return "street"
    if re.search(r"(?:镇|乡)(?:人民政府|政府)?$", agency):
        return "township"
    if re.search(r"(?:局|委员会|委|办公室|办公厅|厅|中心|处|院|站|所|队|馆|部|署|会)$", agency):
        return "department"
    if re.search(r"(?:人民政府|政府|管委会|管理委员会|实验区|开发区|经开区|新区|高新区|区|县|市|州|旗)(?:\(.*\))?$", agency):
        return "government"
    return "other"


def region(agency: str | None) -> str | None:
    if not agency:
        return None
    m = _REGION.match(agency)
    found = m.group(1) if m else ""
    return found or None
