"""One ASGI middleware in front of every route: the policy of `web/security.py` and the body cap.

In order: the Host (DNS rebinding), the Origin of a write (cross-site requests), the access token
(a header, the session cookie, or `?token=` once, which is taken out of the request before it is
logged and answered with a redirect that sets the cookie), and the size of the body, counted on
the bytes as they arrive (a `Content-Length` is a claim, chunked bodies have none). Every answer,
the refusals too, carries the security headers. A client that goes away mid-upload ends its
request quietly: one log line, no traceback.
"""

from __future__ import annotations

import logging

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, RedirectResponse

from gongkai.web.context import Settings
from gongkai.web.security import HEADERS, SESSION_COOKIE, Sessions, host_allowed, origin_allowed, without_params

log = logging.getLogger("gongkai.web")
OPEN_PATHS = ("/login",)  # with a token set, these and /static/ need none
SMALL_BODY = 2 * 1024 * 1024  # every body but an upload: a login form, a draft of 1 MB


class BodyTooLarge(HTTPException):
    def __init__(self, detail: str):
        super().__init__(413, detail, headers={"Connection": "close"})  # the rest of the body is not read


def install_guard(app, settings: Settings, sessions: Sessions) -> None:
    app.add_middleware(Guard, settings=settings, sessions=sessions)


class Guard:
    def __init__(self, app, settings: Settings, sessions: Sessions):
        self.app = app
        self.settings = settings
        self.sessions = sessions
        self.allowed_hosts = frozenset(h.lower() for h in settings.allowed_hosts)
        self.allowed_origins = frozenset(settings.allowed_origins)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        started = False

        async def send_secured(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    out.setdefault(name, value)
            await send(message)

        refusal = self.refusal(scope, headers)
        if refusal is not None:
            return await refusal(scope, receive, send_secured)
        cap = self.body_cap(scope["path"])
        received = 0

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(self.too_large(scope["path"]))
            return message

        try:
            await self.app(scope, counted_receive, send_secured)
        except BodyTooLarge as exc:
            if not started:
                await JSONResponse({"detail": exc.detail}, status_code=413, headers={"Connection": "close"})(scope, receive, send_secured)
        except ClientDisconnect:
            log.info("客户端在请求途中断开：%s %s", scope["method"], scope["path"])

    def refusal(self, scope, headers: Headers):
        """The answer that ends this request here, or None to let it through."""
        path, method = scope["path"], scope["method"]
        if not host_allowed(headers.get("host"), self.allowed_hosts):
            return _error(400, "主机名不在允许之列（防 DNS 重绑定）：如需用域名访问，启动时加 --allowed-host 该域名")
        if not origin_allowed(method, headers.get("origin"), headers.get("sec-fetch-site"), headers.get("host"), self.allowed_origins):
            return _error(403, "拒绝跨站请求：只接受本站页面或不带 Origin 的工具发来的提交")
        if "content-length" in headers and "transfer-encoding" in headers:
            return _error(400, "请求同时带有 Content-Length 与 Transfer-Encoding")
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.body_cap(path)):
            return _error(413, self.too_large(path))
        token = self.settings.token
        if not token or path.startswith("/static/") or path in OPEN_PATHS:
            return None
        via_query = _query_token(scope)
        if via_query is not None:
            scope["query_string"] = without_params(scope["query_string"])  # before the access log sees it
            if self.sessions.token_ok(via_query):
                query = scope["query_string"].decode("latin-1")
                response = RedirectResponse(path + (f"?{query}" if query else ""), status_code=303)
                self.sessions.set_cookie(response, secure=scope.get("scheme") == "https")
                return response
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else headers.get("x-gongkai-token")
        if self.sessions.token_ok(bearer) or self.sessions.cookie_ok(_cookie(headers, SESSION_COOKIE)):
            return None
        if path.startswith("/api/") or path in ("/upload", "/openapi.json") or "json" in headers.get("accept", ""):
            return _error(401, "需要访问令牌")
        return RedirectResponse(f"/login?next={path}", status_code=303)

    def body_cap(self, path: str) -> int:
        settings = self.settings
        if path == "/upload":
            return settings.max_files * settings.max_upload_bytes + 1024 * 1024
        if path == "/api/parse":
            return settings.max_upload_bytes + 1024 * 1024
        return SMALL_BODY

    def too_large(self, path: str) -> str:
        if path in ("/upload", "/api/parse"):
            return f"上传过大：每个文件不超过 {self.settings.max_upload_mb:g} MB，一次最多 {self.settings.max_files} 个"
        return f"请求过大（上限 {SMALL_BODY // (1024 * 1024)} MB）"


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


def _query_token(scope) -> str | None:
    query = scope.get("query_string", b"")
    if b"token=" not in query:
        return None
    from urllib.parse import parse_qs

    values = parse_qs(query.decode("latin-1")).get("token")
    return values[0] if values else ""


def _cookie(headers: Headers, name: str) -> str | None:
    from http.cookies import SimpleCookie

    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 — a malformed cookie header is no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
