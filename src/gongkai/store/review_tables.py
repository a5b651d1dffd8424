"""The tables of the January audit and of review, in the same DuckDB file as the corpus (DDL and comments).

They live beside `reports`, `findings` and `failures` and are never written by a batch: `--redo`,
re-parses and corpus refreshes leave the roster, the versions, decisions, corrections, users and
the log as they are. Review data is keyed by what survives a re-parse: the report's lineage (one
body's report for one year, whatever files it came in) and the finding id derived from it.

Every table and column carries a comment in Chinese and English, read by the data dictionary.
Two views give what a reader wants: `current_versions` (the current version of every lineage) and
`current_cells` (every cell a person corrected, with the parsed value beside it).
"""

from __future__ import annotations

# table → (comment, [(column, type, comment)])
TABLES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "roster": ("名单：要求发布年度报告的机关 / roster: the bodies that must publish a report", [
        ("name", "VARCHAR", "名称（名单中唯一） / the body's name, unique in the roster"),
        ("body_type", "VARCHAR", "机关类型 department|government|township|street|other，未填为空 / body type, null when not given"),
        ("parent", "VARCHAR", "上级机关名称 / name of the body above it"),
        ("division_code", "VARCHAR", "区划代码（6、9 或 12 位，按原样） / administrative division code as given (6, 9 or 12 digits)"),
        ("region_code", "VARCHAR", "所在区划的代码（省、地、县级 6 位，乡镇、街道 9 位） / code of the division the body lies in (6 digits; 9 for a township)"),
        ("region_name", "VARCHAR", "所在区划全称（到乡级） / full name of its division, down to the township"),
        ("level", "VARCHAR", "区划级别 province|city|county|township / level of its division"),
        ("line", "INTEGER", "导入文件中的行号 / line of the imported file"),
        ("imported_at", "TIMESTAMP", "导入时间 / when the roster was imported"),
        ("imported_by", "VARCHAR", "导入人 / who imported it"),
        ("source_file", "VARCHAR", "导入的文件名 / the file imported"),
    ]),
    "roster_matches": ("人工确认的报告机关与名单机关的对应（追加写入，最后一条有效） / a person's confirmation that a report's body is a roster body (append-only, the last row counts)", [
        ("report_key", "VARCHAR", "报告机关的归一名（reports.body_key） / the report's normalised body name (reports.body_key)"),
        ("roster_name", "VARCHAR", "名单中的机关名称；为空表示确认不对应 / the roster body, null: confirmed to match none"),
        ("actor", "VARCHAR", "确认人 / who confirmed"),
        ("done_at", "TIMESTAMP", "确认时间 / when"),
    ]),
    "report_versions": ("报告的版本：同一机关同一年度的每份文件和每次人工更正各为一版 / versions of a report: every file and every correction of one body's report for one year", [
        ("lineage", "VARCHAR", "报告系列：年度:机关归一名（或 file:文件SHA-256） / the report's lineage: year:body key (or file:sha256)"),
        ("version", "INTEGER", "版本号，从 1 起 / version number from 1"),
        ("kind", "VARCHAR", "file（新文件）或 correction（人工更正） / a new file or a person's correction"),
        ("sha256", "VARCHAR", "该版所依据的文件 SHA-256 / sha256 of the file the version's cells come from"),
        ("body_key", "VARCHAR", "登记时的机关归一名 / body key when registered"),
        ("agency", "VARCHAR", "机关名称（报告所写） / agency as the report gives it"),
        ("year", "INTEGER", "报告年度 / report year"),
        ("published", "DATE", "发布日期 / publication date"),
        ("template", "VARCHAR", "表格格式 2019|2021 / table template"),
        ("body_type", "VARCHAR", "机关类型 / body type"),
        ("region", "VARCHAR", "地区 / region"),
        ("path", "VARCHAR", "文件路径 / file path"),
        ("registered_at", "TIMESTAMP", "登记时间 / when the version was registered"),
        ("actor", "VARCHAR", "登记人（批量入库为空） / who registered it (null for a batch)"),
        ("note", "VARCHAR", "说明 / note"),
        ("snapshot_at", "TIMESTAMP", "单元格与发现存档的时间（为空表示未存档，以 reports/findings 为准） / when its cells and findings were archived (null: read from reports/findings)"),
    ]),
    "version_cells": ("各版本单元格的存档（长表） / archived cells of a version (long form)", [
        ("lineage", "VARCHAR", "报告系列 / lineage"),
        ("version", "INTEGER", "版本号 / version"),
        ("cell_id", "VARCHAR", "单元格编号（spec/cells.tsv） / cell id of spec/cells.tsv"),
        ("value", "DOUBLE", "数值，空白为空 / value, null when blank"),
    ]),
    "version_findings": ("各版本发现的存档 / archived findings of a version", [
        ("lineage", "VARCHAR", "报告系列 / lineage"),
        ("version", "INTEGER", "版本号 / version"),
        ("finding_id", "VARCHAR", "发现编号（由系列、规则、单元格得出，跨版本不变） / finding id (from lineage, rule, cells: the same on every version)"),
        ("seq", "INTEGER", "报告内的顺序 / order within the report"),
        ("rule", "VARCHAR", "规则编号 / rule id"),
        ("severity", "VARCHAR", "级别 error|warning|info / severity"),
        ("origin", "VARCHAR", "来源 source（报告本身）|extraction（解析存疑） / origin"),
        ("message", "VARCHAR", "说明 / message"),
        ("cells", "VARCHAR[]", "涉及单元格 / cells involved"),
        ("suspects", "VARCHAR[]", "可疑单元格 / suspect cells"),
        ("related", "VARCHAR", "对照报告 SHA-256 / the other report of a cross-year finding"),
    ]),
    "corrections": ("人工更正的单元格（原解析值从不覆盖） / cells corrected by a person (the parsed value is never overwritten)", [
        ("lineage", "VARCHAR", "报告系列 / lineage"),
        ("version", "INTEGER", "这次更正产生的版本 / the version this correction made"),
        ("sha256", "VARCHAR", "被更正的文件 SHA-256 / sha256 of the file corrected"),
        ("cell_id", "VARCHAR", "单元格编号 / cell id"),
        ("value", "DOUBLE", "更正后的值 / the corrected value"),
        ("old_value", "DOUBLE", "更正前的值 / the value before"),
        ("reason", "VARCHAR", "理由 / reason"),
        ("actor", "VARCHAR", "更正人 / who corrected"),
        ("done_at", "TIMESTAMP", "更正时间 / when"),
    ]),
    "decisions": ("对发现的审核决定（追加写入，最后一条有效） / reviewers' decisions on findings (append-only, the last one counts)", [
        ("seq", "BIGINT", "顺序号 / order"),
        ("finding_id", "VARCHAR", "发现编号 / finding id"),
        ("lineage", "VARCHAR", "报告系列 / lineage"),
        ("version", "INTEGER", "决定时的版本 / version when decided"),
        ("status", "VARCHAR", "open 待核|confirmed 已确认|dismissed 已驳回 / status decided"),
        ("reason", "VARCHAR", "理由（驳回时必填） / reason (required to dismiss)"),
        ("actor", "VARCHAR", "审核人 / reviewer"),
        ("done_at", "TIMESTAMP", "时间 / when"),
        ("rule", "VARCHAR", "规则编号 / rule id"),
        ("severity", "VARCHAR", "级别 / severity"),
        ("origin", "VARCHAR", "来源 / origin"),
        ("message", "VARCHAR", "说明 / message"),
        ("cells", "VARCHAR[]", "涉及单元格 / cells"),
    ]),
    "audit_log": ("审计日志：每个决定、更正、版本、登录、用户变更（只追加） / audit trail: every decision, correction, version, login and user change (append-only)", [
        ("seq", "BIGINT", "顺序号 / order"),
        ("done_at", "TIMESTAMP", "时间 / when"),
        ("actor", "VARCHAR", "操作人 / who"),
        ("action", "VARCHAR", "decision|correction|version|resolved|login|user|roster|match|notice"),
        ("lineage", "VARCHAR", "报告系列 / lineage"),
        ("sha256", "VARCHAR", "报告文件 SHA-256 / report file"),
        ("target", "VARCHAR", "对象：发现编号、单元格编号、用户名… / what: finding id, cell id, user name…"),
        ("old_value", "VARCHAR", "原值 / old value"),
        ("new_value", "VARCHAR", "新值 / new value"),
        ("reason", "VARCHAR", "理由 / reason"),
        ("detail", "VARCHAR", "说明 / detail"),
    ]),
    "users": ("用户与角色 / users and roles", [
        ("name", "VARCHAR", "用户名 / user name"),
        ("role", "VARCHAR", "admin 管理员|reviewer 审核员|readonly 只读 / role"),
        ("region", "VARCHAR", "可管辖的区划代码（审核员必填，其下所有区划） / division code whose subtree the user may act on"),
        ("password_hash", "VARCHAR", "Argon2id 口令散列 / Argon2id password hash"),
        ("active", "BOOLEAN", "是否启用 / enabled"),
        ("created_at", "TIMESTAMP", "创建时间 / created"),
        ("created_by", "VARCHAR", "创建人 / created by"),
    ]),
}

