"""Metadata from the text: agency, report year, publication date, body type and region."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from gongkai.locate.normalize import HAN, char_normalise, simplify

_TITLE = re.compile(
    r"(?P<agency>[" + HAN + r"（）()]{2,40}?)\s*(?:关于)?\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*"
    r"(?:的)?\s*(?:政府)?信息公开(?:工作)?(?:的)?(?:年度)?报告(?!格式)"
)
_TITLE_NO_YEAR = re.compile(r"(?P<agency>[" + HAN + r"（）()]{2,40}?)\s*(?:政府)?信息公开(?:工作)?年度报告(?!格式)")
# a title whose end was lost (an OCR'd line cut short): '…街道办事处2022年度政府信息公开工'
_TITLE_CUT = re.compile(
    r"(?P<agency>[" + HAN + r"（）()]{2,40}?)\s*(?:关于)?\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:的)?\s*政府信息公开(?:工|工作|工作年|工作年度)?"
)
_PERIOD_YEAR = re.compile(r"(?:统计期限|统计期|统计时间|统计时限|数据统计|统计区间)[^。]{0,12}?((?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_YEAR_FIRST_TITLE = re.compile(
    r"(?:关于)?\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?P<agency>[" + HAN + r"（）()]{0,40}?)\s*(?:的)?\s*(?:政府)?信息公开(?:工作)?(?:的)?(?:年度)?报告"
)
_AGENCY_LINE = re.compile(
    r"^[" + HAN + r"（）()]{2,40}(?:人民政府|政府|办事处|街道|局|委员会|委|办公室|办公厅|厅|中心|管委会|管理委员会|镇|乡|区|县|市|院|署|站|所)$"
)
_AGENCY_IN_TEXT = re.compile(
    r"(?<![" + HAN + r"])([" + HAN + r"]{2,16}?(?:街道办事处|镇人民政府|乡人民政府|乡政府|镇政府|人民政府|卫生健康局|教育局|经开区|开发区|管委会|局))"
    r"(?=认真|坚持|按照|积极|围绕|全年|共|利用|主动|始终|深入|紧紧|严格|高度|持续|不断|规范性文件|在|政府信息公开工作)"
)
_ANY_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_YEAR_OF_WORK = re.compile(r"((?:19|20)\d{2})\s*年度?(?:政府信息公开|政务公开|信息公开)")
_LABELLED_DATE = re.compile(
    r"(?:发布时间|发布日期|成文日期|发文日期|日期|时间)\s*[:：]?\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})"
)
_DATE = re.compile(r"((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?")
_DATE_LINE = re.compile(r"^\s*((?:19|20)\d{2})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})\s*日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*$")
_CHROME_PREFIX = re.compile(r"^(?:标题|题目|名称|文件名称|索引号|首页|当前位置|您的位置|位置)\s*[:：>]?\s*")
_REGION = re.compile(
    r"^((?:[" + HAN + r"]{1,8}?(?:省|自治区|特别行政区))?(?:[" + HAN + r"]{1,8}?(?:市|自治州|地区|盟|州))?"
    r"(?:[" + HAN + r"]{1,8}?(?:区|县|自治县|旗|市))?)"
)


def find_title(lines: list[str]) -> re.Match | None:
    for line in lines[:80]:
        text = _CHROME_PREFIX.sub("", char_normalise(line.strip()))
        match = _TITLE.search(text)
        if match:
            return match
    return None


def read_agency_and_year(lines: list[str], text: str) -> tuple[str | None, int | None]:
    """From the title (agency before or after the year, or on the line above), else the text."""
    agency = year = None
    # match on Simplified text (mirrors print Traditional); the name is then quoted as printed
    heads = [_CHROME_PREFIX.sub("", simplify(line.strip())) for line in lines[:80] if line.strip()]
    # a title may be broken over two lines ('2024 年上海市科委政府信息公开工作' / '年度报告'), also inside the
    # body's name ('辽宁' / '省龙泉市…局2024年度…报告'): a short line that is no body's whole name runs on
    pairs = [_title_lines(heads, i) for i in range(len(heads))]
    for i, line in enumerate(pairs):
        match = _TITLE.search(line) or (_TITLE_CUT.fullmatch(heads[i]) if i < 3 else None)
        if match and not _AGENCY_JUNK.search(match.group("agency")):
            agency, year = _clean_agency(match.group("agency")), int(match.group("year"))
            break
        match = _YEAR_FIRST_TITLE.search(line)
        if match:
            year = int(match.group("year"))
            named = match.group("agency")
            agency = _clean_agency(named) if len(named) >= 2 and not _AGENCY_JUNK.search(named) else None
            if agency is None:
                agency = _agency_nearby(heads, i)
            if agency is not None:
                break
    if agency is None:
        for i, line in enumerate(heads[:40]):
            m = _TITLE_NO_YEAR.search(line)
            if m and not _AGENCY_JUNK.search(m.group("agency")):
                agency = _clean_agency(m.group("agency")) or _agency_nearby(heads, i)
                break
    if agency is None:
        agency = _signed_by(lines)
    if agency is None:
        m = _AGENCY_IN_TEXT.search(simplify(text[:3000]))
        named = m.group(1) if m else None
        if named and _AGENCY_JUNK.search(named):
            named = _from_division(named)  # '为认真做好京山市卫生健康局' → '京山市卫生健康局'
        if named and not _AGENCY_JUNK.search(named) and not _bare_level(named):
            # the name ends the clause it stands in: '…主要包括七里乡政府' → '七里乡政府'
            tail = re.split(r"包括|主要|的|是|在|由|向|对", named)[-1]
            agency = tail if len(tail) >= 3 else named
    if year is None:
        m = _PERIOD_YEAR.search(text) or _YEAR_OF_WORK.search(text)
        if m:
            year = int(m.group(1))
    if year is None:
        years = [int(y) for y in _ANY_YEAR.findall(char_normalise(text[:3000]))]
        if years:
            year = max(set(years), key=years.count)
    return _as_printed(agency, lines, text), year


def _from_division(words: str) -> str | None:
    """A body's name inside the words a sentence runs into it with: from the first place the gazetteer names
    exactly ('为认真做好京山市卫生健康局' → '京山市卫生健康局'); None when no place starts it."""
    from gongkai.regions import gazetteer

    places = gazetteer()
    for start in range(1, len(words) - 3):
        matches = places.locate(words, start)
        if len(matches) == 1 and matches[0].end < len(words) and words[start:matches[0].end] == matches[0].division.name:
            return words[start:]
    return None


def _bare_level(name: str) -> bool:
    """'区卫健局', '县政府': a level word with no place's name before it names no one body."""
    from gongkai.regions import division_of

    return name[0] in "区县市镇乡" and division_of(name) is None


