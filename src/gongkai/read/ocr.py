"""Images and image-only PDF pages → Document, with rapidocr (models ship inside its wheel).

A page is binarised, deskewed, its ruling lines found from pixel runs, its tables rebuilt
by `grid_from_lines`, and the OCR text boxes placed in cells; the rest become Paragraphs.
Every block carries the confidence of its weakest text box, so a doubtful digit reaches
the checks as a finding instead of a guess. Boxes are in pixels of the deskewed page.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
from PIL import Image, ImageOps, ImageSequence

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
    join_line,
    table_groups,
)

MAX_PIXELS = 100_000_000  # refuse above this (a 20000×20000 image is 400 MP): decoding alone would take GBs
WORK_PIXELS = 12_000_000  # downscale above this (~A3 at 250 dpi); OCR gains nothing from more
MAX_FRAMES = 200
MAX_SKEW = 5.0  # degrees; larger rotations are not scanner skew
DPI = 200  # nominal resolution the pixel tolerances are tuned for
PAGE_RATIO = 1.414  # an A4 page's height over its width

LINE = 29.0  # height of a line of 10.5 pt text at 200 dpi, in pixels
SPECK_PIXELS = 3  # ink components this small are noise
DET_SHORT_SIDE = 800  # text outside the tables is detected on the page shrunk to this short side
SURE = 0.95  # a character read with less than this has alternatives
ALTERNATIVE_FLOOR = 0.01  # a candidate less probable than this is no alternative
MAX_ALTERNATIVES = 8
SEAL_LEFT_IN = 0.5  # a reading of a crop with a seal's traces left in is at most this sure: in doubt
SEAL_GAP = 12.0  # lines: the longest stretch of a rule a seal may hide (a seal is 4 cm across)


def engine_loaded() -> bool:
    """Has this process loaded the OCR models (and with them onnxruntime's threads)?"""
    from gongkai.read import ocr_models

    return ocr_models.loaded()


def read(data: bytes) -> Document:
    """Read an image file (PNG, JPEG, TIFF — each frame a page, …) with OCR."""
    blocks: list[Block] = []
    pages = 0
    unread: list[int] = []
    total = pages_to_recognise(data)
    progress.recognising(total)  # seconds a page: the guard gives the document that much more time
    progress.pages_done(0, total)
    sizes: list[int] = []  # page-sized pieces of each frame read so far (a long picture is several)
    told, telling = [0], threading.Lock()  # pages read in parallel tell from their threads

    def frames():
        for number, image in enumerate(_frames(data, unread), start=1):
            sizes.append(_pages_in(image.size))
            yield image, number, 1.0

    def tell(frame: int, share: float) -> None:  # a long picture's pages done as its cells are read
        done = min(sum(sizes[: frame - 1]) + int(share * sizes[frame - 1]), total)
        with telling:
            if done > told[0]:
                told[0] = done
                progress.pages_done(done, total)

    for number, page_blocks in enumerate(read_pages(frames(), total, tell), start=1):
        pages = number
        blocks.extend(page_blocks)
        tell(number, 1.0)
    if pages == 0:
        raise UnreadableError("图像没有可读的页面")
    if unread:
        note = f"图像共 {pages + unread[0]} 帧（页），只读取了前 {pages} 帧，其余 {unread[0]} 帧未读取"
        return Document(blocks=_number(blocks), format="image", pages=pages, notes=[note], partial=True)
    return Document(blocks=_number(blocks), format="image", pages=pages)


def pages_to_recognise(data: bytes) -> int:
    """Page-sized pieces OCR will read: an image's frames (a long picture counts as the pages it is
    tall), or a PDF's pages without a text layer. Cheap: nothing is decoded or rendered."""
    from gongkai.read.sniff import sniff

    fmt = sniff(data)
    if fmt == "pdf":
        return _pdf_pages_without_text(data)
    if fmt != "image":
        return 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = Image.open(io.BytesIO(data))
            pages = 0
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= MAX_FRAMES:
                    break
                pages += _pages_in(frame.size)
            return pages
    except Exception:  # noqa: BLE001 — a broken image is the reader's to report; it has no pages to count
        return 0


def _pages_in(size: tuple[int, int]) -> int:
    """Page-sized pieces of one frame: a long picture counts as the pages it is tall."""
    return max(1, round(max(size) / (PAGE_RATIO * (min(size) or 1))))


def _pdf_pages_without_text(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError:
        return 0
    try:
        count = 0
        for index in range(min(len(document), 1000)):
            page = document[index]
            textpage = page.get_textpage()
            count += textpage.count_chars() == 0
            textpage.close()
            page.close()
        return count
    except pdfium.PdfiumError:
        return count
    finally:
        document.close()


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
                yield _colour_or_grey(ImageOps.exif_transpose(_fit(frame)))
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
        frame.draft(frame.mode, target)
    return _colour_or_grey(frame).resize(target, Image.Resampling.LANCZOS) if frame.size != target else frame


def _colour_or_grey(frame: Image.Image) -> Image.Image:
    """RGB for a frame in colour (a red seal is told apart by its colour), else greyscale."""
    if frame.mode in ("L", "1", "I", "I;16", "F", "LA"):
        return frame.convert("L")
    rgb = frame.convert("RGB")
    small = np.asarray(rgb.reduce(8) if min(rgb.size) >= 64 else rgb).astype(np.int16)
    colourful = (np.abs(small[..., 0] - small[..., 1]) > 30) | (np.abs(small[..., 0] - small[..., 2]) > 30)
    return rgb if colourful.any() else rgb.convert("L")


def _number(blocks: list[Block]) -> list[Block]:
    """Global line numbers for Paragraphs and document-wide table numbers for Grids."""
    out: list[Block] = []
    line = table = 0
    for block in blocks:
        if isinstance(block, Paragraph):
            line += 1
            out.append(Paragraph(block.text, Where(line=line, page=block.where.page, bbox=block.where.bbox), block.confidence))
        else:
            cells = [replace(c, where=Where(table=table, row=c.row, col=c.col, page=c.where.page, bbox=c.where.bbox)) for c in block.cells]
            out.append(Grid(cells, Where(table=table, page=block.where.page, bbox=block.where.bbox)))
            table += 1
    return out


# ── pages in parallel ────────────────────────────────────────────────────────


def read_pages(pages: Iterable[tuple[Image.Image, int, float]], count: int,
               on_read: Callable[[int, float], None] | None = None) -> Iterator[list[Block]]:  # fmt: skip
    """`read_image_blocks` of each (image, page, unit), in order. When this process may use more than
    one core (a batch gives each worker its share) several pages are read at once; the images are
    taken from `pages` (decoded or rendered in the caller's thread) only as pages finish, so at most
    that many pages are in memory. `on_read(page, share)` hears how much of a page's text is read."""
    workers = page_workers(count)

    def heard(page: int) -> Callable[[float], None] | None:
        return None if on_read is None else lambda share: on_read(page, share)

    if workers == 1:
        for image, page, unit in pages:
            yield read_image_blocks(image, page=page, unit=unit, on_read=heard(page))
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="gongkai-page") as pool:
        pending: deque = deque()
        try:
            for image, page, unit in pages:
                pending.append(pool.submit(read_image_blocks, image, page=page, unit=unit, on_read=heard(page)))
                del image  # the page's pixels belong to its task now
                if len(pending) >= workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def page_workers(count: int) -> int:
    """Pages read at once: one per model run this process may have at once, at most `count`."""
    from gongkai.read import ocr_models

    return max(1, min(count, ocr_models.streams()))


# ── one page image ───────────────────────────────────────────────────────────


def read_image_blocks(image: Image.Image, *, page: int, unit: float = 1.0,
                      on_read: Callable[[float], None] | None = None) -> list[Block]:  # fmt: skip
    """Blocks of one page image in reading order; boxes are multiplied by `unit` (e.g. px → pt);
    `on_read` hears the share of its text lines recognised."""
    prepared = prepare_page(image)
    if prepared is None:
        return []  # a blank page: nothing to recognise (OCR would spend seconds finding nothing)
    pixels, ink, under_seal, scale = prepared
    tables = page_tables(ink, under_seal, scale)
    sealed_page = pixels if under_seal.any() else None
    pixels, ink = _without_seal_traces(pixels, ink, under_seal, LINE * scale)
    free = _read_page_text(pixels, ink, tables, scale, sealed_page, under_seal, on_read)

    def box(b) -> tuple[float, float, float, float]:
        return tuple(round(v * unit, 1) for v in b)  # type: ignore[return-value]

    items: list[tuple[float, Block]] = []
    for line in group_lines(free):
        where = Where(page=page, bbox=box(_union(p.box for p in line)))
        items.append((line[0].box[1], Paragraph(join_line(line), where, _weakest(line))))
    for table in tables:
        cells = [
            GridCell(c.row, c.col, cell_text(c.pieces), c.row_end - c.row, c.col_end - c.col, Where(page=page, bbox=box(c.box)),
                     _weakest(c.pieces), _readings(c.pieces))
            for c in table.cells
        ]  # fmt: skip
        items.append((table.ys[0], Grid(cells, Where(page=page, bbox=box(table.box)))))
    items.sort(key=lambda it: it[0])
    return [block for _, block in items]


def prepare_page(image: Image.Image) -> tuple[np.ndarray, np.ndarray, np.ndarray, float] | None:
    """A page image made level and grey on an even white: its pixels, its ink, where a seal lay, and its
    scale (1.0 for an A4 page at 200 dpi, upright or turned, and for a long picture as wide); None when blank."""
    gray, sealed = _page_grey(image if image.mode == "L" else _colour_or_grey(image))
    ink = _binarise(np.asarray(gray))
    if not ink.any():
        return None
    angle = estimate_skew(ink)
    if abs(angle) >= 0.05:
        gray = gray.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=255)
        ink = _binarise(np.asarray(gray))
        sealed = sealed.rotate(angle, resample=Image.Resampling.NEAREST, fillcolor=0) if sealed is not None else None
    under_seal = np.asarray(sealed) > 0 if sealed is not None else np.zeros(ink.shape, dtype=bool)
    return np.asarray(gray), _despeckled(ink), under_seal, min(gray.size) / (8.27 * DPI)