SEQUENCE = "review_seq"

VIEWS = {
    "current_versions": (
        "每个报告系列的当前版本 / the current version of every lineage",
        "SELECT v.* FROM report_versions v "
        "WHERE v.version = (SELECT max(w.version) FROM report_versions w WHERE w.lineage = v.lineage)",
    ),
    "current_cells": (
        "人工更正过的单元格的当前值，与解析值并列（每个文件每格最后一次更正） / the current value of every cell a person corrected, beside the parsed one",
        "SELECT c.sha256, c.lineage, c.cell_id, c.value, p.parsed_value, c.version, c.reason, c.actor, c.done_at, true AS corrected "
        "FROM corrections c JOIN (SELECT sha256, cell_id, first(old_value ORDER BY version) AS parsed_value, max(version) AS last "
        "FROM corrections GROUP BY sha256, cell_id) p ON p.sha256 = c.sha256 AND p.cell_id = c.cell_id AND c.version = p.last",
    ),
}


# a report file whose latest version is a person's correction: that version (its findings are those the rule engine found)
LATEST_CORRECTION = (
    "SELECT v.sha256, v.lineage, v.version FROM report_versions v WHERE v.kind = 'correction' "
    "AND v.version = (SELECT max(w.version) FROM report_versions w WHERE w.sha256 = v.sha256)"
)


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ensure_review_tables(con) -> None:
    """Create the audit and review tables and views where they are missing, with their comments (additive)."""
    con.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE}")
    for table, (comment, columns) in TABLES.items():
        exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchone()[0]
        if exists:
            have = {r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
            missing = [(n, t, c) for n, t, c in columns if n not in have]
            for name, kind, _ in missing:
                con.execute(f'ALTER TABLE {table} ADD COLUMN "{name}" {kind}')
            if not missing:
                continue
        else:
            con.execute(f"CREATE TABLE {table} ({', '.join(f'{chr(34)}{n}{chr(34)} {t}' for n, t, _ in columns)})")
        con.execute(f"COMMENT ON TABLE {table} IS {_text(comment)}")
        for name, _, text in columns:
            con.execute(f'COMMENT ON COLUMN {table}."{name}" IS {_text(text)}')
    for view, (comment, sql) in VIEWS.items():
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [view]).fetchone()[0]:
            con.execute(f"CREATE VIEW {view} AS {sql}")
            con.execute(f"COMMENT ON VIEW {view} IS {_text(comment)}")


def has_review_tables(con) -> bool:
    """Whether the store has been opened for review (a store made by an older gongkai, read-only, has not)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'report_versions'").fetchone()[0])
