"""`gongkai batch`: parse every report under folders into the store, resumably, in parallel.

Plan (hash inputs, load leftover shards, drop stale rows, skip what is done unless it is to
be parsed again) → run the parse tasks on an engine (serial, a process pool, or a Dask
scheduler) → stream results into shards of `shard_size` rows, each committed and loaded at
once, a report parsed again replacing its old rows → corpus rules.
A kill at any moment loses at most the rows not yet in a committed shard; a rerun redoes them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.errors import GongkaiError
from gongkai.limits import DEFAULT_LIMITS, Limits, die_with_parent
from gongkai.store.db import Store
from gongkai.store.inputs import discover, hash_files
from gongkai.store.parsed_by import current_parser
from gongkai.store.rows import Rows, failure_rows
from gongkai.store.work import parse_chunk, parse_file


@dataclass(slots=True)
class BatchOptions:
    workers: int = 1
    engine: str = "local"  # local | dask
    scheduler: str | None = None  # tcp://host:port of a running Dask scheduler
    limits: Limits = DEFAULT_LIMITS
    shard_size: int = 200  # rows per shard: the most a kill -9 can lose
    shard_seconds: float = 30.0  # …or commit whatever has come in after this long
    retry_failed: bool = False
    redo: bool = False  # parse every input again, even when it is in the store
    redo_stale: bool = False  # parse again what another parser (version or code) made
    aliases: dict[str, str] | None = None
    progress: bool = True


@dataclass(slots=True)
class BatchSummary:
    found: int = 0
    unique: int = 0
    skipped: int = 0
    redone: int = 0  # of the parsed and failed: in the store before, parsed again
    stale: int = 0
    recovered_shards: int = 0
    parsed: int = 0
    failed: int = 0
    shards: int = 0
    seconds: float = 0.0
    reports: int = 0
    findings: int = 0
    corpus_findings: int = 0
    failures: int = 0
    outdated: int = 0  # reports and failures in the store made by another parser than this one
    addressed: int = 0  # reports in the store with the web address they were fetched from
    interrupted: bool = False
    failure_reasons: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # inputs not read: (path, why)

    @property
    def rate(self) -> float:
        done = self.parsed + self.failed
        return done / self.seconds if self.seconds else 0.0


Task = tuple[str, str]  # (path, sha256)


def plan(store: Store, roots: list[str | os.PathLike], options: BatchOptions, summary: BatchSummary) -> list[Task]:
    """The (path, sha256) still to parse; leftovers of a killed run are loaded first."""
    summary.recovered_shards = store.recover()
    if options.aliases is not None:
        store.set_aliases(options.aliases)
    files = discover(roots, exclude=[store.parts], refused=summary.refused)
    hashes = hash_files(files, store.known_hashes(), refused=summary.refused)
    summary.found = len(files)
    summary.stale = store.reconcile(files, hashes)
    first_path: dict[str, str] = {}
    for path in sorted(hashes):
        first_path.setdefault(hashes[path], path)
    summary.unique = len(first_path)
    done = store.done()
    again = set(done) if options.redo else set()
    if options.retry_failed:
        again |= store.failed()
    if options.redo_stale:
        again |= store.parsed_by_other(current_parser().fingerprint)
    tasks = sorted((path, sha) for sha, path in first_path.items() if sha not in done or sha in again)
    summary.redone = sum(sha in done for _, sha in tasks)
    summary.skipped = summary.unique - len(tasks)
    return tasks


def run_batch(
    roots: list[str | os.PathLike],
    db: str | os.PathLike,
    options: BatchOptions | None = None,
    *,
    console=None,
) -> BatchSummary:
    """Parse every report under `roots` into the store `db`; returns what happened."""
    options = options or BatchOptions()
    summary = BatchSummary()
    started = time.perf_counter()
    with Store(db) as store:
        identity = _file_identity(db)
        tasks = plan(store, roots, options, summary)
        buffer: list[Rows] = []
        landed: list[Landed] = []  # shards Dask workers committed, loaded with the buffer
        last_commit = time.monotonic()

        def flush() -> None:
            nonlocal last_commit
            if buffer or landed:
                rows, shards = buffer.copy(), [chunk.shard for chunk in landed]
                buffer.clear()  # a shard that cannot be written is not tried again on the way out
                landed.clear()
                store.add(rows, shards)
                summary.shards += 1
            last_commit = time.monotonic()

        with _Progress(len(tasks), options.progress, console) as progress:
            try:
                for result in _engine(options, store.parts)(tasks, options.limits):
                    if isinstance(result, Landed):
                        landed.append(result)
                        outcomes = result.outcomes
                    else:
                        buffer.append(result)
                        outcomes = [(result.path, result.failure["reason"] if result.failure else None)]
                    for path, reason in outcomes:
                        if reason is None:
                            summary.parsed += 1
                        else:
                            summary.failed += 1
                            summary.failure_reasons.append((path, reason))
                        progress.advance(summary.failed)
                    waiting = len(buffer) + sum(len(chunk.outcomes) for chunk in landed)
                    if waiting >= options.shard_size or time.monotonic() - last_commit > options.shard_seconds:
                        flush()
            except KeyboardInterrupt:
                summary.interrupted = True
            finally:
                flush()  # Ctrl-C: what came in is kept
        summary.addressed = store.set_sources(fetched_under(roots))
        if not summary.interrupted:
            summary.corpus_findings = store.refresh()
            store.write_comments()  # the data dictionary in the file itself
        summary.reports = store.count("reports")
        summary.findings = store.count("findings")
        summary.failures = store.count("failures")
        summary.outdated = len(store.parsed_by_other(current_parser().fingerprint))
        if _file_identity(db) != identity:
            raise GongkaiError(f"数据库文件 {db} 在运行中被删除或替换：本次的结果不在那里；请保留数据库文件后重新运行")
    summary.seconds = time.perf_counter() - started
    if summary.interrupted:
        raise KeyboardInterrupt
    return summary


def fetched_under(roots: list[str | os.PathLike]) -> list:
    """The files `gongkai fetch` saved under `roots`: from the manifest of each root, or of the folder
    one or two levels up that holds one (a root may be a site's folder, or a file, inside a fetch folder)."""
    from gongkai.fetch.manifest import MANIFEST, fetched_files

    folders = set()
    for root in roots:
        folder = Path(os.path.abspath(root))
        if not folder.is_dir():
            folder = folder.parent
        for candidate in (folder, *list(folder.parents)[:2]):
            if (candidate / MANIFEST).is_file():
                folders.add(candidate)
                break
    return [f for folder in sorted(folders) for f in fetched_files(folder)]


def _file_identity(db: str | os.PathLike) -> tuple[int, int] | None:
    try:
        st = os.stat(db)
    except OSError:
        return None
    return st.st_dev, st.st_ino


# engines: (tasks, limits) → rows, or shards committed elsewhere, as they complete ----------


@dataclass(slots=True)
class Landed:
    """A shard committed outside the batch's buffer (by a Dask worker, or from the rows it shipped), and how each of its files went."""

    shard: Path
    outcomes: list[tuple[str, str | None]]  # (path, why it failed, or None)


Engine = Callable[[list[Task], Limits], Iterator[Rows | Landed]]


def _engine(options: BatchOptions, parts: Path) -> Engine:
    if options.engine == "dask":
        return lambda tasks, limits: run_dask(tasks, limits, options.scheduler, options.workers, parts)
    if options.engine != "local":
        raise GongkaiError(f"未知的执行引擎：{options.engine}（local 或 dask）")
    if options.workers <= 1:
        return run_serial
    return lambda tasks, limits: run_processes(tasks, limits, options.workers)


def run_serial(tasks: list[Task], limits: Limits) -> Iterator[Rows]:
    for path, sha in tasks:
        yield parse_file(path, sha, limits)


def run_processes(tasks: list[Task], limits: Limits, workers: int) -> Iterator[Rows]:
    """A pool of `workers` processes; at most a few tasks per worker in flight (bounded memory)."""
    import multiprocessing as mp

    # forkserver: workers do not inherit the DuckDB connection or the progress thread of this process
    context = mp.get_context("forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn")
    pending = iter(tasks)
    window = workers * 4
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=die_with_parent)
    try:
        running = set()
        for path, sha in pending:
            running.add(pool.submit(parse_file, path, sha, limits))
            if len(running) >= window:
                break
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                for path, sha in pending:
                    running.add(pool.submit(parse_file, path, sha, limits))
                    break
                yield future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(tasks: list[Task], limits: Limits, scheduler: str | None, workers: int, parts: Path) -> Iterator[Rows | Landed]:
    """Chunks of tasks on a running Dask scheduler (workers must see the same paths and have gongkai installed).

    A worker that sees the store's `parts` folder at the same path commits each chunk there as a
    shard and hands back its name; one that does not ships the rows as Arrow and this process
    commits them. Either way only this process writes the store, loading shards in bulk while
    the workers go on parsing. A worker lost mid-chunk: the scheduler reruns the chunk
    elsewhere, and a report that lands twice is loaded once. A chunk that keeps killing its
    workers (KilledWorker) is split; a single file that does is a failure.
    """
    try:
        from distributed import Client, KilledWorker, as_completed
        from distributed.client import FutureCancelledError
    except ImportError:
        raise GongkaiError("需要 dask[distributed]：pip install 'gongkai[dask]'") from None
    if not scheduler:
        raise GongkaiError("--engine dask 需要 --scheduler tcp://主机:端口")
    with _quiet_distributed():
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise GongkaiError(f"无法连接 Dask 调度器 {scheduler}（{type(exc).__name__}）：请先启动 dask scheduler 和 dask worker") from None
        try:
            yield from _on_cluster(client, tasks, limits, workers, parts, KilledWorker, as_completed)
        except (OSError, TimeoutError, CancelledError, FutureCancelledError) as exc:
            raise GongkaiError(f"与 Dask 调度器 {scheduler} 的连接断开（{type(exc).__name__}）：已收到的结果已入库，"
                               "调度器恢复后重新运行同一命令即可接着做") from None  # fmt: skip
        finally:
            client.close()


