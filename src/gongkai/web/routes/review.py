"""Review in the web app: findings with their status, decisions, corrections, versions and their
differences, the audit trail — each a call into gongkai.review with the caller as `by`/`user`, so
the region rules are the domain's. Every page has its JSON twin (`….json`); every write answers a
form with a redirect back and a script (Accept: application/json, or a JSON body) with JSON.

A correction reads the report's file again: it runs on the parse queue, and the file is parsed in
a guarded worker (`ParseQueue.reread`), never in the server process.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from gongkai.review import STATUS_ZH, correct_cells, decide, diff, history, list_findings, versions
from gongkai.review.model import ACTION_ZH
from gongkai.rules.catalog import ORIGIN_ZH
from gongkai.views import format_value
from gongkai.web.context import Web, user_of, wants_json, web
from gongkai.web.routes.accounts import safe_next
from gongkai.web.scope import check_read
from gongkai.web.storage import is_sha256

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]
MAX_FIELD = 2000  # a reason, a value: a paragraph at most


async def fields(request: Request) -> dict:
    """A write's fields: a JSON object, or a form's fields as text."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise HTTPException(400, "请求不是有效的 JSON") from None
        if not isinstance(data, dict):
            raise HTTPException(400, "请求须为 JSON 对象")
        return data
    form = await request.form(max_files=0, max_fields=20)
    return {k: str(v)[:MAX_FIELD] for k, v in form.items()}


def answered(request: Request, payload: dict, back: str):
    """JSON for a script, a redirect back for a form."""
    if wants_json(request):
        return JSONResponse(payload)
    return RedirectResponse(back, status_code=303)


# ── findings and decisions ──────────────────────────────────────────────────────────────────


@router.get("/findings", response_class=HTMLResponse)
@router.get("/findings.json")
def findings_page(request: Request, w: W, body: str = "", year: str = "", status: str = "", origin: str = "", rule: str = "",
                  report: str = ""):  # fmt: skip
    """The findings of every report the caller may read, with their status; filters as `gongkai findings`."""
    user = user_of(request)
    if report:
        check_read(w, user, report)
    with w.store() as store:
        rows = list_findings(store, body=body or None, year=int(year) if year.isdigit() else None, status=status or None,
                             origin=origin or None, rule=rule or None, report=report or None, user=user)  # fmt: skip
    if wants_json(request):
        return JSONResponse([r.to_dict() for r in rows])
    filters = {"body": body, "year": year, "status": status, "origin": origin, "rule": rule, "report": report}
    return w.page(request, "findings.html", rows=rows, filters=filters, statuses=STATUS_ZH, origins=ORIGIN_ZH)


@router.post("/findings/{finding_id}/decision")
async def decision(request: Request, finding_id: str, w: W):
    """确认、驳回（须写理由）或重新待核一条发现：立即提交，记入审计日志。"""
    user = user_of(request)
    data = await fields(request)

    def run():
        with w.store() as store:
            return decide(store, finding_id, str(data.get("status", "")), data.get("reason"), by=user)

    made = await asyncio.get_running_loop().run_in_executor(None, run)
    return answered(request, made.to_dict(), safe_next(str(data.get("next", "/findings"))))


# ── corrections ─────────────────────────────────────────────────────────────────────────────


@router.post("/reports/{sha}/corrections")
async def correction(request: Request, sha: str, w: W):
    """更正单元格：{"cells": {编号: 值}, "reason": 理由}，或表单的 cell_id、value、reason；报告得到新版本，按同一规则重新核验。"""
    user = user_of(request)
    if not is_sha256(sha):
        raise HTTPException(404, "没有这份报告")
    data = await fields(request)
    cells = data.get("cells")
    if not isinstance(cells, dict):
        cells = {str(data.get("cell_id", "")): data.get("value")}
    source = w.data.file_path(sha)

    def run():
        with w.store() as store:
            return correct_cells(store, sha, cells, str(data.get("reason") or ""), by=user,
                                 source=source if source.exists() else None, reread=w.queue.reread)  # fmt: skip

    made = await asyncio.wrap_future(w.queue.submit(run))  # counted in the one bounded queue; its parse in a guarded worker
    return answered(request, made.to_dict(), f"/reports/{sha}")


# ── versions, differences, history ──────────────────────────────────────────────────────────


@router.get("/reports/{sha}/versions", response_class=HTMLResponse)
@router.get("/reports/{sha}/versions.json")
def versions_page(request: Request, sha: str, w: W):
    user = user_of(request)
    check_read(w, user, sha)
    with w.store() as store:
        every = versions(store, sha)
    if wants_json(request):
        return JSONResponse([v.to_dict() for v in every])
    return w.page(request, "versions.html", sha=sha, versions=every)


@router.get("/reports/{sha}/diff", response_class=HTMLResponse)
@router.get("/reports/{sha}/diff.json")
def diff_page(request: Request, sha: str, w: W, old: int | None = None, new: int | None = None):
    """Two versions of a report side by side (by default the current one and the one before): cells and findings."""
    user = user_of(request)
    check_read(w, user, sha)
    with w.store() as store:
        result = diff(store, sha, old, new)
        every = versions(store, sha)
    if wants_json(request):
        return JSONResponse(result.to_dict())
    return w.page(request, "diff.html", sha=sha, d=result, versions=every, fmt=format_value)


@router.get("/history", response_class=HTMLResponse)
@router.get("/history.json")
def history_page(request: Request, w: W, report: str = "", action: str = "", limit: int = 1000):
    """The audit trail (who, when, what, old and new value, why): everything the caller may read, or one report's."""
    user = user_of(request)
    if report:
        check_read(w, user, report)
    with w.store() as store:
        entries = history(store, report or None, user=user, action=action or None, limit=max(1, min(limit, 100_000)))
    if wants_json(request):
        return JSONResponse([e.to_dict() for e in entries])
    return w.page(request, "history.html", entries=list(reversed(entries)), report=report, action=action, actions=ACTION_ZH)
