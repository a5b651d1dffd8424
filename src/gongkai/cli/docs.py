"""docs/cli.md, the command-line reference, written from the typer app itself (the same help `-h` shows).

    python -m gongkai.cli.docs            # rewrite docs/cli.md
    python -m gongkai.cli.docs --check    # exit 1 when docs/cli.md is out of date
"""

from __future__ import annotations

from pathlib import Path

import typer

from gongkai.cli import app
from gongkai.cli.conventions import CommandDoc, describe
from gongkai.store.stats import METRICS

PATH = Path(__file__).resolve().parents[3] / "docs" / "cli.md"

HEAD = """# 命令行参考

由 `python -m gongkai.cli.docs` 根据命令本身生成（与 `gongkai 命令 -h` 显示的相同），请勿手改；测试保证它与代码一致。
输出的格式与退出码的约定见 [output.md](output.md)。

所有命令共同的约定：

- `-h` 与 `--help` 显示中文帮助，按终端宽度换行；`gongkai --version` 显示版本。
- 命令行用错（没有这个选项、缺少参数、值不是整数……）时，标准错误输出一行中文说明，退出码为 2。
- 文件无法读取、输入不存在、端口被占用等，同样是一行中文、退出码 2，从不输出 traceback。
- `parse`、`check` 的文件参数写 `-` 表示从标准输入读取（`gongkai parse - < 报告.pdf`）。
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _section(doc: CommandDoc, level: int) -> list[str]:
    out = [f"{'#' * level} `{doc.path}`", ""]
    if doc.help:
        out += [" ".join(p.split()) + "\n" for p in doc.help.split("\n\n")]
    out += ["```", doc.usage, "```", ""]
    for title, params in (("参数", doc.arguments), ("选项", doc.options)):
        if params:
            out += [f"| {title} | 说明 | 备注 |", "|---|---|---|"]
            out += [f"| `{_cell(p.names)}` | {_cell(p.help)} | {'；'.join(p.notes)} |" for p in params]
            out.append("")
    if doc.commands:
        out += ["| 命令 | 说明 |", "|---|---|"] + [f"| `{name}` | {_cell(text)} |" for name, text in doc.commands] + [""]
    for child in doc.children:
        out += _section(child, min(level + 1, 4))
    return out


def _stats_columns() -> list[str]:
    out = ["## `gongkai stats` 的指标", "",
           "`--csv` 写出的文件第一行是下表的编号，其后每个分组一行：计数为整数，占比为 0～1 之间的小数，无法计算时留空。"
           "各指标的定义见 `gongkai/store/stats.py` 开头（命令行、HTML 审阅报告与网页用同一个定义）。", "",
           "| 编号 | 指标 | 类型 |", "|---|---|---|", "| `group` | 分组（年度、地区或机关类型；不分组时为“全部”） | 文本或年度 |"]  # fmt: skip
    out += [f"| `{m.id}` | {m.label_zh} | {'计数' if m.kind == 'count' else '占比'} |" for m in METRICS]
    return out + [""]


def cli_markdown() -> str:
    root = typer.main.get_command(app)
    doc = describe(root, typer.Context(root, info_name="gongkai"))
    lines = [HEAD, *_section(doc, 2), *_stats_columns()]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    from gongkai.docs_file import write_or_check

    return write_or_check(PATH, cli_markdown(), "gongkai.cli.docs", argv)


if __name__ == "__main__":
    raise SystemExit(main())
