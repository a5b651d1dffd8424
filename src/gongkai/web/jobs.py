"""The parse queue: uploads become jobs, parsed by `parse_guarded` in spawned worker processes.

Forking straight from the server (threads, DuckDB, uvicorn) can leave the child holding a lock
some other thread had at the fork, and hang until the time limit; a spawned worker is
single-threaded, so its fork is clean.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from gongkai.errors import GongkaiError, UnreadableError
from gongkai.limits import Limits, die_with_parent, parse_guarded, share_cores
from gongkai.read import READERS
from gongkai.read.ocr import pages_to_recognise
from gongkai.read.sniff import sniff
from gongkai.report import Report
from gongkai.web.models import Job, summary_of
from gongkai.web.storage import DataDir, add_to_store, open_store

STATUS_ZH = {"queued": "排队中", "parsing": "解析中", "done": "完成", "failed": "失败"}
KEPT_JOBS = 500  # the newest jobs the server remembers for the upload page
Parser = Callable[..., Report]


def display_name(filename: str | None) -> str:
    """The client's file name, for display only (never a path on the server)."""
    name = (filename or "未命名").replace("\\", "/").rsplit("/", 1)[-1].strip() or "未命名"
    return "".join(ch for ch in name if ch.isprintable())[:200]


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


class GuardedParser:
    """parse_guarded, called from spawned worker processes (a broken pool is replaced)."""

    def __init__(self, workers: int):
        self.workers = workers
        self.lock = threading.Lock()
        share_cores(workers)  # the spawned workers inherit it: OCR in each uses its share of the cores
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"), initializer=die_with_parent)

    def __call__(self, content: bytes, *, name: str, limits: Limits, progress_file: Path | None = None) -> Report:
        with self.lock:
            pool = self.pool
        try:
            payload = pool.submit(_parse_in_worker, content, name, limits, progress_file).result()
        except BrokenProcessPool:
            with self.lock:
                if self.pool is pool:
                    self.pool = self._new_pool()
            raise UnreadableError("解析进程异常退出") from None
        return Report.model_validate_json(payload)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class ParseQueue:
    """Jobs by sha256, parsed on a thread pool through `parser`; each result goes to the data dir and the store."""

    def __init__(self, data: DataDir, store, limits: Limits, workers: int, parser: Parser | None = None):
        self.data, self.store, self.limits = data, store, limits
        self.executor = ThreadPoolExecutor(max_workers=workers + 2, thread_name_prefix="gongkai")
        self.guarded = GuardedParser(workers) if parser is None else None
        self.parser = parser or self.guarded
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self.lock = threading.Lock()
        self.summaries: dict[str, dict] = {}

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.guarded is not None:
            self.guarded.shutdown()

    def run_parse(self, content: bytes, name: str) -> Report:
        if self.guarded is not None:
            progress_file = self.progress_file(hashlib.sha256(content).hexdigest())
            try:
                report = self.guarded(content, name=name, limits=self.limits, progress_file=progress_file)
            finally:
                progress_file.unlink(missing_ok=True)
        else:
            report = self.parser(content, name=name, limits=self.limits)
        self.data.save_report(report)
        self.summaries[report.source.sha256] = summary_of(report)
        add_to_store(self.store(), report)
        return report

    def _work(self, job: Job, content: bytes) -> None:
        job.status, job.status_zh = "parsing", STATUS_ZH["parsing"]
        try:
            report = self.run_parse(content, job.name)
            job.errors, job.warnings = len(report.errors), len(report.warnings)
        except GongkaiError as exc:
            job.status, job.message = "failed", str(exc)
        except Exception as exc:  # noqa: BLE001 — the server must go on; the reviewer sees one line
            if self.data.load_report(job.id) is not None:
                job.status, job.message = "done", f"已解析，但未能写入语料库（{type(exc).__name__}: {exc}）"
            else:
                job.status, job.message = "failed", f"解析出错（{type(exc).__name__}）"
        else:
            job.status = "done"
        job.status_zh = STATUS_ZH[job.status]

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

    def waiting(self) -> int:
        """Jobs queued or being parsed."""
        with self.lock:
            return sum(j.status in ("queued", "parsing") for j in self.jobs.values())

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
            pages = pages_to_recognise(content)
            if pages:
                job.pages, job.pages_done = pages, 0  # a scan: seconds a page, so the page shows how far it got
            self.data.save_file(sha, content)
            self.executor.submit(self._work, job, content)
        return job

    def status(self, ids: list[str]) -> list[Job]:
        with self.lock:
            jobs = [self.jobs[i] for i in ids if i in self.jobs]
        for job in jobs:
            if job.status == "parsing" and job.pages:
                heard = pages_done(self.data.root / "progress" / job.id)
                if heard is not None:
                    job.pages_done, job.pages = heard
        return jobs

    def recent(self, n: int = 50) -> list[Job]:
        with self.lock:
            return list(reversed(self.jobs.values()))[:n]
