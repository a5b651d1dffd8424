"""The same report twice (a crawled text and the government's page, a mirror): which copy counts.

Two rows of `reports` with the same body (`body_key`) and year are copies of one report. The
preferred copy is the more readable one, by this rule, in this order:

1. more cells read (`cells_found`): the copy whose tables the parser could read;
2. fewer `error` findings of its own: an error a copy has and the other does not is most likely the
   parser's (the corpus rules' errors do not count: they depend on which copy is preferred, so
   counting them would let one refresh change the choice the next one made);
3. the richer format: docx, html, doc, pdf, ofd, md, txt, image (a layout kept beats a flattened one);
4. the sha256, so the choice never changes between runs.

`PREFERENCE` is that order as one SQL expression (for ORDER BY over `reports`, alias `r`), and
`RANKED_SQL` gives every report its rank among its copies (1 = preferred): a panel of one row per
body and year keeps rank 1. `corpus.duplicate_report` names each other copy with the preferred one.
"""

from __future__ import annotations

FORMAT_RANK = ("docx", "html", "doc", "pdf", "ofd", "md", "txt", "image")


def preference(alias: str = "r") -> str:
    """ORDER BY expression: the preferred copy of a body's report for a year first."""
    formats = ", ".join(f"'{f}'" for f in FORMAT_RANK)
    own_errors = (f"(SELECT count(*) FROM findings f WHERE f.sha256 = {alias}.sha256 AND f.severity = 'error' "
                  f"AND f.rule NOT LIKE 'corpus.%' AND f.rule NOT LIKE 'anomaly.%')")  # fmt: skip
    return (
        f"{alias}.cells_found DESC NULLS LAST, {own_errors} ASC, "
        f"coalesce(list_position([{formats}], {alias}.format), {len(FORMAT_RANK) + 1}), {alias}.sha256"
    )


PREFERENCE = preference("r")

RANKED_SQL = f"""
SELECT r.sha256, r.body_key, r.year,
       row_number() OVER (PARTITION BY r.body_key, r.year ORDER BY {PREFERENCE}) AS copy_rank,
       count(*) OVER (PARTITION BY r.body_key, r.year) AS copies
FROM reports r WHERE r.body_key IS NOT NULL AND r.year IS NOT NULL
"""


def duplicate_report_sql(seq: int) -> str:
    """A finding under every copy that is not preferred, naming it and the preferred one."""
    return f"""INSERT INTO findings (sha256, seq, rule, severity, origin, message, cells, suspects, related)
WITH ranked AS ({RANKED_SQL})
SELECT d.sha256, {seq}, 'corpus.duplicate_report', 'info', 'source',
       '与另一份文件是同一机关同一年度的同一报告：' || coalesce(r.path, d.sha256) || ' 与 ' || coalesce(p.path, b.sha256)
           || '；按可读性取后者（读出单元格 ' || coalesce(p.cells_found, 0) || ' 个，本份 ' || coalesce(r.cells_found, 0) || ' 个）',
       [], [], b.sha256
FROM ranked d JOIN ranked b ON b.body_key = d.body_key AND b.year = d.year AND b.copy_rank = 1
JOIN reports r ON r.sha256 = d.sha256 JOIN reports p ON p.sha256 = b.sha256
WHERE d.copy_rank > 1
"""
