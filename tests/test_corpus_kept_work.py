"""The corpus rules' kept work (table hashes, text scores): the same findings as the plain per-pair SQL,
and a refresh after new reports computes only what is new."""

from __future__ import annotations

import random

import pytest
from corpus_helpers import hand_report

from gongkai.cells import cell_ids
from gongkai.store import Store
from gongkai.store.corpus_rules import COPIED_TEXT_SECTIONS, SEQ
from gongkai.store.rows import report_rows

# The rules as they were before their work was kept: every year pair compared again, in SQL.
REFERENCE_MACROS = (
    "CREATE OR REPLACE TEMP MACRO gk_plain(t) AS regexp_replace(regexp_replace(coalesce(t, ''), '\\s+', '', 'g'), '[0-9０-９]', '0', 'g')",
    "CREATE OR REPLACE TEMP MACRO gk_shingles(t) AS list_distinct(list_transform(range(1, length(t) - 1), lambda i: substr(t, i, 3)))",
)
PAIR_JOIN = "FROM year_pairs y JOIN reports c ON c.sha256 = y.cur JOIN reports p ON p.sha256 = y.prev"
COLUMNS = "sha256, seq, rule, severity, origin, message, cells, suspects, related"


def reference_copied_text(number: int, title: str, seq: int) -> str:
    column = f"section_{number}"
    return f"""
WITH texts AS MATERIALIZED (
    SELECT c.sha256, p.sha256 AS related, p.year AS prev_year, gk_plain(c.{column}) AS ta, gk_plain(p.{column}) AS tb
    {PAIR_JOIN}
    WHERE c.{column} IS NOT NULL AND p.{column} IS NOT NULL
), shingled AS MATERIALIZED (
    SELECT sha256, related, prev_year, gk_shingles(ta) AS a, gk_shingles(tb) AS b
    FROM texts WHERE length(ta) >= 60 AND length(tb) >= 60
), scored AS (
    SELECT sha256, related, prev_year, len(list_intersect(a, b)) / len(list_distinct(list_concat(a, b))) AS similarity
    FROM shingled
)
SELECT sha256, {seq}, 'corpus.copied_text', 'warning', 'source',
       '{title}' || '与' || prev_year || '年度报告的同一部分内容雷同（' || round(similarity * 100)::INTEGER || '% 相同）',
       [], [], related
FROM scored WHERE similarity >= 0.8
"""


def reference_identical_tables() -> str:
    branches = []
    for template in ("2019", "2021"):
        ids = cell_ids(template)
        same = " AND ".join(f'c."{i}" IS NOT DISTINCT FROM p."{i}"' for i in ids)
        nonzero = " OR ".join(f'coalesce(c."{i}", 0) <> 0' for i in ids)
        branches.append(f"(c.template = '{template}' AND p.template = '{template}' AND ({same}) AND ({nonzero}))")
    return f"""
SELECT c.sha256, {SEQ['corpus.identical_tables']}, 'corpus.identical_tables', 'warning', 'source',
       '所有表格与' || p.year || '年度报告完全相同（非零数据照搬上年）', [], [], p.sha256
{PAIR_JOIN}
WHERE {' OR '.join(branches)}
"""


def reference_findings(con) -> set[tuple]:
    """What the plain per-pair SQL finds in the store (`year_pairs` as the last refresh left it)."""
    for macro in REFERENCE_MACROS:
        con.execute(macro)
    rows = set()
    for i, (number, title) in enumerate(COPIED_TEXT_SECTIONS.items()):
        rows |= {_key(r) for r in con.execute(reference_copied_text(number, title, SEQ["corpus.copied_text"] + i)).fetchall()}
    rows |= {_key(r) for r in con.execute(reference_identical_tables()).fetchall()}
    return rows


def kept_findings(con) -> set[tuple]:
    sql = f"SELECT {COLUMNS} FROM findings WHERE rule IN ('corpus.copied_text', 'corpus.identical_tables')"
    return {_key(r) for r in con.execute(sql).fetchall()}


def _key(row) -> tuple:
    return tuple(tuple(v) if isinstance(v, list) else v for v in row)


def _text(rng: random.Random, size: int) -> str:
    return "".join(chr(0x4E00 + rng.randrange(400)) for _ in range(size))


