"""The reviewer web app: a thin FastAPI skin over gongkai.parse, the views and the corpus store.

Safe for a shared server: uploads are limited in size and count, judged by content (sniff),
stored under their sha256 in the server's data directory, parsed in a child process under a time
limit (on a thread pool, so the server stays responsive), and every value is escaped by Jinja2.

The state every route shares is `web.context.Web`; the routes are one router per area (`web/routes/`).
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from gongkai.audit.roster import RosterError
from gongkai.errors import GongkaiError, LimitExceededError, UnreadableError
from gongkai.review.model import PermissionDenied, ReviewError
from gongkai.web.context import Settings, Web, wants_json
from gongkai.web.guard import install_guard
from gongkai.web.jobs import Parser, QueueFull
from gongkai.web.routes import ROUTERS

__all__ = ["Settings", "create_app", "serve"]


def create_app(settings: Settings, parser: Parser | None = None) -> FastAPI:
    """The app for one data directory and store; `parser(data, name=…, limits=…)` parses one file.

    By default that is `parse_guarded` in spawned worker processes (time limit and memory cap).
    """
    state = Web(settings, parser)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        from gongkai.web.connections import quiet_accept_errors

        quiet_accept_errors(asyncio.get_running_loop())
        yield
        state.queue.shutdown()

    # /docs is our own page over openapi.json: Swagger UI would load its assets from a CDN
    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, title="gongkai 审阅", version="1",
                  description="政府信息公开工作年度报告的解析与核验 API（输出格式见 output.md）")
    app.state.settings = settings
    app.state.web = state
    app.state.executor = state.queue.executor
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")
    install_guard(app, settings, state.sessions, state.identity)

    @app.exception_handler(QueueFull)
    async def queue_full(_request: Request, exc: QueueFull):
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "10"})

    # the audit's and review's errors, wherever a route lets one through: a Chinese line, never a 500
    for kind, status in ((PermissionDenied, 403), (ReviewError, 400), (RosterError, 400), (LimitExceededError, 422),
                         (UnreadableError, 422), (GongkaiError, 404)):  # fmt: skip
        app.add_exception_handler(kind, _answer(state, status))

    for router in ROUTERS:
        app.include_router(router)
    return app


def _answer(state: Web, status: int):
    """The handler that answers an error of the domain with `status`: JSON, or the error page."""

    async def handler(request: Request, exc: Exception):
        if wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=status)
        titles = {403: "无权进行这项操作", 404: "没有找到", 422: "无法处理这个文件"}
        return state.page(request, "error.html", status_code=status, title=titles.get(status, "无法完成"), message=str(exc))

    return handler


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with uvicorn (what `gongkai serve` calls)."""
    import uvicorn

    from gongkai.web.connections import guarded_http, open_files_limit

    # keep-alive longer than a parse takes: a client sending its next request as the server
    # closes an idle connection would otherwise see the connection reset
    # connections are accepted a backlog at a time before any is looked at: the cap leaves room for one
    room = open_files_limit()
    backlog = max(8, min(128, room // 4))
    http = guarded_http(settings.header_timeout, room - backlog)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_keep_alive=75, http=http, backlog=backlog)
