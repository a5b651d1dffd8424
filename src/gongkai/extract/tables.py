"""Map the token stream of each table onto canonical cell ids.

Rows are recognised by their labels (keywords of `rows.py`), in printed order; the values of a
row are the value/empty tokens that follow its label. How many there are, and whether the
layout fixes their columns, decides whether they can be placed: a value is placed only where
its column is certain; otherwise the row's cells stay null and an `extraction` finding names them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from functools import cache, lru_cache
from itertools import combinations, product

from gongkai.cells import by_id, cell_ids, label
from gongkai.extract.glued import agreeing, block_sums, row_sum, splits, stated_docs
from gongkai.extract.rows import APPEALS_CELLS, COLUMN_MEANINGS, COLUMN_TEMPLATES, RowSpec, column_meaning, identities, table_rows
from gongkai.extract.values import parse_value, unit_in_header
from gongkai.locate import Layout
from gongkai.locate.normalize import label_key, short_cache, simplify
from gongkai.locate.tokens import Token
from gongkai.report import Finding, Provenance

# What marks each template, one feature per block that differs (template.md §0): a block printed in
# the other template's columns is one feature against many, so the rest of the tables decide.
_FEATURES: dict[str, dict[str, tuple[str, ...]]] = {
    "2021": {
        "first_columns": ("本年制发件数", "本年废止件数", "现行有效件数", "制发件数", "废止件数"),
        "fee_amount": ("本年收费金额",),
        "other_subitems": ("逾期不补正", "缴纳费用", "不补正"),
    },
    "2019": {
        "first_columns": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "新制作数量"),
        "item_columns": ("上一年项目数量", "本年增/减", "本年增减"),
        "procurement": ("政府集中采购", "采购项目数量"),
        "other_services": ("对外管理服务事项",),
    },
}

@dataclass(slots=True)
class TableResult:
    """What extraction made of the tables: values, where they came from, and what it doubts."""

    template: str | None
    cells: dict[str, int | float | None] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    found_tables: set[str] = field(default_factory=set)
    rows_found: set[str] = field(default_factory=set)
    blank: list[str] = field(default_factory=list)  # cells printed blank in the source
    unplaced: list[str] = field(default_factory=list)  # cells whose value could not be placed with certainty
    mixed_other_row: list[str] | None = None  # a 2019 single （六） row printed in a 2021 table
    altered_labels: list[tuple[str, str, str]] = field(default_factory=list)  # (row key, official, printed)
    unsplittable: list[tuple[RowSpec, str]] = field(default_factory=list)  # glued runs no reading can make add up
    negative: list[tuple[RowSpec, str]] = field(default_factory=list)  # rows not placed that print a negative count anyway
    readings: list = field(default_factory=list)  # glued rows with several readings: (spec, token, splits, placeable)
    impossible: list[tuple[str, list[str], str]] = field(default_factory=list)  # (rule, cells, runs) no reading satisfies
    extra_rows: list[str] = field(default_factory=list)  # printed rows the template does not have (小计 …)
    stated: dict[str, int] = field(default_factory=dict)  # what the report's text says of table 二's cells, by meaning
    other_columns: list[tuple[str, str, str, str, tuple[str, ...]]] = field(default_factory=list)  # rows under the other template's headers: (row label, headers printed, values printed, that template, cells left null)


def detect_template(layout: Layout, year: int | None) -> str | None:
    """'2021' or '2019' by the blocks whose labels are the template's own; the year only breaks a tie."""
    found: dict[str, set[str]] = {"2019": set(), "2021": set()}
    for table in ("active", "requests"):
        span = layout.tables.get(table)
        if not span:
            continue
        for token in layout.tokens[span[0] : span[1]]:
            if token.kind != "text":
                continue
            key = label_key(token.norm)
            for template, features in _feature_keys().items():
                found[template].update(name for name, markers in features if any(m in key for m in markers))
    if len(found["2021"]) != len(found["2019"]):
        return max(found, key=lambda t: len(found[t]))
    if not layout.tables:
        return None
    return "2021" if (year or 2021) >= 2021 else "2019"


