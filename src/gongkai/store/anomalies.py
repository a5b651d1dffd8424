"""Anomaly rules (`anomaly.*`): numbers that hold together and are still implausible, as SQL over the store.

Identities catch arithmetic; these compare a report with its own previous year, with its peers
(same body type, same region, same year) and with what its other cells make possible. Each finding
quotes the comparison (`本年新收 9 件，上年 912 件`) so a person can judge it at a glance; none is an
error. Thresholds are named defaults, each with the reason for it, overridable by the JSON or TOML
file that GONGKAI_ANOMALIES names (see docs/rules.md).

They run inside `Store.refresh`, after the corpus rules, over one copy per body and year (the one
with the most cells read, as the corpus rules choose), so that mirrors do not count as peers.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path

from gongkai.errors import GongkaiError
from gongkai.store.schema import quote

ENV = "GONGKAI_ANOMALIES"


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    reason: str


# name → default and why; a file may override any value by name
DEFAULTS: dict[str, Threshold] = {
    "jump_factor": Threshold(5.0, "正常年份的起伏很少超过五倍，而多打、少打一位数字是十倍；五倍之上才值得一看"),
    "jump_min": Threshold(30, "两年中较大的一年不足 30 时，1 件变 6 件只是小数波动，不算异常"),
    "peer_min": Threshold(5, "同类机关（同一地区、同一类型、同一年度）不足 5 家时，中位数说明不了什么"),
    "peer_min_requests": Threshold(20, "办理结果总计不足 20 件时，一两件就能让占比大起大落"),
    "peer_min_appeals": Threshold(10, "复议、诉讼合计不足 10 件时，纠错占比只是偶然"),
    "peer_z": Threshold(3.5, "稳健 z 值（中位数与 MAD，或件数少时的二项标准误，取大者）超过 3.5 才算离群（Iglewicz–Hoaglin 的常用界限）"),
    "peer_gap": Threshold(0.25, "占比与同类中位数至少相差 25 个百分点：差距太小即便统计上显著，审核也无从下手"),
    "zero_years": Threshold(3, "连续三年依申请公开全部为 0，一年两年可能属实，三年以上多是照抄或漏报"),
    "zero_peer_median": Threshold(10, "同类机关本年新收申请的中位数至少 10 件，才说明“别人都有申请”"),
    "zero_peer_min": Threshold(3, "至少 3 家同类机关可比"),
    "in_force_min": Threshold(3, "上年现行有效至少 3 件，才把降为 0 视为异常（1、2 件可能确已全部失效）"),
}

# (key, Chinese name, SQL over the report `r`) of the totals watched for year-over-year jumps
JUMP_METRICS = (
    ("new_requests", "本年新收", "r.{requests.new_received.total}"),
    ("outcomes", "办理结果总计", "r.{requests.total.total}"),
    ("reviews", "行政复议", "r.{appeals.review.total}"),
    ("lawsuits", "行政诉讼", "r.{appeals.suit_direct.total} + r.{appeals.suit_after_review.total}"),
    ("in_force", "现行有效规范性文件", "r.{active.normative_docs.in_force}"),
    ("penalties", "行政处罚", "r.{active.penalty.decisions}"),
    ("licences", "行政许可", "r.{active.licensing.decisions}"),
)
_DENIED = ("state_secret", "law_prohibited", "security_stability", "third_party", "internal_affairs",
           "process_info", "enforcement_file", "admin_query")  # fmt: skip
_UNABLE = ("not_held", "needs_creation", "still_unclear")
_NOT_PROCESSED = ("petition_complaint", "duplicate", "publication", "excessive", "confirm_reissue")
# (key, Chinese name, numerator, denominator, minimum-denominator threshold)
SHARES = (
    ("granted", "予以公开", "r.{requests.granted.total}", "r.{requests.total.total}", "peer_min_requests"),
    ("partial", "部分公开", "r.{requests.partial.total}", "r.{requests.total.total}", "peer_min_requests"),
    ("denied", "不予公开", " + ".join(f"r.{{requests.denied.{d}.total}}" for d in _DENIED), "r.{requests.total.total}", "peer_min_requests"),
    ("unable", "无法提供", " + ".join(f"r.{{requests.unable.{d}.total}}" for d in _UNABLE), "r.{requests.total.total}", "peer_min_requests"),
    ("not_processed", "不予处理", " + ".join(f"r.{{requests.not_processed.{d}.total}}" for d in _NOT_PROCESSED), "r.{requests.total.total}", "peer_min_requests"),
    ("corrected", "复议诉讼纠错",
     "r.{appeals.review.corrected} + r.{appeals.suit_direct.corrected} + r.{appeals.suit_after_review.corrected}",
     "r.{appeals.review.total} + r.{appeals.suit_direct.total} + r.{appeals.suit_after_review.total}", "peer_min_appeals"),
)  # fmt: skip
# the thresholds each rule reads (for docs/rules.md)
THRESHOLDS_OF = {
    "anomaly.yoy_jump": ("jump_factor", "jump_min"),
    "anomaly.peer_outlier": ("peer_min", "peer_min_requests", "peer_min_appeals", "peer_z", "peer_gap"),
    "anomaly.zero_run": ("zero_years", "zero_peer_median", "zero_peer_min"),
    "anomaly.fee_without_requests": (),
    "anomaly.review_missing_for_suit": (),
    "anomaly.in_force_vanished": ("in_force_min",),
}
SEQ = {
    "anomaly.yoy_jump": 20_000,
    "anomaly.peer_outlier": 20_100,
    "anomaly.zero_run": 20_200,
    "anomaly.fee_without_requests": 20_300,
    "anomaly.review_missing_for_suit": 20_310,
    "anomaly.in_force_vanished": 20_320,
}
# a fee actually collected, as section 六 states it: 实际收取信息处理费300元 / 收取信息处理费共计0.03万元
FEE_PATTERN = r"(?:实际)?收取[^。；，,]{0,10}?(?:信息处理费|费用)[^。；0-9]{0,6}([0-9]+(?:\.[0-9]+)?)\s*(万元|元)"


@dataclass(frozen=True, slots=True)
class Settings:
    jump_factor: float = DEFAULTS["jump_factor"].value
    jump_min: float = DEFAULTS["jump_min"].value
    peer_min: float = DEFAULTS["peer_min"].value
    peer_min_requests: float = DEFAULTS["peer_min_requests"].value
    peer_min_appeals: float = DEFAULTS["peer_min_appeals"].value
    peer_z: float = DEFAULTS["peer_z"].value
    peer_gap: float = DEFAULTS["peer_gap"].value
    zero_years: float = DEFAULTS["zero_years"].value
    zero_peer_median: float = DEFAULTS["zero_peer_median"].value
    zero_peer_min: float = DEFAULTS["zero_peer_min"].value
    in_force_min: float = DEFAULTS["in_force_min"].value


def load_settings(path: str | Path | None = None) -> Settings:
    """The defaults, overridden by the JSON or TOML file `path` (or the one GONGKAI_ANOMALIES names)."""
    path = path or os.environ.get(ENV)
    if not path:
        return Settings()
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        table = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise GongkaiError(f"无法读取异常规则阈值文件 {path}：{exc}") from None
    known = {f.name for f in fields(Settings)}
    if not isinstance(table, dict) or set(table) - known:
        unknown = sorted(set(table) - known) if isinstance(table, dict) else table
        raise GongkaiError(f"异常规则阈值文件 {path} 含未知的项 {unknown}；可用的项：{'、'.join(sorted(known))}")
    bad = [k for k, v in table.items() if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0]
    if bad:
        raise GongkaiError(f"异常规则阈值文件 {path} 中 {'、'.join(bad)} 须为非负数")
    return replace(Settings(), **{k: float(v) for k, v in table.items()})


def _cells(sql: str) -> str:
    """`r.{cell.id}` → `r."cell.id"`."""
    out, rest = [], sql
    while "{" in rest:
        head, _, tail = rest.partition("{")
        name, _, rest = tail.partition("}")
        out.append(head + quote(name))
    return "".join(out) + rest


def _names(sql: str) -> list[str]:
    return [part.partition("}")[0] for part in sql.split("{")[1:]]


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _list(ids: list[str]) -> str:
    return "[" + ", ".join(_text(i) for i in ids) + "]"


INSERT = "INSERT INTO findings (sha256, seq, rule, severity, origin, message, cells, suspects, related) "

# one copy per body and year, with its peer group; mirrors never count twice
BODY_YEARS_SQL = """
CREATE OR REPLACE TEMP TABLE body_years AS
SELECT r.*, r.body_type AS peer_type, {region} AS peer_region
FROM reports r JOIN (
    SELECT sha256, row_number() OVER (PARTITION BY body_key, year ORDER BY cells_found DESC NULLS LAST, sha256) AS rank
    FROM reports WHERE body_key IS NOT NULL AND year IS NOT NULL
) k ON k.sha256 = r.sha256 AND k.rank = 1
"""


def jump_sql(s: Settings) -> list[str]:
    out = []
    for i, (_, name, expression) in enumerate(JUMP_METRICS):
        cur, prev = _cells(expression), _cells(expression.replace("r.", "p."))
        out.append(f"""{INSERT}
