"""What every command module shares: the typer app, option types, one-line failures, guarded parsing."""

from __future__ import annotations

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


Timeout = Annotated[float, typer.Option("--timeout", help="每份文档的解析时限（秒；扫描件每多识别一页另加 90 秒）")]
MemoryMB = Annotated[int, typer.Option("--memory-mb", help="每份文档的内存上限（MB）")]


def parse_each(files: list[Path], seconds: float, memory_mb: int):
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


