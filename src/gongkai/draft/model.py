"""A draft: the metadata, the section texts and every cell of the template, as a clerk fills them in.

A draft is read from the JSON of `gongkai parse` (an already published report, to correct it) or of
the form; numbers typed as text (`"12"`, `"1,234"`, `"０"`) are read as numbers, a blank stays null.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path

from pydantic import BaseModel, Field

from gongkai.cells import cell_ids, label
from gongkai.errors import GongkaiError
from gongkai.report import SCHEMA, Meta, Section

TITLES = ("总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况",
          "政府信息公开行政复议、行政诉讼情况", "存在的主要问题及改进情况", "其他需要报告的事项")  # fmt: skip
NUMERALS = ("一", "二", "三", "四", "五", "六")
AMOUNTS = {"active.admin_fees.amount_wan", "active.procurement.amount_wan"}  # 万元, may have decimals


class DraftError(GongkaiError):
    """A draft that cannot be read: one line saying which field."""


class Draft(BaseModel):
    meta: Meta = Field(default_factory=Meta)
    intro: str = Field("", description="the paragraph before section 一 (本报告根据……编制)")
    sections: dict[int, str] = Field(default_factory=dict, description="section number 1…6 → its text, tables aside")
    cells: dict[str, int | float | None] = Field(default_factory=dict)

    @property
    def template(self) -> str:
        return self.meta.template or ("2019" if (self.meta.year or 2021) < 2021 else "2021")

    @property
    def title(self) -> str:
        return f"{self.meta.agency or ''}{self.meta.year or ''}年政府信息公开工作年度报告"

    def intro_text(self) -> str:
        """The intro as typed, or the usual one stating the law and the statistical period."""
        if self.intro.strip():
            return self.intro
        y = self.meta.year or ""
        return (f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）和上级关于做好政府信息公开工作年度报告的要求编制。"
                f"报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。")

    def filled(self) -> dict[str, int | float | None]:
        """Every cell of the template, null where nothing was typed."""
        return {c: self.cells.get(c) for c in cell_ids(self.template)}

    def text(self) -> str:
        """The whole text as the narrative rules read it: headings and section texts in order."""
        parts = [self.title, self.intro_text()]
        for n in range(1, 7):
            parts += [f"{NUMERALS[n - 1]}、{TITLES[n - 1]}", self.sections.get(n, "")]
        return "\n".join(p for p in parts if p)

    def report_sections(self) -> list[Section]:
        return [Section(number=n, title=TITLES[n - 1], heading=f"{NUMERALS[n - 1]}、{TITLES[n - 1]}", text=self.sections.get(n, ""))
                for n in range(1, 7)]  # fmt: skip

    def to_report_json(self) -> dict:
        """The draft in the JSON shape of `gongkai parse` (schema gongkai.report/1), for `draft render`."""
        body = {"meta": self.meta.model_dump(mode="json"), "intro": self.intro,
                "sections": [s.model_dump(mode="json") for s in self.report_sections()], "cells": self.filled()}  # fmt: skip
        digest = hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True).encode()).hexdigest()
        return {"schema": SCHEMA, "source": {"sha256": digest, "format": "draft"}, **body, "findings": []}


_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def number_of(cell_id: str, value) -> int | float | None:
    """A typed value as the cell's number; None for a blank; DraftError naming the cell otherwise."""
    if value is None or isinstance(value, bool):
        if value is None:
            return None
        raise DraftError(f"“{label(cell_id)}”（{cell_id}）须为数字")
    if isinstance(value, int | float):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace(",", "").replace("，", "")
        if text in ("", "-", "—", "/"):
            return None
        if not _NUMBER.fullmatch(text):
            raise DraftError(f"“{label(cell_id)}”（{cell_id}）须为数字，不是“{value}”")
        number = float(text)
    if cell_id not in AMOUNTS and float(number).is_integer():
        return int(number)
    return float(number)


def load_draft(data: dict) -> Draft:
    """A draft from the JSON of the form or of `gongkai parse` (its sections a list or a mapping)."""
    if not isinstance(data, dict):
        raise DraftError("草稿须为 JSON 对象（gongkai parse 的输出或填报表单的内容）")
    if data.get("schema", SCHEMA) != SCHEMA:
        raise DraftError(f"不认识的格式 {data.get('schema')!r}（应为 {SCHEMA}）")
    try:
        meta = Meta.model_validate(data.get("meta") or {})
    except ValueError as exc:
        problem = exc.errors()[0] if hasattr(exc, "errors") else {"loc": ("meta",)}
        raise DraftError(f"基本信息有误：{'.'.join(map(str, problem['loc']))}") from None
    if meta.template is None and meta.year:
        meta.template = "2019" if meta.year < 2021 else "2021"
    raw_sections = data.get("sections") or {}
    if isinstance(raw_sections, list):
        raw_sections = {s.get("number"): s.get("text", "") for s in raw_sections if isinstance(s, dict)}
    sections = {}
    for key, text in raw_sections.items():
        if str(key) not in {str(n) for n in range(1, 7)} or not isinstance(text, str | None):
            raise DraftError(f"章节须为 1 至 6 的编号与文字，不是 {key!r}")
        sections[int(key)] = text or ""
    template = meta.template or "2021"
    known = set(cell_ids(template))
    cells_in = data.get("cells") or {}
    if not isinstance(cells_in, dict):
        raise DraftError("cells 须为“单元格编号 → 数值”的对象")
    unknown = sorted(set(cells_in) - known)
    if unknown:
        raise DraftError(f"{template} 年格式没有单元格 {'、'.join(unknown[:5])}")
    cells = {c: number_of(c, v) for c, v in cells_in.items()}
    intro = data.get("intro") or ""
    if not isinstance(intro, str):
        raise DraftError("intro 须为文字")
    return Draft(meta=meta, intro=intro, sections=sections, cells=cells)


# what of a parsed section's text is its table, flattened (the form keeps the table apart)
_TABLE_LINE = re.compile(r"\t|^第二十条第|^信息内容|^（本列数据|^行政复议\s*行政诉讼")


def draft_from_report(data: dict) -> Draft:
    """A published report (the JSON of `gongkai parse`) as a draft to correct: its tables' text left out,
    and the signature at the end of section 六 too (the form writes its own)."""
    draft = load_draft(data)
    for number, text in list(draft.sections.items()):
        lines = text.splitlines()
        if number in (2, 3, 4):
            cut = next((i for i, line in enumerate(lines) if _TABLE_LINE.search(line)), len(lines))
            lines = lines[:cut]
        if number == 6 and draft.meta.agency:
            while lines and (lines[-1].strip() in ("", draft.meta.agency) or re.fullmatch(r"\s*\d{4}年\d{1,2}月\d{1,2}日\s*", lines[-1])):
                lines.pop()
        draft.sections[number] = "\n".join(lines).strip()
    return draft


def read_draft(path: str | os.PathLike) -> Draft:
    """A draft from a file: a filled-in sheet (.xlsx), JSON (of the form or of `gongkai parse`), or a
    published report in any format gongkai reads (parsed under the usual limits)."""
    path = Path(path)
    if not path.is_file():
        raise DraftError(f"{path}：文件不存在")
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from gongkai.draft.sheet import read_sheet

        return read_sheet(path)
    if suffix == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise DraftError(f"{path}：不是有效的 JSON（{exc}）") from None
        return draft_from_report(data)
    from gongkai.limits import parse_guarded

    return draft_from_report(parse_guarded(path).to_dict())
