"""The running text of a report: intro, the six sections' paragraphs, the fee statement, the sign-off.

Counts the text states (applications received, reconsiderations, lawsuits, documents issued) come
from the tables through `Facts`, so a fault can make exactly one of them disagree.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from gongkai.synth.agency import Agency


@dataclass(slots=True)
class Facts:
    """What the narrative states; each field mirrors a table cell (or a sum of cells)."""

    year: int  # the year the narrative talks about (≠ report year under the year_mismatch fault)
    received: int
    carried_over: int
    closed: int
    reviews: int
    lawsuits: int
    normative_docs: int
    published_items: int
    period: tuple[str, str] = ("1月1日", "12月31日")


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def title(rng: random.Random, agency: Agency, year: int) -> str:
    return rng.choice((
        f"{agency.name}{year}年政府信息公开工作年度报告",
        f"{agency.name}{year}年度政府信息公开工作年度报告",
        f"{agency.name}关于{year}年度政府信息公开工作的年度报告",
    ))  # fmt: skip


def intro(rng: random.Random, agency: Agency, report_year: int, facts: Facts) -> list[str]:
    start, end = facts.period
    period = rng.choice((
        f"本报告中所列数据的统计期限自{report_year}年{start}起至{report_year}年{end}止。",
        f"本年度报告中所列数据统计期限为{report_year}年{start}至{report_year}年{end}。",
        f"报告所列数据统计期限从{report_year}年{start}到{end}止。",
    ))  # fmt: skip
    return [
        (
            f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和《中华人民共和国政府信息公开工作年度报告格式》"
            f"要求，由{agency.name}编制。全文包括总体情况、主动公开政府信息情况、收到和处理政府信息公开申请情况、"
            f"政府信息公开行政复议及行政诉讼情况、存在的主要问题及改进情况、其他需要报告的事项。{period}"
            f"本报告电子版可在{agency.region}人民政府门户网站下载。如对本报告有疑问，请与{agency.name}办公室联系。"
        )
    ]


_ACTIVE = (
    "坚持以公开为常态、不公开为例外，围绕中心工作及时发布政策文件、工作动态和公共服务信息。",
    "严格落实公开属性源头认定机制，做到应公开尽公开，全年主动公开政府信息{n}条。",
    "聚焦群众关注的重点领域，加大财政预决算、重大项目、民生保障等信息公开力度。",
)
_ON_REQUEST = (
    "{y}年，{s}共收到政府信息公开申请{r}件，上年结转{c}件，已全部按法定时限办结{d}件。",
    "本年度{s}共收到政府信息公开申请{r}件（上年结转{c}件），办结{d}件，均依法依规予以答复。",
    "{y}年度共受理政府信息公开申请{r}件，上年结转{c}件，全年办结{d}件。",
)
_MANAGEMENT = (
    "严格执行政府信息公开保密审查制度，落实“先审查、后公开”和“一事一审”要求。",
    "加强规范性文件管理，本年度制发行政规范性文件{k}件，均按规定在政府网站公开。",
    "动态更新政府信息公开指南和目录，及时清理过时、失效信息。",
)
_PLATFORM = (
    "持续加强政府网站信息公开专栏建设，优化栏目设置，提升信息检索便利度。",
    "充分利用政务新媒体、公开栏等渠道，扩大政府信息传播覆盖面。",
)
_OVERSIGHT = (
    "将政府信息公开工作纳入年度目标考核，定期开展自查，全年未发生因信息公开引起的责任追究情况。",
    "成立政务公开工作领导小组，主要负责同志亲自抓，明确专人负责，确保各项工作落到实处。",
)


def overview(rng: random.Random, agency: Agency, facts: Facts) -> list[str]:
    """Section 一: an opening and the five customary sub-points."""
    y, s = facts.year, agency.short
    fill = {"y": y, "s": s, "r": facts.received, "c": facts.carried_over, "d": facts.closed,
            "k": facts.normative_docs, "n": facts.published_items}  # fmt: skip
    lines = [
        (
            f"{y}年，{s}深入贯彻落实《条例》和上级关于政务公开工作的部署要求，坚持以人民为中心，"
            f"不断提升政府信息公开工作质量，有效保障人民群众的知情权、参与权、表达权和监督权。"
        )
    ]
    blocks = (
        ("（一）主动公开", _ACTIVE),
        ("（二）依申请公开", _ON_REQUEST),
        ("（三）政府信息管理", _MANAGEMENT),
        ("（四）政府信息公开平台建设", _PLATFORM),
        ("（五）监督保障", _OVERSIGHT),
    )
    for heading, pool in blocks:
        picks = rng.sample(pool, k=min(len(pool), rng.randint(1, 2)))
        if pool is _ON_REQUEST:
            picks = [rng.choice(pool)]  # the applications sentence is always there, once
        if pool is _MANAGEMENT and not any("{k}" in p for p in picks):
            picks.append(pool[1])
        lines.append(heading)
        lines.append("".join(p.format(**fill) for p in picks))
    return lines


def appeals_text(rng: random.Random, agency: Agency, facts: Facts) -> str:
    return rng.choice((
        f"{facts.year}年，{agency.short}发生政府信息公开行政复议{facts.reviews}件，行政诉讼{facts.lawsuits}件。",
        f"本年度因政府信息公开被申请行政复议{facts.reviews}件，被提起行政诉讼{facts.lawsuits}件。",
    ))  # fmt: skip


def problems(rng: random.Random, agency: Agency, report_year: int) -> list[str]:
    issues = rng.sample((
        "信息公开的主动性有待进一步增强，部分信息发布不够及时",
        "政策解读形式较为单一，图解、视频等多元化解读偏少",
        "工作人员业务能力有待提升，对《条例》的理解把握还不够精准",
        "公开内容的规范化、标准化水平仍需提高",
    ), k=rng.randint(2, 4))  # fmt: skip
    issues = [f"{'一二三四'[i]}是{issue}" + ("。" if i == len(issues) - 1 else "；") for i, issue in enumerate(issues)]
    plans = rng.choice((f"{report_year + 1}年，", "下一步，", "针对上述问题，"))
    return [
        f"{report_year}年，{agency.short}政府信息公开工作取得了一定成效，但仍存在一些不足：" + "".join(issues),
        plans + "我们将进一步加强组织领导，健全工作机制，加强业务培训，丰富解读形式，"
        "持续推进政务公开标准化规范化建设，不断提升政府信息公开工作水平。",
    ]


def fee_statement(rng: random.Random, notices: int, unpaid: int, *, mention_notice: bool = True) -> str:
    """Section 六 on 信息处理费 (2021+): notices are mentioned whenever unpaid requests exist."""
    if not mention_notice:
        return rng.choice(
            (
                "本年度未收取政府信息公开信息处理费。",
                "依据《政府信息公开信息处理费管理办法》，本年度未收取信息处理费。",
            )
        )
    if notices or unpaid:
        notices = max(notices, unpaid)
        amount = notices * rng.choice((100, 200, 300))
        return (f"依据《政府信息公开信息处理费管理办法》，本年度共发出收费通知{notices}件，总金额{amount}元，"
                f"实际收取信息处理费{amount if not unpaid else 0}元。")  # fmt: skip
    return rng.choice((
        "本年度发出收费通知的件数和总金额以及实际收取的总金额均为0。",
        "本年度未发出收费通知，未收取政府信息公开信息处理费。",
        "依据《政府信息公开信息处理费管理办法》，本年度未向申请人发出收费通知，未收取信息处理费。",
    ))  # fmt: skip


def other_matters(rng: random.Random, agency: Agency, report_year: int) -> list[str]:
    return rng.sample([
        f"{report_year}年，{agency.short}认真落实年度政务公开工作要点，各项任务均已按要求完成。",
        "本年度办理的人大代表建议和政协委员提案已按要求公开办理结果。",
        "无其他需要报告的事项。",
    ], k=1)  # fmt: skip


def signoff(agency: Agency, published: date) -> list[str]:
    return [agency.name, cn_date(published)]