def _next_text(rng: random.Random, last: str | None) -> str | None:
    """Next year's section: copied with new numbers or spacing, edited around the threshold, new, short or missing."""
    kind = rng.choice(["copy", "copy", "edit", "edit", "edit", "new", "short", "none"]) if last else "new"
    if kind == "copy":
        spaced = "".join(ch + rng.choice(["", "", " ", "\n", "\u3000", "\v"]) for ch in last)
        return spaced.replace("0", str(rng.randrange(10))) + f"共{rng.randrange(1000)}件"
    if kind == "edit":
        chars = list(last)
        for _ in range(rng.randrange(1, max(2, len(chars) // 8))):
            chars[rng.randrange(len(chars))] = chr(0x4E00 + rng.randrange(400))
        return "".join(chars)
    if kind == "short":
        return _text(rng, rng.choice([10, 59]))
    if kind == "none":
        return None
    return _text(rng, rng.randrange(58, 220)) + "２０２１年"


def _next_cells(rng: random.Random, template: str, last: dict | None) -> dict:
    """Next year's cells: last year's again (with a zero amount written -0.0, or a blank for a 0), all zero, or new."""
    kind = rng.choice(["same", "same", "signed_zero", "blank", "zeros", "new"]) if last and last["template"] == template else "new"
    ids = cell_ids(template)
    if kind == "zeros":
        return {"template": template, "cells": {i: 0 for i in ids}}
    if kind == "new":
        return {"template": template, "cells": {i: rng.choice([0, 0, 1, 7, None]) for i in ids}}
    cells = dict(last["cells"])
    if kind == "signed_zero":
        cells["active.admin_fees.amount_wan"] = -0.0 if not cells.get("active.admin_fees.amount_wan") else cells["active.admin_fees.amount_wan"]
    if kind == "blank":
        zero = next((i for i in ids if cells.get(i) == 0), None)
        if zero:
            cells[zero] = None
    return {"template": template, "cells": cells}


def generated_corpus(seed: int, bodies: int, years=range(2019, 2025)) -> list:
    """Bodies followed over the years, with copied texts and tables, and now and then a second copy of a report."""
    rng = random.Random(seed)
    reports = []
    for b in range(bodies):
        texts, tables = {1: None, 5: None}, None
        for year in years:
            template = "2019" if year < 2021 else "2021"
            texts = {n: _next_text(rng, texts[n]) for n in COPIED_TEXT_SECTIONS}
            tables = _next_cells(rng, template, tables)
            sections = {n: t for n, t in texts.items() if t is not None}
            for copy in range(1 + (rng.random() < 0.15)):
                sha = f"{seed:03d}{b:04d}{year}{copy}".ljust(64, "c")
                cells = dict(tables["cells"]) if not copy else {k: v for k, v in tables["cells"].items() if rng.random() < 0.9}
                reports.append(hand_report(sha, f"第{seed}组{b}号镇人民政府", year, template=template, cells=cells, sections=sections))
    return reports


@pytest.mark.slow
def test_kept_work_finds_what_the_plain_rules_find(tmp_path):
    with Store(tmp_path / "kept.duckdb") as store:
        store.add([report_rows(r, r.source.path) for r in generated_corpus(1, 20)])
        store.refresh()
        expected, found = reference_findings(store.con), kept_findings(store.con)
        rules = [row[2] for row in expected]
        assert rules.count("corpus.copied_text") >= 10 and rules.count("corpus.identical_tables") >= 10  # the corpus tests both
        assert found == expected
        # more reports (new bodies, and later years of the old ones), then a refresh: still the same
        store.add([report_rows(r, r.source.path) for r in generated_corpus(2, 8) + generated_corpus(1, 20, range(2025, 2027))])
        store.refresh()
        assert kept_findings(store.con) == reference_findings(store.con)


@pytest.mark.slow
def test_a_refresh_computes_only_the_new_reports_and_pairs(tmp_path):
    with Store(tmp_path / "kept.duckdb") as store:
        con = store.con
        first = generated_corpus(3, 6, range(2019, 2022))
        store.add([report_rows(r, r.source.path) for r in first])
        store.refresh()
        hashed = con.execute("SELECT count(*) FROM corpus_signatures").fetchone()[0]
        assert hashed == len(first)
        # mark the kept work: what a refresh computes again loses its mark
        con.execute("UPDATE corpus_signatures SET table_hash = 1")
        con.execute("UPDATE corpus_text_pairs SET similarity = -1")
        kept_pairs = con.execute("SELECT count(*) FROM corpus_text_pairs").fetchone()[0]
        later = generated_corpus(3, 6, range(2022, 2024))
        store.add([report_rows(r, r.source.path) for r in later])
        store.refresh()
        assert con.execute("SELECT count(*) FROM corpus_signatures WHERE table_hash = 1").fetchone()[0] == len(first)
        assert con.execute("SELECT count(*) FROM corpus_signatures WHERE table_hash <> 1").fetchone()[0] == len(later)
        assert con.execute("SELECT count(*) FROM corpus_text_pairs WHERE similarity = -1").fetchone()[0] == kept_pairs
        new_pairs = con.execute("SELECT count(DISTINCT (cur, prev)) FROM corpus_text_pairs WHERE similarity IS DISTINCT FROM -1").fetchone()[0]
        assert new_pairs == con.execute("SELECT count(*) FROM year_pairs").fetchone()[0] - kept_pairs // 2 > 0
        # a report loaded again (a new parse) is hashed and compared again
        again = first[-1]
        store.add([report_rows(again, again.source.path)])
        store.refresh()
        sha = again.source.sha256
        assert con.execute("SELECT table_hash <> 1 FROM corpus_signatures WHERE sha256 = ?", [sha]).fetchone() == (True,)
        assert con.execute("SELECT count(*) FROM corpus_text_pairs WHERE (cur = $s OR prev = $s) AND similarity = -1", {"s": sha}).fetchone()[0] == 0
