"""`gongkai batch --engine dask`: a local Dask cluster of two worker processes gives the same rows."""

from __future__ import annotations

import pytest
from corpus_helpers import dump, make_corpus

from gongkai.store import BatchOptions, Store, run_batch

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as local:
        yield local


def test_a_two_worker_dask_cluster_gives_the_same_rows_as_serial(cluster, tmp_path):
    folder = tmp_path / "corpus"
    make_corpus(folder, 16, seed=11)
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)
    serial, on_dask = tmp_path / "serial.duckdb", tmp_path / "dask.duckdb"
    run_batch([folder], serial, BatchOptions(progress=False))
    summary = run_batch([folder], on_dask, BatchOptions(engine="dask", scheduler=cluster.scheduler_address, progress=False, shard_size=5))
    assert (summary.parsed, summary.failed) == (16, 1)
    with Store(serial, read_only=True) as a, Store(on_dask, read_only=True) as b:
        assert dump(a.con) == dump(b.con)


def test_dask_without_a_scheduler_says_so(tmp_path):
    from gongkai.errors import GongkaiError

    make_corpus(tmp_path / "c", 1)
    with pytest.raises(GongkaiError, match="scheduler"):
        run_batch([tmp_path / "c"], tmp_path / "x.duckdb", BatchOptions(engine="dask", progress=False))
