"""Plain-text and markdown renderings, in the flattened layouts real reports come in.

Layouts (as found on government sites and in crawls):
- tabs: one table row a line, cells tab-separated, spanned positions left empty (a copy from Word)
- cell_per_line: every cell on its own line; an empty cell is an empty line
- cell_per_line_pipes: every cell on its own line with a '|' line after it
- cell_per_line_blank: a blank line after every cell; an empty cell adds just one line break
- pipe_rows: 'a | b | c |' one table row a line
- glued: the whole body on one line, paragraphs and cells run together (a crawler's page.txt)
- spaced_labels: tab rows from a PDF, labels spaced out ('三、 本 年 度 …') and broken ('商业\\n企业')
- cell_per_line_ended: every cell on its own line ended by ' |', an empty cell a bare '|', each row closed by a
  filler of one '|' more than the cells it lacks against the table's fullest row (a crawler's page.txt)
"""

from __future__ import annotations

import random

from gongkai.synth.model import Para, Synthetic
from gongkai.synth.template import Table

LAYOUTS = (
    "tabs",
    "cell_per_line",
    "cell_per_line_pipes",
    "cell_per_line_blank",
    "pipe_rows",
    "glued",
    "spaced_labels",
    "cell_per_line_ended",
)
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030", "utf-16")


def choose_layout(syn: Synthetic) -> str:
    return syn.rng("txt-layout").choice(LAYOUTS)


def choose_encoding(syn: Synthetic) -> str:
    return syn.rng("txt-encoding").choices(ENCODINGS, weights=(70, 10, 15, 5))[0]


def render_txt(syn: Synthetic, layout: str | None = None, *, encoding: str | None = None) -> bytes:
    layout = layout or choose_layout(syn)
    if layout not in LAYOUTS:
        raise ValueError(f"unknown txt layout {layout!r}; known: {LAYOUTS}")
    encoding = encoding or choose_encoding(syn)
    return text_of(syn, layout).encode(encoding)


def text_of(syn: Synthetic, layout: str) -> str:
    rng = syn.rng(f"txt:{layout}")
    if layout == "glued":
        return _glued(syn, rng)
    gap = "\n" if layout in ("tabs", "pipe_rows", "spaced_labels") and rng.random() < 0.5 else ""
    out: list[str] = []
    for block in syn.blocks:
        if isinstance(block, Para):
            out.append(block.text + "\n" + gap)
            if layout == "cell_per_line_blank":
                out.append("\n")
        else:
            out.append(_table(block, layout, rng))
            out.append(gap)
    return "".join(out)


def _table(table: Table, layout: str, rng: random.Random) -> str:
    if layout in ("tabs", "spaced_labels"):
        lines = []
        for row in table.positions():
            fields = [(_spaced(c, rng) if layout == "spaced_labels" else c.text) if c else "" for c in row]
            lines.append("\t".join(fields))
        return "\n".join(lines) + "\n"
    if layout == "pipe_rows":
        return "".join(" | ".join(c.text for c in row) + " |\n" for row in table.rows)
    if layout == "cell_per_line_ended":
        widest = max(len(row) for row in table.rows)
        return "".join("".join(f"{c.text} |\n" if c.text else "|\n" for c in row) + "|" * (1 + widest - len(row)) + "\n" for row in table.rows)
    cells = [c.text for row in table.rows for c in row]
    if layout == "cell_per_line":
        return "".join(t + "\n" for t in cells)
    if layout == "cell_per_line_pipes":
        return "".join(t + "\n|\n" for t in cells)
    if layout == "cell_per_line_blank":
        return "".join(t + "\n\n" if t else "\n" for t in cells)
    raise ValueError(layout)


_BREAKABLE = {"商业企业", "科研机构", "结果维持", "结果纠正", "其他结果", "尚未审结", "本年新制作数量", "本年新公开数量",
              "社会公益组织", "法律服务机构", "上一年项目数量"}  # fmt: skip


def _spaced(cell, rng: random.Random) -> str:
    """A label as a PDF's text layer gives it: spaced out, or broken across lines."""
    text = cell.text
    if not cell.header or not text:
        return text
    if text.startswith("三、本年度办理结果") or (text.startswith("（") and len(text) <= 6 and rng.random() < 0.5):
        head, rest = text[:2], text[2:]
        return head + " " + " ".join(rest)
    if text in _BREAKABLE and rng.random() < 0.7:
        cut = 2 if len(text) == 4 else 3
        return text[:cut] + "\n" + text[cut:]
    if text[:2] in ("1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.") and rng.random() < 0.5:
        return text[:2] + " " + text[2:]
    return text


def _glued(syn: Synthetic, rng: random.Random) -> str:
    header = (
        f"标题: {syn.title}\n发布时间: {syn.published.isoformat()} {rng.randint(8, 18):02d}:{rng.randint(0, 59):02d}\n"
        "文号: \n发布机构: \n栏目: 政府信息公开年报\n" + "=" * 20 + " 正文 " + "=" * 20 + "\n"
    )
    parts: list[str] = []
    for block in syn.blocks:
        if isinstance(block, Para):
            parts.append(block.text)
        else:
            parts.append("".join(c.text for row in block.rows for c in row))
    return header + "".join(parts) + "\n"


def render_markdown(syn: Synthetic) -> bytes:
    out: list[str] = []
    for block in syn.blocks:
        if isinstance(block, Table):
            grid = block.positions()
            lines = ["| " + " | ".join((c.text if c else "") for c in row) + " |" for row in grid]
            lines.insert(1, "|" + "---|" * len(grid[0]))
            out.append("\n".join(lines))
        elif block.kind == "title":
            out.append("# " + block.text)
        elif block.kind == "heading":
            out.append("## " + block.text)
        elif block.kind == "caption":
            out.append("### " + block.text)
        elif block.kind == "subheading":
            out.append("**" + block.text + "**")
        else:
            out.append(block.text)
    return ("\n\n".join(out) + "\n").encode("utf-8")
