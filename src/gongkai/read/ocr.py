"""Images and image-only PDF pages → Document, with rapidocr (models ship inside its wheel).

A page is binarised, deskewed, its ruling lines found from pixel runs, its tables rebuilt
by `grid_from_lines`, and the OCR text boxes placed in cells; the rest become Paragraphs.
Every block carries the confidence of its weakest text box, so a doubtful digit reaches
the checks as a finding instead of a guess. Boxes are in pixels of the deskewed page.
"""

from __future__ import annotations

import io
import os
import threading
import warnings

import numpy as np
from PIL import Image, ImageOps, ImageSequence

from gongkai.document import Block, Document, Grid, GridCell, Paragraph, Where
from gongkai.errors import UnreadableError
from gongkai.read.grid_from_lines import (
    GridSettings,
    Piece,
    Rule,
    RuledTable,
    cell_text,
    find_tables,
    group_lines,
    join_line,
)

MAX_PIXELS = 100_000_000  # refuse above this (a 20000×20000 image is 400 MP): decoding alone would take GBs
WORK_PIXELS = 12_000_000  # downscale above this (~A3 at 250 dpi); OCR gains nothing from more
MAX_FRAMES = 200
MAX_SKEW = 5.0  # degrees; larger rotations are not scanner skew
DPI = 200  # nominal resolution the pixel tolerances are tuned for
PAGE_RATIO = 1.414  # an A4 page's height over its width
STRIP_PAGES = 1.3  # a picture taller than this many pages is recognised a page at a time

_engine = None
_engine_lock = threading.Lock()


def _forget_engine() -> None:
    """A forked child must not use the parent's engine: onnxruntime's threads did not fork with it."""
    global _engine, _engine_lock
    _engine, _engine_lock = None, threading.Lock()


def engine_loaded() -> bool:
    """Has this process loaded the OCR engine (and with it onnxruntime's threads)?"""
    return _engine is not None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_engine)


def read(data: bytes) -> Document:
    """Read an image file (PNG, JPEG, TIFF — each frame a page, …) with OCR."""
    blocks: list[Block] = []
    pages = 0
    unread: list[int] = []
    for number, image in enumerate(_frames(data, unread), start=1):
        pages = number
        blocks.extend(read_image_blocks(image, page=number))
    if pages == 0:
        raise UnreadableError("图像没有可读的页面")
    if unread:
        note = f"图像共 {pages + unread[0]} 帧（页），只读取了前 {pages} 帧，其余 {unread[0]} 帧未读取"
        return Document(blocks=_number(blocks), format="image", pages=pages, notes=[note], partial=True)
    return Document(blocks=_number(blocks), format="image", pages=pages)


