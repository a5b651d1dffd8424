"""The task a batch worker runs for one file: read, parse under limits, turn into rows.

Kept free of DuckDB and the progress UI so that process-pool and Dask workers import little.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp

from gongkai.errors import GongkaiError, LimitExceededError
from gongkai.limits import Limits, parse_guarded
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


def parse_files(tasks: list[tuple[str, str]], limits: Limits) -> list[Rows]:
    """Rows for a chunk of (path, sha256): one Dask task for several files, as a task costs ~10 ms of scheduling."""
    return [parse_file(path, sha, limits) for path, sha in tasks]


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
