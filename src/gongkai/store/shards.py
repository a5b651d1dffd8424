"""Per-shard Parquet files beside the store: written to a temp folder, committed by one rename.

A shard is a folder `shard-<time>-<pid>-<run>-<n>/` holding reports.parquet, findings.parquet and
failures.parquet. The rename of the folder is the commit: a reader sees a whole shard or none.
The batch's own process writes them, and so do Dask workers that see the same folder.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from gongkai.store.rows import Rows
from gongkai.store.schema import FAILURE_SCHEMA, FINDING_SCHEMA, report_schema

TABLES = ("reports", "findings", "failures")


def parts_dir(db: str | os.PathLike) -> Path:
    """The folder of shards beside a store: corpus.duckdb → corpus.duckdb.parts/."""
    return Path(f"{os.fspath(db)}.parts")


def rows_to_tables(batch: list[Rows]) -> dict[str, pa.Table]:
    reports = [r.report for r in batch if r.report is not None]
    findings = [f for r in batch for f in r.findings]
    failures = [r.failure for r in batch if r.failure is not None]
    return {
        "reports": pa.Table.from_pylist(reports, schema=report_schema()),
        "findings": pa.Table.from_pylist(findings, schema=FINDING_SCHEMA),
        "failures": pa.Table.from_pylist(failures, schema=FAILURE_SCHEMA),
    }


def tables_to_ipc(tables: dict[str, pa.Table]) -> dict[str, bytes]:
    """The tables as Arrow IPC streams: how a worker that cannot write the shard itself ships its rows."""
    out = {}
    for name, table in tables.items():
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        out[name] = sink.getvalue().to_pybytes()
    return out


def ipc_to_tables(streams: dict[str, bytes]) -> dict[str, pa.Table]:
    return {name: pa.ipc.open_stream(data).read_all() for name, data in streams.items()}


_counter = 0
_RUN = os.urandom(3).hex()  # names stay unique when workers on several machines share one folder


def commit_shard(parts: Path, batch: list[Rows]) -> Path:
    """Write `batch` as a new shard under `parts`; returns the committed folder."""
    return commit_tables(parts, rows_to_tables(batch))


def commit_tables(parts: Path, tables: dict[str, pa.Table]) -> Path:
    """Write the three tables as a new shard under `parts`; returns the committed folder."""
    global _counter
    _counter += 1
    name = f"shard-{time.time_ns():020d}-{os.getpid()}-{_RUN}-{_counter:06d}"
    parts.mkdir(parents=True, exist_ok=True)
    tmp = parts / f".tmp-{name}"
    tmp.mkdir()
    try:
        for table_name, table in tables.items():
            target = tmp / f"{table_name}.parquet"
            pq.write_table(table, target, compression="zstd")
            _fsync(target)
        _fsync(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)  # a full disk gets its space back; the rows are redone on a rerun
        raise
    final = parts / name
    os.rename(tmp, final)
    _fsync(parts)
    return final


def committed_shards(parts: Path) -> list[Path]:
    """Committed shards, oldest first; partial temp folders and the Dask probe of a killed run are removed."""
    if not parts.is_dir():
        return []
    for tmp in parts.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    for probe in parts.glob(".probe-*"):
        probe.unlink(missing_ok=True)
    return sorted(p for p in parts.glob("shard-*") if p.is_dir())


def remove_shard(shard: Path) -> None:
    shutil.rmtree(shard, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
