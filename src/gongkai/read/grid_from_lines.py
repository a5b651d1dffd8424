"""Rebuild table grids from ruling lines, and text from positioned pieces of text.

Shared by the PDF and OFD readers (rules are vector paths, pieces are characters) and the OCR reader
(rules are runs of dark pixels, pieces are recognised text boxes). Coordinates are page
coordinates with y growing downwards (PDF points or image pixels).

The steps are small pure functions:
`snap_rules → table_groups → elementary_cells → merge_unruled → RuledTable.locate`
then `group_lines → join_line / join_cell_lines` for the text that falls in each cell.
"""

from __future__ import annotations

import bisect
import itertools
import unicodedata
from dataclasses import dataclass, field

Box = tuple[float, float, float, float]  # x0, top, x1, bottom


@dataclass(frozen=True, slots=True)
class Rule:
    """A horizontal (`pos` = y) or vertical (`pos` = x) ruling segment from `start` to `end`."""

    horizontal: bool
    pos: float
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class GridSettings:
    """Named tolerances, in page units (points for PDF; the OCR reader scales them to pixels)."""

    snap: float = 3.0  # rule positions closer than this are one edge
    min_band: float = 5.0  # rows/columns thinner than this are double rules, not cells
    coverage: float = 0.6  # a cell border is ruled when rules cover this share of it
    min_length: float = 8.0  # shorter segments are glyph strokes or noise, not rules
    bridge: float = 0.0  # collinear pieces of a rule this far apart are one rule (a scan's rule broken by a seal)


@dataclass(slots=True)
class Piece:
    """A positioned piece of text: one PDF character or one OCR text box."""

    text: str
    box: Box
    confidence: float | None = None
    size: float = 0.0  # font size (height of the piece's line box)
    order: int = -1  # position of its first character in the source's text stream, if any
    gap_before: bool = False  # the source marks a word gap right before this piece
    readings: tuple[str, ...] = ()  # OCR: other readings of this text, most probable first

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2


@dataclass(slots=True)
class RuledCell:
    """A cell of a ruled table in band indices (end-exclusive), with its page box."""

    row: int
    col: int
    row_end: int
    col_end: int
    box: Box
    pieces: list[Piece] = field(default_factory=list)


@dataclass(slots=True)
class RuledTable:
    """A table found from rules: its column x-edges, row y-edges and merged cells."""

    xs: list[float]
    ys: list[float]
    cells: list[RuledCell]
    _owner: list[list[int]] = field(default_factory=list, repr=False)

    @property
    def box(self) -> Box:
        return (self.xs[0], self.ys[0], self.xs[-1], self.ys[-1])

    def locate(self, x: float, y: float) -> RuledCell | None:
        """The cell containing a point, or None outside the table."""
        if not (self.xs[0] <= x <= self.xs[-1] and self.ys[0] <= y <= self.ys[-1]):
            return None
        return self.cell_at(x, y)

    def cell_at(self, x: float, y: float) -> RuledCell:
        """The cell containing a point known to lie inside the table."""
        xs, ys = self.xs, self.ys
        col = bisect.bisect_right(xs, x, 0, len(xs) - 1) - 1  # a point on the last edge is in the last band
        row = bisect.bisect_right(ys, y, 0, len(ys) - 1) - 1
        return self.cells[self._owner[row][col]]


def straight_edges(points: list[tuple[float, float]]) -> list[Rule]:
    """The horizontal and vertical segments of a stroked polyline (within 1 unit of straight)."""
    out: list[Rule] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if abs(y1 - y0) <= 1.0 and abs(x1 - x0) > 1.0:
            out.append(Rule(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1)))
        elif abs(x1 - x0) <= 1.0 and abs(y1 - y0) > 1.0:
            out.append(Rule(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1)))
    return out


