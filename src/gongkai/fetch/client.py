"""HTTP for `gongkai fetch`: one GET with conditional headers, paced per host, retried, redirect- and size-limited.

The client is httpx (sync, one `httpx.Client` shared by the worker threads). Compared with
urllib3, which it is close to in the sync case: httpx gives one timeout object for connect,
read and pool waits, a streamed body whose decoded size can be counted (a gzip bomb stops at
the size limit like any other file), a documented exception hierarchy (timeouts apart from
transport errors, which is what the retry policy needs), and proxies from the environment;
urllib3's retry helper would also follow redirects, which we must check hop by hop against
the site and robots.txt. aiohttp was not chosen: an async crawler buys nothing at a few
requests a second per host, and threads keep the manifest writes plain.

Redirects are followed here, one hop at a time, so that each hop is checked against the sites
the fetch may reach and their robots.txt before it is requested.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gongkai import __version__
from gongkai.errors import GongkaiError
from gongkai.fetch.polite import HostGate, backoff
from gongkai.fetch.scope import absolute, key_of

USER_AGENT = f"gongkai/{__version__} (gongkai fetch: annual government information disclosure reports)"
REDIRECTS = (301, 302, 303, 307, 308)
RETRY_STATUS = (429, 500, 502, 503, 504)


class FetchFailed(Exception):
    """A request that gave no usable answer: `reason` is the kind (the summary groups by it), `note` the particulars."""

    def __init__(self, reason: str, note: str = ""):
        super().__init__(f"{reason}：{note}" if note else reason)
        self.reason, self.note = reason, note


class FetchSkipped(FetchFailed):
    """A request not made on purpose: outside the site, or forbidden by robots.txt."""


@dataclass(slots=True)
class Response:
    url: str
    final_url: str
    status: int  # 200 or 304
    headers: dict[str, str]
    body: bytes | None  # None for 304

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Settings:
    timeout: float = 30.0  # seconds to connect, and between bytes
    retries: int = 3  # after the first try, on timeouts, broken connections, 429 and 5xx
    backoff: float = 1.0  # first wait between tries; doubles each time
    max_redirects: int = 5
    max_bytes: int = 200 << 20  # per file


def http_client(settings: Settings, connections: int):
    try:
        import httpx
    except ImportError:
        raise GongkaiError("gongkai fetch 需要 httpx：pip install 'gongkai[fetch]'") from None
    return httpx.Client(
        timeout=httpx.Timeout(settings.timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept-Language": "zh-CN,zh;q=0.9"},
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


Permit = Callable[[str, int], None]  # (url, redirect hop) → raises FetchSkipped when the URL may not be requested


class Client:
    """GET with politeness: each URL (and each redirect hop) passes a `permit`, `gate(url)` paces its host."""

    def __init__(self, settings: Settings, gate: Callable[[str], HostGate], connections: int = 8):
        self.settings, self.gate = settings, gate
        self.http = http_client(settings, connections)
        import httpx  # present: http_client said so

        self._timeout = httpx.TimeoutException
        self._transport = httpx.TransportError

    def close(self) -> None:
        self.http.close()

    def get(self, url: str, permit: Permit, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        """The answer to a (conditional) GET of `url` after redirects: 200 with the body, or 304. Raises FetchFailed."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        for hop in range(self.settings.max_redirects + 1):
            permit(current, hop)  # raises FetchSkipped for an address outside the site or forbidden
            status, answer_headers, body = self._with_retries(current, headers, self.settings.max_bytes)
            if status in REDIRECTS and answer_headers.get("location"):
                target = absolute(current, answer_headers["location"])
                if target is None:
                    raise FetchFailed("重定向地址无效", answer_headers["location"][:200])
                current = target
                continue
            if status in (200, 304):
                return Response(url, current, status, answer_headers, body if status == 200 else None)
            raise FetchFailed(*_status_reason(status))
        raise FetchFailed("重定向过多", f"超过 {self.settings.max_redirects} 次")

    def _with_retries(self, url: str, headers: dict, max_bytes: int) -> tuple[int, dict, bytes]:
        gate = self.gate(url)
        tries = self.settings.retries + 1
        for attempt in range(1, tries + 1):
            retry_after = None
            try:
                with gate.slot():
                    status, answer_headers, body = self._once(url, headers, max_bytes)
                if status not in RETRY_STATUS:
                    return status, answer_headers, body
                failure = FetchFailed(*_status_reason(status))
                retry_after = answer_headers.get("retry-after")
            except self._timeout:
                failure = FetchFailed("超时", f"{self.settings.timeout:g} 秒内没有响应")
            except self._transport as exc:
                failure = FetchFailed("连接失败", type(exc).__name__)
            if attempt == tries:
                break
            time.sleep(backoff(attempt, self.settings.backoff, retry_after))
        raise FetchFailed(failure.reason, f"{failure.note}，共试 {tries} 次".lstrip("，"))

    def _once(self, url: str, headers: dict, max_bytes: int) -> tuple[int, dict, bytes]:
        deadline = time.monotonic() + self.settings.timeout * 10  # a server dripping bytes cannot hold a worker for ever
        with self.http.stream("GET", url, headers=headers) as response:
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            if response.status_code != 200:
                return response.status_code, answer_headers, b""
            length = answer_headers.get("content-length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FetchFailed("超过大小上限", f"{int(length) / 2**20:.1f} MB > {max_bytes / 2**20:.0f} MB")
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchFailed("超过大小上限", f"超过 {max_bytes / 2**20:.0f} MB")
                if time.monotonic() > deadline:
                    raise FetchFailed("超时", "下载时间过长")
                chunks.append(chunk)
            return 200, answer_headers, b"".join(chunks)


def _status_reason(status: int) -> tuple[str, str]:
    if status in (404, 410):
        return f"页面不存在（{status}）", f"HTTP {status}"
    if status in (401, 403):
        return f"拒绝访问（{status}）", f"HTTP {status}"
    if status == 429:
        return "请求过多（429）", "HTTP 429"
    if status >= 500:
        return "服务器错误（5xx）", f"HTTP {status}"
    return f"HTTP {status}", f"HTTP {status}"


def site_of(url: str) -> str:
    return key_of(url) or url
