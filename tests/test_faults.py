"""Faults around `gongkai batch`: a Dask worker killed mid-run, the disk full mid-batch."""

from __future__ import annotations

import errno
import functools
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from corpus_helpers import dump

from gongkai.store import BatchOptions, Store, run_batch
from gongkai.synth import write_corpus

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """30 generated reports (txt, html, docx) and the store of an uninterrupted serial run."""
    folder = tmp_path_factory.mktemp("faults")
    write_corpus(folder, 30, seed=5, formats=("txt", "html", "docx"))
    db = tmp_path_factory.mktemp("faults_db") / "serial.duckdb"
    run_batch([folder], db, BatchOptions(progress=False))
    return folder, db


def tables(db):
    with Store(db, read_only=True) as store:
        return dump(store.con)


def every_document_once(db, count):
    with Store(db, read_only=True) as store:
        keys = store.con.execute("SELECT sha256 FROM reports UNION ALL SELECT sha256 FROM failures").fetchall()
    return len(keys) == len(set(keys)) == count


# a Dask worker lost mid-run ---------------------------------------------------------------


def _slow_parses(seconds):
    """Run on a Dask worker: each file takes `seconds` longer, so a kill lands inside a chunk."""
    from gongkai.store import work

    real = work._rows_in_child

    def slow(task, limits):
        time.sleep(seconds)
        return real(task, limits)

    work._rows_in_child = slow


def _redone_tasks(distributed):
    """A scheduler plugin noting the tasks sent back while they ran (their worker died)."""

    class Redone(distributed.diagnostics.plugin.SchedulerPlugin):
        name = "gongkai-redone"

        def __init__(self):
            self.keys: list[str] = []

        def transition(self, key, start, finish, *args, **kwargs):
            if start == "processing" and finish in ("released", "waiting"):
                self.keys.append(str(key))

    return Redone()


def test_a_dask_worker_killed_mid_run_is_redone_elsewhere(corpus, tmp_path):
    distributed = pytest.importorskip("distributed")
    folder, serial = corpus
    db = tmp_path / "dask.duckdb"
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        client.run(_slow_parses, 0.15)
        pids = client.run(os.getpid)
        redone = _redone_tasks(distributed)
        cluster.scheduler.add_plugin(redone)
        outcome = {}

        def batch():
            try:
                outcome["summary"] = run_batch([folder], db, BatchOptions(engine="dask", scheduler=cluster.scheduler_address, progress=False, shard_size=4))
            except BaseException as exc:  # noqa: BLE001 — reported by the test below
                outcome["error"] = exc

        runner = threading.Thread(target=batch)
        runner.start()
        deadline = time.monotonic() + 30
        victim = None
        while victim is None and time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if any(str(k).startswith("gongkai-") for k in keys)]
            victim = busy[0] if busy else None
            time.sleep(0.05)
        assert victim, "no chunk ever ran"
        time.sleep(0.2)  # inside the chunk: its first file is still sleeping or parsing
        os.kill(pids[victim], signal.SIGKILL)
        runner.join(120)
        assert not runner.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert any(key.startswith("gongkai-") for key in redone.keys)  # a chunk was lost with the worker
    summary = outcome["summary"]
    assert summary.parsed + summary.failed == 30
    assert every_document_once(db, 30)
    assert tables(db) == tables(serial)


# the disk full mid-batch ----------------------------------------------------------------


def _disk_full_after(monkeypatch, shards):
    """The shard writer fails like a full disk once `shards` shards are written (half a file first)."""
    from gongkai.store import shards as shards_module

    real = shards_module.pq.write_table
    written = []

    def write_table(table, where, **kwargs):
        if len(written) >= shards * len(shards_module.TABLES):
            with open(where, "wb") as half:
                half.write(b"PAR1\0\0")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(where))
        written.append(os.fspath(where))
        return real(table, where, **kwargs)

    monkeypatch.setattr(shards_module.pq, "write_table", write_table)


def test_a_full_disk_stops_the_batch_with_one_line_and_a_rerun_completes_it(corpus, tmp_path, monkeypatch, capsys):
    from gongkai import cli

    folder, serial = corpus
    db = tmp_path / "full.duckdb"
    _disk_full_after(monkeypatch, shards=2)
    monkeypatch.setattr("sys.argv", ["gongkai", "batch", str(folder), "--db", str(db)])
    monkeypatch.setattr("gongkai.store.BatchOptions", functools.partial(BatchOptions, shard_size=5))
    with pytest.raises(SystemExit) as stopped:
        cli.main()
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1 and "磁盘" in err, err
    with Store(db, read_only=True) as store:  # two whole shards are in, nothing of the third
        assert store.count("reports") + store.count("failures") == 10
        assert store.count("findings", "WHERE sha256 NOT IN (SELECT sha256 FROM reports)") == 0
    assert not [p for p in os.listdir(f"{db}.parts") if p.startswith(".tmp-")]  # the half shard is gone

    monkeypatch.undo()
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert (summary.skipped, summary.parsed + summary.failed) == (10, 20)
    assert every_document_once(db, 30)
    assert tables(db) == tables(serial)


CANNOT_GROW = """
import functools, resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[3]),) * 2)  # a write past this size fails (EFBIG)
import gongkai.store
from gongkai import cli
gongkai.store.BatchOptions = functools.partial(gongkai.store.BatchOptions, shard_size=5)
sys.argv = ["gongkai", "batch", sys.argv[1], "--db", sys.argv[2]]
cli.main()
"""


def largest_wal(folder, db, env) -> int:
    """The largest DuckDB write-ahead log seen while the same command runs without a limit."""
    process = subprocess.Popen([sys.executable, "-c", CANNOT_GROW, str(folder), str(db), str(2**40)], env=env)
    wal, peak = f"{db}.wal", 0
    while process.poll() is None:
        try:
            peak = max(peak, os.path.getsize(wal))
        except OSError:
            pass
        time.sleep(0.005)
    assert process.returncode == 0
    return peak


def test_a_database_that_cannot_grow_stops_with_one_line_and_a_rerun_completes_it(corpus, tmp_path):
    folder, serial = corpus
    db = tmp_path / "small.duckdb"
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
    # the log grows with every shard loaded: half its size today stops the batch part-way, whatever DuckDB writes per row
    limit = largest_wal(folder, tmp_path / "measured.duckdb", env) // 2
    assert limit > 0
    done = subprocess.run([sys.executable, "-c", CANNOT_GROW, str(folder), str(db), str(limit)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1 and "磁盘空间不足" in done.stderr, done.stderr
    with Store(db, read_only=True) as store:  # whole shards of 5, not all of them
        loaded = store.count("reports") + store.count("failures")
        assert loaded % 5 == 0 and 0 < loaded < 30, loaded
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert summary.parsed + summary.failed + summary.skipped == 30
    assert every_document_once(db, 30)
    assert tables(db) == tables(serial)