def page_tables(ink: np.ndarray, under_seal: np.ndarray, scale: float = 1.0) -> list[RuledTable]:
    """The ruled tables of a page from its ink: rules joined across a seal, and pieces the line's own
    pixels show where other columns have them (`implied_rules`)."""
    rules = find_rules(ink, scale)
    if under_seal.any():
        rules = rules_across_seals(rules, under_seal, scale)
    tables = _find_tables(rules, scale)
    implied = implied_rules(tables, ink, under_seal, scale)
    return _find_tables(rules + implied, scale) if implied else tables


def _find_tables(rules: list[Rule], scale: float) -> list[RuledTable]:
    """The tables of a page image, each from its own connected rules: snapping all of a page's rules at
    once would chain a border with the strokes of a large title above it and lose the border."""
    settings = _settings(scale)
    tables = [t for group in table_groups(rules, settings) for t in find_tables(group, settings)]
    tall = 2.5 * LINE * scale  # two rows of text at least: not the strokes of a big title's characters
    return sorted((t for t in tables if t.ys[-1] - t.ys[0] >= tall), key=lambda t: t.ys[0])


def _settings(scale: float) -> GridSettings:
    px = DPI / 72 * scale  # pixels per point
    return GridSettings(snap=3.0 * px, min_band=5.0 * px, coverage=0.5, min_length=8.0 * px, bridge=1.5 * LINE * scale)


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
    step = max(1, int(ink.shape[1] / 1200))  # every row kept: a rule 3 px thick falls between rows kept one in five
    ys, xs = np.nonzero(ink[:, ::step])
    xs = xs * step
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
    columns = np.array(_runs(vertical.T, min_v), dtype=np.float64).reshape(-1, 3)
    verticals = [Rule(False, col, start, end) for col, start, end in columns[_meets_a_rule(columns, rules, 4 * scale + 2)].tolist()]
    # a short horizontal run meeting no vertical rule is a glyph's stroke (the top of 属 right under a rule
    # would pull the row's edge off the rule); a rule's piece between two gaps a seal left is longer
    rows = np.array([(r.pos, r.start, r.end) for r in rules], dtype=np.float64).reshape(-1, 3)
    long = rows[:, 2] - rows[:, 1] >= 4 * LINE * scale
    keep = long | _meets_a_rule(rows, verticals, 4 * scale + 2)
    return [r for r, k in zip(rules, keep.tolist()) if k] + verticals