def thin_fill(points: list[tuple[float, float]]) -> Rule | None:
    """A filled shape at most 3 units thick drawn as a rule (how many writers draw table borders)."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    if y1 - y0 <= 3.0 and x1 - x0 > y1 - y0:
        return Rule(True, (y0 + y1) / 2, x0, x1)
    if x1 - x0 <= 3.0 and y1 - y0 > x1 - x0:
        return Rule(False, (x0 + x1) / 2, y0, y1)
    return None


def cluster(values: list[float], tol: float) -> list[float]:
    """Sorted values merged into the means of runs closer than `tol`."""
    out: list[list[float]] = []
    for v in sorted(values):
        if out and v - out[-1][-1] <= tol:
            out[-1].append(v)
        else:
            out.append([v])
    return [sum(run) / len(run) for run in out]


def snap_rules(rules: list[Rule], settings: GridSettings = GridSettings()) -> list[Rule]:
    """Collinear overlapping rules joined into one; rules too short to be borders dropped."""
    out: list[Rule] = []
    for horizontal in (True, False):
        same = sorted((r for r in rules if r.horizontal == horizontal), key=lambda r: (r.pos, r.start))
        positions = [r.pos for r in same]
        for pos in cluster([r.pos for r in same], settings.snap):
            lo = bisect.bisect_left(positions, pos - 2 * settings.snap)  # a window around pos, then the exact test
            hi = bisect.bisect_right(positions, pos + 2 * settings.snap)
            near = sorted((r for r in same[lo:hi] if abs(r.pos - pos) <= settings.snap), key=lambda r: r.start)
            run_start, run_end = near[0].start, near[0].end
            for r in near[1:]:
                if r.start <= run_end + settings.snap:
                    run_end = max(run_end, r.end)
                else:
                    out.append(Rule(horizontal, pos, run_start, run_end))
                    run_start, run_end = r.start, r.end
            out.append(Rule(horizontal, pos, run_start, run_end))
    return [r for r in out if r.end - r.start >= settings.min_length]


def table_groups(rules: list[Rule], settings: GridSettings = GridSettings()) -> list[list[Rule]]:
    """Rules split into tables: a table is a set of rules connected by crossings."""
    parent = list(range(len(rules)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    tol = settings.snap
    hs = [i for i, r in enumerate(rules) if r.horizontal]
    vs = [i for i, r in enumerate(rules) if not r.horizontal]
    for i in hs:
        h = rules[i]
        for j in vs:
            v = rules[j]
            if h.start - tol <= v.pos <= h.end + tol and v.start - tol <= h.pos <= v.end + tol:
                parent[find(i)] = find(j)
    if settings.bridge > 0.0:
        for i, j in _collinear_pairs(rules, hs, tol, settings.bridge) + _collinear_pairs(rules, vs, tol, settings.bridge):
            parent[find(i)] = find(j)
    groups: dict[int, list[Rule]] = {}
    for i, r in enumerate(rules):
        groups.setdefault(find(i), []).append(r)
    return sorted(groups.values(), key=lambda g: min(r.pos if r.horizontal else r.start for r in g))


def _collinear_pairs(rules: list[Rule], same: list[int], tol: float, bridge: float) -> list[tuple[int, int]]:
    """Pairs of rules of one direction on one line whose ends are at most `bridge` apart."""
    ordered = sorted(same, key=lambda i: rules[i].pos)
    positions = [rules[i].pos for i in ordered]
    pairs = []
    for k, i in enumerate(ordered):
        a = rules[i]
        for j in ordered[k + 1 : bisect.bisect_right(positions, a.pos + tol)]:
            b = rules[j]
            if b.start - bridge <= a.end and a.start - bridge <= b.end:
                pairs.append((i, j))
    return pairs


def _covered(intervals: list[tuple[float, float]], a: float, b: float) -> float:
    """Length of [a, b] covered by the (merged, sorted) intervals."""
    total = 0.0
    for s, e in intervals:
        overlap = min(b, e) - max(a, s)
        if overlap > 0.0:
            total += overlap
    return total


def _edge_intervals(rules: list[Rule], edges: list[float], tol: float) -> list[list[tuple[float, float]]]:
    by_edge: list[list[tuple[float, float]]] = [[] for _ in edges]
    for r in rules:
        k = _nearest(edges, r.pos)
        if abs(edges[k] - r.pos) <= tol:
            by_edge[k].append((r.start, r.end))
    return by_edge


def _nearest(edges: list[float], value: float) -> int:
    """Index of the edge closest to `value` in increasing `edges` (the lower one on a tie)."""
    k = bisect.bisect_left(edges, value)
    if k == len(edges) or (k > 0 and value - edges[k - 1] <= edges[k] - value):
        return k - 1
    return k


def build_table(rules: list[Rule], settings: GridSettings = GridSettings()) -> RuledTable | None:
    """One group of connected rules → a table with merged cells, or None if it is not a grid."""
    hs = [r for r in rules if r.horizontal]
    vs = [r for r in rules if not r.horizontal]
    if len(hs) < 2 or len(vs) < 2:
        return None
    ys = _thin(cluster([r.pos for r in hs] + [min(v.start for v in vs), max(v.end for v in vs)], settings.snap), settings.min_band)
    xs = _thin(cluster([r.pos for r in vs] + [min(h.start for h in hs), max(h.end for h in hs)], settings.snap), settings.min_band)
    if len(xs) < 3 or len(ys) < 3:
        return None  # a box around a paragraph, or a single row/column: not a table
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    tol = max(settings.snap, settings.min_band)
    v_at = _edge_intervals(vs, xs, tol)
    h_at = _edge_intervals(hs, ys, tol)

    coverage = settings.coverage
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        top, bottom = ys[r], ys[r + 1]
        need = coverage * (bottom - top)
        below = h_at[r + 1] if r + 1 < n_rows else None
        for c in range(n_cols):
            i = r * n_cols + c
            if c + 1 < n_cols and _covered(v_at[c + 1], top, bottom) < need:
                parent[find(i)] = find(i + 1)
            if below is not None and _covered(below, xs[c], xs[c + 1]) < coverage * (xs[c + 1] - xs[c]):
                parent[find(i)] = find(i + n_cols)
    regions: dict[int, list[int]] = {}
    for i in range(n_rows * n_cols):
        regions.setdefault(find(i), []).append(i)
    owner = [[0] * n_cols for _ in range(n_rows)]
    cells: list[RuledCell] = []
    for members in regions.values():  # in order of their first (smallest) elementary cell
        r0, c0 = divmod(members[0], n_cols)
        if len(members) == 1:
            owner[r0][c0] = len(cells)
            cells.append(RuledCell(r0, c0, r0 + 1, c0 + 1, (xs[c0], ys[r0], xs[c0 + 1], ys[r0 + 1])))
            continue
        r1 = members[-1] // n_cols + 1
        cols = [m % n_cols for m in members]
        c0, c1 = min(cols), max(cols) + 1
        for m in members:
            owner[m // n_cols][m % n_cols] = len(cells)
        cells.append(RuledCell(r0, c0, r1, c1, (xs[c0], ys[r0], xs[c1], ys[r1])))
    if len(cells) < 2:
        return None
    return RuledTable(xs, ys, cells, owner)


def _thin(edges: list[float], min_band: float) -> list[float]:
    """Edges closer than `min_band` (double rules, rule thickness) merged into one."""
    out: list[float] = []
    for e in edges:
        if out and e - out[-1] < min_band:
            out[-1] = (out[-1] + e) / 2
        else:
            out.append(e)
    return out


def find_tables(rules: list[Rule], settings: GridSettings = GridSettings()) -> list[RuledTable]:
    """All ruled tables on a page, top to bottom."""
    tables = [build_table(group, settings) for group in table_groups(snap_rules(rules, settings), settings)]
    return sorted((t for t in tables if t is not None), key=lambda t: t.ys[0])


# ── text from pieces ─────────────────────────────────────────────────────────


def group_lines(pieces: list[Piece]) -> list[list[Piece]]:
    """Pieces grouped into lines (top to bottom), each line left to right."""
    # sorted by (centre, left) once; the index keeps equal keys in their given order, as a stable sort would
    ordered = sorted([((b[1] + b[3]) / 2, b[0], k) for k, b in enumerate([p.box for p in pieces])])
    lines: list[list[tuple[float, int]]] = []  # per line: (left, rank in `ordered`)
    line: list[tuple[float, int]] = []
    line_top = line_bottom = 0.0  # vertical extent of the open line
    for rank, (_, left, k) in enumerate(ordered):
        _, top, _, bottom = pieces[k].box
        if line:
            height = bottom - top if bottom - top > 1e-6 else 1e-6
            extent = line_bottom - line_top
            overlap = (line_bottom if line_bottom < bottom else bottom) - (line_top if line_top > top else top)
            if overlap >= 0.5 * (height if height < extent else extent):
                line.append((left, rank))
                if top < line_top:
                    line_top = top
                if bottom > line_bottom:
                    line_bottom = bottom
                continue
        line = [(left, rank)]
        lines.append(line)
        line_top, line_bottom = top, bottom
    return [[pieces[ordered[rank][2]] for _, rank in sorted(line)] for line in lines]


def _is_cjk(ch: str) -> bool:
    return ch > "\u2e7f" and unicodedata.category(ch)[0] in "LP" or unicodedata.east_asian_width(ch) in "WF"


def _is_word(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def join_line(line: list[Piece], *, cjk_spaces: bool = True) -> str:
    """One line's text; a visible gap becomes a space (dropped between two CJK characters if not `cjk_spaces`)."""
    parts: list[str] = []
    last = ""  # the last character written so far
    prev: Piece | None = None
    for piece in line:
        text = piece.text
        if prev is not None and last and text:
            size = prev.size if prev.size > piece.size else piece.size
            gap = piece.box[0] - prev.box[2]
            marked = piece.gap_before and prev.order >= 0 and piece.order == prev.order + len(prev.text)  # next in the text
            if (gap > 0.25 * (size if size > 1e-6 else 1e-6) or marked) and last != " ":
                if cjk_spaces or not (_is_cjk(last) and _is_cjk(text[0])):
                    parts.append(" ")
                    last = " "
            elif prev.confidence is not None and _is_word(last) and _is_word(text[0]):
                parts.append(" ")  # two OCR boxes are two words even when they touch
                last = " "
        if text:
            parts.append(text)
            last = text[-1]
        prev = piece
    out = "".join(parts)
    return " ".join(out.split()) if not cjk_spaces else out.strip()


