"""The web app: serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import app


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="监听地址")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口")] = 8000,
    db: Annotated[Path | None, typer.Option(help="语料库 DuckDB 文件（默认在数据目录里）")] = None,
    data_dir: Annotated[Path, typer.Option(help="服务器数据目录：上传的文件与解析结果")] = Path("gongkai-data"),
    token: Annotated[str | None, typer.Option(envvar="GONGKAI_TOKEN", help="访问令牌（请求头、Cookie 或 ?token=）")] = None,
    max_upload_mb: Annotated[float, typer.Option(help="单个文件上限（MB）")] = 20,
    max_files: Annotated[int, typer.Option(help="一次上传的文件数上限")] = 50,
    timeout: Annotated[float, typer.Option(help="单个文件的解析时限（秒；扫描件每多识别一页另加 90 秒，在后台解析并显示进度）")] = 60,
) -> None:
    """启动审阅网页与 REST API（上传报告、查看标出问题的表格、语料库图表）。"""
    from gongkai.limits import Limits
    from gongkai.web.app import Settings
    from gongkai.web.app import serve as run_server

    run_server(Settings(data_dir=data_dir, db=db, token=token, max_upload_mb=max_upload_mb, max_files=max_files,
                        limits=Limits(seconds=timeout)), host=host, port=port)
