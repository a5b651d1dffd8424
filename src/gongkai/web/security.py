"""The server's security policy in one place: which Host names may address it, which Origins may
send it a write, the session cookie (the access token's, or a logged-in user's), the CSRF token
every write must carry, and the headers every answer carries.

`web/guard.py` applies it to every request before any route runs; `web/identity.py` says who is
asking. Routes never check a cookie or a CSRF token themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
import secrets
import socket
import sqlite3
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

SESSION_COOKIE = "gongkai_session"
CSRF_HEADER = "x-csrf-token"  # what the app's scripts send with every write
CSRF_FIELD = "csrf_token"  # what its forms send: a hidden field, or (a file upload's form) a query parameter
SESSION_HOURS = 12  # a login lasts a working day; logging out ends it at once
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
    """The session cookie and what it stands for, and the CSRF token that goes with it.

    The cookie's value is one of three things, never a secret a client chose:
    - with the shared token: an HMAC of the token under a key kept in the data directory, never the
      token itself (a new token ends every such session);
    - after a user logs in: a random id, kept on the server only as its SHA-256 beside the user's
      name in `data_dir/sessions.sqlite` (logging out, 12 hours, or a deactivated account end it);
      a login always gets a new id, so an id planted before it is worth nothing;
    - before logging in: a random id kept nowhere, only so that the login form has a CSRF token.

    The CSRF token of a request is an HMAC of its cookie under the server's key: pages embed it and
    every write sends it back, so a page of another site that makes the browser send the cookie
    cannot send the token (it cannot read our pages).
    """

    def __init__(self, data_dir: Path, token: str | None):
        self.token = token
        self.key = _secret_key(Path(data_dir) / "secret.key")
        self.path = Path(data_dir) / "sessions.sqlite"
        self.lock = threading.Lock()
        self._ready = False

    # the shared token's cookie
    def cookie_value(self) -> str:
        return hmac.new(self.key, b"gongkai-session\0" + (self.token or "").encode(), hashlib.sha256).hexdigest()

    def token_ok(self, supplied: str | None) -> bool:
        return bool(self.token and supplied) and hmac.compare_digest(supplied.encode(), self.token.encode())

    def cookie_ok(self, supplied: str | None) -> bool:
        return bool(self.token and supplied) and hmac.compare_digest(supplied.encode(), self.cookie_value().encode())

    def set_cookie(self, response, value: str | None = None, *, secure: bool) -> None:
        """Set the session cookie (by default the shared token's)."""
        response.set_cookie(SESSION_COOKIE, value or self.cookie_value(), httponly=True, samesite="strict", secure=secure, path="/")

    # CSRF
    def csrf_token(self, cookie: str) -> str:
        return hmac.new(self.key, b"gongkai-csrf\0" + cookie.encode("utf-8", "replace"), hashlib.sha256).hexdigest()

    def csrf_ok(self, cookie: str, supplied: str | None) -> bool:
        return bool(supplied) and hmac.compare_digest(supplied.encode("utf-8", "replace"), self.csrf_token(cookie).encode())

    # users' sessions
    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    def start(self, name: str) -> str:
        """A new session for user `name`: its cookie value."""
        session = self.new_id()
        now = time.time()
        with self._db() as con:
            con.execute("DELETE FROM sessions WHERE created < ?", (now - SESSION_HOURS * 3600,))
            con.execute("INSERT INTO sessions (id, name, created) VALUES (?, ?, ?)", (_digest(session), name, now))
        return session

    def user_of(self, cookie: str | None) -> str | None:
        """The user whose session this cookie is, or None (unknown, ended or expired)."""
        if not cookie or not self.path.exists():
            return None
        with self._db() as con:
            row = con.execute("SELECT name, created FROM sessions WHERE id = ?", (_digest(cookie),)).fetchone()
        if row is None or row[1] < time.time() - SESSION_HOURS * 3600:
            return None
        return row[0]

    def end(self, cookie: str | None) -> None:
        if cookie and self.path.exists():
            with self._db() as con:
                con.execute("DELETE FROM sessions WHERE id = ?", (_digest(cookie),))

    def end_all(self, name: str) -> None:
        """End every session of a user (deactivated, or a new password)."""
        if self.path.exists():
            with self._db() as con:
                con.execute("DELETE FROM sessions WHERE name = ?", (name,))

    def _db(self):
        with self.lock:
            if not self._ready:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)  # readable by the server's user only
                os.close(fd)
                con = sqlite3.connect(self.path, timeout=10)
                with con:
                    con.execute("CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL)")
                con.close()
                self._ready = True
        return _Connection(self.path)


class _Connection:
    """One short SQLite connection: committed on leaving, closed always."""

    def __init__(self, path: Path):
        self.con = sqlite3.connect(path, timeout=10)

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, kind, *_) -> None:
        try:
            if kind is None:
                self.con.commit()
        finally:
            self.con.close()


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode("utf-8", "replace")).hexdigest()


class LoginThrottle:
    """Failed logins, per name and per client address: past `limit` in `window` seconds, the next must
    wait until the oldest leaves the window. A guess costs an attacker minutes; a typo costs a person nothing."""

    def __init__(self, limit: int = 5, window: float = 300, keep: int = 10_000):
        self.limit, self.window, self.keep = limit, window, keep
        self.failures: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def wait(self, *keys: str) -> int:
        """Seconds before another try is taken (0: now)."""
        now = time.monotonic()
        with self.lock:
            waits = []
            for key in keys:
                recent = [t for t in self.failures.get(key, []) if t > now - self.window]
                if len(recent) >= self.limit:
                    waits.append(int(recent[-self.limit] + self.window - now) + 1)
            return max(waits, default=0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self.lock:
            if len(self.failures) > self.keep:  # bounded memory under a flood of names
                self.failures.clear()
            for key in keys:
                self.failures[key] = [t for t in self.failures.get(key, []) if t > now - self.window][-self.limit:] + [now]

    def succeeded(self, *keys: str) -> None:
        with self.lock:
            for key in keys:
                self.failures.pop(key, None)


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


def without_params(query: bytes, names: frozenset[str] = frozenset({"token", CSRF_FIELD})) -> bytes:
    """A query string with the given parameters taken out (a token never reaches a log or a route)."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if k not in names]).encode("latin-1")
