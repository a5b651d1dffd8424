"""The corpus statistics, defined once: `gongkai stats`, the HTML report and the web corpus page all
take them from `compute_stats`, so the same store gives the same 予以公开 share everywhere.

A share of an outcome is that outcome's total over the reports that print 办理结果总计, divided by
the sum of their 办理结果总计 (so 予以公开 86 of 办理结果总计 210 is 41.0%); a report whose table
has no total adds to neither. 有错误的报告 is the share of reports with at least one error finding;
复议诉讼被纠正 is 结果纠正 over 结果维持 + 结果纠正 + 其他结果 of the three blocks of table 三.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from gongkai.report import BODY_TYPE_ZH
from gongkai.store.schema import quote

GROUPS = {"year": "year", "region": "region", "body_type": "body_type"}
BY_ZH = {"year": "年度", "region": "地区", "body_type": "机关类型"}
FILTERS = ("year", "region", "body_type")
DENIED = ("state_secret", "law_prohibited", "security_stability", "third_party", "internal_affairs", "process_info", "enforcement_file", "admin_query")
UNABLE = ("not_held", "needs_creation", "still_unclear")
NOT_PROCESSED = ("petition_complaint", "duplicate", "publication", "excessive", "confirm_reissue")
OTHER_2021 = ("no_correction", "unpaid_fee", "other")
BLOCKS = ("review", "suit_direct", "suit_after_review")


@dataclass(frozen=True, slots=True)
class Metric:
    id: str
    label_zh: str
    kind: str  # count | share


METRICS = (
    Metric("reports", "报告数", "count"),
    Metric("with_errors", "有错误的报告", "share"),
    Metric("received", "本年新收申请", "count"),
    Metric("handled", "办理结果总计", "count"),
    Metric("granted", "予以公开", "share"),
    Metric("partial", "部分公开", "share"),
    Metric("denied", "不予公开", "share"),
    Metric("unable", "无法提供", "share"),
    Metric("not_processed", "不予处理", "share"),
    Metric("other", "其他处理", "share"),
    Metric("reviews", "行政复议", "count"),
    Metric("lawsuits", "行政诉讼", "count"),
    Metric("corrected", "复议诉讼被纠正", "share"),
)
OUTCOMES = ("granted", "partial", "denied", "unable", "not_processed", "other")


def _cell(cell_id: str) -> str:
    return f"coalesce({quote(cell_id)}, 0)"


def _sum(ids: list[str]) -> str:
    return " + ".join(_cell(i) for i in ids)


def filter_sql(filters: dict | None) -> tuple[str, list]:
    """` WHERE …` over `reports r` for the filters given (year, region, body_type), and its parameters."""
    clauses, params = [], []
    for key in FILTERS:
        value = (filters or {}).get(key)
        if value not in (None, ""):
            clauses.append(f"r.{quote(key)} = ?")
            params.append(int(value) if key == "year" else value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def stats_sql(by: str | None, where: str = "") -> str:
    """One row per group (or one in all) with the sums behind every metric."""
    handled = quote("requests.total.total")
    has_table = f"{handled} IS NOT NULL"
    outcome = {
        "granted": _cell("requests.granted.total"),
        "partial": _cell("requests.partial.total"),
        "denied": _sum([f"requests.denied.{k}.total" for k in DENIED]),
        "unable": _sum([f"requests.unable.{k}.total" for k in UNABLE]),
        "not_processed": _sum([f"requests.not_processed.{k}.total" for k in NOT_PROCESSED]),
        "other": f"CASE WHEN template = '2021' THEN {_sum([f'requests.other.{k}.total' for k in OTHER_2021])} ELSE {_cell('requests.other.total')} END",
    }
    corrected = _sum([f"appeals.{b}.corrected" for b in BLOCKS])
    decided = _sum([f"appeals.{b}.{k}" for b in BLOCKS for k in ("upheld", "corrected", "other")])
    group = f"r.{GROUPS[by]}" if by else "'全部'"
    select = [
        f"{group} AS grp",
        "count(*) AS reports",
        "count(*) FILTER (errors > 0) AS with_errors",
        f"sum({quote('requests.new_received.total')}) AS received",
        f"sum({handled}) AS handled",
        *(f"sum(CASE WHEN {has_table} THEN {expr} END) AS {name}" for name, expr in outcome.items()),
        f"sum({quote('appeals.review.total')}) AS reviews",
        f"sum({_cell('appeals.suit_direct.total')} + {_cell('appeals.suit_after_review.total')}) AS lawsuits",
        f"sum({corrected}) AS corrected",
        f"sum({decided}) AS decided",
    ]
    return f"SELECT {', '.join(select)} FROM reports r{where} GROUP BY grp ORDER BY grp NULLS LAST"


def compute_stats(con, by: str | None = None, filters: dict | None = None) -> list[dict]:
    """Rows of {group, key, metric: value, counts}: counts as sums, shares as fractions (None when
    nothing to divide); `key` is the group's value in the store (a year, a region, a body type code)."""
    if by and by not in GROUPS:
        from gongkai.errors import GongkaiError

        raise GongkaiError(f"未知的分组：{by}（可用 {' / '.join(GROUPS)}）")
    where, params = filter_sql(filters)
    cursor = con.execute(stats_sql(by, where), params)
    names = [d[0] for d in cursor.description]
    result = []
    for values in cursor.fetchall():
        raw = dict(zip(names, values))
        key = group = raw["grp"]
        if by == "body_type":
            group = BODY_TYPE_ZH.get(group, group)
        row = {"group": "（未知）" if group is None else str(group), "key": key, "reports": raw["reports"]}
        row["with_errors"] = _share(raw["with_errors"], raw["reports"])
        row["received"] = int(raw["received"] or 0)
        row["handled"] = int(raw["handled"] or 0)
        for name in OUTCOMES:
            row[name] = _share(raw[name], raw["handled"])
        row["reviews"] = int(raw["reviews"] or 0)
        row["lawsuits"] = int(raw["lawsuits"] or 0)
        row["corrected"] = _share(raw["corrected"], raw["decided"])
        row["counts"] = {name: int(raw[name] or 0) for name in OUTCOMES}
        result.append(row)
    return result


