"""The January audit in the web app: coverage of a year with the region tree and drill-down, a
region's summary, the roster (import, tree, uncertain matches to confirm), and rectification
notices — each a call into gongkai.audit with the caller as `user`, so a reviewer sees and writes
to the bodies of their region only. Every page has its JSON twin (`….json`).

A notice is laid out (.docx, and .pdf through LibreOffice) in a guarded worker on the parse queue,
never in the server process; issuing one is a write (a POST with the CSRF token) because it goes
into the audit trail.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from gongkai.audit import (
    COUNT_ZH,
    REVIEW_ZH,
    STATUS_ZH,
    TYPE_ZH,
    RosterError,
    build_notice,
    build_notices,
    confirm_match,
    coverage,
    has_roster,
    import_roster,
    notice_file_name,
    pending_matches,
    record_notices,
    render_notice,
    summary,
    totals,
    tree,
)
from gongkai.audit.notice import values_text, where_text
from gongkai.limits import Limits
from gongkai.review import PermissionDenied, can_manage_users, can_submit
from gongkai.web.context import Web, user_of, wants_json, web
from gongkai.web.jobs import display_name
from gongkai.web.routes.review import fields

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]
KINDS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf"}
MAX_ROSTER_BYTES = 5 * 1024 * 1024
SECONDS_PER_PDF = 20  # LibreOffice's conversion of one notice on a busy machine, with room


def _year(store, year: str) -> int:
    """The year asked for, or the latest report year the store has (this year's audit is of last year's reports)."""
    if year.isdigit():
        return int(year)
    latest = store.con.execute("SELECT max(year) FROM reports").fetchall()[0][0]
    return int(latest) if latest else date.today().year - 1


def _admin(request: Request, what: str):
    user = user_of(request)
    if not can_manage_users(user):
        raise PermissionDenied(f"只有管理员可以{what}")
    return user


# ── coverage and summary ────────────────────────────────────────────────────────────────────


@router.get("/audit", response_class=HTMLResponse)
@router.get("/audit.json")
def coverage_page(request: Request, w: W, year: str = "", region: str = "", status: str = "", body_type: str = ""):
    """名单中每个机关某年度的报告：按时、逾期或未发布，错误、警告与异常数，审核状态；按区划汇总；可按状态、区划、机关类型筛选。"""
    user = user_of(request)
    with w.store() as store:
        y = _year(store, year)
        rows = coverage(store, y, region or None, user=user)
        pending = [m for m in pending_matches(store) if m.state == "uncertain" and y in m.years] if can_manage_users(user) else []
        roster = has_roster(store)
        years = [r[0] for r in store.con.execute("SELECT DISTINCT year FROM reports WHERE year IS NOT NULL ORDER BY year DESC").fetchall()]
    regions = totals(rows)  # the tree of the caller's bodies, before the status and type filters
    shown = [r for r in rows if (not status or r.status == status) and (not body_type or r.body_type == body_type)]
    if wants_json(request):
        return JSONResponse({"year": y, "region": region or None, "rows": [r.to_dict() for r in shown],
                             "totals": [t.to_dict() for t in regions], "pending_matches": [m.to_dict() for m in pending]})  # fmt: skip
    filters = {"year": y, "region": region, "status": status, "body_type": body_type}
    return w.page(request, "audit.html", rows=shown, all_rows=len(rows), totals=regions, years=years or [y], filters=filters,
                  pending=pending, roster=roster, status_zh=STATUS_ZH, review_zh=REVIEW_ZH, type_zh=TYPE_ZH,
                  may_issue=can_submit(user))  # fmt: skip


@router.get("/audit/summary", response_class=HTMLResponse)
@router.get("/audit/summary.json")
def summary_page(request: Request, w: W, year: str = "", region: str = ""):
    """一个区划某年度的汇总：发布、逾期、未发布、有错误、已整改；最常见的问题；与上年比较。"""
    user = user_of(request)
    with w.store() as store:
        result = summary(store, _year(store, year), region or None, user=user)
    if wants_json(request):
        return JSONResponse(result.to_dict())
    return w.page(request, "summary.html", s=result, count_zh=COUNT_ZH)


# ── the roster ──────────────────────────────────────────────────────────────────────────────


@router.get("/audit/roster", response_class=HTMLResponse)
@router.get("/audit/roster.json")
def roster_page(request: Request, w: W):
    """名单的区划树（省 → 市 → 县 → 乡镇街道；部门在本级政府之下）与导入表单。"""
    _admin(request, "查看和导入名单")
    with w.store() as store:
        roots = tree(store)
        from_roster = has_roster(store)
    if wants_json(request):
        return JSONResponse({"from_roster": from_roster, "tree": [r.to_dict() for r in roots]})
    return w.page(request, "roster.html", roots=roots, from_roster=from_roster, problems=None, imported=None)


@router.post("/audit/roster")
async def roster_import(request: Request, w: W):
    """导入名单（.csv 或 .xlsx，替换原名单）：任何一行有问题就一行也不导入，按行号列出问题。"""
    user = _admin(request, "导入名单")
    form = await request.form(max_files=1, max_fields=4)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise HTTPException(400, "没有收到名单文件")
    data = await upload.read(MAX_ROSTER_BYTES + 1)
    if len(data) > MAX_ROSTER_BYTES:
        raise HTTPException(413, f"名单文件超过 {MAX_ROSTER_BYTES // (1024 * 1024)} MB")
    name = display_name(upload.filename)

    def run():
        with w.store() as store:
            try:
                return import_roster(store, data, by=user.name, filename=name), None, tree(store), has_roster(store)
            except RosterError as exc:
                return None, str(exc), tree(store), has_roster(store)

    done, problems, roots, from_roster = await asyncio.get_running_loop().run_in_executor(None, run)
    if wants_json(request):
        if done is None:
            return JSONResponse({"detail": problems, "lines": problems.splitlines()[1:]}, status_code=400)
        return {"source": done.source, "count": done.count, "by_level": done.by_level()}
    return w.page(request, "roster.html", status_code=400 if done is None else 200, roots=roots, from_roster=from_roster,
                  problems=problems.splitlines() if problems else None, imported=done)  # fmt: skip


@router.get("/audit/matches", response_class=HTMLResponse)
@router.get("/audit/matches.json")
def matches_page(request: Request, w: W):
    """报告机关与名单对应不确定的（待确认）和名单中没有的。"""
    _admin(request, "确认机关对应")
    with w.store() as store:
        pending = pending_matches(store)
    if wants_json(request):
        return JSONResponse([m.to_dict() for m in pending])
    return w.page(request, "matches.html", matches=pending)


@router.post("/audit/matches")
async def match_confirm(request: Request, w: W):
    """确认某个报告机关就是名单中的某个机关（roster_name），或不属名单（none=1）。"""
    user = _admin(request, "确认机关对应")
    data = await fields(request)
    roster_name = None if str(data.get("none", "")) in ("1", "true", "on") else str(data.get("roster_name", "")) or None
    if roster_name is None and str(data.get("none", "")) not in ("1", "true", "on"):
        raise HTTPException(400, "请选择名单中的机关，或确认不属名单")

    def run():
        with w.store() as store:
            return confirm_match(store, str(data.get("report", "")), roster_name, by=user.name)

    match = await asyncio.get_running_loop().run_in_executor(None, run)
    if wants_json(request):
        return match.to_dict()
    return RedirectResponse("/audit/matches", status_code=303)


# ── rectification notices ───────────────────────────────────────────────────────────────────


@router.get("/audit/notice", response_class=HTMLResponse)
@router.get("/audit/notice.json")
def notice_page(request: Request, w: W, body: str, year: str = ""):
    """整改通知的内容（预览，不记入日志）：逐项列出待整改的问题和回复期限。"""
    user = user_of(request)
    with w.store() as store:
        notice = build_notice(store, body, _year(store, year), user=user)
    if wants_json(request):
        return JSONResponse(notice.to_dict())
    return w.page(request, "notice.html", n=notice, may_issue=can_submit(user), where=where_text, values=values_text, status_zh=STATUS_ZH)


@router.post("/audit/notice")
async def notice_issue(request: Request, w: W):
    """生成整改通知（format=docx|pdf）并记入审计日志：一个机关（body），或一个区划内所有有问题的机关（all=1，打包为 zip）。"""
    user = user_of(request)
    if not can_submit(user):
        raise PermissionDenied("只读用户不能发出整改通知")
    data = await fields(request)
    fmt = str(data.get("format", "docx"))
    if fmt not in KINDS:
        raise HTTPException(400, f"整改通知只能生成 docx 或 pdf，不是 {fmt}")
    everyone = str(data.get("all", "")) in ("1", "true", "on")
    body, region = str(data.get("body", "")), str(data.get("region", "")) or None
    options = {"issuer": str(data.get("issuer", "")) or None, "reply_days": int(data["reply_days"]) if str(data.get("reply_days", "")).isdigit() else None}
    options = {k: v for k, v in options.items() if v is not None}

    def build():
        with w.store() as store:
            year = _year(store, str(data.get("year", "")))
            if everyone:
                return year, build_notices(store, year, region, user=user, **options)
            notice = build_notice(store, body, year, user=user, **options)
            if not notice.items:
                raise HTTPException(400, f"{notice.body} 的 {year} 年度报告没有待整改的问题（已驳回、已更正的和解析存疑的不列入），未生成通知")
            return year, [notice]

    year, notices = await asyncio.get_running_loop().run_in_executor(None, build)
    if not notices:
        raise HTTPException(400, f"{year} 年度没有需要发整改通知的机关")
    seconds = w.settings.limits.seconds + (SECONDS_PER_PDF if fmt == "pdf" else 2) * len(notices)
    limits = Limits(seconds=min(seconds, 3600), memory_mb=w.settings.limits.memory_mb)
    data_out = await asyncio.wrap_future(w.queue.submit(lambda: w.queue.guarded.run(render_notices, notices, fmt, everyone, limits=limits)))

    def record():
        with w.store() as store:
            record_notices(store, notices, by=user.name)

    await asyncio.get_running_loop().run_in_executor(None, record)
    if everyone:
        name, kind = f"{year}年度整改通知_{fmt}.zip", "application/zip"
    else:
        name, kind = notice_file_name(notices[0], fmt), KINDS[fmt]
    return Response(data_out, media_type=kind, headers={
        "Content-Disposition": f"attachment; filename=\"notice.{'zip' if everyone else fmt}\"; filename*=UTF-8''{quote(name)}"})


def render_notices(notices: list, fmt: str, as_zip: bool) -> bytes:
    """Runs in the guarded child: one notice laid out, or every one of them in a zip."""
    if not as_zip:
        return render_notice(notices[0], fmt)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for notice in notices:
            archive.writestr(notice_file_name(notice, fmt), render_notice(notice, fmt))
    return out.getvalue()
