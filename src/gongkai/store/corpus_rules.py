"""The corpus rules of spec/rules.md (`corpus.*`) as SQL over the store.

Each rule compares a report with the previous year's report of the same body (`body_key`,
see bodies.py). When a body has several reports for one year (mirrors, re-publications), the
one with the most cells read is the previous year's report. Findings go under the sha256 of
the later report, with `related` = the earlier one. `run_corpus_rules` deletes and recomputes
them all: it is idempotent and runs after every batch.

Two of the rules would compare every pair of reports again at every refresh, which does not
scale to a national store (≈800,000 year pairs at 1,000,000 reports). Their work is kept:

- `corpus_signatures`: one row per report, its table hash (template and every cell of that
  template, a null distinct from 0) and whether some cell is not zero, computed in SQL once for
  each report that has none. `corpus.identical_tables` then compares hashes and confirms the
  few equal ones cell by cell with the rule's own predicate, so a hash collision changes nothing.
- `corpus_text_pairs`: one row per year pair and section (一, 五), the exact Jaccard similarity of
  the two texts' character 3-gram sets (null when either text is missing or too short), computed
  in Python once for each pair that has none (DuckDB's list functions take ≈0.5 ms a pair).

A report loaded again (a new parse) loses both (`forget_signatures`, called by the load), and
rows of reports no longer in the store are dropped at every refresh: a refresh costs per new
report and new pair, and the findings are those of the plain per-pair rules.
"""

from __future__ import annotations

import re
import time

import pyarrow as pa

from gongkai.cells import APPLICANT_COLUMNS, cell_ids, label
from gongkai.store.duplicates import RANKED_SQL, duplicate_report_sql
from gongkai.store.schema import quote

# a fixed order for corpus findings, after a report's own (seq 0 …)
SEQ = {
    "corpus.carry_continuity": 10_000,
    "corpus.in_force_continuity": 10_010,
    "corpus.copied_text": 10_020,
    "corpus.identical_tables": 10_030,
    "corpus.duplicate_report": 10_040,
}
COPIED_TEXT_SECTIONS = {1: "一、总体情况", 5: "五、存在的主要问题及改进情况"}
COPIED_TEXT_MIN_CHARS = 60  # shorter sections (…“无”…) say too little to call a copy
COPIED_TEXT_JACCARD = 0.8  # share of character 3-grams in common, digits ignored
COLUMN_NAMES = {
    "natural_person": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "public_interest": "社会公益组织",
    "legal_service": "法律服务机构",
    "other_org": "其他组织",
    "total": "总计",
}
IN_FORCE_KINDS = {"rules": "规章", "normative_docs": "行政规范性文件"}

PAIRS_SQL = f"""
CREATE OR REPLACE TEMP TABLE year_pairs AS
WITH ranked AS ({RANKED_SQL})
SELECT cur.sha256 AS cur, prev.sha256 AS prev
FROM reports cur JOIN ranked prev ON prev.body_key = cur.body_key AND prev.year = cur.year - 1 AND prev.copy_rank = 1
"""

INSERT_HEAD = "INSERT INTO findings (sha256, seq, rule, severity, origin, message, cells, suspects, related) "
PAIR_JOIN = "FROM year_pairs y JOIN reports c ON c.sha256 = y.cur JOIN reports p ON p.sha256 = y.prev"


def _c(table: str, cell_id: str) -> str:
    return f"{table}.{quote(cell_id)}"


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def carry_continuity_sql() -> str:
    """carried_over(Y)[c] ≠ carried_forward(Y−1)[c] for some applicant column c."""
    differences, cells = [], []
    for column in APPLICANT_COLUMNS:
        over, forward = f"requests.carried_over.{column}", f"requests.carried_forward.{column}"
        broken = f"{_c('c', over)} <> {_c('p', forward)}"
        differences.append(
            f"CASE WHEN {broken} THEN {_sql_text(COLUMN_NAMES[column] + ' ')} || {_c('c', over)} || ' ≠ ' || {_c('p', forward)} END"
        )
        cells.append(f"CASE WHEN {broken} THEN {_sql_text(over)} END")
    return f"""{INSERT_HEAD}
SELECT sha256, {SEQ['corpus.carry_continuity']}, 'corpus.carry_continuity', 'error', 'source',
       '上年结转与' || prev_year || '年度报告的结转下年度不符：' || array_to_string(diffs, '；'),
       cells, [], related
FROM (
    SELECT c.sha256, p.sha256 AS related, p.year AS prev_year,
           list_filter([{', '.join(differences)}], lambda x: x IS NOT NULL) AS diffs,
           list_filter([{', '.join(cells)}], lambda x: x IS NOT NULL) AS cells
    {PAIR_JOIN}
) WHERE len(diffs) > 0
"""


