"""OCR'd cells in doubt, decided by the tables' identities where exactly one reading can hold.

The recogniser keeps its next-best readings of a doubtful number (`GridCell.readings`). A cell is in
doubt when extraction flagged its reading (`extraction.low_confidence`), or when it has other
readings and sits in an identity its value breaks. The doubtful cells that share identities are
tried together, every combination of their readings against every identity through them: when
exactly one combination makes all of them hold, its values are taken, the doubt is lifted and the
cell's provenance says how the value was chosen. A count read with a decimal point ('1.1') has the
reading without it ('11'), a speck between two digits. A flagged cell whose digits have no other
candidates (the doubt was a seal's stroke or a speck beside them, not another digit) is one
reading: the identities through it lift its doubt only when every one of them is judged and holds. Otherwise nothing changes: the cells keep their
first reading and their findings, and a broken identity is still reported.
"""

from __future__ import annotations

import itertools

from gongkai.cells import by_id
from gongkai.document import Document, Grid
from gongkai.extract.rows import Identity, identities
from gongkai.extract.values import parse_value

MAX_COMBINATIONS = 4096
LOW_CONFIDENCE = "extraction.low_confidence"


def choose_readings(extracted, document: Document) -> None:
    """Decide doubtful OCR'd cells of `extracted` (an `Extracted`) by the identities, in place."""
    template = extracted.meta.template
    if template is None or not extracted.ocr:
        return
    cells = extracted.cells
    flagged = {f.cells[0] for f in extracted.findings if f.rule == LOW_CONFIDENCE and len(f.cells) == 1}
    options = _options(extracted, document, flagged)
    if not options:
        return
    equations = identities(template)
    doubtful = {cid for cid in options if cid in flagged or any(not _holds(i, cells) for i in _through(equations, cid))}
    decided: dict[str, str] = {}
    for group in _groups(doubtful, equations):
        judged = [i for i in equations if any(c in group for c in i.cells) and all(c in group or cells.get(c) is not None for c in i.cells)]
        if not judged or any(len(options[cid]) == 1 and not _all_judged(cid, equations, judged) for cid in group):
            continue
        choices = [options[cid] for cid in group]
        if _count(choices) > MAX_COMBINATIONS:
            continue
        holding = []
        for combination in itertools.product(*choices):
            trial = dict(cells)
            trial.update({cid: value for cid, (value, _) in zip(group, combination)})
            if all(_holds(i, trial) for i in judged):
                holding.append(combination)
                if len(holding) > 1:
                    break
        if len(holding) != 1:
            continue
        for cid, (value, text) in zip(group, holding[0]):
            first = cells.get(cid)
            cells[cid] = value
            rules = "、".join(sorted({i.rule for i in judged if cid in i.cells}))
            if len(options[cid]) == 1:
                decided[cid] = f"识别把握不足的读数“{text}”没有别的数字候选，经过它的表内关系（{rules}）全部成立"
            elif value == first:
                decided[cid] = f"识别把握不足的读数“{text}”是各候选读数中唯一使表内关系（{rules}）全部成立的"
            else:
                decided[cid] = f"首选读数“{_first_text(options[cid])}”不合表内关系，按候选读数中唯一使（{rules}）全部成立的“{text}”取值"
    for cid, how in decided.items():
        provenance = extracted.provenance.get(cid)
        if provenance is not None:
            extracted.provenance[cid] = provenance.model_copy(update={"chosen": how})
        if extracted.tables is not None and cid in extracted.tables.unplaced:
            extracted.tables.unplaced.remove(cid)
    extracted.findings[:] = [
        f for f in extracted.findings if not (f.rule == LOW_CONFIDENCE and len(f.cells) == 1 and f.cells[0] in decided)
    ]


def _options(extracted, document: Document, flagged: set[str]) -> dict[str, list[tuple[int, str]]]:
    """For each placed count cell read by OCR with other readings, or flagged: its readings as (value, text),
    first reading first."""
    grids = [b for b in document.blocks if isinstance(b, Grid)]
    out: dict[str, list[tuple[int, str]]] = {}
    for cid, provenance in extracted.provenance.items():
        if provenance.table is None or provenance.row is None or provenance.col is None or provenance.table >= len(grids):
            continue
        if by_id().get(cid) is None or by_id()[cid].is_amount or extracted.cells.get(cid) is None:
            continue
        cell = next((c for c in grids[provenance.table].cells if c.row == provenance.row and c.col == provenance.col), None)
        if cell is None or not (cell.readings or cid in flagged or "." in cell.text):
            continue
        readings = [(extracted.cells[cid], cell.text.strip())]
        specks = (cell.text.strip().replace(".", ""),) if "." in cell.text else ()  # a count has no decimal point: a speck
        for text in (*cell.readings, *specks):
            value = parse_value(text)
            if isinstance(value, int) and value >= 0 and all(value != v for v, _ in readings):
                readings.append((value, text))
        if len(readings) > 1 or cid in flagged:
            out[cid] = readings
    return out


def _all_judged(cid: str, equations: tuple[Identity, ...], judged: list[Identity]) -> bool:
    """Every identity through the cell can be judged (none has an unknown cell)."""
    through = _through(equations, cid)
    return bool(through) and all(i in judged for i in through)


def _first_text(readings: list[tuple[int, str]]) -> str:
    return readings[0][1]


def _through(equations: tuple[Identity, ...], cid: str) -> list[Identity]:
    return [i for i in equations if cid in i.cells]


def _holds(identity: Identity, cells: dict) -> bool:
    values = [cells.get(c) for c in identity.cells]
    if any(v is None for v in values):
        return True  # not judged: no evidence either way
    return abs(sum(cells[c] for c in identity.lhs) - sum(cells[c] for c in identity.rhs)) < 1e-9


def _groups(doubtful: set[str], equations: tuple[Identity, ...]) -> list[list[str]]:
    """Doubtful cells joined when an identity goes through both."""
    parent = {c: c for c in doubtful}

    def find(c: str) -> str:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for identity in equations:
        inside = [c for c in identity.cells if c in parent]
        for other in inside[1:]:
            parent[find(other)] = find(inside[0])
    groups: dict[str, list[str]] = {}
    for c in sorted(doubtful):
        groups.setdefault(find(c), []).append(c)
    return list(groups.values())


def _count(choices: list[list]) -> int:
    total = 1
    for choice in choices:
        total *= len(choice)
    return total
