"""The small document model every reader produces and every later stage reads.

A `Document` is a list of blocks in reading order; each block is a `Paragraph` (one line of
text) or a `Grid` (a table with row/col spans). Every block and cell knows where it came
from (`Where`), so a value can be traced back to its line, table cell, or page and box.
Nothing downstream of `read/` knows which file format a document came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Where:
    """A place in the source: a text line, a table cell, and/or a page box (PDF points or pixels)."""

    line: int | None = None  # 1-based line of a text source
    table: int | None = None  # 0-based index of the grid among the document's grids
    row: int | None = None  # 0-based row inside that grid
    col: int | None = None  # 0-based column inside that grid
    page: int | None = None  # 1-based page of a PDF or image
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom on that page

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


@dataclass(frozen=True, slots=True)
class Paragraph:
    """One line of running text (may be empty: blank lines carry layout in flattened tables)."""

    text: str
    where: Where = Where()
    confidence: float | None = None  # OCR confidence of the weakest character, if OCR'd


@dataclass(frozen=True, slots=True)
class GridCell:
    """One cell of a table grid, at its top-left position, with its spans."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    where: Where = Where()
    confidence: float | None = None
    wrapped: bool = False  # a number printed over several lines of its cell (or across a page break), joined
    doubt: str | None = None  # why the reader is not sure the cell's text is all of it (a page break may have cut it)
    readings: tuple[str, ...] = ()  # OCR: the recogniser's other readings of the text, most probable first


@dataclass(slots=True)
class Grid:
    """A table: cells at their top-left positions. Positions covered by a span hold no cell."""

    cells: list[GridCell]
    where: Where = Where()

    @property
    def n_rows(self) -> int:
        return max((c.row + c.rowspan for c in self.cells), default=0)

    @property
    def n_cols(self) -> int:
        return max((c.col + c.colspan for c in self.cells), default=0)

    def rows(self) -> list[list[GridCell]]:
        """Cells grouped by the row they start in, left to right."""
        out: list[list[GridCell]] = [[] for _ in range(self.n_rows)]
        for cell in sorted(self.cells, key=lambda c: (c.row, c.col)):
            out[cell.row].append(cell)
        return out


Block = Paragraph | Grid


@dataclass(slots=True)
class Document:
    """What a reader hands on: blocks in reading order, plus facts about the source."""

    blocks: list[Block]
    format: str  # txt | md | html | docx | doc | pdf | ofd | image
    pages: int | None = None
    notes: list[str] = field(default_factory=list)  # reader warnings shown as findings (e.g. fallback used)
    partial: bool = False  # the reader left part of the file unread (a note says which): what is missing may be there

    @property
    def grids(self) -> list[Grid]:
        return [b for b in self.blocks if isinstance(b, Grid)]

    def text(self) -> str:
        """All text in reading order; grid rows become tab-separated lines."""
        lines: list[str] = []
        for block in self.blocks:
            if isinstance(block, Paragraph):
                lines.append(block.text)
            else:
                lines.extend("\t".join(c.text for c in row) for row in block.rows())
        return "\n".join(lines)
