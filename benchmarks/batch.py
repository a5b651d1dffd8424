"""Batch throughput: serial vs `--workers 2` vs a 2-worker local Dask cluster, and the store's
cross-year query time, over a generated corpus (default 2,000 reports; GONGKAI_BENCH_BATCH=N).

The three runs alternate for GONGKAI_BENCH_ROUNDS rounds (default 1) and the medians are
reported, so that load from other jobs falls on all three alike.

    python -m benchmarks batch
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from gongkai.store import BatchOptions, Store, run_batch

COUNT = int(os.environ.get("GONGKAI_BENCH_BATCH", "2000"))
ROUNDS = int(os.environ.get("GONGKAI_BENCH_ROUNDS", "1"))


def make_corpus(folder: Path, count: int) -> None:
    """`count` generated reports (txt, both templates, years 2019–2024) in folders of 100."""
    from gongkai.synth import make_report

    for i in range(count):
        report = make_report(90_000 + i, template="2021" if i % 3 else "2019")
        target = folder / f"{i // 100:03d}" / f"r{i:05d}.txt"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(report.render("txt"))


def timed_batch(folder: Path, db: Path, options: BatchOptions) -> float:
    """Seconds for a batch into a fresh store (a store left by an earlier round is removed)."""
    for leftover in (db, Path(f"{db}.wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(f"{db}.parts", ignore_errors=True)
    started = time.perf_counter()
    summary = run_batch([folder], db, options)
    seconds = time.perf_counter() - started
    assert summary.parsed + summary.failed == COUNT, summary
    return seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-batch-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "corpus"
        started = time.perf_counter()
        make_corpus(folder, COUNT)
        print(f"generated {COUNT} reports in {time.perf_counter() - started:.1f} s")
        cpus = os.cpu_count()
        try:
            from distributed import LocalCluster
        except ImportError:
            LocalCluster = None
            print("dask: not installed")
        runs: dict[str, list[float]] = {"serial": [], "--workers 2": [], "dask (2)": []}
        for round_ in range(ROUNDS):
            runs["serial"].append(timed_batch(folder, tmp / "serial.duckdb", BatchOptions(progress=False)))
            runs["--workers 2"].append(timed_batch(folder, tmp / "pool.duckdb", BatchOptions(workers=2, progress=False)))
            if LocalCluster is not None:
                with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
                    options = BatchOptions(engine="dask", scheduler=cluster.scheduler_address, progress=False)
                    runs["dask (2)"].append(timed_batch(folder, tmp / "dask.duckdb", options))
            print(f"round {round_ + 1}: " + ", ".join(f"{name} {times[-1]:.1f} s" for name, times in runs.items() if times)
                  + f" (load average {os.getloadavg()[0]:.1f})")
        serial = statistics.median(runs["serial"])
        for name, times in runs.items():
            if times:
                seconds = statistics.median(times)
                print(f"{name:11s} {seconds:7.1f} s  {COUNT / seconds:6.1f} reports/s  ×{serial / seconds:.2f} (median of {len(times)}; cpus: {cpus})")
        rerun = timed_batch_rerun(folder, tmp / "pool.duckdb")
        print(f"rerun (all skipped) {rerun:.2f} s")
        with Store(tmp / "pool.duckdb") as store:
            started = time.perf_counter()
            corpus_findings = store.refresh()
            refresh = time.perf_counter() - started
            started = time.perf_counter()
            store.con.execute(
                'SELECT count(*) FROM reports c JOIN reports p ON p.body_key = c.body_key AND p.year = c.year - 1 '
                'WHERE c."requests.carried_over.total" <> p."requests.carried_forward.total"'
            ).fetchone()
            query = time.perf_counter() - started
            size = os.path.getsize(tmp / "pool.duckdb") / 1e6
            print(f"store: {store.count('reports')} reports, {store.count('findings')} findings, {size:.1f} MB")
        print(f"refresh (bodies + all corpus rules) {refresh:.2f} s, {corpus_findings} corpus findings; "
              f"one cross-year carry-over query {query * 1000:.1f} ms")


def timed_batch_rerun(folder: Path, db: Path) -> float:
    started = time.perf_counter()
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert summary.parsed == 0 and summary.skipped == COUNT
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
