"""Turn a Document into one stream of cell tokens, whatever the table layout was.

Grids give their cells row by row. Flattened text gives cells by its own separators: tab rows,
pipe rows ('a | b |'), one cell per line (with '|' lines or blank lines between cells, where an
extra blank line is an empty cell), numbers spaced on one line, and glued runs where labels and
numbers follow each other with no separator at all. Downstream only sees tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gongkai.document import Document, Grid, Paragraph, Where
from gongkai.locate.normalize import HAN, short_cache, simplify

# a whole cell that is a value: a number with an optional sign word/unit, e.g. '46件', '增加5', '-18', '28.50万元'
VALUE = re.compile(
    r"^\s*(?:(?:增加|减少|新增|增|减|共|计)\s*)?[-+−－]?\s*\d[\d,，\s]*(?:[.．]\d+)?\s*"
    r"(?:件|个|条|项|次|宗|份|人次|人|家|万元|元)?\s*$"
)
# cell texts that mean "nothing printed here"
BLANK_MARKS = frozenset({"", "-", "—", "——", "–", "/", "／", "\\", "无", "空", "*", "…", "...", "x", "X", "×"})
# a run of digits inside text (glued cells); a trailing 'N.' or 'N、' before CJK is the next label's numbering
_NUMBER_RUN = re.compile(r"[-−]?\d(?:[\d\s,]|-(?=\d))*(?:\.\d+)?(?:\s*(?:万元|元))?")
_NUMBERING_AFTER = re.compile(r"\s*[.．、]\s*[" + HAN + r"]")
_BRACKETED_NUMBERING = re.compile(r"[(（]\s*\d{1,2}\s*[)）]\s*[" + HAN + r"]")
_CJK = re.compile(r"[" + HAN + r"]")
# what OCR makes of a lone number with a speck beside it: digits and stray marks, nothing else
_SPLIT_DIGITS = re.compile(r"\d\s+\d")
_DIGIT_LOOKALIKE = re.compile(r"^\s*[oOlI|]\s*$")  # a lone letter OCR reads for 0 or 1
_SEVERAL_NUMBERS = re.compile(r"^\s*\d+(?:\s+\d+)+\s*$")
_GARBLED = re.compile(r"^[\s.,，。、·'‘’`:;：；|!_~]*\d[\d\s.,，。、·'‘’`:;：；|!_~]*$")


@dataclass(slots=True)  # not frozen: a frozen init costs a microsecond per token, and tokens are never changed
class Token:
    """One cell (or one fragment of a glued cell) with where it came from."""

    text: str  # raw text, as printed
    norm: str  # simplified, NFKC text used for matching
    kind: str  # "text" | "value" | "empty" | "row" (start of a grid or text row)
    where: Where
    block: int  # index of the Document block it came from
    glued: bool = False  # a value run cut out of text with no separator around it
    confidence: float | None = None
    garbled: bool = False  # an OCR'd cell whose one number is spoilt ('1.', '2 6 1'): its place is known, its value is not
    doubt: str | None = None  # why the reader is not sure the cell's text is all of it: its place is known, its value is not
    start: int | None = None  # where `text` starts in its line of text (None in a grid, or where the line number names several lines)
    merged_columns: bool = False  # a cell of its grid holds several numbers ('0 0'): the grid's columns are not the table's


def tokenize(document: Document) -> list[Token]:
    """Every block of the document as cell tokens, in reading order."""
    tokens: list[Token] = []
    blank_cells = _blank_lines_are_cells(document)
    empty_lines = not blank_cells and _blank_lines_only_in_cells(document)
    closed = _tab_rows_closed(document)
    shared = _shared_lines(document)
    blank_run = 0
    for index, block in enumerate(document.blocks):
        if isinstance(block, Grid):
            blank_run = 0
            tokens.extend(_grid_tokens(block, index))
            continue
        text = block.text
        if not text.strip():
            if _between_pipe_lines(document.blocks, index):
                # one cell per line with '|' lines between: an empty line there is an empty cell
                tokens.append(Token("", "", "empty", block.where, index))
                continue
            if empty_lines:
                tokens.append(Token("", "", "empty", block.where, index))
                continue
            blank_run += 1
            continue
        if blank_cells and blank_run > 1:
            # one blank line separates cells; every further blank line is an empty cell
            for _ in range(blank_run - 1):
                tokens.append(Token("", "", "empty", block.where, index))
        blank_run = 0
        if text.strip() == "|" and _bare_pipe_is_cell(document.blocks, index):
            tokens.append(Token("", "", "empty", block.where, index))
            continue
        if _FILLER.match(text.strip()) and _after_cell_line(document.blocks, index):
            continue  # the end of a row of one-cell lines, no cell
        tokens.extend(_line_tokens(block, index, located=block.where.line is not None and block.where.line not in shared, closed=closed))
    return tokens


def _numbers(cells: list[str]) -> int:
    return sum(1 for cell in cells if VALUE.match(cell.strip()))


def _tab_rows_closed(document: Document) -> bool:
    """True when the tab rows of a text end with a tab after their last cell: a row of seven numbers or more (a
    full row of table 三, or of table 四) ends with an empty field. Then the empty fields that end a row close it and
    are no cells (a row of six numbers and two tabs does not say that its seventh column is blank)."""
    rows = [b.text.rstrip("\n").split("\t") for b in document.blocks if isinstance(b, Paragraph) and "\t" in b.text]
    return any(_numbers(cells) >= 7 and not cells[-1].strip() for cells in rows)


_CELL_LINE = re.compile(r"^[^|]*[^|\s][^|]*\|\s*$")  # one cell a line, ended by a pipe: '规章 |', '0 |'
_FILLER = re.compile(r"^\|{2,}$")  # '||', '||||': the end of a row with fewer cells than the table


def _after_cell_line(blocks: list, index: int) -> bool:
    before = _next_text(blocks, index, -1)
    return before is not None and bool(_CELL_LINE.match(before))


def _bare_pipe_is_cell(blocks: list, index: int) -> bool:
    """Crawled text printing one cell a line, each ended by ' |' ('行政许可 |', '0 |', '|', '0 |', '|'): a row ends
    with one filler line ('|', or '||'… for a row of fewer cells), so a bare '|' is an empty cell unless it is the
    last line of the row before the next label."""
    if not _after_cell_line(blocks, index):
        return False
    after = _next_line(blocks, index)
    if after is None:
        return False
    if after == "|" or _FILLER.match(after):
        return True
    return bool(_CELL_LINE.match(after)) and _cell_pieces(after.rstrip().removesuffix("|"))[0][2] in ("value", "empty")


def _next_line(blocks: list, index: int) -> str | None:
    """The next non-blank line (None at a grid or the end)."""
    for block in blocks[index + 1 :]:
        if not isinstance(block, Paragraph):
            return None
        if block.text.strip():
            return block.text.strip()
    return None


def _next_text(blocks: list, index: int, step: int) -> str | None:
    """The nearest non-blank line before or after `index` past any bare '|' lines (None at a grid or the end)."""
    index += step
    while 0 <= index < len(blocks):
        block = blocks[index]
        if not isinstance(block, Paragraph):
            return None
        text = block.text.strip()
        if text and text != "|":
            return text
        index += step
    return None


def _shared_lines(document: Document) -> set[int]:
    """Line numbers several paragraphs share (an HTML element's lines, a docx paragraph's breaks): a
    position in one of them cannot be shown in 'its line'."""
    seen: set[int] = set()
    shared: set[int] = set()
    for block in document.blocks:
        if isinstance(block, Paragraph) and block.where.line is not None:
            (shared if block.where.line in seen else seen).add(block.where.line)
    return shared


def _grid_tokens(grid: Grid, index: int) -> list[Token]:
    out: list[Token] = []
    merged = any(_SEVERAL_NUMBERS.match(cell.text) for cell in grid.cells if cell.confidence is None)
    for row in grid.rows():
        if not row:
            continue
        out.append(Token("", "grid", "row", row[0].where, index))
        for cell in row:
            pieces = _grid_cell_pieces(cell.text)
            if cell.confidence is not None and _is_garbled(pieces, cell.text):
                out.append(Token(cell.text, simplify(cell.text.strip()), "value", cell.where, index, False, cell.confidence, garbled=True))
                continue
            if len(pieces) == 1 and pieces[0][2] == "value" and _SEVERAL_NUMBERS.match(cell.text):
                # '0 0' in one cell: a converter merged two columns (a number is never printed with spaces here)
                pieces = tuple((part, part, "value", False) for part in cell.text.split())
            tokens = _tokens(pieces, cell.where, index, cell.confidence)
            for token in tokens:
                token.merged_columns = merged
                if cell.doubt is not None:
                    token.doubt = cell.doubt
            out.extend(tokens)
    return out


def _is_garbled(pieces: tuple[Piece, ...], text: str) -> bool:
    """An OCR'd cell that should hold one number but holds a number with specks ('1.'), a letter
    for a digit ('o'), or digits in several boxes ('2 6 1', '12\n3': one number the OCR broke up,
    or the numbers of two rows whose rule it missed)."""
    if len(pieces) == 1:
        kind = pieces[0][2]
        if kind == "value":
            return bool(_SPLIT_DIGITS.search(text))  # OCR boxes joined by a space: one number, or two?
        return kind == "text" and bool(_GARBLED.match(text) or _DIGIT_LOOKALIKE.match(text))
    return all(kind == "value" for _, _, kind, _ in pieces)


@short_cache
def _grid_cell_pieces(text: str) -> tuple[Piece, ...]:
    """A grid cell's pieces: a label wrapped inside it ('商业\n企业') is one label; numbers on
    separate lines stay apart."""
    text = text.replace("\r", "")
    return _cell_pieces(text if _is_valueish_lines(text) else text.replace("\n", ""))


def _is_valueish_lines(text: str) -> bool:
    parts = [p for p in text.split("\n") if p.strip()]
    return len(parts) > 1 and all(VALUE.match(p) for p in parts)


def _line_tokens(block: Paragraph, index: int, *, located: bool, closed: bool = False) -> list[Token]:
    text = block.text
    if "\t" in text and sum(1 for cell in text.split("\t") if cell.strip()) > 1:
        out = [Token("", "line", "row", block.where, index)]
        # a tab row may start with empty label cells: they only pad the row
        cells = _cells(text, "\t", skip_first=False)
        while closed and cells and not cells[-1][0].strip():
            cells = cells[:-1]  # the tabs that close the row say no cell
        for cell, at in cells:
            out.extend(_cell_tokens(cell, block.where, index, block.confidence, at if located else None))
        return out
    if "|" in text:
        cells = _cells(text, "|", skip_first=text.lstrip().startswith("|"))
        if cells and not cells[-1][0].strip():
            cells = cells[:-1]
        out = [Token("", "line", "row", block.where, index)] if len(cells) > 1 else []
        for cell, at in cells:
            out.extend(_cell_tokens(cell, block.where, index, block.confidence, at if located else None))
        return out
    at = len(text) - len(text.lstrip("\t"))
    return _cell_tokens(text.strip("\t"), block.where, index, block.confidence, at if located else None)


def _cells(text: str, separator: str, *, skip_first: bool) -> list[tuple[str, int]]:
    """The cells of a tab or pipe row, each with where it starts in the line."""
    out: list[tuple[str, int]] = []
    at = 0
    for cell in text.split(separator):
        out.append((cell, at))
        at += len(cell) + 1
    return out[1:] if skip_first else out


def _cell_tokens(text: str, where: Where, index: int, confidence: float | None, start: int | None = None) -> list[Token]:
    """One cell → tokens: a value, an empty cell, a label, or glued label/number fragments."""
    return _tokens(_cell_pieces(text), where, index, confidence, start)


def _tokens(pieces: tuple[Piece, ...], where: Where, index: int, confidence: float | None, start: int | None = None) -> list[Token]:
    """The pieces of a cell as tokens; a cell's pieces are its text cut in order, so each starts where the one before ended."""
    if start is None:
        return [Token(raw, norm, kind, where, index, glued, confidence) for raw, norm, kind, glued in pieces]
    out: list[Token] = []
    for raw, norm, kind, glued in pieces:
        out.append(Token(raw, norm, kind, where, index, glued, confidence, start=start))
        start += len(raw)
    return out