def _as_printed(name: str | None, lines: list[str], text: str) -> str | None:
    """The name as the source prints it (Traditional stays Traditional)."""
    if not name:
        return name
    for source in ("\n".join(lines[:80]), text[:3000]):
        at = simplify(source).find(name)
        if at >= 0:
            return char_normalise(source[at : at + len(name)])
    return name


_BODY_END = re.compile(r"(?:人民政府|政府|办事处|街道|局|委员会|委|办公室|办公厅|厅|中心|管委会|管理委员会|镇|乡|院|署|站|所)$")


def _name_fragment(line: str) -> bool:
    """A short line of a name only, not ending as a body's name does ('辽宁', '江州市金水区青年路街'): the title runs on."""
    return 2 <= len(line) <= 16 and bool(re.fullmatch(r"[" + HAN + r"]+", line)) and not _BODY_END.search(line)


_TITLE_REST = re.compile(r"^(?P<name>[" + HAN + r"（）()]{1,12}?)(?:关于)?\s*(?:19|20)\d{2}\s*年")
_DIVISION_WORD = re.compile(r"省|自治区|市|州|盟|区|县|旗")


def _title_lines(heads: list[str], i: int) -> str:
    """The line at i, run on into the next two while the title goes on there: a short line, a line
    that is only part of a name, or a long head of a name before the rest of it and the year."""
    line = heads[i]
    for after in heads[i + 1 : i + 3]:
        if len(line) >= 40 or not (len(after) < 20 or _name_fragment(line) or _name_head(line, after)):
            break
        line += after
    return line


