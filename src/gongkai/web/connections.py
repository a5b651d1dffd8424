"""The HTTP connections `gongkai serve` keeps open, bounded against slow and many clients.

- A request's headers must arrive within `header_timeout` seconds of the connection opening (or of
  the previous answer on a kept-alive connection): a client trickling bytes (slowloris) is closed.
- At most `max_connections` are open, below the process's open-file limit: past it, the connection
  that has waited longest for its headers is closed to make room, so descriptors never run out
  while such connections are there to drop.
- Should accept() still fail for lack of descriptors, the log says so in one line a minute, not a
  traceback a try.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections import OrderedDict

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

log = logging.getLogger("gongkai.web")
RESERVED_FILES = 128  # descriptors kept for the store, uploads, pipes to the guarded children


def open_files_limit() -> int:
    """Raise the soft limit on open files to the hard one; the number of connections that leaves room for."""
    if resource is None:
        return 1000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return max(16, min(soft - RESERVED_FILES, 16384))


def guarded_http(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the header timeout and the connection cap (pass as `http=`)."""
    return type("GuardedH11Protocol", (_Guarded,), {"header_timeout": header_timeout, "max_connections": max_connections})


class _Guarded(H11Protocol):
    header_timeout = 10.0
    max_connections = 1000

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._header_timer = None
        self._await_headers()
        waiting = self._waiting()
        while len(self.connections) > self.max_connections and waiting:
            _, oldest = waiting.popitem(last=False)
            oldest._drop()
        if len(self.connections) > self.max_connections:  # every open connection is busy with a request
            self._drop()

    def connection_lost(self, exc) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._headers_arrived()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_headers()

    def _waiting(self) -> OrderedDict:
        """The connections of this server waiting for a request's headers, oldest first."""
        state = self.server_state
        if not hasattr(state, "gongkai_waiting"):
            state.gongkai_waiting = OrderedDict()
        return state.gongkai_waiting

    def _await_headers(self) -> None:
        self._headers_arrived()
        self._header_timer = self.loop.call_later(self.header_timeout, self._drop)
        self._waiting()[id(self)] = self

    def _headers_arrived(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()
            self._header_timer = None
        self._waiting().pop(id(self), None)

    def _drop(self) -> None:
        self._headers_arrived()
        if not self.transport.is_closing():
            self.transport.close()


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, every: float = 60.0) -> None:
    """Log accept() failing for lack of descriptors once per `every` seconds, in one line."""
    last = [0.0]
    previous = loop.get_exception_handler()

    def handler(loop, context) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            now = time.monotonic()
            if now - last[0] >= every:
                last[0] = now
                log.warning("打开的文件过多，暂时无法接受新连接（%s）；本提示每 %g 秒最多一次", exc.strerror, every)
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