def rules_across_seals(rules: list[Rule], sealed: np.ndarray, scale: float = 1.0) -> list[Rule]:
    """Pieces of one rule joined across a gap where a seal lay over it: with the seal turned white the
    rule under it went too, and the cells on either side would merge."""
    longest = round(SEAL_GAP * LINE * scale)
    by_line: dict[tuple[bool, float], list[Rule]] = {}
    for rule in rules:
        by_line.setdefault((rule.horizontal, rule.pos), []).append(rule)
    out: list[Rule] = []
    for (horizontal, pos), pieces in by_line.items():
        pieces.sort(key=lambda r: r.start)
        line = sealed[int(pos)] if horizontal else sealed[:, int(pos)]
        joined = pieces[0]
        for piece in pieces[1:]:
            gap = line[int(joined.end) : int(piece.start)]
            if 0 < gap.size <= longest and gap.mean() >= 0.8:
                joined = Rule(horizontal, pos, joined.start, max(joined.end, piece.end))
            else:
                out.append(joined)
                joined = piece
        out.append(joined)
    return out


def implied_rules(tables: list[RuledTable], ink: np.ndarray, sealed: np.ndarray, scale: float = 1.0) -> list[Rule]:
    """Pieces of a table's rules that were found in other columns (rows) but not in this one, where the
    line's own pixels show the rule: ink along it for part of the way, under a seal (its strokes crossing
    the rule lifted it, or it was hidden) or thin noise for the rest, and not the ink of text around it.
    Without them the cells on either side merge ('48\n3')."""
    line = LINE * scale
    out: list[Rule] = []
    for table in tables:
        for horizontal, edges, spans in ((True, table.ys, table.xs), (False, table.xs, table.ys)):
            pixels, seal = (ink, sealed) if horizontal else (ink.T, sealed.T)
            for k in range(1, len(edges) - 1):
                merged = [_merged_across(table, horizontal, k, c) for c in range(len(spans) - 1)]
                if all(merged):
                    continue  # no piece of this rule anywhere: a band of the table, not a rule to rebuild
                for c in (c for c, m in enumerate(merged) if m):
                    if _shows_a_rule(pixels, seal, edges[k], spans[c], spans[c + 1], line):
                        out.append(Rule(horizontal, edges[k], spans[c], spans[c + 1]))
    return out


