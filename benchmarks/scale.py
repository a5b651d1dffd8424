"""National scale: a batch over ≥ 100,000 generated reports, then the store's queries over 1,000,000 rows.

    python -m benchmarks.scale generate DIR [N]   # N generated reports (default 100,000), once
    python -m benchmarks.scale run DIR [--workers K | --scheduler tcp://… --pids P,P] [--folders F] [--db PATH]
    python -m benchmarks.scale query DB [ROWS]    # refresh and a panel query, the store grown to ROWS (default 1,000,000)

The reports are bodies followed over six years (2019–2020 in the 2019 template, 2021–2024 in
the 2021 one), in the text formats txt, md, html and docx by turns, in folders of 1,000.
`run` samples the resident memory of the client and of every other process it watches
(workers, their guarded children) every few seconds and prints it over time. `python -m
benchmarks scale` (every benchmark) runs all three on GONGKAI_BENCH_SCALE reports (default 2,000)
in a temporary folder; the test suite never runs it.
"""

from __future__ import annotations

import os
import random
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

FORMATS = ("txt", "md", "html", "docx")
YEARS_PER_BODY = 6
FOLDER = 1000


def generate(folder: Path, count: int, start: int = 0) -> None:
    """Reports `start`…`count - 1` (a file already there is kept: generation resumes after a stop)."""
    from gongkai.synth import make_report
    from gongkai.synth.agency import make_agency

    started = time.perf_counter()
    for i in range(start, count):
        fmt = FORMATS[i % len(FORMATS)]
        target = folder / f"{i // FOLDER:04d}" / f"r{i:07d}.{fmt}"
        if target.exists():
            continue
        body, nth = divmod(i, YEARS_PER_BODY)
        year = 2019 + nth
        agency = make_agency(random.Random(f"scale-body:{body}"))
        report = make_report(7_000_000 + i, template="2019" if year < 2021 else "2021", year=year, agency=agency)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(report.render(fmt))
        tmp.rename(target)
        if (i + 1) % 5000 == 0:
            print(f"generated {i + 1} ({(i + 1 - start) / (time.perf_counter() - started):.0f}/s)", flush=True)


