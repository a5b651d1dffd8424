"""The command line: a thin skin over the Python API (every command is a call into gongkai)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gongkai.errors import GongkaiError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="gongkai（公开）：把政府信息公开工作年度报告变成核验过的结构化数据。",
)

Files = Annotated[list[Path], typer.Argument(help="报告文件（txt、html、md、docx、doc、pdf、图片）")]


def fail(message: str) -> None:
    """One clear line on stderr (never a traceback)."""
    typer.echo(f"gongkai: {message}", err=True)


@app.command()
def parse(
    files: Files,
    json_: Annotated[bool, typer.Option("--json", help="每个文件打印一个 JSON 对象")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="每行一个 JSON 对象")] = False,
) -> None:
    """解析报告，输出 JSON（output.md 规定的格式）。"""
    from gongkai.pipeline import parse as parse_report

    unreadable = False
    for path in files:
        try:
            report = parse_report(path)
        except GongkaiError as exc:
            fail(f"{path}: {exc}")
            unreadable = True
            continue
        typer.echo(report.to_json() if jsonl or len(files) > 1 and not json_ else report.to_json(indent=2))
    raise typer.Exit(2 if unreadable else 0)


@app.command()
def check(files: Files) -> None:
    """核验报告：在终端列出问题单元格和每条发现（有错误时退出码为 1）。"""
    from gongkai.pipeline import parse as parse_report
    from gongkai.terminal import print_check

    unreadable = errors = False
    for path in files:
        try:
            report = parse_report(path)
        except GongkaiError as exc:
            fail(f"{path}: {exc}")
            unreadable = True
            continue
        print_check(report)
        errors = errors or bool(report.errors)
    raise typer.Exit(2 if unreadable else 1 if errors else 0)


@app.command("eval")
def evaluate(
    directory: Annotated[Path, typer.Argument(help="报告所在目录（真值文件在其 truth/ 子目录）")],
    truth: Annotated[Path | None, typer.Option(help="真值目录，默认 DIR/truth")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="列出每个错误")] = False,
) -> None:
    """与真值文件比较：单元格准确率、未被标记的错误单元格、元数据、源错误检出与误报。"""
    from gongkai.evaluate import evaluate_dir, print_evaluation

    result = evaluate_dir(directory, truth or directory / "truth")
    print_evaluation(result, verbose)
    raise typer.Exit(0 if result.ok else 1)


def main() -> None:
    try:
        app()
    except GongkaiError as exc:
        fail(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        fail("已中断")
        sys.exit(130)
