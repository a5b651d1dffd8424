"""The reviewer web app: a thin FastAPI skin over gongkai.parse, the views and the corpus store.

Safe for a shared server: uploads are limited in size and count, judged by content (sniff),
stored under their sha256 in the server's data directory, parsed in a child process under a time
limit (on a thread pool, so the server stays responsive), and every value is escaped by Jinja2.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import multiprocessing as mp
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from fastapi import FastAPI, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader
from pydantic import BaseModel

from gongkai.errors import GongkaiError, UnreadableError
from gongkai.limits import Limits, die_with_parent, parse_guarded
from gongkai.read import READERS
from gongkai.read.sniff import sniff
from gongkai.report import Report
from gongkai.views import (
    BODY_TYPE_ZH,
    as_list,
    corpus_view,
    list_reports,
    report_view,
    source_lines,
    store_columns,
    stored_report,
)
from gongkai.web.downloads import report_xlsx
from gongkai.web.pages import page_scale, render_page_png
from gongkai.web.storage import DataDir, add_to_store, is_sha256, open_store

TOKEN_COOKIE = "gongkai_token"
STATUS_ZH = {"queued": "排队中", "parsing": "解析中", "done": "完成", "failed": "失败"}
Parser = Callable[..., Report]


@dataclass
class Settings:
    data_dir: Path
    db: Path | None = None  # default: data_dir/corpus.duckdb
    token: str | None = None
    max_upload_mb: float = 20
    max_files: int = 50
    limits: Limits = field(default_factory=lambda: Limits(seconds=60, memory_mb=2048))
    workers: int = 2
    max_queue: int = 200  # files waiting or being parsed; past that an upload is refused (503)

    @property
    def store(self) -> Path:
        return Path(self.db) if self.db else Path(self.data_dir) / "corpus.duckdb"

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)


# ── API models (the report itself is gongkai.report.Report) ──────────────────────────────


class Job(BaseModel):
    id: str  # the sha256 of the uploaded bytes; also the report's id once parsed
    name: str
    status: str  # queued | parsing | done | failed
    status_zh: str = ""
    format: str | None = None
    message: str = ""
    errors: int | None = None
    warnings: int | None = None


class ReportSummary(BaseModel):
    sha256: str
    path: str | None = None
    agency: str | None = None
    year: int | None = None
    published: str | None = None
    template: str | None = None
    body_type: str | None = None
    region: str | None = None
    errors: int = 0
    warnings: int = 0


class FindingRow(BaseModel):
    sha256: str
    rule: str
    severity: str
    origin: str | None = None
    message: str
    cells: list[str] = []


class YearStat(BaseModel):
    year: int
    reports: int
    requests_received: float


class RuleStat(BaseModel):
    rule: str
    severity: str
    count: int


class Stats(BaseModel):
    reports: int
    errors: int
    warnings: int
    by_year: list[YearStat]
    by_rule: list[RuleStat]


def summary_of(report: Report) -> dict:
    m = report.meta
    return {"sha256": report.source.sha256, "path": report.source.path, "agency": m.agency, "year": m.year,
            "published": m.published, "template": m.template, "body_type": m.body_type, "region": m.region,
            "errors": len(report.errors), "warnings": len(report.warnings),
            "body_type_zh": BODY_TYPE_ZH.get(m.body_type or "", m.body_type or "")}


def _display_name(filename: str | None) -> str:
    """The client's file name, for display only (never a path on the server)."""
    name = (filename or "未命名").replace("\\", "/").rsplit("/", 1)[-1].strip() or "未命名"
    return "".join(ch for ch in name if ch.isprintable())[:200]


def _parse_in_worker(content: bytes, name: str, seconds: float, memory_mb: int) -> str:
    """Runs in a spawned worker: parse_guarded forks its child from a single-threaded process."""
    return parse_guarded(content, name=name, limits=Limits(seconds=seconds, memory_mb=memory_mb)).to_json()


