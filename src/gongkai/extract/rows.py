"""The rows of the three standard tables: how each is recognised and which cell ids its values fill.

Recognition is by distinctive keywords of the official labels (template.md §3–5), matched on
normalised text, so spacing, full-width punctuation, numbering, Traditional characters and
known typos do not matter.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from gongkai.cells import APPEAL_BLOCKS, APPEAL_COLUMNS, APPLICANT_COLUMNS


@dataclass(frozen=True, slots=True, eq=False)  # identity: rows are made once per template (cached)
class RowSpec:
    key: str  # the row's id stem, e.g. "requests.denied.state_secret"
    label: str  # the official label, for messages
    keywords: tuple[str, ...]  # any of these (normalised) marks the row
    cells: tuple[str, ...]  # cell ids its values fill, left to right; empty for a group row
    exact: bool = False  # the keyword must be the whole label (short labels like '其他')
    ambiguous: bool = False  # recognised, but which printed values belong to it is unknown


def _active(template: str) -> tuple[RowSpec, ...]:
    if template == "2021":
        three = ("issued", "repealed", "in_force")
        return (
            RowSpec("active.rules", "规章", ("规章",), tuple(f"active.rules.{c}" for c in three), exact=True),
            RowSpec("active.normative_docs", "行政规范性文件", ("规范性文件",), tuple(f"active.normative_docs.{c}" for c in three)),
            RowSpec("active.licensing", "行政许可", ("行政许可",), ("active.licensing.decisions",)),
            RowSpec("active.penalty", "行政处罚", ("行政处罚",), ("active.penalty.decisions",)),
            RowSpec("active.coercion", "行政强制", ("行政强制",), ("active.coercion.decisions",)),
            RowSpec("active.admin_fees", "行政事业性收费", ("行政事业性收费",), ("active.admin_fees.amount_wan",)),
        )
    three = ("new_made", "new_published", "total_published")
    items = ("prev_items", "delta", "decisions")
    return (
        RowSpec("active.rules", "规章", ("规章",), tuple(f"active.rules.{c}" for c in three), exact=True),
        RowSpec("active.normative_docs", "规范性文件", ("规范性文件",), tuple(f"active.normative_docs.{c}" for c in three)),
        RowSpec("active.licensing", "行政许可", ("行政许可",), tuple(f"active.licensing.{c}" for c in items)),
        RowSpec("active.other_services", "其他对外管理服务事项", ("对外管理服务事项",), tuple(f"active.other_services.{c}" for c in items)),
        RowSpec("active.penalty", "行政处罚", ("行政处罚",), tuple(f"active.penalty.{c}" for c in items)),
        RowSpec("active.coercion", "行政强制", ("行政强制",), tuple(f"active.coercion.{c}" for c in items)),
        RowSpec("active.admin_fees", "行政事业性收费", ("行政事业性收费",), ("active.admin_fees.prev_items", "active.admin_fees.delta")),
        RowSpec("active.procurement", "政府集中采购", ("政府集中采购", "集中采购"), ("active.procurement.projects", "active.procurement.amount_wan")),
    )


def _applicant(stem: str) -> tuple[str, ...]:
    return tuple(f"{stem}.{c}" for c in APPLICANT_COLUMNS)


_REQUEST_ROWS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("requests.new_received", "一、本年新收政府信息公开申请数量", ("本年新收",)),
    ("requests.carried_over", "二、上年结转政府信息公开申请数量", ("上年结转",)),
    ("requests.granted", "（一）予以公开", ("予以公开",)),
    ("requests.partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ("部分公开",)),
    ("requests.denied.state_secret", "1.属于国家秘密", ("国家秘密",)),
    ("requests.denied.law_prohibited", "2.其他法律行政法规禁止公开", ("法律行政法规禁止", "行政法规禁止", "法规禁止公开", "法律行政止公开", "禁止公开")),
    ("requests.denied.security_stability", "3.危及“三安全一稳定”", ("三安全一稳定", "安全一稳定")),
    ("requests.denied.third_party", "4.保护第三方合法权益", ("第三方合法权益", "第三方")),
    ("requests.denied.internal_affairs", "5.属于三类内部事务信息", ("内部事务", "事务信息")),
    ("requests.denied.process_info", "6.属于四类过程性信息", ("过程性信息", "过程性")),
    ("requests.denied.enforcement_file", "7.属于行政执法案卷", ("行政执法案卷", "执法案卷")),
    ("requests.denied.admin_query", "8.属于行政查询事项", ("行政查询",)),
    ("requests.unable.not_held", "1.本机关不掌握相关政府信息", ("不掌握",)),
    ("requests.unable.needs_creation", "2.没有现成信息需要另行制作", ("另行制作", "没有现成信息")),
    ("requests.unable.still_unclear", "3.补正后申请内容仍不明确", ("仍不明确", "补正后")),
    ("requests.not_processed.petition_complaint", "1.信访举报投诉类申请", ("信访举报投诉", "信访")),
    ("requests.not_processed.duplicate", "2.重复申请", ("重复申请",)),
    ("requests.not_processed.publication", "3.要求提供公开出版物", ("公开出版物",)),
    ("requests.not_processed.excessive", "4.无正当理由大量反复申请", ("大量反复",)),
    ("requests.not_processed.confirm_reissue", "5.要求行政机关确认或重新出具已获取信息", ("重新出具", "确认或重新")),
)

# group labels: recognised so that their text is not taken for something else; they hold no values
_REQUEST_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("requests.results", "三、本年度办理结果", ("本年度办理结果",)),
    ("requests.denied", "（三）不予公开", ("不予公开",)),
    ("requests.unable", "（四）无法提供", ("无法提供",)),
    ("requests.not_processed", "（五）不予处理", ("不予处理",)),
)


def _requests(template: str) -> tuple[RowSpec, ...]:
    rows = [RowSpec(k, label, kw, _applicant(k)) for k, label, kw in _REQUEST_ROWS]
    groups = [RowSpec(k, label, kw, ()) for k, label, kw in _REQUEST_GROUPS]
    if template == "2021":
        other = [
            RowSpec("requests.other", "（六）其他处理", ("其他处理",), ()),
            RowSpec("requests.other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", ("逾期不补正", "不补正"), _applicant("requests.other.no_correction")),
            RowSpec("requests.other.unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", ("缴纳费用", "收费通知"), _applicant("requests.other.unpaid_fee")),
            RowSpec("requests.other.other", "3.其他", ("其他",), _applicant("requests.other.other"), exact=True),
        ]
    else:
        other = [RowSpec("requests.other", "（六）其他处理", ("其他处理",), _applicant("requests.other"))]
    tail = [
        RowSpec("requests.total", "（七）总计", ("总计",), _applicant("requests.total"), exact=True),
        RowSpec("requests.carried_forward", "四、结转下年度继续办理", ("结转下年度", "结转下一年度", "转下年度", "继续办理"), _applicant("requests.carried_forward")),
    ]
    return tuple(rows[:2] + [groups[0]] + rows[2:4] + [groups[1]] + rows[4:12] + [groups[2]] + rows[12:15] + [groups[3]] + rows[15:20] + other + tail)


# Column headers of table 二 in both templates → what a value under them is (the last part of its
# cell id). A value goes into a cell only under a header that means that cell.
COLUMN_MEANINGS: tuple[tuple[str, str], ...] = (
    ("本年制发件数", "issued"), ("制发件数", "issued"), ("本年废止件数", "repealed"), ("废止件数", "repealed"),
    ("现行有效件数", "in_force"), ("本年新制作数量", "new_made"), ("新制作数量", "new_made"),
    ("本年新公开数量", "new_published"), ("新公开数量", "new_published"), ("对外公开总数量", "total_published"),
    ("上一年项目数量", "prev_items"), ("本年增减", "delta"), ("本年处理决定数量", "decisions"), ("处理决定数量", "decisions"),
    ("本年收费金额", "amount_wan"), ("收费金额", "amount_wan"), ("采购项目数量", "projects"), ("采购总金额", "amount_wan"),
)  # fmt: skip
COLUMN_TEMPLATES = {
    "issued": "2021", "repealed": "2021", "in_force": "2021", "new_made": "2019", "new_published": "2019",
    "total_published": "2019", "prev_items": "2019", "delta": "2019", "projects": "2019",
}  # fmt: skip


def column_meaning(cell_id: str) -> str:
    """What a cell of table 二 holds, as COLUMN_MEANINGS names it: 'active.rules.issued' → 'issued'."""
    return cell_id.rsplit(".", 1)[1]


APPEALS_CELLS = tuple(f"appeals.{b}.{c}" for b in APPEAL_BLOCKS for c in APPEAL_COLUMNS)
APPEAL_BLOCK_LABELS = {"review": ("行政复议",), "suit_direct": ("未经复议直接起诉", "直接起诉"), "suit_after_review": ("复议后起诉",)}


@cache
def table_rows(table: str, template: str) -> tuple[RowSpec, ...]:
    """The rows of `table` ('active' or 'requests') in the given template, in printed order."""
    return _active(template) if table == "active" else _requests(template)


# ── identities: the equations the template's own structure implies (template.md §8) ──────────


@dataclass(frozen=True, slots=True)
class Identity:
    """lhs = rhs over cell ids; `where` names the instance for the message (e.g. '自然人列')."""

    rule: str
    where: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        return self.lhs + self.rhs


COLUMN_NAMES = dict(zip(APPLICANT_COLUMNS, ("自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计")))
BLOCK_NAMES = {"review": "行政复议", "suit_direct": "未经复议直接起诉", "suit_after_review": "复议后起诉"}


@cache
def identities(template: str) -> tuple[Identity, ...]:
    out: list[Identity] = []
    rows = [spec for spec in table_rows("requests", template) if spec.cells]
    outcome_rows = [s.key for s in rows if s.key not in ("requests.new_received", "requests.carried_over", "requests.total", "requests.carried_forward")]
    for col in APPLICANT_COLUMNS:
        name = COLUMN_NAMES[col] + "列"
        out.append(
            Identity(
                "requests.balance",
                name,
                (f"requests.new_received.{col}", f"requests.carried_over.{col}"),
                (f"requests.total.{col}", f"requests.carried_forward.{col}"),
            )
        )
        out.append(Identity("requests.outcomes_sum", name, (f"requests.total.{col}",), tuple(f"{r}.{col}" for r in outcome_rows)))
    for spec in rows:
        out.append(Identity("requests.row_sum", f"“{spec.label}”行", (spec.cells[-1],), spec.cells[:-1]))
    for block in APPEAL_BLOCKS:
        out.append(
            Identity(
                "appeals.block_sum",
                BLOCK_NAMES[block],
                (f"appeals.{block}.total",),
                tuple(f"appeals.{block}.{c}" for c in ("upheld", "corrected", "other", "pending")),
            )
        )
    return tuple(out)


