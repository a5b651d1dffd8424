"""PDF → Document: text lines as Paragraphs, ruled tables as Grids, with page + bbox.

One pass with pypdfium2 per page (its words with boxes — a word drawn by one text object is one
piece, any other is read character by character — and the page's path objects for the ruling
lines); tables are rebuilt from the rules by `grid_from_lines`, which is ~10× faster
than a pdfminer/pdfplumber pass and sees the same drawing objects, and the pages are put together
by `page_layout` (shared with the OFD reader). Pages without a text
layer go to OCR. Boxes are in PDF points, y downwards, in the page's displayed orientation.
"""

from __future__ import annotations

import ctypes
import math
import re

import pypdfium2 as pdfium
from pypdfium2 import raw

from gongkai import progress
from gongkai.document import Document
from gongkai.errors import UnreadableError
from gongkai.read.grid_from_lines import GridSettings, Piece, Rule, RuledTable, find_tables, straight_edges, thin_fill
from gongkai.read.page_layout import Page, assemble, could_be_table, drop_running_heads, layout_page, mark_spilled_numbers, straddles

SETTINGS = GridSettings()
MAX_PAGES = 2000  # a report has a handful; more is a hostile or wrong file
MAX_OCR_PAGES = 100  # scanned pages read with OCR
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

def read(data: bytes) -> Document:
    """Read a PDF; raises UnreadableError when encrypted, corrupt or empty."""
    pdf = _open(data)
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise UnreadableError("PDF 没有页面")
        if n_pages > MAX_PAGES:
            raise UnreadableError(f"PDF 页数过多（{n_pages} 页，上限 {MAX_PAGES}）")
        pages: list[Page | None] = []
        scanned: list[int] = []
        for index in range(n_pages):
            page = _page(pdf, index)
            try:
                read_page = _read_page(page, index + 1)
                if read_page is None:
                    scanned.append(index + 1)
                    if len(scanned) > MAX_OCR_PAGES:  # seconds of OCR each: thousands would never end
                        raise UnreadableError(f"PDF 中没有文字层的页面过多（超过 {MAX_OCR_PAGES} 页）")
                pages.append(read_page)
            finally:
                page.close()
        if scanned:
            progress.recognising(len(scanned))  # seconds a page: the guard gives the document more time
            pages_done = n_pages - len(scanned)
            progress.pages_done(pages_done, n_pages)  # someone may be waiting
            for number, read_page in zip(scanned, _ocr_pages(pdf, scanned)):
                pages[number - 1] = read_page
                pages_done += 1
                progress.pages_done(pages_done, n_pages)
    finally:
        pdf.close()
    notes = []
    if scanned:
        which = "全部页面" if len(scanned) == n_pages else "第 " + "、".join(map(str, scanned)) + " 页"
        notes.append(f"{which}没有文字层，已用 OCR 识别，数字可能有误")
    mark_spilled_numbers(pages)
    drop_running_heads(pages)
    return Document(blocks=assemble(pages), format="pdf", pages=n_pages, notes=notes)


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


def _read_page(page: pdfium.PdfPage, number: int) -> Page | None:
    """Lines and table parts of a page in reading order; None when the page has no text layer."""
    textpage = page.get_textpage()
    try:
        layer = _TextLayer(textpage.raw, page)
        pieces = layer.pieces()
        if not pieces:
            return None
        frame = layer.frame
        rules = _rules(page, frame)
        tables = find_tables(rules, SETTINGS) if could_be_table(rules) else []
        if tables:
            pieces = layer.split_straddling(pieces, tables)
    finally:
        textpage.close()
    return layout_page(number, frame.height, pieces, tables)


_VISIBLE = re.compile(r"[^\x00-\x20\xa0\u3000\ufffe\uffff]+")  # runs of characters that leave ink
_GAPS = frozenset(" \xa0\u3000")  # pdfium marks word gaps with (generated) spaces
_VOTES = 400  # characters whose direction decides how the page is read


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
            if start is not None and straddles(piece.box, tables):
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
            out.extend(straight_edges(points))
        if filled and len(points) >= 3 and (rule := thin_fill(points)) is not None:
            out.append(rule)
    return out


def _page(pdf: pdfium.PdfDocument, index: int) -> pdfium.PdfPage:
    try:
        return pdf[index]
    except pdfium.PdfiumError:
        raise UnreadableError(f"PDF 第 {index + 1} 页已损坏，无法读取") from None


def _ocr_pages(pdf: pdfium.PdfDocument, numbers: list[int]):
    """The pages without a text layer read with OCR, in order, boxes back in points (several at once
    when cores are free: pdfium renders here, one page at a time, as the OCR asks for the next)."""
    from gongkai.read.ocr import read_pages

    heights: dict[int, float] = {}

    def rendered():
        for number in numbers:
            page = _page(pdf, number - 1)
            try:
                heights[number] = _Frame(page).height
                yield _ocr_image(page), number, 1 / _ocr_scale(page)
            finally:
                page.close()

    for number, blocks in zip(numbers, read_pages(rendered(), len(numbers))):
        yield Page(number, heights[number], list(blocks))


def _ocr_scale(page: pdfium.PdfPage) -> float:
    """Pixels per point to render a page for OCR: a page metres wide smaller, not into gigabytes of pixels."""
    from gongkai.read.ocr import WORK_PIXELS

    width, height = page.get_size()
    return min(OCR_DPI / 72, (WORK_PIXELS / max(abs(width * height), 1.0)) ** 0.5)


def _ocr_image(page: pdfium.PdfPage):
    return page.render(scale=_ocr_scale(page)).to_pil()  # in colour: a red seal is told from print by its colour