Piece = tuple[str, str, str, bool]  # a token's text, norm, kind and glued, before it knows where it is


@short_cache
def _cell_pieces(text: str) -> tuple[Piece, ...]:
    """What one cell's text is made of (cells repeat across reports, so this is remembered)."""
    stripped = text.strip()
    if stripped in BLANK_MARKS:
        return ((text, "", "empty", False),)
    if VALUE.match(stripped):
        return ((text, simplify(stripped), "value", False),)
    if not any(ch.isdigit() for ch in stripped) or not _CJK.search(stripped):
        return ((text, simplify(stripped), "text", False),)
    return _split_glued(text)


def _split_glued(text: str) -> tuple[Piece, ...]:
    """'…申请数量801000081二、上年结转…' → text, value (glued), text, …"""
    out: list[Piece] = []
    pos = 0
    for match in _NUMBER_RUN.finditer(text):
        start, end = match.span()
        run = match.group()
        if _NUMBERING_AFTER.match(text, end) and run.strip():
            # the last digit numbers the next label ('…00000002.其他法律…')
            end -= 1
            run = run[:-1]
        if not run.strip() or not any(ch.isdigit() for ch in run):
            continue
        if _BRACKETED_NUMBERING.match(text, start - 1 if start else 0) and start and run.strip().isdigit():
            continue  # '（1）总体情况': a heading's or label's number, not a value
        if start > pos:
            piece = text[pos:start]
            out.append((piece, simplify(piece.strip()), "text", False))
        out.append((run, simplify(run.strip()), "value", True))
        pos = end
    if pos < len(text):
        piece = text[pos:]
        if piece.strip():
            out.append((piece, simplify(piece.strip()), "text", False))
    return tuple(out)


