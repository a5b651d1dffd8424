"""One ASGI middleware in front of every route: the policy of `web/security.py` and the body cap.

In order: the Host (DNS rebinding), the Origin of a write (cross-site requests), who is asking
(`web/identity.py`: the token in a header, the session cookie of the token or of a logged-in user,
or `?token=` once, which is taken out of the request before it is logged and answered with a
redirect that sets the cookie), the CSRF token of every write that comes with a session cookie
(a header, a form field or a query parameter; refused with 403 before any route runs), a login
where the server needs one, and the size of the body, counted on the bytes as they arrive (a
`Content-Length` is a claim, chunked bodies have none). The caller's `User` and the page's CSRF
token go to the route as `request.state.user` and `request.state.csrf`. Every answer, the
refusals too, carries the security headers. A client that goes away mid-upload ends its request
quietly: one log line, no traceback.
"""

from __future__ import annotations

import logging
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, quote

from fastapi import HTTPException
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, RedirectResponse

from gongkai.web.context import Settings
from gongkai.web.identity import Identity, UsersUnavailable
from gongkai.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    HEADERS,
    SESSION_COOKIE,
    UNSAFE_METHODS,
    Sessions,
    host_allowed,
    origin_allowed,
    without_params,
)

log = logging.getLogger("gongkai.web")
OPEN_PATHS = ("/login",)  # on a server that needs a login, these and /static/ are anyone's
SMALL_BODY = 2 * 1024 * 1024  # every body but an upload: a login form, a draft of 1 MB


class BodyTooLarge(HTTPException):
    def __init__(self, detail: str):
        super().__init__(413, detail, headers={"Connection": "close"})  # the rest of the body is not read


def install_guard(app, settings: Settings, sessions: Sessions, identity: Identity) -> None:
    app.add_middleware(Guard, settings=settings, sessions=sessions, identity=identity)


class Guard:
    def __init__(self, app, settings: Settings, sessions: Sessions, identity: Identity):
        self.app = app
        self.settings = settings
        self.sessions = sessions
        self.identity = identity
        self.allowed_hosts = frozenset(h.lower() for h in settings.allowed_hosts)
        self.allowed_origins = frozenset(settings.allowed_origins)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        started = False

        new_cookie = None  # a cookie to set: the login page's, for a browser that has none

        async def send_secured(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                out = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    out.setdefault(name, value)
                if new_cookie and "set-cookie" not in out:
                    secure = "; Secure" if scope.get("scheme") == "https" else ""
                    out.append("set-cookie", f"{SESSION_COOKIE}={new_cookie}; HttpOnly; Path=/; SameSite=strict{secure}")
            await send(message)

        refusal = self.refusal(scope, headers)
        if refusal is None and not scope["path"].startswith("/static/"):
            refusal, receive, new_cookie = await self.admit(scope, headers, receive)
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
        return None

    async def admit(self, scope, headers: Headers, receive):
        """(the refusal or None, the receive the app reads the body through, a new cookie to set or None):
        who asks, the CSRF token of a write, and a login where one is needed."""
        path, method = scope["path"], scope["method"]
        via_query = _query_token(scope, "token")
        if via_query is not None:
            scope["query_string"] = without_params(scope["query_string"])  # before the access log sees it
            if self.sessions.token_ok(via_query):
                query = scope["query_string"].decode("latin-1")
                response = RedirectResponse(path + (f"?{query}" if query else ""), status_code=303)
                self.sessions.set_cookie(response, secure=scope.get("scheme") == "https")
                return response, receive, None
        auth = headers.get("authorization", "")
        bearer = auth[7:] if auth.lower().startswith("bearer ") else headers.get("x-gongkai-token")
        cookie = _cookie(headers, SESSION_COOKIE)
        try:
            if self.identity.stale():  # reading the store's users waits for its lock: never on the event loop
                await run_in_threadpool(self.identity.users)
            caller = self.identity.caller(bearer, cookie)
        except UsersUnavailable as exc:
            return _error(503, str(exc)), receive, None
        if method in UNSAFE_METHODS and cookie is not None and not caller.by_header:
            supplied, receive = await _csrf_of(scope, headers, receive)
            if supplied is False:
                return _error(413, f"请求过大（上限 {SMALL_BODY // (1024 * 1024)} MB）"), receive, None
            if not self.sessions.csrf_ok(cookie, supplied):
                return _error(403, "缺少或错误的 CSRF 令牌：请刷新页面后再提交"), receive, None
        else:
            scope["query_string"] = without_params(scope.get("query_string", b""))
        new_cookie = None
        if cookie is None and caller.user is None and path in OPEN_PATHS and method == "GET":
            new_cookie = self.sessions.new_id()  # the login form's CSRF token needs a cookie to be bound to
        state = scope.setdefault("state", {})
        state["user"] = caller.user
        state["csrf"] = self.sessions.csrf_token(cookie or new_cookie) if (cookie or new_cookie) else ""
        if caller.user is not None or path in OPEN_PATHS:
            return None, receive, new_cookie
        if path.startswith("/api/") or path in ("/upload", "/openapi.json") or path.endswith((".json", ".xlsx", ".zip")) \
                or method in UNSAFE_METHODS or "json" in headers.get("accept", ""):  # fmt: skip
            return _error(401, "需要登录或访问令牌"), receive, None
        query = scope.get("query_string", b"").decode("latin-1")
        return RedirectResponse("/login?next=" + quote(path + (f"?{query}" if query else ""), safe=""), status_code=303), receive, None

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


def _query_token(scope, name: str) -> str | None:
    query = scope.get("query_string", b"")
    if name.encode() + b"=" not in query:
        return None
    values = parse_qs(query.decode("latin-1"), keep_blank_values=True).get(name)
    return values[0] if values else None


async def _csrf_of(scope, headers: Headers, receive):
    """The CSRF token a write sends (header, query parameter, or a field of a urlencoded form, whose
    body is read here and handed on to the app unchanged), and the receive to read the body through.
    False when a form's body is over the cap."""
    supplied = headers.get(CSRF_HEADER) or _query_token(scope, CSRF_FIELD)
    scope["query_string"] = without_params(scope.get("query_string", b""))  # the token is no route's business, nor the log's
    if supplied or not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return supplied, receive
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None, receive
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > SMALL_BODY:
            return False, receive
    values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD)
    replayed = False

    async def replay():
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return (values[0] if values else None), replay


def _cookie(headers: Headers, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 — a malformed cookie header is no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None
