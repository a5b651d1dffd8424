"""Commands for a clerk writing a report: draft template, draft check, draft render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import app
from gongkai.errors import GongkaiError

draft_app = typer.Typer(no_args_is_help=True, help="填报：填写统计表、边填边核对、生成正式格式的年度报告。")
app.add_typer(draft_app, name="draft")

Db = Annotated[Path | None, typer.Option("--db", help="语料库（有上年报告时，据其结转下年度预填上年结转并核对衔接）")]
DraftFile = Annotated[Path, typer.Argument(metavar="草稿", help="草稿：填好的 .xlsx、表单或 gongkai parse 的 .json，或已发布的报告文件")]


def _blank(year: int | None, template: str | None, agency: str | None, region: str | None):
    from gongkai.draft import Draft
    from gongkai.report import Meta

    if template not in (None, "2019", "2021"):
        raise GongkaiError("--template：只能是 2019 或 2021")
    template = template or ("2019" if year and year < 2021 else "2021")
    return Draft(meta=Meta(agency=agency, year=year, template=template, region=region))


@draft_app.command("template")
def template_(
    out: Annotated[Path, typer.Option("--out", "-o", help="写出的 Excel 填报表（.xlsx）")],
    year: Annotated[int | None, typer.Option("--year", help="报告年度")] = None,
    template: Annotated[str | None, typer.Option("--template", help="格式：2021（默认，报告年度 2021 起）或 2019")] = None,
    agency: Annotated[str | None, typer.Option("--agency", help="机关名称")] = None,
    region: Annotated[str | None, typer.Option("--region", help="所属地区")] = None,
    from_: Annotated[Path | None, typer.Option("--from", help="从已有的报告或草稿开始（预填它的全部内容）")] = None,
    db: Db = None,
) -> None:
    """写出 Excel 填报表：正式格式的三张表，格式文字受保护，只有黄色格子可填。"""
    from gongkai.draft import check_draft, read_draft, write_sheet

    if out.suffix.lower() != ".xlsx":
        raise GongkaiError("--out：填报表须为 .xlsx 文件")
    draft = read_draft(from_) if from_ else _blank(year, template, agency, region)
    result = check_draft(draft, db) if db else None
    if result and result.prefilled:
        draft = draft.model_copy(update={"cells": {**draft.cells, **result.prefilled}})
    out.write_bytes(write_sheet(draft))
    typer.echo(f"已写出填报表 {out}（{draft.template} 年格式）")
    if result and result.previous:
        typer.echo(f"上年结转已按 {result.previous.year} 年度报告的结转下年度预填（{len(result.prefilled)} 格）")


@draft_app.command("check")
def check_(
    file: DraftFile,
    db: Db = None,
    json_: Annotated[bool, typer.Option("--json", help="输出 JSON：findings、prefilled、previous")] = False,
) -> None:
    """核对草稿：每条勾稽关系、正文与表格、统计期限、收费说明，及与上年报告的衔接（有错误时退出码为 1）。"""
    from gongkai.draft import check_draft, read_draft
    from gongkai.report import Report, Source

    draft = read_draft(file)
    result = check_draft(draft, db)
    if json_:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        from gongkai.terminal import print_check

        shown = draft.to_report_json()
        report = Report(source=Source(path=str(file), sha256=shown["source"]["sha256"], format="draft"),
                        meta=draft.meta, sections=draft.report_sections(), cells={**draft.filled(), **result.prefilled},
                        findings=result.findings)  # fmt: skip
        print_check(report)
        if result.prefilled:
            typer.echo(f"提示：上年结转按 {result.previous.year} 年度报告预填了 {len(result.prefilled)} 格，请写入草稿")
    raise typer.Exit(1 if any(f.severity == "error" for f in result.findings) else 0)


@draft_app.command("render")
def render_(
    file: DraftFile,
    out: Annotated[Path, typer.Option("--out", "-o", help="写出的报告：.docx 或 .pdf（PDF 需要 LibreOffice）")],
) -> None:
    """按正式格式生成年度报告（标题、六个部分、三张表、落款），gongkai parse 读回得到同样的数字。"""
    from gongkai.draft import read_draft, render_docx, render_pdf

    suffix = out.suffix.lower()
    if suffix not in (".docx", ".pdf"):
        raise GongkaiError("--out：只能生成 .docx 或 .pdf")
    draft = read_draft(file)
    out.write_bytes(render_pdf(draft) if suffix == ".pdf" else render_docx(draft))
    typer.echo(f"已生成 {out}")