def _frames(data: bytes, unread: list[int]):
    """Each frame of the image, checked against the pixel cap before it is decoded; the number of
    frames past MAX_FRAMES is appended to `unread`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # Pillow's "Corrupt EXIF data" must not reach a user's terminal
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise UnreadableError(f"图像过大（{width}×{height} 像素，上限 {MAX_PIXELS // 1_000_000} 百万像素）")
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= MAX_FRAMES:
                    unread.append(_frame_count(image) - MAX_FRAMES)
                    break
                if frame.size[0] * frame.size[1] > MAX_PIXELS:
                    raise UnreadableError("图像过大")
                yield ImageOps.exif_transpose(_fit(frame)).convert("L")
    except UnreadableError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableError("图像过大") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise UnreadableError(f"图像已损坏或格式不支持（{type(exc).__name__}）") from None


def _frame_count(image: Image.Image) -> int:
    """Frames in the file (Pillow walks the frame headers, not the pixels)."""
    try:
        return image.n_frames
    except (OSError, ValueError, SyntaxError, EOFError, AttributeError):
        return MAX_FRAMES + 1  # at least one more than was read


def _fit(frame: Image.Image) -> Image.Image:
    """Frames over the working size are shrunk (JPEG decodes straight to the smaller size)."""
    width, height = frame.size
    if width * height <= WORK_PIXELS:
        return frame
    factor = (WORK_PIXELS / (width * height)) ** 0.5
    target = (max(1, int(width * factor)), max(1, int(height * factor)))
    if frame.format == "JPEG":
        frame.draft("L", target)
    return frame.convert("L").resize(target, Image.Resampling.LANCZOS) if frame.size != target else frame


def _number(blocks: list[Block]) -> list[Block]:
    """Global line numbers for Paragraphs and document-wide table numbers for Grids."""
    out: list[Block] = []
    line = table = 0
    for block in blocks:
        if isinstance(block, Paragraph):
            line += 1
            out.append(Paragraph(block.text, Where(line=line, page=block.where.page, bbox=block.where.bbox), block.confidence))
        else:
            cells = [
                GridCell(c.row, c.col, c.text, c.rowspan, c.colspan, Where(table=table, row=c.row, col=c.col, page=c.where.page, bbox=c.where.bbox), c.confidence)
                for c in block.cells
            ]
            out.append(Grid(cells, Where(table=table, page=block.where.page, bbox=block.where.bbox)))
            table += 1
    return out


# ── one page image ───────────────────────────────────────────────────────────


def read_image_blocks(image: Image.Image, *, page: int, unit: float = 1.0) -> list[Block]:
    """Blocks of one page image in reading order; boxes are multiplied by `unit` (e.g. px → pt)."""
    gray = image if image.mode == "L" else image.convert("L")
    ink = _binarise(np.asarray(gray))
    if not ink.any():
        return []  # a blank page: nothing to recognise (OCR would spend seconds finding nothing)
    angle = estimate_skew(ink)
    if abs(angle) >= 0.05:
        gray = gray.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
        ink = _binarise(np.asarray(gray))
    pixels = np.asarray(gray)
    scale = min(gray.size) / (8.27 * DPI)  # 1.0 for an A4 page at 200 dpi, upright or turned, and for a long picture as wide
    settings = _settings(scale)
    tables = find_tables(find_rules(ink, scale), settings)
    pieces = recognise(pixels)
    free: list[Piece] = []
    for piece in pieces:
        cell = next((c for t in tables if (c := t.locate(piece.cx, piece.cy)) is not None), None)
        (cell.pieces if cell is not None else free).append(piece)
    for table in tables:
        _read_empty_cells(table, pixels, ink)

    def box(b) -> tuple[float, float, float, float]:
        return tuple(round(v * unit, 1) for v in b)  # type: ignore[return-value]

    items: list[tuple[float, Block]] = []
    for line in group_lines(free):
        where = Where(page=page, bbox=box(_union(p.box for p in line)))
        items.append((line[0].box[1], Paragraph(join_line(line), where, _weakest(line))))
    for table in tables:
        cells = [
            GridCell(c.row, c.col, cell_text(c.pieces), c.row_end - c.row, c.col_end - c.col, Where(page=page, bbox=box(c.box)), _weakest(c.pieces))
            for c in table.cells
        ]
        items.append((table.ys[0], Grid(cells, Where(page=page, bbox=box(table.box)))))
    items.sort(key=lambda it: it[0])
    return [block for _, block in items]


def _settings(scale: float) -> GridSettings:
    px = DPI / 72 * scale  # pixels per point
    return GridSettings(snap=3.0 * px, min_band=5.0 * px, coverage=0.5, min_length=8.0 * px)


def _weakest(pieces: list[Piece]) -> float | None:
    scores = [p.confidence for p in pieces if p.confidence is not None]
    return round(min(scores), 3) if scores else None


def _union(boxes) -> tuple[float, float, float, float]:
    boxes = list(boxes)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _binarise(gray: np.ndarray) -> np.ndarray:
    """Ink mask by Otsu's threshold (kept within sane bounds for blank or dark pages)."""
    hist = np.bincount(gray.ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    weights = np.cumsum(hist)
    means = np.cumsum(hist * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (means[-1] * weights - means * total) ** 2 / (weights * (total - weights))
    if not np.isfinite(between).any():
        return np.zeros(gray.shape, dtype=bool)  # one flat colour: a blank page
    threshold = int(np.clip(np.nanargmax(np.where(np.isfinite(between), between, -1)), 90, 200))
    return gray < threshold


def estimate_skew(ink: np.ndarray) -> float:
    """Skew angle in degrees (counter-clockwise positive, as `Image.rotate` takes it).

    Text lines and rules make the row profile of the ink sharpest when they are level: we
    shear the ink points by each candidate angle and keep the angle with the peakiest profile.
    """
    step = max(1, int(max(ink.shape) / 1200))
    ys, xs = np.nonzero(ink[::step, ::step])
    if len(ys) < 200:
        return 0.0
    if len(ys) > 150_000:
        keep = np.random.default_rng(0).choice(len(ys), 150_000, replace=False)
        ys, xs = ys[keep], xs[keep]
    ys, xs = ys.astype(np.float64), xs.astype(np.float64) - xs.mean()

    def score(angle: float) -> float:
        shifted = np.round(ys + xs * np.tan(np.radians(angle))).astype(np.int64)
        shifted -= shifted.min()
        return float(np.square(np.bincount(shifted)).sum())

    coarse = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.25), key=score)
    fine = max(np.arange(coarse - 0.25, coarse + 0.25 + 1e-9, 0.05), key=score)
    return 0.0 if abs(fine) < 0.05 else -float(round(fine, 2))


