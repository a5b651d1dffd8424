"""The command that collects reports from government websites: fetch (the only one that uses the network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import app, facts_table
from gongkai.errors import GongkaiError


@app.command()
def fetch(
    urls: Annotated[list[str] | None, typer.Argument(metavar="网址", help="年报栏目页网址（可多个）")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", metavar="目录", help="保存报告的目录（其中的 manifest.jsonl 记下每个网址的结果）")] = Path("fetched"),
    from_file: Annotated[Path | None, typer.Option("--from-file", metavar="文件", help="网址列表文件，每行一个（# 开头为注释）")] = None,
    follow_host: Annotated[list[str] | None, typer.Option("--follow-host", metavar="主机", help="报告所在的其他主机（如附件服务器），可多次给出")] = None,
    delay: Annotated[float, typer.Option("--delay", help="对同一主机两次请求的最小间隔（秒）")] = 1.0,
    per_host: Annotated[int, typer.Option("--per-host", help="对同一主机同时进行的请求数")] = 2,
    timeout: Annotated[float, typer.Option("--timeout", help="连接和读取的超时（秒）")] = 30.0,
    retries: Annotated[int, typer.Option("--retries", help="超时、连接中断、429 和 5xx 时的重试次数")] = 3,
    max_mb: Annotated[float, typer.Option("--max-mb", help="单个文件的大小上限（MB）")] = 200.0,
    max_pages: Annotated[int, typer.Option("--max-pages", help="每个栏目最多访问的列表页数")] = 500,
) -> None:
    """从政府网站的年报栏目采集报告：翻页、打开标题像年报的详情页，保存网页正文或附件（pdf、doc、docx、wps、ofd、图片）。

    只访问栏目所在的网站（及其 www 孪生域名）和 --follow-host 给出的主机；遵守 robots.txt，按主机限速、限并发，超时和 5xx 重试。

    目录中的 manifest.jsonl 边采集边记下每个网址的结果：再次运行只做条件请求，服务器说没变的不再下载；中断（包括 kill -9）后再运行即接着做。之后用 gongkai batch 目录 入库，每份报告记下来源网址。这是 gongkai 唯一联网的命令。
    """
    from gongkai.fetch import FetchOptions
    from gongkai.fetch import fetch as run_fetch

    addresses = list(urls or [])
    if from_file is not None:
        try:
            lines = from_file.read_text(encoding="utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise GongkaiError(f"{from_file}：无法读取网址列表（{getattr(exc, 'strerror', None) or exc}）") from None
        addresses += [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if not addresses:
        raise GongkaiError("请给出年报栏目页网址，或用 --from-file 给出网址列表")
    for name, value, least in (("--delay", delay, 0), ("--timeout", timeout, 0.1), ("--max-mb", max_mb, 0.001)):
        if value < least:
            raise GongkaiError(f"{name} 不能小于 {least:g}")
    for name, value in (("--per-host", per_host), ("--max-pages", max_pages)):
        if value < 1:
            raise GongkaiError(f"{name} 至少为 1")
    if retries < 0:
        raise GongkaiError("--retries 不能为负")
    options = FetchOptions(delay=delay, per_host=per_host, timeout=timeout, retries=retries, max_mb=max_mb,
                           max_pages=max_pages, follow_hosts=tuple(follow_host or ()))  # fmt: skip
    summary = run_fetch(addresses, out, options)
    _print_fetch(summary)
    if summary.list_pages == 0:
        raise typer.Exit(1)  # not one list page could be read: nothing was collected


def _print_fetch(summary) -> None:
    """The final table of a fetch run, then why links failed or were not requested."""
    from rich.console import Console

    console = Console()
    console.print(facts_table(f"gongkai fetch → {summary.folder}", (
        ("访问的列表页", summary.list_pages),
        ("访问的详情页", summary.detail_pages),
        ("找到的报告", summary.reports),
        ("下载（新的或有变化）", summary.downloaded),
        ("未变（服务器答 304 或内容相同）", summary.unchanged),
        ("失败", sum(summary.failed.values())),
        ("未请求的链接", sum(summary.skipped.values())),
        ("用时", f"{summary.seconds:.1f} 秒"),
    )))  # fmt: skip
    for title, counts in (("失败原因", summary.failed), ("未请求的原因", summary.skipped)):
        if counts:
            console.print(facts_table(title, counts.most_common()))
    for start in summary.truncated:
        console.print(f"提示：{start} 的列表页超过上限，后面的页未访问（--max-pages）", markup=False, highlight=False)
    if summary.failed or summary.skipped:
        console.print(f"每个网址的结果见 {Path(summary.folder) / 'manifest.jsonl'}", markup=False, highlight=False)
