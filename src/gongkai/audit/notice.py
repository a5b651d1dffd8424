"""The rectification notice (整改通知): a formal letter to one body listing what to fix in its report, and by when.

It lists every open problem of the body's current version — where it is (table, row, column and the
value printed there), the rule it breaks in plain words with the numbers, and what to do — and no
other: only findings of origin `source` that are confirmed or not yet reviewed. Dismissed findings,
those already corrected and the parser's own doubts (`extraction`) never reach a body. A body that
published nothing gets a notice saying so. The letter is laid out by the same machinery as a
clerk's draft (synth's .docx writer, LibreOffice for .pdf).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from gongkai.cells import by_id
from gongkai.errors import GongkaiError
from gongkai.rules.catalog import CATALOG, SEVERITY_ZH

DEFAULT_ISSUER = "政务公开工作主管部门"
REPLY_DAYS = 15
TABLES = {
    "active": "第二部分“主动公开政府信息情况”表",
    "requests": "第三部分“收到和处理政府信息公开申请情况”表",
    "appeals": "第四部分“政府信息公开行政复议、行政诉讼情况”表",
}
ACTIONS = {
    "requests.balance": "逐项核对上述单元格，使“本年新收＋上年结转＝办理结果总计＋结转下年度”成立；数字有误的，更正后重新发布报告。",
    "requests.outcomes_sum": "核对办理结果各项与总计，使各项之和等于总计；更正后重新发布报告。",
    "requests.row_sum": "核对该行各类申请人的数字与总计，使各列之和等于总计；更正后重新发布报告。",
    "appeals.block_sum": "核对行政复议、行政诉讼各项结果与总计，使各项之和等于总计；更正后重新发布报告。",
    "value.domain": "件数须为非负整数、金额不得为负，核对原始台账后更正。",
    "structure.section_missing": "按规定格式补全缺少的部分后重新发布报告。",
    "structure.table_missing": "补充规定格式的统计表后重新发布报告。",
    "structure.cells_missing": "统计表不得留空：没有发生的事项填“0”，更正后重新发布报告。",
    "template.outdated": "按国办公开办函〔2021〕30号修订的格式重新编制统计表，重新发布报告。",
    "template.mixed": "统一使用2021年修订格式的统计表。",
    "template.label_altered": "使用格式规定的表格文字，不得改动行、列名称。",
    "template.extra_rows": "删除格式以外的行（如小计行）。",
    "narrative.table_mismatch": "核对正文所述数字与统计表，使两者一致。",
    "narrative.year_mismatch": "核对正文所述年度，应为本报告年度。",
    "meta.published_late": "说明逾期发布的原因，今后在规定期限内发布。",
    "meta.period": "统计期限应为报告年度1月1日至12月31日，予以更正。",
    "fees.statement_missing": "在第六部分说明信息处理费的收取情况（未收取的也应写明）。",
    "fees.unpaid_without_notice": "在第六部分说明发出收费通知的情况。",
    "corpus.carry_continuity": "本年“上年结转”应与上一年度报告的“结转下年度”一致，核对两年报告后更正。",
    "corpus.in_force_continuity": "现行有效件数应等于上年现行有效件数加本年制发、减本年废止，核对后更正。",
    "corpus.copied_text": "按本年度实际工作撰写，不得照搬上一年度报告。",
    "corpus.identical_tables": "核实统计数据是否为本年度实际数据，有误的更正。",
}
ANOMALY_ACTION = "该数据与往年或同类机关差异较大，请核实；数据无误的，书面说明原因。"
DEFAULT_ACTION = "核实后更正，或书面说明情况。"
MISSING_RULE = "未发布"


@dataclass(slots=True)
class Place:
    """Where a problem is: the table, the row and column, and the value the report gives there."""

    cell_id: str
    table: str
    row: str
    column: str
    value: str  # as printed: a number, or 空白

    @property
    def text(self) -> str:
        return f"{self.table}“{self.row}”行“{self.column}”列"


@dataclass(slots=True)
class NoticeItem:
    number: int
    finding_id: str | None
    rule: str
    requirement: str  # the rule in plain words: what must hold
    problem: str  # the finding's message, with the numbers
    severity: str
    places: list[Place] = field(default_factory=list)
    action: str = DEFAULT_ACTION

    def to_dict(self) -> dict:
        return {"number": self.number, "finding_id": self.finding_id, "rule": self.rule, "requirement": self.requirement,
                "problem": self.problem, "severity": self.severity, "severity_zh": SEVERITY_ZH.get(self.severity, ""),
                "places": [{"cell_id": p.cell_id, "table": p.table, "row": p.row, "column": p.column, "value": p.value} for p in self.places],
                "action": self.action}  # fmt: skip


@dataclass(slots=True)
class Notice:
    body: str
    year: int
    status: str  # coverage status of the body's report
    items: list[NoticeItem]
    issued: date
    reply_by: date
    issuer: str
    agency: str | None = None  # the name the report itself gives
    published: date | None = None
    deadline: date | None = None
    sha256: str | None = None
    version: int | None = None
    lineage: str | None = None
    body_type: str | None = None
    region: str | None = None

    @property
    def title(self) -> str:
        return f"关于{self.year}年度政府信息公开工作年度报告有关问题的整改通知"

    def to_dict(self) -> dict:
        return {"title": self.title, "body": self.body, "year": self.year, "status": self.status, "agency": self.agency,
                "published": self.published.isoformat() if self.published else None,
                "deadline": self.deadline.isoformat() if self.deadline else None, "sha256": self.sha256, "version": self.version,
                "issued": self.issued.isoformat(), "reply_by": self.reply_by.isoformat(), "issuer": self.issuer,
                "items": [i.to_dict() for i in self.items]}  # fmt: skip


def _place(cell_id: str, value) -> Place:
    from gongkai.views import format_value

    spec = by_id()[cell_id]
    table = TABLES.get(cell_id.split(".")[0], "统计表")
    label = re.sub(r" \(2019: [^)]*\)", "", spec.label_zh)
    row, _, column = label.rpartition(" / ")
    return Place(cell_id, table, row.replace(" / ", "·") or label, column, "空白" if value is None else format_value(value))


def _action(rule: str) -> str:
    if rule.startswith("anomaly."):
        return ANOMALY_ACTION
    return ACTIONS.get(rule, DEFAULT_ACTION)


def build_notice(store, body: str, year: int, *, issued: date | None = None, reply_days: int = REPLY_DAYS,
                 issuer: str = DEFAULT_ISSUER, user=None) -> Notice:  # fmt: skip
    """The notice to roster body `body` about its report of `year` (its problems may be none: see `Notice.items`)."""
    from gongkai.audit.coverage import coverage
    from gongkai.audit.scope import find_body
    from gongkai.review.decisions import list_findings

    found = find_body(store, body)
    if found is None:
        raise GongkaiError(f"名单中没有这个机关：{body}（用 gongkai roster show 查看名单）")
    rows = [r for r in coverage(store, year, user=user) if r.body == found.name]
    if not rows:
        raise GongkaiError(f"无权查看这个机关：{body}")
    findings = list_findings(store, report=rows[0].lineage) if rows[0].lineage else []
    return _notice(store, rows[0], found, findings, issued, reply_days, issuer)


def _notice(store, row, body, findings, issued: date | None, reply_days: int, issuer: str) -> Notice:
    from gongkai.review.versions import cells_of, versions

    issued = issued or date.today()
    if reply_days < 1:
        raise GongkaiError("回复期限须至少 1 天")
    notice = Notice(body.name, row.year, row.status, [], issued, issued + timedelta(days=reply_days), issuer or DEFAULT_ISSUER,
                    published=row.published, deadline=row.deadline, sha256=row.sha256, version=row.version, lineage=row.lineage,
                    body_type=body.body_type, region=body.region_name)  # fmt: skip
    if row.lineage is None:
        late = f"（规定期限为{_cn(row.deadline)}）"
        notice.items.append(NoticeItem(1, None, MISSING_RULE, "每年1月31日前（人民政府为3月31日前）发布上一年度政府信息公开工作年度报告",
                                       f"截至通知之日，未见你单位发布{row.year}年度政府信息公开工作年度报告{late}", "error", [],
                                       "按规定格式编制并发布年度报告，发布后报送。"))  # fmt: skip
        return notice
    current = versions(store, row.lineage)[-1]
    notice.agency = current.agency
    cells = cells_of(store.con, current) or {}
    open_source = [f for f in findings if f.origin == "source" and f.status in ("open", "confirmed")]
    for number, f in enumerate(open_source, start=1):
        rule = CATALOG.get(f.rule)
        places = [_place(c, cells.get(c)) for c in f.cells if c in by_id()]
        notice.items.append(NoticeItem(number, f.id, f.rule, rule.name if rule else f.rule, f.message, f.severity, places, _action(f.rule)))
    return notice


# ── the letter ───────────────────────────────────────────────────────────────────────────────


def where_text(places: list[Place]) -> str:
    """Where the cells are, each table named once and each row once: 第三部分…表“二、上年结转…”行“自然人”“总计”列。"""
    if not places:
        return "报告整体"
    parts: dict[str, dict[str, list[str]]] = {}
    for p in places:
        parts.setdefault(p.table, {}).setdefault(p.row, []).append(f"“{p.column}”")
    return "；".join(table + "，".join(f"“{row}”行{'、'.join(cols)}列" for row, cols in rows.items()) for table, rows in parts.items())


def values_text(places: list[Place]) -> str:
    """The values printed there: alone for one cell, named by column (and row, when several) otherwise."""
    if not places:
        return "—"
    if len(places) == 1:
        return places[0].value
    one_row = len({p.row for p in places}) == 1
    return "；".join(f"{p.column if one_row else p.row + '·' + p.column} {p.value}" for p in places)


def _cn(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def document(notice: Notice):
    """The letter as blocks of the official layout (synth's model: the .docx writer lays them out)."""
    from gongkai.synth.agency import Agency
    from gongkai.synth.model import Para, Synthetic
    from gongkai.synth.template import Cell, Table

    blocks: list = [Para(notice.title, "title"), Para(f"{notice.body}：", "heading")]
    if notice.lineage is None:
        blocks.append(Para("根据《中华人民共和国政府信息公开条例》第五十条规定，行政机关应当在每年1月31日前向社会公布本机关上一年度"
                           "政府信息公开工作年度报告。经核查，你单位存在以下问题："))  # fmt: skip
    else:
        when = f"于{_cn(notice.published)}" if notice.published else ""
        blocks.append(Para(f"根据《中华人民共和国政府信息公开条例》和国务院办公厅政府信息公开办公室关于年度报告格式的要求，我们对你单位"
                           f"{when}发布的{notice.year}年度政府信息公开工作年度报告进行了审核，发现以下问题（共{len(notice.items)}项）："))  # fmt: skip
    head = [Cell("序号", header=True), Cell("位置", header=True), Cell("报告所填数值", header=True), Cell("问题", header=True),
            Cell("整改要求", header=True)]  # fmt: skip
    rows = [head]
    for item in notice.items:
        problem = f"{item.problem}（规则：{item.requirement}）"
        rows.append([Cell(str(item.number)), Cell(where_text(item.places)), Cell(values_text(item.places)), Cell(problem), Cell(item.action)])
    blocks.append(Table("notice", rows))
    if notice.items:
        blocks.append(Para(f"请对照上述问题逐项整改，于{_cn(notice.reply_by)}前将整改情况书面回复；涉及报告内容的，请更正后重新发布年度报告。"))
    blocks.append(Para("特此通知。"))
    ids = [i.finding_id for i in notice.items if i.finding_id]
    if ids:
        blocks.append(Para(f"附：问题编号 {'、'.join(ids)}（回复时请注明）。"))
    blocks += [Para(notice.issuer, "sign"), Para(_cn(notice.issued), "sign")]
    agency = Agency(notice.body, notice.body_type or "other", "", notice.region or "", "你单位")
    return Synthetic(seed=0, template="2021", year=notice.year, agency=agency, published=notice.issued, faults=(), blocks=blocks, truth={})


def notice_docx(notice: Notice) -> bytes:
    return document(notice).render("docx")


def notice_pdf(notice: Notice) -> bytes:
    """The .docx converted by LibreOffice (one clear line when it is not installed)."""
    import subprocess

    from gongkai.synth.render_office import OfficeUnavailable, convert

    try:
        return convert(notice_docx(notice), "pdf")
    except OfficeUnavailable:
        raise GongkaiError("未安装 LibreOffice（soffice），无法生成 PDF；可改为 .docx") from None
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        raise GongkaiError(f"LibreOffice 转换 PDF 失败：{str(exc)[:200]}") from None


def render_notice(notice: Notice, fmt: str) -> bytes:
    if fmt == "docx":
        return notice_docx(notice)
    if fmt == "pdf":
        return notice_pdf(notice)
    raise GongkaiError(f"整改通知只能生成 .docx 或 .pdf，不是 .{fmt}")


def record_notices(store, notices: list[Notice], by: str | None = None) -> None:
    """Note in the audit trail that these notices were issued, archiving the versions they speak of."""
    from gongkai.review.log import now, write
    from gongkai.review.versions import archive_current

    con = store.con
    when = now()
    con.execute("BEGIN TRANSACTION")
    try:
        for n in notices:
            if n.lineage:
                archive_current(con, n.lineage, when)
            write(con, by, "notice", lineage=n.lineage, sha256=n.sha256, target=n.body, new=f"{len(n.items)} 项问题",
                  detail=f"{n.year}年度整改通知，回复期限 {n.reply_by.isoformat()}", at=when)  # fmt: skip
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _format_of(path: Path) -> str:
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("docx", "pdf"):
        raise GongkaiError(f"{path}：整改通知只能写成 .docx 或 .pdf")
    return fmt


def write_notice(store, body: str, year: int, out: str | Path, *, by: str | None = None, **options) -> Notice:
    """Write the notice to `out` (.docx or .pdf); a body with nothing to fix gets none (an error says so)."""
    out = Path(out)
    fmt = _format_of(out)
    notice = build_notice(store, body, year, **options)
    if not notice.items:
        raise GongkaiError(f"{notice.body} 的 {year} 年度报告没有待整改的问题（已驳回、已更正的和解析存疑的不列入），未生成通知")
    data = render_notice(notice, fmt)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    record_notices(store, [notice], by)
    return notice


def safe_name(text: str) -> str:
    return re.sub(r'[\\/:*?"<>|\s]+', "_", text).strip("._") or "机关"


def build_notices(store, year: int, region: str | None = None, *, user=None, **options) -> list[Notice]:
    """The notice of every body (in `region`, that `user` may read) with something to fix, including those that published nothing."""
    from gongkai.audit.coverage import coverage
    from gongkai.audit.scope import scope
    from gongkai.review.decisions import list_findings

    bodies = {b.name: b for b in scope(store).bodies}
    by_lineage: dict[str, list] = {}
    for f in list_findings(store, year=int(year)):
        by_lineage.setdefault(f.lineage, []).append(f)
    notices = []
    for row in coverage(store, year, region, user=user):
        notice = _notice(store, row, bodies[row.body], by_lineage.get(row.lineage, []), options.get("issued"),
                         options.get("reply_days", REPLY_DAYS), options.get("issuer", DEFAULT_ISSUER))  # fmt: skip
        if notice.items:
            notices.append(notice)
    return notices


def notice_file_name(notice: Notice, fmt: str) -> str:
    return f"{notice.year}年度_{safe_name(notice.body)}_整改通知.{fmt}"


def write_notices(store, year: int, folder: str | Path, *, fmt: str = "docx", region: str | None = None, by: str | None = None,
                  user=None, **options) -> list[tuple[Notice, Path]]:  # fmt: skip
    """One notice per body with something to fix (including bodies that published nothing) into `folder`."""
    if fmt not in ("docx", "pdf"):
        raise GongkaiError(f"整改通知只能生成 docx 或 pdf，不是 {fmt}")
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise GongkaiError(f"{folder} 不是目录（--all 时 --out 为输出目录）")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for notice in build_notices(store, year, region, user=user, **options):
        path = folder / notice_file_name(notice, fmt)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(render_notice(notice, fmt))
        tmp.replace(path)
        written.append((notice, path))
    record_notices(store, [n for n, _ in written], by)
    return written