def _share(part, whole) -> float | None:
    return float(part or 0) / float(whole) if whole else None


def share_text(value: float | None) -> str:
    """A share as every output prints it: 41.0%, or — when there is nothing to divide."""
    return "—" if value is None else f"{value:.1%}"


def _show(metric: Metric, value) -> str:
    if metric.kind == "share":
        return share_text(value)
    return "—" if value is None else f"{value:,}"


def print_stats(rows: list[dict], by: str | None, console=None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    title = "政府信息公开年度报告汇总" + (f"（按{BY_ZH[by]}）" if by else "")
    table = Table(title=title)
    if len(rows) <= 8:  # few groups: one column per group, the metrics down the side (fits a terminal)
        table.add_column("指标", style="bold")
        for row in rows:
            table.add_column(row["group"], justify="right")
        for metric in METRICS:
            table.add_row(metric.label_zh, *(_show(metric, row[metric.id]) for row in rows))
    else:
        table.add_column(BY_ZH.get(by, "分组"), style="bold")
        for metric in METRICS:
            table.add_column(metric.label_zh, justify="right")
        for row in rows:
            table.add_row(row["group"], *(_show(m, row[m.id]) for m in METRICS))
    console.print(table)


def write_stats_csv(rows: list[dict], target: str | os.PathLike) -> Path:
    """One header row of metric ids (their Chinese names are in docs/output.md), then one row per
    group: counts as integers, shares as fractions, an empty field where there is nothing, so that
    pandas, R and Stata read every metric column as numbers."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["group", *(m.id for m in METRICS)])
        for row in rows:
            group = "" if row["key"] is None else row["group"]
            writer.writerow([group, *("" if row[m.id] is None else row[m.id] for m in METRICS)])
    return target


CJK_FONTS = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def write_charts(rows: list[dict], folder: str | os.PathLike) -> list[Path]:
    """PNG charts: requests received, outcome shares (stacked), appeals with the corrected share."""
    import logging

    import matplotlib

    matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    for font in CJK_FONTS:
        if Path(font).exists():
            font_manager.fontManager.addfont(font)
            plt.rcParams["font.family"] = font_manager.FontProperties(fname=font).get_name()
            break
    plt.rcParams["axes.unicode_minus"] = False
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups = [r["group"] for r in rows]
    width = max(6.0, 0.6 * len(groups) + 3)
    written = []

    fig, ax = plt.subplots(figsize=(width, 4.5))
    ax.bar(groups, [r["received"] for r in rows], color="#4472C4")
    ax.set_title("本年新收政府信息公开申请数量")
    ax.set_ylabel("件")
    _finish(fig, ax, folder / "requests_received.png", written)

    fig, ax = plt.subplots(figsize=(width, 4.5))
    bottom = [0.0] * len(rows)
    for name in OUTCOMES:
        metric = next(m for m in METRICS if m.id == name)
        values = [(r[name] or 0.0) * 100 for r in rows]
        ax.bar(groups, values, bottom=bottom, label=metric.label_zh)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_title("办理结果构成")
    ax.set_ylabel("%")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    _finish(fig, ax, folder / "outcome_shares.png", written)

    fig, ax = plt.subplots(figsize=(width, 4.5))
    positions = range(len(groups))
    ax.bar([p - 0.2 for p in positions], [r["reviews"] for r in rows], width=0.4, label="行政复议")
    ax.bar([p + 0.2 for p in positions], [r["lawsuits"] for r in rows], width=0.4, label="行政诉讼")
    ax.set_xticks(list(positions), groups)
    ax.set_ylabel("件")
    twin = ax.twinx()
    twin.plot(list(positions), [(r["corrected"] or 0.0) * 100 for r in rows], color="#C00000", marker="o", label="被纠正比例")
    twin.set_ylabel("被纠正 %")
    ax.set_title("行政复议、行政诉讼及纠正比例")
    lines, labels = ax.get_legend_handles_labels()
    more, more_labels = twin.get_legend_handles_labels()
    ax.legend(lines + more, labels + more_labels, fontsize=8)
    _finish(fig, ax, folder / "appeals.png", written)
    return written


def _finish(fig, ax, target: Path, written: list[Path]) -> None:
    import matplotlib.pyplot as plt

    for tick in ax.get_xticklabels():
        tick.set_rotation(30 if len(ax.get_xticklabels()) > 6 else 0)
    fig.tight_layout()
    fig.savefig(target, dpi=120)
    plt.close(fig)
    written.append(target)
