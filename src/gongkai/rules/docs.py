"""docs/rules.md, written from the rule catalog and the anomaly thresholds.

    python -m gongkai.rules.docs            # rewrite docs/rules.md
    python -m gongkai.rules.docs --check    # exit 1 when docs/rules.md is out of date
"""

from __future__ import annotations

from pathlib import Path

from gongkai.rules.catalog import CATALOG, ORIGIN_ZH, SEVERITY_ZH
from gongkai.store import anomalies

PATH = Path(__file__).resolve().parents[3] / "docs" / "rules.md"

FAMILIES = (
    ("requests", "第三部分：依申请公开的勾稽关系"),
    ("appeals", "第四部分：行政复议、行政诉讼"),
    ("value", "数值"),
    ("structure", "结构"),
    ("template", "格式"),
    ("narrative", "正文与表格"),
    ("meta", "发布与统计期限"),
    ("fees", "信息处理费"),
    ("extraction", "解析存疑"),
    ("corpus", "跨年度核对（语料库规则）"),
    ("anomaly", "异常值（语料库规则，只提示、不判错）"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rules_markdown() -> str:
    lines = [
        "# 规则目录",
        "",
        "<!-- written by `python -m gongkai.rules.docs` from src/gongkai/rules/catalog.py and "
        "src/gongkai/store/anomalies.py; do not edit by hand -->",
        "",
        "每条问题（finding）都指向下列规则之一。规则编号稳定不变，导出、审核意见都引用它。"
        "“来源”说明问题出在哪里：**报告本身**（source，报告写错了）或**解析存疑**（extraction，gongkai 读不准，需要人核对原件）。",
        "",
    ]
    for family, title in FAMILIES:
        rules = [r for r in CATALOG.values() if r.id.split(".")[0] == family]
        if not rules:
            continue
        lines += [f"## {title}", "", "| 规则 | 级别 | 来源 | 检查什么 | 不成立时的标题 |", "|---|---|---|---|---|"]
        lines += [f"| `{r.id}` | {SEVERITY_ZH[r.severity]} | {ORIGIN_ZH[r.origin]} | {_cell(r.name)} | {_cell(r.broken)} |" for r in rules]
        lines.append("")
    other = sorted(r.id for r in CATALOG.values() if r.id.split(".")[0] not in dict(FAMILIES))
    if other:
        lines += ["## 其他", ""] + [f"- `{r}`：{_cell(CATALOG[r].name)}" for r in other] + [""]

    lines += [
        "## 异常规则的比较与阈值",
        "",
        "异常规则在 `gongkai batch` 与 `Store.refresh` 中于跨年度规则之后运行，每个机关每年只取一份报告"
        "（读出单元格最多的一份），同类机关指同一地区（有区划代码时按代码）、同一机关类型、同一年度。"
        "每条问题都写明比较本身（如“本年新收 9 件，上年 912 件”），级别只到“警告”，从不算作错误。",
        "",
    ]
    for rule, what in anomalies.describe():
        lines += [f"### `{rule}`", "", what + "。", ""]
        names = anomalies.THRESHOLDS_OF.get(rule, ())
        if names:
            lines += ["| 阈值 | 默认值 | 理由 |", "|---|---|---|"]
            lines += [f"| `{n}` | {anomalies.DEFAULTS[n].value:g} | {_cell(anomalies.DEFAULTS[n].reason)} |" for n in names]
        else:
            lines.append("没有可调的阈值：这种组合在格式上本就不成立。")
        lines.append("")
    example = ", ".join(f'"{n}": {anomalies.DEFAULTS[n].value:g}' for n in ("jump_factor", "peer_min"))
    lines += [
        "### 修改阈值",
        "",
        f"把要改的项写进一个 JSON 或 TOML 文件，用环境变量 `{anomalies.ENV}` 指向它，未写的项保持默认值。例如：",
        "",
        "```json",
        "{" + example + "}",
        "```",
        "",
        "文件里有未知的项或负数时，命令以一行中文说明退出，不改动数据库。",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from gongkai.docs_file import write_or_check

    return write_or_check(PATH, rules_markdown(), "gongkai.rules.docs", argv)


if __name__ == "__main__":
    raise SystemExit(main())
