"""The clerk's form: fill in the tables, see every broken identity as you type, download the report.

Every route is a call into `gongkai.draft` (the same room `gongkai draft` calls); the page's
script posts the form as draft JSON to /api/draft/check on every change.
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from gongkai.draft import Draft, DraftError, check_draft, draft_from_report, render_docx, render_pdf, write_sheet
from gongkai.report import Meta
from gongkai.review import reads_everything
from gongkai.views import active_table, appeals_table, requests_table
from gongkai.web.context import Web, user_of, web
from gongkai.web.scope import check_read, visible
from gongkai.web.storage import _store_lock

router = APIRouter()
W = Annotated[Web, Depends(web)]
MAX_DRAFT_BYTES = 1 << 20  # a draft is a few kB of text and 200 numbers
KINDS = {"docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "pdf": "application/pdf",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "json": "application/json"}  # fmt: skip


async def _draft_of(request: Request) -> Draft:
    body = await request.body()
    if len(body) > MAX_DRAFT_BYTES:
        raise HTTPException(413, "草稿超过 1 MB")
    try:
        return draft_from_report(json.loads(body or b"{}"))  # the form's JSON, or that of gongkai parse
    except ValueError as exc:
        raise HTTPException(400, f"草稿不是有效的 JSON：{exc}") from None
    except DraftError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/draft", response_class=HTMLResponse, include_in_schema=False)
def draft_page(request: Request, w: W, sha: str = "", year: int | None = Query(None, ge=2008, le=2100),
               template: str = "", agency: str = ""):  # fmt: skip
    """The form: blank for a year and format, or opened on a published report (`sha`) to correct it."""
    if sha:
        check_read(w, user_of(request), sha)
        report = w.load(sha)
        if report is None:
            return w.page(request, "error.html", status_code=404, title="没有这份报告", message="这份报告不存在，或已被删除。")
        draft = draft_from_report(report.to_dict())
    else:
        template = template if template in ("2019", "2021") else ("2019" if year and year < 2021 else "2021")
        draft = Draft(meta=Meta(year=year, template=template, agency=agency or None))
    tables = [active_table(draft.template), requests_table(draft.template), appeals_table()]
    return w.page(request, "draft.html", draft=draft, tables=tables, draft_json=json.dumps(draft.model_dump(mode="json"), ensure_ascii=False))


@router.post("/api/draft/check", summary="核对草稿",
             description="草稿（gongkai parse 的 JSON 或填报表单的内容）的全部单报告规则；有语料库时按上年报告预填上年结转并核对衔接。")  # fmt: skip
async def api_check(request: Request, w: W) -> dict:
    draft = await _draft_of(request)
    user = user_of(request)
    db = w.settings.store if w.settings.store.exists() else None

    def run():
        with _store_lock:  # one DuckDB handle at a time in this process
            result = check_draft(draft, db)
        if result.previous is not None and not reads_everything(user) and result.previous.sha256 not in (visible(w, user) or set()):
            with _store_lock:  # last year's report of a body outside the caller's region: not theirs to see, nor to prefill from
                result = check_draft(draft, None)
        return result

    result = await asyncio.get_running_loop().run_in_executor(None, run)
    return result.to_dict()


@router.post("/api/draft/render", summary="生成正式格式的年度报告",
             description="format=docx|pdf|xlsx|json：按正式格式写出草稿（PDF 经 LibreOffice 转换）。")  # fmt: skip
async def api_render(request: Request, w: W, format: str = Query("docx", pattern="^(docx|pdf|xlsx|json)$")):  # noqa: A002
    draft = await _draft_of(request)
    make = {"docx": render_docx, "pdf": render_pdf, "xlsx": write_sheet,
            "json": lambda d: json.dumps(d.to_report_json(), ensure_ascii=False, indent=2).encode()}[format]  # fmt: skip
    try:
        data = await asyncio.get_running_loop().run_in_executor(None, make, draft)  # soffice runs as its own process
    except DraftError as exc:
        raise HTTPException(400, str(exc)) from None
    name = f"{draft.meta.agency or '草稿'}{draft.meta.year or ''}年政府信息公开工作年度报告.{format}"
    from urllib.parse import quote

    return Response(data, media_type=KINDS[format],
                    headers={"Content-Disposition": f"attachment; filename=\"draft.{format}\"; filename*=UTF-8''{quote(name)}"})
