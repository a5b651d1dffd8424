"""View models shared by the web app and the HTML audit report.

One way to lay out the official tables (template.md §3–5: merged headers, row labels, rowspans),
to mark the cells that break a rule, to word each finding for a reviewer, and to sum a corpus
store for charts. Templates only render what these functions return; nothing here is HTML.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.cells import APPEAL_BLOCKS, APPEAL_COLUMNS, APPLICANT_COLUMNS, label
from gongkai.locate.sections import TITLES
from gongkai.report import BODY_TYPE_ZH, Finding, Report  # noqa: F401  (BODY_TYPE_ZH re-exported for the web)
from gongkai.rules.catalog import CATALOG, ORIGIN_ZH, SEVERITY_ZH  # noqa: F401  (re-exported for the web)
from gongkai.store.stats import METRICS, OUTCOMES, compute_stats, filter_sql, share_text

SECTION_TITLES = tuple(TITLES[n] for n in range(1, 7))
NUMERALS = "一二三四五六七八九十"
FAILURE_KIND_ZH = {"unreadable": "无法读取", "limit": "超出时限或内存上限", "crash": "解析出错"}  # failures.kind


def rule_zh(rule: str) -> str:
    known = CATALOG.get(rule)
    return known.broken if known else rule


def format_value(value: float | None) -> str:
    """How a cell value is printed: blank for null, no trailing zeros for amounts."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


# ── the official layouts ──────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Cell:
    """One <td>/<th> of an official table: a header, a row label, or a value with its cell id."""

    text: str = ""
    kind: str = "head"  # head | label | value | note
    rowspan: int = 1
    colspan: int = 1
    cell_id: str | None = None
    classes: list[str] = field(default_factory=list)
    findings: list[int] = field(default_factory=list)  # indexes into ReportView.findings


@dataclass(slots=True)
class Table:
    number: str  # 一 / 二 / 三
    title: str
    section: int  # the section the table sits in (2, 3, 4)
    head: list[list[Cell]]
    body: list[list[Cell]]


def _h(text: str, rowspan: int = 1, colspan: int = 1, kind: str = "head") -> Cell:
    return Cell(text=text, kind=kind, rowspan=rowspan, colspan=colspan)


def _v(cell_id: str, colspan: int = 1) -> Cell:
    return Cell(kind="value", cell_id=cell_id, colspan=colspan)


_ACTIVE_2021 = [
    ("第二十条第（一）项", ["本年制发件数", "本年废止件数", "现行有效件数"],
     [("规章", "rules", ["issued", "repealed", "in_force"]),
      ("行政规范性文件", "normative_docs", ["issued", "repealed", "in_force"])]),
    ("第二十条第（五）项", ["本年处理决定数量"], [("行政许可", "licensing", ["decisions"])]),
    ("第二十条第（六）项", ["本年处理决定数量"],
     [("行政处罚", "penalty", ["decisions"]), ("行政强制", "coercion", ["decisions"])]),
    ("第二十条第（八）项", ["本年收费金额（单位：万元）"], [("行政事业性收费", "admin_fees", ["amount_wan"])]),
]
_ACTIVE_2019 = [
    ("第二十条第（一）项", ["本年新制作数量", "本年新公开数量", "对外公开总数量"],
     [("规章", "rules", ["new_made", "new_published", "total_published"]),
      ("规范性文件", "normative_docs", ["new_made", "new_published", "total_published"])]),
    ("第二十条第（五）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("行政许可", "licensing", ["prev_items", "delta", "decisions"]),
      ("其他对外管理服务事项", "other_services", ["prev_items", "delta", "decisions"])]),
    ("第二十条第（六）项", ["上一年项目数量", "本年增/减", "处理决定数量"],
     [("行政处罚", "penalty", ["prev_items", "delta", "decisions"]),
      ("行政强制", "coercion", ["prev_items", "delta", "decisions"])]),
    ("第二十条第（八）项", ["上一年项目数量", "本年增/减"], [("行政事业性收费", "admin_fees", ["prev_items", "delta"])]),
    ("第二十条第（九）项", ["采购项目数量", "采购总金额"], [("政府集中采购", "procurement", ["projects", "amount_wan"])]),
]


