"""The tasks batch workers run: one file (serial, process pool) or a chunk of files (Dask), each
read, parsed under limits and turned into rows.

Kept free of DuckDB and the progress UI so that process-pool and Dask workers import little.
"""

from __future__ import annotations

import functools
import hashlib
import multiprocessing as mp
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.errors import GongkaiError, LimitExceededError
from gongkai.limits import Limits, fork_is_safe, guarded_each, outcome_error, parse_guarded, parse_outcome
from gongkai.store.inputs import read_regular
from gongkai.store.rows import Rows, failure_rows, report_rows


def parse_file(path: str, sha256: str, limits: Limits) -> Rows:
    """Rows for one file; never raises for a bad document (it becomes a `failures` row)."""
    try:
        data = read_regular(path)
    except OSError as exc:
        return failure_rows(sha256, path, "unreadable", f"无法读取文件（{exc.strerror or exc}）")
    sha = hashlib.sha256(data).hexdigest()  # the bytes parsed, even if the file changed since it was hashed
    _warm_up()
    try:
        with _children_allowed():
            report = parse_guarded(data, name=path, limits=limits)
    except LimitExceededError as exc:
        return failure_rows(sha, path, "limit", str(exc))
    except GongkaiError as exc:
        return failure_rows(sha, path, "unreadable", str(exc))
    except Exception as exc:  # noqa: BLE001 — one bad file never stops the batch
        return failure_rows(sha, path, "crash", f"{type(exc).__name__}: {exc}")
    return report_rows(report, path)


@dataclass(slots=True)
class Chunk:
    """What a Dask task hands back for a chunk of files: where their rows are, and how each file went."""

    outcomes: list[tuple[str, str | None]] = field(default_factory=list)  # (path, why it failed, or None)
    shard: str | None = None  # the shard the worker committed in the store's parts folder…
    arrow: dict[str, bytes] | None = None  # …or the rows as Arrow IPC streams, when it cannot see that folder


def parse_chunk(tasks: list[tuple[str, str]], limits: Limits, parts: str | None = None, probe: str | None = None) -> Chunk:
    """A Dask task: rows for a chunk of (path, sha256), committed as one shard under `parts` when this
    worker sees the client's folder there (the file `probe` names holds its own name), else shipped as Arrow.

    The files are parsed in one guarded child (`limits.guarded_each`): each file keeps its own time
    limit and a file that hangs or dies costs a fresh child, not the chunk.
    """
    from gongkai.store.shards import commit_tables, rows_to_tables, tables_to_ipc

    rows = parse_each(tasks, limits)
    chunk = Chunk([(r.path, r.failure["reason"] if r.failure else None) for r in rows])
    tables = rows_to_tables(rows)
    if parts and probe and _sees(Path(parts) / probe):
        chunk.shard = commit_tables(Path(parts), tables).name
    else:
        chunk.arrow = tables_to_ipc(tables)
    return chunk


def parse_each(tasks: list[tuple[str, str]], limits: Limits) -> list[Rows]:
    """Rows for each (path, sha256) in order, the same as `parse_file` gives, from as few guarded children as the files allow."""
    _warm_up()
    if not fork_is_safe():
        return [parse_file(path, sha, limits) for path, sha in tasks]
    rows = []
    with _children_allowed():
        for (path, sha), result in guarded_each(functools.partial(_rows_in_child, limits=limits), tasks, limits=limits):
            if isinstance(result, Rows):
                rows.append(result)
            else:  # the child timed out or died on this file, or _rows_in_child failed
                rows.append(failure_rows(sha, path, "limit" if isinstance(result, LimitExceededError) else "crash", str(result)))
    return rows


def _rows_in_child(task: tuple[str, str], limits: Limits) -> Rows:
    """Inside the guarded child: `parse_file` without a child of its own."""
    path, sha256 = task
    try:
        data = read_regular(path)
    except OSError as exc:
        return failure_rows(sha256, path, "unreadable", f"无法读取文件（{exc.strerror or exc}）")
    sha = hashlib.sha256(data).hexdigest()
    kind, value = parse_outcome(data, path)
    if kind == "ok":
        return report_rows(value, path)
    error = outcome_error(kind, value, limits)
    return failure_rows(sha, path, "limit" if isinstance(error, LimitExceededError) else "unreadable", str(error))


def _sees(probe: Path) -> bool:
    try:
        return probe.read_text(encoding="ascii") == probe.name
    except (OSError, UnicodeDecodeError):
        return False


_warm = False


def _warm_up() -> None:
    """Parse a few generated reports here, once per process, before the first guarded parse.

    Every guarded parse is a child forked from this process: without this, each child would
    import its reader, compile the patterns and load the spec anew, and lose them on exit
    (≈25 ms of a text report's ≈35 ms). Generated reports only: no input file is parsed unguarded.
    """
    global _warm
    if _warm:
        return
    _warm = True
    try:
        from gongkai.pipeline import parse
        from gongkai.synth import make_report

        for seed, template in ((1, "2021"), (2, "2019")):
            report = make_report(seed, template=template)
            for fmt in ("txt", "html", "docx"):
                parse(report.render(fmt), name=f"warm-up.{fmt}")
    except Exception:  # noqa: BLE001 — a cold child is slower, never wrong
        pass


class _children_allowed:
    """Let a daemonic worker (a Dask worker process) start parse_guarded's child process.

    The child is killed by parse_guarded itself on every path, so the rule that daemons
    may not have children (orphans at exit) is kept by construction.
    """

    def __enter__(self):
        self.process = mp.current_process()
        self.daemon = self.process._config.get("daemon", False)
        if self.daemon:
            self.process._config["daemon"] = False
        return self

    def __exit__(self, *exc):
        if self.daemon:
            self.process._config["daemon"] = True
        return False
