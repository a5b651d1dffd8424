"""Word .docx: the main document part read with lxml, so merged cells keep their spans.

The body is walked in document order: a w:p becomes a Paragraph (line = its index among the
body's paragraphs, 1-based; a w:br splits it into several Paragraphs with the same line), a w:tbl
becomes a Grid (w:gridSpan → colspan, w:vMerge restart/continue → rowspan, w:gridBefore shifts
a row). Content controls (w:sdt), custom XML and inserted revisions are read through; deleted
revisions, field codes and the fallback copy of text boxes are not. Headers, footers and
footnotes are ignored. A nested table is flattened into its cell: one line per row, cells joined by tabs.

The tree lxml builds is walked once by `etree.iterwalk` over the few tags that matter (paragraphs,
tables, rows, cells, text, breaks, spans, merges): lxml skips runs and their properties itself. A
paragraph that holds another (a text box) or deleted, moved-away or fallback content, and a cell that
holds a table, are read by the general walk (`paragraph_lines`, `_Body.cell_text`), which
`_Body(fast=False)` uses everywhere; the tests compare the two. They differ only on text tags where
the schema allows none (inside run or cell properties), which the fast walk reads.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib

from lxml import etree

from gongkai.document import Block, Document, Grid, GridCell, Paragraph, Where
from gongkai.errors import UnreadableError

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_OFFICE_DOCUMENT = "/officeDocument"

MAX_PART_BYTES = 64 * 1024 * 1024  # uncompressed document.xml
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # uncompressed, all parts together (images included)
MAX_RATIO = 200  # uncompressed / compressed, for parts over 1 MB


def _w(name: str) -> str:
    return f"{{{W}}}{name}"


_P, _TBL, _TR, _TC, _SDT, _SDT_CONTENT, _CUSTOM_XML = (_w(n) for n in ("p", "tbl", "tr", "tc", "sdt", "sdtContent", "customXml"))
_WRAPPERS = {_SDT, _CUSTOM_XML, _SDT_CONTENT, _w("ins"), _w("moveTo"), _w("smartTag"), _w("hyperlink"), _w("fldSimple")}
_SKIP = {
    _w("del"), _w("moveFrom"), _w("delText"), _w("instrText"), _w("pPr"), _w("rPr"), _w("sdtPr"), _w("sdtEndPr"),
    _w("tblPr"), _w("tblGrid"), _w("trPr"), _w("tcPr"), _w("sectPr"), f"{{{MC}}}Fallback", _w("footnoteReference"),
}  # fmt: skip
_BREAKS = {_w("br"), _w("cr")}
_T, _TAB, _PTAB, _NO_BREAK_HYPHEN, _SYM = (_w(n) for n in ("t", "tab", "ptab", "noBreakHyphen", "sym"))
_PPR, _TRPR, _TCPR, _GRID_SPAN, _VMERGE = (_w(n) for n in ("pPr", "trPr", "tcPr", "gridSpan", "vMerge"))
_UNREAD = {_w("del"), _w("moveFrom"), f"{{{MC}}}Fallback"}  # skipped by paragraph_lines, and they hold text
_ROW_WRAPPERS = {_SDT, _SDT_CONTENT, _CUSTOM_XML}  # what _children looks through
_ALT_CHUNK = _w("altChunk")  # content kept as another file (HTML, MHT, RTF) inside the docx: counted, not read
_WALKED = (_P, _TBL, _TR, _TC, _T, _TAB, _PTAB, *_BREAKS, _NO_BREAK_HYPHEN, _SYM, _PPR, _GRID_SPAN, _VMERGE, *_UNREAD, _ALT_CHUNK)


def read(data: bytes) -> Document:
    """Read a .docx: paragraphs and tables of the main document part, in order."""
    root = _parse(_document_xml(data))
    body = root.find(_w("body"))
    if body is None:
        raise UnreadableError("docx 中没有正文（word/document.xml 缺少 w:body）")
    reader = _Body()
    blocks = reader.walk(body)
    if reader.alt_chunks:  # content kept as another file (HTML, MHT, RTF) inside the docx, as web exports do
        note = f"正文有 {reader.alt_chunks} 处以 altChunk 嵌入的内容（docx 中另一格式的文件），未能读取：其中的文字和表格不在解析结果中"
        return Document(blocks, "docx", notes=[note], partial=True)
    return Document(blocks, "docx")


def _document_xml(data: bytes) -> bytes:
    """The main document part's bytes, after checking the archive against zip bombs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError) as err:
        raise UnreadableError("docx 文件已损坏，不是有效的 zip 压缩包") from err
    with archive:
        infos = archive.infolist()
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise UnreadableError("docx 解压后过大，超出解压大小上限")
        name = _main_part_name(archive)
        try:
            info = archive.getinfo(name)
        except KeyError as err:
            raise UnreadableError("docx 中缺少正文部分（word/document.xml）") from err
        if info.file_size > MAX_PART_BYTES:
            raise UnreadableError("docx 正文解压后超出解压大小上限")
        if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise UnreadableError("docx 压缩比异常（疑似压缩炸弹），超出解压大小上限")
        try:
            with archive.open(info) as part:
                content = part.read(MAX_PART_BYTES + 1)  # the header's size may lie
        except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as err:
            raise UnreadableError("docx 文件已损坏，正文无法解压") from err
        if len(content) > MAX_PART_BYTES:
            raise UnreadableError("docx 正文解压后超出解压大小上限")
        return content


