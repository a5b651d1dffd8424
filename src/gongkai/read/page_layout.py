"""A page's positioned text and ruling lines → lines and ruled table parts; pages → a Document's blocks.

Shared by the readers of fixed-layout formats (PDF, OFD): each finds its pieces of text and its
rules on a page (`grid_from_lines.Piece`, `Rule`) and its tables (`find_tables`); `layout_page` puts
the pieces into the tables' cells and the rest into lines, and `assemble` turns the pages into
Paragraphs and Grids: running heads and page numbers dropped, tables split by page breaks joined,
page and box on every block and cell. Boxes are in points, y downwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from gongkai.document import Block, Grid, GridCell, Paragraph, Where
from gongkai.read.grid_from_lines import (
    Piece,
    Rule,
    RuledCell,
    RuledTable,
    cell_text,
    group_lines,
    join_cell_lines,
    join_line,
    wrapped_number,
)

MARGIN = 0.1  # top/bottom share of a page where running heads and page numbers live
EDGE_TOL = 4.0  # points: column edges this close are the same edge across a page break
CUT = "可能被分页截断（下一页表格的列与本页对不上，无法确定它与下一页首行的数字是否同属一个数）"
SPILLED = "可能未印完（格内折行的数字在页末被截断，下一页开头有一行数字在表格之外）"
EDGE_SLACK = 1.0  # points a run may poke past its cell's edge and still be inside it

_PAGE_NUMBER = re.compile(r"^[\s\-—–_·•]*(第\s*)?[\d一二三四五六七八九十]+(\s*页)?([\s,，/／]*(共\s*)?\d+\s*页?)?[\s\-—–_·•]*$")


# ── what one page yields before the document is assembled ──────────────────


@dataclass(slots=True)
class Line:
    text: str
    box: tuple[float, float, float, float]
    confidence: float | None = None


@dataclass(slots=True)
class Part:
    """One page's piece of a table (tables split by page breaks have several)."""

    page: int
    table: RuledTable
    texts: dict[int, str] = field(default_factory=dict)  # id(cell) → text
    wrapped: set[int] = field(default_factory=set)  # id(cell) of cells holding a number wrapped over lines
    cut: set[int] = field(default_factory=set)  # id(cell) of cells a page break may have cut, the parts not being joinable
    spilled: set[int] = field(default_factory=set)  # id(cell) of wrapped numbers whose rest may open the next page outside any table


@dataclass(slots=True)
class Page:
    number: int
    height: float
    items: list[Line | Part | Block]  # in reading order; Blocks come ready-made from OCR


def layout_page(number: int, height: float, pieces: list[Piece], tables: list[RuledTable]) -> Page:
    """A page's pieces placed into its tables' cells, the rest grouped into lines, all in reading order."""
    free = place(pieces, tables) if tables else pieces
    items: list[Line | Part] = [Line(join_line(line), union(line)) for line in group_lines(free)]
    for table in tables:
        part = Part(number, table)
        for c in table.cells:
            joined = wrapped_number(c.pieces) if len(c.pieces) > 1 else None
            part.texts[id(c)] = joined if joined is not None else cell_text(c.pieces)
            if joined is not None:
                part.wrapped.add(id(c))
        items.append(part)
    items.sort(key=lambda it: it.box[1] if isinstance(it, Line) else it.table.ys[0])
    return Page(number, height, items)


def place(pieces: list[Piece], tables: list[RuledTable]) -> list[Piece]:
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


def could_be_table(rules: list[Rule]) -> bool:
    return sum(r.horizontal for r in rules) >= 2 and sum(not r.horizontal for r in rules) >= 2


def straddles(box: tuple[float, float, float, float], tables: list[RuledTable]) -> bool:
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
        slack = EDGE_SLACK
        return x0 < cx0 - slack or x1 > cx1 + slack or y0 < cy0 - slack or y1 > cy1 + slack
    return False


def union(pieces: list[Piece]) -> tuple[float, float, float, float]:
    x0s, tops, x1s, bottoms = zip(*[p.box for p in pieces])
    return min(x0s), min(tops), max(x1s), max(bottoms)


# ── the document: running heads out, split tables joined, provenance in ─────


def _item_text(item) -> str | None:
    if isinstance(item, Line | Paragraph):
        return item.text
    return None


def _item_box(item):
    if isinstance(item, Line):
        return item.box
    if isinstance(item, Paragraph):
        return item.where.bbox
    return None


