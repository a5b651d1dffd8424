"""What every command module shares: the typer app (with the conventions of conventions.py), option
types, one-line failures, guarded parsing, `-` for standard input."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.conventions import CONTEXT, Group, show_version
from gongkai.errors import GongkaiError

app = typer.Typer(
    cls=Group,
    context_settings=CONTEXT,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="gongkai（公开）：把政府信息公开工作年度报告变成核验过的结构化数据。",
)


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", help="显示版本并退出", is_eager=True, callback=show_version)] = False,
) -> None:
    """gongkai（公开）：把政府信息公开工作年度报告变成核验过的结构化数据。"""


STDIN = Path("-")
Files = Annotated[list[Path], typer.Argument(metavar="文件", help="报告文件（txt、html、md、docx、doc、pdf、图片）；- 表示从标准输入读取")]


def facts_table(title: str, facts):
    """A run's figures as a table of two columns: each name in bold, its value on the right."""
    from rich.table import Table

    table = Table(title=title, show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    for name, value in facts:
        table.add_row(name, str(value))
    return table


def fail(message: str) -> None:
    """One clear line on stderr (never a traceback)."""
    typer.echo(f"gongkai: {message}", err=True)


Db = Annotated[Path, typer.Option("--db", help="gongkai batch 生成的数据库")]
Timeout = Annotated[float, typer.Option("--timeout", help="每份文档的解析时限（秒；扫描件每多识别一页另加 90 秒）")]
MemoryMB = Annotated[int, typer.Option("--memory-mb", help="每份文档的内存上限（MB）")]


def parse_each(files: list[Path], seconds: float, memory_mb: int):
    """Each file's report (parsed in a child process under the limits), or None after one line
    on stderr saying why it could not be read."""
    from gongkai.limits import Limits, parse_guarded

    if files.count(STDIN) > 1:
        raise GongkaiError("「-」（标准输入）只能给一次")
    limits = Limits(seconds=seconds, memory_mb=memory_mb)
    for path in files:
        try:
            if path == STDIN:
                yield parse_guarded(read_stdin(limits.memory_mb), name="-", limits=limits)
            else:
                yield parse_guarded(path, limits=limits)
        except GongkaiError as exc:
            fail(f"{'标准输入' if path == STDIN else path}: {exc}")
            yield None


def read_stdin(limit_mb: int) -> bytes:
    """The bytes piped in (`gongkai parse - < 报告.pdf`), refused past the memory cap of a parse."""
    from gongkai.errors import LimitExceededError

    data = sys.stdin.buffer.read(limit_mb * 1024 * 1024 + 1)
    if len(data) > limit_mb * 1024 * 1024:
        raise LimitExceededError(f"标准输入超过 {limit_mb} MB")
    if not data:
        raise GongkaiError("没有读到任何内容")
    return data


@contextmanager
def existing_store(db: Path):
    """A store that must already exist (made by `gongkai batch`), opened for reading and writing review data."""
    from gongkai.errors import GongkaiError
    from gongkai.store import Store

    if not db.exists():
        raise GongkaiError(f"{db}：数据库不存在（先运行 gongkai batch）")
    if not db.is_file():
        raise GongkaiError(f"{db}：不是数据库文件")
    with Store(db) as store:
        yield store


def print_json(data) -> None:
    import json

    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))

