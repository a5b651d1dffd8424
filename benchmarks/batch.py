"""Batch throughput: serial vs `--workers 2` vs a real 2-worker Dask cluster (`dask scheduler` and two
`dask worker` processes on loopback, as a user starts them), and the store's
cross-year query time, over a generated corpus (default 2,000 reports; GONGKAI_BENCH_BATCH=N).

The three runs alternate for GONGKAI_BENCH_ROUNDS rounds (default 1) and the medians are
reported, so that load from other jobs falls on all three alike.

    python -m benchmarks batch
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
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
        dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")
        if dask is None:
            print("dask: not installed")
        runs: dict[str, list[float]] = {"serial": [], "--workers 2": [], "dask (2)": []}
        for round_ in range(ROUNDS):
            runs["serial"].append(timed_batch(folder, tmp / "serial.duckdb", BatchOptions(progress=False)))
            runs["--workers 2"].append(timed_batch(folder, tmp / "pool.duckdb", BatchOptions(workers=2, progress=False)))
            if dask is not None:
                with real_cluster(dask, workers=2) as address:
                    options = BatchOptions(engine="dask", scheduler=address, progress=False)
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


@contextmanager
def real_cluster(dask: str, workers: int):
    """A scheduler and `workers` single-threaded workers as separate processes; yields the address."""
    import socket

    from distributed import Client

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet)]
    procs += [subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout="2s") as client:
                    if len(client.scheduler_info()["workers"]) >= workers:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.3)
        yield address
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def timed_batch_rerun(folder: Path, db: Path) -> float:
    started = time.perf_counter()
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert summary.parsed == 0 and summary.skipped == COUNT
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
