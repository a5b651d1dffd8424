"""Helpers shared by the corpus-layer tests: generated report folders, hand-made reports, table dumps."""

from __future__ import annotations

import time
from pathlib import Path

from gongkai.cells import APPLICANT_COLUMNS, cell_ids
from gongkai.report import Finding, Meta, Report, Section, Source
from gongkai.store import BatchOptions, run_batch
from gongkai.synth import make_report

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


def corpus_with_store(tmp_path_factory, name: str, seed: int) -> tuple[Path, Path, float]:
    """12 generated reports and a bad file, the store of one uninterrupted serial run, and
    roughly how long a run takes (for tests that kill one part-way)."""
    folder = tmp_path_factory.mktemp(name)
    make_corpus(folder, 12, seed=seed)
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)  # control bytes: not a document
    db = tmp_path_factory.mktemp(f"{name}_db") / "corpus.duckdb"
    started = time.perf_counter()
    run_batch([folder], db, BatchOptions(progress=False))
    return folder, db, time.perf_counter() - started + 0.6  # + a fresh interpreter's start-up


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
