"""Find the six sections (一 总体情况 … 六 其他需要报告的事项) and their headings' variants."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gongkai.locate.normalize import short_cache
from gongkai.locate.tokens import Token

TITLES = {
    1: "总体情况",
    2: "主动公开政府信息情况",
    3: "收到和处理政府信息公开申请情况",
    4: "政府信息公开行政复议、行政诉讼情况",
    5: "存在的主要问题及改进情况",
    6: "其他需要报告的事项",
}
_NUMERALS = "一二三四五六七八九"
# what a heading's title must contain, per section (checked on normalised text)
_TITLE_PATTERNS = {
    1: r"(?:总体情况|工作情况概述|概述|基本情况|总体概况)",
    2: r"主动公开(?:政府信息)?(?:的)?情况",
    3: r"(?:收到和处理|收到及处理|依申请公开)",
    4: r"(?:行政法?复议|行政诉讼)",
    5: r"(?:存在的?(?:主要)?问题|主要问题|问题及改进|问题和改进)",
    6: r"其他需要报告",
}
# a title at the start of a heading's text; for 四 and 五 also after a few words on 政府信息公开
_TITLE_START = {n: re.compile(r"\s*(?:政府信息公开(?:工作)?)?(?:年度)?" + p) for n, p in _TITLE_PATTERNS.items()}
_TITLE_AFTER_WORDS = {n: re.compile(r"\s*(?:因)?政府信息公开.{0,12}" + _TITLE_PATTERNS[n]) for n in (4, 5)}
# a line that is a title and nothing else
_BARE_TITLE = {n: re.compile(r"(?:政府信息公开(?:工作)?)?(?:年度)?" + p + r"[^。，,]{0,14}") for n, p in _TITLE_PATTERNS.items()}
_BARE_AFTER_WORDS = {n: re.compile(r"(?:因)?政府信息公开.{0,12}" + _TITLE_PATTERNS[n] + r"[^。，,]{0,14}") for n in (4, 5)}
# where a heading's title stops inside glued text
_TITLE_END = {
    1: re.compile(r"(?:总体情况|工作情况概述|概述|基本情况|总体概况)"),
    2: re.compile(r"主动公开(?:政府信息)?(?:的)?情况"),
    3: re.compile(r"(?:收到和处理|收到及处理|依申请公开)[^。]{0,12}?(?:申请)?情况"),
    4: re.compile(r"(?:行政诉讼|行政复议)(?:的)?情况"),
    5: re.compile(r"(?:存在的?)?(?:主要)?问题(?:及|和|与)?(?:其)?(?:改进|整改)?(?:情况|措施|举措|计划|方向)?"),
    6: re.compile(r"其他需要报告的?事项"),
}
# a heading's number: 一、 第一、 第一部分 （一） 1. 1、 （1） — the words decide the section, the number only helps
_HEADING = re.compile(
    r"(?:^|(?<=[。；;！!\s>:：]))\s*(?:第([一二三四五六七八九])部分|第?([一二三四五六七八九])[、.．]|[(（]([一二三四五六七八九])[)）]"
    r"|([1-9])(?:[、．]|\.(?!\d))|[(（]([1-9])[)）])\s*"
    r"(?P<title>[^。；;\n]{0,40})"
)
_ARABIC = "123456789"


@dataclass(slots=True)
class SectionMark:
    number: int
    heading: str  # as printed
    token: int  # index of the token holding the heading
    offset: int  # character offset of the heading's end inside that token's text


def find_sections(tokens: list[Token]) -> list[SectionMark]:
    """Section headings in order; each section at most once, numbers increasing."""
    marks: list[SectionMark] = []
    last = 0
    for index, token in enumerate(tokens):
        if token.kind != "text":
            continue
        text = token.norm
        bare = _bare_heading(text, last)
        if bare is not None:
            # a heading whose numeral Word generated as list numbering is not in the text
            marks.append(SectionMark(bare, token.text.strip(), index, len(text)))
            last = bare
            if bare == 6:
                return marks
            continue
        found_numbered = False
        for match in _HEADING.finditer(text):
            numeral = match.group(1) or match.group(2) or match.group(3)
            arabic = match.group(4) or match.group(5)
            if arabic:
                numeral = _NUMERALS[_ARABIC.index(arabic)]
            title = match.group("title")
            number = _section_of(numeral, title, last)
            if number is None:
                continue
            bracketed = match.group(3) or match.group(5)
            if bracketed and _NUMERALS.index(numeral) + 1 != number:
                continue  # '（一）主动公开情况' is a sub-heading of section 一, not section 二
            if arabic and _NUMERALS.index(numeral) + 1 != number:
                continue  # '2.依申请公开' inside section 一 is a sub-point, not section 三
            end = match.start("title") + _title_end(number, title)
            raw = token.text if len(token.text) == len(text) else text
            heading = raw[match.start() : end].strip()
            marks.append(SectionMark(number, heading, index, end))
            found_numbered = True
            last = number
            if number == 6:
                return marks
        if not found_numbered and "。" in text:
            # a glued page whose headings lost their numbers (Word list numbering): a full title after a sentence's end
            for match in _GLUED_TITLE.finditer(text):
                number = next((n for n in range(last + 1, 7) if match.group(f"s{n}")), None)
                if number is None:
                    continue
                raw = token.text if len(token.text) == len(text) else text
                marks.append(SectionMark(number, raw[match.start("h") : match.end()].strip(), index, match.end()))
                last = number
                if number == 6:
                    return marks
    return marks


# the six titles (and common variants) as a whole, right after the end of a sentence, in glued text
_GLUED_TITLE = re.compile(
    r"(?<=[。！!；;])\s*(?P<h>(?:(?P<s1>总体情况)|(?P<s2>主动公开政府信息情况)|(?P<s3>收到和处理政府信息公开申请情况)"
    r"|(?P<s4>(?:因)?政府信息公开(?:工作)?(?:被申请)?行政复议[、和及]?(?:提起)?行政诉讼(?:的)?情况)"
    r"|(?P<s5>(?:政府信息公开工作)?存在的主要问题(?:及|和)(?:其)?改进(?:情况|措施|举措))|(?P<s6>其他需要报告的事项)))"
)


def _section_of(numeral: str, title: str, last: int) -> int | None:
    """The section a heading opens: by its title words, which must come after the last one found."""
    for number in range(last + 1, 7):
        if _TITLE_START[number].match(title) or (number in (4, 5) and _TITLE_AFTER_WORDS[number].match(title)):
            # the template's own row labels 一、本年新收… 四、结转下年度… are not headings
            if number == 1 and numeral != "一":
                return None
            return number
    return None


def _title_end(number: int, title: str) -> int:
    """Where a heading's title stops inside glued text (headings are followed by content directly)."""
    match = _TITLE_END[number].search(title)
    return match.end() if match else min(len(title), 12)


@short_cache
def _bare_heading(text: str, last: int) -> int | None:
    """A line that is a section title and nothing else ('总体情况'), for the next sections only."""
    stripped = text.strip().rstrip("。:：")
    if not stripped or len(stripped) > 30 or stripped[0] in _NUMERALS or stripped[0] in "(（":
        return None
    for number in range(last + 1, 7):
        if _BARE_TITLE[number].fullmatch(stripped) or (number in (4, 5) and _BARE_AFTER_WORDS[number].fullmatch(stripped)):
            return number
    return None