def join_cell_lines(lines: list[str]) -> str:
    """Lines wrapped inside one cell joined: CJK without a space, words with one, numbers kept apart."""
    out = ""
    for text in (t.strip() for t in lines):
        if not text:
            continue
        if out:
            a, b = out[-1], text[0]
            if a.isdigit() and b.isdigit():
                out += "\n"  # two numbers must never become one
            elif _is_word(a) and _is_word(b):
                out += " "
        out += text
    return out


def cell_text(pieces: list[Piece]) -> str:
    """The text of one table cell from the pieces inside it."""
    if not pieces:
        return ""
    if len(pieces) == 1:  # most cells: one number or word
        return " ".join(pieces[0].text.split())
    return join_cell_lines([join_line(line, cjk_spaces=False) for line in group_lines(pieces)])


def wrapped_number(pieces: list[Piece]) -> str | None:
    """A number wrapped inside a narrow cell ('122' over '6'), joined ('1226'): digit lines one line-height
    apart. Numbers a row apart (a rule not drawn) are not joined; None when the cell is not that."""
    lines = group_lines(pieces)
    if len(lines) < 2:
        return None
    texts = ["".join(p.text for p in line).strip() for line in lines]
    if not all(t.isdigit() for t in texts):
        return None
    for above, below in zip(lines, lines[1:]):
        height = max(p.box[3] - p.box[1] for p in above)
        if min(p.box[1] for p in below) - min(p.box[1] for p in above) > 2.1 * height:  # line spacing up to 1.5 lines; a row is more
            return None
    return "".join(texts)