SELECT sha256, {SEQ['anomaly.yoy_jump'] + i}, 'anomaly.yoy_jump', 'warning', 'source',
       {_text(name)} || '本年 ' || now || '，上年 ' || before || '（' || prev_year || ' 年）：'
           || CASE WHEN now > before THEN '增至' ELSE '降至' END || '上年的 '
           || CASE WHEN before = 0 THEN '∞' ELSE round(now / before, 2)::VARCHAR END || ' 倍',
       {_list(_names(expression))}, [], related
FROM (
    SELECT r.sha256, p.sha256 AS related, p.year AS prev_year, ({cur}) AS now, ({prev}) AS before
    FROM body_years r JOIN body_years p ON p.body_key = r.body_key AND p.year = r.year - 1
)
WHERE now IS NOT NULL AND before IS NOT NULL AND greatest(now, before) >= {s.jump_min}
  AND greatest(now, before) >= {s.jump_factor} * least(now, before)
""")
    return out


def peer_outlier_sql(s: Settings) -> list[str]:
    out = []
    for i, (_, name, numerator, denominator, minimum) in enumerate(SHARES):
        floor = getattr(s, minimum)
        cells = _names(numerator) + _names(denominator)
        out.append(f"""{INSERT}
WITH shares AS (
    SELECT r.sha256, r.peer_type, r.peer_region, r.year, ({_cells(numerator)}) / ({_cells(denominator)}) AS share,
           ({_cells(denominator)}) AS n
    FROM body_years r
    WHERE r.peer_region IS NOT NULL AND r.peer_type IS NOT NULL AND ({_cells(denominator)}) >= {floor}
      AND ({_cells(numerator)}) IS NOT NULL
), peers AS (
    SELECT peer_type, peer_region, year, median(share) AS med, mad(share) AS spread, count(*) AS bodies
    FROM shares GROUP BY ALL
), judged AS (
    SELECT x.sha256, x.share, x.n, p.med, p.bodies,
           abs(x.share - p.med) / greatest(1.4826 * p.spread,
                                           sqrt(greatest(p.med, 0.02) * greatest(1 - p.med, 0.02) / x.n)) AS z
    FROM shares x JOIN peers p USING (peer_type, peer_region, year)
    WHERE p.bodies >= {s.peer_min}
)
SELECT sha256, {SEQ['anomaly.peer_outlier'] + i}, 'anomaly.peer_outlier', 'warning', 'source',
       {_text(name)} || '占比 ' || round(share * 100)::INTEGER || '%（' || n::BIGINT || ' 件中），同地区同类机关中位数 '
           || round(med * 100)::INTEGER || '%（' || bodies || ' 家）',
       {_list(cells)}, [], NULL
