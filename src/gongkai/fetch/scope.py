"""Which addresses a fetch may request: the site's own host and its www/non-www twin, plus the hosts named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urldefrag, urljoin, urlsplit

from gongkai.errors import GongkaiError

DOCUMENT_SUFFIXES = (".pdf", ".doc", ".docx", ".wps", ".ofd")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".gif", ".webp")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def start_url(text: str) -> str:
    """A start address as given by the user, checked: http(s) with a host, or one Chinese line."""
    url = text.strip()
    if url and "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GongkaiError(f"不是网址：{text!r}（应为 http:// 或 https:// 开头的栏目页地址）")
    return urldefrag(url).url


def site_key(host: str, port: int | None = None, scheme: str = "http") -> str:
    """One name for a host and its www twin (and the port, when not the scheme's default)."""
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{host}:{port}"
    return host


def key_of(url: str) -> str | None:
    """The site key of an http(s) URL, or None for anything else (mailto:, javascript:, ftp:)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return site_key(parts.hostname, port, parts.scheme)


def _host_key(text: str) -> str:
    """A --follow-host value (a host, host:port or a URL) as a site key."""
    text = text.strip()
    key = key_of(text if "://" in text else "http://" + text)
    if key is None:
        raise GongkaiError(f"--follow-host：不是主机名：{text!r}")
    return key


@dataclass(frozen=True, slots=True)
class Scope:
    """The sites one start address may reach."""

    keys: frozenset[str]

    @classmethod
    def of(cls, start: str, follow_hosts: tuple[str, ...] = ()) -> Scope:
        return cls(frozenset({key_of(start), *(_host_key(h) for h in follow_hosts)}))

    def allows(self, url: str) -> bool:
        return key_of(url) in self.keys


def absolute(base: str, href: str) -> str | None:
    """`href` resolved against `base`, without its #fragment; None when it is not an http(s) address."""
    href = href.strip()
    if not href or href.startswith("#") or re.match(r"(?i)(javascript|mailto|tel|data):", href):
        return None
    try:
        url = urldefrag(urljoin(base, href)).url
    except ValueError:
        return None
    return url if key_of(url) else None


def same_column(url: str, column: str) -> bool:
    """Whether `url` lies in the folder of the list page `column` (where its pagination lives)."""
    a, b = urlsplit(url), urlsplit(column)
    if key_of(url) != key_of(column):
        return False
    return _folder(a.path) == _folder(b.path)


def _folder(path: str) -> str:
    return path if path.endswith("/") else str(PurePosixPath(path or "/").parent).rstrip("/") + "/"


def suffix_of(url: str, text: str = "") -> str:
    """The file suffix of a link: its path's, else one its text ends with ("附件：年报.pdf" on a download.jsp?id=5)."""
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    if suffix in DOCUMENT_SUFFIXES + IMAGE_SUFFIXES:
        return suffix
    match = re.search(r"(\.[A-Za-z]{2,4})\s*[)）]?\s*$", text.strip())
    if match and match.group(1).lower() in DOCUMENT_SUFFIXES + IMAGE_SUFFIXES:
        return match.group(1).lower()
    return suffix