def _main_part_name(archive: zipfile.ZipFile) -> str:
    """The officeDocument target named in _rels/.rels (usually word/document.xml)."""
    try:
        info = archive.getinfo("_rels/.rels")
        if info.file_size > 1 << 20:
            return "word/document.xml"
        rels = _parse(archive.read(info))
    except (KeyError, UnreadableError, zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return "word/document.xml"
    for rel in rels.iter(f"{{{_REL}}}Relationship"):
        if rel.get("Type", "").endswith(_OFFICE_DOCUMENT) and rel.get("Target"):
            target = rel.get("Target").lstrip("/")
            return posixpath.normpath(target)
    return "word/document.xml"


def _parse(xml: bytes) -> etree._Element:
    if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml[:4096]:
        raise UnreadableError("docx 含有不允许的 DTD 声明")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True
    )
    try:
        return etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        raise UnreadableError("docx 正文 XML 已损坏，无法解析") from err


class _Body:
    """Blocks of a w:body: paragraphs numbered in order, grids numbered in order."""

    def __init__(self, *, fast: bool = True) -> None:
        self.n_paragraphs = 0
        self.n_grids = 0
        self.alt_chunks = 0
        self.fast = fast

    def walk(self, body: etree._Element) -> list[Block]:
        """The body's blocks: one pass of `etree.iterwalk` (or `blocks`, the general walk, when not fast)."""
        return _Walk(self, body).run() if self.fast else self.blocks(body)

    def blocks(self, container: etree._Element) -> list[Block]:
        out: list[Block] = []
        stack = list(reversed(container))
        while stack:  # content controls and custom XML wrap body content: read through them
            el = stack.pop()
            if el.tag == _P:
                self.n_paragraphs += 1
                out.extend(Paragraph(line, Where(line=self.n_paragraphs)) for line in paragraph_lines(el))
            elif el.tag == _TBL:
                grid = self.grid(el)
                if grid is not None:
                    out.append(grid)
            elif el.tag in _WRAPPERS:
                stack.extend(reversed(el))
            elif el.tag == _ALT_CHUNK:
                self.alt_chunks += 1
        return out

    def grid(self, tbl: etree._Element) -> Grid | None:
        """Cells at their top-left: gridBefore and gridSpan place them, vMerge continue extends the cell above."""
        index = self.n_grids
        cells: list[GridCell] = []
        open_cells: dict[int, int] = {}  # column → index in `cells` of the cell a vMerge may continue
        for r, tr in enumerate(_children(tbl, _TR)):
            col = _int(tr.find(f"{_w('trPr')}/{_w('gridBefore')}"), 0)
            for tc in _children(tr, _TC):
                props = tc.find(_w("tcPr"))
                span = max(1, _int(props.find(_w("gridSpan")) if props is not None else None, 1))
                merge = props.find(_w("vMerge")) if props is not None else None
                _place_cell(cells, open_cells, self.cell_text(tc), r, col, span, merge, index)
                col += span
        if not cells:
            return None
        self.n_grids += 1
        return Grid(cells, Where(table=index))

    def cell_text(self, tc: etree._Element) -> str:
        """A cell's paragraphs joined by newlines; a nested table as tab-joined rows; outer whitespace stripped."""
        lines: list[str] = []
        stack = list(reversed(tc))
        while stack:
            el = stack.pop()
            if el.tag == _P:
                lines.extend(paragraph_lines(el))
            elif el.tag == _TBL:
                for tr in _children(el, _TR):
                    lines.append("\t".join(self.cell_text(inner).replace("\n", " ") for inner in _children(tr, _TC)))
            elif el.tag in _WRAPPERS:
                stack.extend(reversed(el))
        return "\n".join(lines).strip()


