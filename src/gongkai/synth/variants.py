"""Layout variants: the same report printed the ways real reports (and converters) print it.

A variant changes how a report looks, never what it says: the truth's cells stay the same (only
`narrow_cells` draws larger numbers, so that they wrap in narrow PDF cells). Each is applied to
the finished blocks with a random stream of its own, so a seed draws the same report with or
without variants, and every renderer (txt, md, html, docx, pdf, doc, converter markdown) shows it.

- headings_arabic / headings_arabic_comma / headings_paren / headings_part / headings_bare:
  section headings numbered 1. / 1、 / （1） / 第一部分, or not numbered at all
- appeals_transposed: table 四 as three rows (行政复议, 未经复议直接起诉, 复议后起诉) by five columns
- appeals_split: table 四 as three small tables, each under a caption of its own
- narrow_cells: table 三 with narrow number columns, so a long number wraps inside its cell (PDF)
- placeholders: blank cells printed as '—', '-' or '／'
- title_split: the title broken over two lines inside the body's name
- name_in_header: the title without the body's name, which stands alone on the line above it
- name_in_signature: the body named only in the signature at the end
- narrative_breakdown: the count of applications followed by its breakdown by channel
- label_lost (only when asked for): table 二's 规章 row printed with an empty label cell, its numbers first
  under the block's header (a crawl that lost the cell's text)
"""

from __future__ import annotations

import random

from gongkai.cells import APPEAL_BLOCKS
from gongkai.synth.template import APPEAL_OUTCOME_LABELS, Cell, Table

HEADING_STYLES = ("headings_arabic", "headings_arabic_comma", "headings_paren", "headings_part", "headings_bare")
VARIANTS = (
    *HEADING_STYLES,
    "appeals_transposed",
    "appeals_split",
    "narrow_cells",
    "placeholders",
    "title_split",
    "name_in_header",
    "name_in_signature",
    "narrative_breakdown",
)
ASKED_ONLY = ("label_lost",)  # never drawn by pick(), so earlier seeds draw what they drew
# variants that cannot be combined: one table 四, one heading style, one place for the name
_EXCLUSIVE = (set(HEADING_STYLES), {"appeals_transposed", "appeals_split"}, {"title_split", "name_in_header", "name_in_signature"})
NARROW_SCALE = 37  # table 三's numbers times this: most become three or four digits, which wrap in a narrow cell
_NUMERALS = "一二三四五六"
_PLACEHOLDERS = ("—", "-", "／")
APPEAL_CAPTIONS = {"review": "行政复议", "suit_direct": "行政诉讼（未经复议直接起诉）", "suit_after_review": "行政诉讼（复议后起诉）"}


def pick(rng: random.Random) -> tuple[str, ...]:
    """None 30% of the time, else one to three variants that go together."""
    if rng.random() < 0.3:
        return ()
    chosen: list[str] = []
    for name in rng.sample(VARIANTS, k=rng.choice((1, 2, 3))):
        if not any(name in group and set(chosen) & group for group in _EXCLUSIVE):
            chosen.append(name)
    return tuple(sorted(chosen))


def check(variants) -> None:
    unknown = [v for v in variants if v not in VARIANTS + ASKED_ONLY]
    if unknown:
        raise ValueError(f"unknown layout variant(s) {unknown}; known: {VARIANTS + ASKED_ONLY}")
    for group in _EXCLUSIVE:
        if len(group & set(variants)) > 1:
            raise ValueError(f"layout variants {sorted(group & set(variants))} cannot be combined")


def scale_requests(values: dict) -> None:
    """narrow_cells: table 三 with larger numbers (every identity is linear, so all still hold)."""
    for cid, value in values.items():
        if cid.startswith("requests.") and value is not None:
            values[cid] = value * NARROW_SCALE