def in_force_continuity_sql() -> str:
    """2021 format both years: in_force(Y) = in_force(Y−1) + issued(Y) − repealed(Y) for 规章 and 行政规范性文件."""
    parts = []
    for i, (kind, name) in enumerate(IN_FORCE_KINDS.items()):
        now, before = f"active.{kind}.in_force", f"active.{kind}.in_force"
        issued, repealed = f"active.{kind}.issued", f"active.{kind}.repealed"
        expected = f"({_c('p', before)} + {_c('c', issued)} - {_c('c', repealed)})"
        parts.append(
            f"""{INSERT_HEAD}
SELECT c.sha256, {SEQ['corpus.in_force_continuity'] + i}, 'corpus.in_force_continuity', 'warning', 'source',
       {_sql_text(name)} || '现行有效 ' || {_c('c', now)} || ' ≠ ' || p.year || '年现行有效 ' || {_c('p', before)}
           || ' + 本年制发 ' || {_c('c', issued)} || ' − 本年废止 ' || {_c('c', repealed)} || '（= ' || {expected} || '）',
       [{_sql_text(now)}, {_sql_text(issued)}, {_sql_text(repealed)}], [], p.sha256
{PAIR_JOIN}
WHERE c.template = '2021' AND p.template = '2021' AND {_c('c', now)} <> {expected}
"""
        )
    return "\n;\n".join(parts)


def copied_text_sql() -> str:
    """Section 一 or 五 shares most of its character 3-grams (digits ignored) with last year's (scores: `score_text_pairs`)."""
    parts = []
    for i, (number, title) in enumerate(COPIED_TEXT_SECTIONS.items()):
        parts.append(
            f"""{INSERT_HEAD}
SELECT y.cur, {SEQ['corpus.copied_text'] + i}, 'corpus.copied_text', 'warning', 'source',
       {_sql_text(title)} || '与' || p.year || '年度报告的同一部分内容雷同（' || round(s.similarity * 100)::INTEGER || '% 相同）',
       [], [], y.prev
FROM year_pairs y JOIN corpus_text_pairs s ON s.cur = y.cur AND s.prev = y.prev AND s.section = {number}
JOIN reports p ON p.sha256 = y.prev
WHERE s.similarity >= {COPIED_TEXT_JACCARD}
"""
        )
    return "\n;\n".join(parts)


_SPACE = re.compile("[\t\n\f\r ]+")  # what DuckDB's (RE2's) \s is: ASCII spacing only
_DIGITS = str.maketrans(dict.fromkeys("0123456789０１２３４５６７８９", "0"))


def plain_text(text: str | None) -> str:
    """The text that counts for a copy: no spacing, every digit the same (years and counts change)."""
    return _SPACE.sub("", text or "").translate(_DIGITS)


def shingles(text: str | None) -> set[str] | None:
    """The character 3-grams of a section's plain text; None when it is missing or too short to call a copy."""
    if text is None:
        return None
    plain = plain_text(text)
    if len(plain) < COPIED_TEXT_MIN_CHARS:
        return None
    return {plain[i : i + 3] for i in range(len(plain) - 2)}


def jaccard(a: set[str] | None, b: set[str] | None) -> float | None:
    """|a ∩ b| / |a ∪ b|, None when either is None."""
    if a is None or b is None:
        return None
    common = len(a & b)
    return common / (len(a) + len(b) - common)


NEW_PAIRS_SQL = """
CREATE OR REPLACE TEMP TABLE new_text_pairs AS
SELECT y.cur, y.prev FROM year_pairs y ANTI JOIN corpus_text_pairs s ON s.cur = y.cur AND s.prev = y.prev
"""
NEW_TEXT_PAIRS_SQL = f"""
SELECT y.cur, y.prev, {', '.join(f'c.section_{n} AS c{n}, p.section_{n} AS p{n}' for n in COPIED_TEXT_SECTIONS)}
FROM new_text_pairs y JOIN reports c ON c.sha256 = y.cur JOIN reports p ON p.sha256 = y.prev
ORDER BY c.body_key, c.year, y.cur
"""