@cache
def _feature_keys() -> dict[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    return {t: tuple((name, tuple(label_key(m) for m in markers)) for name, markers in f.items()) for t, f in _FEATURES.items()}


def extract_tables(layout: Layout, template: str) -> TableResult:
    result = TableResult(template, cells={cid: None for cid in cell_ids(template)})
    result.stated = stated_docs(simplify(layout.document.text()))
    for table in ("active", "requests"):
        span = layout.tables.get(table)
        if span:
            _walk_rows(layout.tokens, span, table_rows(table, template), table, result)
            _rows_in_printed_order(layout.tokens[span[0] : span[1]], table, table_rows(table, template), result)
    span = layout.tables.get("appeals")
    if span:
        _read_appeals(layout.tokens, span, result)
    _resolve_readings(result, template)
    # a table is there when at least one of its rows was recognised (an anchor alone is not a table)
    result.found_tables = {key.split(".")[0] for key in result.rows_found}
    return result


# ── rows ────────────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class _RowHit:
    spec: RowSpec
    label: list[Token]
    values: list[Token] = field(default_factory=list)
    tabular: bool = False  # values came from a tab or pipe row of text, where empty cells may be padding
    columns: tuple[tuple[str, str], ...] = ()  # the column headers printed over the row: (as printed, meaning)
    header: str = ""  # the header row's text they were read from
    label_row: int | None = None  # the printed row (grid or text row) its label stands in, if any
    detached: bool = False  # its values stand in a row of their own, without a label
    after_orphans: bool = False  # the row just before its label held values and no label
    before_orphans: bool = False  # a row of values without a label came right after its values
    after_stray: bool = False  # numbers no label owned came before it in its block (labels may follow their values)
    block: int = 0  # which block of the table (a header of table 二 starts one) it stands in
    value_row: int | None = None  # the printed row its last value stood in


def _walk_rows(tokens: list[Token], span: tuple[int, int], specs: tuple[RowSpec, ...], table: str, result: TableResult) -> None:
    hits: list[_RowHit] = []
    label_run: list[Token] = []
    current: _RowHit | None = None
    row_block = -1
    row_kind = ""
    header_unit: str | None = None
    header_text: list[str] = []  # the text since the last row: a header row, its headers maybe wrapped over cells
    columns: tuple[tuple[str, str], ...] = ()  # the header row over the rows that follow
    columns_closed = True  # a row came since: the next header starts a new header row
    header = ""  # the text of the header row `columns` were read from, without the row label after it
    order = {spec.key: i for i, spec in enumerate(specs)}
    rows = _Rows()
    extra = False  # the values that follow are a 小计 row's, the template has none
    printed: list = []  # labels (hits) and the cells of printed rows, (row, token), in the order they came
    block, stray = 0, False  # the block of the table the walk is in; numbers no label owned came in it
    unowned: dict[int, list[Token]] = {}  # each block's numbers no label owned, outside printed rows
    blank_label: set[int] = set()  # blocks whose first unowned number came right after an empty cell (a label's, lost)
    previous: Token | None = None
    for token in tokens[span[0] : span[1]]:
        previous, before = token, previous
        if token.kind == "row":
            row_block, row_kind = token.block, token.norm
            rows.start()
            continue
        in_row = token.block == row_block
        if not in_row:
            rows.leave()
        if token.kind == "text":
            if current is not None and current.spec.exact and not any(t.kind == "value" for t in current.values):
                hits.remove(current)  # a bare '总计' or '其他' over empty cells is a column header
                current = None
            if current is not None and current.values:
                current = None
                label_run = []
            label_run.append(token)
            if in_row and _other_tables_label(token.norm, table, result.template):
                rows.other_label = True
            if _is_block_header(token.norm):
                rows.last = None  # a new block's header: what follows is not the rest of the row before
                block, stray = block + 1, False
            extra = False
            if "小计" in token.norm or "合计" in token.norm:
                result.extra_rows.append(token.text.strip())
                current, label_run, extra = None, [], True
                rows.label(in_row)  # a row of its own label: its values are no one else's
                continue
            if table == "active" and unit_in_header(token.norm) and "金额" in token.norm:
                header_unit = unit_in_header(token.norm)
            altered = _altered_header(token)
            if altered is not None:
                result.altered_labels.append(("", altered, token.text.strip()))
            if table == "active":
                if columns_closed:
                    header_text, columns_closed = [], False
                header_text.append(token.norm)
                headers = column_headers("".join(header_text))
                columns = headers if headers else columns
            spec = _match_row(label_run, specs, order, hits)
            if spec is not None and spec.ambiguous:
                for piece in label_run:
                    own = _row_matches([piece], specs, order, hits)
                    other = _best(own) if own else None
                    if other is not None and other.cells and other.key != spec.key:
                        hits.append(_RowHit(_ambiguous(other), []))
            if spec is not None and current is not None and not current.values and spec.cells and current.spec.cells:
                data_order = [order[x.key] for x in specs if x.cells]
                if data_order.index(order[current.spec.key]) != data_order.index(order[spec.key]) - 1:
                    # two labels of rows far apart stand together: whose values follow is unknown
                    current.spec, spec = _ambiguous(current.spec), _ambiguous(spec)
            if spec is not None and spec.cells and any(h.spec.key == spec.key and any(t.kind == "value" for t in h.values) for h in hits):
                # the same row printed twice: which values are its own is unknown
                for h in hits:
                    if h.spec.key == spec.key:
                        h.spec = _ambiguous(h.spec)
                spec = _ambiguous(spec)
            if spec is not None:
                if table == "active" and len(header_text) > 1:
                    above = "".join(header_text[:-1])  # the row's label (a row of table 二 has one) ends the text
                    header = above if column_headers(above) == columns else header
                current = _RowHit(spec, list(label_run), columns=columns, header=header, label_row=rows.index if in_row else None)
                current.after_orphans = rows.orphan_before
                current.after_stray, current.block = stray, block
                rows.label(in_row)
                rows.last = None
                hits.append(current)
                printed.append(current)
                label_run = []
                columns_closed = True
            continue
        if in_row and token.kind in ("value", "empty"):
            printed.append((rows.index, token))
        elif token.kind == "value":
            printed.append((None, token))  # a number outside any printed row
        rows.value(in_row and token.kind == "value")  # blank cells alone are no row of values
        if current is None and token.kind == "value" and not in_row and not extra and not token.glued:
            rows.stray()  # a number no label owns: labels may stand after their values here
            stray = True
            if block not in unowned and before is not None and before.kind == "empty" and before.block != row_block:
                blank_label.add(block)  # an empty cell of its own line, not one of a grid's or a text row's
            unowned.setdefault(block, []).append(token)
        if current is not None:
            if in_row and row_kind == "line":
                current.tabular = True
            if in_row and current.label_row != rows.index and token.kind == "empty":
                continue  # a blank cell of another printed row (a header row after it, or a row of its own label) is not this row's blank
            if in_row and current.label_row != rows.index and token.kind == "value":
                current.detached = True
            current.values.append(token)
            if token.kind == "value":
                rows.last, current.value_row = current, rows.index if in_row else None
    rows.leave()
    if table == "active":
        _rows_without_label(hits, {b: numbers for b, numbers in unowned.items() if b in blank_label}, specs, result)
    _shifted_chains(hits)
    paired = _pair_rows_and_labels(hits, printed, specs)
    if table == "requests":
        _rows_in_table_order(hits, printed, specs, paired)
    last = hits[-1] if hits else None
    blank_before = len(result.blank)
    for hit in hits:
        # only the last row of a table cut off by the end of the document may be short
        _place_row(hit, result, truncated=hit is last and span[1] >= len(tokens), unit=header_unit)
        printed = label_alteration(hit)
        if printed is not None:
            result.altered_labels.append((hit.spec.key, hit.spec.label, printed))
    if rows.orphans and len(result.blank) > blank_before:
        _blanks_in_doubt(result, result.blank[blank_before:])


def _pair_rows_and_labels(hits: list[_RowHit], printed: list, specs: tuple[RowSpec, ...]) -> set[int]:
    """A converter's table where a label too long for one line is printed apart from its row of numbers (PDF →
    markdown): between two rows that hold their own label and numbers, rows of numbers without a label and
    labels without numbers alternate. If they pair up one way only — the run starts with numbers and ends with
    a label (each label after its numbers), or the other way round — and the labels are exactly the template's
    rows between the two, in order, each label gets its own row of numbers. Anything else is left as it was
    (in doubt). Returns the ids of the tokens it gave to a label."""
    label_rows = {h.label_row for h in hits if h.label_row is not None}
    done: set[int] = set()
    items: list = []  # a hit, or (row, [tokens]) for a printed row without a label
    for entry in printed:
        if isinstance(entry, _RowHit):
            items.append(entry)
        elif entry[0] not in label_rows:
            row, token = entry
            if items and isinstance(items[-1], tuple) and items[-1][0] == row:
                items[-1][1].append(token)
            else:
                items.append((row, [token]))
    items = [i for i in items if not isinstance(i, tuple) or any(t.kind == "value" for t in i[1])]
    position = {spec.key: i for i, spec in enumerate(specs)}

    def anchored(item) -> bool:
        return isinstance(item, _RowHit) and item.label_row is not None and any(t.kind == "value" for t in item.values if t in _own_row(item, printed))

    anchors = [i for i, item in enumerate(items) if anchored(item)]
    for a, b in zip(anchors, anchors[1:]):
        run = [item for item in items[a + 1 : b] if not (isinstance(item, _RowHit) and not item.spec.cells)]  # group labels name no row
        if len(run) < 2 or len(run) % 2:
            continue
        kinds = ["label" if isinstance(item, _RowHit) else "row" if item[0] is not None else "stray" for item in run]
        if kinds == ["row", "label"] * (len(run) // 2):
            pairs = [(run[i + 1], run[i]) for i in range(0, len(run), 2)]
        elif kinds == ["label", "row"] * (len(run) // 2):
            pairs = [(run[i], run[i + 1]) for i in range(0, len(run), 2)]
        else:
            continue
        labels = [hit for hit, _ in pairs]
        pairs = [(hit, (row, _from_first_value(tokens))) for hit, (row, tokens) in pairs]
        if any(len(tokens) != len(hit.spec.cells) for hit, (_, tokens) in pairs):
            continue  # a row of more or fewer cells than its label's (a cell holding two numbers, one lost): not placed
        between = [s.key for s in specs[position[items[a].spec.key] + 1 : position[items[b].spec.key]] if s.cells]
        if [h.spec.key for h in labels] != between or any(h.spec.ambiguous or h.label_row is not None and any(t.kind == "value" for t in _own_row(h, printed)) for h in labels):
            continue
        moved = {id(t) for _, (_, tokens) in pairs for t in tokens}
        for hit in hits:
            hit.values = [t for t in hit.values if id(t) not in moved]
        for hit, (_, tokens) in pairs:
            hit.values = list(tokens)
            hit.detached = hit.after_orphans = hit.before_orphans = hit.after_stray = False
        items[a].before_orphans = False  # the row after it was another label's, not the rest of its numbers
        done |= moved
    return done


def _from_first_value(tokens: list[Token]) -> list[Token]:
    """A printed row's cells from its first number on: blank cells before it are the padding of a converter's grid."""
    first = next((i for i, t in enumerate(tokens) if t.kind == "value"), len(tokens))
    return tokens[first:]


def _own_row(hit: _RowHit, printed: list) -> list[Token]:
    """The cells printed in the same row as the hit's label."""
    return [token for entry in printed if not isinstance(entry, _RowHit) and entry[0] == hit.label_row for token in [entry[1]]]


def _rows_in_table_order(hits: list[_RowHit], printed: list, specs: tuple[RowSpec, ...], done: set[int]) -> None:
    """A converter's table 三 whose labels were scattered (PDF → markdown: a label wrapped over lines is printed
    apart from its numbers, often out of order) while its rows of numbers kept their order. Between two rows that
    print their own label and a full row of numbers (anchors, in the template's order), the rows of numbers
    without a label are the template's rows between the two, in order — when they are exactly as many, each a
    full row, no other label holds numbers there and no number stands outside a row. Labels printed on their
    own there say nothing (they are out of order); anything else is left as it was (in doubt)."""
    position = {spec.key: i for i, spec in enumerate(specs)}
    widths = {len(s.cells) for s in specs if s.cells}
    if len(widths) != 1:
        return
    (width,) = widths
    label_rows = {h.label_row for h in hits if h.label_row is not None}
    own: dict[int, list[Token]] = {}  # each printed row's cells from its first number on (blank cells before are padding)
    for entry in printed:
        if not isinstance(entry, _RowHit) and entry[0] is not None and (entry[1].kind == "value" or entry[0] in own):
            own.setdefault(entry[0], []).append(entry[1])

    def full(tokens: list[Token]) -> bool:
        return len(tokens) == width and all(t.kind == "value" and not t.glued for t in tokens)

    anchors = [h for h in hits if h.spec.cells and h.label_row is not None and full(own.get(h.label_row, []))]
    keys = [position[h.spec.key] for h in anchors]
    if len(anchors) < 2 or keys != sorted(set(keys)):
        return  # a row printed twice, or anchors out of the template's order: nothing is placed by order
    sequence: list = []  # hits and printed rows (row index) and stray numbers, in the order they came
    for entry in printed:
        if isinstance(entry, _RowHit):
            sequence.append(entry)
        elif entry[0] is None:
            sequence.append(("stray", entry[1]))
        elif entry[0] not in label_rows and (not sequence or sequence[-1] != ("row", entry[0])):
            sequence.append(("row", entry[0]))
    at = {id(item): i for i, item in enumerate(sequence) if isinstance(item, _RowHit)}
    for a, b in zip(anchors, anchors[1:]):
        run = sequence[at[id(a)] + 1 : at[id(b)]]
        rows = [item[1] for item in run if isinstance(item, tuple) and item[0] == "row" and item[1] in own]
        slots = [s for s in specs[position[a.spec.key] + 1 : position[b.spec.key]] if s.cells]
        if not rows or len(rows) != len(slots) or not all(full(own[r]) for r in rows):
            continue
        if any(isinstance(item, tuple) and item[0] == "stray" for item in run):
            continue  # a number outside the rows: the head of a wrapped number, or a row's lost cell
        if any(id(t) in done for r in rows for t in own[r]):
            continue
        if any(isinstance(item, _RowHit) and item.spec.cells and item.label_row not in (None, a.label_row, b.label_row) and item.label_row in own for item in run):
            continue  # a label with numbers in its own row that is no anchor: a row cut short
        moved = {id(t) for r in rows for t in own[r]} | {id(t) for h in (a, b) for t in own[h.label_row]}
        slot_keys = {s.key for s in slots}
        for hit in [h for h in hits if h.spec.key in slot_keys]:
            hits[:] = [h for h in hits if h is not hit]  # its label stood apart, out of order: the row is placed by order instead
        for hit in hits:
            hit.values = [t for t in hit.values if id(t) not in moved]
        for h in (a, b):
            h.values = list(own[h.label_row])
            h.spec = replace(h.spec, ambiguous=False)  # its label and numbers share their printed row
            h.detached = h.after_orphans = h.before_orphans = h.after_stray = False
        at_a = next(i for i, h in enumerate(hits) if h is a) + 1
        hits[at_a:at_a] = [_RowHit(spec, [], values=list(own[r]), tabular=a.tabular, block=a.block, value_row=r) for spec, r in zip(slots, rows)]


def _rows_in_printed_order(region: list[Token], table: str, specs: tuple[RowSpec, ...], result: TableResult) -> None:
    """Table 二 or 三 read by the order of its rows of numbers, when its labels could not place them all (a
    converter's table: labels wrapped over lines and printed apart from their numbers, often after them). The
    printed rows that hold numbers are the template's rows in order when they are exactly as many and each
    holds exactly one number a column of its row; every row label printed beside numbers must name the row the
    order gives, at least two of them must, and every cell the labels placed must agree; a row of table 三 short of
    a number that cannot be digits carried from the row before keeps its place and is left as the labels read it
    (its blank cell's column is unknown). Table 二 also needs
    every column header of its template printed and none of the other's (a block in the other template's
    columns is never placed). Anything else leaves the table as it was."""
    data = [spec for spec in specs if spec.cells]
    cells = {cid for spec in data for cid in spec.cells}
    blank = set(result.blank) - set(result.unplaced)
    unsettled = {c for c in cells if c in result.unplaced or (result.cells.get(c) is None and c not in blank)}  # in doubt, or not found
    if not unsettled or any(set(other[4]) & cells for other in result.other_columns):
        return
    rows = _printed_number_rows(region)
    subtotals = sum("小计" in t.norm or "合计" in t.norm for t in region if t.kind == "text")
    if rows is not None and table == "requests" and subtotals and len(rows) > len(data) and any(len(numbers) < len(data[0].cells) for numbers, _, _ in rows):
        rows = _without_subtotals(rows, specs, subtotals) or rows  # 小计 rows set aside before the rows with blank cells are placed
    short: set[int] = set()  # rows short of a number that continue none: a blank cell, its column unknown — left as they were
    if rows is not None and table == "requests" and any(len(numbers) < len(data[0].cells) for numbers, _, _ in rows):
        short = {i for i, (numbers, _, _) in enumerate(rows) if len(numbers) < len(data[0].cells)}
        if len(rows) == len(data) and not any(_may_continue(rows, i) and _named_rows(rows[i][1], specs) != {data[i].key} for i in short):
            pass  # a row short of a number beside its own label (the one its place gives) is no carried digits
        else:
            rows, short = _wrapped_numbers_joined(rows, specs), set()
    if rows is not None and table == "active" and len(rows) > len(data):
        rows = _lone_numbers_joined(rows, data)
    if rows is not None and table == "requests" and len(rows) > len(data):
        rows = _without_subtotals(rows, specs, subtotals)
    if rows is None or len(rows) != len(data) or any(len(numbers) != len(spec.cells) for at, (spec, (numbers, _, _)) in enumerate(zip(data, rows)) if at not in short):
        return
    unit = "万元"
    if table == "active":
        texts = [t.norm for t in region if t.kind == "text"]
        headers = {meaning for norm in texts for _, meaning in column_headers(norm)}
        other = "2019" if result.template == "2021" else "2021"
        if not {column_meaning(c) for c in cells} <= headers or any(COLUMN_TEMPLATES.get(m) == other for m in headers):
            return
        unit = next((u for norm in texts if "金额" in norm and (u := unit_in_header(norm))), unit)
    agreeing = 0
    for at, (spec, (numbers, labels, label_after)) in enumerate(zip(data, rows)):
        named = _named_rows(labels, specs)
        if named - {spec.key} or (label_after and spec.key not in named):
            return  # a label beside numbers names another row: the order is not the template's
        agreeing += spec.key in named
        for cid, token in zip(spec.cells, numbers if at not in short else []):
            if cid not in unsettled and result.cells.get(cid) != parse_value(token.text, amount=by_id()[cid].is_amount, default_unit=unit):
                return  # the labels placed (or left blank) a cell otherwise
    if agreeing < 2:
        return
    cells_of_short = _short_rows_placed(rows, short, data, result.template) if short else {}
    for at, placed in list(cells_of_short.items()):
        if any(cid not in unsettled and result.cells.get(cid) != (None if token is None else parse_value(token.text)) for cid, token in zip(data[at].cells, placed)):
            del cells_of_short[at]  # the labels read that row otherwise: left as they read it
    short -= set(cells_of_short)
    blanks: list[str] = []
    for at, (spec, (numbers, _, _)) in enumerate(zip(data, rows)):
        result.rows_found.add(spec.key)
        for cid, token in zip(spec.cells, cells_of_short.get(at) or (numbers if at not in short else [])):
            if token is None or token.kind == "empty":  # a blank cell (its place known), or a blank's placeholder
                result.cells[cid] = None
                result.provenance.pop(cid, None)
                blanks.append(cid)
            else:
                _fill(result, cid, spec.label, token.text, token, amount=by_id()[cid].is_amount, unit=unit)
    placed_rows = {spec.key for at, spec in enumerate(data) if at not in short}
    cells = {cid for spec in data if spec.key in placed_rows for cid in spec.cells}
    result.unplaced = [c for c in result.unplaced if c not in cells]
    result.blank = [c for c in result.blank if c not in cells] + blanks
    result.findings = [f for f in result.findings if not f.cells or not set(f.cells) <= cells]
    result.unsplittable = [(s, run) for s, run in result.unsplittable if s.key not in placed_rows]
    result.negative = [(s, run) for s, run in result.negative if s.key not in placed_rows]
    result.readings = [r for r in result.readings if r[0].key not in placed_rows]


def _named_rows(labels: list[Token], specs: tuple[RowSpec, ...]) -> set[str]:
    """The rows (with cells) the text cells of a printed row name. A row whose number the text contradicts
    ('4.无正当理由大量重复申请' is not 2.重复申请, whose keyword an altered label holds) is not named."""
    named: set[str] = set()
    for text in labels:
        key = label_key(text.norm)
        printed = set(_ITEM_NUMBER.findall(text.text))
        for i in _keyword_positions(specs, key, key):
            own = _ITEM_NUMBER.findall(specs[i].label)
            if specs[i].cells and not (len(printed) == 1 and own and own[0] not in printed):
                named.add(specs[i].key)
    return named


_ITEM_NUMBER = re.compile(r"(?<![\d.])(\d{1,2})[.．、]")


_MAX_SHORT_WAYS = 4096  # ways of placing the short rows together beyond which they stay in doubt


def _short_rows_placed(rows: list, short: set[int], data: list[RowSpec], template: str) -> dict[int, list[Token | None]]:
    """Rows of table 三 short of a number (blank cells), each in its place in the order, given their columns when
    one way remains: the row's numbers keep their order; a number printed in a grid stands in a column (as
    printed) where the same grid's full rows put that column's numbers; the row adds up to its 总计 (a blank
    counts 0); and, when several ways remain, the column identities through the other rows' numbers choose. A row
    is placed only if its printed columns leave one way, or every way that satisfies all of them gives it the same
    cells, blank or not; the rest stay as
    the labels read them (in doubt). Printed columns say nothing in a grid with no full row (another grid's columns
    are not its own) or one that merged two numbers into a cell (its cells are not the table's columns). Returns each placed row's tokens cell by cell (None for a blank)."""
    width = len(data[0].cells)
    learned: dict[int, list[set[int]]] = {}  # the grid's printed columns of each column, from its full rows
    merged: set[int] = set()
    values: dict[str, int] = {}
    for at, (numbers, _, _) in enumerate(rows):
        if at in short:
            continue
        for cid, token in zip(data[at].cells, numbers):
            if token.kind == "empty":
                values[cid] = 0  # a blank, printed as its placeholder
            elif not re.fullmatch(r"\s*-?\d+\s*", token.text):
                return {}
            else:
                values[cid] = int(token.text)
        grids = {t.where.table for t in numbers}
        if len(grids) == 1 and None not in grids and all(t.where.col is not None for t in numbers):
            if len({t.where.col for t in numbers}) < width:
                merged.add(numbers[0].where.table)  # cells holding two numbers: its cells are not the table's columns
            for j, token in enumerate(numbers):
                learned.setdefault(numbers[0].where.table, [set() for _ in range(width)])[j].add(token.where.col)
    ways: dict[int, list[tuple[Token | None, ...]]] = {}
    positioned: set[int] = set()  # rows whose numbers' printed columns chose among the ways
    for at in short:
        numbers = rows[at][0]
        if not numbers or any(not re.fullmatch(r"\s*-?\d+\s*", t.text) for t in numbers):
            continue
        grid = None
        if all(t.where.col is not None and t.where.table == numbers[0].where.table for t in numbers) and numbers[0].where.table not in merged:
            grid = learned.get(numbers[0].where.table)
        if grid is not None:
            positioned.add(at)
        found = []
        for positions in combinations(range(width), len(numbers)):
            if grid is not None and any(t.where.col not in grid[j] for t, j in zip(numbers, positions)):
                continue
            placed: list[Token | None] = [None] * width
            for token, j in zip(numbers, positions):
                placed[j] = token
            if placed[-1] is None or sum(int(t.text) for t in placed[:-1] if t is not None) != int(placed[-1].text):
                continue
            found.append(tuple(placed))
        if found:
            ways[at] = found
    # one way by the printed columns alone is the row as printed, whatever the identities then say of the report
    out: dict[int, list[Token | None]] = {at: list(found[0]) for at, found in ways.items() if len(found) == 1 and at in positioned}
    for at, placed in out.items():
        values.update({cid: int(t.text) if t is not None else 0 for cid, t in zip(data[at].cells, placed)})
    ways = {at: found for at, found in ways.items() if at not in out}
    if not ways or math.prod(len(w) for w in ways.values()) > _MAX_SHORT_WAYS:
        return out
    checks = [i for i in identities(template) if i.rule in ("requests.balance", "requests.outcomes_sum")]
    unknown = {cid for at in short if at not in ways and at not in out for cid in data[at].cells}
    checks = [i for i in checks if not (set(i.lhs) | set(i.rhs)) & unknown]
    fitting = []
    for combo in product(*ways.values()):
        known = dict(values)
        for at, placed in zip(ways, combo):
            known.update({cid: int(t.text) if t is not None else 0 for cid, t in zip(data[at].cells, placed)})
        if all(sum(known[c] for c in i.lhs) == sum(known[c] for c in i.rhs) for i in checks):
            fitting.append(combo)
    for n, at in enumerate(ways):
        chosen = {tuple(id(t) if t is not None else None for t in combo[n]) for combo in fitting}
        if len(chosen) == 1:
            out[at] = list(fitting[0][n])
    return out


def _lone_numbers_joined(rows: list, data: list[RowSpec]) -> list:
    """Table 二's printed rows with a number printed alone on the line before a row that holds its label joined to
    that row, in front (a converter sets a cell lower or higher than its row apart: 政府集中采购's 采购项目数量
    on a line of its own over the row with its amount) — only if every row then holds exactly its template row's
    number of cells; otherwise the rows as printed."""
    joined: list = []
    at = 0
    while at < len(rows):
        numbers, labels, label_after = rows[at]
        if len(numbers) == 1 and not labels and not label_after and at + 1 < len(rows) and rows[at + 1][1] and not rows[at + 1][2]:
            joined.append((numbers + rows[at + 1][0], rows[at + 1][1], False))
            at += 2
            continue
        joined.append(rows[at])
        at += 1
    if len(joined) != len(data) or any(len(numbers) != len(spec.cells) for (numbers, _, _), spec in zip(joined, data)):
        return rows
    return joined


def _may_continue(rows: list, at: int) -> bool:
    """The numbers of printed row `at` may be digits carried from the row before: a number of that row not 0 stands
    in a column (as printed) of one of them."""
    if at == 0:
        return False
    columns = {t.where.col for t in rows[at][0]}
    return any(t.where.col in columns and t.text.strip() not in ("0", "") for t in rows[at - 1][0]) or None in columns


def _wrapped_numbers_joined(rows: list, specs: tuple[RowSpec, ...]) -> list | None:
    """Table 三 whose numbers wrapped inside narrow cells, as a converter prints a PDF's: a row of seven numbers
    (each a number's first digits) followed by rows of the digits carried to the next lines — fewer than seven, or
    seven when every number carries on (which of those rows are carried digits is tried both ways). A carried
    piece continues one of the numbers of its cell that is not 0 and was continued on the line before: in a column
    (as printed) of that cell when it stands under the row's cells, else (a line the converter printed in a grid of
    its own, or alone as text) any such numbers, its digits in their order. A reading is kept only if each row's
    applicants add up to its 总计 and the table's column identities hold (always, once a piece stood outside the
    row's cells). A 小计 row printed with its label is joined like the others and left for `_without_subtotals`.
    None unless exactly one reading remains (the numbers stay in doubt)."""
    data = [spec for spec in specs if spec.cells]
    width = len(data[0].cells)

    def named(labels: list[Token]) -> bool:
        return any(_keyword_positions(specs, k, k) for t in labels if (k := label_key(t.norm)))

    full = [len(numbers) == width for numbers, _, _ in rows]
    subtotal = [any("小计" in t.norm or "合计" in t.norm for t in labels) for _, labels, _ in rows]
    maybe_carried = [
        i for i in range(1, len(rows))
        if full[i] and full[i - 1] and not rows[i][2] and not named(rows[i][1]) and not subtotal[i]
        and {t.where.col for t in rows[i][0]} <= {t.where.col for t in rows[i - 1][0]}
    ]  # fmt: skip
    subtotals = sum(f and s for f, s in zip(full, subtotal))
    extra = sum(full) - len(data) - subtotals
    if extra < 0 or extra > len(maybe_carried) or math.comb(len(maybe_carried), extra) > MAX_READINGS:
        return None
    solutions: list = []
    for carried in combinations(maybe_carried, extra):
        mains = _mains_and_carried(rows, width, set(carried), named)
        if mains is None or len(mains) != len(data) + subtotals:
            continue
        is_subtotal = [any("小计" in t.norm or "合计" in t.norm for t in labels) for _, labels, _, _ in mains]
        if sum(is_subtotal) != subtotals:
            continue
        for found in _joined_readings(mains, data, is_subtotal):
            solutions.append((mains, found))
        if len(solutions) > 1:
            return None
    if len(solutions) != 1:
        return None
    mains, chosen = solutions[0]
    return [
        ([t if t.kind == "empty" else replace(t, text=str(v), start=None) for t, v in zip(numbers, row)], labels, label_after)
        for (numbers, labels, label_after, _), row in zip(mains, chosen)
    ]


def _mains_and_carried(rows: list, width: int, carried: set[int], named) -> list | None:
    """The rows of numbers with the lines of digits carried under each; None if a line continues no row."""
    mains: list[tuple[list[Token], list[Token], bool, list[list[Token]]]] = []
    for at, (numbers, labels, label_after) in enumerate(rows):
        if len(numbers) == width and at not in carried:
            mains.append((numbers, labels, label_after, []))
            continue
        if not mains or (named(labels) and not label_after) or any(not t.text.strip().isdigit() for t in numbers):
            return None  # (a number alone over a line of label — a piece of a group's, '供' of 无法提供, or a row's
            # printed apart — is no row of seven cells: it may be carried digits)
        columns = {t.where.col for t in mains[-1][0]}
        grids = {t.where.table for t in mains[-1][0]} | {t.where.table for t in numbers}
        if len(grids) == 1 and None not in grids and not {t.where.col for t in numbers} <= columns:
            return None  # numbers short of a row under no cell of the row before, in its grid: a row with a blank, or a stray
        mains[-1][3].append(numbers)
    return mains


def _joined_readings(mains: list, data: list[RowSpec], is_subtotal: list[bool]) -> list[list[tuple[int, ...]]]:
    """The readings of the whole table (up to two) whose rows add up and whose column identities hold."""
    readings = []
    loose = False
    for numbers, _, _, lines in mains:
        found = sorted(r for r in _carried_readings(numbers, lines) if sum(r[:-1]) == r[-1])
        if not found:
            return []
        readings.append(found)
        loose = loose or any(not _under_cells(numbers, line) for line in lines)
    sizes = math.prod(len(found) for found in readings)
    if sizes > MAX_COMBINATIONS:
        return [[], []]  # too many to tell apart: as good as several
    template = "2021" if len(data) == 25 else "2019"
    columns = [i for i in identities(template) if i.rule in ("requests.balance", "requests.outcomes_sum")]
    fitting = []
    for combo in product(*readings):
        rows = [row for row, sub in zip(combo, is_subtotal) if not sub]
        values = {cid: v for spec, row in zip(data, rows) for cid, v in zip(spec.cells, row)}
        if (sizes == 1 and not loose) or all(sum(values[c] for c in i.lhs) == sum(values[c] for c in i.rhs) for i in columns):
            fitting.append(list(combo))
            if len(fitting) > 1:
                break
    return fitting


def _under_cells(numbers: list[Token], line: list[Token]) -> bool:
    """A carried line whose pieces each stand in a column (as printed) of the row's cells."""
    return all(t.where.col is not None for t in line) and {t.where.col for t in line} <= {t.where.col for t in numbers}


def _carried_readings(numbers: list[Token], lines: list[list[Token]]) -> set[tuple[int, ...]]:
    """Every way the digits of the continuation lines can finish the row's numbers, cell by cell (see above)."""
    cols = [t.where.col for t in numbers]
    start = ["0" if t.kind == "empty" else t.text.strip() for t in numbers]  # a blank's placeholder: 0 in every sum, never continued
    if any(not re.fullmatch(r"-?\d+", v) for v in start):
        return set()
    states = [(start, {i for i, v in enumerate(start) if v.isdigit() and v != "0" and numbers[i].kind != "empty"})]
    for line in lines:
        pieces: dict[int | None, list[str]] = {}
        if _under_cells(numbers, line):
            for token in line:
                pieces.setdefault(token.where.col, []).append(token.text.strip())
        following = []
        for values, still_open in states:
            if pieces:
                options = []
                for col, digits in pieces.items():
                    slots = [i for i in sorted(still_open) if cols[i] == col]
                    options.append([(positions, digits) for positions in combinations(slots, len(digits))])
                choices = list(product(*options))
            else:  # a line outside the row's cells: its digits, in order, continue any of the open numbers
                digits = [t.text.strip() for t in line]
                choices = [((positions, digits),) for positions in combinations(sorted(still_open), len(digits))]
            for choice in choices:
                new = list(values)
                continued = set()
                for positions, digits in choice:
                    for i, d in zip(positions, digits):
                        new[i] += d
                        continued.add(i)
                following.append((new, still_open & continued))
        states = following
        if len(states) > MAX_READINGS * 16:
            return set()
    return {tuple(int(v) for v in values) for values, _ in states}


def _without_subtotals(rows: list, specs: tuple[RowSpec, ...], printed: int) -> list | None:
    """The printed rows of table 三 without its 小计 rows (the report's own, in no identity): as many rows as 小计
    labels were printed, each right after a group's last row and the sum of that group's rows, column by column (where
    a row of the group, or the 小计 row, has blank cells: its 总计 the sum of theirs, and its own 小计 label beside it).
    None unless exactly one choice of group ends makes every dropped row its group's sum."""
    data = [spec for spec in specs if spec.cells]
    extra = len(rows) - len(data)
    if extra != printed or any(not _ONE_NUMBER.fullmatch(t.text) or "." in t.text for numbers, _, _ in rows for t in numbers):
        return None
    groups = [spec.key.rsplit(".", 1)[0] if spec.key.count(".") == 2 else spec.key for spec in data]  # (三)…(六)'s sub-rows share one
    ends = [i for i in range(len(data) - 1) if data[i].key.count(".") == 2 and groups[i] != groups[i + 1]]
    found = []
    for chosen in combinations(ends, extra):
        kept, at, ok = [], 0, True
        for i in range(len(data)):
            kept.append(rows[at])
            at += 1
            if i in chosen:
                members = [kept[j] for j in range(len(kept)) if groups[j] == groups[i]]
                width = len(data[0].cells)
                if all(len(r[0]) == width for r in [*members, rows[at]]):
                    ok = [sum(int(r[0][c].text) for r in members) for c in range(width)] == [int(t.text) for t in rows[at][0]]
                else:  # a row with blank cells among them (its columns unknown): its 总计 and the 小计 label beside it
                    ok = sum(int(r[0][-1].text) for r in members) == int(rows[at][0][-1].text) and any("小计" in t.norm or "合计" in t.norm for t in rows[at][1])
                if not ok:
                    break
                at += 1
        if ok:
            found.append(kept)
    return found[0] if len(found) == 1 else None


_SPACED_NUMBERS = re.compile(r"\s*[-−]?\d+(?:\s+[-−]?\d+)*\s*")  # a count may be printed negative (the report's fault, for the rules)
_PLACEHOLDER = re.compile(r"(?:(?<=\s)|^)[-—－/／](?=\s|$)")  # a blank cell's mark standing alone
_SPACED_SLOTS = re.compile(r"\s*(?:[-−]?\d+|[-—－/／])(?:\s+(?:[-−]?\d+|[-—－/／]))+\s*")
_ONE_NUMBER = re.compile(r"\s*[-−]?\d+(?:\.\d+)?\s*(?:万元|元)?\s*")


def _printed_number_rows(region: list[Token]) -> list[tuple[list[Token], list[Token]]] | None:
    """The printed rows of a table that hold numbers, in order: (its numbers, its text cells). A printed row is a
    row of a grid or a pipe row, or else a line of text; a cell holding numbers spaced apart ('0 0',
    a converter's narrow cells) gives each. None when a number is in doubt or glued to others without a space. A number
    alone on a line is its own row: with the label alone on the next line, or else as a line of carried digits may
    be."""
    groups: dict[tuple[str, int], tuple[list[Token], list[Token]]] = {}
    key: tuple[str, int] | None = None
    row_block, rows_seen = -1, 0
    for token in region:
        if token.kind == "row":
            rows_seen += 1
            key, row_block = ("row", rows_seen), token.block
            continue
        if key is None or token.block != row_block:
            key, row_block = ("line", token.block), -1
        numbers, texts = groups.setdefault(key, ([], []))
        if token.kind in ("text", "value") and _SPACED_SLOTS.fullmatch(token.text) and _PLACEHOLDER.search(token.text):
            # a converter's merged narrow cells holding a number and a blank's placeholder ('0 —', '- 0'): one slot each
            numbers.extend(replace(t, kind="empty") if _PLACEHOLDER.fullmatch(t.text) else t for t in _spaced(token))
        elif token.kind == "text":
            texts.append(token)
        elif token.kind == "value":
            if token.doubt or token.garbled or token.confidence is not None:
                return None
            if _SPACED_NUMBERS.fullmatch(token.text):
                numbers.extend(_spaced(token))
            elif _ONE_NUMBER.fullmatch(token.text) and not token.glued:
                numbers.append(token)
            else:
                return None
    ordered = list(groups.items())
    rows: list[tuple[list[Token], list[Token], bool]] = []
    for at, ((kind, _), (numbers, texts)) in enumerate(ordered):
        if not numbers:
            continue
        if kind == "line" and len(numbers) == 1 and not texts:
            # a number alone on a line: a row's only cell whose label a converter printed on the next line, or a page
            # number, or a wrapped number's piece — a row with a label alone on the next line, else a line of its own
            # that only carried digits may be (the identities judge; a page number fits none)
            after = ordered[at + 1] if at + 1 < len(ordered) else None
            if after is None or after[0][0] != "line" or after[1][0] or not after[1][1]:
                rows.append((numbers, [], False))
                continue
            rows.append((numbers, after[1][1], True))
            continue
        rows.append((numbers, texts, False))
    return rows


def _rows_without_label(hits: list[_RowHit], unowned: dict[int, list[Token]], specs: tuple[RowSpec, ...], result: TableResult) -> None:
    """A row of table 二 whose label cell is empty (a crawl lost its text): its numbers stand first under the
    block's header right after that empty cell, before the block's first label, which is followed by its own full
    row (without the empty cell they may be that label's, printed before it). They are the row the
    template puts just before that label when it was found nowhere else, has as many cells as numbers stand
    there, and the header over them means its cells ('规章' 0/0/0 before 行政规范性文件). Placed, and named as
    read by their place."""
    position = {spec.key: i for i, spec in enumerate(specs)}
    found = {h.spec.key for h in hits}
    for at, hit in enumerate(hits):
        numbers = unowned.get(hit.block, [])
        if not numbers or any(h.block == hit.block for h in hits[:at]) or not hit.columns or position[hit.spec.key] == 0:
            continue
        before = specs[position[hit.spec.key] - 1]
        own = [t for t in hit.values if t.kind == "value"]
        if before.key in found or not before.cells or len(numbers) != len(before.cells) or len(own) != len(hit.spec.cells):
            continue
        if any(t.glued or t.doubt or t.garbled for t in numbers) or [m for _, m in hit.columns] != [column_meaning(c) for c in before.cells]:
            continue
        hits.insert(at, _RowHit(before, [], values=list(numbers), columns=hit.columns, header=hit.header, block=hit.block))
        hit.after_stray = False
        message = f"一行数值（{'、'.join(t.text.strip() for t in numbers)}）没有行标签，按其位置（“{hit.spec.label}”之前）读作“{before.label}”，请核对原件"
        result.findings.append(_doubt("extraction.reader_note", message, before.cells, severity="warning"))
        return


def _shifted_chains(hits: list[_RowHit]) -> None:
    """Numbers no label owned, then labels each followed by numbers: if the block's last label has numbers after
    it, every label is followed by its own (the numbers before belong to a label not printed); if it has none,
    each label may follow its numbers instead, and the block's labels after the stray numbers stay in doubt."""
    last_of_block: dict[int, _RowHit] = {}
    for hit in hits:
        last_of_block[hit.block] = hit
    for hit in hits:
        if hit.after_stray and any(t.kind == "value" for t in last_of_block[hit.block].values):
            hit.after_stray = False


def _is_block_header(norm: str) -> bool:
    """The header of a block of table 二 ('第二十条第（五）项', '信息内容', its column headers)."""
    return "第二十条" in norm or "信息内容" in norm or bool(column_headers(norm))


def _blanks_in_doubt(result: TableResult, cells: list[str]) -> None:
    """Blank cells of a table whose values stand apart from their labels (a converter's output): the
    numbers may have been moved elsewhere, so a blank is the parser's doubt, not the report's."""
    del result.blank[len(result.blank) - len(cells) :]
    result.unplaced.extend(cells)
    names = "、".join(label(c) for c in cells[:4]) + (f" 等 {len(cells)} 个" if len(cells) > 4 else "")
    message = f"表格中有成行的数值没有行标签（转换工具可能把数值移到了别处），空白的单元格未必是原表空白：{names}，这些单元格留空"
    result.findings.append(_doubt("structure.cells_missing", message, cells))


class _Rows:
    """Which printed row (of a grid or a text row) the walk is in, and whether the last one held values but no label.

    Converters (PDF → markdown) print some labels after their values and some before: a label standing
    between two rows of values without labels may own either, so neither can be given to it."""

    def __init__(self) -> None:
        self.index = -1
        self.has_text = self.has_values = False
        self.other_label = False  # the open row prints a row label of the other table (a table cut into this one)
        self.orphan_before = False  # the last finished row held values and no row label
        self.orphans = 0  # rows so far that held values and no row label
        self.last: _RowHit | None = None  # the labelled row whose values came last, no block header since

    def start(self) -> None:
        self._finish()
        self.index += 1

    def leave(self) -> None:
        """A token outside any row: the open row, if any, is finished."""
        if self.index >= 0 and (self.has_text or self.has_values):
            self._finish()

    def _finish(self) -> None:
        if self.has_text or self.has_values:
            self.orphan_before = self.has_values and not self.has_text
            if self.orphan_before:
                self._orphan(row=self.index, theirs=self.other_label)
            if self.other_label:
                self.last = None  # the other table's rows cut in: what follows is no rest of the row before
        self.has_text = self.has_values = self.other_label = False

    def stray(self) -> None:
        """A value outside any row that no label owns."""
        self._orphan()

    def _orphan(self, *, row: int | None = None, theirs: bool = False) -> None:
        self.orphans += 1
        if self.last is not None and not theirs and (row is None or self.last.value_row != row):
            # values without a label right after a row: the rest of its numbers (a number wrapped in a
            # converter's table), or another row's whose label stands elsewhere — its own are not certain; a piece
            # of a wrapped group label beside them ('理' of 不予处理) is no row label and changes nothing; a row
            # label of the other table (its rows cut into this one) makes them that row's
            self.last.before_orphans = True

    def label(self, in_row: bool) -> None:
        if in_row:
            self.has_text = True  # a row label, not any text: a fragment of a wrapped group label ('开') names no row

    def value(self, in_row: bool) -> None:
        if in_row:
            self.has_values = True


@cache
def _other_tables_label(norm: str, table: str, template: str) -> bool:
    """The text is a row label of the other table of the template (its keyword, four characters or more)."""
    key = label_key(norm)
    other = "requests" if table == "active" else "active"
    return any(len(word) >= 4 and word in key for spec in table_rows(other, template) for word in spec.keywords)


def column_headers(norm: str) -> tuple[tuple[str, str], ...]:
    """The column headers of table 二 in a header cell (or a glued run), left to right: (as printed, meaning)."""
    return _header_scan(norm)[0]


@short_cache
def _header_scan(norm: str) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """The column headers in a header row's text, and the text not read as a header before, between and after them."""
    key = label_key(norm).replace("/", "")
    found: list[tuple[int, str, str]] = []
    taken: set[int] = set()
    for header, meaning in sorted(COLUMN_MEANINGS, key=lambda hm: -len(hm[0])):
        start = key.find(header)
        while start >= 0:
            span = set(range(start, start + len(header)))
            if not span & taken:
                taken |= span
                found.append((start, header, meaning))
            start = key.find(header, start + 1)
    found.sort()
    ends = [0] + [start + len(header) for start, header, _ in found]
    starts = [start for start, _, _ in found] + [len(key)]
    gaps = tuple(key[a:b] for a, b in zip(ends, starts))
    return tuple((header, meaning) for _, header, meaning in found), gaps


def _by_meaning(hit: _RowHit) -> tuple[int, ...] | None:
    """Where each cell of the row is among the printed columns; None when the headers do not mean its cells."""
    printed = [meaning for _, meaning in hit.columns]
    wanted = [column_meaning(c) for c in hit.spec.cells]
    if sorted(printed) == sorted(wanted):
        return tuple(printed.index(m) for m in wanted)
    if hit.header and _cut_headers_in_order(printed, _header_scan(hit.header)[1], wanted):
        return tuple(range(len(wanted)))
    return None


def _cut_headers_in_order(printed: list[str], gaps: tuple[str, ...], wanted: list[str]) -> bool:
    """Some headers read, the others cut short or misprinted ('本年新 | 本年新 | 对外公开总数量'): the columns are
    the template's own, in its order, when the headers read stand in that order and the text between them
    begins each header not read, exactly where it is missing."""
    if len(gaps) != len(printed) + 1 or not set(printed) <= set(wanted) or len(set(printed)) != len(printed):
        return False
    at = [wanted.index(m) for m in printed]
    if at != sorted(at):
        return False
    bounds = [-1, *at, len(wanted)]
    first = gaps[0].rsplit("信息内容", 1)[-1]  # before the first header: the corner cell and the block's number
    for gap, (a, b) in zip((first, *gaps[1:]), zip(bounds, bounds[1:])):
        missing = wanted[a + 1 : b]
        if bool(gap) != bool(missing):
            return False
        if any(not any(header[:2] in gap for header, meaning in COLUMN_MEANINGS if meaning == m) for m in missing):
            return False
    return True


def _ambiguous(spec: RowSpec) -> RowSpec:
    """The row, marked as recognised but with values that cannot be attributed to it."""
    return replace(spec, ambiguous=True)


def _match_row(run: list[Token], specs: tuple[RowSpec, ...], order: dict[str, int], hits: list[_RowHit]) -> RowSpec | None:
    """The row whose label ends the run of text tokens (the label closest to the values wins)."""
    matches = _row_matches(run, specs, order, hits)
    if not matches:
        return None
    best = _best(matches)
    if best.cells and len(run) > 1:
        # separate label cells that each name a data row: fine if they are neighbours in the
        # template (the first printed no values), ambiguous if rows far apart stand together
        data_order = [order[s.key] for s in specs if s.cells]
        named = set()
        for token in run:
            own = _row_matches([token], specs, order, hits)
            if own:
                spec = _best(own)
                if spec.cells:
                    named.add(data_order.index(order[spec.key]))
        last = data_order.index(order[best.key])
        if any(i != last and i != last - 1 for i in named):
            return _ambiguous(best)
    return best


def _row_matches(run: list[Token], specs: tuple[RowSpec, ...], order: dict[str, int], hits: list[_RowHit]) -> list[tuple[int, int, RowSpec, float]]:
    """Rows the label run may be: by keyword, or by resemblance to the official label (typos)."""
    key = "".join(label_key(t.norm) for t in run)
    if not key:
        return []
    seen = {h.spec.key for h in hits if h.values}
    next_index = order[hits[-1].spec.key] + 1 if hits else 0  # `order` numbers `specs` in printed order
    return [
        (position, -abs(index - next_index) - (100 if specs[index].key in seen else 0), specs[index], likeness)
        for index, position, likeness in _candidate_rows(specs, key, label_key(run[-1].norm), next_index)
    ]


@short_cache
def _candidate_rows(specs: tuple[RowSpec, ...], key: str, last_key: str, next_index: int) -> tuple[tuple[int, int, float], ...]:
    """(row index, keyword position or -1, likeness) of the rows a label key may be, in row order:
    rows whose keyword it holds, then rows expected here whose label it resembles."""
    positions = _keyword_positions(specs, key, last_key)
    found = [(index, position, 0.0) for index, position in positions.items()]
    # typos are looked for among the rows expected here
    expected = range(max(0, next_index - 2), min(len(specs), next_index + 3))
    likely = [(index, -1, ratio) for index in expected if index not in positions and (ratio := _likeness(specs[index], key)) >= 0.85]
    if likely:
        # a mistyped label ('大量重复申请') resembles its official wording more than any keyword row
        found = [(index, position, _likeness(specs[index], key)) for index, position, _ in found]
    return tuple(found + likely)


def _keyword_positions(specs: tuple[RowSpec, ...], key: str, last_key: str) -> dict[int, int]:
    """The rows whose keyword is in the label run (by index in `specs`, in row order): where the keyword ends."""
    positions = {}
    for index, spec in enumerate(specs):
        for keyword in spec.keywords:
            if spec.exact:
                if last_key == keyword or (last_key.endswith(keyword) and len(last_key) > 12):
                    positions[index] = len(key)
                    break
                continue
            at = key.rfind(keyword)
            if at >= 0 and len(key) - (at + len(keyword)) <= 40:
                positions[index] = at + len(keyword)  # beyond 40 characters it is a sentence, not this label
                break
    return positions


def _likeness(spec: RowSpec, key: str) -> float:
    """How closely the end of `key` resembles the row's official label (0 for short labels)."""
    official = _official_key(spec)
    if len(official) < 6:
        return 0.0
    return _ratio(official, key[-(len(official) + 4) :])


@lru_cache(maxsize=1 << 14)
def _ratio(official: str, tail: str) -> float:
    matcher = SequenceMatcher(None, official, tail, autojunk=False)
    if matcher.real_quick_ratio() < 0.85 or matcher.quick_ratio() < 0.85:
        return matcher.quick_ratio()
    return matcher.ratio()


def _best(matches: list) -> RowSpec:
    """The keyword match nearest the values; a far closer resemblance to another row's label wins."""
    by_keyword = [m for m in matches if m[0] >= 0]
    by_likeness = [m for m in matches if m[0] < 0]
    best = max(by_keyword, key=lambda m: m[:2]) if by_keyword else None
    likely = max(by_likeness, key=lambda m: m[3]) if by_likeness else None
    if likely is not None and (best is None or likely[3] >= best[3] + 0.2):
        return likely[2]
    return best[2]


@cache
def _official_key(spec: RowSpec) -> str:
    return label_key(spec.label)


_HEADERS = (
    "本年制发件数", "本年废止件数", "现行有效件数", "本年处理决定数量", "本年收费金额", "本年新制作数量",
    "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减", "处理决定数量", "采购项目数量", "采购总金额",
)  # fmt: skip


_REMARK = re.compile("(" + "|".join(map(re.escape, _HEADERS)) + r")\s*[(（]([^)）]{1,16})[)）]")
_UNIT_REMARK = re.compile(r"[(（][^)）]*(?:元|万|单位)[^)）]*[)）]")
_DIGIT = re.compile(r"\d")


def _altered_header(token: Token) -> str | None:
    """The official column header a header cell rewords ('现行有效件数（历史累计）'), if any."""
    return _altered_header_text(token.norm, token.glued)


@short_cache
def _altered_header_text(norm: str, glued: bool) -> str | None:
    # a remark in brackets after a header, also inside glued runs ('现行有效件数（历史累计）')
    for remark in _REMARK.finditer(norm.replace(" ", "")):
        if not re.search(r"单位|元|万|小数|件|个", remark.group(2)):
            return remark.group(1)
    if glued or "单位" in norm or _DIGIT.search(norm):
        return None
    key = label_key(_UNIT_REMARK.sub("", norm)).removeprefix("信息内容")  # a unit is no rewording
    if not 4 <= len(key) <= 20 or key in _HEADERS:
        return None
    for header in _HEADERS:
        if header in key or (len(key) >= 4 and key in header and len(header) - len(key) <= 2):
            return header
    return None


def label_alteration(hit: _RowHit) -> str | None:
    """The printed label when it differs from the official wording beyond spacing and punctuation."""
    if len(hit.label) != 1 or hit.label[0].glued or not hit.spec.cells:
        return None
    printed = _without_group(label_key(hit.label[0].norm))
    official = _official_key(hit.spec)
    if not printed or printed == official or printed.endswith(official) or official in printed and len(printed) - len(official) <= 2:
        return None  # same words, or the group label printed in the same cell ('（四）无法提供1.本机关…')
    if official.startswith(printed) or re.search(r"\d", printed):
        return None  # a label broken at a line end or cut off with the page; or two labels run together
    if not 0.6 * len(official) <= len(printed) <= 1.4 * len(official) + 2:
        return None  # a label cell that also holds other text: not a rewording
    return hit.label[0].text.strip()


def _without_group(printed: str) -> str:
    """A row label with its group's label printed in the same cell ('（三）不予公开 1.属于国家秘密'): the row's own words."""
    for group in _group_keys():
        if printed.startswith(group) and len(printed) > len(group):
            return re.sub(r"^[\d一二三四五六七八九十]+", "", printed[len(group) :])
    return printed


@cache
def _group_keys() -> tuple[str, ...]:
    """The label keys of table 三's group rows (三、本年度办理结果, （三）不予公开 …), longest first."""
    keys = {label_key(spec.label) for template in ("2019", "2021") for spec in table_rows("requests", template) if not spec.cells}
    return tuple(sorted(keys, key=len, reverse=True))


def _place_row(hit: _RowHit, result: TableResult, *, truncated: bool, unit: str | None) -> None:
    spec = hit.spec
    result.rows_found.add(spec.key)
    n = len(spec.cells)
    if n == 0:
        if spec.key == "requests.other" and any(t.kind == "value" for t in hit.values):
            result.mixed_other_row = [t.text.strip() for t in hit.values if t.kind == "value"]
        return
    values = [t for t in hit.values if t.kind in ("value", "empty")]
    order = tuple(range(n))
    if hit.columns and spec.key.startswith("active."):
        order = _by_meaning(hit)
        if order is None:
            _other_columns(hit, values, result)
            return
    if hit.before_orphans or (hit.after_orphans and hit.detached) or (hit.after_stray and hit.label_row is None):
        spec = _ambiguous(spec)  # its label stands between values without labels: whose are they?
    placed = None
    if not spec.ambiguous:
        placed = _positions(
            values, n, spec, tabular=hit.tabular, truncated=truncated, unsplittable=result.unsplittable, readings=result.readings
        )
        if placed is None and spec.key.startswith("active."):
            placed = _split_as_stated(values, spec, result)
    if placed is None:
        for cid in spec.cells:
            result.cells[cid] = None
            result.unplaced.append(cid)
        printed = "、".join(t.text.strip() for t in values if t.kind == "value") or "无"
        minus = [t.text.strip() for t in values if t.kind == "value" and re.match(r"\s*[-−－]\s*\d", t.text) and not t.glued]
        if minus and not spec.ambiguous and not any(by_id()[c].is_signed for c in spec.cells):
            result.negative.append((spec, minus[0]))  # whichever column it is, a count of this row is negative
        if spec.ambiguous:
            why = "标签与数值错位（多个行标签连在一起），无法确定哪些数值属于这一行"
        elif any(t.glued for t in values) or (len(values) == 1 and n > 1):
            why = f"数字粘连在一起（{printed}），按表内关系无法唯一拆分为 {n} 列"
        else:
            why = f"印出的数值（{printed}）与 {n} 列对不上，无法确定各列位置"
        result.findings.append(_doubt("structure.cells_missing", f"“{spec.label}”一行{why}，这些单元格留空", spec.cells))
        return
    placed = [placed[i] for i in order]  # the printed columns in the order of the row's cells
    for cid, (text, token) in zip(spec.cells, placed):
        if token is None or token.kind == "empty" or text is None:
            result.cells[cid] = None
            if token is not None or not truncated:
                result.blank.append(cid)
            continue
        _fill(result, cid, spec.label, text, token, amount=by_id()[cid].is_amount, unit=unit or "万元")


def _other_columns(hit: _RowHit, values: list[Token], result: TableResult) -> None:
    """A row printed under headers that do not mean its cells: nothing is placed, what was printed is said.

    Headers all of the other template are the report's fault (template.outdated / template.mixed, raised
    by the rules); any other mismatch is the parser's doubt."""
    spec = hit.spec
    for cid in spec.cells:
        result.cells[cid] = None
        result.unplaced.append(cid)
    headers = "、".join(printed for printed, _ in hit.columns)
    templates = {COLUMN_TEMPLATES.get(meaning) for _, meaning in hit.columns}
    other = "2019" if result.template == "2021" else "2021"
    numbers = "、".join(t.text.strip() for t in values if t.kind == "value") or "无"
    if templates == {other}:
        result.other_columns.append((spec.label, headers, numbers, other, spec.cells))
        return
    wanted = "、".join(label(c).split("·")[-1] for c in spec.cells)
    message = f"“{spec.label}”一行印在“{headers}”列下（数值 {numbers}），与本格式的“{wanted}”对不上，数值不填入，这些单元格留空"
    result.findings.append(_doubt("structure.cells_missing", message, spec.cells))


def _fill(result: TableResult, cid: str, label: str, text: str, token: Token, *, amount: bool = False, unit: str = "万元") -> None:
    """A placed value into its cell with its provenance; an OCR reading the parser doubts is named, never trusted."""
    result.provenance[cid] = provenance(token)
    if token.garbled or token.doubt:
        result.cells[cid] = None
        result.unplaced.append(cid)
        why = token.doubt or "不是可读的数值（可能是污点或残缺的字）"
        message = f"“{label}”识别出的“{text.strip()}”{why}，该单元格留空，请核对原件"
        result.findings.append(_doubt("extraction.low_confidence", message, [cid], severity="warning"))
        return
    result.cells[cid] = parse_value(text, amount=amount, default_unit=unit)
    if token.confidence is not None and token.confidence < 0.8:
        result.unplaced.append(cid)
        message = f"“{label}”的“{text.strip()}”识别把握不足（置信度 {token.confidence:.2f}），请核对原件"
        result.findings.append(_doubt("extraction.low_confidence", message, [cid], severity="warning"))


def provenance(token: Token) -> Provenance:
    """Where a value came from: its printed text, and in a line of text the characters it was printed with."""
    where = token.where.as_dict()
    if token.start is not None and token.text.strip():
        lead = len(token.text) - len(token.text.lstrip())
        where.update(start=token.start + lead, end=token.start + len(token.text.rstrip()))
    return Provenance(raw=token.text, **where)


def _piece(token: Token, start: int, end: int) -> Token:
    """Characters start:end of a token (one number of a run) as a token of their own."""
    return replace(token, text=token.text[start:end], start=None if token.start is None else token.start + start)


def _spaced(token: Token) -> list[Token]:
    """The numbers of a spaced run ('0 0 0'), each a token of its own."""
    return [_piece(token, m.start(), m.end()) for m in re.finditer(r"\S+", token.text)]


def _split_run(tokens: list[Token], parts: list[int]) -> list[tuple[str, Token]]:
    """The numbers a glued run was split into (its digits, and minus signs, in order), each with the
    characters it was printed with; a number made of digits of two tokens points at the first."""
    chars = [(token, m.start()) for token in tokens for m in re.finditer(r"[\d\-]", token.text)]
    out: list[tuple[str, Token]] = []
    at = 0
    for part in parts:
        (first, begin), (last, end) = chars[at], chars[at + len(str(part)) - 1]
        piece = _piece(first, begin, end + 1) if first is last else replace(first, text=str(part), start=None)
        out.append((str(part), piece))
        at += len(str(part))
    return out


def _doubt(rule: str, message: str, cells, severity: str = "error") -> Finding:
    """A finding of extraction's own: the parser is not sure it read these cells right."""
    return Finding(rule=rule, severity=severity, origin="extraction", message=message, cells=list(cells))


def _positions(
    values: list[Token],
    n: int,
    spec: RowSpec,
    *,
    tabular: bool,
    truncated: bool,
    total: bool = False,
    unsplittable: list | None = None,
    readings: list | None = None,
) -> list[tuple[str | None, Token | None]] | None:
    """Assign printed values to the row's n columns, or None when their columns are uncertain. A glued run
    is split where the row's own sum allows one reading: table 三's rows, and `total` rows (the last column
    the sum of the others)."""
    if any(t.garbled and len(t.text.split()) > 1 for t in values):
        return None  # an OCR'd cell with several numbers may cover several columns: no column is certain
    # a single run holding several numbers: spaced ('0 0 0') or glued ('801000081')
    filled = [t for t in values if t.kind == "value"]
    if len(filled) == 1 and n > 1 and len([t for t in values if t.kind == "value"]) < n:
        token = filled[0]
        spaced = token.text.split()
        if len(spaced) == n:
            return [(part.text, part) for part in _spaced(token)]
        if token.confidence is not None:
            return None  # an OCR'd number is one reading of one cell: its digits are not split into columns
        if token.glued or len(spaced) > 1 or len(token.text.strip()) > 1:
            check = row_sum if n == 7 or total else None
            digits = re.sub(r"[^\d\-]", "", token.text) if not re.search(r"[.万元]", token.text) else None
            if digits is not None and len(digits) >= n:
                found = splits(digits, n, check, limit=MAX_READINGS + 1)
                if len(found) == 1:
                    return _split_run([token], found[0])
                if not found and check is not None and unsplittable is not None:
                    unsplittable.append((spec, token.text.strip()))
                    free = splits(digits, n, None, limit=MAX_READINGS + 1) if readings is not None else []
                    if 0 < len(free) <= MAX_READINGS:
                        readings.append((spec, token, free, False))  # never placed: only to judge the column identities
                if "-" in digits and unsplittable is not None and _negative_count_everywhere(digits, spec):
                    unsplittable.append((spec, token.text.strip()))  # whatever the split, a count is negative
                if len(found) > 1 and check is not None and readings is not None and len(found) <= MAX_READINGS:
                    readings.append((spec, token, found, True))  # the table's column identities may decide
                return None
    seq = list(values)
    if tabular and len(values) == n and values[0].kind == "value" and len({t.block for t in values}) == 1:
        # one line of exactly the row's columns, its first a number: no cell can be a spanned label column
        # (that would stand before a number) or padding (every cell is needed), so a blank cell at the end is the
        # last column's ('规章\t0\t0\t': 现行有效件数 blank)
        return [(t.text if t.kind == "value" else None, t) for t in values]
    if tabular:
        # in a flattened tab or pipe row, empty cells at either end may be spanned label columns or
        # padding: only the printed values between them have certain columns
        while seq and seq[-1].kind == "empty":
            seq.pop()
        while seq and seq[0].kind == "empty":
            seq.pop(0)
        if not seq and values:
            return [(None, values[0])] * n
    # padding: empty cells before the first or after the last value only pad a row, when it is
    # certain which ones do (empties at both ends with one too many: the values' columns are not)
    if truncated and not tabular and len(seq) == n + 1 and seq[-1].kind == "value" and re.fullmatch(r"\s*\d\s*", seq[-1].text):
        # the document is cut right after a lone digit: the next row's number ('2' of '2.其他法律…'), not this row's
        seq = seq[:-1]
    excess = len(seq) - n
    numbers = [t for t in seq if t.kind == "value"]
    if excess > 0 and len(numbers) == n and not any(t.glued for t in numbers):
        # more cells than columns and exactly one number a column: no column is blank, so every empty cell
        # is padding (a converter's ragged grid puts empty cells between a row's numbers)
        return [(t.text, t) for t in numbers]
    if any(t.merged_columns for t in seq) and any(t.kind == "empty" for t in seq):
        return None  # a grid whose cells merged narrow columns ('0 0'): an empty cell's column is not known
    if excess > 0:
        lead = next((i for i, t in enumerate(seq) if t.kind != "empty"), len(seq))
        trail = next((i for i, t in enumerate(reversed(seq)) if t.kind != "empty"), len(seq))
        front_min, front_max = max(0, excess - trail), min(lead, excess)
        if front_min > front_max:
            return None
        if front_min < front_max and lead < len(seq):
            return None  # a value would land in a different column depending on which end is padding
        seq = seq[front_min : len(seq) - (excess - front_min)]
    if len(seq) == n:
        return [(t.text if t.kind == "value" else None, t) for t in seq]
    if len(seq) < n:
        if truncated and (not tabular or all(t.kind == "value" for t in values)):
            # the document ends inside the row: the cells it lacks are the last ones (a tab or pipe row with a
            # blank cell shows it as an empty cell, so with none its printed values are its first columns)
            return [(t.text if t.kind == "value" else None, t) for t in seq] + [(None, None)] * (n - len(seq))
        if seq and all(t.kind == "empty" for t in seq):
            return [(None, seq[0])] * n
        return None
    return None


def _split_as_stated(values: list[Token], spec: RowSpec, result: TableResult) -> list[tuple[str | None, Token | None]] | None:
    """A glued row of table 二 with several readings ('8855698'), split where the numbers the report's own text
    states for its columns ('制发…88件', '现行有效…698件') leave exactly one. The text may be wrong, so the cells
    are named (a warning of extraction's): the reading rests on the text, not on the table alone."""
    filled = [t for t in values if t.kind == "value"]
    if not result.stated or len(filled) != 1 or not filled[0].glued or re.search(r"[.万元]", filled[0].text):
        return None
    token = filled[0]
    digits = re.sub(r"[^\d\-]", "", token.text)
    found = splits(digits, len(spec.cells), None, limit=MAX_READINGS + 1)
    if len(found) > MAX_READINGS:
        return None
    meanings = [column_meaning(c) for c in spec.cells]
    kept = agreeing(found, meanings, result.stated)
    if len(kept) != 1:
        return None
    said = "、".join(f"{label(c).split('·')[-1]} {result.stated[m]}" for c, m in zip(spec.cells, meanings) if m in result.stated)
    message = f"“{spec.label}”一行数字粘连在一起（{token.text.strip()}），按正文所述（{said}）拆分，请核对原件"
    result.findings.append(_doubt("extraction.reader_note", message, spec.cells, severity="warning"))
    return _split_run([token], kept[0])


def _negative_count_everywhere(digits: str, spec: RowSpec) -> bool:
    """Every way to cut a glued run with a minus sign into the row's columns puts a negative number in a
    column that holds a count ('-31111097' under 上一年项目数量 / 本年增减 / 处理决定数量: whatever the
    split, the first number is negative). Only then is the minus the report's fault; where some reading
    gives it to a signed column (本年增减), nothing is said."""
    signed = [by_id()[c].is_signed for c in spec.cells]
    if not any(signed):
        return True
    found = splits(digits, len(spec.cells), None, limit=MAX_READINGS + 1)
    if not found or len(found) > MAX_READINGS:
        return False  # no reading, or too many to know that each has one
    return all(any(part < 0 and not ok for part, ok in zip(parts, signed)) for parts in found)


MAX_READINGS = 64  # glued rows with more readings than this stay null
MAX_COMBINATIONS = 50_000


def _resolve_readings(result: TableResult, template: str) -> None:
    """Glued rows with several readings: the one combination under which the table's column
    identities (balance, outcomes) hold is placed; if none does, the report itself is wrong. A row no
    reading of which adds up (the report is wrong there) takes part with every way to cut it, never
    placed: if no combination makes a column identity hold, that identity is broken too."""
    if not result.readings:
        return
    pending = {cid for spec, _, _, _ in result.readings for cid in spec.cells}
    usable = [
        i
        for i in identities(template)
        if i.rule in ("requests.balance", "requests.outcomes_sum")
        and set(i.cells) & pending
        and all(result.cells.get(c) is not None or c in pending for c in i.cells)
    ]
    sizes = 1
    for _, _, found, _ in result.readings:
        sizes *= len(found)
    if not usable or sizes > MAX_COMBINATIONS:
        return
    placeable = all(ok for _, _, _, ok in result.readings)
    fitting: list[tuple[list[int], ...]] = []
    broken_everywhere = {i.rule for i in usable}
    trial = dict(result.cells)
    for combo in product(*(found for _, _, found, _ in result.readings)):
        for (spec, _, _, _), parts in zip(result.readings, combo):
            trial.update(zip(spec.cells, parts))
        broken = {i.rule for i in usable if sum(trial[c] for c in i.lhs) != sum(trial[c] for c in i.rhs)}
        broken_everywhere &= broken
        if not broken:
            fitting.append(combo)
            if len(fitting) > 1 or not placeable:
                return
    if len(fitting) == 1:
        placed: set[str] = set()
        for (spec, token, _, _), parts in zip(result.readings, fitting[0]):
            for cid, part, (_, piece) in zip(spec.cells, parts, _split_run([token], parts)):
                result.cells[cid] = part
                result.provenance[cid] = provenance(piece)
                placed.add(cid)
        result.unplaced = [c for c in result.unplaced if c not in placed]
        result.findings = [f for f in result.findings if not set(f.cells) <= placed]
        return
    runs = "、".join(f"“{spec.label}”{token.text.strip()}" for spec, token, _, _ in result.readings)
    for rule in sorted(broken_everywhere):
        cells = sorted({c for i in usable if i.rule == rule for c in i.cells})
        result.impossible.append((rule, cells, runs))


# ── 表三 ─────────────────────────────────────────────────────────────────────────────────────


def _read_appeals(tokens: list[Token], span: tuple[int, int], result: TableResult) -> None:
    """15 values: 行政复议 ×5, 未经复议直接起诉 ×5, 复议后起诉 ×5 — in the official layout by position;
    when a block's label stands right before its own five values (the table transposed, or split into
    three small tables under their own captions), by the labels: block by its label, column by its header."""
    region = tokens[span[0] : span[1]]
    if _read_appeals_by_labels(region, result, truncated=span[1] >= len(tokens)):
        _appeals_in_printed_order(region, result)
        return
    values: list[Token] = []
    in_table = False
    for token in region:
        if token.kind == "text":
            if _ends_appeals(token):
                break
            filled = sum(t.kind == "value" for t in values)
            if _is_appeals_header(token):
                block_label = label_key(token.norm) in _BLOCK_LABELS and filled % 5 == 0
                if not filled or (filled < 15 and not block_label):
                    values.clear()  # padding between header rows, or numbers of a sentence before it
                in_table = True
            elif filled >= 15:
                break  # text after the numbers: the table is over
            else:
                values.clear()  # a sentence before the table: its numbers are not cells
                in_table = False
            continue
        if token.kind in ("value", "empty") and in_table:
            values.append(token)
    if _appeals_in_printed_order(region, result, official=True):
        return  # the header of five outcomes over three rows: transposed, whatever the 15 cells would give (or none,
        # when a block label wrapped into pieces that name no block, '行政诉讼' | '未经复议直', cut the run of values)
    if not values:
        return  # no numbers under a 表三 header: the table is not there
    placed = _positions(values, 15, None, tabular=False, truncated=span[1] >= len(tokens))  # type: ignore[arg-type]
    if placed is None:
        placed = _appeals_runs(values, result.impossible)
    if placed is None:
        if not any(t.kind == "value" for t in values):
            return
        result.rows_found.add("appeals")
        for cid in APPEALS_CELLS:
            result.unplaced.append(cid)
        printed = "、".join(t.text.strip() for t in values if t.kind == "value")
        message = f"行政复议、行政诉讼情况表印出的数值（{printed}）与 15 列对不上，无法确定各列位置，这些单元格留空"
        result.findings.append(_doubt("structure.cells_missing", message, APPEALS_CELLS))
        _appeals_in_printed_order(region, result)
        return
    result.rows_found.add("appeals")
    for cid, (text, token) in zip(APPEALS_CELLS, placed):
        if token is None or text is None:
            result.cells[cid] = None
            if token is not None:
                result.blank.append(cid)
            continue
        _fill(result, cid, label(cid), text, token)


def _appeals_in_printed_order(region: list[Token], result: TableResult, *, official: bool = False) -> bool:
    """Table 四 transposed (a row per block under one header of the five outcomes) whose block labels a converter
    wrapped or printed apart from their numbers: the printed rows of numbers under the header are the three
    blocks in order when there are exactly three, each of five numbers, every block label printed beside numbers
    names the block the order gives, and the labels that name a block stand in the template's order. `official`:
    tried before the official layout's fifteen cells, when nothing of the table is read yet. True if it read it."""
    unsettled = set(APPEALS_CELLS) if official else set(APPEALS_CELLS) & set(result.unplaced)
    start = next((i for i, t in enumerate(region) if t.kind == "text" and _outcome_header(t.norm)), None)
    if not unsettled or start is None:
        return False
    end = next((i for i, t in enumerate(region) if t.kind == "text" and _ends_appeals(t)), len(region))
    header: list[str] = []
    for token in region[start:end]:
        if token.kind == "value":
            break
        if token.kind == "text":
            header.extend(_OUTCOME_KEYS[w] for w in _appeal_words(token.norm) if w in _OUTCOME_KEYS)
    if sorted(header) != sorted(_APPEAL_COLUMN_ORDER):
        return False
    rows = _printed_number_rows(region[start:end])
    if rows is None or len(rows) != 3 or any(len(numbers) != 5 for numbers, _, _ in rows):
        return False
    named_in_order = [_BLOCK_KEYS[w] for t in region[start:end] if t.kind == "text" for w in _appeal_words(t.norm) if w in _BLOCK_KEYS]
    if named_in_order != sorted(named_in_order, key=APPEAL_BLOCKS_ORDER.index):
        return False
    for block, (_, labels, _) in zip(APPEAL_BLOCKS_ORDER, rows):
        named = {_BLOCK_KEYS[w] for t in labels for w in _appeal_words(t.norm) if w in _BLOCK_KEYS}
        if named - {block}:
            return False
    placed: list[tuple[str, Token]] = []
    for block, (numbers, _, _) in zip(APPEAL_BLOCKS_ORDER, rows):
        for column, token in zip(header, numbers):
            cid = f"appeals.{block}.{column}"
            if cid not in unsettled and result.cells.get(cid) != parse_value(token.text):
                return False
            placed.append((cid, token))
    for cid, token in placed:
        if token.kind == "empty":  # a blank's placeholder in a cell of merged narrow columns
            result.cells[cid] = None
        else:
            _fill(result, cid, label(cid), token.text, token)
    result.rows_found.add("appeals")
    cells = set(APPEALS_CELLS)
    result.unplaced = [c for c in result.unplaced if c not in cells]
    result.blank = [c for c in result.blank if c not in cells] + [cid for cid, token in placed if token.kind == "empty"]
    result.findings = [f for f in result.findings if not f.cells or not set(f.cells) <= cells]
    result.impossible = [i for i in result.impossible if not set(i[1]) <= cells]
    return True


def _outcome_header(norm: str) -> bool:
    """A text of table 四 naming an outcome column (结果维持, 尚未审结 …) and nothing else."""
    words = _appeal_words(norm)
    return bool(words) and all(w in _OUTCOME_KEYS for w in words)


_BLOCK_KEYS = {
    "行政复议": "review", "未经复议直接起诉": "suit_direct", "直接起诉": "suit_direct", "行政诉讼未经复议直接起诉": "suit_direct",
    "行政诉讼直接起诉": "suit_direct", "复议后起诉": "suit_after_review", "行政诉讼复议后起诉": "suit_after_review",
    "经复议后起诉": "suit_after_review", "行政诉讼经复议后起诉": "suit_after_review",
}  # fmt: skip
_OUTCOME_KEYS = {"结果维持": "upheld", "维持": "upheld", "结果纠正": "corrected", "纠正": "corrected", "其他结果": "other",
                 "其他": "other", "尚未审结": "pending", "未审结": "pending", "总计": "total", "合计": "total"}  # fmt: skip
_APPEAL_COLUMN_ORDER = ("upheld", "corrected", "other", "pending", "total")
_APPEAL_WORDS = sorted({*_BLOCK_KEYS, *_OUTCOME_KEYS}, key=len, reverse=True)  # the longest word first


def _read_appeals_by_labels(region: list[Token], result: TableResult, *, truncated: bool) -> bool:
    """Table 四 read by its labels, when every run of values follows one block's own label; False when
    the layout is not that one (the official layout, with all block labels in its header)."""
    segments: list[tuple[list[Token], list[Token]]] = []  # (text tokens, value/empty tokens) in turn
    for token in region:
        if token.kind == "text":
            if _ends_appeals(token):
                break
            if not segments or any(t.kind == "value" for t in segments[-1][1]):
                segments.append(([], []))  # blank cells before a header (an empty header row) stay with the label
            segments[-1][0].append(token)
        elif token.kind in ("value", "empty") and segments:
            segments[-1][1].append(token)
    columns: tuple[str, ...] = _APPEAL_COLUMN_ORDER
    blocks: dict[str, list[Token] | None] = {}
    header, unowned = False, False  # the outcome header was read; numbers no block label owns came after it
    for texts, values in segments:
        words = [_appeal_words(t.norm) for t in texts]
        named = [_BLOCK_KEYS[w] for found in words for w in found if w in _BLOCK_KEYS]
        outcomes = [_OUTCOME_KEYS[w] for found in words for w in found if w in _OUTCOME_KEYS]
        if len(outcomes) == 5 and sorted(outcomes) == sorted(_APPEAL_COLUMN_ORDER):
            columns = tuple(outcomes)  # a header row of its own: the columns in the order printed
            header = True
        if not any(t.kind == "value" for t in values):
            continue
        if len(named) != 1 or sum(t.kind == "value" for t in values) > 5:
            if len(named) > 1 or blocks:
                return False  # several blocks' labels over one run of values: the official layout
            unowned = unowned or (header and not named)
            continue  # a sentence's numbers before the table
        block = named[0]
        blocks[block] = None if block in blocks else values  # a block printed twice: its values are not certain
    if not blocks:
        return False
    result.rows_found.add("appeals")
    for block in APPEAL_BLOCKS_ORDER:
        values = blocks.get(block)
        if unowned and block in blocks:
            # numbers under the header before any block's label (a converter's table): each label may follow
            # its numbers rather than precede them, so whose numbers follow a label is unknown
            cells = [f"appeals.{block}.{c}" for c in columns]
            result.unplaced.extend(cells)
            message = f"行政复议、行政诉讼情况表中“{_BLOCK_NAME[block]}”一行标签与数值错位（表头下先有一行没有标签的数值），无法确定哪些数值属于这一行，这些单元格留空"
            result.findings.append(_doubt("structure.cells_missing", message, cells))
            continue
        cells = [f"appeals.{block}.{c}" for c in columns]
        placed = _positions(values, 5, None, tabular=False, truncated=False, total=columns[-1] == "total") if values else None  # type: ignore[arg-type]
        if placed is None:
            result.unplaced.extend(cells)
            run = _run_no_reading_adds_up(values) if values and columns[-1] == "total" else None
            if run is not None:  # the report itself is wrong: whatever the split, 总计 is not the sum
                result.impossible.append(("appeals.block_sum", cells, f"行政复议、行政诉讼情况表“{_BLOCK_NAME[block]}”{run}"))
            why = "未找到" if block not in blocks else "数值与 5 列对不上或出现两次，无法确定"
            message = f"行政复议、行政诉讼情况表中“{_BLOCK_NAME[block]}”一行{why}，这些单元格留空"
            result.findings.append(_doubt("structure.cells_missing", message, cells))
            continue
        for cid, (text, token) in zip(cells, placed):
            if token is None or text is None:
                result.cells[cid] = None
                if token is not None:
                    result.blank.append(cid)
                continue
            _fill(result, cid, label(cid), text, token)
    return True


def _run_no_reading_adds_up(values: list[Token]) -> str | None:
    """A block's one glued run (five numbers) that splits into five counts, none of whose readings adds up."""
    filled = [t for t in values if t.kind == "value"]
    if len(filled) != 1 or not filled[0].glued or filled[0].doubt or filled[0].garbled:
        return None
    digits = "".join(filled[0].text.split())
    if not digits.isdigit() or not splits(digits, 5) or splits(digits, 5, row_sum):
        return None
    return digits


@short_cache
def _appeal_words(norm: str) -> tuple[str, ...]:
    """The block labels and outcome headers a text of table 四 is made of, in order ('行政复议', or glued
    '行政复议结果维持…总计', or '…总计行政复议' after a sentence's end); () when it holds other words too."""
    key = label_key(re.split(r"[。；;！!？?]", norm)[-1])
    words: list[str] = []
    while key:
        word = next((w for w in _APPEAL_WORDS if key.startswith(w)), None)
        if word is None:
            return ()
        words.append(word)
        key = key[len(word) :]
    return tuple(words)


APPEAL_BLOCKS_ORDER = ("review", "suit_direct", "suit_after_review")
_BLOCK_NAME = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}


def _appeals_runs(values: list[Token], impossible: list | None = None) -> list[tuple[str | None, Token | None]] | None:
    """Glued or spaced runs of 表三 values, split by the blocks' own sums."""
    filled = [t for t in values if t.kind == "value"]
    if not filled or any(t.garbled or t.doubt for t in filled):
        return None  # OCR'd cells in doubt are not split into runs
    pieces = [piece for token in filled for piece in _spaced(token)]
    if len(pieces) == 15:
        return [(p.text, p) for p in pieces]  # one number a column: an empty cell among them is padding, no blank
    inner = values[values.index(filled[0]) : len(values) - values[::-1].index(filled[-1])]
    if any(t.kind == "empty" for t in inner):
        return None  # a blank cell among the numbers: which column it is depends on how the runs split
    digits = "".join(p.text for p in pieces)
    if not digits.isdigit():
        return None
    found = splits(digits, 15, block_sums)
    if len(found) == 1:
        return _split_run(filled, found[0])
    if not found and impossible is not None and splits(digits, 15):
        impossible.append(("appeals.block_sum", list(APPEALS_CELLS), f"行政复议、行政诉讼情况表“{digits}”"))
    return None


_BLOCK_LABELS = {"行政复议", "未经复议直接起诉", "直接起诉", "复议后起诉", "行政诉讼未经复议直接起诉", "行政诉讼复议后起诉"}
_APPEALS_HEADER = ("行政复议", "行政诉讼", "维持", "纠正", "其他", "尚未", "审结", "总计", "直接起诉", "复议后起诉", "结果", "总", "计")


def _is_appeals_header(token: Token) -> bool:
    """A header cell (or the header run of glued text), not a sentence that mentions appeals."""
    return _is_appeals_header_text(token.norm)


@short_cache
def _is_appeals_header_text(norm: str) -> bool:
    parts = re.split(r"([。，,；;：:])", norm)
    tail = parts[-1]
    if len(parts) > 1 and parts[-2] in "，,；;":
        return False  # the tail of a clause ('…0件，行政诉讼'): a sentence, not a header
    if re.search(r"被|发生|收到|共|件|申请|年", tail):
        return False  # '…被申请行政复议' ends a sentence, not a header
    return bool(tail) and any(word in tail for word in _APPEALS_HEADER) and not re.search(r"\d", tail)


def _ends_appeals(token: Token) -> bool:
    key = token.norm
    return any(word in key for word in ("存在的主要问题", "主要问题", "改进情况", "其他需要报告"))
