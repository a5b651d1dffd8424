"""The corpus page: filters, charts and the reports of the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from gongkai.views import corpus_view
from gongkai.web.context import Web, web
from gongkai.web.storage import open_store

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]


@router.get("/corpus", response_class=HTMLResponse)
def corpus(request: Request, w: W, year: str = "", region: str = "", body_type: str = ""):
    filters = {"year": year if year.isdigit() else "", "region": region, "body_type": body_type}
    error = ""
    try:
        with open_store(w.settings.store) as con:
            view = corpus_view(con, filters)
    except Exception as exc:  # noqa: BLE001
        error = f"语料库暂时无法读取（{type(exc).__name__}）"
        with open_store(Path(":memory:")) as con:
            view = corpus_view(con, {})
    return w.page(request, "corpus.html", c=view, store_error=error, db_name=w.settings.store.name)