def find_rules(ink: np.ndarray, scale: float = 1.0) -> list[Rule]:
    """Horizontal and vertical ruling lines: runs of ink much longer than any glyph stroke."""
    min_h = int(60 * scale)  # pixels at 200 dpi: ~2 CJK characters of body text
    min_v = int(40 * scale)
    rules: list[Rule] = []
    # bridge 1–2 px breaks and a pixel of residual skew before measuring runs
    horizontal = ink | np.roll(ink, 1, axis=1) | np.roll(ink, 2, axis=1)
    horizontal = horizontal | np.roll(horizontal, 1, axis=0)
    for row, start, end in _runs(horizontal, min_h):
        rules.append(Rule(True, float(row), float(start), float(end)))
    vertical = ink | np.roll(ink, 1, axis=0) | np.roll(ink, 2, axis=0)
    vertical = vertical | np.roll(vertical, 1, axis=1)
    for col, start, end in _runs(vertical.T, min_v):
        rules.append(Rule(False, float(col), float(start), float(end)))
    return rules


def _runs(mask: np.ndarray, min_length: int) -> list[tuple[int, int, int]]:
    """(row, start, end) of every run of True along each row at least `min_length` long."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = mask
    edges = np.diff(padded, axis=1)
    starts_r, starts_c = np.nonzero(edges == 1)
    _ends_r, ends_c = np.nonzero(edges == -1)
    lengths = ends_c - starts_c
    keep = lengths >= min_length
    return list(zip(starts_r[keep].tolist(), starts_c[keep].tolist(), ends_c[keep].tolist()))


# ── OCR ──────────────────────────────────────────────────────────────────────


def _ocr():
    """The rapidocr engine, loaded once per process (its ONNX models ship in the wheel)."""
    global _engine
    with _engine_lock:
        if _engine is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError:
                raise UnreadableError("未安装 OCR 组件（pip install 'gongkai[ocr]'），无法识别扫描件") from None
            # keep weak boxes: a doubtful "0" must reach the checks with its score, not vanish
            _engine = RapidOCR(text_score=0.0, use_cls=False, print_verbose=False)
        return _engine


def recognise(pixels: np.ndarray) -> list[Piece]:
    """Text boxes of a page image as pieces (axis-aligned boxes, confidence in 0–1).

    rapidocr shrinks an image until its long side is 2,000 px, so a long picture (a whole
    report posted as one image) is recognised in page-sized strips cut between text lines.
    """
    pieces: list[Piece] = []
    for top, bottom in _strips(pixels):
        result, _ = _ocr()(pixels[top:bottom], use_cls=False)
        for points, text, score in result or []:
            text = str(text).strip()
            if not text:
                continue
            xs, ys = [p[0] for p in points], [p[1] + top for p in points]
            box = (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
            pieces.append(Piece(text, box, confidence=float(score), size=box[3] - box[1]))
    return pieces


def _strips(pixels: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges no taller than ~an A4 page of the image's width, each cut at the least inked row near its end."""
    height, width = pixels.shape[:2]
    page = int(PAGE_RATIO * width)
    if height <= STRIP_PAGES * page:
        return [(0, height)]
    ink_per_row = (pixels < 128).sum(axis=1)
    out: list[tuple[int, int]] = []
    top = 0
    while height - top > STRIP_PAGES * page:
        lo, hi = top + int(0.8 * page), top + int(1.1 * page)
        cut = lo + int(np.argmin(ink_per_row[lo:hi]))
        out.append((top, cut))
        top = cut
    out.append((top, height))
    return out


def _read_empty_cells(table: RuledTable, pixels: np.ndarray, ink: np.ndarray) -> None:
    """A cell with ink but no detected text (a lone small digit, typically) is recognised directly."""
    crops: list[tuple[object, np.ndarray, tuple[float, float, float, float]]] = []
    for cell in table.cells:
        if cell.pieces:
            continue
        x0, y0, x1, y1 = (round(v) for v in cell.box)
        pad = max(3, int(0.12 * min(x1 - x0, y1 - y0)))  # stay clear of the rules
        inner = ink[y0 + pad : y1 - pad, x0 + pad : x1 - pad]
        if inner.size == 0 or inner.sum() < 12:
            continue
        rows, cols = np.nonzero(inner)
        top, bottom = y0 + pad + rows.min(), y0 + pad + rows.max() + 1
        left, right = x0 + pad + cols.min(), x0 + pad + cols.max() + 1
        margin = 4
        crop = pixels[max(0, top - margin) : bottom + margin, max(0, left - margin) : right + margin]
        crops.append((cell, crop, (float(left), float(top), float(right), float(bottom))))
    engine = _ocr()
    for cell, crop, box in crops:
        result, _ = engine(np.ascontiguousarray(crop), use_det=False, use_cls=False, use_rec=True)
        for text, score in result or []:
            text = str(text).strip()
            if text:
                cell.pieces.append(Piece(text, box, confidence=float(score), size=box[3] - box[1]))