def _blank_lines_are_cells(document: Document) -> bool:
    """True when single blank lines separate the cells of flattened tables (so extra ones are empty cells)."""
    lines = [b.text for b in document.blocks if isinstance(b, Paragraph)]
    if len(lines) < 20:
        return False
    short_content = 0
    separated = 0
    for i in range(1, len(lines) - 1):
        if lines[i].strip() or not lines[i - 1].strip():
            continue
        if lines[i + 1].strip() and len(lines[i - 1].strip()) <= 30:
            separated += 1
    short_content = sum(1 for line in lines if line.strip() and len(line.strip()) <= 30)
    return short_content >= 20 and separated >= 0.6 * short_content


_SENTENCE_END = ("。", "；", "！", "？", ";")


def _blank_lines_only_in_cells(document: Document) -> bool:
    """True when a text of one cell a line has blank lines only among its cells: no paragraphs are set off by them
    (at most a table's blank corner cell follows a sentence's end) and most lines are short — then each blank line
    is an empty cell."""
    lines = [b.text.strip() for b in document.blocks if isinstance(b, Paragraph)]
    while lines and not lines[-1]:
        lines.pop()  # blank lines at the end set nothing off
    short = sum(1 for line in lines if line and len(line) <= 30)
    if short < 20 or short < 0.6 * sum(1 for line in lines if line):
        return False
    blank = after_sentence = 0
    before = None  # the last line with text
    for i, line in enumerate(lines):
        if line:
            before = line
            continue
        if before is None or "\t" in before or "|" in before:
            return False
        if lines[i - 1] == before:  # the first blank line of a run
            blank += 1
            after_sentence += before.endswith(_SENTENCE_END)
    # a table's blank corner cell may follow the paragraph before it; paragraphs set off by blank lines are many
    return blank > 0 and after_sentence <= 2 and after_sentence < blank


def _between_pipe_lines(blocks: list, index: int) -> bool:
    def pipe(i: int) -> bool:
        return 0 <= i < len(blocks) and isinstance(blocks[i], Paragraph) and blocks[i].text.strip() == "|"

    return pipe(index - 1) and pipe(index + 1)
