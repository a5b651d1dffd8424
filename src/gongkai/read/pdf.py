"""PDF → Document: text lines as Paragraphs, ruled tables as Grids, with page + bbox.

One pass with pypdfium2 per page (its words with boxes — a word drawn by one text object is one
piece, any other is read character by character — and the page's path objects for the ruling
lines); tables are rebuilt from the rules by `grid_from_lines`, which is ~10× faster
than a pdfminer/pdfplumber pass and sees the same drawing objects. Pages without a text
layer go to OCR. Boxes are in PDF points, y downwards, in the page's displayed orientation.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import re
from dataclasses import dataclass, field, replace

import pypdfium2 as pdfium
from pypdfium2 import raw

from gongkai import progress
from gongkai.document import Block, Document, Grid, GridCell, Paragraph, Where
from gongkai.errors import UnreadableError
from gongkai.read.grid_from_lines import (
    GridSettings,
    Piece,
    Rule,
    RuledCell,
    RuledTable,
    cell_text,
    find_tables,
    group_lines,
    join_cell_lines,
    join_line,
    wrapped_number,
)

SETTINGS = GridSettings()
MAX_PAGES = 2000  # a report has a handful; more is a hostile or wrong file
MAX_OCR_PAGES = 100  # scanned pages read with OCR
MARGIN = 0.1  # top/bottom share of a page where running heads and page numbers live
EDGE_TOL = 4.0  # points: column edges this close are the same edge across a page break
CUT = "可能被分页截断（下一页表格的列与本页对不上，无法确定它与下一页首行的数字是否同属一个数）"
SPILLED = "可能未印完（格内折行的数字在页末被截断，下一页开头有一行数字在表格之外）"
OCR_DPI = 200



def _unchecked(fn, restype=ctypes.c_int):
    """A pdfium function without ctypes' per-call argument conversion, which is half the cost of a call.

    For the calls made once per character or path segment. Callers pass exact C values:
    handles as pdfium returned them, Python ints, and `ctypes.byref` pointers.
    """
    out = type(fn)(ctypes.cast(fn, ctypes.c_void_p).value)
    out.restype = restype
    return out


_GET_CHAR_BOX = _unchecked(raw.FPDFText_GetCharBox)
_GET_LOOSE_CHAR_BOX = _unchecked(raw.FPDFText_GetLooseCharBox)
_COUNT_RECTS = _unchecked(raw.FPDFText_CountRects)
_GET_RECT = _unchecked(raw.FPDFText_GetRect)
_GET_CHAR_ANGLE = _unchecked(raw.FPDFText_GetCharAngle, ctypes.c_float)
_GET_PAGE_OBJECT = _unchecked(raw.FPDFPage_GetObject, raw.FPDFPage_GetObject.restype)
_GET_OBJECT_TYPE = _unchecked(raw.FPDFPageObj_GetType)
_GET_SEGMENT_POINT = _unchecked(raw.FPDFPathSegment_GetPoint)
_GET_SEGMENT_TYPE = _unchecked(raw.FPDFPathSegment_GetType)
_GET_SEGMENT_CLOSE = _unchecked(raw.FPDFPathSegment_GetClose)
_GET_SEGMENT = _unchecked(raw.FPDFPath_GetPathSegment, raw.FPDFPath_GetPathSegment.restype)
_COUNT_SEGMENTS = _unchecked(raw.FPDFPath_CountSegments)
_GET_DRAW_MODE = _unchecked(raw.FPDFPath_GetDrawMode)
_GET_STROKE_COLOR = _unchecked(raw.FPDFPageObj_GetStrokeColor)
_GET_FILL_COLOR = _unchecked(raw.FPDFPageObj_GetFillColor)
_GET_MATRIX = _unchecked(raw.FPDFPageObj_GetMatrix)

_PAGE_NUMBER = re.compile(
    r"^[\s\-—–_·•]*(第\s*)?[\d一二三四五六七八九十]+(\s*页)?([\s,，/／]*(共\s*)?\d+\s*页?)?[\s\-—–_·•]*$"
)


# ── what one page yields before the document is assembled ──────────────────


@dataclass(slots=True)
class _Line:
    text: str
    box: tuple[float, float, float, float]
    confidence: float | None = None


@dataclass(slots=True)
class _Part:
    """One page's piece of a table (tables split by page breaks have several)."""

    page: int
    table: RuledTable
    texts: dict[int, str] = field(default_factory=dict)  # id(cell) → text
    wrapped: set[int] = field(default_factory=set)  # id(cell) of cells holding a number wrapped over lines
    cut: set[int] = field(default_factory=set)  # id(cell) of cells a page break may have cut, the parts not being joinable
    spilled: set[int] = field(default_factory=set)  # id(cell) of wrapped numbers whose rest may open the next page outside any table


@dataclass(slots=True)
class _Page:
    number: int
    height: float
    items: list[_Line | _Part | Block]  # in reading order; Blocks come ready-made from OCR


