"""Politeness toward a site: robots.txt, a pace and a concurrency limit per host, backoff between retries."""

from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from urllib.robotparser import RobotFileParser

USER_AGENT_NAME = "gongkai"
MAX_CRAWL_DELAY = 60.0  # a robots.txt asking for more is honoured at this pace (and said so)
MAX_BACKOFF = 60.0


class HostGate:
    """At most `concurrency` requests at a time to one host, their starts at least `delay` seconds apart."""

    def __init__(self, delay: float, concurrency: int):
        self.delay = delay
        self._slots = threading.Semaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._next = 0.0

    def slow_down(self, delay: float) -> None:
        """Pace at `delay` if that is slower (a robots.txt Crawl-delay)."""
        with self._lock:
            self.delay = max(self.delay, min(delay, MAX_CRAWL_DELAY))

    @contextmanager
    def slot(self):
        with self._slots:
            with self._lock:
                now = time.monotonic()
                start = max(now, self._next)
                self._next = start + self.delay
            if start > now:
                time.sleep(start - now)
            yield


def backoff(attempt: int, base: float, retry_after: str | None = None) -> float:
    """Seconds to wait before retry `attempt` (1, 2, …): doubling from `base` with jitter, or what Retry-After asks."""
    asked = _retry_after(retry_after)
    if asked is not None:
        return min(asked, MAX_BACKOFF)
    return min(base * 2 ** (attempt - 1) * random.uniform(1.0, 1.25), MAX_BACKOFF)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


class Robots:
    """One site's robots.txt rules for gongkai (RFC 9309 as urllib reads it)."""

    def __init__(self, text: str | None, *, unreachable: bool = False):
        self.parser = RobotFileParser()
        self.unreachable = unreachable
        if unreachable:
            self.parser.disallow_all = True  # RFC 9309 §2.3.1.4: a server error means complete disallow
        elif text is None:
            self.parser.allow_all = True  # no robots.txt (4xx): everything is allowed
        else:
            self.parser.parse(text.splitlines())

    @property
    def refusal(self) -> str:
        """Why a URL it does not allow is not requested."""
        return "robots.txt 无法读取（按规范视为禁止）" if self.unreachable else "robots.txt 禁止"

    def allows(self, url: str) -> bool:
        if self.parser.allow_all:
            return True
        if self.parser.disallow_all:
            return False
        return self.parser.can_fetch(USER_AGENT_NAME, url)

    def crawl_delay(self) -> float | None:
        if self.parser.allow_all or self.parser.disallow_all:
            return None
        try:
            delay = self.parser.crawl_delay(USER_AGENT_NAME)
        except (TypeError, ValueError):
            return None
        return float(delay) if delay is not None else None
