"""The parse queue: every job that touches a document's bytes — an upload's parse, an /api/parse,
a page image, the source lines — goes through one bounded queue (past `max_queue` jobs waiting or
running, a request is refused with 503) and runs in a guarded child (`limits.run_guarded`: time
limit, memory cap) forked by a spawned worker process.

Forking straight from the server (threads, DuckDB, uvicorn) can leave the child holding a lock
some other thread had at the fork, and hang until the time limit; a spawned worker is
single-threaded, so its fork is clean. A page image or the source lines are made once and kept on
disk (`DataDir.derived_path`), and so is the reason they could not be made.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from gongkai.errors import GongkaiError, UnreadableError
from gongkai.limits import Limits, die_with_parent, parse_guarded, run_guarded, share_cores
from gongkai.read import READERS
from gongkai.read.sniff import sniff
from gongkai.report import Report
from gongkai.web.models import Job, summary_of
from gongkai.web.storage import DataDir, add_to_store, open_store

STATUS_ZH = {"queued": "排队中", "parsing": "解析中", "done": "完成", "failed": "失败"}
KEPT_JOBS = 500  # the newest jobs the server remembers for the upload page
WORKER_NICENESS = 10
Parser = Callable[..., Report]


def display_name(filename: str | None) -> str:
    """The client's file name, for display only (never a path on the server)."""
    name = (filename or "未命名").replace("\\", "/").rsplit("/", 1)[-1].strip() or "未命名"
    return "".join(ch for ch in name if ch.isprintable())[:200]


class QueueFull(GongkaiError):
    """More jobs are waiting than the server takes (the app answers 503)."""


class Cancelled(GongkaiError):
    """The client that asked for the job went away before it started."""


def _worker_started() -> None:
    """A worker (and the guarded children it forks) gives way to the server's own threads: a page
    must be served within a second while every CPU parses."""
    die_with_parent()
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)


def _parse_in_worker(content: bytes, name: str, limits: Limits, progress_file: Path | None = None) -> str:
    """Runs in a spawned worker: parse_guarded forks its child from a single-threaded process.
    The pages done go to `progress_file` ("done total"), which the server reads when asked."""

    def tell(done: int, total: int) -> None:
        part = progress_file.with_suffix(".part")
        part.write_text(f"{done} {total}")
        part.replace(progress_file)

    return parse_guarded(content, name=name, limits=limits, on_progress=tell if progress_file else None).to_json()


def pages_done(progress_file: Path) -> tuple[int, int] | None:
    """(done, total) written by the worker parsing a file, if it has said anything yet."""
    try:
        done, total = progress_file.read_text().split()
        return int(done), int(total)
    except (OSError, ValueError):
        return None


def _run_in_worker(function, args: tuple, seconds: float, memory_mb: int) -> str | bytes:
    return run_guarded(function, *args, limits=Limits(seconds=seconds, memory_mb=memory_mb))