def _merged_across(table: RuledTable, horizontal: bool, k: int, c: int) -> bool:
    """Is the cell before edge `k` in band `c` the same as the cell after it (no rule between them)?"""
    edges, spans = (table.ys, table.xs) if horizontal else (table.xs, table.ys)
    middle = (spans[c] + spans[c + 1]) / 2
    before, after = (edges[k - 1] + edges[k]) / 2, (edges[k] + edges[k + 1]) / 2
    if horizontal:
        return table.cell_at(middle, before) is table.cell_at(middle, after)
    return table.cell_at(before, middle) is table.cell_at(after, middle)


def _shows_a_rule(ink: np.ndarray, sealed: np.ndarray, pos: float, start: float, end: float, line: float) -> bool:
    """Does the line at row `pos` between `start` and `end` (clear of the borders at either end) look like
    a rule: ink on it much of the way (gaps of noise closed) and ink or a seal all the way, with far less
    ink just off it (the strokes of text in a merged cell are as inked off the line as on it)?"""
    half, pad, off = max(2, round(0.1 * line)), max(3, round(0.2 * line)), max(3, round(0.2 * line))
    y, x0, x1 = round(pos), round(start) + pad, round(end) - pad
    if x1 - x0 < line or y - half - 1 - off < 0 or y + half + 1 + off > ink.shape[0]:
        return False
    on = _closed(ink[y - half : y + half + 1, x0:x1].any(axis=0), round(0.25 * line))
    hidden = sealed[y - half : y + half + 1, x0:x1].any(axis=0)
    above = ink[y - half - 1 - off : y - half - 1, x0:x1].any(axis=0).mean()
    below = ink[y + half + 2 : y + half + 2 + off, x0:x1].any(axis=0).mean()
    return bool(on.mean() >= 0.3 and (on | hidden).mean() >= 0.9 and on.mean() - max(above, below) >= 0.3)


