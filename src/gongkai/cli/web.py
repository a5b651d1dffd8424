"""The web app: serve."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import app
from gongkai.errors import GongkaiError


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
    memory_mb: Annotated[int, typer.Option(help="单个文件解析、页面图像与原文行的内存上限（MB）")] = 2048,
    max_queue: Annotated[int, typer.Option(help="排队或处理中的任务上限，超过即返回 503")] = 200,
    allowed_host: Annotated[list[str] | None, typer.Option(help="允许用来访问的域名（IP 地址与不带点的主机名总是允许），可重复")] = None,
    allowed_origin: Annotated[list[str] | None, typer.Option(help="允许提交表单的其他来源（如 https://example.gov.cn），可重复")] = None,
    header_timeout: Annotated[float, typer.Option(help="连接发送完请求头的时限（秒）")] = 10,
) -> None:
    """启动审阅网页与 REST API（上传报告、查看标出问题的表格、语料库图表）。"""
    from gongkai.limits import Limits
    from gongkai.web.app import Settings
    from gongkai.web.app import serve as run_server

    check_port(host, port)
    run_server(Settings(data_dir=data_dir, db=db, token=token, max_upload_mb=max_upload_mb, max_files=max_files,
                        limits=Limits(seconds=timeout, memory_mb=memory_mb), max_queue=max_queue,
                        allowed_hosts=tuple(allowed_host or ()), allowed_origins=tuple(allowed_origin or ()),
                        header_timeout=header_timeout), host=host, port=port)



def check_port(host: str, port: int) -> None:
    """Bind the address the server will take, as uvicorn does, and let it go: a port in use is one
    Chinese line here, before uvicorn would log its English error and a traceback."""
    import errno
    import socket

    if not 0 < port < 65536:
        raise GongkaiError(f"--port：端口须在 1–65535 之间（收到 {port}）")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except socket.gaierror:
        raise GongkaiError(f"--host：无法解析地址 {host}") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise GongkaiError(f"端口 {port} 已被占用（{host}:{port}）：先停掉占用它的程序，或用 --port 换一个端口") from None
        if exc.errno == errno.EACCES:
            raise GongkaiError(f"没有权限监听端口 {port}（1024 以下的端口需要管理员权限）：用 --port 换一个端口") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise GongkaiError(f"--host：本机没有地址 {host}") from None
        raise GongkaiError(f"无法监听 {host}:{port}（{exc.strerror or exc}）") from None
