"""A draft written out as the official report: .docx in the State Council's layout, .pdf through LibreOffice.

The tables are built by the same code that lays out the official tables for generated reports
(synth.model: merged header cells, the rows and columns of the draft's template), so a draft
and a generated report are one layout, and `gongkai parse` reads both back the same way.
"""

from __future__ import annotations

import subprocess
from datetime import date

from gongkai.draft.model import NUMERALS, TITLES, Draft, DraftError
from gongkai.synth.agency import Agency
from gongkai.synth.model import Para, Synthetic, active_table, appeals_table, requests_table
from gongkai.synth.narrative import cn_date

_SHORT = {"department": "我单位", "government": "我区", "township": "我镇", "street": "本街道", "other": "我单位"}


def _published(draft: Draft) -> date:
    try:
        return date.fromisoformat(draft.meta.published) if draft.meta.published else date.today()
    except ValueError:
        raise DraftError(f"发布日期须为 YYYY-MM-DD，不是“{draft.meta.published}”") from None


def document(draft: Draft) -> Synthetic:
    """The draft as blocks of the official layout: title, the six sections in order with their tables, the signature."""
    if not draft.meta.agency or not draft.meta.year:
        raise DraftError("须填写机关名称和报告年度")
    published = _published(draft)
    values = draft.filled()
    same = lambda label: label  # noqa: E731 — the official labels, never altered
    template = draft.template
    blocks = [Para(draft.title, "title")]
    blocks += [Para(p.strip()) for p in draft.intro_text().splitlines() if p.strip()]
    tables = {2: [active_table(template, values, same)], 3: [requests_table(template, values, same, False)],
              4: [appeals_table(values)]}  # fmt: skip
    for number in range(1, 7):
        blocks.append(Para(f"{NUMERALS[number - 1]}、{TITLES[number - 1]}", "heading"))
        for line in (draft.sections.get(number) or "").splitlines():
            if line.strip():
                kind = "subheading" if line.lstrip().startswith("（") and len(line) < 40 else "body"
                blocks.append(Para(line.strip(), kind))
        blocks += tables.get(number, [])
    blocks += [Para(draft.meta.agency, "sign"), Para(cn_date(published), "sign")]
    agency = Agency(draft.meta.agency, draft.meta.body_type or "other", "", draft.meta.region or "",
                    _SHORT.get(draft.meta.body_type or "other", "我单位"))  # fmt: skip
    return Synthetic(seed=0, template=template, year=draft.meta.year, agency=agency, published=published,
                     faults=(), blocks=blocks, truth={})  # fmt: skip


def render_docx(draft: Draft) -> bytes:
    return document(draft).render("docx")


def render_pdf(draft: Draft) -> bytes:
    """The .docx converted by LibreOffice (a clear error when it is not installed)."""
    from gongkai.synth.render_office import OfficeUnavailable, convert

    try:
        return convert(render_docx(draft), "pdf")
    except OfficeUnavailable:
        raise DraftError("未安装 LibreOffice（soffice），无法生成 PDF；可先下载 .docx") from None
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        raise DraftError(f"LibreOffice 转换 PDF 失败：{str(exc)[:200]}") from None
