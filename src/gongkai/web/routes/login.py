"""Logging in with the shared access token (a form that sets the cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from gongkai.web.context import Web, web

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, w: W, next: str = "/"):
    return w.page(request, "login.html", next=next if next.startswith("/") else "/", failed=False)


@router.post("/login")
async def login(request: Request, w: W):
    form = await request.form(max_files=0, max_fields=5)
    token, target = str(form.get("token", "")), str(form.get("next", "/"))
    settings = w.settings
    if not settings.token or not w.sessions.token_ok(token):
        return w.page(request, "login.html", status_code=401, next=target, failed=True)
    response = RedirectResponse(target if target.startswith("/") and not target.startswith("//") else "/", status_code=303)
    w.sessions.set_cookie(response, secure=request.url.scheme == "https")
    return response