def mark_spilled_numbers(pages: list[Page]) -> None:
    """A page ending with a table of numbers wrapped over lines in narrow cells, and the next
    page opening with a line of numbers alone outside any table (LibreOffice carries the rest of a row that does
    not fit, unruled): the wrapped numbers under that line may have lost their last digits to the next page (6327
    printed 632 | 7), and the line would pass for a page number. Those cells are in doubt. Run before
    `drop_running_heads`, which would take that line for a page number."""
    for before, after in zip(pages, pages[1:]):
        if not before.items or not after.items or after.number != before.number + 1:
            continue
        last, first = before.items[-1], after.items[0]
        if not isinstance(last, Part) or not isinstance(first, Line) or not re.fullmatch(r"[\d\s.,]+", first.text.strip()):
            continue
        bottom = len(last.table.ys) - 1
        under = [c for c in last.table.cells if c.row_end == bottom and c.box[2] > first.box[0] - EDGE_TOL and c.box[0] < first.box[2] + EDGE_TOL]
        if last.wrapped:  # a table of narrow cells: a number may also wrap whole lines onto the next page (37 printed 3 | 7)
            last.spilled.update(id(c) for c in under if _NUMBER.fullmatch(last.texts[id(c)]))


def drop_running_heads(pages: list[Page]) -> None:
    """Page numbers and running titles in the top/bottom margins are not content."""

    def in_margin(item, page: Page) -> bool:
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


def _continues(previous: list[Part], part: Part, pages: list[Page]) -> bool:
    """`part` opens its page right after `previous` closed the page before, on the same columns."""
    return _follows(previous[-1], part, pages) and _same_columns(_edges(previous), part.table.xs)


def _follows(last: Part, part: Part, pages: list[Page]) -> bool:
    """`part` opens its page right after `last` closed the page before, nothing between them."""
    if part.page != last.page + 1:
        return False
    prev_page = next(p for p in pages if p.number == last.page)
    this_page = next(p for p in pages if p.number == part.page)
    return prev_page.items[-1] is last and this_page.items[0] is part


def _mark_uncertain_breaks(tables: list[list[Part]], pages: list[Page]) -> None:
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


def _edges(parts: list[Part]) -> list[float]:
    """The column edges of a table's parts so far: the first part's, then each later part's own edges
    snapped onto an edge already there (a page's rules drift by a few points) or added."""
    xs = list(parts[0].table.xs)
    for part in parts[1:]:
        tol = _edge_tolerance(xs, part.table.xs)
        for x in part.table.xs:
            if min(abs(x - y) for y in xs) > tol:
                xs = sorted([*xs, x])
    return xs


def _repeated_header_rows(first: Part, part: Part) -> int:
    """How many top rows of `part` repeat the top rows of the table's first part."""

    def row_texts(p: Part, row: int) -> list[str]:
        return [p.texts[id(c)] for c in sorted(p.table.cells, key=lambda c: c.col) if c.row == row]

    n = 0
    while n < min(len(first.table.ys), len(part.table.ys)) - 2 and row_texts(first, n) == row_texts(part, n) and any(row_texts(part, n)):
        n += 1
    return n


def assemble(pages: list[Page]) -> list[Block]:
    """Page items → blocks: lines become Paragraphs, table parts are joined across page breaks."""
    tables: list[list[Part]] = []
    for page in pages:
        for item in page.items:
            if isinstance(item, Part) and tables and _continues(tables[-1], item, pages):
                tables[-1].append(item)
            elif isinstance(item, Part):
                tables.append([item])
    _mark_uncertain_breaks(tables, pages)
    first_parts = {id(parts[0]): parts for parts in tables}
    blocks: list[Block] = []
    line = 0
    for page in pages:
        for item in page.items:
            if isinstance(item, Line):
                line += 1
                blocks.append(Paragraph(item.text, Where(line=line, page=page.number, bbox=_round(item.box)), item.confidence))
            elif isinstance(item, Part):
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
    cells = [replace(c, where=Where(table=index, row=c.row, col=c.col, page=c.where.page, bbox=c.where.bbox)) for c in grid.cells]
    return Grid(cells, Where(table=index, page=grid.where.page, bbox=grid.where.bbox))


def _grid(parts: list[Part], index: int) -> Grid:
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


def _is_split_row(first: list[RuledCell], part: Part, above: dict, col) -> bool:
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