def _children(parent: etree._Element, tag: str) -> list[etree._Element]:
    """Children with `tag`, looking through content controls and custom XML wrapped around them."""
    out, stack = [], list(reversed(parent))
    while stack:
        el = stack.pop()
        if el.tag == tag:
            out.append(el)
        elif el.tag in (_SDT, _SDT_CONTENT, _CUSTOM_XML):
            stack.extend(reversed(el))
    return out


def _int(el: etree._Element | None, default: int) -> int:
    if el is None:
        return default
    try:
        return min(int(el.get(_w("val"), default)), 1000)
    except ValueError:
        return default


def paragraph_lines(p: etree._Element) -> list[str]:
    """A paragraph's text split at w:br / w:cr; w:tab is a tab; deleted text and field codes are skipped."""
    lines = [""]
    stack = list(reversed(p))
    while stack:
        el = stack.pop()
        tag = el.tag
        if not isinstance(tag, str) or tag in _SKIP:
            continue
        if tag == _w("t"):
            lines[-1] += el.text or ""
        elif tag == _w("tab") or tag == _w("ptab"):
            lines[-1] += "\t"
        elif tag in _BREAKS:
            lines.append("")
        elif tag == _w("noBreakHyphen"):
            lines[-1] += "-"
        elif tag == _w("sym"):
            lines[-1] += _symbol(el)
        elif tag == _P:  # a text box's paragraph inside this one
            lines.append("")
            stack.append(_LineEnd)
            stack.extend(reversed(el))
        elif tag is _LineEnd.tag:
            lines.append("")
        else:
            stack.extend(reversed(el))
    return lines


class _LineEnd:
    """Marker pushed after a nested paragraph so the text that follows starts a new line."""

    tag = "\x00line-end"


def _symbol(el: etree._Element) -> str:
    try:
        code = int(el.get(_w("char"), ""), 16)
    except ValueError:
        return ""
    if 0xF000 <= code <= 0xF0FF:  # symbol fonts map into the private use area
        code -= 0xF000
    return chr(code) if 0x20 <= code < 0x110000 else ""