def _closed(mask: np.ndarray, gap: int) -> np.ndarray:
    """A row of pixels with its gaps up to `gap` long between inked stretches filled."""
    filled = mask.copy()
    inked = np.flatnonzero(mask)
    for a, b in zip(inked[:-1].tolist(), inked[1:].tolist()):
        if 1 < b - a <= gap + 1:
            filled[a:b] = True
    return filled


def _without_seal_traces(pixels: np.ndarray, ink: np.ndarray, under_seal: np.ndarray, line: float) -> tuple[np.ndarray, np.ndarray]:
    """The page where a seal lay: its traces lighter than ink turned white, so the recogniser does not read
    them as strokes; and its small pale traces left out of the ink that finds a cell's lines, so a number's
    box does not stretch over them. Print under a seal has a dark core and stays, pieces of it too."""
    import cv2

    if not (ink.any() and under_seal.any()):
        return pixels, ink
    faint = 0.75 * float(pixels[ink].max())  # ink is darker than the page's threshold; print's core far darker
    pixels = np.where(under_seal & ~ink, np.uint8(255), pixels)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    sealed_share = np.bincount(labels.ravel(), weights=under_seal.ravel(), minlength=count) / np.maximum(stats[:, cv2.CC_STAT_AREA], 1)
    darkest = np.full(count, 255, dtype=np.uint8)
    np.minimum.at(darkest, labels[under_seal], pixels[under_seal])
    trace = (stats[:, cv2.CC_STAT_AREA] < (0.3 * line) ** 2) & (sealed_share >= 1.0) & (darkest > faint)
    trace[0] = False
    return pixels, ink & ~trace[labels]


def _meets_a_rule(runs: np.ndarray, across_rules: list[Rule], tol: float) -> np.ndarray:
    """Which runs (pos, start, end) touch or cross one of the rules running across them: a cell border
    does, the stroke of a character does not (and would smear the true borders near it when rules are
    snapped)."""
    if not len(runs) or not across_rules:
        return np.zeros(len(runs), dtype=bool)
    rules = np.array([(r.pos, r.start, r.end) for r in across_rules])
    keep = np.zeros(len(runs), dtype=bool)
    for lo in range(0, len(runs), 512):
        pos, start, end = (runs[lo : lo + 512, k : k + 1] for k in range(3))
        across = (rules[:, 1] - tol <= pos) & (pos <= rules[:, 2] + tol)
        along = (start - tol <= rules[:, 0]) & (rules[:, 0] <= end + tol)
        keep[lo : lo + 512] = (across & along).any(axis=1)
    return keep


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


# ── recognition: cells by their boxes, the rest by detection ───────────────