def _name_head(line: str, rest: str) -> bool:
    """A longer line that starts a body's name with its divisions, the title running on with the rest of
    the name and the year ('内蒙古自治区德阳市高新技术产业开发区' / '管理委员会2025年度…报告'), or with only the
    tail of a name ('…石门县石桥镇' / '人民政府2025年度…', '…住房和城乡' / '建设局关于2021年度…')."""
    rest_of_title = _TITLE_REST.match(rest)
    if not rest_of_title or len(line) > 30 or not re.fullmatch(r"[" + HAN + r"]+", line) or not _DIVISION_WORD.search(line):
        return False
    return not _BODY_END.search(line) or len(rest_of_title.group("name")) <= 5


_GLUED_SIGNATURE = re.compile(
    r"[。！!；;]\s*([" + HAN + r"（）()]{2,40}?(?:人民政府|政府|办事处|局|委员会|办公室|中心|管委会|管理委员会|镇|乡))"
    r"\s*(?:19|20)\d{2}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*$"
)


def _signed_by(lines: list[str]) -> str | None:
    """The body named in the signature: the name on the line above the date that closes the report."""
    tail = [simplify(line.strip()) for line in lines[-25:] if line.strip()]
    glued = _GLUED_SIGNATURE.search(char_normalise(tail[-1])) if tail else None
    if glued and not _AGENCY_JUNK.search(glued.group(1)):
        return glued.group(1)  # a glued page ends '…完成。某某街道办事处2025年1月20日'
    for i in range(len(tail) - 1, 0, -1):
        if _DATE_LINE.match(char_normalise(tail[i])):
            name = tail[i - 1]
            if _AGENCY_LINE.match(name) and _BODY_END.search(name) and not _AGENCY_JUNK.search(name):
                return name
            return None
    return None


_AGENCY_JUNK = re.compile(r"^(?:人民)?政府$|^(?:年|年度)|共和国|我局|我镇|我乡|本单位|本局|现公开|做好|编制|关于$|^的|公布")


def _agency_nearby(heads: list[str], i: int) -> str | None:
    """A title without the body's name: the name is on a line just above or below it."""
    for j in (i - 1, i + 1, i - 2, i + 2):
        if 0 <= j < len(heads) and _AGENCY_LINE.match(heads[j]):
            return heads[j]
    return None


def _clean_agency(name: str) -> str | None:
    name = re.sub(r"^(?:关于|印发|公布|发布|年度|年)", "", name.strip())
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
        dates = list(_DATE.finditer(char_normalise(tail[-1])))
        m = dates[-1] if dates else None  # the signature's date is the last one on the last line
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


@dataclass(frozen=True, slots=True)
class Place:
    """Where the body lies, from the gazetteer (regions.py): its divisions' names and the code of the lowest one with a code."""

    region: str | None = None  # the divisions from the province down to the county: 北京市朝阳区
    division_code: str | None = None  # its code: 6 digits (GB/T 2260) for a county, city or province, 9 for a township
    province: str | None = None
    city: str | None = None
    county: str | None = None


def place(agency: str | None) -> Place:
    """The body's divisions as the gazetteer knows them, when its name starts with exactly one run of division names;
    otherwise only the region the name's own words give (never a fragment), and no code."""
    from gongkai.regions import division_of

    division = division_of(simplify(agency)) if agency else None
    if division is None:
        return Place(region=region(agency))
    above = next((d for d in reversed(division.chain()) if d.level != "township"), division)
    names = [d.name for d in above.chain()]
    full = "".join(name for i, name in enumerate(names) if i == 0 or name != names[i - 1])  # 北京市 once, not twice
    levels = {d.level: d.name for d in above.chain()}
    return Place(full, division.nearest_code, levels.get("province"), levels.get("city"), levels.get("county"))


def region(agency: str | None) -> str | None:
    """The region a name's own words give ('…省…市…区'), cut back until it is no fragment."""
    if not agency:
        return None
    m = _REGION.match(agency)
    found = m.group(1) if m else ""
    # never a fragment: a 'city' that is a district plus the 市 of 市场 ('南岗区市'), a body inside the name ('…生态环境局海门区')
    while found and (_BODY_INSIDE.search(found) or re.search(r"[区县]市$", found)):
        found = _REGION.match(found[:-1]).group(1) if _REGION.match(found[:-1]) else ""
    return found or None


_BODY_INSIDE = re.compile(r"局|委员会|办公室|中心|政府|办事处|街道|公司|学校|医院")
