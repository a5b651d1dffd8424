"""OFD (GB/T 33190-2016) packages written directly: the report laid out on A4 pages as text and path objects.

The package holds what the standard requires of a document: OFD.xml (DocBody: DocInfo, DocRoot)
→ Doc_0/Document.xml (CommonData: MaxUnitID, PageArea, PublicRes; Pages) → Doc_0/PublicRes.xml
(Res with the font) → one Content.xml per page. Paragraphs wrap at the text width; each line is
a TextObject whose TextCode places every character with DeltaX; tables are ruled cells (one
PathObject rectangle per cell) with their text inside, split over pages between rows, and a
page number in the footer. Units are millimetres, y downwards, as in the standard.
"""

from __future__ import annotations

import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from gongkai.synth.model import Para, Synthetic
from gongkai.synth.render_docx import column_widths, owners
from gongkai.synth.template import Table

NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, TOP, BOTTOM = 25.0, 32.0, 267.0  # text area; the footer sits below BOTTOM
TEXT_W = PAGE_W - 2 * LEFT
SIZES = {"title": 5.6, "meta": 4.2, "heading": 4.2, "subheading": 4.2, "body": 4.2, "sign": 4.2}
CELL_SIZE = 3.2  # table text
LINE = 1.5  # line height, times the size
PAD = 1.0  # cell padding
FONT_ID = 1
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


