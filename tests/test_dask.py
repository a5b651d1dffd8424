"""`gongkai batch --engine dask` on a real cluster: `dask scheduler` and two `dask worker` processes on
loopback, started as a user would start them. The store is the client's alone; whatever dies mid-run
(a worker, the client, the scheduler), a rerun ends with the same rows as a serial run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from corpus_helpers import dump, make_corpus

from gongkai.store import BatchOptions, Store, run_batch

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow

DASK = shutil.which("dask", path=str(Path(sys.executable).parent)) or shutil.which("dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A scheduler and `n` single-threaded workers (no nanny: a killed worker stays dead), as processes."""

    def __init__(self, workers: int = 2, port: int | None = None):
        if DASK is None:
            pytest.fail("dask[distributed] is installed but its `dask` command is not on PATH")
        self.port = port or free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._start([DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"])
        self.workers = [self._start([DASK, "worker", self.address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                     "--name", f"w{i}", "--death-timeout", "60"]) for i in range(workers)]  # fmt: skip
        self._wait_for(workers)

    @staticmethod
    def _start(cmd: list[str]) -> subprocess.Popen:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def _wait_for(self, workers: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with distributed.Client(self.address, timeout="2s") as client:
                    if len(client.scheduler_info()["workers"]) >= workers:
                        return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"the scheduler at {self.address} did not see {workers} workers within 60 s")

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def cluster():
    c = Cluster()
    yield c
    c.stop()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("dask") / "corpus"
    make_corpus(folder, 48, seed=11)
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)
    serial = folder.parent / "serial.duckdb"
    run_batch([folder], serial, BatchOptions(progress=False))
    with Store(serial, read_only=True) as store:
        return folder, dump(store.con)


def stored(db: Path) -> dict:
    with Store(db, read_only=True) as store:
        return dump(store.con)


def batch(folder: Path, db: Path, scheduler: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gongkai", "batch", str(folder), "--db", str(db), "--engine", "dask",
                             "--scheduler", scheduler], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def test_two_real_workers_give_the_same_store_as_serial(cluster, corpus, tmp_path):
    folder, expected = corpus
    db = tmp_path / "dask.duckdb"
    summary = run_batch([folder], db, BatchOptions(engine="dask", scheduler=cluster.address, progress=False, shard_size=5))
    assert (summary.parsed, summary.failed) == (48, 1)
    assert stored(db) == expected


def test_a_worker_killed_mid_run_loses_nothing(cluster, corpus, tmp_path):
    folder, expected = corpus
    db = tmp_path / "dask.duckdb"
    proc = batch(folder, db, cluster.address)
    time.sleep(1.5)  # both workers busy with their first chunks
    os.killpg(cluster.workers[0].pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert stored(db) == expected


def test_client_killed_then_rerun_ends_identical(cluster, corpus, tmp_path):
    folder, expected = corpus
    db = tmp_path / "dask.duckdb"
    proc = batch(folder, db, cluster.address)
    time.sleep(2.5)  # some chunks done, most not
    proc.kill()
    proc.wait(30)
    rerun = batch(folder, db, cluster.address)
    _, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert stored(db) == expected


def test_scheduler_lost_says_so_and_a_rerun_on_a_new_one_ends_identical(corpus, tmp_path):
    folder, expected = corpus
    db = tmp_path / "dask.duckdb"
    first = Cluster()
    try:
        proc = batch(folder, db, first.address)
        time.sleep(1.5)
        os.killpg(first.scheduler.pid, signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        first.stop()
    assert proc.returncode != 0
    assert "Traceback" not in err and "调度器" in err, err
    second = Cluster(port=first.port)
    try:
        rerun = batch(folder, db, second.address)
        _, err = rerun.communicate(timeout=300)
    finally:
        second.stop()
    assert rerun.returncode == 0, err
    assert stored(db) == expected


def test_dask_without_a_scheduler_says_so(tmp_path):
    from gongkai.errors import GongkaiError

    make_corpus(tmp_path / "c", 1)
    with pytest.raises(GongkaiError, match="scheduler"):
        run_batch([tmp_path / "c"], tmp_path / "x.duckdb", BatchOptions(engine="dask", progress=False))
    bad = subprocess.run([sys.executable, "-m", "gongkai", "batch", str(tmp_path / "c"), "--db", str(tmp_path / "y.duckdb"),
                          "--engine", "dask", "--scheduler", f"tcp://127.0.0.1:{free_port()}"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and "调度器" in bad.stderr, bad.stderr
