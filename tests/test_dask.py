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


# a chunk on a worker: one guarded child for its files, the shard written by the worker ------------


def _hang_on(name):
    from gongkai.store import work

    real = work._rows_in_child

    def rows(task, limits):
        if task[0].endswith(name):
            if name.startswith("hang"):
                time.sleep(3600)
            os._exit(9)  # the child dies on this file
        return real(task, limits)

    return rows


@pytest.mark.parametrize("bad, reason", [("hang.txt", "解析超时"), ("die.txt", "解析进程异常退出")])
def test_a_file_that_hangs_or_kills_its_child_fails_alone_and_the_chunk_goes_on(tmp_path, monkeypatch, bad, reason):
    from gongkai.limits import Limits
    from gongkai.store import work

    paths = make_corpus(tmp_path / "c", 4)
    (tmp_path / "c" / bad).write_bytes(paths[0].read_bytes())
    tasks = [(str(p), f"sha-{i}") for i, p in enumerate([paths[0], paths[1], tmp_path / "c" / bad, paths[2], paths[3]])]
    monkeypatch.setattr(work, "_rows_in_child", _hang_on(bad))
    started = time.monotonic()
    rows = work.parse_each(tasks, Limits(seconds=3))
    assert time.monotonic() - started < 60
    assert [r.path for r in rows] == [path for path, _ in tasks]
    assert rows[2].failure["kind"] == "limit" and reason in rows[2].failure["reason"]
    monkeypatch.undo()
    for row, (path, sha) in zip(rows[:2] + rows[3:], tasks[:2] + tasks[3:]):
        alone = work.parse_file(path, sha, Limits())
        assert row.failure is None and (row.report, row.findings) == (alone.report, alone.findings)


def test_a_worker_writes_the_shard_where_it_sees_the_store_else_ships_arrow_and_a_report_landed_twice_is_stored_once(tmp_path):
    from gongkai.limits import Limits
    from gongkai.store import work
    from gongkai.store.shards import commit_tables, ipc_to_tables

    paths = make_corpus(tmp_path / "c", 3)
    tasks = [(str(p), f"sha-{i}") for i, p in enumerate(paths)]
    db = tmp_path / "s.duckdb"
    with Store(db) as store:
        store.parts.mkdir()
        (store.parts / ".probe-x").write_text(".probe-x")
        written = work.parse_chunk(tasks, Limits(), str(store.parts), ".probe-x")
        shipped = work.parse_chunk(tasks, Limits(), str(tmp_path / "elsewhere"), ".probe-x")
        assert written.arrow is None and (store.parts / written.shard).is_dir()
        assert shipped.shard is None and shipped.arrow
        assert written.outcomes == shipped.outcomes == [(p, None) for p, _ in tasks]
        again = commit_tables(store.parts, ipc_to_tables(shipped.arrow))  # the same reports in a second shard
        store.add([], [store.parts / written.shard, again])
        keys = store.con.execute("SELECT sha256 FROM reports").fetchall()
        findings = store.con.execute("SELECT count(*) FROM findings").fetchone()[0]
        assert sorted(keys) == sorted({(r.report["sha256"],) for r in work.parse_each(tasks, Limits())})
        assert findings == sum(len(r.findings) for r in work.parse_each(tasks, Limits()))
        assert not list(store.parts.glob("shard-*"))
