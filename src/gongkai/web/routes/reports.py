"""Uploading reports and reading one back: the list, the report page, its downloads, its source lines and page images."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gongkai.errors import GongkaiError
from gongkai.views import body_key_of, report_view, source_lines
from gongkai.web.context import Web, web
from gongkai.web.downloads import report_xlsx
from gongkai.web.jobs import display_name
from gongkai.web.models import Job
from gongkai.web.pages import page_scale, render_page_png
from gongkai.web.storage import is_sha256, open_store

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


@router.get("/", response_class=HTMLResponse)
def index(request: Request, w: W):
    rows, error = w.all_summaries()
    return w.page(request, "index.html", reports=rows, jobs=w.queue.recent(), store_error=error,
                  max_upload_mb=f"{w.settings.max_upload_mb:g}", max_files=w.settings.max_files)


@router.post("/upload", response_model=list[Job] | dict)
async def upload(request: Request, w: W):
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
    accepted = [w.queue.accept(c, n) for c, n in contents]
    if "application/json" in request.headers.get("accept", ""):
        return {"jobs": [j.model_dump() for j in accepted]}
    return RedirectResponse("/", status_code=303)


@router.get("/reports/{sha}.json")
def download_json(sha: str, w: W):
    report = w.report_or_404(sha)
    return Response(report.to_json(indent=2), media_type="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{sha}.json"'})


@router.get("/reports/{sha}.xlsx")
def download_xlsx(sha: str, w: W):
    report = w.report_or_404(sha)
    return Response(report_xlsx(report), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{sha}.xlsx"'})


@lru_cache(maxsize=32)
def _lines_of(path) -> dict[int, str]:
    if not path.exists():
        return {}
    try:
        return source_lines(path.read_bytes())
    except GongkaiError:
        return {}


@router.get("/reports/{sha}/source")
async def source(sha: str, w: W, line: int = Query(..., ge=1), context: int = Query(3, ge=0, le=20)):
    if not is_sha256(sha):
        raise HTTPException(404, "没有这份报告")
    lines = await asyncio.get_running_loop().run_in_executor(w.queue.executor, _lines_of, w.data.file_path(sha))
    return {"lines": [[n, lines[n]] for n in range(line - context, line + context + 1) if n in lines]}


@router.get("/reports/{sha}/pages/{number}.png")
async def page_image(sha: str, number: int, w: W):
    if not is_sha256(sha) or not w.data.file_path(sha).exists():
        raise HTTPException(404, "没有这份报告的原文件")
    cached = w.data.root / "pages" / f"{sha}-{number}.png"
    if not cached.exists():
        content = w.data.file_path(sha).read_bytes()
        try:
            png = await asyncio.get_running_loop().run_in_executor(w.queue.executor, render_page_png, content, number)
        except GongkaiError as exc:
            raise HTTPException(404, str(exc)) from None
        cached.parent.mkdir(exist_ok=True)
        cached.write_bytes(png)
    return Response(cached.read_bytes(), media_type="image/png")


@router.get("/reports/{sha}", response_class=HTMLResponse)
def report_page(request: Request, sha: str, w: W):
    report = w.load(sha)
    if report is None:
        return w.page(request, "error.html", status_code=404, title="没有这份报告", message="这份报告不存在，或已被删除。")
    body_key = None
    if w.settings.store.exists():
        with open_store(w.settings.store) as con:
            body_key = body_key_of(con, sha)
    return w.page(request, "report.html", v=report_view(report), scale=page_scale(report.source.format), body_key=body_key)
