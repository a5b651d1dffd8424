"""Markdown: lines as in text, except pipe-table blocks, which become a `Grid` each.

A pipe-table block is a run of consecutive lines that start with '|'. Its rows are kept as
printed (a broken table stays broken: locate/ rebuilds it); `|---|` separator lines are skipped,
cells are stripped, and there are no spans. Headings lose their leading '#'s. An HTML <table>
(PDF-to-markdown converters write them for merged cells) becomes a grid with its spans.
"""

from __future__ import annotations

import re
from dataclasses import replace

from gongkai.document import Block, Document, Grid, GridCell, Paragraph, Where
from gongkai.read import html
from gongkai.read.encoding import decode

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+|$)(.*?)(?:[ \t]+#+)?[ \t]*$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_BOLD = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def read(data: bytes) -> Document:
    decoded = decode(data)
    lines = decoded.lines()
    blocks: list[Block] = []
    n_grids = 0
    i = 0
    while i < len(lines):
        end = _html_table_end(lines, i)
        if end is not None:  # an HTML table inside markdown (PDF converters write them for merged cells)
            found = html.grids("\n".join(lines[i:end]), first_index=n_grids)
            blocks.extend(_shift_lines(grid, i) for grid in found)
            n_grids += len(found)
            if found:
                i = end
                continue
        if _is_table_line(lines[i]):
            start = i
            while i < len(lines) and _is_table_line(lines[i]):
                i += 1
            grid = _grid(lines, start, i, n_grids)
            if grid is not None:
                blocks.append(grid)
                n_grids += 1
            continue
        blocks.append(Paragraph(_plain(lines[i]), Where(line=i + 1)))
        i += 1
    return Document(blocks, "md", notes=decoded.notes)


def _html_table_end(lines: list[str], start: int) -> int | None:
    """The line after the '</table>' closing an HTML table that opens on lines[start], if it does."""
    if "<table" not in lines[start].lower():
        return None
    depth = 0
    for index in range(start, len(lines)):
        lowered = lines[index].lower()
        depth += lowered.count("<table") - lowered.count("</table>")
        if depth <= 0:
            return index + 1
    return None


def _shift_lines(grid: Grid, start: int) -> Grid:
    """Line numbers of a grid parsed from a fragment, made lines of the whole file."""

    def shift(where: Where) -> Where:
        return replace(where, line=(where.line or 1) + start)

    cells = [replace(c, where=shift(c.where)) for c in grid.cells]
    return Grid(cells, shift(grid.where))


def _is_table_line(line: str) -> bool:
    return line.lstrip(" ").startswith("|")


def _grid(lines: list[str], start: int, stop: int, table: int) -> Grid | None:
    """The rows of lines[start:stop] as printed, separator lines skipped; None if only separators. A column
    empty in every row of two or more is dropped: it holds nothing, and a converter's ragged grid pads rows with such columns,
    which would otherwise pass for blank cells (its provenance keeps the column as printed)."""
    rows = [split_row(lines[index]) for index in range(start, stop) if not _SEPARATOR.match(lines[index])]
    width = max((len(r) for r in rows), default=0)
    kept = [c for c in range(width) if any(c < len(r) and r[c] for r in rows)] if len(rows) > 1 else list(range(width))
    cells: list[GridCell] = []
    row = 0
    for index in range(start, stop):
        if _SEPARATOR.match(lines[index]):
            continue
        texts = split_row(lines[index])
        for col, printed in enumerate(c for c in kept if c < len(texts)):
            where = Where(line=index + 1, table=table, row=row, col=printed)
            cells.append(GridCell(row, col, texts[printed], where=where))
        row += 1
    if not cells:
        return None
    return Grid(cells, Where(line=start + 1, table=table))


def split_row(line: str) -> list[str]:
    """'| a | b |' → ['a', 'b']; a lone '|' is one empty cell; '\\|' stays inside its cell."""
    body = line.strip()
    body = body.removeprefix("|")
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    return [_BR.sub("\n", _BOLD.sub(r"\2", part.replace("\\|", "|"))).strip() for part in _UNESCAPED_PIPE.split(body)]


def _plain(line: str) -> str:
    """Heading text without its '#'s, and any line without its bold marks (converters write headings as **一、总体情况**)."""
    heading = _HEADING.match(line)
    return _BOLD.sub(r"\2", heading.group(2) if heading else line)
