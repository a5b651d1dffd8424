"""`gongkai fetch`: from a column's list page to the reports themselves, saved once, resumably.

Walk (this thread): the start page and its other pages (pagination), collecting the links whose
titles look like reports → each report (worker threads): its detail page, then what it holds —
attachments, image pages (put together as one PDF), or the page itself when the report is
inline → saved under DIR/<site>/ with a line in the manifest for every request.

Every request is conditional when the manifest has what it asked for last time (ETag,
Last-Modified) and the copy is still on disk: a rerun gets 304s and downloads nothing it has,
and an interrupted run (kill -9 included) continues, since what was saved is in the manifest.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from gongkai.errors import GongkaiError, UnreadableError
from gongkai.fetch.client import Client, FetchFailed, FetchSkipped, Permit, Response, Settings
from gongkai.fetch.manifest import CACHE, Manifest, Record
from gongkai.fetch.pages import Link, detail_page, is_document, list_page
from gongkai.fetch.polite import HostGate, Robots
from gongkai.fetch.scope import IMAGE_SUFFIXES, Scope, key_of, start_url, suffix_of

OUTSIDE = "站外链接（未跟随）"


@dataclass(slots=True)
class FetchOptions:
    delay: float = 1.0  # seconds between the starts of two requests to one host
    per_host: int = 2  # requests at a time to one host
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    max_redirects: int = 5
    max_mb: float = 200.0  # per file
    max_pages: int = 500  # list pages per start address
    follow_hosts: tuple[str, ...] = ()  # other hosts the reports may live on (a file server, a CDN)
    progress: bool = True

    def settings(self) -> Settings:
        return Settings(timeout=self.timeout, retries=self.retries, backoff=self.backoff,
                        max_redirects=self.max_redirects, max_bytes=int(self.max_mb * 2**20))  # fmt: skip


@dataclass(slots=True)
class FetchSummary:
    folder: str = ""
    list_pages: int = 0
    detail_pages: int = 0
    reports: int = 0  # report links found
    downloaded: int = 0  # report files saved, new or changed
    unchanged: int = 0  # report files the server said (or showed) had not changed
    failed: Counter = field(default_factory=Counter)  # reason → how many requests or reports
    skipped: Counter = field(default_factory=Counter)  # reason → how many links not requested on purpose
    truncated: list[str] = field(default_factory=list)  # start addresses whose walk hit max_pages
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def pages(self) -> int:
        return self.list_pages + self.detail_pages


def fetch(urls: list[str], out: str | os.PathLike, options: FetchOptions | None = None, *, console=None) -> FetchSummary:
    """Fetch the reports of the columns at `urls` into the folder `out`; returns what happened."""
    options = options or FetchOptions()
    starts = list(dict.fromkeys(start_url(u) for u in urls))  # every address checked before any request
    if not starts:
        raise GongkaiError("没有给出栏目页网址")
    scopes = [Scope.of(u, options.follow_hosts) for u in starts]
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise GongkaiError(f"{folder} 不是目录")
    started = time.perf_counter()
    try:
        crawl = Crawl(folder, options, console)
    except OSError as exc:
        raise GongkaiError(f"无法写入 {folder}：{exc.strerror or exc}") from None
    with crawl:
        try:
            for start, scope in zip(starts, scopes):
                crawl.walk(start, scope)
            crawl.finish()
        except KeyboardInterrupt:
            crawl.stop()
            crawl.summary.interrupted = True
    crawl.summary.seconds = time.perf_counter() - started
    if crawl.summary.interrupted:
        raise KeyboardInterrupt
    return crawl.summary


class Crawl:
    """One fetch run into one folder: the manifest, the client, the per-host gates, the worker threads."""

    def __init__(self, folder: Path, options: FetchOptions, console=None):
        self.folder, self.options = folder.absolute(), options
        self.client = Client(options.settings(), self._gate, connections=max(2, options.per_host * 2))  # first: httpx may be missing
        self.manifest = Manifest(self.folder)
        self.cache = self.folder / CACHE
        self.cache.mkdir(exist_ok=True)
        _remove_leftovers(self.folder)
        self.summary = FetchSummary(folder=str(folder))
        self._gates: dict[str, HostGate] = {}
        self._robots: dict[str, Robots] = {}
        self._lock = threading.Lock()
        self._robots_lock = threading.Lock()
        self._stopping = threading.Event()
        self._seen: set[str] = set()  # report links handed out this run
        self._handled: set[tuple[str, str]] = set()  # files requested this run
        self._futures = []
        self.pool = ThreadPoolExecutor(max_workers=max(1, min(16, options.per_host * 2)), thread_name_prefix="gongkai-fetch")
        self.progress = _Progress(options.progress, console)

    def __enter__(self) -> Crawl:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            self.progress.__exit__(*exc)
            self.client.close()
            self.manifest.close()

    # the walk of a column ---------------------------------------------------------------

    def walk(self, start: str, scope: Scope) -> None:
        """The column at `start`: every list page its pagination reaches; each report link handed to a worker."""
        permit = self._permit(scope)
        queue, seen = deque([start]), {start}
        visited = 0
        while queue and not self._stopping.is_set():
            if visited >= self.options.max_pages:
                self.summary.truncated.append(start)
                break
            url = queue.popleft()
            visited += 1
            try:
                record, body = self._page("list", url, permit)
            except FetchFailed:
                continue
            self.summary.list_pages += 1
            self.progress.update(self.summary)
            try:
                found = list_page(body, record.final_url or url, record.content_type)
            except UnreadableError as exc:
                self._count_failure("网页无法解析", record, str(exc))
                continue
            for page in found.pages:
                if page not in seen and scope.allows(page):
                    seen.add(page)
                    queue.append(page)
            for link in found.reports:
                self._report_found(link, scope, permit)

    def _report_found(self, link: Link, scope: Scope, permit: Permit) -> None:
        with self._lock:
            if link.url in self._seen:
                return
            self._seen.add(link.url)
        kind = "file" if is_document(link.url, link.title) else "detail"
        if not scope.allows(link.url):
            self._skip(Record(kind, link.url, "skipped", title=link.title, listed=link.listed), OUTSIDE, link.url)
            return
        with self._lock:
            self.summary.reports += 1
        self.progress.update(self.summary)
        self._futures.append(self.pool.submit(self._guarded, self._report, link, scope, permit))

    def finish(self) -> None:
        """Wait for every report handed out."""
        for future in self._futures:
            future.result()

    def stop(self) -> None:
        """Ctrl-C: hand out nothing more; what is in flight ends with its request (the manifest stays whole)."""
        self._stopping.set()
        self.pool.shutdown(wait=True, cancel_futures=True)

    # one report -------------------------------------------------------------------------

    def _guarded(self, task, *args) -> None:
        if self._stopping.is_set():
            return
        try:
            task(*args)
        except FetchFailed:
            pass  # in the manifest and the summary already
        except Exception as exc:  # noqa: BLE001 — one odd page never ends the fetch; the manifest says what happened
            with self._lock:
                self.summary.failed["内部错误"] += 1
            self.progress.note(f"内部错误（{type(exc).__name__}: {exc}）：{args[0].url if args else ''}")
        finally:
            self.progress.report_done(self.summary)

    def _report(self, link: Link, scope: Scope, permit: Permit) -> None:
        """A report link: the file it points at, or its detail page and what that holds."""
        base = Record("file", link.url, "", title=link.title, listed=link.listed)
        if is_document(link.url, link.title):
            self._file(base, permit, suffix_of(link.url, link.title))
            return
        record, body = self._page("detail", link.url, permit, title=link.title, listed=link.listed)
        with self._lock:
            self.summary.detail_pages += 1
        page_url = record.final_url or link.url
        try:
            detail = detail_page(body, page_url, record.content_type)
        except UnreadableError as exc:
            self._count_failure("网页无法解析", record, str(exc))
            return
        base = replace(base, detail=link.url)
        if detail.kind == "documents":
            for doc in detail.documents:
                attachment = replace(base, url=doc.url)
                if scope.allows(doc.url):
                    self._guard_each(self._file, attachment, permit, suffix_of(doc.url, doc.title))
                else:
                    self._skip(attachment, OUTSIDE, doc.url)
        elif detail.kind == "inline":
            self._keep(base, body, _response_of(record), ".html")
        elif detail.kind == "images":
            for image in detail.images:
                if not scope.allows(image.url):
                    self._skip(replace(base, kind="image", url=image.url), OUTSIDE, image.url)
            inside = [image for image in detail.images if scope.allows(image.url)]
            if inside:
                self._images(base, inside, permit)
        else:
            self._count_failure("详情页里没有报告", replace(base, status="failed"), "没有附件、图片或报告正文", write=True)

    def _guard_each(self, step, *args) -> None:
        """One attachment failing does not stop the others of the same report."""
        try:
            step(*args)
        except FetchFailed:
            pass

    def _images(self, base: Record, images: list[Link], permit: Permit) -> None:
        """A report posted as pictures: one picture is the report; several are its pages, put together as one PDF."""
        if len(images) == 1:
            self._file(replace(base, url=images[0].url), permit, _image_suffix(images[0].url))
            return
        target = self._target(base, ".pdf")
        records = []
        for number, image in enumerate(images, start=1):
            part = replace(base, kind="image", url=image.url)
            # the pages beside the PDF, in a *.parts folder: gongkai batch reads the PDF, not each page
            path = target.parent / f"{target.stem}.parts" / f"p{number:03d}{_image_suffix(image.url)}"
            records.append(self._download(part, permit, path))
        previous = self.manifest.get("file", base.url)
        parts = [r.url for r in records]
        if previous and previous.parts == parts and all(r.status == "unchanged" for r in records) and _intact(target, previous):
            self._count_file(self.manifest.write(replace(previous, status="unchanged", reason=None, note=None)))
            return
        from gongkai.fetch.assemble import images_to_pdf

        try:
            pdf = images_to_pdf([(self.folder / r.saved).read_bytes() for r in records])
        except GongkaiError as exc:
            self._count_failure("图片页无法合成", replace(base, status="failed"), str(exc), write=True)
            return
        self._keep(replace(base, parts=parts), pdf, None, ".pdf", target=target)

    # saving -----------------------------------------------------------------------------

    def _file(self, base: Record, permit: Permit, suffix: str) -> Record:
        """An attachment (or a picture that is the whole report) saved under the site's folder."""
        return self._download(base, permit, self._target(base, suffix or ".bin"))

    def _download(self, base: Record, permit: Permit, path: Path) -> Record:
        with self._lock:
            again = (base.kind, base.url) in self._handled  # one file linked from two reports: fetched once a run
            self._handled.add((base.kind, base.url))
        previous = self.manifest.get(base.kind, base.url)
        if again and previous is not None:
            return previous
        saved = self._relative(path)
        intact = previous is not None and previous.saved == saved and _intact(path, previous)
        response = self._get(base, permit, previous if intact else None)
        if response.not_modified:
            return self._count_file(self.manifest.write(_refreshed(previous, base, response)))
        expected = suffix_of(base.url, base.title or "")
        if _looks_like_page(response.body) and expected not in (".htm", ".html", ""):
            raise self._count_failure("链接返回网页而不是文件", replace(base, status="failed", final_url=response.final_url),
                                      f"{response.headers.get('content-type', '')}（链接可能已失效）", write=True)  # fmt: skip
        return self._keep(base, response.body, response, path.suffix, target=path)

    def _keep(self, base: Record, body: bytes, response: Response | None, suffix: str, *, target: Path | None = None) -> Record:
        """Save `body` for `base` unless the same bytes are there already; its manifest line says which."""
        path = target or self._target(base, suffix)
        saved = self._relative(path)
        previous = self.manifest.get(base.kind, base.url)
        sha = hashlib.sha256(body).hexdigest()
        same = previous is not None and previous.saved == saved and previous.sha256 == sha and _intact(path, previous)
        if not same:
            _write_atomically(path, body)
        st = path.stat()
        record = replace(
            base, status="unchanged" if same else "downloaded", sha256=sha, saved=saved, bytes=len(body),
            mtime_ns=st.st_mtime_ns, reason=None, note=None, **_answer(response),
        )  # fmt: skip
        self.manifest.write(record)
        return self._count_file(record)

    def _page(self, kind: str, url: str, permit: Permit, *, quiet: bool = False, **fields) -> tuple[Record, bytes]:
        """A list or detail page (conditional on the copy kept in the cache folder) and its bytes.

        `quiet`: a failure goes to the manifest but not the summary (a site without robots.txt is no failure).
        """
        base = Record(kind, url, "", **fields)
        path = self.cache / f"{hashlib.sha1(f'{kind} {url}'.encode()).hexdigest()[:24]}.page"
        previous = self.manifest.get(kind, url)
        intact = previous is not None and previous.saved == self._relative(path) and _intact(path, previous)
        response = self._get(base, permit, previous if intact else None, quiet=quiet)
        if response.not_modified:
            return self.manifest.write(_refreshed(previous, base, response)), path.read_bytes()
        sha = hashlib.sha256(response.body).hexdigest()
        changed = not (intact and previous.sha256 == sha)
        if changed:
            _write_atomically(path, response.body)
        record = replace(base, status="downloaded" if changed else "unchanged", sha256=sha, saved=self._relative(path),
                         bytes=len(response.body), mtime_ns=path.stat().st_mtime_ns, **_answer(response))  # fmt: skip
        return self.manifest.write(record), response.body

    def _get(self, base: Record, permit: Permit, previous: Record | None, *, quiet: bool = False) -> Response:
        """The (conditional) answer for `base.url`; a failure is written to the manifest, counted, and raised."""
        try:
            response = self.client.get(base.url, permit, etag=previous and previous.etag,
                                       last_modified=previous and previous.last_modified)  # fmt: skip
        except FetchSkipped as exc:
            self._skip(base, exc.reason, exc.note)
            raise
        except FetchFailed as exc:
            kept = previous or self.manifest.get(base.kind, base.url)
            failed = replace(base, status="failed", reason=exc.reason, note=exc.note or None, **(_validators(kept) if kept else {}))
            if quiet:
                self.manifest.write(failed)
                raise
            raise self._count_failure(exc.reason, failed, exc.note, write=True) from None
        if response.not_modified and previous is None:
            raise self._count_failure("服务器答 304 而本地没有副本", replace(base, status="failed"), "", write=True)
        return response

    # bookkeeping ------------------------------------------------------------------------

    def _count_file(self, record: Record) -> Record:
        if record.kind == "file":
            with self._lock:
                if record.status == "downloaded":
                    self.summary.downloaded += 1
                elif record.status == "unchanged":
                    self.summary.unchanged += 1
            self.progress.update(self.summary)
        return record

    def _count_failure(self, reason: str, record: Record, note: str, *, write: bool = False) -> FetchFailed:
        if write:
            self.manifest.write(replace(record, status="failed", reason=reason, note=note or None))
        with self._lock:
            self.summary.failed[reason] += 1
        self.progress.update(self.summary)
        return FetchFailed(reason, note)

    def _skip(self, record: Record, reason: str, note: str) -> None:
        self.manifest.write(replace(record, status="skipped", reason=reason, note=note or None))
        with self._lock:
            self.summary.skipped[reason] += 1

    def _target(self, base: Record, suffix: str) -> Path:
        """Where `base` is saved: where it was saved before (a title changed on the site makes no second copy), else a new name."""
        previous = self.manifest.get(base.kind, base.url)
        if previous is not None and previous.saved:
            path = Path(os.path.normpath(self.folder / previous.saved))
            if path.is_relative_to(self.folder) and not path.is_relative_to(self.cache):
                return path
        return self._site_dir(base.detail or base.url) / f"{self._name(base)}{suffix}"  # under the site that published it

    def _name(self, base: Record) -> str:
        """A file name a person can read (the report's title) that no other URL gets (a hash of the URL)."""
        title = re.sub(r'[\\/:*?"<>|\x00-\x1f\x7f]+', "_", base.title or "").strip(" ._")[:60] or "报告"
        return f"{title}_{hashlib.sha1(base.url.encode()).hexdigest()[:8]}"

    def _site_dir(self, url: str) -> Path:
        return self.folder / re.sub(r"[^A-Za-z0-9.-]+", "_", key_of(url) or "site")

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.folder).as_posix()

    # politeness -------------------------------------------------------------------------

    def _gate(self, url: str) -> HostGate:
        key = key_of(url) or url
        with self._lock:
            gate = self._gates.get(key)
            if gate is None:
                gate = self._gates[key] = HostGate(self.options.delay, self.options.per_host)
        return gate

    def _permit(self, scope: Scope) -> Permit:
        def permit(url: str, hop: int) -> None:
            if not scope.allows(url):
                raise FetchSkipped("重定向到站外" if hop else OUTSIDE, url)
            robots = self._robots_for(url, scope)
            if not robots.allows(url):
                raise FetchSkipped(robots.refusal, url)

        return permit

    def _robots_for(self, url: str, scope: Scope) -> Robots:
        """The robots.txt of `url`'s origin, fetched once a run (conditionally, like every page)."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        with self._robots_lock:
            robots = self._robots.get(origin)
            if robots is not None:
                return robots

            def same_site(target: str, hop: int) -> None:
                if not scope.allows(target):
                    raise FetchSkipped("重定向到站外", target)

            try:
                record, body = self._page("robots", f"{origin}/robots.txt", same_site, quiet=True)
                robots = Robots(body.decode("utf-8", errors="replace"))
            except FetchSkipped:
                robots = Robots(None)
            except FetchFailed as exc:
                # RFC 9309: unavailable (4xx) means no rules; unreachable (5xx, no answer) means nothing may be fetched
                robots = Robots(None) if exc.reason.startswith(("页面不存在", "拒绝访问", "HTTP 4")) else Robots(None, unreachable=True)
            delay = robots.crawl_delay()
            if delay:
                self._gate(url).slow_down(delay)
            self._robots[origin] = robots
            return robots


def _response_of(record: Record) -> Response:
    """The answer a page's record remembers (for an inline report saved from the page already fetched)."""
    headers = {k: v for k, v in (("date", record.http_date), ("last-modified", record.last_modified),
                                 ("etag", record.etag), ("content-type", record.content_type)) if v}  # fmt: skip
    return Response(record.url, record.final_url or record.url, 200, headers, None)


