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


Timeout = Annotated[float, typer.Option("--timeout", help="每份文档的解析时限（秒）")]
MemoryMB = Annotated[int, typer.Option("--memory-mb", help="每份文档的内存上限（MB）")]


def _parse_each(files: list[Path], seconds: float, memory_mb: int):
    """Each file's report (parsed in a child process under the limits), or None after one line
    on stderr saying why it could not be read."""
    from gongkai.limits import Limits, parse_guarded

    limits = Limits(seconds=seconds, memory_mb=memory_mb)
    for path in files:
        try:
            yield parse_guarded(path, limits=limits)
        except GongkaiError as exc:
            fail(f"{path}: {exc}")
            yield None


@app.command()
def parse(
    files: Files,
    json_: Annotated[bool, typer.Option("--json", help="每个文件打印一个 JSON 对象")] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="每行一个 JSON 对象")] = False,
    timeout: Timeout = 120,
    memory_mb: MemoryMB = 2048,
) -> None:
    """解析报告，输出 JSON（output.md 规定的格式）。"""
    unreadable = False
    for report in _parse_each(files, timeout, memory_mb):
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
    for report in _parse_each(files, timeout, memory_mb):
        if report is None:
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
    markdown: Annotated[bool, typer.Option("--markdown", help="输出 Markdown 表格（docs/accuracy.md 用）")] = False,
) -> None:
    """与真值文件比较：单元格准确率、未被标记的错误单元格、元数据、源错误检出与误报。"""
    from gongkai.evaluate import evaluate_dir, print_evaluation

    result = evaluate_dir(directory, truth or directory / "truth")
    if markdown:
        from gongkai.evaluate import markdown as as_markdown

        typer.echo(as_markdown(result, str(directory)))
    else:
        print_evaluation(result, verbose)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def batch(
    folders: Annotated[list[Path], typer.Argument(help="报告所在目录（或文件）；跳过 truth/ 与 json")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB 数据库文件")] = Path("corpus.duckdb"),
    workers: Annotated[int, typer.Option(help="并行进程数（dask：每批提交的参考值）")] = 1,
    engine: Annotated[str, typer.Option(help="local 或 dask")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask 调度器地址 tcp://主机:端口")] = None,
    timeout: Annotated[float, typer.Option(help="每份报告的解析时限（秒）")] = 120.0,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="每份报告的内存上限（MB）")] = 2048,
    aliases: Annotated[Path | None, typer.Option(help="机关名别名文件（每行：别名<TAB>标准名）")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="重新解析上次失败的文件")] = False,
    redo: Annotated[bool, typer.Option("--redo", help="全部重新解析（即使已入库），新结果替换旧行")] = False,
    redo_stale: Annotated[bool, typer.Option("--redo-stale", help="只重新解析非当前解析器生成的结果")] = False,
) -> None:
    """批量解析目录下的报告入库（可续跑：已入库的跳过，内容变了的重做），并做跨年核验。

    升级 gongkai（或改了解析代码）后，旧结果不会自动重做，以免一次普通的续跑变成整库重跑；摘要列出库中非当前解析器生成的结果条数。--redo-stale 只重新解析这些（中断后再运行即续完），--redo 全部重新解析。
    """
    from gongkai.limits import Limits
    from gongkai.store import BatchOptions, print_summary, run_batch
    from gongkai.store.bodies import load_aliases

    options = BatchOptions(
        workers=workers, engine=engine, scheduler=scheduler, limits=Limits(timeout, memory_mb),
        retry_failed=retry_failed, redo=redo, redo_stale=redo_stale, aliases=load_aliases(aliases) if aliases else None,
    )
    print_summary(run_batch(folders, db, options), db)


@app.command()
def export(
    db: Annotated[Path, typer.Option("--db", help="gongkai batch 生成的数据库")],
    to: Annotated[Path, typer.Option("--to", help="out.xlsx / out.csv / out.parquet")],
    with_text: Annotated[bool, typer.Option("--with-text", help="同时导出各部分正文")] = False,
) -> None:
    """导出报告表与发现表：Excel（问题单元格标红并附说明）、CSV 或 Parquet。"""
    from gongkai.export import export as export_corpus

    for path in export_corpus(db, to, with_text=with_text):
        typer.echo(path)