def advance(ch: str, size: float) -> float:
    """How far a character moves the pen: full width for CJK, half for the rest."""
    return size if unicodedata.east_asian_width(ch) in "WF" else 0.5 * size


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width` (a character at a time: CJK wraps anywhere, as printers do)."""
    lines, line, used = [], "", 0.0
    for ch in text:
        step = advance(ch, size)
        if line and used + step > width:
            lines.append(line)
            line, used = "", 0.0
        line += ch
        used += step
    return lines + [line] if line else lines or [""]


@dataclass
class _Writer:
    """Objects page by page, with document-wide IDs."""

    pages: list[list[str]] = field(default_factory=lambda: [[]])
    y: float = TOP
    next_id: int = 10

    def id(self) -> int:
        self.next_id += 1
        return self.next_id

    def new_page(self) -> None:
        self.pages.append([])
        self.y = TOP

    def room(self, height: float) -> None:
        if self.y + height > BOTTOM and self.y > TOP:
            self.new_page()

    def text(self, x: float, y: float, text: str, size: float, page: int | None = None) -> None:
        """One line of text with its top-left at (x, y)."""
        if not text:
            return
        width = sum(advance(ch, size) for ch in text)
        deltas = _compress([advance(ch, size) for ch in text[:-1]])
        delta = f" DeltaX={quoteattr(deltas)}" if deltas else ""
        self.pages[-1 if page is None else page].append(
            f'<ofd:TextObject ID="{self.id()}" Boundary="{x:.2f} {y:.2f} {width:.2f} {size * LINE:.2f}" Font="{FONT_ID}" Size="{size}">'
            f'<ofd:FillColor Value="0 0 0"/><ofd:TextCode X="0" Y="{size:.2f}"{delta}>{escape(text)}</ofd:TextCode></ofd:TextObject>'
        )

    def box(self, x: float, y: float, w: float, h: float) -> None:
        """A ruled rectangle (a table cell's borders)."""
        self.pages[-1].append(
            f'<ofd:PathObject ID="{self.id()}" Boundary="{x:.2f} {y:.2f} {w:.2f} {h:.2f}" LineWidth="0.25">'
            f'<ofd:StrokeColor Value="0 0 0"/><ofd:AbbreviatedData>M 0 0 L {w:.2f} 0 L {w:.2f} {h:.2f} L 0 {h:.2f} C</ofd:AbbreviatedData></ofd:PathObject>'
        )


def _compress(deltas: list[float]) -> str:
    """DeltaX with runs written as 'g N D', as OFD writers do."""
    out: list[str] = []
    i = 0
    while i < len(deltas):
        j = i
        while j < len(deltas) and deltas[j] == deltas[i]:
            j += 1
        value = f"{deltas[i]:g}"
        out.append(f"g {j - i} {value}" if j - i > 2 else " ".join([value] * (j - i)))
        i = j
    return " ".join(out)


def _paragraph(w: _Writer, block: Para) -> None:
    size = SIZES.get(block.kind, 4.2)
    indent = 2 * size if block.kind == "body" else 0.0
    lines = wrap(block.text, TEXT_W - indent, size)
    for k, line in enumerate(lines):
        w.room(size * LINE)
        width = sum(advance(ch, size) for ch in line)
        if block.kind in ("title", "meta"):
            x = LEFT + (TEXT_W - width) / 2
        elif block.kind == "sign":
            x = LEFT + TEXT_W - width
        else:
            x = LEFT + (indent if k == 0 else 0.0)
        w.text(x, w.y, line, size)
        w.y += size * LINE
    w.y += 0.3 * size


def _table(w: _Writer, table: Table) -> None:
    """Rows of ruled cells; a page break falls between rows, a cell spanning it drawn on both pages (its text on the first)."""
    grid = owners(table)
    n_cols = len(grid[0])
    twips = column_widths(table.key, n_cols, table.narrow)
    widths = [TEXT_W * t / sum(twips) for t in twips]
    xs = [LEFT + sum(widths[:c]) for c in range(n_cols + 1)]
    lines = {}  # id(cell) → wrapped lines
    heights = [CELL_SIZE * LINE + 2 * PAD] * len(grid)
    for r, row in enumerate(grid):
        for c, (cell, r0, c0) in enumerate(row):
            if (r, c) != (r0, c0):
                continue
            lines[id(cell)] = wrap(cell.text, xs[c + cell.colspan] - xs[c] - 2 * PAD, CELL_SIZE)
            need = len(lines[id(cell)]) * CELL_SIZE * LINE + 2 * PAD
            last = r + cell.rowspan - 1
            have = sum(heights[r : last + 1])
            if need > have:
                heights[last] += need - have
    w.y += 1.0
    r = 0
    while r < len(grid):
        w.room(heights[r])
        top = w.y
        end = r
        while end < len(grid) and w.y + heights[end] <= BOTTOM:
            w.y += heights[end]
            end += 1
        if end < len(grid):
            kept = _break_row(grid, r, end)
            if kept == r and top > TOP:  # nothing may stay on this page: the table starts on the next
                w.new_page()
                continue
            end = kept if kept > r else max(end, r + 1)
        w.y = top + sum(heights[r:end])
        ys = [top + sum(heights[r:k]) for k in range(r, end + 1)]
        for rr in range(r, end):
            for c, (cell, r0, c0) in enumerate(grid[rr]):
                if c != c0 or (rr != r0 and rr != r):
                    continue  # a cell is drawn once per page part, from its first row there
                last = min(r0 + cell.rowspan, end)
                y0, y1 = ys[rr - r], ys[last - r]
                x0, x1 = xs[c], xs[c + cell.colspan]
                w.box(x0, y0, x1 - x0, y1 - y0)
                if rr == r0:
                    _cell_text(w, lines[id(cell)], x0, y0, x1, y1)
        r = end
        if r < len(grid):
            w.new_page()
    w.y += 3.0


def _break_row(grid: list[list[tuple]], r: int, end: int) -> int:
    """Where a page break may fall at or above `end`: not through a merged cell, not before a lone last row."""
    if len(grid) - end < 2:
        end = len(grid) - 2  # no row left alone on the next page
    while end > r:
        cut = [r0 for cell, r0, _ in grid[end] if r0 < end]  # merged cells running on from above
        if not cut:
            return end
        end = min(cut)
    return r


def _cell_text(w: _Writer, lines: list[str], x0: float, y0: float, x1: float, y1: float) -> None:
    """The cell's lines centred in it (a tall merged cell may run past a page break: then from its top)."""
    height = len(lines) * CELL_SIZE * LINE
    y = y0 + max(PAD, (y1 - y0 - height) / 2)
    for line in lines:
        width = sum(advance(ch, CELL_SIZE) for ch in line)
        w.text(x0 + (x1 - x0 - width) / 2, y + (LINE - 1) * CELL_SIZE / 2, line, CELL_SIZE)
        y += CELL_SIZE * LINE


def _content(objects: list[str], layer_id: int) -> str:
    return f"{_XML}<ofd:Page {NS}><ofd:Content><ofd:Layer ID=\"{layer_id}\" Type=\"Body\">{''.join(objects)}</ofd:Layer></ofd:Content></ofd:Page>"


def render_ofd(syn: Synthetic) -> bytes:
    """The report as an OFD package; the same report gives the same bytes."""
    w = _Writer()
    for block in syn.blocks:
        if isinstance(block, Table):
            _table(w, block)
        else:
            _paragraph(w, block)
    w.pages = pages = [objects for objects in w.pages if objects]
    for n in range(len(pages)):
        footer = f"- {n + 1} -"
        w.text((PAGE_W - sum(advance(ch, 3.5) for ch in footer)) / 2, 280.0, footer, 3.5, page=n)
    page_ids = [w.id() for _ in pages]
    layer_ids = [w.id() for _ in pages]
    parts = {
        "OFD.xml": (
            f'{_XML}<ofd:OFD {NS} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
            f"<ofd:DocID>{syn.seed:032x}</ofd:DocID><ofd:Title>{escape(syn.title)}</ofd:Title>"
            f"<ofd:Author>{escape(syn.agency.name)}</ofd:Author><ofd:CreationDate>{syn.published.isoformat()}</ofd:CreationDate>"
            "<ofd:Creator>gongkai.synth</ofd:Creator></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
        ),
        "Doc_0/Document.xml": (
            f"{_XML}<ofd:Document {NS}><ofd:CommonData><ofd:MaxUnitID>{w.next_id}</ofd:MaxUnitID>"
            f"<ofd:PageArea><ofd:PhysicalBox>0 0 {PAGE_W:g} {PAGE_H:g}</ofd:PhysicalBox></ofd:PageArea>"
            "<ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData><ofd:Pages>"
            + "".join(f'<ofd:Page ID="{pid}" BaseLoc="Pages/Page_{k}/Content.xml"/>' for k, pid in enumerate(page_ids))
            + "</ofd:Pages></ofd:Document>"
        ),
        "Doc_0/PublicRes.xml": (
            f'{_XML}<ofd:Res {NS} BaseLoc="Res"><ofd:Fonts>'
            f'<ofd:Font ID="{FONT_ID}" FontName="宋体" FamilyName="宋体" Charset="unicode"/></ofd:Fonts></ofd:Res>'
        ),
    }
    for k, objects in enumerate(pages):
        parts[f"Doc_0/Pages/Page_{k}/Content.xml"] = _content(objects, layer_ids[k])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in parts.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)), text.encode("utf-8"), compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()