def _answer(response: Response | None) -> dict:
    if response is None:
        return {}
    h = response.headers
    return {"final_url": response.final_url, "http_date": h.get("date"), "last_modified": h.get("last-modified"),
            "etag": h.get("etag"), "content_type": h.get("content-type")}  # fmt: skip


def _refreshed(previous: Record, base: Record, response: Response) -> Record:
    """The previous record, confirmed by a 304 (whose validators, if it sends new ones, win), with what the
    site says of the link now (title, listed date, detail page)."""
    h = response.headers
    return replace(previous, status="unchanged", final_url=response.final_url, http_date=h.get("date") or previous.http_date,
                   etag=h.get("etag") or previous.etag, last_modified=h.get("last-modified") or previous.last_modified,
                   title=base.title or previous.title, listed=base.listed or previous.listed, detail=base.detail or previous.detail,
                   reason=None, note=None)  # fmt: skip


def _validators(record: Record) -> dict:
    """What a failed request keeps of the last good answer, so the next run can still ask conditionally."""
    return {k: getattr(record, k) for k in ("final_url", "http_date", "last_modified", "etag", "sha256", "saved", "bytes",
                                             "mtime_ns", "content_type", "parts")}  # fmt: skip


def _intact(path: Path, record: Record) -> bool:
    """The copy on disk is the one the record describes (same size and modification time)."""
    try:
        st = path.stat()
    except OSError:
        return False
    return st.st_size == record.bytes and st.st_mtime_ns == record.mtime_ns