class GuardedParser:
    """parse_guarded, called from spawned worker processes.

    Forking straight from the server (threads, DuckDB, uvicorn) can leave the child holding a
    lock some other thread had at the fork, and hang until the time limit; a spawned worker is
    single-threaded, so its fork is clean.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self.lock = threading.Lock()
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent)

    def __call__(self, content: bytes, *, name: str, limits: Limits) -> Report:
        with self.lock:
            pool = self.pool
        try:
            payload = pool.submit(_parse_in_worker, content, name, limits.seconds, limits.memory_mb).result()
        except BrokenProcessPool:
            with self.lock:
                if self.pool is pool:
                    self.pool = self._new_pool()
            raise UnreadableError("解析进程异常退出") from None
        return Report.model_validate_json(payload)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


def create_app(settings: Settings, parser: Parser | None = None) -> FastAPI:
    """The app for one data directory and store; `parser(data, name=…, limits=…)` parses one file.

    By default that is `parse_guarded` in spawned worker processes (time limit and memory cap).
    """
    data = DataDir(settings.data_dir)
    executor = ThreadPoolExecutor(max_workers=settings.workers + 2, thread_name_prefix="gongkai")
    guarded = GuardedParser(settings.workers) if parser is None else None
    parser = parser or guarded
    jobs: OrderedDict[str, Job] = OrderedDict()
    jobs_lock = threading.Lock()
    summaries: dict[str, dict] = {}

    env = Environment(loader=PackageLoader("gongkai.web", "templates"), autoescape=True)
    env.globals["body_type_zh"] = BODY_TYPE_ZH
    templates = Jinja2Templates(env=env)

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        executor.shutdown(wait=False, cancel_futures=True)
        if guarded is not None:
            guarded.shutdown()

    # /docs is our own page over openapi.json: Swagger UI would load its assets from a CDN
    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, title="gongkai 审阅", version="1", description="政府信息公开工作年度报告的解析与核验 API（输出格式见 output.md）")
    app.state.settings = settings
    app.state.executor = executor
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "static")), name="static")

    def link(sha: str) -> str:
        return f"/reports/{sha}"

    def page(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"link": link, **context}, status_code=status_code)

    # ── access token and request size ───────────────────────────────────────────────────

    def token_ok(supplied: str | None) -> bool:
        return bool(supplied) and hmac.compare_digest(supplied.encode(), settings.token.encode())

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path = request.url.path
        if settings.token and not path.startswith("/static/") and path != "/login":
            auth = request.headers.get("authorization", "")
            header = auth[7:] if auth.lower().startswith("bearer ") else request.headers.get("x-gongkai-token")
            via_query = request.query_params.get("token")
            if not (token_ok(header) or token_ok(request.cookies.get(TOKEN_COOKIE)) or token_ok(via_query)):
                if path.startswith("/api/") or path in ("/upload", "/openapi.json") or "json" in request.headers.get("accept", ""):
                    return JSONResponse({"detail": "需要访问令牌"}, status_code=401)
                return RedirectResponse(f"/login?next={path}", status_code=303)
            if token_ok(via_query):
                response = await call_next(request)
                response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
                return response
        if request.method == "POST" and path in ("/upload", "/api/parse"):
            length = request.headers.get("content-length")
            files = settings.max_files if path == "/upload" else 1
            cap = files * settings.max_upload_bytes + 1024 * 1024
            if length is None or not length.isdigit():
                return JSONResponse({"detail": "请求缺少 Content-Length"}, status_code=411)
            if int(length) > cap:
                return JSONResponse({"detail": f"上传过大：每个文件不超过 {settings.max_upload_mb:g} MB，一次最多 {settings.max_files} 个"},
                                    status_code=413)
        return await call_next(request)

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, next: str = "/"):
        return page(request, "login.html", next=next if next.startswith("/") else "/", failed=False)

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await request.form(max_files=0, max_fields=5)
        token, target = str(form.get("token", "")), str(form.get("next", "/"))
        if not settings.token or not token_ok(token):
            return page(request, "login.html", status_code=401, next=target, failed=True)
        response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", status_code=303)
        response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
        return response

    # ── parsing ─────────────────────────────────────────────────────────────────────────

    def run_parse(content: bytes, name: str) -> Report:
        report = parser(content, name=name, limits=settings.limits)
        data.save_report(report)
        summaries[report.source.sha256] = summary_of(report)
        add_to_store(settings.store, report)
        return report

    def work(job: Job, content: bytes) -> None:
        job.status, job.status_zh = "parsing", STATUS_ZH["parsing"]
        try:
            report = run_parse(content, job.name)
            job.errors, job.warnings = len(report.errors), len(report.warnings)
        except GongkaiError as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 — the server must go on; the reviewer sees one line
            if data.load_report(job.id) is not None:
                job.status, job.message = "done", f"已解析，但未能写入语料库（{type(exc).__name__}: {exc}）"
            else:
                job.status, job.message = "failed", f"解析出错（{type(exc).__name__}）"
        else:
            job.status = "done"
        job.status_zh = STATUS_ZH[job.status]

    async def read_upload(upload: UploadFile) -> bytes:
        if upload.size is not None and upload.size > settings.max_upload_bytes:
            raise HTTPException(413, f"文件「{_display_name(upload.filename)}」超过 {settings.max_upload_mb:g} MB")
        content = await upload.read(settings.max_upload_bytes + 1)
        if len(content) > settings.max_upload_bytes:
            raise HTTPException(413, f"文件「{_display_name(upload.filename)}」超过 {settings.max_upload_mb:g} MB")
        return content

    def accept(content: bytes, filename: str | None) -> Job:
        name = _display_name(filename)
        fmt = sniff(content, name)
        sha = hashlib.sha256(content).hexdigest()
        job = Job(id=sha, name=name, status="queued", status_zh=STATUS_ZH["queued"], format=fmt)
        if fmt not in READERS:
            job.id, job.status, job.status_zh = "", "failed", STATUS_ZH["failed"]
            job.message = f"不支持的文件类型（按内容判断为 {fmt}）"
            return job
        with jobs_lock:
            existing = jobs.get(sha)
            if existing and existing.status in ("queued", "parsing"):
                return existing
            if data.load_report(sha) is not None:
                job.status, job.status_zh, job.message = "done", STATUS_ZH["done"], "此前已解析过"
            jobs[sha] = job
            jobs.move_to_end(sha)
            while len(jobs) > 500:
                jobs.popitem(last=False)
        if job.status == "queued":
            data.save_file(sha, content)
            executor.submit(work, job, content)
        return job

    @app.post("/upload", response_model=list[Job] | dict, include_in_schema=False)
    async def upload(request: Request):
        form = await request.form(max_files=settings.max_files + 1, max_fields=10)
        uploads = [f for f in form.getlist("files") if not isinstance(f, str)]
        if not uploads:
            raise HTTPException(400, "没有收到文件")
        if len(uploads) > settings.max_files:
            raise HTTPException(413, f"一次最多上传 {settings.max_files} 个文件")
        with jobs_lock:
            waiting = sum(j.status in ("queued", "parsing") for j in jobs.values())
        if waiting + len(uploads) > settings.max_queue:
            raise HTTPException(503, f"服务器正忙：已有 {waiting} 个文件在排队解析，请稍后再上传")
        contents = [(await read_upload(u), u.filename) for u in uploads]
        accepted = [accept(c, n) for c, n in contents]
        if "application/json" in request.headers.get("accept", ""):
            return {"jobs": [j.model_dump() for j in accepted]}
        return RedirectResponse("/", status_code=303)

    @app.get("/api/jobs", response_model=list[Job], tags=["上传"])
    def job_status(ids: str = Query("", description="逗号分隔的 sha256")):
        """上传文件的解析状态（网页轮询用）。"""
        wanted = [i for i in ids.split(",") if i]
        with jobs_lock:
            return [jobs[i] for i in wanted if i in jobs]

    @app.post("/api/parse", response_model=Report, tags=["报告"])
    async def api_parse(file: Annotated[UploadFile, File(description="一份报告（任何 gongkai 能读的格式）")]):
        """解析一份报告，返回 output.md 规定的 JSON（同时存入语料库）。"""
        content = await read_upload(file)
        name = _display_name(file.filename)
        fmt = sniff(content, name)
        if fmt not in READERS:
            raise HTTPException(415, f"不支持的文件类型（按内容判断为 {fmt}）")
        sha = hashlib.sha256(content).hexdigest()
        data.save_file(sha, content)
        try:
            report = await asyncio.get_running_loop().run_in_executor(executor, run_parse, content, name)
        except GongkaiError as exc:
            raise HTTPException(422, str(exc)) from None
        return report

    # ── reading reports back ───────────────────────────────────────────────────────────

    def load(sha: str) -> Report | None:
        if not is_sha256(sha):
            return None
        report = data.load_report(sha)
        if report is None and settings.store.exists():
            with open_store(settings.store) as con:
                report = stored_report(con, sha)
        return report

    def all_summaries(filters: dict | None = None) -> tuple[list[dict], str]:
        """Reports of the store, plus uploads whose store write failed; and a store error, if any."""
        rows, error = [], ""
        if settings.store.exists():
            try:
                with open_store(settings.store) as con:
                    rows = list_reports(con, filters)
            except Exception as exc:  # noqa: BLE001 — a locked or foreign file must not take the page down
                error = f"语料库暂时无法读取（{type(exc).__name__}）"
        seen = {r["sha256"] for r in rows}
        for sha in data.report_shas():
            if sha in seen:
                continue
            if sha not in summaries:
                report = data.load_report(sha)
                if report is None:
                    continue
                summaries[sha] = summary_of(report)
            s = summaries[sha]
            if all(filters is None or v in (None, "") or str(s.get(k)) == str(v) for k, v in (filters or {}).items()):
                rows.append(s)
        return rows, error

    def report_or_404(sha: str) -> Report:
        report = load(sha)
        if report is None:
            raise HTTPException(404, "没有这份报告")
        return report

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request):
        rows, error = all_summaries()
        with jobs_lock:
            recent = list(reversed(jobs.values()))[:50]
        return page(request, "index.html", reports=rows, jobs=recent, store_error=error,
                    max_upload_mb=f"{settings.max_upload_mb:g}", max_files=settings.max_files)

    @app.get("/reports/{sha}.json", include_in_schema=False)
    def download_json(sha: str):
        report = report_or_404(sha)
        return Response(report.to_json(indent=2), media_type="application/json",
                        headers={"Content-Disposition": f'attachment; filename="{sha}.json"'})

    @app.get("/reports/{sha}.xlsx", include_in_schema=False)
    def download_xlsx(sha: str):
        report = report_or_404(sha)
        return Response(report_xlsx(report), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{sha}.xlsx"'})

    @lru_cache(maxsize=32)
    def lines_of(sha: str) -> dict[int, str]:
        path = data.file_path(sha)
        if not path.exists():
            return {}
        try:
            return source_lines(path.read_bytes())
        except GongkaiError:
            return {}

    @app.get("/reports/{sha}/source", include_in_schema=False)
    async def source(sha: str, line: int = Query(..., ge=1), context: int = Query(3, ge=0, le=20)):
        if not is_sha256(sha):
            raise HTTPException(404, "没有这份报告")
        lines = await asyncio.get_running_loop().run_in_executor(executor, lines_of, sha)
        return {"lines": [[n, lines[n]] for n in range(line - context, line + context + 1) if n in lines]}

    @app.get("/reports/{sha}/pages/{number}.png", include_in_schema=False)
    async def page_image(sha: str, number: int):
        if not is_sha256(sha) or not data.file_path(sha).exists():
            raise HTTPException(404, "没有这份报告的原文件")
        cached = data.root / "pages" / f"{sha}-{number}.png"
        if not cached.exists():
            content = data.file_path(sha).read_bytes()
            try:
                png = await asyncio.get_running_loop().run_in_executor(executor, render_page_png, content, number)
            except GongkaiError as exc:
                raise HTTPException(404, str(exc)) from None
            cached.parent.mkdir(exist_ok=True)
            cached.write_bytes(png)
        return Response(cached.read_bytes(), media_type="image/png")

    @app.get("/reports/{sha}", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, sha: str):
        report = load(sha)
        if report is None:
            return page(request, "error.html", status_code=404, title="没有这份报告", message="这份报告不存在，或已被删除。")
        view = report_view(report)
        return page(request, "report.html", v=view, scale=page_scale(report.source.format))

    @app.get("/corpus", response_class=HTMLResponse, include_in_schema=False)
    def corpus(request: Request, year: str = "", region: str = "", body_type: str = ""):
        filters = {"year": year if year.isdigit() else "", "region": region, "body_type": body_type}
        error = ""
        try:
            with open_store(settings.store) as con:
                view = corpus_view(con, filters)
        except Exception as exc:  # noqa: BLE001
            error = f"语料库暂时无法读取（{type(exc).__name__}）"
            with open_store(Path(":memory:")) as con:
                view = corpus_view(con, {})
        return page(request, "corpus.html", c=view, store_error=error, db_name=settings.store.name)

    # ── REST API ────────────────────────────────────────────────────────────────────────

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request):
        spec = app.openapi()
        routes = []
        for path, methods in spec["paths"].items():
            for method, op in methods.items():
                params = [(p["name"], p["in"], p.get("required", False), p.get("description", "")) for p in op.get("parameters", [])]
                body = op.get("requestBody", {}).get("content", {})
                ok = op.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {}).get("schema", {})
                ref = ok.get("$ref") or ok.get("items", {}).get("$ref") or ""
                routes.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                               "description": op.get("description", ""), "params": params,
                               "body": ", ".join(body), "returns": ("列表：" if ok.get("type") == "array" else "") + ref.rsplit("/", 1)[-1]})
        return page(request, "api.html", routes=routes, schemas=sorted(spec.get("components", {}).get("schemas", {})))

    @app.get("/api/reports", response_model=list[ReportSummary], tags=["报告"])
    def api_reports(year: int | None = None, region: str | None = None, body_type: str | None = None):
        """所有报告的摘要（机关、年度、错误与警告数），错误多的在前。"""
        rows, error = all_summaries({"year": year, "region": region, "body_type": body_type})
        if error:
            raise HTTPException(503, error)
        return rows

    @app.get("/api/reports/{sha}", response_model=Report, tags=["报告"])
    def api_report(sha: str):
        """一份报告的完整 JSON（output.md）。"""
        return report_or_404(sha)

    @app.get("/api/findings", response_model=list[FindingRow], tags=["发现"])
    def api_findings(sha256: str | None = None, rule: str | None = None, severity: str | None = None,
                     limit: int = Query(1000, ge=1, le=100000)):
        """语料库中的发现（包括跨年度规则 corpus.*）。"""
        out: list[dict] = []
        if settings.store.exists():
            with open_store(settings.store) as con:
                if store_columns(con, "findings"):
                    clauses, params = [], []
                    for col, value in (("sha256", sha256), ("rule", rule), ("severity", severity)):
                        if value:
                            clauses.append(f"{col} = ?")
                            params.append(value)
                    where = " WHERE " + " AND ".join(clauses) if clauses else ""
                    cur = con.execute(f"SELECT sha256, rule, severity, origin, message, cells FROM findings{where} LIMIT {limit}", params)
                    for s, r, sev, o, m, c in cur.fetchall():
                        out.append({"sha256": s, "rule": r, "severity": sev, "origin": o, "message": m or "", "cells": as_list(c)})
        if not out and sha256:
            report = load(sha256)
            if report is not None:
                out = [{"sha256": sha256, **f.model_dump()} for f in report.findings
                       if (not rule or f.rule == rule) and (not severity or f.severity == severity)]
        return out

    @app.get("/api/stats", response_model=Stats, tags=["语料库"])
    def api_stats(year: int | None = None, region: str | None = None, body_type: str | None = None):
        """语料库统计：报告数、错误与警告数、各年度新收申请、各规则的发现数。"""
        with open_store(settings.store) as con:
            view = corpus_view(con, {"year": year, "region": region, "body_type": body_type}, limit=1)
            by_rule = []
            if store_columns(con, "findings"):
                by_rule = [RuleStat(rule=r, severity=s, count=n) for r, s, n in con.execute(
                    "SELECT rule, severity, count(*) FROM findings GROUP BY 1, 2 ORDER BY 3 DESC").fetchall()]
        by_year = [YearStat(**y) for y in view.by_year]
        return Stats(reports=view.n_reports, errors=view.n_errors, warnings=view.n_warnings, by_year=by_year, by_rule=by_rule)

    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the app with uvicorn (what `gongkai serve` calls)."""
    import uvicorn

    # keep-alive longer than a parse takes: a client sending its next request as the server
    # closes an idle connection would otherwise see the connection reset
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_keep_alive=75)