def _on_cluster(client, tasks: list[Task], limits: Limits, workers: int, parts: Path, killed_worker, as_completed) -> Iterator[Rows | Landed]:
    """Chunks in flight, a few per thread; a chunk lost with its worker is rerun by the scheduler."""
    from gongkai.store.shards import commit_tables, ipc_to_tables

    threads = sum(client.nthreads().values()) or max(workers, 1)
    parts = Path(os.path.abspath(parts))  # the path the workers are told
    pending = chunked(tasks, threads)
    futures = as_completed()
    chunks: dict[str, list[Task]] = {}
    probe = _probe(parts)

    def submit(chunk: list[Task]) -> None:
        future = client.submit(parse_chunk, chunk, limits, os.fspath(parts), probe.name, pure=False,
                               key=f"gongkai-{chunk[0][1]}-{len(chunk)}")  # fmt: skip
        chunks[future.key] = chunk
        futures.add(future)

    try:
        for chunk in pending:
            submit(chunk)
            if futures.count() >= threads * 2:
                break
        for future in futures:
            chunk = chunks.pop(future.key)
            for following in pending:
                submit(following)
                break
            try:
                done = future.result()
            except killed_worker:
                if len(chunk) > 1:
                    for path, sha in chunk:
                        submit([(path, sha)])
                else:
                    [(path, sha)] = chunk
                    yield failure_rows(sha, path, "crash", "Dask 工作进程在解析这个文件时反复退出")
                continue
            finally:
                future.release()
            if done.shard is not None:
                shard = parts / done.shard
                if not shard.is_dir():
                    raise GongkaiError(f"Dask 工作进程写入的分片 {shard} 不在本机：请让工作进程与本机看到同一个数据库目录，或换一个目录重新运行")
            else:
                shard = commit_tables(parts, ipc_to_tables(done.arrow))
            yield Landed(shard, done.outcomes)
    finally:
        probe.unlink(missing_ok=True)