def _write_atomically(path: Path, data: bytes) -> None:
    """Whole or not at all: a temporary name in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _remove_leftovers(folder: Path) -> None:
    """Temporary files of a run killed mid-write."""
    for tmp in folder.rglob(".*.part"):
        if tmp.is_file():
            tmp.unlink(missing_ok=True)


def _looks_like_page(body: bytes) -> bool:
    from gongkai.read.sniff import sniff

    return sniff(body[:8192]) == "html"


def _image_suffix(url: str) -> str:
    suffix = suffix_of(url)
    return suffix if suffix in IMAGE_SUFFIXES else ".jpg"


# progress ---------------------------------------------------------------------------------


class _Progress:
    """A rich progress bar over the reports found so far: pages, downloaded, unchanged, failed (silent when disabled)."""

    def __init__(self, enabled: bool, console=None):
        self.enabled, self.console = enabled, console
        self.done = 0
        self._lock = threading.Lock()

    def __enter__(self):
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.bar = Progress(
                TextColumn("[bold]采集"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("页面 {task.fields[pages]}"),
                TextColumn("[green]下载 {task.fields[downloaded]}"),
                TextColumn("未变 {task.fields[unchanged]}"),
                TextColumn("[red]失败 {task.fields[failed]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("fetch", total=0, pages=0, downloaded=0, unchanged=0, failed=0)
        return self

    def update(self, summary: FetchSummary) -> None:
        if self.enabled:
            self.bar.update(self.task, total=summary.reports, completed=self.done, pages=summary.pages,
                            downloaded=summary.downloaded, unchanged=summary.unchanged, failed=sum(summary.failed.values()))  # fmt: skip

    def report_done(self, summary: FetchSummary) -> None:
        with self._lock:
            self.done += 1
        self.update(summary)

    def note(self, text: str) -> None:
        if self.enabled:
            self.bar.console.print(text, markup=False, highlight=False)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
