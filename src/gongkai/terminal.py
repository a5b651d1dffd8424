"""`gongkai check` in the terminal: the report's problem cells and each finding, in Chinese."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from gongkai.cells import label
from gongkai.report import Report
from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH

_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def print_check(report: Report, console: Console | None = None) -> None:
    console = console or Console()
    meta = report.meta
    title = f"{report.source.path or '（字节输入）'}"
    facts = [
        meta.agency or "机关名称未识别",
        f"{meta.year}年度" if meta.year else "年度未识别",
        f"{meta.template}年格式" if meta.template else "格式未识别",
        f"发布 {meta.published}" if meta.published else None,
    ]
    console.rule(f"[bold]{title}")
    console.print("  ".join(f for f in facts if f))
    errors, warnings = len(report.errors), len(report.warnings)
    filled = sum(v is not None for v in report.cells.values())
    console.print(f"单元格 {filled}/{len(report.cells)} 有值；错误 {errors}，警告 {warnings}，提示 {len(report.findings) - errors - warnings}")
    suspects = {c for f in report.findings for c in f.suspects}
    # the cells a reviewer should look at: the suspects, else the totals the broken identities name
    broken = [f for f in report.findings if f.severity == "error" and f.origin == "source" and f.rule != "structure.cells_missing"]
    involved = [c for f in broken for c in (f.suspects or (f.cells if len(f.cells) <= 4 else f.cells[:1]))]
    if involved:
        cells = Table(title="问题单元格", show_header=True, header_style="bold")
        cells.add_column("单元格")
        cells.add_column("值", justify="right")
        cells.add_column("来源")
        for cell_id in dict.fromkeys(involved):
            value = report.cells.get(cell_id)
            prov = report.provenance.get(cell_id)
            where = ""
            if prov is not None:
                where = f"第{prov.line}行" if prov.line else ""
                if prov.page:
                    where += f" 第{prov.page}页"
                if prov.table is not None and prov.row is not None:
                    where += f" 表{prov.table + 1}第{prov.row + 1}行第{(prov.col or 0) + 1}列"
            mark = "[bold red]★ " if cell_id in suspects else ""
            cells.add_row(f"{mark}{label(cell_id)}", "空" if value is None else f"{value:g}", where.strip())
        console.print(cells)
    for finding in report.findings:
        style = _STYLE[finding.severity]
        console.print(f"[{style}]{SEVERITY_ZH[finding.severity]}[/] [dim]{finding.rule}（{ORIGIN_ZH[finding.origin]}）[/] {finding.message}", highlight=False)
    if not report.findings:
        console.print("[green]未发现问题")
