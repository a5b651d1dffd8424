"""Whether a link's title names an annual report on government information disclosure.

A report title names the subject (政府信息公开 / 政务公开 / 信息公开), the kind (年度报告, 年报,
工作报告) and a year (2023, 2023年度, 二〇二三年). Titles about reports — a notice to compile them,
a training, an interpretation (解读), an evaluation — name the same words and are turned away by
the words that mark them.
"""

from __future__ import annotations

import re
import unicodedata

_SUBJECT = re.compile(r"(政府|政务)?信息公开|政务公开")
_KIND = re.compile(r"年度报告|年报|工作报告|年度工作报告|年度报表")
_YEAR = re.compile(r"(?<!\d)(20[0-4]\d|199\d)(?!\d)|([〇零一二][〇零一二三四五六七八九]{3})\s*年")
# titles about reports rather than reports (not 计划 or 调查: 卫生和计划生育委员会, 统计局调查队 publish reports)
_NOT_A_REPORT = re.compile(
    r"解读|图解|图文|一图|读懂|动漫|视频|问答|通知|通报|公告|公示|培训|会议|召开|部署|督查|督导|检查|考核|评估|测评|"
    r"评议|报送|编制|编写|撰写|征集|问卷|函|指南|目录|意见|办法|规定|方案|要点|总结会|座谈|约谈|排名|第三方"
)
_CN_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def looks_like_report(title: str | None) -> bool:
    """True when `title` names an annual disclosure report of a year."""
    if not title:
        return False
    text = _clean(title)
    return bool(_SUBJECT.search(text) and _KIND.search(text) and report_year(text) and not _NOT_A_REPORT.search(text))


def report_year(title: str) -> int | None:
    """The year a title names (Arabic or Chinese numerals), or None."""
    match = _YEAR.search(_clean(title))
    if not match:
        return None
    if match.group(1):
        return int(match.group(1))
    return int("".join(str(_CN_DIGITS[ch]) for ch in match.group(2)))


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
