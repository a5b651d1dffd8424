"""Accounts: logging in (a user's name and password, or the shared token), logging out, who am I,
and the administrators' user pages — each a call into gongkai.review (authenticate, log_login,
add_user, set_user, list_users). Sessions and CSRF tokens are the guard's (web/security.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from gongkai.review import ROLES, PermissionDenied, add_user, authenticate, can_manage_users, list_users, log_login, set_user
from gongkai.web.context import Web, user_of, wants_json, web
from gongkai.web.security import SESSION_COOKIE

router = APIRouter(include_in_schema=False)
W = Annotated[Web, Depends(web)]


def safe_next(target: str) -> str:
    """A page of this server to go on to (never another site: `//evil`, `https://…`)."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, w: W, next: str = "/"):
    return w.page(request, "login.html", next=safe_next(next), failed="", token_login=bool(w.settings.token))


@router.post("/login")
async def login(request: Request, w: W):
    form = await request.form(max_files=0, max_fields=6)
    name, password = str(form.get("name", "")).strip()[:64], str(form.get("password", ""))
    token, target = str(form.get("token", "")), safe_next(str(form.get("next", "/")))
    secure = request.url.scheme == "https"
    client = request.client.host if request.client else "?"

    def refused(message: str, status: int = 401):
        return w.page(request, "login.html", status_code=status, next=target, failed=message, token_login=bool(w.settings.token))

    if token and not name:
        if not w.sessions.token_ok(token):
            return refused("令牌不正确。")
        response = RedirectResponse(target, status_code=303)
        w.sessions.set_cookie(response, secure=secure)
        return response
    by_name, by_client = w.logins
    wait = max(by_name.wait(name), by_client.wait(client))
    if wait:
        return refused(f"登录失败次数过多，请 {wait} 秒后再试。", 429)
    user = await run_in_threadpool(_authenticate, w, name, password, client)  # Argon2 takes a moment: off the event loop
    if user is None:
        by_name.failed(name)
        by_client.failed(client)
        return refused("用户名或口令不正确，或账号已停用。")
    by_name.succeeded(name)
    response = RedirectResponse(target, status_code=303)
    w.sessions.set_cookie(response, w.sessions.start(user.name), secure=secure)  # a new id: one planted before is worth nothing
    return response


def _authenticate(w: Web, name: str, password: str, client: str):
    with w.store() as store:
        user = authenticate(store, name, password) if name else None
        if name:
            log_login(store, name, ok=user is not None, detail=f"网页登录（{client}）")
    return user


@router.post("/logout")
def logout(request: Request, w: W):
    w.sessions.end(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/me")
def me(request: Request, w: W):
    """The caller, and the CSRF token its writes must carry (a script that logged in with a form reads it here)."""
    user = user_of(request)
    return {"user": user.to_dict(), "open": w.identity.is_open(), "csrf_token": request.state.csrf}


# ── the administrators' user pages ──────────────────────────────────────────────────────────


def _admin(request: Request):
    user = user_of(request)
    if not can_manage_users(user):
        raise PermissionDenied("只有管理员可以管理用户")
    return user


@router.get("/users", response_class=HTMLResponse)
@router.get("/users.json")
def users_page(request: Request, w: W):
    _admin(request)
    with w.store() as store:
        users = list_users(store)
    if wants_json(request):
        return JSONResponse([u.to_dict() for u in users])
    return w.page(request, "users.html", users=users, roles=ROLES)


@router.post("/users")
async def user_add(request: Request, w: W):
    admin = _admin(request)
    form = await request.form(max_files=0, max_fields=8)
    with w.store() as store:
        made = add_user(store, str(form.get("name", "")), str(form.get("role", "")), str(form.get("password", "")),
                        str(form.get("region", "")).strip() or None, by=admin)  # fmt: skip
    w.identity.forget()
    if wants_json(request):
        return made.to_dict()
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}")
async def user_set(request: Request, name: str, w: W):
    admin = _admin(request)
    form = await request.form(max_files=0, max_fields=8)
    active = {"1": True, "0": False}.get(str(form.get("active", "")))
    password = str(form.get("password", "")) or None
    with w.store() as store:
        changed = set_user(store, name, role=str(form.get("role", "")) or None, region=form.get("region"), active=active,
                           password=password, by=admin)  # fmt: skip
    if active is False or password:
        w.sessions.end_all(name)  # a disabled account, or one whose password changed, is logged out everywhere
    w.identity.forget()
    if wants_json(request):
        return changed.to_dict()
    return RedirectResponse("/users", status_code=303)