def score_text_pairs(con, batch: int = 20_000) -> int:
    """The Jaccard similarity of sections 一 and 五 for each year pair not scored yet; returns how many pairs.

    The pairs come by body and year, so a report met as the later one of a pair is the earlier one of
    the next: its 3-gram sets, made once, serve both.
    """
    scored = {"cur": [], "prev": [], "section": [], "similarity": []}
    recent: dict[str, dict[int, set[str] | None]] = {}

    def sets(sha: str, texts: dict[int, str | None]) -> dict[int, set[str] | None]:
        if sha not in recent:
            if len(recent) > 1000:
                recent.clear()
            recent[sha] = {n: shingles(text) for n, text in texts.items()}
        return recent[sha]

    con.execute(NEW_PAIRS_SQL)
    if not con.execute("SELECT count(*) FROM new_text_pairs").fetchall()[0][0]:
        return 0  # the texts are not even read
    for chunk in con.sql(NEW_TEXT_PAIRS_SQL).to_arrow_reader(batch):
        columns = chunk.to_pydict()
        for row in range(chunk.num_rows):
            cur, prev = columns["cur"][row], columns["prev"][row]
            later = sets(cur, {n: columns[f"c{n}"][row] for n in COPIED_TEXT_SECTIONS})
            earlier = sets(prev, {n: columns[f"p{n}"][row] for n in COPIED_TEXT_SECTIONS})
            for n in COPIED_TEXT_SECTIONS:
                for key, value in (("cur", cur), ("prev", prev), ("section", n), ("similarity", jaccard(later[n], earlier[n]))):
                    scored[key].append(value)
    if not scored["cur"]:
        return 0
    table = pa.table({"cur": scored["cur"], "prev": scored["prev"], "section": pa.array(scored["section"], pa.int32()),
                      "similarity": pa.array(scored["similarity"], pa.float64())})  # fmt: skip
    con.register("scored_text_pairs", table)
    try:
        con.execute("INSERT INTO corpus_text_pairs SELECT cur, prev, section, similarity FROM scored_text_pairs")
    finally:
        con.unregister("scored_text_pairs")
    return table.num_rows // len(COPIED_TEXT_SECTIONS)


def _cell(table: str, cell_id: str) -> str:
    """A cell for the table hash: a zero of an amount always +0.0 (IS NOT DISTINCT FROM holds -0.0 = 0.0)."""
    return f"CASE WHEN {_c(table, cell_id)} = 0 THEN 0 ELSE {_c(table, cell_id)} END"


def table_hash_sql() -> str:
    """The `corpus_signatures` rows of the reports that have none: table hash and whether some cell is not zero."""
    hashes, nonzero = [], []
    for template in ("2019", "2021"):
        ids = cell_ids(template)
        cells = ", ".join(_cell("r", i) for i in ids)
        hashes.append(f"WHEN '{template}' THEN hash('{template}', {cells})")
        some = " OR ".join(f"coalesce({_c('r', i)}, 0) <> 0" for i in ids)
        nonzero.append(f"WHEN '{template}' THEN ({some})")
    return f"""INSERT INTO corpus_signatures
SELECT r.sha256, CASE r.template {' '.join(hashes)} END, CASE r.template {' '.join(nonzero)} END
FROM reports r WHERE NOT EXISTS (SELECT 1 FROM corpus_signatures s WHERE s.sha256 = r.sha256)
"""


IDENTICAL_CANDIDATES_SQL = """
CREATE OR REPLACE TEMP TABLE identical_candidates AS
SELECT y.cur, y.prev FROM year_pairs y
JOIN corpus_signatures a ON a.sha256 = y.cur JOIN corpus_signatures b ON b.sha256 = y.prev
WHERE a.table_hash = b.table_hash AND a.table_nonzero
"""


