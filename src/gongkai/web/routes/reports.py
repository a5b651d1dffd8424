"""Uploading reports and reading one back: the list, the report page, its downloads, its source lines and page images.

Every route that shows a report asks `scope.check_read` first (a reviewer sees the reports of their
region only); the report page carries review — each finding's status and decision buttons, the
cells a person corrected, the version it is — from `web/review_view.py`."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from gongkai.errors import LimitExceededError, UnreadableError
from gongkai.review import PermissionDenied, can_submit, reads_everything
from gongkai.views import report_view
from gongkai.web.context import Web, user_of, web
from gongkai.web.derived import read_source_lines, render_page_to, write_source_lines
from gongkai.web.downloads import report_xlsx
from gongkai.web.jobs import QueueFull, display_name
from gongkai.web.models import Job
from gongkai.web.pages import page_scale
from gongkai.web.review_view import report_review
from gongkai.web.scope import check_read, visible
from gongkai.web.storage import is_sha256

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]


async def read_upload(w: Web, upload: UploadFile) -> bytes:
    """The bytes of one uploaded file, refused (413) past the size cap."""
    settings = w.settings
    if upload.size is not None and upload.size > settings.max_upload_bytes:
        raise HTTPException(413, f"文件「{display_name(upload.filename)}」超过 {settings.max_upload_mb:g} MB")
    content = await upload.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise HTTPException(413, f"文件「{display_name(upload.filename)}」超过 {settings.max_upload_mb:g} MB")
    return content


def own_jobs(user, jobs: list[Job]) -> list[Job]:
    """The upload jobs a user may follow: their own (every one for an administrator)."""
    return jobs if reads_everything(user) else [j for j in jobs if j.by == user.name]


@router.get("/", response_class=HTMLResponse)
def index(request: Request, w: W):
    user = user_of(request)
    rows, error = w.all_summaries(visible=visible(w, user))
    return w.page(request, "index.html", reports=rows, jobs=own_jobs(user, w.queue.recent()), store_error=error,
                  max_upload_mb=f"{w.settings.max_upload_mb:g}", max_files=w.settings.max_files, may_upload=can_submit(user))


@router.post("/upload", response_model=list[Job] | dict)
async def upload(request: Request, w: W):
    user = user_of(request)
    if not can_submit(user):
        raise PermissionDenied("只读用户不能上传报告")
    settings = w.settings
    form = await request.form(max_files=settings.max_files + 1, max_fields=10)
    uploads = [f for f in form.getlist("files") if not isinstance(f, str)]
    if not uploads:
        raise HTTPException(400, "没有收到文件")
    if len(uploads) > settings.max_files:
        raise HTTPException(413, f"一次最多上传 {settings.max_files} 个文件")
    waiting = w.queue.waiting()
    if waiting + len(uploads) > settings.max_queue:
        raise HTTPException(503, f"服务器正忙：已有 {waiting} 个文件在排队解析，请稍后再上传")
    contents = [(await read_upload(w, u), u.filename) for u in uploads]
    accepted = [w.queue.accept(c, n, by=user.name) for c, n in contents]
    if "application/json" in request.headers.get("accept", ""):
        return {"jobs": [j.model_dump() for j in accepted]}
    return RedirectResponse("/", status_code=303)


@router.get("/reports/{sha}.json")
def download_json(request: Request, sha: str, w: W):
    check_read(w, user_of(request), sha)
    report = w.report_or_404(sha)
    return Response(report.to_json(indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{sha}.json"'})


@router.get("/reports/{sha}.xlsx")
def download_xlsx(request: Request, sha: str, w: W):
    """The report's cells, findings and metadata; the cells a person corrected carry their current value, marked."""
    user = user_of(request)
    check_read(w, user, sha)
    report = w.report_or_404(sha)
    review = report_review(w, user, report)
    return Response(report_xlsx(review.shown if review else report, review.corrected if review else None), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{sha}.xlsx"'})


async def _derived(w: Web, sha: str, name: str, function, *args):
    """The file `name` made from upload `sha` under the guard (once, then from disk); 404 when the
    upload is gone or the file has no such thing, 422 when making it went over a limit."""
    if not is_sha256(sha) or not w.data.file_path(sha).exists():
        raise HTTPException(404, "没有这份报告的原文件")
    try:
        return await asyncio.wrap_future(w.queue.derive(sha, name, function, *args))
    except QueueFull:
        raise
    except LimitExceededError as exc:
        raise HTTPException(422, f"无法生成（{exc}）") from None
    except UnreadableError as exc:
        raise HTTPException(404, str(exc)) from None


@router.get("/reports/{sha}/source")
async def source(request: Request, sha: str, w: W, line: int = Query(..., ge=1), context: int = Query(3, ge=0, le=20)):
    await run_in_threadpool(check_read, w, user_of(request), sha)
    path = await _derived(w, sha, "lines.sqlite", write_source_lines)
    return {"lines": read_source_lines(path, line - context, line + context)}


@router.get("/reports/{sha}/pages/{number}.png")
async def page_image(request: Request, sha: str, number: int, w: W):
    await run_in_threadpool(check_read, w, user_of(request), sha)
    if not 1 <= number <= 100_000:
        raise HTTPException(404, "没有这一页")
    return FileResponse(await _derived(w, sha, f"page-{number}.png", render_page_to, number), media_type="image/png")


@router.get("/reports/{sha}", response_class=HTMLResponse)
def report_page(request: Request, sha: str, w: W):
    user = user_of(request)
    check_read(w, user, sha)
    report = w.load(sha)
    if report is None:
        return w.page(request, "error.html", status_code=404, title="没有这份报告", message="这份报告不存在，或已被删除。")
    review = report_review(w, user, report)
    view = review.view if review else report_view(report)
    return w.page(request, "report.html", v=view, r=review, scale=page_scale(report.source.format),
                  body_key=review.body_key if review else None)