@app.command()
def stats(
    db: Annotated[Path, typer.Option("--db", help="gongkai batch 生成的数据库")],
    by: Annotated[str | None, typer.Option(help="year / region / body_type")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="另存为 CSV")] = None,
    charts: Annotated[Path | None, typer.Option(help="PNG 图表输出目录")] = None,
) -> None:
    """汇总：申请数、办理结果构成、复议诉讼及纠正比例（可按年度、地区、机关类型分组）。"""
    from gongkai.store import Store
    from gongkai.store.stats import (
        compute_stats,
        print_stats,
        write_charts,
        write_stats_csv,
    )

    with Store(db, read_only=True) as store:
        rows = compute_stats(store.con, by)
    print_stats(rows, by)
    if csv:
        typer.echo(write_stats_csv(rows, csv))
    for path in write_charts(rows, charts) if charts else []:
        typer.echo(path)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    db: Annotated[Path | None, typer.Option(help="语料库 DuckDB 文件（默认在数据目录里）")] = None,
    data_dir: Annotated[Path, typer.Option(help="服务器数据目录：上传的文件与解析结果")] = Path("gongkai-data"),
    token: Annotated[str | None, typer.Option(envvar="GONGKAI_TOKEN", help="访问令牌（请求头、Cookie 或 ?token=）")] = None,
    max_upload_mb: Annotated[float, typer.Option(help="单个文件上限（MB）")] = 20,
    max_files: Annotated[int, typer.Option(help="一次上传的文件数上限")] = 50,
    timeout: Annotated[float, typer.Option(help="单个文件的解析时限（秒）")] = 60,
) -> None:
    """启动审阅网页与 REST API（上传报告、查看标出问题的表格、语料库图表）。"""
    from gongkai.limits import Limits
    from gongkai.web.app import Settings
    from gongkai.web.app import serve as run_server

    run_server(Settings(data_dir=data_dir, db=db, token=token, max_upload_mb=max_upload_mb, max_files=max_files,
                        limits=Limits(seconds=timeout)), host=host, port=port)


@app.command()
def report(
    files: Annotated[list[Path] | None, typer.Argument(help="报告文件")] = None,
    db: Annotated[Path | None, typer.Option(help="改为汇总这个语料库（gongkai batch 生成的 DuckDB）")] = None,
    html: Annotated[Path, typer.Option("--html", help="输出的 HTML 文件")] = Path("gongkai-report.html"),
) -> None:
    """生成一个独立的 HTML 审阅报告（表格、发现、图表都在一个文件里，无需联网）。"""
    from gongkai.export.html import write_html

    if not files and db is None:
        fail("请给出报告文件，或用 --db 指定语料库")
        raise typer.Exit(2)
    typer.echo(write_html(html, files=files or [], db=db))


@app.command()
def schema() -> None:
    """打印报告 JSON 的 JSON Schema（即 docs/schema.json）。"""
    from gongkai.report import json_schema

    sys.stdout.write(json_schema())


@app.command()
def synth(
    outdir: Annotated[Path, typer.Argument(help="输出目录（真值文件写入 OUTDIR/truth/）")],
    count: Annotated[int, typer.Option("--count", "-n", help="报告份数")] = 20,
    seed: Annotated[int, typer.Option(help="随机种子（同一种子得到同样的文件）")] = 0,
    formats: Annotated[str, typer.Option(help="格式，逗号分隔：txt,md,html,docx,pdf,doc,scan_pdf,scan_png")] = "txt,html,docx",
    faults: Annotated[str, typer.Option(help="缺陷：none、random，或逗号分隔的缺陷名")] = "none",
    start: Annotated[int, typer.Option(help="第一份报告的编号（向已有目录追加时用）")] = 0,
) -> None:
    """生成合成报告及其真值文件（样例、测试夹具、基准语料都由它生成）。"""
    from gongkai.synth import write_corpus

    mode = None if faults == "none" else "random" if faults == "random" else tuple(faults.split(","))
    try:
        paths = write_corpus(outdir, count, seed, tuple(formats.split(",")), mode, start)
    except (ValueError, RuntimeError) as exc:
        fail(str(exc))
        raise typer.Exit(2) from exc
    typer.echo(f"{len(paths)} 份报告已写入 {outdir}（真值在 {outdir / 'truth'}）")


def main() -> None:
    try:
        app()
    except GongkaiError as exc:
        fail(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        fail("已中断")
        sys.exit(130)


if __name__ == "__main__":
    main()