class GuardedParser:
    """parse_guarded (and any run_guarded job), called from spawned worker processes (a broken pool is replaced)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.free = threading.Semaphore(workers)
        self.lock = threading.Lock()
        share_cores(workers)  # the spawned workers inherit it: OCR in each uses its share of the cores
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"), initializer=_worker_started)

    def __call__(self, content: bytes, *, name: str, limits: Limits, cancelled: threading.Event | None = None,
                 progress_file: Path | None = None) -> Report:  # fmt: skip
        return Report.model_validate_json(self._in_worker(cancelled, _parse_in_worker, content, name, limits, progress_file))

    def run(self, function, *args, limits: Limits, cancelled: threading.Event | None = None) -> str | bytes:
        """`run_guarded(function, *args)` in a worker."""
        return self._in_worker(cancelled, _run_in_worker, function, args, limits.seconds, limits.memory_mb)

    def _in_worker(self, cancelled: threading.Event | None, *call):
        # a job waits here for a free worker, not in the pool's own queue (whose calls cannot be cancelled)
        while not self.free.acquire(timeout=0.2):
            if cancelled is not None and cancelled.is_set():
                raise Cancelled("请求已取消")
        try:
            if cancelled is not None and cancelled.is_set():
                raise Cancelled("请求已取消")
            with self.lock:
                pool = self.pool
            return pool.submit(*call).result()
        except BrokenProcessPool:
            with self.lock:
                if self.pool is pool:
                    self.pool = self._new_pool()
            raise UnreadableError("解析进程异常退出") from None
        finally:
            self.free.release()

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class ParseQueue:
    """Jobs by sha256, parsed on a thread pool through `parser`; each result goes to the data dir and the store.

    Every job that reads a document's bytes is submitted through `submit`, which counts it until it
    ends: past `max_queue` jobs the next is refused (`QueueFull`)."""

    def __init__(self, data: DataDir, store, limits: Limits, workers: int, parser: Parser | None = None, *, max_queue: int = 200):
        self.data, self.store, self.limits = data, store, limits
        self.max_queue = max_queue
        self.executor = ThreadPoolExecutor(max_workers=workers + 2, thread_name_prefix="gongkai")
        self.guarded = GuardedParser(workers)  # page images and source lines, whatever parses the uploads
        self.parser = parser or self.guarded
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.summaries: dict[str, dict] = {}
        self.in_flight = 0  # jobs submitted and not yet ended
        self.deriving: dict[Path, Future] = {}

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.guarded.shutdown()

    def submit(self, function, *args, count: int = 1, reserved: bool = False) -> Future:
        """Run `function(*args)` on the queue's threads, or raise `QueueFull` (`reserved`: the caller
        took the place already, with `admit`)."""
        if not reserved:
            with self.lock:
                self.reserve(count)
        try:
            future = self.executor.submit(function, *args)
        except RuntimeError:  # shutting down
            self.release(count)
            raise QueueFull("服务器正在停止") from None
        future.add_done_callback(lambda _: self.release(count))
        return future

    def reserve(self, count: int) -> None:
        """Count `count` more jobs (call under `self.lock`), or raise `QueueFull`."""
        if self.in_flight + count > self.max_queue:
            raise QueueFull(f"服务器正忙：已有 {self.in_flight} 个文件在排队或解析，请稍后再试")
        self.in_flight += count

    def admit(self) -> None:
        """Take a place for a job before its bytes are read into memory (give it back with `release(1)`)."""
        with self.lock:
            self.reserve(1)

    def release(self, count: int) -> None:
        with self.lock:
            self.in_flight -= count

    def run_parse(self, content: bytes, name: str, cancelled: threading.Event | None = None) -> Report:
        if self.parser is self.guarded:
            progress_file = self.progress_file(hashlib.sha256(content).hexdigest())
            try:
                report = self.guarded(content, name=name, limits=self.limits, cancelled=cancelled, progress_file=progress_file)
            finally:
                progress_file.unlink(missing_ok=True)
        else:
            report = self.parser(content, name=name, limits=self.limits)
        self.data.save_report(report)
        self.summaries[report.source.sha256] = summary_of(report)
        add_to_store(self.store(), report)
        return report

    def parse_now(self, content: bytes, name: str, cancelled: threading.Event | None = None, *, reserved: bool = False) -> Future:
        """A parse for /api/parse: the upload kept while it runs, forgotten if it fails."""
        sha = hashlib.sha256(content).hexdigest()

        def parse() -> Report:
            if cancelled is not None and cancelled.is_set():
                raise Cancelled("请求已取消")
            self.data.save_file(sha, content)
            try:
                return self.run_parse(content, name, cancelled)
            except GongkaiError:
                self.data.remove_file(sha)
                raise

        return self.submit(parse, reserved=reserved)

    def derive(self, sha: str, name: str, function, *args) -> Future:
        """`function(upload bytes, path, *args)` writes `name` of upload `sha` under the guard, once:
        the future of the path, or of the error the first try ended with (kept on disk too)."""
        path = self.data.derived_path(sha, name)
        done: Future = Future()
        failure = self.data.derived_failure(path)
        if path.exists() or failure is not None:
            done.set_result(path) if failure is None else done.set_exception(failure)
            return done
        with self.lock:
            running = self.deriving.get(path)
            if running is not None:
                return running
            self.reserve(1)
            self.deriving[path] = done
        try:
            future = self.executor.submit(self._derive, sha, path, function, args)
        except RuntimeError:
            future = Future()
            future.set_exception(QueueFull("服务器正在停止"))
        future.add_done_callback(lambda f: self._derived(path, f, done))
        return done

    def _derive(self, sha: str, path: Path, function, args: tuple) -> Path:
        try:
            content = self.data.file_path(sha).read_bytes()
            self.guarded.run(function, content, str(path), *args, limits=self.limits)
        except GongkaiError as exc:
            self.data.save_derived_failure(path, exc)
            raise
        return path

    def _derived(self, path: Path, future: Future, done: Future) -> None:
        with self.lock:
            self.deriving.pop(path, None)
            self.in_flight -= 1
        if future.cancelled():
            done.set_exception(QueueFull("服务器正在停止"))
        elif future.exception() is not None:
            done.set_exception(future.exception())
        else:
            done.set_result(future.result())

    def _work(self, job: Job, content: bytes) -> None:
        job.status, job.status_zh = "parsing", STATUS_ZH["parsing"]
        try:
            report = self.run_parse(content, job.name)
            job.errors, job.warnings = len(report.errors), len(report.warnings)
        except GongkaiError as exc:
            job.status, job.message = "failed", str(exc)
            self.data.remove_file(job.id)
        except Exception as exc:  # noqa: BLE001 — the server must go on; the reviewer sees one line
            if self.data.load_report(job.id) is not None:
                job.status, job.message = "done", f"已解析，但未能写入语料库（{type(exc).__name__}: {exc}）"
            else:
                job.status, job.message = "failed", f"解析出错（{type(exc).__name__}）"
        else:
            job.status = "done"
        job.status_zh = STATUS_ZH[job.status]

    def waiting(self) -> int:
        """Jobs queued or running (parses, page images, source lines)."""
        with self.lock:
            return self.in_flight

    def progress_file(self, sha: str) -> Path:
        folder = self.data.root / "progress"
        folder.mkdir(exist_ok=True)
        return folder / sha

    def in_store(self, sha: str) -> bool:
        """Is a report of these bytes already in the corpus store (put there by `gongkai batch`, say)?"""
        store = self.store()
        if not store.exists():
            return False
        try:
            with open_store(store) as con:
                return con.execute("SELECT 1 FROM reports WHERE sha256 = ? LIMIT 1", [sha]).fetchone() is not None
        except Exception:  # noqa: BLE001 — a store that cannot be read now only means the file is parsed again
            return False

    def accept(self, content: bytes, filename: str | None) -> Job:
        """A job for one uploaded file: refused by type, already known, or queued for parsing."""
        name = display_name(filename)
        fmt = sniff(content, name)
        sha = hashlib.sha256(content).hexdigest()
        job = Job(id=sha, name=name, status="queued", status_zh=STATUS_ZH["queued"], format=fmt)
        if fmt not in READERS:
            job.id, job.status, job.status_zh = "", "failed", STATUS_ZH["failed"]
            job.message = f"不支持的文件类型（按内容判断为 {fmt}）"
            return job
        with self.lock:
            existing = self.jobs.get(sha)
            if existing and existing.status in ("queued", "parsing"):
                return existing
            if self.data.load_report(sha) is not None:
                job.status, job.status_zh, job.message = "done", STATUS_ZH["done"], "此前已解析过"
            elif self.in_store(sha):
                job.status, job.status_zh, job.message = "done", STATUS_ZH["done"], "语料库中已有这份报告，直接显示已有结果"
            self.jobs[sha] = job
            self.jobs.move_to_end(sha)
            while len(self.jobs) > KEPT_JOBS:
                self.jobs.popitem(last=False)
        if job.status == "queued":
            self.data.save_file(sha, content)
            try:
                self.submit(self._work, job, content)
            except QueueFull as exc:
                self.data.remove_file(sha)
                job.id, job.status, job.status_zh, job.message = "", "failed", STATUS_ZH["failed"], str(exc)
                with self.lock:
                    self.jobs.pop(sha, None)
        return job

    def status(self, ids: list[str]) -> list[Job]:
        with self.lock:
            jobs = [self.jobs[i] for i in ids if i in self.jobs]
        for job in jobs:  # a scan: seconds a page, so the page shows how far it got (the worker says how many)
            if job.status == "parsing":
                heard = pages_done(self.data.root / "progress" / job.id)
                if heard is not None:
                    job.pages_done, job.pages = heard
        return jobs

    def recent(self, n: int = 50) -> list[Job]:
        with self.lock:
            return list(reversed(self.jobs.values()))[:n]