class MemoryWatch:
    """Resident memory (MB) of this process and of `others()` every `every` seconds, in a thread."""

    def __init__(self, others=lambda: [], every: float = 5.0):
        import psutil

        self.psutil, self.others, self.every = psutil, others, every
        self.samples: list[tuple[float, float, list[float]]] = []  # (seconds, client MB, [worker MB…])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.perf_counter()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = self.psutil.Process()
        while not self._stop.wait(self.every):
            workers = []
            for pid in self.others():
                try:
                    workers.append(self.psutil.Process(pid).memory_info().rss / 1e6)
                except self.psutil.Error:
                    pass
            self.samples.append((time.perf_counter() - self.started, me.memory_info().rss / 1e6, workers))

    def table(self, rows: int = 12) -> str:
        if not self.samples:
            return "memory: no sample"
        step = max(1, len(self.samples) // rows)
        picked = self.samples[::step] + ([self.samples[-1]] if (len(self.samples) - 1) % step else [])
        lines = ["   seconds  client MB  workers MB"]
        for seconds, client, workers in picked:
            lines.append(f"{seconds:10.0f} {client:10.0f}  {' '.join(f'{w:.0f}' for w in workers)}")
        return "\n".join(lines)


def run(folder: Path, db: Path, *, workers: int = 1, scheduler: str | None = None, worker_pids=lambda: [], folders: int = 0) -> None:
    """A batch of everything under `folder` (or its first `folders` folders of 1,000) into a fresh store `db`, with memory over time."""
    import psutil

    from gongkai.store import BatchOptions, run_batch

    for leftover in (db, Path(f"{db}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(f"{db}.parts", ignore_errors=True)
    options = BatchOptions(workers=workers, engine="dask" if scheduler else "local", scheduler=scheduler,
                           progress=False, shard_size=2000)  # fmt: skip
    me = psutil.Process()

    def watched() -> list[int]:  # a pool's workers are this process's children; a cluster's are given
        return [*worker_pids(), *(c.pid for c in me.children(recursive=True) if c.name().startswith("python"))]

    cluster_before = _tree_cpu(worker_pids())
    client_before = _own_cpu()
    load = os.getloadavg()[0]
    with MemoryWatch(watched) as memory:
        roots = sorted(p for p in folder.iterdir() if p.is_dir())[:folders] if folders else [folder]
        summary = run_batch(roots, db, options)
    client = _own_cpu() - client_before  # this process, and the pool workers it started and reaped
    cluster = _tree_cpu(worker_pids()) - cluster_before
    cores = workers
    done = max(summary.parsed + summary.failed, 1)
    print(
        f"batch: {done} reports ({summary.failed} failed) in {summary.seconds:.0f} s = {summary.rate:.1f} reports/s "
        f"on {cores} worker process(es) = {summary.rate / cores:.1f} reports/s per core; load average at start {load:.1f}"
    )
    print(
        f"CPU: client {client:.0f} s ({client / done * 1000:.1f} ms a report), cluster processes {cluster:.0f} s "
        f"({cluster / done * 1000:.1f} ms a report): {(client + cluster) / done * 1000:.1f} ms a report in all"
    )
    print(
        f"store: {summary.reports} reports, {summary.findings} findings, {summary.corpus_findings} corpus findings, "
        f"{os.path.getsize(db) / 1e6:.0f} MB"
    )
    print(memory.table())


def _own_cpu() -> float:
    """CPU seconds of this process and of the children it has reaped (a process pool's workers, guarded children)."""
    import resource

    me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds of these processes (a scheduler, workers) and of the children they have reaped."""
    import psutil

    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


PANEL = """
WITH body_year AS (  -- one report per body and year: the one with the most cells read
    SELECT * FROM reports WHERE body_key IS NOT NULL AND year IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY body_key, year ORDER BY cells_found DESC NULLS LAST, sha256) = 1
)
SELECT c.body_key, c.year, c.agency,
       c."requests.new_received.total" AS received,
       c."requests.carried_over.total" AS carried_over,
       p."requests.carried_forward.total" AS carried_forward_last_year,
       c."appeals.review.total" AS reviews,
       c."requests.new_received.total" - p."requests.new_received.total" AS received_change
FROM body_year c
LEFT JOIN body_year p ON p.body_key = c.body_key AND p.year = c.year - 1
ORDER BY c.body_key, c.year
"""


def query(db: Path, rows: int = 1_000_000) -> None:
    """Grow the store to `rows` reports (copies of its rows under new keys), then time refresh and the panel."""
    from gongkai.store import Store

    with Store(db) as store:
        con = store.con
        have = store.count("reports")
        started = time.perf_counter()
        copies = -(-rows // have) - 1
        if copies > 0:
            _replicate(con, copies, rows - have)
        grown = time.perf_counter() - started
        n = store.count("reports")
        print(f"store grown from {have} to {n} reports ({store.count('findings')} findings) in {grown:.0f} s")
        started = time.perf_counter()
        corpus = store.refresh()
        refresh = time.perf_counter() - started
        print(f"refresh (bodies + every corpus rule + counts) over {n} reports: {refresh:.1f} s, {corpus} corpus findings")
        for attempt in range(3):
            started = time.perf_counter()
            panel = con.execute(f"SELECT count(*), count(carried_forward_last_year), sum(received_change) FROM ({PANEL})").fetchone()
            seconds = time.perf_counter() - started
            print(
                f"panel query (one row per body and year, 4 cells, previous-year join), run {attempt + 1}: "
                f"{seconds:.2f} s, {panel[0]} rows, {panel[1]} with last year"
            )
    print(f"store file: {os.path.getsize(db) / 1e6:.0f} MB")


def _replicate(con, copies: int, limit: int) -> None:
    """Copies of every report and its findings, each under a new sha256 and a new body (agency name and key)."""
    cols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'reports'").fetchall()]
    changed = {"sha256": "sha256 || '-' || k", "path": "path || '#' || k", "agency": "agency || '副本' || k",
               "body_key": "NULL"}  # fmt: skip
    select = ", ".join(changed.get(c, f'"{c}"') for c in cols)
    con.execute("BEGIN TRANSACTION")
    con.execute(f"CREATE TEMP TABLE copies AS SELECT range AS k FROM range(1, {copies + 1})")
    con.execute(f"INSERT INTO reports SELECT {select} FROM reports, copies ORDER BY k LIMIT {limit}")
    fcols = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'findings'").fetchall()]
    fselect = ", ".join("f.sha256 || '-' || k" if c == "sha256" else f'f."{c}"' for c in fcols)
    con.execute(f"INSERT INTO findings SELECT {fselect} FROM findings f, copies "
                f"WHERE f.sha256 || '-' || k IN (SELECT sha256 FROM reports) AND f.rule NOT LIKE 'corpus.%' "
                f"AND f.rule NOT LIKE 'anomaly.%'")  # fmt: skip
    con.execute("DROP TABLE copies")
    con.execute("COMMIT")


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # as part of `python -m benchmarks`: a small run of all three
        count = int(os.environ.get("GONGKAI_BENCH_SCALE", "2000"))
        with tempfile.TemporaryDirectory(prefix="gongkai-bench-scale-") as tmp:
            folder = Path(tmp) / "corpus"
            generate(folder, count)
            run(folder, Path(tmp) / "scale.duckdb", workers=min(2, os.cpu_count() or 1))
            query(Path(tmp) / "scale.duckdb", count * 10)
        return
    command, target, *rest = argv
    if command == "generate":
        generate(Path(target), int(rest[0]) if rest else 100_000)
    elif command == "run":
        options = dict(zip(rest[::2], rest[1::2]))
        db = Path(options.get("--db", f"{target.rstrip('/')}.duckdb"))
        folders = int(options.get("--folders", 0))
        if "--scheduler" in options:
            run(Path(target), db, workers=int(options.get("--workers", 2)), scheduler=options["--scheduler"],
                worker_pids=lambda: _pids(options.get("--pids", "")), folders=folders)  # fmt: skip
        else:
            run(Path(target), db, workers=int(options.get("--workers", 1)), folders=folders)
    elif command == "query":
        query(Path(target), int(rest[0]) if rest else 1_000_000)
    else:
        raise SystemExit(f"unknown command {command!r}: generate, run or query")


def _pids(spec: str) -> list[int]:
    """Worker pids and their children, from a comma-separated list."""
    import psutil

    pids = []
    for pid in (int(p) for p in spec.split(",") if p):
        try:
            pids += [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
        except psutil.Error:
            pass
    return pids


if __name__ == "__main__":
    main()
