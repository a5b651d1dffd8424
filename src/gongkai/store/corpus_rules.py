"""The corpus rules of spec/rules.md (`corpus.*`) as SQL over the store.

Each rule compares a report with the previous year's report of the same body (`body_key`,
see bodies.py). When a body has several reports for one year (mirrors, re-publications), the
one with the most cells read is the previous year's report. Findings go under the sha256 of
the later report, with `related` = the earlier one. `run_corpus_rules` deletes and recomputes
them all: it is idempotent and runs after every batch.
"""

from __future__ import annotations

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
    """Section 一 or 五 shares most of its character 3-grams (digits ignored) with last year's."""
    parts = []
    for i, (number, title) in enumerate(COPIED_TEXT_SECTIONS.items()):
        column = f"section_{number}"
        # texts first, materialised: the shingle lambda must see a column, not re-run the regexes per character
        parts.append(
            f"""{INSERT_HEAD}
WITH texts AS MATERIALIZED (
    SELECT c.sha256, p.sha256 AS related, p.year AS prev_year, gk_plain(c.{column}) AS ta, gk_plain(p.{column}) AS tb
    {PAIR_JOIN}
    WHERE c.{column} IS NOT NULL AND p.{column} IS NOT NULL
), shingled AS MATERIALIZED (
    SELECT sha256, related, prev_year, gk_shingles(ta) AS a, gk_shingles(tb) AS b
    FROM texts WHERE length(ta) >= {COPIED_TEXT_MIN_CHARS} AND length(tb) >= {COPIED_TEXT_MIN_CHARS}
), scored AS (
    SELECT sha256, related, prev_year, len(list_intersect(a, b)) / len(list_distinct(list_concat(a, b))) AS similarity
    FROM shingled
)
SELECT sha256, {SEQ['corpus.copied_text'] + i}, 'corpus.copied_text', 'warning', 'source',
       {_sql_text(title)} || '与' || prev_year || '年度报告的同一部分内容雷同（' || round(similarity * 100)::INTEGER || '% 相同）',
       [], [], related
FROM scored WHERE similarity >= {COPIED_TEXT_JACCARD}
"""
        )
    return "\n;\n".join(parts)


def identical_tables_sql() -> str:
    """Same template both years, every cell equal (nulls included) and some value not zero."""
    branches = []
    for template in ("2019", "2021"):
        ids = cell_ids(template)
        same = " AND ".join(f"{_c('c', i)} IS NOT DISTINCT FROM {_c('p', i)}" for i in ids)
        nonzero = " OR ".join(f"coalesce({_c('c', i)}, 0) <> 0" for i in ids)
        branches.append(f"(c.template = '{template}' AND p.template = '{template}' AND ({same}) AND ({nonzero}))")
    return f"""{INSERT_HEAD}
SELECT c.sha256, {SEQ['corpus.identical_tables']}, 'corpus.identical_tables', 'warning', 'source',
       '所有表格与' || p.year || '年度报告完全相同（非零数据照搬上年）', [], [], p.sha256
{PAIR_JOIN}
WHERE {' OR '.join(branches)}
"""


MACROS = (
    # the text that counts for a copy: no spacing, every digit the same (years and counts change)
    "CREATE OR REPLACE TEMP MACRO gk_plain(t) AS regexp_replace(regexp_replace(coalesce(t, ''), '\\s+', '', 'g'), '[0-9０-９]', '0', 'g')",
    "CREATE OR REPLACE TEMP MACRO gk_shingles(t) AS list_distinct(list_transform(range(1, length(t) - 1), lambda i: substr(t, i, 3)))",
)


def run_corpus_rules(con) -> int:
    """Delete and recompute every `corpus.*` finding (inside the caller's transaction); returns how many."""
    for macro in MACROS:
        con.execute(macro)
    con.execute("DELETE FROM findings WHERE rule LIKE 'corpus.%'")
    con.execute(PAIRS_SQL)
    for sql in (carry_continuity_sql(), in_force_continuity_sql(), copied_text_sql(), identical_tables_sql(),
                duplicate_report_sql(SEQ["corpus.duplicate_report"])):
        for statement in sql.split("\n;\n"):
            con.execute(statement)
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
