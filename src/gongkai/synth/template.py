"""The official report format as data: section headings and the three tables, with their spans.

Labels are the public wording of 国办公开办函〔2019〕60号 and 〔2021〕30号 (see spec/template.md);
every renderer draws the tables from these grids, so all formats share one geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.cells import APPEAL_BLOCKS, APPEAL_COLUMNS, APPLICANT_COLUMNS

SECTION_NUMERALS = ("一", "二", "三", "四", "五", "六")

# Canonical heading first, then variants seen in published reports (template.md §2).
SECTION_TITLES: tuple[tuple[str, ...], ...] = (
    ("总体情况",),
    ("主动公开政府信息情况",),
    ("收到和处理政府信息公开申请情况",),
    (
        "政府信息公开行政复议、行政诉讼情况",
        "政府信息公开行政复议行政诉讼情况",
        "政府信息公开行政复议及行政诉讼情况",
        "因政府信息公开工作被申请行政复议、提起行政诉讼情况",
    ),
    (
        "存在的主要问题及改进情况",
        "政府信息公开工作存在的主要问题及改进情况",
        "存在的主要问题及改进举措",
        "存在的主要问题和改进措施",
    ),
    ("其他需要报告的事项",),
)

APPLICANT_LABELS = (
    "自然人",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他",
    "总计",
)
NOTE_CELL = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"


@dataclass(frozen=True, slots=True)
class ActiveBlock:
    """One block of the table in section 二: caption row, header row, data rows."""

    caption: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (row label, cell ids left to right)


ACTIVE_2021 = (
    ActiveBlock(
        "第二十条第（一）项",
        ("本年制发件数", "本年废止件数", "现行有效件数"),
        (
            (
                "规章",
                (
                    "active.rules.issued",
                    "active.rules.repealed",
                    "active.rules.in_force",
                ),
            ),
            (
                "行政规范性文件",
                (
                    "active.normative_docs.issued",
                    "active.normative_docs.repealed",
                    "active.normative_docs.in_force",
                ),
            ),
        ),
    ),
    ActiveBlock(
        "第二十条第（五）项",
        ("本年处理决定数量",),
        (("行政许可", ("active.licensing.decisions",)),),
    ),
    ActiveBlock(
        "第二十条第（六）项",
        ("本年处理决定数量",),
        (
            ("行政处罚", ("active.penalty.decisions",)),
            ("行政强制", ("active.coercion.decisions",)),
        ),
    ),
    ActiveBlock(
        "第二十条第（八）项",
        ("本年收费金额（单位：万元）",),
        (("行政事业性收费", ("active.admin_fees.amount_wan",)),),
    ),
)


def _items(prefix: str) -> tuple[str, str, str]:
    return (
        f"active.{prefix}.prev_items",
        f"active.{prefix}.delta",
        f"active.{prefix}.decisions",
    )


ACTIVE_2019 = (
    ActiveBlock(
        "第二十条第（一）项",
        ("本年新制作数量", "本年新公开数量", "对外公开总数量"),
        (
            (
                "规章",
                (
                    "active.rules.new_made",
                    "active.rules.new_published",
                    "active.rules.total_published",
                ),
            ),
            (
                "规范性文件",
                (
                    "active.normative_docs.new_made",
                    "active.normative_docs.new_published",
                    "active.normative_docs.total_published",
                ),
            ),
        ),
    ),
    ActiveBlock(
        "第二十条第（五）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        (
            ("行政许可", _items("licensing")),
            ("其他对外管理服务事项", _items("other_services")),
        ),
    ),
    ActiveBlock(
        "第二十条第（六）项",
        ("上一年项目数量", "本年增/减", "处理决定数量"),
        (("行政处罚", _items("penalty")), ("行政强制", _items("coercion"))),
    ),
    ActiveBlock(
        "第二十条第（八）项",
        ("上一年项目数量", "本年增/减"),
        (
            (
                "行政事业性收费",
                ("active.admin_fees.prev_items", "active.admin_fees.delta"),
            ),
        ),
    ),
    ActiveBlock(
        "第二十条第（九）项",
        ("采购项目数量", "采购总金额"),
        (
            (
                "政府集中采购",
                ("active.procurement.projects", "active.procurement.amount_wan"),
            ),
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class RequestGroup:
    """A result group of section 三: a leaf row (subrows empty) or a label over numbered subrows."""

    key: str
    label: str
    subrows: tuple[tuple[str, str], ...] = ()  # (key, label)


_DENIED = (
    ("state_secret", "1.属于国家秘密"),
    ("law_prohibited", "2.其他法律行政法规禁止公开"),
    ("security_stability", "3.危及“三安全一稳定”"),
    ("third_party", "4.保护第三方合法权益"),
    ("internal_affairs", "5.属于三类内部事务信息"),
    ("process_info", "6.属于四类过程性信息"),
    ("enforcement_file", "7.属于行政执法案卷"),
    ("admin_query", "8.属于行政查询事项"),
)
_UNABLE = (
    ("not_held", "1.本机关不掌握相关政府信息"),
    ("needs_creation", "2.没有现成信息需要另行制作"),
    ("still_unclear", "3.补正后申请内容仍不明确"),
)
_NOT_PROCESSED = (
    ("petition_complaint", "1.信访举报投诉类申请"),
    ("duplicate", "2.重复申请"),
    ("publication", "3.要求提供公开出版物"),
    ("excessive", "4.无正当理由大量反复申请"),
    ("confirm_reissue", "5.要求行政机关确认或重新出具已获取信息"),
)
_OTHER_2021 = (
    (
        "no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
    ),
    (
        "unpaid_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
    ),
    ("other", "3.其他"),
)

TOP_ROWS = (
    ("new_received", "一、本年新收政府信息公开申请数量"),
    ("carried_over", "二、上年结转政府信息公开申请数量"),
)
RESULT_LABEL = "三、本年度办理结果"
FORWARD_ROW = ("carried_forward", "四、结转下年度继续办理")


def result_groups(template: str) -> tuple[RequestGroup, ...]:
    other = RequestGroup("other", "（六）其他处理", _OTHER_2021 if template == "2021" else ())
    return (
        RequestGroup("granted", "（一）予以公开"),
        RequestGroup("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"),
        RequestGroup("denied", "（三）不予公开", _DENIED),
        RequestGroup("unable", "（四）无法提供", _UNABLE),
        RequestGroup("not_processed", "（五）不予处理", _NOT_PROCESSED),
        other,
    )


TOTAL_ROW = ("total", "（七）总计")


def outcome_rows(template: str) -> tuple[str, ...]:
    """Row keys whose sum is （七）总计 (the leaves of 三、本年度办理结果)."""
    keys: list[str] = []
    for group in result_groups(template):
        if group.subrows:
            keys.extend(f"{group.key}.{k}" for k, _ in group.subrows)
        else:
            keys.append(group.key)
    return tuple(keys)


def request_rows(template: str) -> tuple[str, ...]:
    """Every data row of section 三, top to bottom."""
    return (
        "new_received",
        "carried_over",
        *outcome_rows(template),
        "total",
        "carried_forward",
    )


def request_row_labels(template: str) -> dict[str, str]:
    """Row key → its printed label (the innermost one)."""
    labels = dict(TOP_ROWS)
    for group in result_groups(template):
        if group.subrows:
            labels.update({f"{group.key}.{k}": lab for k, lab in group.subrows})
        else:
            labels[group.key] = group.label
    labels[TOTAL_ROW[0]] = TOTAL_ROW[1]
    labels[FORWARD_ROW[0]] = FORWARD_ROW[1]
    return labels


def request_cell(row: str, column: str) -> str:
    return f"requests.{row}.{column}"


def appeal_cells() -> tuple[str, ...]:
    return tuple(f"appeals.{b}.{c}" for b in APPEAL_BLOCKS for c in APPEAL_COLUMNS)


APPEAL_OUTCOME_LABELS = ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计")


@dataclass(slots=True)
class Cell:
    """A table cell at its top-left position; `cell_id` marks a data cell of cells.tsv."""

    text: str
    rowspan: int = 1
    colspan: int = 1
    cell_id: str | None = None
    header: bool = False


@dataclass(slots=True)
class Table:
    """A table as rows of top-left cells (positions covered by a span hold no cell)."""

    key: str  # active | requests | appeals
    rows: list[list[Cell]] = field(default_factory=list)
    narrow: bool = False  # number columns too narrow for long numbers (they wrap in a PDF)

    def n_cols(self) -> int:
        return max(sum(c.colspan for c in row) for row in self.rows[:1]) if self.rows else 0

    def positions(self) -> list[list[Cell | None]]:
        """The full grid: every position holds its cell at the top-left, None where a span covers it."""
        width = 0
        placed: list[tuple[int, int, Cell]] = []
        occupied: set[tuple[int, int]] = set()
        for r, row in enumerate(self.rows):
            col = 0
            for cell in row:
                while (r, col) in occupied:
                    col += 1
                placed.append((r, col, cell))
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        occupied.add((r + dr, col + dc))
                col += cell.colspan
                width = max(width, col)
        height = max((r + c.rowspan for r, _, c in placed), default=0)
        width = max([width] + [col + 1 for _, col in occupied])
        grid: list[list[Cell | None]] = [[None] * width for _ in range(height)]
        for r, col, cell in placed:
            grid[r][col] = cell
        return grid

    def data_cells(self) -> list[Cell]:
        return [c for row in self.rows for c in row if c.cell_id]


__all__ = [
    "ACTIVE_2019",
    "ACTIVE_2021",
    "APPEAL_BLOCKS",
    "APPEAL_COLUMNS",
    "APPLICANT_COLUMNS",
    "Cell",
    "Table",
]