FROM judged WHERE abs(share - med) >= {s.peer_gap} AND z >= {s.peer_z}
""")
    return out


def zero_run_sql(s: Settings) -> str:
    new, over, total = (quote(f"requests.{row}.total") for row in ("new_received", "carried_over", "total"))
    return f"""{INSERT}
WITH flagged AS (
    SELECT sha256, body_key, year, peer_type, peer_region,
           coalesce({new} = 0 AND {over} = 0 AND {total} = 0, false) AS zero
    FROM body_years
), runs AS (
    SELECT *, year - row_number() OVER (PARTITION BY body_key, zero ORDER BY year) AS island FROM flagged
), counted AS (
    SELECT *, row_number() OVER (PARTITION BY body_key, island ORDER BY year) AS length,
           min(year) OVER (PARTITION BY body_key, island) AS since
    FROM runs WHERE zero
), peers AS (
    SELECT c.sha256, median(b.{new}) AS med, count(*) AS bodies
    FROM counted c JOIN body_years b
      ON b.peer_type = c.peer_type AND b.peer_region = c.peer_region AND b.year = c.year AND b.body_key <> c.body_key
    WHERE c.length >= {s.zero_years} AND b.{new} IS NOT NULL
    GROUP BY c.sha256
)
SELECT c.sha256, {SEQ['anomaly.zero_run']}, 'anomaly.zero_run', 'warning', 'source',
       '连续 ' || c.length || ' 年（' || c.since || '–' || c.year || ' 年）依申请公开各项均为 0，同地区同类机关本年新收中位数 '
           || round(p.med)::BIGINT || ' 件（' || p.bodies || ' 家）',
       ['requests.new_received.total', 'requests.carried_over.total', 'requests.total.total'], [], NULL
FROM counted c JOIN peers p USING (sha256)
WHERE p.bodies >= {s.zero_peer_min} AND p.med >= {s.zero_peer_median}
"""


def implausible_sql(s: Settings) -> list[str]:
    new, over = quote("requests.new_received.total"), quote("requests.carried_over.total")
    review, after = quote("appeals.review.total"), quote("appeals.suit_after_review.total")
    fee = f"regexp_extract(r.section_6, {_text(FEE_PATTERN)}, 1)"
    unit = f"regexp_extract(r.section_6, {_text(FEE_PATTERN)}, 2)"
    out = [f"""{INSERT}