def _probe(parts: Path) -> Path:
    """A file under `parts` that holds its own name: a worker that can read it sees this folder."""
    parts.mkdir(parents=True, exist_ok=True)
    probe = parts / f".probe-{os.urandom(8).hex()}"
    probe.write_text(probe.name, encoding="ascii")
    return probe


@contextmanager
def _quiet_distributed():
    """distributed logs every lost connection with a traceback; the batch says it in one line instead."""
    import logging

    loggers = [logging.getLogger(name) for name in ("distributed", "distributed.client", "distributed.comm", "tornado")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


CHUNK_FILES = 32  # a text report parses in ~30 ms: 32 of them (one guarded child) outweigh a task's scheduling
CHUNK_BYTES = 4 << 20  # …but a chunk of PDFs or scans stops at a few MB, so every worker gets some


def chunked(tasks: list[Task], threads: int) -> Iterator[list[Task]]:
    """Tasks in chunks of at most CHUNK_FILES files and CHUNK_BYTES, and no more than a few per thread."""
    most = max(1, min(CHUNK_FILES, len(tasks) // (threads * 4)))
    chunk: list[Task] = []
    size = 0
    for path, sha in tasks:
        try:
            nbytes = os.path.getsize(path)
        except OSError:
            nbytes = 0
        if chunk and (len(chunk) >= most or size + nbytes > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append((path, sha))
        size += nbytes
    if chunk:
        yield chunk


# progress and summary ---------------------------------------------------------------------


class _Progress:
    """A rich progress bar: files done, rate, errors, time left (silent when disabled)."""

    def __init__(self, total: int, enabled: bool, console=None):
        self.total, self.enabled, self.console = total, enabled, console
        self.started = time.perf_counter()
        self.done = 0

    def __enter__(self):
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("[bold]解析"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]:.1f} 份/秒"),
                TextColumn("[red]失败 {task.fields[errors]}"),
                TimeElapsedColumn(),
                TextColumn("剩余"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self.bar.__enter__()
            self.task = self.bar.add_task("batch", total=self.total, rate=0.0, errors=0)
        return self

    def advance(self, errors: int) -> None:
        self.done += 1
        if self.enabled:
            rate = self.done / max(time.perf_counter() - self.started, 1e-9)
            self.bar.update(self.task, advance=1, rate=rate, errors=errors)

    def __exit__(self, *exc):
        if self.enabled:
            self.bar.__exit__(*exc)
        return False
