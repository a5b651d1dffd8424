"""The access token and the request-size cap, as one middleware in front of every route."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse

from gongkai.web.context import Settings

TOKEN_COOKIE = "gongkai_token"


def token_ok(settings: Settings, supplied: str | None) -> bool:
    return bool(supplied) and hmac.compare_digest(supplied.encode(), settings.token.encode())


def install_guard(app, settings: Settings) -> None:
    """Every request but static files and the login page needs the token (when one is set); uploads have a size cap."""

    @app.middleware("http")
    async def guard(request: Request, call_next):
        path = request.url.path
        if settings.token and not path.startswith("/static/") and path != "/login":
            auth = request.headers.get("authorization", "")
            header = auth[7:] if auth.lower().startswith("bearer ") else request.headers.get("x-gongkai-token")
            via_query = request.query_params.get("token")
            if not (token_ok(settings, header) or token_ok(settings, request.cookies.get(TOKEN_COOKIE)) or token_ok(settings, via_query)):
                if path.startswith("/api/") or path in ("/upload", "/openapi.json") or "json" in request.headers.get("accept", ""):
                    return JSONResponse({"detail": "需要访问令牌"}, status_code=401)
                return RedirectResponse(f"/login?next={path}", status_code=303)
            if token_ok(settings, via_query):
                response = await call_next(request)
                response.set_cookie(TOKEN_COOKIE, settings.token, httponly=True, samesite="strict")
                return response
        if request.method == "POST" and path in ("/upload", "/api/parse"):
            length = request.headers.get("content-length")
            files = settings.max_files if path == "/upload" else 1
            cap = files * settings.max_upload_bytes + 1024 * 1024
            if length is None or not length.isdigit():
                return JSONResponse({"detail": "请求缺少 Content-Length"}, status_code=411)
            if int(length) > cap:
                return JSONResponse({"detail": f"上传过大：每个文件不超过 {settings.max_upload_mb:g} MB，一次最多 {settings.max_files} 个"},
                                    status_code=413)
        return await call_next(request)