def read(data: bytes) -> Document:
    """Read a PDF; raises UnreadableError when encrypted, corrupt or empty."""
    pdf = _open(data)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise UnreadableError("PDF 没有页面")
        if n_pages > MAX_PAGES:
            raise UnreadableError(f"PDF 页数过多（{n_pages} 页，上限 {MAX_PAGES}）")
        pages: list[_Page] = []
        scanned: list[int] = []
        for index in range(n_pages):
            try:
                page = pdf[index]
            except pdfium.PdfiumError:
                raise UnreadableError(f"PDF 第 {index + 1} 页已损坏，无法读取") from None
            try:
                read_page = _read_page(page, index + 1)
                if read_page is None:
                    scanned.append(index + 1)
                    if len(scanned) > MAX_OCR_PAGES:  # seconds of OCR each: thousands would never end
                        raise UnreadableError(f"PDF 中没有文字层的页面过多（超过 {MAX_OCR_PAGES} 页）")
                    progress.recognising(len(scanned))  # seconds a page: the guard gives the document more time
                    read_page = _ocr_page(page, index + 1)
                    progress.pages_done(index + 1, n_pages)  # someone may be waiting
                pages.append(read_page)
            finally:
                page.close()
    finally:
        pdf.close()
    notes = []
    if scanned:
        which = "全部页面" if len(scanned) == n_pages else "第 " + "、".join(map(str, scanned)) + " 页"
        notes.append(f"{which}没有文字层，已用 OCR 识别，数字可能有误")
    _mark_spilled_numbers(pages)
    _drop_running_heads(pages)
    return Document(blocks=_assemble(pages), format="pdf", pages=n_pages, notes=notes)


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)  # pdfium tries the empty user password itself
    except pdfium.PdfiumError as exc:
        if exc.err_code == raw.FPDF_ERR_PASSWORD:
            raise UnreadableError("PDF 已加密") from None
        if exc.err_code == raw.FPDF_ERR_SECURITY:
            raise UnreadableError("PDF 使用了不支持的加密方式") from None
        raise UnreadableError("PDF 文件已损坏，无法打开") from None


# ── one page ─────────────────────────────────────────────────────────────────


