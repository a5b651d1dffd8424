"""Who is asking: a script with the shared token, a user logged in, or the single local user of an open server.

The server is *open* when the store has no user and no token is set (`make run`, a reviewer on
their own machine): every request acts as the local administrator, as before accounts existed.
Once a user exists, every page needs a login (or the token); the token, when set, acts as an
administrator for scripts (`Authorization: Bearer …`, `X-Gongkai-Token`, or its cookie).

The guard asks `Identity.caller` on every request (a session is one SQLite lookup). The users come from the store's `users`
table (review/accounts.py) through a cache read again every few seconds, so a request never waits
for the store to learn who it is, and a user added or disabled with `gongkai user` counts within
`USERS_TTL` seconds (through the web app at once).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from gongkai.review.accounts import User
from gongkai.web.security import Sessions

LOCAL_USER = User("本机用户", "admin")  # an open server's one user
TOKEN_USER = User("令牌", "admin")  # a script with the shared token
USERS_TTL = 3.0


@dataclass(frozen=True, slots=True)
class Caller:
    user: User | None  # None: not logged in on a server that needs it
    cookie: str | None  # the session cookie the request sent
    by_header: bool = False  # the token in a header: a script, no cookie of a browser at stake


class UsersUnavailable(Exception):
    """The store's users could not be read (the file locked by another process) and none are known yet."""


class Identity:
    def __init__(self, settings, sessions: Sessions):
        self.settings = settings
        self.sessions = sessions
        self.lock = threading.Lock()
        self._users: dict[str, User] | None = None
        self._read_at = 0.0

    def stale(self) -> bool:
        """Whether the next `users()` reads the store (the guard then asks from a worker thread, not the event loop)."""
        return self._users is None or time.monotonic() - self._read_at > USERS_TTL

    def users(self, *, refresh: bool = True) -> dict[str, User]:
        """Every user of the store by name (cached for `USERS_TTL` seconds; `refresh=False`: the cache as it is, if any)."""
        with self.lock:
            if self._users is None or (refresh and time.monotonic() - self._read_at > USERS_TTL):
                try:
                    self._users = _read_users(self.settings.store)
                except Exception:  # noqa: BLE001 — a store locked by a batch: the users known a moment ago still hold
                    if self._users is None:
                        raise UsersUnavailable("用户表暂时无法读取（数据库被其他程序占用），请稍后再试") from None
                self._read_at = time.monotonic()
            return self._users

    def forget(self) -> None:
        """Read the users again on the next request (after the web app changed one)."""
        with self.lock:
            self._users = None

    def is_open(self) -> bool:
        """No token and no user: the single local user's server."""
        return not self.settings.token and not self.users(refresh=False)

    def caller(self, bearer: str | None, cookie: str | None) -> Caller:
        """Who sends a request with this header token and this session cookie."""
        sessions = self.sessions
        if bearer is not None and self.settings.token:
            return Caller(TOKEN_USER if sessions.token_ok(bearer) else None, cookie, by_header=True)
        if cookie and sessions.cookie_ok(cookie):
            return Caller(TOKEN_USER, cookie)
        name = sessions.user_of(cookie)
        user = self.users(refresh=False).get(name) if name else None
        if user is not None and user.active:
            return Caller(user, cookie)
        if self.is_open():
            return Caller(LOCAL_USER, cookie)
        return Caller(None, cookie)


def _read_users(db) -> dict[str, User]:
    from gongkai.web.storage import open_store

    if not db.exists():
        return {}
    with open_store(db) as con:
        if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'users'").fetchone():
            return {}
        return {name: User(name, role, region, bool(active)) for name, role, region, active in
                con.execute("SELECT name, role, region, active FROM users").fetchall()}  # fmt: skip
