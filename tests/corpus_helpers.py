"""Helpers shared by the corpus-layer tests: generated report folders, hand-made reports, table dumps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from gongkai.cells import APPLICANT_COLUMNS, cell_ids
from gongkai.report import Finding, Meta, Report, Section, Source
from gongkai.store import BatchOptions, run_batch
from gongkai.synth import make_report

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("reports", "findings", "failures", "bodies", "agency_keys")


def make_corpus(folder: Path, count: int, seed: int = 0) -> list[Path]:
    """`count` generated text reports (gongkai.synth) under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        data = make_report(seed * 100_000 + i).render("txt")
        path = folder / f"{i // 10:02d}" / f"report_{i:04d}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        paths.append(path)
    return paths


def corpus_with_store(tmp_path_factory, name: str, seed: int) -> tuple[Path, Path]:
    """12 generated reports and a bad file, and the store of one uninterrupted serial run."""
    folder = tmp_path_factory.mktemp(name)
    make_corpus(folder, 12, seed=seed)
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)  # control bytes: not a document
    db = tmp_path_factory.mktemp(f"{name}_db") / "corpus.duckdb"
    run_batch([folder], db, BatchOptions(progress=False))
    return folder, db


# A batch run as its own process, every parse noted and slowed by tests/slow_parses.py (in the
# batch and, preloaded, in its forkserver's workers).
KILLABLE_BATCH = """
import multiprocessing, sys
import slow_parses  # noqa: F401
multiprocessing.set_forkserver_preload(["slow_parses"])
from gongkai.store import BatchOptions, run_batch
run_batch([sys.argv[1]], sys.argv[2], BatchOptions(progress=False, shard_size=2, workers=int(sys.argv[3]), redo_stale=sys.argv[4] == "redo-stale"))
"""


def killable_batch(folder: Path, db: Path, progress: Path, *, workers: int = 1, redo_stale: bool = False, kill_after: int | None = None) -> bool:
    """Run the batch; with `kill_after`, SIGKILL it and its workers once that many parses of `folder` have
    started (tasks are left: the kill lands mid-run). True if it was killed, False if it ended first."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")]), "GONGKAI_TEST_PROGRESS": str(progress)}
    progress.write_text("", encoding="utf-8")
    args = [sys.executable, "-c", KILLABLE_BATCH, str(folder), str(db), str(workers), "redo-stale" if redo_stale else "-"]
    process = subprocess.Popen(args, env=env, start_new_session=True)  # its own group: the batch, its forkserver and workers
    if kill_after is None:
        assert process.wait(timeout=600) == 0
        return False
    deadline = time.monotonic() + 600
    while process.poll() is None and time.monotonic() < deadline:
        started = [line for line in progress.read_text(encoding="utf-8").splitlines() if line.startswith(str(folder))]
        if len(started) >= kill_after:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.02)
    process.wait(timeout=600)
    return False


def hand_report(
    sha: str,
    agency: str,
    year: int,
    *,
    template: str | None = None,
    cells: dict | None = None,
    sections: dict[int, str] | None = None,
    findings: list[Finding] = (),
) -> Report:
    """A `Report` as the pipeline would give it, every cell of the template 0 unless given."""
    template = template or ("2021" if year >= 2021 else "2019")
    values = {cell_id: 0 for cell_id in cell_ids(template)}
    values.update(cells or {})
    return Report(
        source=Source(sha256=sha, format="txt", path=f"/reports/{sha[:8]}.txt"),
        meta=Meta(agency=agency, year=year, template=template, published=f"{year + 1}-01-20"),
        sections=[Section(number=n, title="", heading="", text=text) for n, text in (sections or {}).items()],
        cells=values,
        findings=list(findings),
    )


def carried(kind: str, **columns: int) -> dict:
    """requests.carried_over / carried_forward cells, the total column the sum of the others."""
    values = {f"requests.{kind}.{c}": columns.get(c, 0) for c in APPLICANT_COLUMNS[:-1]}
    values[f"requests.{kind}.total"] = sum(values.values())
    return values


def dump(con, tables=TABLES) -> dict[str, list[tuple]]:
    """Every row of the corpus tables, sorted: two stores are equal when their dumps are."""
    result = {}
    for table in tables:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
        result[table] = sorted(rows, key=repr)
    return result