class _Frame:
    """Maps PDF user space (y up) to the upright page (y down): turned so its text reads left to right."""

    def __init__(self, page: pdfium.PdfPage, rotation: int | None = None):
        left, bottom, right, top = page.get_cropbox()
        self.left, self.top = left, top
        self.w, self.h = right - left, top - bottom
        self.rotation = (page.get_rotation() if rotation is None else rotation) % 360
        self.height = self.w if self.rotation in (90, 270) else self.h

    def point(self, x: float, y: float) -> tuple[float, float]:
        u, t = x - self.left, self.top - y
        if self.rotation == 90:
            return self.h - t, u
        if self.rotation == 180:
            return self.w - u, self.h - t
        if self.rotation == 270:
            return t, self.w - u
        return u, t

    def box(self, left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        (ax, ay), (bx, by) = self.point(left, bottom), self.point(right, top)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _read_page(page: pdfium.PdfPage, number: int) -> _Page | None:
    """Lines and table parts of a page in reading order; None when the page has no text layer."""
    textpage = page.get_textpage()
    try:
        layer = _TextLayer(textpage.raw, page)
        pieces = layer.pieces()
        if not pieces:
            return None
        frame = layer.frame
        rules = _rules(page, frame)
        tables = find_tables(rules, SETTINGS) if _could_be_table(rules) else []
        if tables:
            pieces = layer.split_straddling(pieces, tables)
    finally:
        textpage.close()
    free = _place(pieces, tables) if tables else pieces
    items: list[_Line | _Part] = [_Line(join_line(line), _union(line)) for line in group_lines(free)]
    for table in tables:
        part = _Part(number, table)
        for c in table.cells:
            joined = wrapped_number(c.pieces) if len(c.pieces) > 1 else None
            part.texts[id(c)] = joined if joined is not None else cell_text(c.pieces)
            if joined is not None:
                part.wrapped.add(id(c))
        items.append(part)
    items.sort(key=lambda it: it.box[1] if isinstance(it, _Line) else it.table.ys[0])
    return _Page(number, frame.height, items)


_VISIBLE = re.compile(r"[^\x00-\x20\xa0\u3000\ufffe\uffff]+")  # runs of characters that leave ink
_GAPS = frozenset(" \xa0\u3000")  # pdfium marks word gaps with (generated) spaces
_VOTES = 400  # characters whose direction decides how the page is read
_EDGE_SLACK = 1.0  # points a run may poke past its cell's edge and still be inside it


class _TextLayer:
    """A page's text as pieces on the upright page, numbered by their first character's rank in the text.

    pdfium separates words and lines in its text with generated spaces and line breaks, so a
    run of visible characters between two separators is one word on one line. A run drawn by
    one text object (pdfium's rectangle count for it is 1) whose ink starts at its first
    character and ends at its last is one piece, its box built from the boxes of those two
    characters. Every other run (several text objects, glyphs out of order, turned pages) is
    read character by character, and so is a run that crosses a table rule
    (`split_straddling`). Box calls are the reader's hot loop: a run costs six, a character two.
    """

    def __init__(self, handle, page: pdfium.PdfPage):
        self.handle = handle
        self.text = _page_text(handle)
        self.runs = [m.span() for m in _VISIBLE.finditer(self.text)]
        # /Rotate says how the page is shown; the text's own direction says how it is read
        self.frame = _Frame(page, _text_rotation(handle, self.runs))
        self._starts: dict[int, int] = {}  # id(piece) → the text index of its first character, for runs
        # out-parameters of the box calls, read back through memoryviews (indexing a ctypes array is slow)
        tight, loose, rect = (ctypes.c_double * 4)(), (ctypes.c_float * 4)(), (ctypes.c_double * 4)()
        self._p_tight = tuple(ctypes.byref(tight, 8 * k) for k in range(4))
        self._p_loose = ctypes.byref(loose)
        self._p_rect = tuple(ctypes.byref(rect, 8 * k) for k in range(4))
        self._tight = memoryview(tight).cast("B").cast("d")  # left, right, bottom, top
        self._loose = memoryview(loose).cast("B").cast("f")  # left, top, right, bottom
        self._rect = memoryview(rect).cast("B").cast("d")  # left, top, right, bottom

    def pieces(self) -> list[Piece]:
        text, out = self.text, []
        upright = self.frame.rotation == 0
        order, last_end = 0, 0
        for start, end in self.runs:
            gap = any(ch in _GAPS for ch in text[last_end:start])
            last_end = end
            run = self._run(start, end, order, gap) if upright and end - start > 1 else None
            if run is not None:
                out.append(run)
            else:
                self._characters(start, end, order, gap, out)
            order += end - start
        return out

    def split_straddling(self, pieces: list[Piece], tables: list[RuledTable]) -> list[Piece]:
        """Runs that cross a table's rule replaced by their characters, so each lands in its own cell."""
        out: list[Piece] = []
        for piece in pieces:
            start = self._starts.get(id(piece))
            if start is not None and _straddles(piece.box, tables):
                self._characters(start, start + len(piece.text), piece.order, piece.gap_before, out)
            else:
                out.append(piece)
        return out

    def _boxes(self, i: int) -> tuple[float, float, float, float, tuple[float, float, float, float] | None] | None:
        """Character i's tight box (left, right, bottom, top) and its loose box when pdfium gets that one right."""
        if not _GET_CHAR_BOX(self.handle, i, *self._p_tight):
            return None
        l, r, b, t = self._tight
        loose = None
        if _GET_LOOSE_CHAR_BOX(self.handle, i, self._p_loose):
            ll, lt, lr, lb = self._loose
            if _loose_fits(l, r, b, t, ll, lr, lb, lt):
                loose = (ll, lr, lb, lt)
        return l, r, b, t, loose

    def _piece(self, text: str, l: float, r: float, b: float, t: float, order: int, gap: bool) -> Piece:
        frame = self.frame
        if frame.rotation == 0 and l <= r and b <= t:
            top, bottom = frame.top - t, frame.top - b
            return Piece(text, (l - frame.left, top, r - frame.left, bottom), None, bottom - top, order, gap)
        box = frame.box(l, b, r, t)
        return Piece(text, box, None, box[3] - box[1], order, gap)

    def _characters(self, start: int, end: int, order: int, gap: bool, out: list[Piece]) -> None:
        """Each character of text[start:end] as a piece: its loose box when pdfium gets it right, else its tight box.

        The reader's hot loop for pages drawn a character at a time: the work of `_boxes` and
        `_piece` written out in the loop, which halves its cost (measured on Hongze, one text
        object per character); a change to either belongs here too.
        """
        handle, text, frame = self.handle, self.text, self.frame
        get_box, get_loose = _GET_CHAR_BOX, _GET_LOOSE_CHAR_BOX
        p_left, p_right, p_bottom, p_top = self._p_tight
        p_loose, tight, loose = self._p_loose, self._tight, self._loose
        upright, x0, y0 = frame.rotation == 0, frame.left, frame.top
        append = out.append
        for i in range(start, end):
            if not get_box(handle, i, p_left, p_right, p_bottom, p_top):
                continue
            l, r, b, t = tight
            if get_loose(handle, i, p_loose):
                ll, lt, lr, lb = loose
                if _loose_fits(l, r, b, t, ll, lr, lb, lt):
                    l, b, r, t = ll, lb, lr, lt
            if upright and l <= r and b <= t:
                top, bottom = y0 - t, y0 - b
                append(Piece(text[i], (l - x0, top, r - x0, bottom), None, bottom - top, order + i - start, gap and i == start))
            else:
                box = frame.box(l, b, r, t)
                append(Piece(text[i], box, None, box[3] - box[1], order + i - start, gap and i == start))

    def _run(self, start: int, end: int, order: int, gap: bool) -> Piece | None:
        """text[start:end] as one piece, or None when it must be read character by character."""
        if _COUNT_RECTS(self.handle, start, end - start) != 1 or not _GET_RECT(self.handle, 0, *self._p_rect):
            return None
        left, top, right, bottom = self._rect
        first, last = self._boxes(start), self._boxes(end - 1)
        if first is None or last is None or abs(left - first[0]) > 0.01 or abs(right - last[1]) > 0.01:
            return None  # the ink does not run from the first character to the last: glyphs out of order
        if first[4] is not None and last[4] is not None:
            (l, _, b0, t0), (_, r, b1, t1) = first[4], last[4]
            piece = self._piece(self.text[start:end], l, r, min(b0, b1, bottom), max(t0, t1, top), order, gap)
        else:
            piece = self._piece(self.text[start:end], left, right, bottom, top, order, gap)
        self._starts[id(piece)] = start
        return piece


def _loose_fits(l: float, r: float, b: float, t: float, ll: float, lr: float, lb: float, lt: float) -> bool:
    """Does the loose (em) box sit around the glyph's ink? pdfium gets it wrong for some fonts (e.g. vertical labels)."""
    return abs((ll + lr) - (l + r)) / 2 <= 0.45 * (lr - ll) and abs((lb + lt) - (b + t)) / 2 <= 0.45 * (lt - lb)


def _straddles(box: tuple[float, float, float, float], tables: list[RuledTable]) -> bool:
    """Does the box reach over a rule of a table (out of the cell under its centre, or over the table's edge)?"""
    x0, y0, x1, y1 = box
    for table in tables:
        tx0, ty0, tx1, ty1 = table.box
        if x1 <= tx0 or x0 >= tx1 or y1 <= ty0 or y0 >= ty1:
            continue
        cell = table.locate((x0 + x1) / 2, (y0 + y1) / 2)
        if cell is None:
            return True
        cx0, cy0, cx1, cy1 = cell.box
        slack = _EDGE_SLACK
        return x0 < cx0 - slack or x1 > cx1 + slack or y0 < cy0 - slack or y1 > cy1 + slack
    return False


def _text_rotation(handle, runs: list[tuple[int, int]]) -> int:
    """The page's text direction (0, 90, 180, 270 clockwise): a vote of its first characters, a word at a time.

    A word (a run between pdfium's separators) is read in one direction: its first character
    casts the votes of all its characters.
    """
    votes = [0, 0, 0, 0]
    get_angle = _GET_CHAR_ANGLE
    majority = min(sum(end - start for start, end in runs), _VOTES) // 2 + 1
    cast = 0
    for start, end in runs:
        weight = min(end - start, _VOTES - cast)
        direction = round(-math.degrees(get_angle(handle, start)) / 90) % 4  # pdfium: clockwise
        votes[direction] += weight
        cast += weight
        if votes[direction] >= majority or cast >= _VOTES:  # the votes still to come cannot change the winner
            break
    return 90 * votes.index(max(votes))


def _page_text(handle) -> str:
    """The page's characters, one per character index: one call, or one per character when pdfium's text differs."""
    n = raw.FPDFText_CountChars(handle)
    if n <= 0:
        return ""
    buffer = (ctypes.c_ushort * (n + 1))()
    written = raw.FPDFText_GetText(handle, 0, n, buffer)
    text = bytes(buffer)[: 2 * max(written - 1, 0)].decode("utf-16-le", errors="surrogatepass")
    if len(text) == n:
        return text
    # control characters are left out of pdfium's text, so its indices no longer match the characters'
    return "".join(chr(raw.FPDFText_GetUnicode(handle, i)) for i in range(n))


def _place(pieces: list[Piece], tables: list[RuledTable]) -> list[Piece]:
    """Each piece put into the table cell under its centre; the pieces outside every table returned."""
    free: list[Piece] = []
    spans = [(t.xs[0], t.xs[-1], t.ys[0], t.ys[-1], t) for t in tables]
    for piece in pieces:
        x0, y0, x1, y1 = piece.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        for left, right, top, bottom, table in spans:
            if left <= cx <= right and top <= cy <= bottom:
                table.cell_at(cx, cy).pieces.append(piece)
                break
        else:
            free.append(piece)
    return free


def _could_be_table(rules: list[Rule]) -> bool:
    return sum(r.horizontal for r in rules) >= 2 and sum(not r.horizontal for r in rules) >= 2


def _rules(page: pdfium.PdfPage, frame: _Frame) -> list[Rule]:
    """Visible horizontal/vertical rules drawn on the page (strokes and hairline-thin fills)."""
    out: list[Rule] = []
    identity = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    get_object, get_type, path, form = _GET_PAGE_OBJECT, _GET_OBJECT_TYPE, raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM
    buffers = _PathBuffers()
    handle = page.raw
    for index in reversed(range(raw.FPDFPage_CountObjects(handle))):  # last drawn first, as before
        obj = get_object(handle, index)
        kind = get_type(obj)
        if kind == path:
            out.extend(_path_rules(obj, identity, frame, buffers))
        elif kind == form:
            out.extend(_form_rules(obj, identity, frame, buffers))
    return out


def _form_rules(form_obj, parent: tuple[float, ...], frame: _Frame, buffers: _PathBuffers) -> list[Rule]:
    """The rules drawn inside a form XObject (and the forms it contains)."""
    out: list[Rule] = []
    stack = [(form_obj, parent)]
    while stack:
        obj, parent = stack.pop()
        kind = _GET_OBJECT_TYPE(obj)
        if kind == raw.FPDF_PAGEOBJ_FORM:
            matrix = _compose(_matrix(obj, buffers), parent)
            stack.extend((raw.FPDFFormObj_GetObject(obj, i), matrix) for i in range(raw.FPDFFormObj_CountObjects(obj)))
        elif kind == raw.FPDF_PAGEOBJ_PATH:
            out.extend(_path_rules(obj, parent, frame, buffers))
    return out


class _PathBuffers:
    """ctypes out-parameters reused for every path object of a page, with the pointers the unchecked calls take."""

    def __init__(self):
        self.matrix = raw.FS_MATRIX()
        self.p_matrix = ctypes.byref(self.matrix)
        self.fill_mode, self.stroke = ctypes.c_int(), ctypes.c_int()
        self.p_modes = ctypes.byref(self.fill_mode), ctypes.byref(self.stroke)
        self.rgba = (ctypes.c_uint * 4)()
        self.p_rgba = tuple(ctypes.byref(self.rgba, 4 * k) for k in range(4))
        self.xy = (ctypes.c_float * 2)()
        self.p_xy = ctypes.byref(self.xy), ctypes.byref(self.xy, 4)


def _matrix(obj, buffers: _PathBuffers) -> tuple[float, ...]:
    if not _GET_MATRIX(obj, buffers.p_matrix):
        return (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    m = buffers.matrix
    return (m.a, m.b, m.c, m.d, m.e, m.f)


def _compose(inner: tuple[float, ...], outer: tuple[float, ...]) -> tuple[float, ...]:
    """The matrix applying `inner` first, then `outer` (PDF row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _is_light(obj, getter, buffers: _PathBuffers) -> bool:
    if not getter(obj, *buffers.p_rgba):
        return False
    r, g, b, a = buffers.rgba
    return a < 40 or min(r, g, b) > 200


def _path_rules(obj, parent: tuple[float, ...], frame: _Frame, buffers: _PathBuffers) -> list[Rule]:
    """The rules one path draws; `parent` is the matrix of the forms around it."""
    if not _GET_DRAW_MODE(obj, *buffers.p_modes):
        return []
    stroked = bool(buffers.stroke.value) and not _is_light(obj, _GET_STROKE_COLOR, buffers)
    filled = buffers.fill_mode.value != raw.FPDF_FILLMODE_NONE and not _is_light(obj, _GET_FILL_COLOR, buffers)
    if not (stroked or filled):
        return []
    a, b, c, d, e, f = _compose(_matrix(obj, buffers), parent)
    upright, left, top, point_of = frame.rotation == 0, frame.left, frame.top, frame.point
    get_segment, get_point, get_kind, get_close = _GET_SEGMENT, _GET_SEGMENT_POINT, _GET_SEGMENT_TYPE, _GET_SEGMENT_CLOSE
    move_to, line_to = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_LINETO
    subpaths: list[list[tuple[float, float]]] = []
    p_x, p_y = buffers.p_xy
    with memoryview(buffers.xy).cast("B").cast("f") as xy:
        for i in range(_COUNT_SEGMENTS(obj)):
            segment = get_segment(obj, i)
            if not get_point(segment, p_x, p_y):
                continue
            px, py = xy
            ux, uy = a * px + c * py + e, b * px + d * py + f
            point = (ux - left, top - uy) if upright else point_of(ux, uy)
            kind = get_kind(segment)
            if kind == move_to or not subpaths:
                subpaths.append([point])
            elif kind == line_to:
                subpaths[-1].append(point)
            else:  # a curve: not a rule; break the run so no false straight edge is made
                subpaths.append([point])
            if get_close(segment):
                subpaths[-1].append(subpaths[-1][0])
    out: list[Rule] = []
    for points in subpaths:
        if stroked:
            out.extend(_straight_edges(points))
        if filled and len(points) >= 3:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
            if y1 - y0 <= 3.0 and x1 - x0 > y1 - y0:
                out.append(Rule(True, (y0 + y1) / 2, x0, x1))
            elif x1 - x0 <= 3.0 and y1 - y0 > x1 - x0:
                out.append(Rule(False, (x0 + x1) / 2, y0, y1))
    return out


def _straight_edges(points: list[tuple[float, float]]) -> list[Rule]:
    out: list[Rule] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if abs(y1 - y0) <= 1.0 and abs(x1 - x0) > 1.0:
            out.append(Rule(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= 1.0 and abs(y1 - y0) > 1.0:
            out.append(Rule(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return out


def _union(pieces: list[Piece]) -> tuple[float, float, float, float]:
    x0s, tops, x1s, bottoms = zip(*[p.box for p in pieces])
    return min(x0s), min(tops), max(x1s), max(bottoms)


def _ocr_page(page: pdfium.PdfPage, number: int) -> _Page:
    """A page without a text layer: render it and read it with OCR; boxes back in points."""
    from gongkai.read.ocr import WORK_PIXELS, read_image_blocks

    width, height = page.get_size()
    # a page metres wide is rendered smaller, not into gigabytes of pixels
    scale = min(OCR_DPI / 72, (WORK_PIXELS / max(abs(width * height), 1.0)) ** 0.5)
    image = page.render(scale=scale, grayscale=True).to_pil()
    blocks = read_image_blocks(image, page=number, unit=1 / scale)
    return _Page(number, _Frame(page).height, list(blocks))


# ── the document: running heads out, split tables joined, provenance in ─────


def _item_text(item) -> str | None:
    if isinstance(item, _Line | Paragraph):
        return item.text
    return None


def _item_box(item):
    if isinstance(item, _Line):
        return item.box
    if isinstance(item, Paragraph):
        return item.where.bbox
    return None


def _mark_spilled_numbers(pages: list[_Page]) -> None:
    """A page ending with a table whose last row holds numbers wrapped over lines in narrow cells, and the next
    page opening with a line of numbers alone outside any table (LibreOffice carries the rest of a row that does
    not fit, unruled): the wrapped numbers under that line may have lost their last digits to the next page (6327
    printed 632 | 7), and the line would pass for a page number. Those cells are in doubt."""
    for before, after in zip(pages, pages[1:]):
        if not before.items or not after.items or after.number != before.number + 1:
            continue
        last, first = before.items[-1], after.items[0]
        if not isinstance(last, _Part) or not isinstance(first, _Line) or not re.fullmatch(r"[\d\s.,]+", first.text.strip()):
            continue
        bottom = len(last.table.ys) - 1
        under = [c for c in last.table.cells if c.row_end == bottom and c.box[2] > first.box[0] - EDGE_TOL and c.box[0] < first.box[2] + EDGE_TOL]
        if any(id(c) in last.wrapped for c in under):
            last.spilled.update(id(c) for c in under if _NUMBER.fullmatch(last.texts[id(c)]))


def _drop_running_heads(pages: list[_Page]) -> None:
    """Page numbers and running titles in the top/bottom margins are not content."""
    def in_margin(item, page: _Page) -> bool:
        box = _item_box(item)
        return box is not None and (box[3] <= page.height * MARGIN or box[1] >= page.height * (1 - MARGIN))

    counts: dict[str, int] = {}
    for page in pages:
        seen = {re.sub(r"\d+", "#", t.strip()) for it in page.items if in_margin(it, page) and (t := _item_text(it))}
        for key in seen:
            counts[key] = counts.get(key, 0) + 1
    repeated = {k for k, n in counts.items() if n >= 2 and n >= 0.5 * len(pages)}
    for page in pages:
        page.items = [
            it
            for it in page.items
            if not (
                in_margin(it, page)
                and (text := _item_text(it)) is not None
                and (_PAGE_NUMBER.match(text.strip()) or re.sub(r"\d+", "#", text.strip()) in repeated)
            )
        ]


def _continues(previous: list[_Part], part: _Part, pages: list[_Page]) -> bool:
    """`part` opens its page right after `previous` closed the page before, on the same columns."""
    return _follows(previous[-1], part, pages) and _same_columns(_edges(previous), part.table.xs)


def _follows(last: _Part, part: _Part, pages: list[_Page]) -> bool:
    """`part` opens its page right after `last` closed the page before, nothing between them."""
    if part.page != last.page + 1:
        return False
    prev_page = next(p for p in pages if p.number == last.page)
    this_page = next(p for p in pages if p.number == part.page)
    return prev_page.items[-1] is last and this_page.items[0] is part


def _mark_uncertain_breaks(tables: list[list[_Part]], pages: list[_Page]) -> None:
    """Two tables meeting at a page break, over the same width but on columns that do not correspond: if the
    second opens with what may be the rest of a cut row (no label of its own, or numbers only), the numbers on
    either side of the break may be pieces of one number, so they are in doubt rather than read as whole."""
    for before, after in zip(tables, tables[1:]):
        last, first = before[-1], after[0]
        if not _follows(last, first, pages):
            continue
        a, b = last.table.xs, first.table.xs
        tol = _edge_tolerance(a, b)
        if abs(a[0] - b[0]) > tol or abs(a[-1] - b[-1]) > tol:
            continue
        top = sorted((c for c in first.table.cells if c.row == 0), key=lambda c: c.col)
        texts = [first.texts[id(c)] for c in top]
        if not texts or (texts[0] and not any(_NUMBER.fullmatch(t) for t in texts)) or _LIST_MARK.match(texts[0]):
            continue  # a row with its own label and no numbers (a header): a new table
        bottom = [c for c in last.table.cells if c.row_end == len(last.table.ys) - 1]
        last.cut.update(id(c) for c in bottom if _NUMBER.fullmatch(last.texts[id(c)]))
        first.cut.update(id(c) for c in top if _NUMBER.fullmatch(first.texts[id(c)]))


def _edge_tolerance(a: list[float], b: list[float]) -> float:
    """How far apart two edges may be and still be one edge across a page break: a few points, or up to a
    fifth of the narrowest column, so that matched columns overlap by more than half their width."""
    narrowest = min(y - x for xs in (a, b) for x, y in zip(xs, xs[1:]))
    return max(EDGE_TOL, 0.2 * narrowest)


def _same_columns(a: list[float], b: list[float]) -> bool:
    """Two parts' column edges are one table's columns: every edge of one of them has its own edge in
    the other (one part may have merged columns the other splits), outer edges included."""
    tol = _edge_tolerance(a, b)
    if abs(a[0] - b[0]) > tol or abs(a[-1] - b[-1]) > tol:
        return False
    matched = {x: min(b, key=lambda y: abs(x - y)) for x in a}
    a_in_b = all(abs(x - y) <= tol for x, y in matched.items()) and len(set(matched.values())) == len(a)
    matched = {y: min(a, key=lambda x: abs(x - y)) for y in b}
    b_in_a = all(abs(x - y) <= tol for y, x in matched.items()) and len(set(matched.values())) == len(b)
    return a_in_b or b_in_a


def _edges(parts: list[_Part]) -> list[float]:
    """The column edges of a table's parts so far: the first part's, then each later part's own edges
    snapped onto an edge already there (a page's rules drift by a few points) or added."""
    xs = list(parts[0].table.xs)
    for part in parts[1:]:
        tol = _edge_tolerance(xs, part.table.xs)
        for x in part.table.xs:
            if min(abs(x - y) for y in xs) > tol:
                xs = sorted([*xs, x])
    return xs


def _repeated_header_rows(first: _Part, part: _Part) -> int:
    """How many top rows of `part` repeat the top rows of the table's first part."""
    def row_texts(p: _Part, row: int) -> list[str]:
        return [p.texts[id(c)] for c in sorted(p.table.cells, key=lambda c: c.col) if c.row == row]

    n = 0
    while n < min(len(first.table.ys), len(part.table.ys)) - 2 and row_texts(first, n) == row_texts(part, n) and any(row_texts(part, n)):
        n += 1
    return n


def _assemble(pages: list[_Page]) -> list[Block]:
    """Page items → blocks: lines become Paragraphs, table parts are joined across page breaks."""
    tables: list[list[_Part]] = []
    for page in pages:
        for item in page.items:
            if isinstance(item, _Part) and tables and _continues(tables[-1], item, pages):
                tables[-1].append(item)
            elif isinstance(item, _Part):
                tables.append([item])
    _mark_uncertain_breaks(tables, pages)
    first_parts = {id(parts[0]): parts for parts in tables}
    blocks: list[Block] = []
    line = 0
    for page in pages:
        for item in page.items:
            if isinstance(item, _Line):
                line += 1
                blocks.append(Paragraph(item.text, Where(line=line, page=page.number, bbox=_round(item.box)), item.confidence))
            elif isinstance(item, _Part):
                if id(item) in first_parts:
                    blocks.append(_grid(first_parts[id(item)], len([b for b in blocks if isinstance(b, Grid)])))
            elif isinstance(item, Paragraph):
                line += 1
                blocks.append(Paragraph(item.text, Where(line=line, page=item.where.page, bbox=item.where.bbox), item.confidence))
            elif isinstance(item, Grid):
                index = len([b for b in blocks if isinstance(b, Grid)])
                blocks.append(_renumber(item, index))
    return blocks


_TENTHS: dict[float, float] = {}  # round(v, 1) by v: cells share their edges, and round() is slow


def _round(box) -> tuple[float, float, float, float]:
    if len(_TENTHS) > 50_000:
        _TENTHS.clear()
    out = []
    for v in box:
        r = _TENTHS.get(v) if v and type(v) is float else None  # 0.0 == -0.0 and 1 == 1.0 share a key
        if r is None:
            r = round(v, 1)
            if v and type(v) is float:
                _TENTHS[v] = r
        out.append(r)
    return tuple(out)


def _renumber(grid: Grid, index: int) -> Grid:
    cells = [
        replace(c, where=Where(table=index, row=c.row, col=c.col, page=c.where.page, bbox=c.where.bbox))
        for c in grid.cells
    ]
    return Grid(cells, Where(table=index, page=grid.where.page, bbox=grid.where.bbox))


def _grid(parts: list[_Part], index: int) -> Grid:
    """One Grid from a table's parts: columns on the union of their x-edges, rows stacked."""
    xs = _edges(parts)

    nearest: dict[float, int] = {}

    def col(x: float) -> int:
        if x not in nearest:  # cells share their edges: each edge is looked up once
            nearest[x] = min(range(len(xs)), key=lambda i: abs(xs[i] - x))
        return nearest[x]

    placed: list[list] = []  # [row, col, rowspan, colspan, text, page, box, wrapped, doubt]
    offset = 0
    for k, part in enumerate(parts):
        skip = _repeated_header_rows(parts[0], part) if k else 0
        above: dict[tuple[int, int], list] = {}  # (col, col_end) → placed cell ending on the last row so far
        for cell in placed:
            if cell[0] + cell[2] == offset:
                above[(cell[1], cell[1] + cell[3])] = cell
        first = [c for c in part.table.cells if c.row <= skip < c.row_end]
        split = bool(above) and _is_split_row(first, part, above, col)
        shift = offset - skip - (1 if split else 0)
        for cell in sorted(part.table.cells, key=lambda c: (c.row, c.col)):
            if cell.row_end <= skip:
                continue
            text = part.texts[id(cell)]
            c0, c1 = col(cell.box[0]), col(cell.box[2])
            row = shift + max(cell.row, skip)
            rowspan = cell.row_end - max(cell.row, skip)
            over = above.get((c0, c1)) if cell.row <= skip else None
            if over is not None and split:
                if text.isdigit() and over[4].isdigit():
                    over[4], over[7] = over[4] + text, True  # a number the page break cut: '7' then '4' is 74
                else:
                    over[4] = join_cell_lines([over[4], text])  # the rest of a row the page break cut
                over[2] += rowspan - 1
                continue
            if over is not None and not text and _is_carried_label(over, cell):
                over[2] += rowspan  # the rest of a merged cell the page break cut
                continue
            doubt = CUT if id(cell) in part.cut else SPILLED if id(cell) in part.spilled else None
            placed.append([row, c0, rowspan, max(c1 - c0, 1), text, part.page, cell.box, id(cell) in part.wrapped, doubt])
        offset = shift + len(part.table.ys) - 1
    cells = [
        GridCell(r, c, text, rs, cs, Where(table=index, row=r, col=c, page=page, bbox=_round(box)), wrapped=wrapped, doubt=doubt)
        for r, c, rs, cs, text, page, box, wrapped, doubt in sorted(placed, key=lambda p: (p[0], p[1]))
    ]
    first_part = parts[0]
    return Grid(cells, Where(table=index, page=first_part.page, bbox=_round(first_part.table.box)))


_NUMBER = re.compile(r"[-+]?[\d,，.]+%?")
_LIST_MARK = re.compile(r"^\s*([（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+[、.．]|\d+\s*[.、．])")


def _is_split_row(first: list[RuledCell], part: _Part, above: dict, col) -> bool:
    """Does a continued table open with the tail of the row the page break cut?

    Yes when its texts sit under same-shaped cells with text and read as tails (not numbers,
    not a numbered label), and the cells under the numbers above are empty.
    """
    tails = numbers = 0
    label_ended = False  # a label cell above is not continued on the new page
    for cell in first:
        text = part.texts[id(cell)]
        over = above.get((col(cell.box[0]), col(cell.box[2])))
        if not text:
            label_ended = label_ended or (over is not None and bool(over[4]) and not _NUMBER.fullmatch(over[4]))
            continue
        if over is not None and text.isdigit() and over[4].isdigit():
            numbers += 1  # digits under digits: the rest of a number wrapped in its cell
            continue
        if over is None or not over[4] or _NUMBER.fullmatch(text) or _NUMBER.fullmatch(over[4]) or _LIST_MARK.match(text):
            return False
        tails += 1
    # a cut row of numbers: its own label ended on the page before (a new row would bring its own label)
    return (numbers == 0 and tails > 0) or (numbers > 0 and label_ended)


def _is_carried_label(above: list, cell: RuledCell) -> bool:
    """An empty cell at the top of a continued table belongs to the spanning label above it."""
    text = above[4]
    return above[2] > 1 or (cell.row_end - cell.row > 1 and bool(text) and not _NUMBER.fullmatch(text))
