"""What every route shares: the settings, the data directory, the parse queue, the templates and
how a report is found (the server's own parse, else the corpus store)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader
from starlette.requests import ClientDisconnect

from gongkai.limits import Limits
from gongkai.report import Report
from gongkai.review.accounts import ROLE_ZH, User
from gongkai.views import BODY_TYPE_ZH, list_reports, stored_report
from gongkai.web.identity import Identity
from gongkai.web.jobs import ParseQueue, Parser
from gongkai.web.models import summary_of
from gongkai.web.security import CSRF_FIELD, LoginThrottle, Sessions
from gongkai.web.storage import DataDir, _store_lock, is_sha256, open_store


@dataclass
class Settings:
    data_dir: Path
    db: Path | None = None  # default: data_dir/corpus.duckdb
    token: str | None = None
    max_upload_mb: float = 20
    max_files: int = 50
    limits: Limits = field(default_factory=lambda: Limits(seconds=60, memory_mb=2048))
    workers: int = 2
    max_queue: int = 200  # jobs waiting or running (parses, page images, source lines); past that a request is refused (503)
    allowed_hosts: tuple[str, ...] = ()  # domain names the server may be reached by (IP addresses and dotless names always)
    allowed_origins: tuple[str, ...] = ()  # other origins whose pages may POST to it ("https://portal.example.gov.cn")
    header_timeout: float = 10.0  # seconds a connection may take to send a request's headers (slowloris)

    @property
    def store(self) -> Path:
        return Path(self.db) if self.db else Path(self.data_dir) / "corpus.duckdb"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


class Web:
    """The server's state for one data directory and store."""

    def __init__(self, settings: Settings, parser: Parser | None = None):
        self.settings = settings
        self.data = DataDir(settings.data_dir)
        self.queue = ParseQueue(self.data, lambda: settings.store, settings.limits, settings.workers, parser, max_queue=settings.max_queue)
        self.sessions = Sessions(settings.data_dir, settings.token)
        self.identity = Identity(settings, self.sessions)
        self._schema_made: tuple | None = None  # (device, inode) of the store file whose tables this process made
        self.logins = (LoginThrottle(limit=5), LoginThrottle(limit=20))  # one account's failed logins; one client's across accounts
        env = Environment(loader=PackageLoader("gongkai.web", "templates"), autoescape=True)
        env.globals["body_type_zh"] = BODY_TYPE_ZH
        env.globals["role_zh"] = ROLE_ZH
        env.globals["csrf_field"] = CSRF_FIELD
        self.templates = Jinja2Templates(env=env)

    def page(self, request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        state = request.state
        common = {"link": report_link, "me": getattr(state, "user", None), "csrf": getattr(state, "csrf", ""),
                  "open_server": self.identity.is_open()}  # fmt: skip
        return self.templates.TemplateResponse(request, name, {**common, **context}, status_code=status_code)

    @contextlib.contextmanager
    def store(self):
        """A writable `Store` for the audit and review functions (they run their own transactions), one
        open at a time in this process; its tables are made by the first open of this file."""
        from gongkai.store import Store

        path = self.settings.store
        with _store_lock:
            identity = _file_identity(path)
            with Store(path, schema=identity is None or identity != self._schema_made) as store:
                self._schema_made = _file_identity(path)
                yield store

    def load(self, sha: str) -> Report | None:
        """A report by sha256: the server's own parse, else the store's rows."""
        if not is_sha256(sha):
            return None
        report = self.data.load_report(sha)
        if report is None and self.settings.store.exists():
            with open_store(self.settings.store) as con:
                report = stored_report(con, sha)
        return report

    def report_or_404(self, sha: str) -> Report:
        report = self.load(sha)
        if report is None:
            raise HTTPException(404, "没有这份报告")
        return report

    def all_summaries(self, filters: dict | None = None, *, visible: set[str] | None = None) -> tuple[list[dict], str]:
        """Reports of the store, plus uploads whose store write failed; and a store error, if any.

        `visible`: only these sha256 (a user limited to a region; `scope.visible`), None: every one."""
        rows, error = [], ""
        if self.settings.store.exists():
            try:
                with open_store(self.settings.store) as con:
                    rows = list_reports(con, filters)
            except Exception as exc:  # noqa: BLE001 — a locked or foreign file must not take the page down
                error = f"语料库暂时无法读取（{type(exc).__name__}）"
        seen = {r["sha256"] for r in rows}
        summaries = self.queue.summaries
        for sha in self.data.report_shas():
            if sha in seen:
                continue
            if sha not in summaries:
                report = self.data.load_report(sha)
                if report is None:
                    continue
                summaries[sha] = summary_of(report)
            s = summaries[sha]
            if all(filters is None or v in (None, "") or str(s.get(k)) == str(v) for k, v in (filters or {}).items()):
                rows.append(s)
        if visible is not None:
            rows = [r for r in rows if r["sha256"] in visible]
        return rows, error


async def outcome(request: Request, future: Future, cancelled: threading.Event | None = None):
    """The result of a queue job; a client that goes away first cancels it (a job not yet started
    never runs, a running one stops waiting for the worker) and ends its request quietly."""
    waiting = asyncio.wrap_future(future)
    while True:
        done, _ = await asyncio.wait({waiting}, timeout=0.5)
        if done:
            return waiting.result()
        if await request.is_disconnected():
            if cancelled is not None:
                cancelled.set()
            waiting.cancel()  # cancels the job if it has not started; its result, when it comes, is dropped
            raise ClientDisconnect()


def _file_identity(path: Path) -> tuple | None:
    try:
        stat = Path(path).stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def report_link(sha: str) -> str:
    return f"/reports/{sha}"


def user_of(request: Request) -> User:
    """The caller, as the guard found it (an open server's local user; never None past the guard)."""
    user = getattr(request.state, "user", None)
    if user is None:
        raise HTTPException(401, "需要登录或访问令牌")
    return user


def wants_json(request: Request) -> bool:
    """A JSON twin (`….json`), the API, a client that asks for JSON rather than a page, or one that sent JSON."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    sent = request.headers.get("content-type", "")
    return path.endswith(".json") or path.startswith("/api/") or ("json" in accept and "html" not in accept) or sent.startswith("application/json")


def web(request: Request) -> Web:
    """The route dependency: this app's `Web`."""
    return request.app.state.web