def _page_grey(image: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """The page in grey on an even white: red ink (seals, stamps) turned white, so a seal over a cell
    hides nothing, and the light evened out (a shadow across a photo, a grey photocopy); and where
    a seal lay (None on a grey page)."""
    import cv2

    if image.mode == "L":
        return Image.fromarray(_even_light(np.asarray(image))), None
    rgb = np.asarray(image.convert("RGB")).astype(np.int16)
    red = rgb[..., 0]
    redness = np.maximum(red - np.maximum(rgb[..., 1], rgb[..., 2]), 0)
    # black print stays dark in the red channel; a seal's ink is lifted by its own redness as well, because a
    # JPEG keeps colour at half resolution and its thin strokes come out darker and greyer than the seal was
    lifted = np.minimum(red + redness, 255).astype(np.uint8)
    sealed = cv2.dilate((redness > 12).astype(np.uint8) * 255, np.ones((5, 5), np.uint8))
    return Image.fromarray(_even_light(lifted)), Image.fromarray(sealed)


def _even_light(gray: np.ndarray) -> np.ndarray:
    """Each pixel over the paper's brightness around it (the page's upper envelope, smoothed), as 0–255."""
    import cv2

    height, width = gray.shape
    small = cv2.resize(gray, (max(1, width // 8), max(1, height // 8)), interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((5, 5), np.uint8))  # text is darker than the paper: the max leaves paper
    paper = cv2.GaussianBlur(paper, (0, 0), 3)
    paper = cv2.resize(paper, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    return np.clip(gray.astype(np.float32) * 255.0 / np.maximum(paper, 16.0), 0, 255).astype(np.uint8)


def _despeckled(ink: np.ndarray) -> np.ndarray:
    """Ink without the specks of a scanner's noise (components of a few pixels)."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] > SPECK_PIXELS
    keep[0] = False
    return keep[labels]


def _read_page_text(pixels: np.ndarray, ink: np.ndarray, tables: list[RuledTable], scale: float,
                    sealed_page: np.ndarray | None = None, under_seal: np.ndarray | None = None,
                    on_read: Callable[[float], None] | None = None) -> list[Piece]:  # fmt: skip
    """Recognise every cell's lines and the text outside the tables; cells get their pieces, the rest is returned.
    A cell's line under a seal that reads as nothing once the seal's traces are turned white (they took
    the pale strokes of a 0 with them: '( )') is read again on the page with the seal left in, in doubt."""
    from gongkai.read import ocr_models

    models = ocr_models.models()
    line = LINE * scale
    crops: list[tuple[RuledCell | None, tuple[float, float, float, float]]] = []
    for table in tables:
        for cell in table.cells:
            crops.extend((cell, box) for box in _cell_lines(ink, cell.box, line))
    crops.extend((None, box) for box in _free_lines(models, pixels, tables, line))
    images = [_crop(pixels, box, line) for _, box in crops]
    readings = models.recognise(images, numbers=[cell is not None for cell, _ in crops], done=on_read)
    if sealed_page is not None and under_seal is not None:
        again = [k for k, (cell, box) in enumerate(crops) if cell is not None and not readings[k].text.strip() and _under(under_seal, box)]
        for k, reading in zip(again, models.recognise([_crop(sealed_page, crops[k][1], line) for k in again], numbers=[True] * len(again))):
            readings[k] = replace(reading, confidence=min(reading.confidence, SEAL_LEFT_IN))
    free: list[Piece] = []
    for (cell, box), reading in zip(crops, readings):
        text = reading.text.strip()
        if not text:
            continue
        piece = Piece(text, box, confidence=reading.confidence, size=box[3] - box[1], readings=_alternatives(reading))
        (cell.pieces if cell is not None else free).append(piece)
    return free


def _under(mask: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x0, y0, x1, y1 = (round(v) for v in box)
    return bool(mask[max(0, y0) : y1, max(0, x0) : x1].any())


def _cell_lines(ink: np.ndarray, box: tuple[float, float, float, float], line: float) -> list[tuple[float, float, float, float]]:
    """Boxes of the text lines inside one cell, found from its ink (rule remnants left out)."""
    x0, y0, x1, y1 = (round(v) for v in box)
    pad = max(3, round(0.16 * line))  # clear of the rules
    inner = ink[y0 + pad : y1 - pad, x0 + pad : x1 - pad]
    if inner.size == 0 or inner.sum() < 6:
        return []
    inner = inner.copy()
    inner[inner.mean(axis=1) > 0.6, :] = False  # a rule not quite level still crosses the cell
    inked = inner.mean(axis=0)
    edge = np.zeros(inked.size, dtype=bool)
    edge[: max(2, round(0.15 * line))] = edge[-max(2, round(0.15 * line)) :] = True
    inner[:, (inked > 0.9) | (edge & (inked > 0.5))] = False  # a rule's remnant at the side; a '1' is most of a low cell's height
    inner = _without_specks(inner, line)
    rows = np.flatnonzero(inner.any(axis=1))
    if rows.size == 0:
        return []
    runs: list[list[int]] = []
    for start, end in _row_runs(rows):
        if runs and start - runs[-1][1] <= 0.45 * line and end - runs[-1][0] <= 1.25 * line:
            runs[-1][1] = end  # strokes of one line (三, 二) or a mark above it: one line
        else:
            runs.append([start, end])
    out = []
    for start, end in runs:
        cols = np.flatnonzero(inner[start:end].any(axis=0))
        left, right = int(cols[0]), int(cols[-1]) + 1
        if end - start < 0.3 * line and right - left < 0.4 * line:
            continue  # a dot of dirt, not a line
        edge = 0.1 * line
        if end - start < 0.2 * line and (start <= edge or end >= inner.shape[0] - edge):
            continue  # a sliver of the rule above or below, where the cell's box cuts it
        if right - left <= 0.08 * line and (left <= edge or right >= inner.shape[1] - edge):
            continue  # a sliver of the rule at either side
        out.append((float(x0 + pad + left), float(y0 + pad + start), float(x0 + pad + right), float(y0 + pad + end)))
    return out


def _without_specks(inner: np.ndarray, line: float) -> np.ndarray:
    """A cell's ink without the specks away from its text, which would stretch its lines' boxes over blank
    paper. Small marks on the text's rows and close beside it stay: a minus sign, a decimal point."""
    import cv2

    count, labels, stats, _ = cv2.connectedComponentsWithStats(inner.astype(np.uint8), connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < (0.12 * line) ** 2
    small[0] = False
    if count <= 2 or not small.any() or small[1:].all():
        return inner
    x, y, w, h = (stats[:, k] for k in (cv2.CC_STAT_LEFT, cv2.CC_STAT_TOP, cv2.CC_STAT_WIDTH, cv2.CC_STAT_HEIGHT))
    big = ~small
    big[0] = False
    top, bottom = y[big].min(), (y + h)[big].max()
    left, right = x[big].min() - 0.8 * line, (x + w)[big].max() + 0.8 * line
    centre = y + h / 2
    beside = (top <= centre) & (centre <= bottom) & (x + w >= left) & (x <= right)
    return inner & ~(small & ~beside)[labels]


def _row_runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Runs of consecutive row indices as (start, end) with `end` exclusive."""
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate(([rows[0]], rows[breaks + 1]))
    ends = np.concatenate((rows[breaks], [rows[-1]])) + 1
    return list(zip(starts.tolist(), ends.tolist()))


def _free_lines(models, pixels: np.ndarray, tables: list[RuledTable], line: float) -> list[tuple[float, float, float, float]]:
    """Text lines outside the tables, detected on the page at a reduced resolution (enough for lines of body text)."""
    height, width = pixels.shape
    factor = min(1.0, DET_SHORT_SIDE / min(height, width))
    page = pixels.copy()
    for table in tables:
        x0, y0, x1, y1 = (round(v) for v in table.box)
        page[max(0, y0 - 2) : y1 + 3, max(0, x0 - 2) : x1 + 3] = 255  # the cells are read by their boxes
    if (page < 128).sum() < 20:
        return []
    small = Image.fromarray(page)
    if factor < 1.0:
        small = small.resize((max(1, round(width * factor)), max(1, round(height * factor))), Image.Resampling.BILINEAR)
    rgb = np.repeat(np.asarray(small)[..., None], 3, axis=2)
    boxes = []
    for x0, y0, x1, y1 in models.detect(rgb):
        box = (x0 / factor, y0 / factor, x1 / factor, y1 / factor)
        if box[3] - box[1] >= 0.25 * line and box[2] - box[0] >= 0.25 * line:
            boxes.append(box)
    return boxes


def _crop(pixels: np.ndarray, box: tuple[float, float, float, float], line: float) -> np.ndarray:
    margin = max(2, round(0.12 * line))
    x0, y0, x1, y1 = (round(v) for v in box)
    return np.ascontiguousarray(pixels[max(0, y0 - margin) : y1 + margin, max(0, x0 - margin) : x1 + margin])


def _alternatives(reading) -> tuple[str, ...]:
    """Other readings of a number, most probable first: its doubtful digits replaced by the recogniser's next candidates."""
    text = reading.text
    if not text or not all(c in "0123456789." for c in text) or len(reading.candidates) != len(text):
        return ()
    options = []
    for char, candidates in zip(text, reading.candidates):
        best = candidates[0][1] if candidates else 1.0
        others = [(c, p) for c, p in candidates[1:] if c.isdigit() and p >= ALTERNATIVE_FLOOR] if best < SURE else []
        options.append([(char, best), *others])
    if all(len(o) == 1 for o in options):
        return ()
    combos = [("", 1.0)]
    for choice in options:
        combos = sorted(((t + c, q * p) for t, q in combos for c, p in choice), key=lambda x: -x[1])[: MAX_ALTERNATIVES + 1]
    return tuple(t for t, _ in combos if t != text)[:MAX_ALTERNATIVES]


def _readings(pieces: list[Piece]) -> tuple[str, ...]:
    """A cell's other readings: those of its one piece (a cell of several pieces has none)."""
    return pieces[0].readings if len(pieces) == 1 else ()
