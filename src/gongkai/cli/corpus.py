"""Commands on a corpus store: batch, export, stats, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import app, facts_table, fail


@app.command()
def batch(
    folders: Annotated[list[Path], typer.Argument(metavar="目录", help="报告所在目录（或文件）；跳过 truth/ 与 json")],
    db: Annotated[Path, typer.Option("--db", help="DuckDB 数据库文件")] = Path("corpus.duckdb"),
    workers: Annotated[int, typer.Option(help="并行进程数（dask：每批提交的参考值）")] = 1,
    engine: Annotated[str, typer.Option(help="local 或 dask")] = "local",
    scheduler: Annotated[str | None, typer.Option(help="Dask 调度器地址 tcp://主机:端口")] = None,
    timeout: Annotated[float, typer.Option(help="每份报告的解析时限（秒；扫描件每多识别一页另加 90 秒）")] = 120.0,
    memory_mb: Annotated[int, typer.Option("--memory-mb", help="每份报告的内存上限（MB）")] = 2048,
    aliases: Annotated[Path | None, typer.Option(help="机关名别名文件（每行：别名<TAB>标准名）")] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="重新解析上次失败的文件")] = False,
    redo: Annotated[bool, typer.Option("--redo", help="全部重新解析（即使已入库），新结果替换旧行")] = False,
    redo_stale: Annotated[bool, typer.Option("--redo-stale", help="只重新解析非当前解析器生成的结果")] = False,
) -> None:
    """批量解析目录下的报告入库（可续跑：已入库的跳过，内容变了的重做），并做跨年核验。

    升级 gongkai（或改了解析代码）后，旧结果不会自动重做，以免一次普通的续跑变成整库重跑；摘要列出库中非当前解析器生成的结果条数。--redo-stale 只重新解析这些（中断后再运行即续完），--redo 全部重新解析。
    """
    from gongkai.errors import GongkaiError
    from gongkai.limits import Limits, cap_workers, share_cores
    from gongkai.store import BatchOptions, run_batch
    from gongkai.store.bodies import load_aliases

    missing = [str(f) for f in folders if not f.exists()]
    if missing:  # before a store is made: a mistyped folder must not leave an empty store behind
        raise GongkaiError(f"输入不存在：{'、'.join(missing)}")

    if engine == "local":
        workers, note = cap_workers(workers)
        if note:
            typer.echo(f"提示：{note}", err=True)
        share_cores(workers)
    options = BatchOptions(
        workers=workers, engine=engine, scheduler=scheduler, limits=Limits(timeout, memory_mb),
        retry_failed=retry_failed, redo=redo, redo_stale=redo_stale, aliases=load_aliases(aliases) if aliases else None,
    )
    summary = run_batch(folders, db, options)
    _print_batch(summary, db)
    if summary.failures and not retry_failed:  # a rerun skips them: say how to try them again
        typer.echo(f"提示：库中有 {summary.failures} 个文件解析失败（原因见 gongkai export 的「无法解析」表）；"
                   f"换了文件或升级 gongkai 后，加 --retry-failed 重新解析它们。")
    if summary.refused:
        raise typer.Exit(1)  # done, but not every input was read: the table above says which


def _print_batch(summary, db: Path) -> None:
    """The final table of a batch run, then what failed and what was not read."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(facts_table(f"gongkai batch → {db.name}", (
        ("找到文件", summary.found),
        ("不同文件（按 sha256）", summary.unique),
        ("已在库中，跳过", summary.skipped),
        ("已在库中，重新解析", summary.redone),
        ("内容已变、旧行删除", summary.stale),
        ("续接上次中断的分片", summary.recovered_shards),
        ("本次解析成功", summary.parsed),
        ("本次解析失败", summary.failed),
        ("未读取的条目", len(summary.refused)),
        ("用时", f"{summary.seconds:.1f} 秒"),
        ("速度", f"{summary.rate:.1f} 份/秒"),
        ("库中报告", summary.reports),
        ("库中发现（含跨年）", summary.findings),
        ("跨年核验发现", summary.corpus_findings),
        ("库中失败文件", summary.failures),
        ("库中非当前解析器的结果", summary.outdated),
        ("库中有来源网址的报告", summary.addressed),
    )))  # fmt: skip
    if summary.outdated:
        console.print(f"提示：库中 {summary.outdated} 条结果非当前解析器生成，加 --redo-stale 重新解析。")
    if summary.failure_reasons:
        failures = Table(title="本次失败的文件", show_lines=False)
        failures.add_column("文件", overflow="fold")
        failures.add_column("原因")
        for path, reason in summary.failure_reasons[:20]:
            failures.add_row(path, reason)
        if len(summary.failure_reasons) > 20:
            failures.add_row("…", f"另有 {len(summary.failure_reasons) - 20} 个，见表 failures")
        console.print(failures)
    if summary.refused:  # one line each, unwrapped: a path to copy, and why it was not read
        console.print(f"[bold]未读取的条目 {len(summary.refused)} 个（不是普通文件、指向目录之外或无法读取）：")
        for path, reason in summary.refused[:50]:
            console.print(f"  {path}：{reason}", soft_wrap=True, markup=False, highlight=False)
        if len(summary.refused) > 50:
            console.print(f"  …另有 {len(summary.refused) - 50} 个")


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
def panel(
    db: Annotated[Path, typer.Option("--db", help="gongkai batch 生成的数据库")],
    to: Annotated[Path | None, typer.Option("--to", help="panel.parquet（按年度分区的目录）/ panel.csv / panel.xlsx；不给则只刷新库中的 panel 视图")] = None,
) -> None:
    """研究用面板：每个机关每年一行（机关编号、区划、上一年度报告、审核状态、人工更正后的全部单元格）。

    先刷新库中的 panel 视图（机关与名单的对应、所在区划、字段说明），再按 --to 的后缀导出。各列的含义见 docs/data.md。
    """
    from gongkai.cli.common import existing_store
    from gongkai.export.panel import write_panel
    from gongkai.store.panel import refresh_panel

    with existing_store(db) as store:
        done = refresh_panel(store)
        years = store.con.execute("SELECT min(year), max(year), count(DISTINCT body_id) FROM panel").fetchone()
        if to is not None:
            typer.echo(write_panel(store.con, to))
    span = f"{years[0]}–{years[1]} 年，" if years[0] is not None else ""
    typer.echo(f"面板：{span}{years[2]} 个机关，{done.rows} 行（每个机关每年一行）")
    if done.without_year:
        typer.echo(f"提示：{done.without_year} 份报告未读出年度，不在面板中（见 reports 表中 year 为空的行）")


@app.command()
def stats(
    db: Annotated[Path, typer.Option("--db", help="gongkai batch 生成的数据库")],
    by: Annotated[str | None, typer.Option(help="分组：year（年度）、region（地区）或 body_type（机关类型）")] = None,
    csv: Annotated[Path | None, typer.Option("--csv", help="另存为 CSV：一行表头（指标编号），计数与占比都是数字列")] = None,
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
def report(
    files: Annotated[list[Path] | None, typer.Argument(metavar="文件", help="报告文件")] = None,
    db: Annotated[Path | None, typer.Option(help="改为汇总这个语料库（gongkai batch 生成的 DuckDB）")] = None,
    html: Annotated[Path, typer.Option("--html", help="输出的 HTML 文件")] = Path("gongkai-report.html"),
) -> None:
    """生成一个独立的 HTML 审阅报告（表格、发现、图表都在一个文件里，无需联网）。"""
    from gongkai.export.html import write_html

    if not files and db is None:
        fail("请给出报告文件，或用 --db 指定语料库")
        raise typer.Exit(2)
    typer.echo(write_html(html, files=files or [], db=db))