class _Walk:
    """One `etree.iterwalk` over a body: blocks as `_Body.blocks` makes them, without visiting runs and properties.

    An element is read only where the general walk reaches it (through the same wrappers); its
    subtree is otherwise passed over, as is the rest of a paragraph or cell handed to the general walk.
    """

    def __init__(self, body_reader: _Body, body: etree._Element):
        self.reader, self.body = body_reader, body
        self.out: list[Block] = []
        self.passing: etree._Element | None = None  # events up to this element's end are passed over
        self.paragraph: etree._Element | None = None
        self.lines: list[str] = []  # of the paragraph being read: whole lines, then the parts of the last one
        self.parts: list[str] = []
        self.in_props = 0  # depth inside the paragraph's w:pPr
        self.table: etree._Element | None = None  # the body-level table being read
        self.cells: list[GridCell] = []
        self.open_cells: dict[int, int] = {}
        self.row: etree._Element | None = None
        self.r = -1
        self.col = 0
        self.cell: etree._Element | None = None
        self.cell_lines: list[str] = []
        self.cell_text: str | None = None  # the whole text, when the general walk read the cell
        self.span: int | None = None
        self.merge: etree._Element | None = None

    def run(self) -> list[Block]:
        for event, el in etree.iterwalk(self.body, events=("start", "end"), tag=_WALKED):
            if self.passing is not None:
                if el is not self.passing:
                    continue
                self.passing = None  # its end: closed as usual
            if event == "start":
                self.start(el)
            else:
                self.end(el)
        return self.out

    def start(self, el: etree._Element) -> None:
        tag = el.tag
        if self.paragraph is not None:
            if self.in_props:
                return
            if tag == _T:
                if el.text:
                    self.parts.append(el.text)
            elif tag == _TAB or tag == _PTAB:
                self.parts.append("\t")
            elif tag in _BREAKS:
                self.lines.append("".join(self.parts))
                self.parts = []
            elif tag == _NO_BREAK_HYPHEN:
                self.parts.append("-")
            elif tag == _SYM:
                self.parts.append(_symbol(el))
            elif tag == _PPR:
                self.in_props = 1
            elif tag == _P or tag == _TBL or tag in _UNREAD:  # a text box, deleted or fallback text: the general walk reads it
                self.lines, self.parts = paragraph_lines(self.paragraph), None
                self.passing = self.paragraph
            return
        if tag == _P:
            if self.reached(el):
                self.paragraph, self.lines, self.parts = el, [], []
            else:
                self.passing = el
        elif tag == _TBL:
            if self.table is None and self.reached(el):
                self.table, self.cells, self.open_cells, self.r = el, [], {}, -1
            elif self.cell is not None and _under(el, self.cell, _WRAPPERS):  # a table in a cell: flattened by the general walk
                self.cell_text = self.reader.cell_text(self.cell)
                self.passing = self.cell
            else:
                self.passing = el
        elif tag == _TR:
            if self.table is not None and self.row is None and _under(el, self.table, _ROW_WRAPPERS):
                self.row, self.r = el, self.r + 1
                self.col = _int(el.find(f"{_TRPR}/{_w('gridBefore')}"), 0)
            else:
                self.passing = el
        elif tag == _TC:
            if self.row is not None and self.cell is None and _under(el, self.row, _ROW_WRAPPERS):
                self.cell, self.cell_lines, self.cell_text, self.span, self.merge = el, [], None, None, None
            else:
                self.passing = el
        elif tag == _ALT_CHUNK:
            if self.table is None and _under(el, self.body, _WRAPPERS):
                self.reader.alt_chunks += 1
        elif tag == _GRID_SPAN or tag == _VMERGE:
            props = el.getparent()
            if self.cell is not None and props.tag == _TCPR and props.getparent() is self.cell:
                if tag == _GRID_SPAN and self.span is None:
                    self.span = max(1, _int(el, 1))
                elif tag == _VMERGE and self.merge is None:
                    self.merge = el

    def end(self, el: etree._Element) -> None:
        if el is self.paragraph:
            if self.parts is not None:
                self.lines.append("".join(self.parts))
            self.paragraph, self.in_props = None, 0
            if self.cell is not None:
                self.cell_lines.extend(self.lines)
            else:
                self.reader.n_paragraphs += 1
                where = Where(line=self.reader.n_paragraphs)
                self.out.extend(Paragraph(line, where) for line in self.lines)
        elif self.paragraph is not None:
            if el.tag == _PPR:
                self.in_props = 0
        elif el is self.cell:
            self.end_cell()
        elif el is self.row:
            self.row = None
        elif el is self.table:
            self.table = None
            if self.cells:
                self.out.append(Grid(self.cells, Where(table=self.reader.n_grids)))
                self.reader.n_grids += 1

    def end_cell(self) -> None:
        """As `_Body.grid` places a cell: at its column, or extending the cell above that it continues."""
        text = self.cell_text if self.cell_text is not None else "\n".join(self.cell_lines).strip()
        span = self.span or 1
        _place_cell(self.cells, self.open_cells, text, self.r, self.col, span, self.merge, self.reader.n_grids)
        self.col += span
        self.cell = None

    def reached(self, el: etree._Element) -> bool:
        """A paragraph or table the general walk reads: in the body or a cell, through wrappers only."""
        return _under(el, self.cell if self.cell is not None else (None if self.table is not None else self.body), _WRAPPERS)


def _place_cell(cells: list[GridCell], open_cells: dict[int, int], text: str, r: int, col: int, span: int,
                merge: etree._Element | None, table: int) -> None:  # fmt: skip
    """A cell at row `r`, column `col`: a vMerge continue extends the cell above it (its text joined below),
    any other starts a cell that a later vMerge in its column may continue."""
    above = open_cells.get(col)
    continues = merge is not None and merge.get(_w("val"), "continue") == "continue"
    if continues and above is not None and cells[above].row + cells[above].rowspan == r:
        cell = cells[above]
        merged_text = "\n".join(t for t in (cell.text, text) if t)
        cells[above] = GridCell(cell.row, cell.col, merged_text, cell.rowspan + 1, cell.colspan, cell.where)
    else:
        open_cells[col] = len(cells)
        cells.append(GridCell(r, col, text, 1, span, Where(table=table, row=r, col=col)))


def _under(el: etree._Element, top: etree._Element | None, through: set[str]) -> bool:
    """Whether `el` lies under `top` with only elements of `through` between them."""
    if top is None:
        return False
    parent = el.getparent()
    while parent is not top:
        if parent is None or parent.tag not in through:
            return False
        parent = parent.getparent()
    return True