def identical_tables_sql(pairs: str = "identical_candidates") -> str:
    """Same template both years, every cell equal (nulls included) and some value not zero.

    Judged on `pairs` (cur, prev): the year pairs whose table hashes are equal, so the cell by cell
    comparison runs on a handful of pairs, not on every pair of the store.
    """
    branches = []
    for template in ("2019", "2021"):
        ids = cell_ids(template)
        same = " AND ".join(f"{_c('c', i)} IS NOT DISTINCT FROM {_c('p', i)}" for i in ids)
        nonzero = " OR ".join(f"coalesce({_c('c', i)}, 0) <> 0" for i in ids)
        branches.append(f"(c.template = '{template}' AND p.template = '{template}' AND ({same}) AND ({nonzero}))")
    return f"""{INSERT_HEAD}
SELECT c.sha256, {SEQ['corpus.identical_tables']}, 'corpus.identical_tables', 'warning', 'source',
       '所有表格与' || p.year || '年度报告完全相同（非零数据照搬上年）', [], [], p.sha256
FROM {pairs} y JOIN reports c ON c.sha256 = y.cur JOIN reports p ON p.sha256 = y.prev
WHERE {' OR '.join(branches)}
"""


SIGNATURE_TABLES = (
    "CREATE TABLE IF NOT EXISTS corpus_signatures (sha256 VARCHAR, table_hash UBIGINT, table_nonzero BOOLEAN)",
    "CREATE TABLE IF NOT EXISTS corpus_text_pairs (cur VARCHAR, prev VARCHAR, section INTEGER, similarity DOUBLE)",
)


def ensure_signature_tables(con) -> None:
    for sql in SIGNATURE_TABLES:
        con.execute(sql)


def forget_signatures(con, keys: str) -> None:
    """Drop the kept work of the reports whose sha256 are in table `keys` (they are being loaded again)."""
    con.execute(f"DELETE FROM corpus_signatures WHERE sha256 IN (SELECT sha256 FROM {keys})")
    con.execute(f"DELETE FROM corpus_text_pairs WHERE cur IN (SELECT sha256 FROM {keys}) OR prev IN (SELECT sha256 FROM {keys})")


def run_corpus_rules(con, timings: dict[str, float] | None = None) -> int:
    """Delete and recompute every `corpus.*` finding (inside the caller's transaction); returns how many.

    `timings`, when given, gets the seconds of each step (benchmarks/scale.py prints them).
    """
    timings = {} if timings is None else timings
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = timings.get(step, 0.0) + now - clock
        clock = now

    ensure_signature_tables(con)
    con.execute("DELETE FROM findings WHERE rule LIKE 'corpus.%'")
    con.execute(PAIRS_SQL)
    lap("year pairs")
    con.execute("DELETE FROM corpus_signatures s WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.sha256 = s.sha256)")
    con.execute(table_hash_sql())
    lap("table hashes of new reports")
    con.execute("DELETE FROM corpus_text_pairs s WHERE NOT EXISTS (SELECT 1 FROM year_pairs y WHERE y.cur = s.cur AND y.prev = s.prev)")
    score_text_pairs(con)
    lap("text scores of new year pairs")
    for rule, sql in (("corpus.carry_continuity", carry_continuity_sql()), ("corpus.in_force_continuity", in_force_continuity_sql()),
                      ("corpus.copied_text", copied_text_sql()),
                      ("corpus.identical_tables", IDENTICAL_CANDIDATES_SQL + "\n;\n" + identical_tables_sql()),
                      ("corpus.duplicate_report", duplicate_report_sql(SEQ["corpus.duplicate_report"]))):  # fmt: skip
        for statement in sql.split("\n;\n"):
            con.execute(statement)
        lap(rule)
    return con.execute("SELECT count(*) FROM findings WHERE rule LIKE 'corpus.%'").fetchone()[0]


def describe() -> list[tuple[str, str]]:
    """(rule, what it compares) for documentation and `--help`."""
    return [
        ("corpus.carry_continuity", "上年结转（本年）= 结转下年度（上年），逐列：" + "、".join(label(f"requests.carried_over.{c}").split(" / ")[-1] for c in APPLICANT_COLUMNS)),
        ("corpus.in_force_continuity", "现行有效（本年）= 现行有效（上年）+ 本年制发 − 本年废止（2021 格式）"),
        ("corpus.copied_text", f"第一、五部分与上年字符三元组 Jaccard ≥ {COPIED_TEXT_JACCARD:.0%}"),
        ("corpus.identical_tables", "所有表格与上年完全相同且有非零数据"),
        ("corpus.duplicate_report", "同一机关同一年度有多份文件：除可读性最好的一份外，每份都点名两份文件（可读性：读出单元格多、错误少、版式完整、sha256）"),
    ]
