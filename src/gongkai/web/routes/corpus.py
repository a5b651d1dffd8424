"""The corpus page (filters, charts, the reports and the files that failed), a body's years side by
side, and the whole corpus as the reviewer's Excel — each over `scope.corpus_con`: the store as the
caller may see it (a reviewer's region only)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from starlette.background import BackgroundTask

from gongkai.rules.catalog import CATALOG
from gongkai.views import body_view, corpus_view, store_columns
from gongkai.web.context import Web, user_of, web
from gongkai.web.scope import corpus_con
from gongkai.web.storage import open_store

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/corpus", response_class=HTMLResponse)
def corpus(request: Request, w: W, year: str = "", region: str = "", body_type: str = ""):
    filters = {"year": year if year.isdigit() else "", "region": region, "body_type": body_type}
    error = ""
    try:
        with corpus_con(w, user_of(request)) as con:
            view = corpus_view(con, filters)
    except Exception as exc:  # noqa: BLE001
        error = f"语料库暂时无法读取（{type(exc).__name__}）"
        with open_store(Path(":memory:")) as con:
            view = corpus_view(con, {})
    return w.page(request, "corpus.html", c=view, store_error=error, db_name=w.settings.store.name)


@router.get("/corpus.xlsx")
def corpus_xlsx(request: Request, w: W):
    """The store (as the caller may see it) as `gongkai export --to corpus.xlsx` writes it: the cells a
    person corrected in blue with their current value, and the 覆盖情况 sheet when there is a roster."""
    from gongkai.audit import coverage, has_roster
    from gongkai.export.xlsx import write_xlsx

    user = user_of(request)
    folder = Path(tempfile.mkdtemp(prefix="gongkai-xlsx-"))
    try:
        rows = None
        if w.settings.store.exists():
            with w.store() as store:
                if has_roster(store):
                    years = [y for (y,) in store.con.execute("SELECT DISTINCT year FROM reports WHERE year IS NOT NULL ORDER BY year DESC").fetchall()]
                    rows = [row for year in years for row in coverage(store, year, user=user)]
        with corpus_con(w, user) as con:
            if not store_columns(con, "reports"):
                raise HTTPException(404, "语料库里还没有报告")
            target = write_xlsx(con, folder / "corpus.xlsx", coverage=rows)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"{w.settings.store.stem}-语料库.xlsx"
    return FileResponse(target, media_type=XLSX, background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
                        headers={"Content-Disposition": f"attachment; filename=\"corpus.xlsx\"; filename*=UTF-8''{quote(name)}"})  # fmt: skip


@router.get("/body", response_class=HTMLResponse)
def body(request: Request, w: W, key: str = ""):
    """One body's reports side by side, a column a year."""
    view = None
    if key and w.settings.store.exists():
        with corpus_con(w, user_of(request)) as con:
            view = body_view(con, key)
    if view is None:
        return w.page(request, "error.html", status_code=404, title="没有这个机关", message="语料库中没有这个机关的报告。")
    anomaly_rules = [rule for rule in CATALOG if rule.startswith("anomaly.")]  # listed apart from the cross-year checks
    return w.page(request, "body.html", b=view, anomaly_rules=anomaly_rules)
