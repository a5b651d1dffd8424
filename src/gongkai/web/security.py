"""The server's security policy in one place: which Host names may address it, which Origins may
send it a write, the session cookie that stands for the access token, and the headers every
answer carries.

`web/guard.py` applies it to every request before any route runs. Accounts, sessions and CSRF
(issue 11) extend this module, not the routes.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import socket
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

SESSION_COOKIE = "gongkai_session"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# the app's pages load their own scripts and styles only; nothing may frame them
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def host_name(host_header: str) -> str:
    """The name of a Host header, without its port, lower case ('' when malformed)."""
    host = host_header.strip().lower()
    if host.startswith("["):  # [::1]:8000
        end = host.find("]")
        return host[1:end] if end > 0 and _is_ip(host[1:end]) else ""
    if host.count(":") > 1:
        return host if _is_ip(host) else ""
    name, _, port = host.partition(":")
    if port and not port.isdigit() or not _NAME.fullmatch(name):
        return ""
    return name


_NAME = re.compile(r"[a-z0-9_.-]+")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def host_allowed(host_header: str | None, allowed: frozenset[str]) -> bool:
    """A Host that no attacker can point at this server by DNS: an IP address, a name without a dot
    (localhost, a machine's name on its network), this machine's own names, or one the operator allowed
    (`--allowed-host`). A rebinding attack needs a name under a domain the attacker controls."""
    name = host_name(host_header or "")
    if not name:
        return False
    if _is_ip(name):
        return True
    return "." not in name or name in allowed or name in _own_names()


def _own_names() -> frozenset[str]:
    try:
        return frozenset({socket.gethostname().lower(), socket.getfqdn().lower()})
    except OSError:
        return frozenset()


def origin_allowed(method: str, origin: str | None, fetch_site: str | None, host_header: str | None,
                   allowed_origins: frozenset[str]) -> bool:  # fmt: skip
    """A write (POST …) comes from this server's own pages, from a tool that sends no Origin (curl,
    scripts), or from an origin the operator allowed; a browser's cross-site write is refused."""
    if method not in UNSAFE_METHODS:
        return True
    if origin is None:
        return fetch_site in (None, "same-origin", "none")
    if origin in allowed_origins:
        return True
    parts = urlsplit(origin)
    return origin != "null" and parts.scheme in ("http", "https") and (parts.netloc or "").lower() == (host_header or "").strip().lower()


class Sessions:
    """The cookie a browser keeps after logging in with the token: an HMAC of the token under a key
    kept in the data directory, never the token itself (a new token ends every session)."""

    def __init__(self, data_dir: Path, token: str | None):
        self.token = token
        self.key = _secret_key(Path(data_dir) / "secret.key") if token else b""

    def cookie_value(self) -> str:
        return hmac.new(self.key, b"gongkai-session\0" + (self.token or "").encode(), hashlib.sha256).hexdigest()

    def token_ok(self, supplied: str | None) -> bool:
        return bool(self.token and supplied) and hmac.compare_digest(supplied.encode(), self.token.encode())

    def cookie_ok(self, supplied: str | None) -> bool:
        return bool(self.token and supplied) and hmac.compare_digest(supplied.encode(), self.cookie_value().encode())

    def set_cookie(self, response, *, secure: bool) -> None:
        response.set_cookie(SESSION_COOKIE, self.cookie_value(), httponly=True, samesite="strict", secure=secure, path="/")


def _secret_key(path: Path) -> bytes:
    """The server's own random key, made once and readable by its owner only."""
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    os.replace(tmp, path)
    return key


def without_params(query: bytes, names: frozenset[str] = frozenset({"token"})) -> bytes:
    """A query string with the given parameters taken out (a token never reaches a log or a route)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k not in names]).encode("latin-1")
