"""The researcher's panel: the view `panel`, one row per body and year, every cell a plain column name.

A row is one body's report for one year:

- the copy: where a body has several files for a year, the one a person corrected (a person's
  reading beats the parser's), else the preferred copy of store/duplicates.py (cells read, errors,
  format, sha256); `copies` says how many there were;
- the values: the parsed cells with every correction a person made on that file (review's
  `current_cells`); `corrected_cells` names them, `errors`/`warnings` are those of the corrected version;
- the body: `body_id`, stable across re-runs and stores (see `body_id`), its name, type, the
  administrative division code and the province, city, county and township it lies in (from the
  roster body when there is a roster, else from the gazetteer's match of its name and region);
- `prev_year`, `prev_sha256`, `prev_version`: the same body's previous report in the panel (null when none);
- the review state: its findings open, confirmed, dismissed and resolved (review/decisions.py);
- every cell of spec/cells.tsv under its id with `__` for the dots: `requests__new_received__total`.

`body_id` is `B` and the first 12 hex digits of the MD5 of one of:
`roster:<区划代码>:<normalised roster name>` for a report matched to a roster body (audit/scope.py:
automatically or confirmed by a person), `key:<body key>` otherwise (store/bodies.py; a name that says
no place carries its folder, `key:区民政局@/data/长沙县`), `file:<sha256>` for a report whose body
could not be read. Reports whose year could not be read are not in the panel (they are in `reports`).

The divisions and the roster matching are Python (the gazetteer, audit/scope.py), so they are kept
in the table `panel_bodies`, rewritten by `refresh_panel` (`gongkai panel`). Until then a body's id
is its `key:` id and its division columns are null, and `body_note` says so.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import pyarrow as pa

from gongkai.cells import all_cells, label, unit
from gongkai.store.duplicates import preference
from gongkai.store.schema import duck_type, quote, report_fields

VIEW = "panel"
STATUSES = ("open", "confirmed", "dismissed", "resolved")
STATUS_ZH = {"open": "待核", "confirmed": "已确认", "dismissed": "已驳回", "resolved": "已更正"}
ROSTER_STATES = {"exact": "自动对应", "confirmed": "人工确认", "uncertain": "待确认", "unmatched": "名单中没有", "rejected": "确认不属名单"}

NOTE_PLACELESS = "名称未写明地区：按文件所在文件夹区分机关（同一文件夹中同名的报告视为同一机关）"
NOTE_NO_NAME = "未读出机关名称：这份报告单独作为一个机关"
NOTE_STALE = "机关的区划与名单对应尚未刷新（运行 gongkai panel）"

# table → (comment, [(column, type, comment)]): the body of every body key, written by refresh_panel
PANEL_BODIES = (
    "面板用的机关身份：每个机关归一名的 body_id、名单机关与所在区划（gongkai panel 刷新） / the panel's body identities: "
    "body_id, roster body and division of every body key (refreshed by gongkai panel)",
    [
        ("body_key", "VARCHAR", "机关归一名（reports.body_key） / normalised body key (reports.body_key)"),
        ("body_id", "VARCHAR", "稳定的机关编号（见 docs/data.md） / stable body id (see docs/data.md)"),
        ("body_name", "VARCHAR", "机关名称：名单中的名称，否则报告中最常用的写法 / body name: the roster's, else the spelling most reports use"),
        ("body_type", "VARCHAR", "机关类型 department|government|township|street|other / body type"),
        ("roster_name", "VARCHAR", "对应的名单机关（无名单或未对应为空） / the roster body it counts for (null: no roster, or none)"),
        ("roster_state", "VARCHAR", "与名单的对应 exact 自动|confirmed 人工确认|uncertain 待确认|unmatched 名单中没有|rejected 确认不属名单；无名单为空 "
                                    "/ roster match state, null without a roster"),
        ("division_code", "VARCHAR", "区划代码：名单给出的（6、9 或 12 位），否则所在区划的代码（县级以上 6 位，乡镇、街道 9 位） "
                                     "/ division code: the roster's, else its division's (6 digits; 9 for a township or street)"),
        ("division_level", "VARCHAR", "所在区划级别 province|city|county|township / level of its division"),
        ("province", "VARCHAR", "所在省级区划 / province"),
        ("city", "VARCHAR", "所在地级区划（省直辖县为空） / prefecture-level city (null for a county under its province)"),
        ("county", "VARCHAR", "所在县级区划 / county-level division"),
        ("township", "VARCHAR", "所在乡级区划（乡、镇、街道） / township, town or street"),
        ("note", "VARCHAR", "说明（如与名单的对应待确认） / note (a roster match waiting for a person…)"),
        ("refreshed_at", "TIMESTAMP", "刷新时间 / when refreshed"),
    ],
)


@dataclass(frozen=True, slots=True)
class PanelColumn:
    """One column of the panel: its SQL name, DuckDB type, Chinese label, unit and English description."""

    name: str
    kind: str
    label_zh: str
    unit: str = ""
    comment_en: str = ""
    cell_id: str | None = None

    @property
    def comment(self) -> str:
        unit_zh = f"（{self.unit}）" if self.unit else ""
        return f"{self.label_zh}{unit_zh} / {self.comment_en}"


def sql_name(cell_id: str) -> str:
    """A cell id as a column name no query has to quote: `requests.new_received.total` → `requests__new_received__total`."""
    return cell_id.replace(".", "__")


_HEAD = (
    ("body_id", "VARCHAR", "机关编号", "", "stable body id: B + 12 hex digits of MD5 of roster:<code>:<roster name> | key:<body key> | file:<sha256>"),
    ("year", "INTEGER", "年度", "", "report year"),
    ("body_name", "VARCHAR", "机关名称", "", "body name: the roster's, else the spelling most of its reports use"),
    ("body_type", "VARCHAR", "机关类型", "", "body type: department|government|township|street|other"),
    ("division_code", "VARCHAR", "区划代码", "", "division code: the roster's, else its division's (6 digits; 9 for a township or street)"),
    ("division_level", "VARCHAR", "区划级别", "", "level of its division: province|city|county|township"),
    ("province", "VARCHAR", "省", "", "province"),
    ("city", "VARCHAR", "市（地级）", "", "prefecture-level city"),
    ("county", "VARCHAR", "县（县级）", "", "county-level division"),
    ("township", "VARCHAR", "乡镇街道", "", "township, town or street"),
    ("roster_name", "VARCHAR", "名单机关", "", "the roster body the report counts for"),
    ("roster_state", "VARCHAR", "名单对应", "", "roster match: exact|confirmed|uncertain|unmatched|rejected, null without a roster"),
    ("body_note", "VARCHAR", "机关说明", "", "how the body was told apart, or what is not yet known of it"),
    ("body_key", "VARCHAR", "机关归一名", "", "normalised body key (store/bodies.py)"),
    ("agency", "VARCHAR", "机关（报告所写）", "", "agency as the report gives it"),
    ("region", "VARCHAR", "地区（报告所写）", "", "region as the report gives it"),
    ("sha256", "VARCHAR", "文件 SHA-256", "", "sha256 of the file the row's values come from"),
    ("path", "VARCHAR", "路径", "", "path of that file"),
    ("format", "VARCHAR", "文件格式", "", "its format"),
    ("published", "DATE", "发布日期", "", "publication date"),
    ("template", "VARCHAR", "表格格式", "", "table template 2019|2021"),
    ("copies", "BIGINT", "同年文件数", "份", "files of this body and year in the store (1 = no duplicate)"),
    ("lineage", "VARCHAR", "审核报告系列", "", "review lineage (year:body key), null until registered for review"),
    ("version", "INTEGER", "当前版本", "", "current review version of the lineage, null until registered for review"),
    ("prev_year", "INTEGER", "上一份报告年度", "", "year of the same body's previous report in the panel, null when none"),
    ("prev_sha256", "VARCHAR", "上一份报告 SHA-256", "", "sha256 of that report"),
    ("prev_version", "INTEGER", "上一份报告当前版本", "", "current review version of that report"),
    ("errors", "INTEGER", "错误数", "条", "error findings (of the corrected version when a person corrected cells)"),
    ("warnings", "INTEGER", "警告数", "条", "warning findings (likewise)"),
    ("findings_open", "BIGINT", "待核发现", "条", "findings open (not yet decided); null: not registered for review"),
    ("findings_confirmed", "BIGINT", "已确认发现", "条", "findings a reviewer confirmed"),
    ("findings_dismissed", "BIGINT", "已驳回发现", "条", "findings a reviewer dismissed"),
    ("findings_resolved", "BIGINT", "已更正发现", "条", "findings a correction or a new file resolved"),
    ("corrected_cells", "VARCHAR[]", "人工更正的单元格", "", "cells a person corrected (panel column names); their values here are the corrected ones"),
)


@cache
def panel_columns() -> tuple[PanelColumn, ...]:
    """Every column of the panel, in order: the body and the report, then every cell of cells.tsv."""
    kinds = {name: kind for name, kind, _ in report_fields()}
    head = tuple(PanelColumn(n, k, zh, u, en) for n, k, zh, u, en in _HEAD)
    cells = tuple(
        PanelColumn(sql_name(c.id), duck_type(kinds[c.id]), label(c.id), unit(c.id), f"{c.id}: {c.meaning}", c.id) for c in all_cells()
    )
    return head + cells


def arrow_type(kind: str) -> pa.DataType:
    return {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(), "DATE": pa.date32(),
            "VARCHAR[]": pa.list_(pa.string())}[kind]  # fmt: skip


def _review_counts() -> str:
    from gongkai.review.decisions import LISTING_SQL
    from gongkai.review.model import NOT_REVIEWED

    skipped = ", ".join(f"'{rule}'" for rule in NOT_REVIEWED)
    counts = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS findings_{s}" for s in STATUSES)
    return f"SELECT lineage, {counts} FROM ({LISTING_SQL}) WHERE rule NOT IN ({skipped}) GROUP BY lineage"


def _unregistered_counts() -> str:
    """A file not registered for review whose lineage has no version yet: no decision can exist, so every finding is open."""
    from gongkai.review.model import NOT_REVIEWED

    skipped = ", ".join(f"'{rule}'" for rule in NOT_REVIEWED)
    return f"SELECT sha256, count(*) AS findings_open FROM findings WHERE rule NOT IN ({skipped}) GROUP BY sha256"


@cache
def panel_sql() -> str:
    """The SELECT of the view (over reports, panel_bodies, bodies, agency_keys and review's tables)."""
    from gongkai.store.review_tables import LATEST_CORRECTION

    kinds = {c.name: c.kind for c in panel_columns()}
    cells = []
    for column in panel_columns():
        if column.cell_id is None:
            continue
        literal = f"'{column.cell_id}'"
        cells.append(f"CASE WHEN map_contains(cc.vals, {literal}) THEN CAST(cc.vals[{literal}] AS {kinds[column.name]}) "
                     f"ELSE r.{quote(column.cell_id)} END AS {column.name}")  # fmt: skip
    between = ",\n       "
    review = between.join(
        f"CASE WHEN rv.lineage IS NOT NULL THEN coalesce(rc.findings_{s}, 0) "
        f"WHEN fresh.free THEN {'coalesce(uc.findings_open, 0)' if s == 'open' else '0'} END AS findings_{s}"
        for s in STATUSES
    )
    return f"""
WITH cc AS (
    SELECT sha256, map_from_entries(list(struct_pack(k := cell_id, v := value))) AS vals, list(replace(cell_id, '.', '__') ORDER BY cell_id) AS cells
    FROM current_cells GROUP BY sha256
),
cf AS (
    SELECT c.sha256, count(f.rule) FILTER (WHERE f.severity = 'error')::INTEGER AS errors,
           count(f.rule) FILTER (WHERE f.severity = 'warning')::INTEGER AS warnings
    FROM ({LATEST_CORRECTION}) c LEFT JOIN version_findings f ON f.lineage = c.lineage AND f.version = c.version GROUP BY c.sha256
),
identified AS (
    SELECT r.*, coalesce(pb.body_id, 'B' || substr(md5(CASE WHEN r.body_key IS NULL THEN 'file:' || r.sha256
                                                           ELSE 'key:' || r.body_key END), 1, 12)) AS body_id,
           cc.sha256 IS NOT NULL AS corrected
    FROM reports r LEFT JOIN panel_bodies pb ON pb.body_key = r.body_key LEFT JOIN cc USING (sha256)
    WHERE r.year IS NOT NULL
),
keyed AS (
    SELECT r.sha256, r.year, r.body_id,
           row_number() OVER (PARTITION BY r.body_id, r.year ORDER BY r.corrected DESC, {preference("r")}) AS copy_rank,
           count(*) OVER (PARTITION BY r.body_id, r.year) AS copies
    FROM identified r
),
registered AS (SELECT sha256, min(lineage) AS lineage FROM report_versions WHERE kind = 'file' GROUP BY sha256),
current AS (SELECT lineage, max(version) AS version FROM report_versions GROUP BY lineage),
chosen AS (
    SELECT k.body_id, k.year, k.sha256, k.copies, rv.lineage, cv.version,
           lag(k.year) OVER w AS prev_year, lag(k.sha256) OVER w AS prev_sha256, lag(cv.version) OVER w AS prev_version
    FROM keyed k LEFT JOIN registered rv USING (sha256) LEFT JOIN current cv USING (lineage)
    WHERE k.copy_rank = 1
    WINDOW w AS (PARTITION BY k.body_id ORDER BY k.year)
)
SELECT c.body_id, c.year,
       coalesce(pb.body_name, b.name, r.agency) AS body_name,
       coalesce(pb.body_type, r.body_type) AS body_type,
       pb.division_code, pb.division_level, pb.province, pb.city, pb.county, pb.township, pb.roster_name, pb.roster_state,
       CASE WHEN r.body_key IS NULL THEN '{NOTE_NO_NAME}'
            WHEN r.body_key IN (SELECT body_key FROM agency_keys WHERE folder IS NOT NULL) THEN '{NOTE_PLACELESS}'
            WHEN pb.body_key IS NULL THEN '{NOTE_STALE}'
            ELSE pb.note END AS body_note,
       r.body_key, r.agency, r.region, r.sha256, r.path, r.format, r.published, r.template, c.copies,
       c.lineage, c.version, c.prev_year, c.prev_sha256, c.prev_version,
       coalesce(cf.errors, r.errors) AS errors, coalesce(cf.warnings, r.warnings) AS warnings,
       {review},
       coalesce(cc.cells, []::VARCHAR[]) AS corrected_cells,
       {between.join(cells)}
FROM chosen c
JOIN reports r USING (sha256)
LEFT JOIN panel_bodies pb ON pb.body_key = r.body_key
LEFT JOIN bodies b ON b.body_key = r.body_key
LEFT JOIN cc ON cc.sha256 = c.sha256
LEFT JOIN cf ON cf.sha256 = c.sha256
LEFT JOIN registered rv ON rv.sha256 = c.sha256
LEFT JOIN ({_review_counts()}) rc ON rc.lineage = rv.lineage
LEFT JOIN ({_unregistered_counts()}) uc ON uc.sha256 = c.sha256
LEFT JOIN (SELECT r2.sha256, NOT EXISTS (SELECT 1 FROM report_versions v WHERE v.lineage = r2.year || ':' || r2.body_key) AS free
           FROM reports r2) fresh ON fresh.sha256 = c.sha256
ORDER BY c.year, c.body_id
"""


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@cache
def _definition() -> tuple[str, str]:
    """The view's SQL and its fingerprint, which the SQL carries (a store knows which definition its view has)."""
    body = panel_sql()
    mark = "panel " + hashlib.md5(body.encode("utf-8")).hexdigest()[:16]
    return f"WITH definition AS (SELECT '{mark}' AS version), {body.lstrip().removeprefix('WITH ')}", mark


def ensure_panel(con) -> None:
    """Create `panel_bodies` and the view where missing, and the view again where its definition changed (a newer gongkai)."""
    _, columns = PANEL_BODIES
    con.execute(f"CREATE TABLE IF NOT EXISTS panel_bodies ({', '.join(f'{n} {t}' for n, t, _ in columns)})")
    sql, mark = _definition()
    have = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = ? AND schema_name = 'main' AND NOT temporary", [VIEW]).fetchone()
    if have is None or f"'{mark}'" not in have[0]:
        con.execute(f"CREATE OR REPLACE VIEW {VIEW} AS {sql}")


# ── the bodies: ids, roster bodies, divisions ─────────────────────────────────────────────────


def body_id(canonical: str) -> str:
    """`B` + 12 hex digits of the MD5 of the canonical form (the same as the view's SQL)."""
    return "B" + hashlib.md5(canonical.encode("utf-8")).hexdigest()[:12]


def _division_row(division) -> dict:
    if division is None:
        return {"division_code": None, "division_level": None, "province": None, "city": None, "county": None, "township": None}
    named = {level: (d.name if (d := division.at(level)) else None) for level in ("province", "city", "county", "township")}
    return {"division_code": division.nearest_code, "division_level": division.level, **named}


def body_identities(store) -> list[dict]:
    """One row of `panel_bodies` per body key of the store: its id, roster body and division."""
    from gongkai.audit.bodies import division_for
    from gongkai.audit.scope import scope
    from gongkai.store.bodies import normalise_name

    s = scope(store)  # the audit's matching of report bodies to the roster (registers new report versions first)
    con = store.con
    has_roster = bool(con.execute("SELECT count(*) FROM roster").fetchone()[0])
    matches = {m.report_key: m for m in s.matches}
    placeless = {k for (k,) in con.execute("SELECT DISTINCT body_key FROM agency_keys WHERE folder IS NOT NULL").fetchall()}
    rows = []
    for key, name, body_type in con.execute("SELECT body_key, name, body_type FROM bodies ORDER BY body_key").fetchall():
        match = matches.get(key)
        body = s.body_of_key.get(key)
        row = {"body_key": key, "body_name": name, "body_type": body_type, "roster_name": None,
               "roster_state": match.state if has_roster and match else None, "note": None}  # fmt: skip
        if has_roster and body is not None and body.source == "roster":
            code = body.division_code or ""
            row |= {"body_id": body_id(f"roster:{code}:{normalise_name(body.name)}"), "body_name": body.name,
                    "body_type": body.body_type or body_type, "roster_name": body.name, **_division_row(body.division)}  # fmt: skip
            if body.division_code:
                row["division_code"] = body.division_code
        else:
            division = None if key in placeless else (body.division if body is not None else division_for(key)[0])
            row |= {"body_id": body_id(f"key:{key}"), **_division_row(division)}
            if has_roster and match is not None:
                row["note"] = {"uncertain": "与名单机关的对应待人工确认（gongkai roster matches）", "unmatched": "名单中没有对应的机关",
                               "rejected": "已确认不属名单"}.get(match.state)  # fmt: skip
        rows.append(row)
    return rows


@dataclass(slots=True)
class PanelRefresh:
    bodies: int
    rows: int
    without_year: int  # reports left out: their year could not be read


def refresh_panel(store) -> PanelRefresh:
    """Rewrite `panel_bodies` from the roster and the gazetteer, make sure the view is current, comment every table."""
    from gongkai.store.dictionary import ensure_comments

    con = store.con
    ensure_panel(con)
    rows = body_identities(store)
    _, columns = PANEL_BODIES
    when = datetime.now().replace(microsecond=0)
    schema = pa.schema([(n, arrow_type(t) if t != "TIMESTAMP" else pa.timestamp("s")) for n, t, _ in columns])
    table = pa.Table.from_pylist([row | {"refreshed_at": when} for row in rows], schema=schema)
    con.execute("BEGIN TRANSACTION")
    try:
        con.register("gk_panel_bodies", table)
        con.execute("DELETE FROM panel_bodies")
        con.execute("INSERT INTO panel_bodies BY NAME SELECT * FROM gk_panel_bodies")
        con.unregister("gk_panel_bodies")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    ensure_comments(con)
    count = con.execute(f"SELECT count(*) FROM {VIEW}").fetchone()[0]
    without = con.execute("SELECT count(*) FROM reports WHERE year IS NULL").fetchone()[0]
    return PanelRefresh(len(rows), count, without)