def _spans(n: int, width: int = 3) -> list[int]:
    """Column spans of n value columns filling `width` columns (the last one takes the rest)."""
    return [1] * (n - 1) + [width - (n - 1)]


def active_table(template: str) -> Table:
    """Table 一 (section 二): caption row and header row per block, 4 columns wide."""
    body: list[list[Cell]] = []
    for caption, headers, rows in _ACTIVE_2021 if template == "2021" else _ACTIVE_2019:
        spans = _spans(len(headers))
        body.append([_h(caption, colspan=4, kind="caption")])
        body.append([_h("信息内容")] + [_h(t, colspan=s) for t, s in zip(headers, spans)])
        for row_label, key, cols in rows:
            body.append([_h(row_label, kind="label")] + [_v(f"active.{key}.{c}", s) for c, s in zip(cols, spans)])
    return Table("一", "主动公开政府信息情况", 2, [], body)


_REQUEST_GROUPS = [
    ("（三）不予公开", "denied", [
        ("1.属于国家秘密", "state_secret"), ("2.其他法律行政法规禁止公开", "law_prohibited"),
        ("3.危及“三安全一稳定”", "security_stability"), ("4.保护第三方合法权益", "third_party"),
        ("5.属于三类内部事务信息", "internal_affairs"), ("6.属于四类过程性信息", "process_info"),
        ("7.属于行政执法案卷", "enforcement_file"), ("8.属于行政查询事项", "admin_query")]),
    ("（四）无法提供", "unable", [
        ("1.本机关不掌握相关政府信息", "not_held"), ("2.没有现成信息需要另行制作", "needs_creation"),
        ("3.补正后申请内容仍不明确", "still_unclear")]),
    ("（五）不予处理", "not_processed", [
        ("1.信访举报投诉类申请", "petition_complaint"), ("2.重复申请", "duplicate"),
        ("3.要求提供公开出版物", "publication"), ("4.无正当理由大量反复申请", "excessive"),
        ("5.要求行政机关确认或重新出具已获取信息", "confirm_reissue")]),
]
_OTHER_2021 = ("（六）其他处理", "other", [
    ("1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "no_correction"),
    ("2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "unpaid_fee"),
    ("3.其他", "other")])


def _values(row: str) -> list[Cell]:
    return [_v(f"requests.{row}.{c}") for c in APPLICANT_COLUMNS]


def requests_table(template: str) -> Table:
    """Table 二 (section 三): the 3-row applicant header and the rowspan'd outcome rows."""
    head = [
        [_h("（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", 3, 3, kind="note"),
         _h("申请人情况", colspan=7)],
        [_h("自然人", rowspan=2), _h("法人或其他组织", colspan=5), _h("总计", rowspan=2)],
        [_h("商业企业"), _h("科研机构"), _h("社会公益组织"), _h("法律服务机构"), _h("其他")],
    ]
    groups = list(_REQUEST_GROUPS) + ([_OTHER_2021] if template == "2021" else [])
    result_rows: list[list[Cell]] = [
        [_h("（一）予以公开", colspan=2, kind="label")] + _values("granted"),
        [_h("（二）部分公开（区分处理的，只计这一情形，不计其他情形）", colspan=2, kind="label")] + _values("partial"),
    ]
    for group_label, group, items in groups:
        for i, (item_label, item) in enumerate(items):
            lead = [_h(group_label, rowspan=len(items), kind="label")] if i == 0 else []
            result_rows.append(lead + [_h(item_label, kind="label")] + _values(f"{group}.{item}"))
    if template != "2021":
        result_rows.append([_h("（六）其他处理", colspan=2, kind="label")] + _values("other"))
    result_rows.append([_h("（七）总计", colspan=2, kind="label")] + _values("total"))
    result_rows[0].insert(0, _h("三、本年度办理结果", rowspan=len(result_rows), kind="label"))
    body = [
        [_h("一、本年新收政府信息公开申请数量", colspan=3, kind="label")] + _values("new_received"),
        [_h("二、上年结转政府信息公开申请数量", colspan=3, kind="label")] + _values("carried_over"),
        *result_rows,
        [_h("四、结转下年度继续办理", colspan=3, kind="label")] + _values("carried_forward"),
    ]
    return Table("二", "收到和处理政府信息公开申请情况", 3, head, body)


_APPEAL_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


def appeals_table() -> Table:
    """Table 三 (section 四): 行政复议 ×5 and 行政诉讼 (直接起诉 ×5, 复议后起诉 ×5), one value row."""
    head = [
        [_h("行政复议", colspan=5), _h("行政诉讼", colspan=10)],
        [_h(t, rowspan=2) for t in _APPEAL_LABELS] + [_h("未经复议直接起诉", colspan=5), _h("复议后起诉", colspan=5)],
        [_h(t) for t in _APPEAL_LABELS] * 2,
    ]
    body = [[_v(f"appeals.{b}.{c}") for b in APPEAL_BLOCKS for c in APPEAL_COLUMNS]]
    return Table("三", "政府信息公开行政复议、行政诉讼情况", 4, head, body)


# ── one report ────────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class FindingView:
    index: int
    rule: str
    rule_zh: str
    severity: str
    severity_zh: str
    origin: str
    origin_zh: str
    message: str
    numbers: list[tuple[str, str, str, bool]]  # (cell id, label, value, is suspect)


@dataclass(slots=True)
class SectionView:
    number: int
    numeral: str
    title: str
    present: bool
    heading: str = ""
    text: str = ""
    chars: int = 0


@dataclass(slots=True)
class ReportView:
    report: Report
    template: str
    tables: list[Table]
    findings: list[FindingView]
    sections: list[SectionView]
    values: dict[str, str]
    provenance: dict[str, dict]  # cell id → {label, value, raw, line, page, bbox, …} for the side panel
    counts: dict[str, int]

    @property
    def sha256(self) -> str:
        return self.report.source.sha256

    @property
    def title(self) -> str:
        meta = self.report.meta
        name = meta.agency or self.report.source.path or self.sha256[:12]
        return f"{name} {meta.year}年度" if meta.year else name

    @property
    def source_links(self) -> list[tuple[str, str]]:
        """(what, address) of the web pages a fetched report came from, http(s) only: links a reader can follow."""
        source = self.report.source
        links = [("来源网址", source.url), ("详情页", source.page if source.page != source.url else None)]
        return [(what, url) for what, url in links if url and url.startswith(("http://", "https://"))]

    @property
    def published_note(self) -> str | None:
        """Said beside a publication date that is only a hint from the website (the text gives none)."""
        from gongkai.report import PUBLISHED_FROM_ZH

        where = PUBLISHED_FROM_ZH.get(self.report.meta.published_from or "")
        return f"正文没有写明发布日期：{self.report.meta.published} 取自{where}" if where else None



def detect_template(report: Report) -> str:
    """The layout to draw: the detected template, else the one whose cells the report has."""
    if report.meta.template:
        return report.meta.template
    if any(k in report.cells for k in ("requests.other.natural_person", "active.rules.new_made")):
        return "2019"
    return "2021"


def finding_view(index: int, finding: Finding, cells: dict) -> FindingView:
    suspects = set(finding.suspects)
    numbers = [(c, label(c), format_value(cells.get(c)) or "空", c in suspects) for c in finding.cells]
    return FindingView(index, finding.rule, rule_zh(finding.rule), finding.severity, SEVERITY_ZH.get(finding.severity, finding.severity),
                       finding.origin, ORIGIN_ZH.get(finding.origin, finding.origin), finding.message, numbers)


_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def report_view(report: Report) -> ReportView:
    """Everything a page needs to show one report: the tables with marked cells, findings, sections."""
    template = detect_template(report)
    tables = [active_table(template), requests_table(template), appeals_table()]
    # errors of the report itself first: a reviewer reads those before the parser's doubts
    ordered = sorted(report.findings, key=lambda f: (_SEVERITY_ORDER.get(f.severity, 3), f.origin != "source"))
    findings = [finding_view(i, f, report.cells) for i, f in enumerate(ordered)]

    marks: dict[str, set[str]] = defaultdict(set)
    by_cell: dict[str, list[int]] = defaultdict(list)
    for i, f in enumerate(ordered):
        for c in f.cells:
            marks[c].add(f"cell-{f.severity}")
            by_cell[c].append(i)
        for c in f.suspects:
            marks[c].add("suspect")
            if i not in by_cell[c]:
                by_cell[c].append(i)

    values = {cid: format_value(v) for cid, v in report.cells.items()}
    for table in tables:
        for row in table.body:
            for cell in row:
                if cell.kind != "value":
                    continue
                cid = cell.cell_id
                cell.text = values.get(cid, "")
                severities = marks.get(cid, set())
                # the worst severity wins the colour; suspect is an extra emphasis
                for sev in ("error", "warning", "info"):
                    if f"cell-{sev}" in severities:
                        cell.classes.append(f"cell-{sev}")
                        break
                if "suspect" in severities:
                    cell.classes.append("suspect")
                if cid not in report.cells:
                    cell.classes.append("absent")
                elif report.cells[cid] is None:
                    cell.classes.append("blank")
                cell.findings = by_cell.get(cid, [])

    provenance: dict[str, dict] = {}
    for cid in set(report.cells) | set(report.provenance):
        entry: dict = {"label": label(cid), "value": values.get(cid, "")}
        if cid in report.provenance:
            entry.update(report.provenance[cid].model_dump(exclude_none=True))
        provenance[cid] = entry

    by_number = {s.number: s for s in report.sections}
    sections = []
    for n, title in enumerate(SECTION_TITLES, start=1):
        s = by_number.get(n)
        sections.append(SectionView(n, NUMERALS[n - 1], title, s is not None,
                                    heading=s.heading if s else "", text=s.text if s else "",
                                    chars=len(s.text) if s else 0))
    counts = {sev: sum(1 for f in report.findings if f.severity == sev) for sev in ("error", "warning", "info")}
    return ReportView(report, template, tables, findings, sections, values, provenance, counts)


def report_from_row(row: dict, findings: list[dict]) -> Report:
    """A Report rebuilt from a store row (the store keeps cells, findings and section texts, no provenance)."""
    from gongkai.cells import all_cells
    from gongkai.report import Meta, Section, Source

    cell_ids = {c.id for c in all_cells()}
    template = row.get("template")
    # without a detected template only the cells that hold a value say which layout it was
    cells = {k: v for k, v in row.items() if k in cell_ids and (k in _template_ids(template) if template else v is not None)}
    meta = {k: row.get(k) for k in ("agency", "year", "published", "template", "body_type", "region", "published_from") if row.get(k) is not None}
    if "published" in meta:
        meta["published"] = str(meta["published"])[:10]
    sections = [Section(number=n, title=SECTION_TITLES[n - 1], heading=f"{NUMERALS[n - 1]}、{SECTION_TITLES[n - 1]}", text=row[f"section_{n}"])
                for n in range(1, 7) if row.get(f"section_{n}") is not None]
    src = Source(path=row.get("path"), sha256=row["sha256"], format=row.get("format") or "?", pages=row.get("pages"),
                 url=row.get("source_url"), page=row.get("source_page"))  # fmt: skip
    return Report(source=src, meta=Meta(**meta), sections=sections, cells=cells, findings=[Finding(**f) for f in findings])


def _template_ids(template: str) -> set[str]:
    from gongkai.cells import cell_ids

    return set(cell_ids(template))


# ── a corpus store ────────────────────────────────────────────────────────────────────────


@dataclass(slots=True)
class Bar:
    label: str
    value: float  # the bar's length (a percentage for percent charts)
    note: str = ""
    text: str = ""  # the value as printed (a share as `gongkai stats` prints it); else the number


@dataclass(slots=True)
class Chart:
    title: str
    bars: list[Bar]
    unit: str = ""
    percent: bool = False

    @property
    def max(self) -> float:
        if self.percent:
            return 100.0
        return max((b.value for b in self.bars), default=0) or 1


@dataclass(slots=True)
class CorpusView:
    filters: dict[str, str | int | None]
    options: dict[str, list]
    n_reports: int
    n_errors: int
    n_warnings: int
    by_year: list[dict]
    charts: list[Chart]
    worst_bodies: list[dict]
    cross_year: list[dict]
    reports: list[dict]
    anomalies: list[dict] = field(default_factory=list)  # anomaly.* findings, apart from the errors
    failures: list[dict] = field(default_factory=list)  # files that could not be read (the `failures` table)
    n_failures: int = 0


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def store_columns(con, table: str) -> set[str]:
    try:
        return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    except Exception:  # noqa: BLE001 — a missing table is an empty store
        return set()


def _where(filters: dict, columns: set[str]) -> tuple[str, list]:
    return filter_sql({k: v for k, v in filters.items() if k in columns})


def _sum_expr(cols: list[str], columns: set[str]) -> str:
    present = [f"coalesce(sum(r.{_q(c)}), 0)" for c in cols if c in columns]
    return " + ".join(present) if present else "0"


_METRIC_ZH = {m.id: m.label_zh for m in METRICS}


def corpus_view(con, filters: dict | None = None, *, limit: int = 500) -> CorpusView:
    """Sums over the store's `reports` and `findings` tables (output.md), under the filters; the
    statistics are those of `gongkai stats` (store/stats.py), never computed a second way."""
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    columns = store_columns(con, "reports")
    if not columns:
        return CorpusView(filters, {"year": [], "region": [], "body_type": []}, 0, 0, 0, [], [], [], [], [])
    where, params = _where(filters, columns)
    options = {
        key: [r[0] for r in con.execute(f"SELECT DISTINCT {_q(key)} FROM reports WHERE {_q(key)} IS NOT NULL ORDER BY 1").fetchall()]
        if key in columns else []
        for key in ("year", "region", "body_type")
    }
    n, errors, warnings = con.execute(
        f"SELECT count(*), coalesce(sum(r.errors), 0), coalesce(sum(r.warnings), 0) FROM reports r{where}", params).fetchone()

    charts: list[Chart] = []
    years = [row for row in compute_stats(con, "year", filters) if row["key"] is not None]
    by_year = [{"year": int(row["key"]), "reports": row["reports"], "requests_received": row["received"]} for row in years]
    charts.append(Chart("各年度新收申请数", [Bar(f"{y['year']}年", y["requests_received"], f"{y['reports']} 份报告") for y in by_year],
                        unit="件"))

    overall = compute_stats(con, None, filters)
    if overall:
        whole = overall[0]
        charts.append(Chart(f"办理结果占比（占办理结果总计 {whole['handled']:,} 件）",
                            [Bar(_METRIC_ZH[name], round(100 * (whole[name] or 0), 1), f"{whole['counts'][name]:,} 件", share_text(whole[name]))
                             for name in OUTCOMES], unit="%", percent=True))  # fmt: skip

    appeal_sql = ", ".join(_sum_expr([f"appeals.{b}.{c}" for b in APPEAL_BLOCKS], columns) for c in APPEAL_COLUMNS[:4])
    appeal_totals = con.execute(f"SELECT {appeal_sql} FROM reports r{where}", params).fetchone()
    charts.append(Chart("行政复议和行政诉讼结果（合计）", [Bar(t, v or 0) for t, v in zip(_APPEAL_LABELS[:4], appeal_totals)], unit="件"))
    for block, block_zh in zip(APPEAL_BLOCKS, ("行政复议", "未经复议直接起诉", "复议后起诉")):
        sql = ", ".join(_sum_expr([f"appeals.{block}.{c}"], columns) for c in APPEAL_COLUMNS[:4])
        vals = con.execute(f"SELECT {sql} FROM reports r{where}", params).fetchone()
        charts.append(Chart(f"{block_zh}结果", [Bar(t, v or 0) for t, v in zip(_APPEAL_LABELS[:4], vals)], unit="件"))

    if "region" in columns:
        regions = sorted(compute_stats(con, "region", filters), key=lambda r: (-(r["with_errors"] or 0), -r["reports"]))[:20]
        charts.append(Chart("各地区有错误的报告比例", [Bar(r["group"], round(100 * (r["with_errors"] or 0), 1), f"{r['reports']} 份",
                                                          share_text(r["with_errors"])) for r in regions], unit="%", percent=True))

    worst = [dict(zip(("agency", "reports", "errors", "warnings"), r)) for r in con.execute(
        f"SELECT coalesce(r.agency, '（未知机关）'), count(*), coalesce(sum(r.errors), 0), coalesce(sum(r.warnings), 0) "
        f"FROM reports r{where} GROUP BY 1 HAVING sum(r.errors) + sum(r.warnings) > 0 ORDER BY 3 DESC, 4 DESC LIMIT 15", params).fetchall()]

    cross_year = _corpus_findings(con, "corpus.%", where, params)
    anomalies = _corpus_findings(con, "anomaly.%", where, params)
    reports = list_reports(con, filters, limit=limit)
    n_failures, failures = list_failures(con, limit=limit)
    return CorpusView(filters, options, n, int(errors), int(warnings), by_year, charts, worst, cross_year, reports, anomalies,
                      failures, n_failures)  # fmt: skip


def list_failures(con, *, limit: int = 500) -> tuple[int, list[dict]]:
    """How many files of the store could not be read, and the first `limit` of them: path, kind in
    Chinese and the reason (the failures have no year or region: the filters do not apply)."""
    if not {"path", "kind", "reason"} <= store_columns(con, "failures"):
        return 0, []
    (count,) = con.execute("SELECT count(*) FROM failures").fetchone()
    rows = con.execute(f"SELECT sha256, path, kind, reason FROM failures ORDER BY path, sha256 LIMIT {int(limit)}").fetchall()
    return count, [{"sha256": sha, "path": path, "kind": kind, "kind_zh": FAILURE_KIND_ZH.get(kind, kind), "reason": reason}
                   for sha, path, kind, reason in rows]  # fmt: skip


def _corpus_findings(con, pattern: str, where: str, params: list, limit: int = 200) -> list[dict]:
    """Findings of the rules matching `pattern` (corpus.%, anomaly.%), by body and year."""
    if not store_columns(con, "findings"):
        return []
    rows = con.execute(
        f"SELECT f.sha256, r.agency, r.year, f.rule, f.severity, f.message FROM findings f JOIN reports r USING (sha256)"
        f"{where} {'AND' if where else 'WHERE'} f.rule LIKE ? ORDER BY r.agency, r.year, f.rule LIMIT {int(limit)}",
        [*params, pattern]).fetchall()
    return [{"sha256": sha, "agency": agency, "year": year, "rule": rule, "rule_zh": rule_zh(rule),
             "severity": severity, "severity_zh": SEVERITY_ZH.get(severity, severity), "message": message}
            for sha, agency, year, rule, severity, message in rows]


_LIST_COLUMNS = ("sha256", "path", "agency", "year", "published", "template", "body_type", "region", "errors", "warnings", "body_key")


def list_reports(con, filters: dict | None = None, *, limit: int = 1000) -> list[dict]:
    """One summary dict per stored report (the columns of output.md that exist), worst first."""
    columns = store_columns(con, "reports")
    if not columns:
        return []
    where, params = _where(filters or {}, columns)
    wanted = [c for c in _LIST_COLUMNS if c in columns]
    rows = con.execute(f"SELECT {', '.join('r.' + _q(c) for c in wanted)} FROM reports r{where} "
                       f"ORDER BY r.errors DESC NULLS LAST, r.warnings DESC NULLS LAST, r.agency LIMIT {int(limit)}", params).fetchall()
    out = []
    for r in rows:
        d = dict.fromkeys(_LIST_COLUMNS)
        d.update(zip(wanted, r))
        d["published"] = str(d["published"])[:10] if d["published"] is not None else None
        d["body_type_zh"] = BODY_TYPE_ZH.get(d["body_type"] or "", d["body_type"] or "")
        out.append(d)
    return out


# ── one body over its years ───────────────────────────────────────────────────────────────


@dataclass(slots=True)
class BodyYear:
    sha256: str
    year: int | None
    agency: str | None  # the name as this year's report prints it
    template: str
    errors: int
    warnings: int
    values: dict[str, str]  # cell id → value as printed
    marks: dict[str, list[str]]  # cell id → classes (cell-error, cell-warning, suspect, blank, absent)


@dataclass(slots=True)
class BodyView:
    key: str
    name: str
    region: str | None
    body_type_zh: str
    years: list[BodyYear]
    rows: list[tuple[str, str, str]]  # (table, cell id, label) in the template's order, cells of any year
    cross_year: list[dict]  # corpus.* and anomaly.* findings of these reports


_TABLE_OF = {"active": "表一：主动公开政府信息情况", "requests": "表二：收到和处理政府信息公开申请情况",
             "appeals": "表三：政府信息公开行政复议、行政诉讼情况"}  # fmt: skip


def body_key_of(con, sha256: str) -> str | None:
    """The body a stored report belongs to (`reports.body_key`), or None."""
    if "body_key" not in store_columns(con, "reports"):
        return None
    row = con.execute("SELECT body_key FROM reports WHERE sha256 = ?", [sha256]).fetchone()
    return row[0] if row else None


def body_view(con, key: str) -> BodyView | None:
    """One body's reports side by side, a column a year: every cell with its value and marks, drawn by
    the same report_view as a report's page."""
    from gongkai.cells import all_cells

    if "body_key" not in store_columns(con, "reports"):
        return None
    found = con.execute("SELECT sha256 FROM reports WHERE body_key = ? ORDER BY year NULLS LAST, published NULLS LAST, sha256", [key]).fetchall()
    if not found:
        return None
    years = []
    for (sha,) in found:
        report = stored_report(con, sha)
        view = report_view(report)
        marks = {c.cell_id: c.classes for t in view.tables for row in t.body for c in row if c.kind == "value" and c.classes}
        years.append(BodyYear(sha, report.meta.year, report.meta.agency, view.template, view.counts["error"], view.counts["warning"],
                              view.values, marks))  # fmt: skip
    present = {cid for y in years for cid in y.values}
    rows = [(_TABLE_OF[c.id.split(".")[0]], c.id, label(c.id)) for c in all_cells() if c.id in present]
    latest = con.execute("SELECT agency, region, body_type FROM reports WHERE body_key = ? ORDER BY year DESC NULLS LAST LIMIT 1",
                         [key]).fetchone()  # fmt: skip
    shas = [y.sha256 for y in years]
    cross = [f for pattern in ("corpus.%", "anomaly.%") for f in _corpus_findings(con, pattern, " WHERE r.body_key = ?", [key])]
    cross = [f for f in cross if f["sha256"] in shas]
    return BodyView(key, latest[0] or key, latest[1], BODY_TYPE_ZH.get(latest[2] or "", latest[2] or ""), years, rows, cross)


def stored_report(con, sha256: str) -> Report | None:
    """A report from the store by its sha256: cells, findings, and section texts where the store keeps them."""
    if not store_columns(con, "reports"):
        return None
    cur = con.execute("SELECT * FROM reports WHERE sha256 = ?", [sha256])
    row = cur.fetchone()
    if row is None:
        return None
    record = dict(zip([d[0] for d in cur.description], row))
    findings = []
    columns = store_columns(con, "findings")
    if columns:
        suspects = "suspects" if "suspects" in columns else "NULL"
        order = " ORDER BY seq" if "seq" in columns else ""
        cur = con.execute(f"SELECT rule, severity, origin, message, cells, {suspects} FROM findings WHERE sha256 = ?{order}", [sha256])
        for rule, severity, origin, message, cells, sus in cur.fetchall():
            findings.append({"rule": rule, "severity": severity if severity in SEVERITY_ZH else "info",
                             "origin": origin if origin in ORIGIN_ZH else "source", "message": message or "",
                             "cells": as_list(cells), "suspects": as_list(sus)})
    return report_from_row(record, findings)


def as_list(cells) -> list[str]:
    """The store's `cells` column as a list, whether it was written as a list, JSON or a joined string."""
    if cells is None:
        return []
    if isinstance(cells, list | tuple):
        return [str(c) for c in cells]
    text = str(cells).strip()
    if text.startswith("["):
        import json

        try:
            return [str(c) for c in json.loads(text)]
        except ValueError:
            pass
    return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]


def static_dir() -> Path:
    return Path(__file__).parent / "web" / "static"


def source_lines(data: bytes, name: str | None = None) -> dict[int, str]:
    """Line number → text of a report as the reader numbered it (for showing a cell's raw line)."""
    from gongkai.document import Paragraph
    from gongkai.read import read

    lines: dict[int, str] = {}
    for block in read(data, name=name).blocks:
        if isinstance(block, Paragraph) and block.where.line is not None:
            lines[block.where.line] = block.text
    return lines
