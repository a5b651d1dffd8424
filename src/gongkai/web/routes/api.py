"""The REST API (OpenAPI at /openapi.json, described in Chinese at /docs).

A user limited to a region reads through `scope` like every page: their reports, findings and statistics only."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse

from gongkai.errors import GongkaiError
from gongkai.read import READERS
from gongkai.read.sniff import sniff
from gongkai.report import Report
from gongkai.review import PermissionDenied, can_submit
from gongkai.views import as_list, corpus_view, store_columns
from gongkai.web.context import Web, outcome, user_of, web
from gongkai.web.jobs import QueueFull, display_name
from gongkai.web.models import FindingRow, Job, ReportSummary, RuleStat, Stats, YearStat
from gongkai.web.routes.reports import own_jobs, read_upload
from gongkai.web.scope import check_read, corpus_con, visible

router = APIRouter()
W = Annotated[Web, Depends(web)]


@router.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def api_docs(request: Request, w: W):
    spec = request.app.openapi()
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
    return w.page(request, "api.html", routes=routes, schemas=sorted(spec.get("components", {}).get("schemas", {})))


@router.get("/api/jobs", response_model=list[Job], tags=["上传"])
def job_status(request: Request, w: W, ids: str = Query("", description="逗号分隔的 sha256")):
    """上传文件的解析状态（网页轮询用；只列出自己上传的）。"""
    return own_jobs(user_of(request), w.queue.status([i for i in ids.split(",") if i]))


@router.post("/api/parse", response_model=Report, tags=["报告"], responses={503: {"description": "排队的文件已满"}})
async def api_parse(request: Request, w: W, file: Annotated[UploadFile, File(description="一份报告（任何 gongkai 能读的格式）")]):
    """解析一份报告，返回 docs/output.md 第 1 节规定的 JSON（同时存入语料库）。与上传共用一个有上限的队列：已满时返回 503。"""
    user = user_of(request)
    if not can_submit(user):
        raise PermissionDenied("只读用户不能上传报告")
    w.queue.admit()  # before the bytes are read: a full queue holds no upload in memory
    handed = False  # the place is the job's once parse_now has it
    try:
        content = await read_upload(w, file)
        name = display_name(file.filename)
        fmt = sniff(content, name)
        if fmt not in READERS:
            raise HTTPException(415, f"不支持的文件类型（按内容判断为 {fmt}）")
        cancelled = threading.Event()
        handed = True
        job = w.queue.parse_now(content, name, cancelled, reserved=True, by=user.name)
    except BaseException:
        if not handed:
            w.queue.release(1)
        raise
    try:
        return await outcome(request, job, cancelled)
    except QueueFull:
        raise
    except GongkaiError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/api/reports", response_model=list[ReportSummary], tags=["报告"])
def api_reports(request: Request, w: W, year: int | None = None, region: str | None = None, body_type: str | None = None):
    """所有报告的摘要（机关、年度、错误与警告数），错误多的在前（区划受限的用户只看到本区划的）。"""
    rows, error = w.all_summaries({"year": year, "region": region, "body_type": body_type}, visible=visible(w, user_of(request)))
    if error:
        raise HTTPException(503, error)
    return rows


@router.get("/api/reports/{sha}", response_model=Report, tags=["报告"])
def api_report(request: Request, sha: str, w: W):
    """一份报告的完整 JSON（docs/output.md 第 1 节）。"""
    check_read(w, user_of(request), sha)
    return w.report_or_404(sha)


@router.get("/api/findings", response_model=list[FindingRow], tags=["发现"])
def api_findings(request: Request, w: W, sha256: str | None = None, rule: str | None = None, severity: str | None = None,
                 limit: int = Query(1000, ge=1, le=100000)):  # fmt: skip
    """语料库中的发现（包括跨年度规则 corpus.*）；审核状态见 /findings.json。"""
    user = user_of(request)
    if sha256:
        check_read(w, user, sha256)
    out: list[dict] = []
    if w.settings.store.exists():
        with corpus_con(w, user) as con:
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
        report = w.load(sha256)
        if report is not None:
            out = [{"sha256": sha256, **f.model_dump()} for f in report.findings
                   if (not rule or f.rule == rule) and (not severity or f.severity == severity)]
    return out


@router.get("/api/stats", response_model=Stats, tags=["语料库"])
def api_stats(request: Request, w: W, year: int | None = None, region: str | None = None, body_type: str | None = None):
    """语料库统计：报告数、错误与警告数、各年度新收申请、各规则的发现数。"""
    with corpus_con(w, user_of(request)) as con:
        view = corpus_view(con, {"year": year, "region": region, "body_type": body_type}, limit=1)
        by_rule = []
        if store_columns(con, "findings"):
            by_rule = [RuleStat(rule=r, severity=s, count=n) for r, s, n in con.execute(
                "SELECT rule, severity, count(*) FROM findings GROUP BY 1, 2 ORDER BY 3 DESC").fetchall()]
    by_year = [YearStat(**y) for y in view.by_year]
    return Stats(reports=view.n_reports, errors=view.n_errors, warnings=view.n_warnings, by_year=by_year, by_rule=by_rule)