def apply(blocks: list, variants, *, seed: int, agency, year: int, values: dict) -> list:
    """The report's blocks as the variants print them."""
    from gongkai.synth.model import Para

    rng = random.Random(f"{seed}:variants")
    out = list(blocks)
    style = next((v for v in variants if v in HEADING_STYLES), None)
    if style:
        number = 0
        for i, block in enumerate(out):
            if isinstance(block, Para) and block.kind == "heading":
                number = _NUMERALS.index(block.text[0]) + 1
                out[i] = Para(_restyle(block.text[2:], number, style), "heading")
    for i, block in enumerate(out):
        if isinstance(block, Table) and block.key == "appeals":
            if "appeals_transposed" in variants:
                out[i] = transposed_appeals(values)
            elif "appeals_split" in variants:
                out[i : i + 1] = split_appeals(values)
            break
    if "narrow_cells" in variants:
        for block in out:
            if isinstance(block, Table) and block.key == "requests":
                block.narrow = True
    if "placeholders" in variants:
        mark = rng.choice(_PLACEHOLDERS)
        for block in out:
            if isinstance(block, Table):
                for row in block.rows:
                    for cell in row:
                        if cell.cell_id and not cell.text:
                            cell.text = mark
    if "narrative_breakdown" in variants:
        received = values.get("requests.new_received.total")
        for i, block in enumerate(out):
            if isinstance(block, Para) and received and f"申请{received}件" in block.text:
                out[i] = Para(block.text.replace(f"申请{received}件", f"申请{received}件（其中{_channels(rng, received)}）", 1), block.kind)
                break
    if "label_lost" in variants:
        for block in out:
            if isinstance(block, Table) and block.key == "active":
                for row in block.rows:
                    if row and row[0].text == "规章":
                        row[0].text = ""
    _name_variants(out, variants, rng, agency, year)
    return out


def _restyle(title: str, number: int, style: str) -> str:
    numeral = _NUMERALS[number - 1]
    return {
        "headings_arabic": f"{number}.{title}",
        "headings_arabic_comma": f"{number}、{title}",
        "headings_paren": f"（{number}）{title}",
        "headings_part": f"第{numeral}部分 {title}",
        "headings_bare": title,
    }[style]


def _channels(rng: random.Random, total: int) -> str:
    """'当面申请3件，网络申请5件，信函申请1件' adding up to `total`."""
    names = ["当面申请", "网络申请", "信函申请", "传真申请"][: rng.randint(2, 4)]
    cuts = sorted(rng.randint(0, total) for _ in range(len(names) - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, total])]
    return "，".join(f"{name}{n}件" for name, n in zip(names, parts))


def transposed_appeals(values: dict) -> Table:
    """Table 四 turned: a row per block, a column per result."""
    table = Table("appeals")
    table.rows.append([Cell("", colspan=2, header=True)] + [Cell(lab, header=True) for lab in APPEAL_OUTCOME_LABELS])
    for block in APPEAL_BLOCKS:
        cells = [_value(f"appeals.{block}.{c}", values) for c in ("upheld", "corrected", "other", "pending", "total")]
        if block == "review":
            table.rows.append([Cell("行政复议", colspan=2, header=True), *cells])
        elif block == "suit_direct":
            table.rows.append([Cell("行政诉讼", rowspan=2, header=True), Cell("未经复议直接起诉", header=True), *cells])
        else:
            table.rows.append([Cell("复议后起诉", header=True), *cells])
    return table


def split_appeals(values: dict) -> list:
    """Table 四 as three small tables, each under its own caption (as PDF→markdown converters write it)."""
    from gongkai.synth.model import Para

    out: list = []
    for block in APPEAL_BLOCKS:
        out.append(Para(APPEAL_CAPTIONS[block], "caption"))
        table = Table("appeals")
        table.rows.append([Cell(lab, header=True) for lab in APPEAL_OUTCOME_LABELS])
        table.rows.append([_value(f"appeals.{block}.{c}", values) for c in ("upheld", "corrected", "other", "pending", "total")])
        out.append(table)
    return out


def _value(cid: str, values: dict) -> Cell:
    from gongkai.synth.model import shown

    return Cell(shown(cid, values[cid]), cell_id=cid)


def _name_variants(out: list, variants, rng: random.Random, agency, year: int) -> None:
    from gongkai.synth.model import Para

    at = next(i for i, b in enumerate(out) if isinstance(b, Para) and b.kind == "title")
    title = out[at].text
    if "title_split" in variants and title.startswith(agency.name) and len(agency.name) >= 4:
        cut = rng.randint(2, len(agency.name) - 2)
        out[at : at + 1] = [Para(title[:cut], "title"), Para(title[cut:], "title")]
        return
    if "name_in_header" not in variants and "name_in_signature" not in variants:
        return
    bare = title.replace(agency.name, "", 1).removeprefix("关于")
    bare = bare if bare.startswith(str(year)) else f"{year}年度政府信息公开工作年度报告"
    out[at] = Para(bare, "title")
    if "name_in_header" in variants:
        out.insert(at, Para(agency.name, "meta"))
        return
    for i, block in enumerate(out):  # the body is named in the signature alone
        if isinstance(block, Para) and block.kind != "sign" and agency.name in block.text:
            out[i] = Para(block.text.replace(agency.name, agency.short), block.kind)
