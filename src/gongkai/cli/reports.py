"""Commands on single reports: parse, check, eval, schema, synth."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import Files, MemoryMB, Timeout, app, fail, parse_each


@app.command()
def parse(
    files: Files,
    json_: Annotated[bool, typer.Option("--json", help="每个文件打印一个 JSON 对象")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="每行一个 JSON 对象")] = False,
    timeout: Timeout = 120,
    memory_mb: MemoryMB = 2048,
) -> None:
    """解析报告，输出 JSON（格式见 docs/output.md 与 gongkai schema）。"""
    unreadable = False
    for report in parse_each(files, timeout, memory_mb):
        if report is None:
            unreadable = True
            continue
        typer.echo(report.to_json() if jsonl or len(files) > 1 and not json_ else report.to_json(indent=2))
    raise typer.Exit(2 if unreadable else 0)


@app.command()
def check(files: Files, timeout: Timeout = 120, memory_mb: MemoryMB = 2048) -> None:
    """核验报告：在终端列出问题单元格和每条发现（有错误时退出码为 1）。"""
    from gongkai.terminal import print_check

    unreadable = errors = False
    for report in parse_each(files, timeout, memory_mb):
        if report is None:
            unreadable = True
            continue
        print_check(report)
        errors = errors or bool(report.errors)
    raise typer.Exit(2 if unreadable else 1 if errors else 0)


@app.command("eval")
def evaluate(
    directory: Annotated[Path, typer.Argument(metavar="目录", help="报告所在目录（真值文件在其 truth/ 子目录）")],
    truth: Annotated[Path | None, typer.Option(help="真值目录，默认为 目录/truth")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="列出每个错误")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="输出 Markdown 表格（docs/accuracy.md 用）")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON：每个文件的结果，每个已标记单元格读到的值、真值和标记它的发现")] = False,
) -> None:
    """与真值文件比较：单元格准确率、未被标记的错误单元格、元数据、源错误检出与误报。"""
    from gongkai.errors import GongkaiError
    from gongkai.evaluate import evaluate_dir, print_evaluation

    if not directory.is_dir():
        raise GongkaiError(f"{directory}：目录不存在")
    result = evaluate_dir(directory, truth or directory / "truth")
    if markdown:
        from gongkai.evaluate import markdown as as_markdown

        typer.echo(as_markdown(result, str(directory)))
    elif as_json:
        from gongkai.evaluate import as_json as to_json

        typer.echo(to_json(result))
    else:
        print_evaluation(result, verbose)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def schema() -> None:
    """打印报告 JSON 的 JSON Schema（即 docs/schema.json）。"""
    from gongkai.report import json_schema

    sys.stdout.write(json_schema())


@app.command()
def synth(
    outdir: Annotated[Path, typer.Argument(metavar="目录", help="输出目录（真值文件写入 目录/truth/）")],
    count: Annotated[int, typer.Option("--count", "-n", help="报告份数")] = 20,
    seed: Annotated[int, typer.Option(help="随机种子（同一种子得到同样的文件）")] = 0,
    formats: Annotated[str, typer.Option(help="格式，逗号分隔：txt,md,html,docx,ofd,pdf,doc,scan_pdf,scan_png；转换工具写出的 markdown：md_html,md_docx,md_pdf")] = "txt,html,docx",
    faults: Annotated[str, typer.Option(help="缺陷：none、random，或逗号分隔的缺陷名")] = "none",
    start: Annotated[int, typer.Option(help="第一份报告的编号（向已有目录追加时用）")] = 0,
    variants: Annotated[str, typer.Option(help="版式变体：none、random，或逗号分隔的变体名（标题编号、表四转置或拆分、窄单元格、占位符、机关名位置、申请数细分；行标签缺失 label_lost 只在点名时用）")] = "none",
    county: Annotated[bool, typer.Option("--county", help="改为生成一个市的年度审计语料：约 60 个机关三年的报告、名单和真值")] = False,
) -> None:
    """生成合成报告及其真值文件（样例、测试夹具、基准语料都由它生成）。"""
    from gongkai.synth import write_corpus

    if county:
        from gongkai.synth.county import write_county

        truth = write_county(outdir, seed)
        files = sum(1 for b in truth["bodies"] for r in b["years"].values() if r["file"])
        typer.echo(f"{len(truth['bodies'])} 个机关 {len(truth['years'])} 年的 {files} 份报告已写入 {outdir / 'reports'}；"
                   f"名单 roster.csv、roster.xlsx，有问题的名单 roster_bad.csv，真值 audit.json")  # fmt: skip
        return

    mode = None if faults == "none" else "random" if faults == "random" else tuple(faults.split(","))
    layouts = None if variants == "none" else "random" if variants == "random" else tuple(variants.split(","))
    try:
        paths = write_corpus(outdir, count, seed, tuple(formats.split(",")), mode, start, layouts)
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
        raise typer.Exit(2) from exc
    typer.echo(f"{len(paths)} 份报告已写入 {outdir}（真值在 {outdir / 'truth'}）")