SELECT sha256, {SEQ['anomaly.fee_without_requests']}, 'anomaly.fee_without_requests', 'warning', 'source',
       '第六部分称收取信息处理费 ' || amount || unit || '，但本年新收申请 0 件、上年结转 0 件，没有可收费的申请',
       ['requests.new_received.total', 'requests.carried_over.total'], [], NULL
FROM (SELECT r.sha256, {fee} AS amount, {unit} AS unit, r.{new} AS new, r.{over} AS over FROM body_years r
      WHERE r.year >= 2021 AND r.section_6 IS NOT NULL)
WHERE amount <> '' AND TRY_CAST(amount AS DOUBLE) > 0 AND new = 0 AND over = 0
""", f"""{INSERT}
SELECT r.sha256, {SEQ['anomaly.review_missing_for_suit']}, 'anomaly.review_missing_for_suit', 'warning', 'source',
       '复议后起诉 ' || r.{after} || ' 件，但本年和上年（' || p.year || ' 年）行政复议均为 0 件',
       ['appeals.suit_after_review.total', 'appeals.review.total'], [], p.sha256
FROM body_years r JOIN body_years p ON p.body_key = r.body_key AND p.year = r.year - 1
WHERE r.{after} > 0 AND r.{review} = 0 AND p.{review} = 0
"""]
    for i, (kind, name) in enumerate((("rules", "规章"), ("normative_docs", "行政规范性文件"))):
        now, repealed = quote(f"active.{kind}.in_force"), quote(f"active.{kind}.repealed")
        out.append(f"""{INSERT}
SELECT r.sha256, {SEQ['anomaly.in_force_vanished'] + i}, 'anomaly.in_force_vanished', 'warning', 'source',
       {_text(name)} || '现行有效由上年 ' || p.{now} || ' 件降为 0，而本年废止 0 件',
       [{_text(f'active.{kind}.in_force')}, {_text(f'active.{kind}.repealed')}], [], p.sha256
FROM body_years r JOIN body_years p ON p.body_key = r.body_key AND p.year = r.year - 1
WHERE r.template = '2021' AND p.template = '2021'
  AND r.{now} = 0 AND r.{repealed} = 0 AND p.{now} >= {s.in_force_min}
""")
    return out


def statements(s: Settings, region: str = "r.region") -> list[str]:
    return [BODY_YEARS_SQL.format(region=region), *jump_sql(s), *peer_outlier_sql(s), zero_run_sql(s), *implausible_sql(s)]


def run_anomaly_rules(con, settings: Settings | None = None) -> int:
    """Delete and recompute every `anomaly.*` finding (inside the caller's transaction); returns how many."""
    settings = settings or load_settings()
    con.execute("DELETE FROM findings WHERE rule LIKE 'anomaly.%'")
    columns = {row[0] for row in con.execute("DESCRIBE reports").fetchall()}
    # peers share a division code where the store has one; the region's name otherwise
    region = "coalesce(r.region_code, r.region)" if "region_code" in columns else "r.region"
    for sql in statements(settings, region):
        con.execute(sql)
    return con.execute("SELECT count(*) FROM findings WHERE rule LIKE 'anomaly.%'").fetchone()[0]


def describe() -> list[tuple[str, str]]:
    """(rule, what it compares) for documentation."""
    s = Settings()
    return [
        ("anomaly.yoy_jump", f"{'、'.join(m[1] for m in JUMP_METRICS)}与上年相比变化 ≥ {s.jump_factor:g} 倍（较大一年 ≥ {s.jump_min:g}）"),
        ("anomaly.peer_outlier", f"{'、'.join(x[1] for x in SHARES)}占比偏离同地区、同类型、同年度机关的中位数（稳健 z ≥ {s.peer_z:g} 且相差 ≥ {s.peer_gap:.0%}，同类 ≥ {s.peer_min:g} 家）"),
        ("anomaly.zero_run", f"依申请公开连续 ≥ {s.zero_years:g} 年全部为 0，而同类机关本年新收中位数 ≥ {s.zero_peer_median:g} 件"),
        ("anomaly.fee_without_requests", "第六部分称收取了信息处理费，但本年新收与上年结转均为 0"),
        ("anomaly.review_missing_for_suit", "有复议后起诉，但本年与上年行政复议均为 0"),
        ("anomaly.in_force_vanished", f"现行有效由上年 ≥ {s.in_force_min:g} 件降为 0，而本年没有废止（2021 格式）"),
    ]
