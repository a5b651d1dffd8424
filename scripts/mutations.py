"""Break each behaviour the tests guard (issue 17) by a one-line mutation and check a test fails.

Each mutation replaces one line of a temp copy of the project (src/, tests/, samples/,
benchmarks/), runs the tests aimed at it there (in order, no random order, stopping at the first
failure), and reports it killed (a test failed, or the run hung past its time) or survived (every
test passed or skipped). Before any mutation the same tests run on the unchanged copy and must pass.

    .venv/bin/python scripts/mutations.py              # all of them (tens of minutes on 2 cores)
    .venv/bin/python scripts/mutations.py -k stats     # those whose name contains "stats"
    .venv/bin/python scripts/mutations.py --list

Tests that need ../shared, LibreOffice, OCR or Chromium skip without them, and a mutation that only
they can kill then survives: the table says which.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("src", "tests", "samples", "benchmarks", "docs", "pyproject.toml")
SECONDS = 900  # per mutation: a hang past this counts as killed (CI would stop it too)


@dataclass(frozen=True)
class Mutation:
    name: str
    behaviour: str
    path: str
    old: str  # exactly one line of the file, found once
    new: str
    tests: tuple[str, ...]


MUTATIONS = [
    Mutation("spawn-timeout", "a fresh interpreter's parse is stopped at the time limit",
             "src/gongkai/limits.py", "out, _ = process.communicate(data, timeout=limits.seconds)",
             "out, _ = process.communicate(data, timeout=None)",
             ("tests/test_limits.py::test_a_document_that_takes_too_long_is_stopped_at_the_limit",)),
    Mutation("spawn-memory", "a fresh interpreter's parse is under the memory cap",
             "src/gongkai/limits.py", '_cap_memory(args["memory_mb"])', "pass",
             ("tests/test_limits.py::test_a_document_that_needs_too_much_memory_is_refused",)),
    Mutation("fork-session-kill", "a timeout kills the child's whole session (LibreOffice too)",
             "src/gongkai/limits.py", "        _kill_session(pid)\n", "        pass\n",
             ("tests/test_limits.py::test_a_timeout_kills_libreoffice_started_by_the_child",)),
    Mutation("fork-kill-by-pid", "a child stuck before setsid() is killed by pid",
             "src/gongkai/limits.py", "        _kill(pid)  # a child stuck before setsid() is in no session of its own", "        pass",
             ("tests/test_limits.py::test_a_child_stuck_before_its_own_session_is_killed",)),
    Mutation("fork-after-ocr", "after OCR in the process, the guarded parse starts a fresh interpreter",
             "src/gongkai/limits.py", "    return ocr is None or not ocr.engine_loaded()", "    return True",
             ("tests/test_limits.py::test_after_ocr_in_this_process_a_guarded_parse_starts_a_fresh_interpreter",)),
    Mutation("balance-not-flagged", "a broken 勾稽关系 is flagged and shown (web, browser)",
             "src/gongkai/extract/rows.py", '(f"requests.total.{col}", f"requests.carried_forward.{col}"),',
             '(f"requests.new_received.{col}", f"requests.carried_over.{col}"),',
             ("tests/test_web.py::test_upload_generated_faulty_report_shows_the_balance_finding",)),
    Mutation("metadata-not-read", "the Pingtan reports' year is read (they form one body)",
             "src/gongkai/extract/__init__.py", "        year=year,", "        year=None,",
             ("tests/test_corpus_rules.py::test_parsed_pingtan_reports_form_one_body",)),
    Mutation("pdf-cell-without-page", "a PDF cell carries its page (the browser shows it)",
             "src/gongkai/extract/tables.py", "    result.provenance[cid] = Provenance(raw=text, **token.where.as_dict())",
             '    result.provenance[cid] = Provenance(raw=text, **{k: v for k, v in token.where.as_dict().items() if k not in ("page", "bbox")})',
             ("tests/test_browser.py::test_pdf_cell_shows_the_page_with_its_box",)),
    Mutation("soffice-writes-nothing", "a LibreOffice conversion that writes nothing fails the PDF fixtures",
             "benchmarks/fixtures.py", '[soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", tmp, str(src)],',
             '[soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", tmp + "/elsewhere", str(src)],',
             ("tests/test_read_pdf.py::test_generated_pdf_cells_match_truth",)),
    Mutation("more-doubt", "no file has fewer cells right than its floor (a glued row with one reading left null and flagged)",
             "src/gongkai/extract/tables.py", "                    return [(str(p), token) for p in found[0]]", "                    return None",
             ("tests/test_truth.py::test_sample_matches_its_truth",)),
    Mutation("eval-exit", "gongkai eval exits 1 when a cell is wrong and not flagged",
             "src/gongkai/cli/reports.py", "    raise typer.Exit(0 if result.ok else 1)", "    raise typer.Exit(0)",
             ("tests/test_commands.py::test_eval_names_a_cell_that_is_wrong_and_not_flagged",)),
    Mutation("schema-output", "gongkai schema prints the documented schema",
             "src/gongkai/cli/reports.py", "    sys.stdout.write(json_schema())", "    sys.stdout.write(json_schema().replace('\"string\"', '\"str\"'))",
             ("tests/test_commands.py::test_schema_is_the_documented_one_and_describes_a_parsed_report",)),
    Mutation("retry-failed", "batch --retry-failed parses the failed files again",
             "src/gongkai/store/batch.py", "        again |= store.failed()", "        pass",
             ("tests/test_commands.py::test_retry_failed_parses_again_only_what_failed",)),
    Mutation("aliases-ignored", "batch --aliases links the names the file lists",
             "src/gongkai/cli/corpus.py", "aliases=load_aliases(aliases) if aliases else None,", "aliases=None,",
             ("tests/test_commands.py::test_aliases_from_the_command_line_make_one_body_of_two_names",)),
    Mutation("stats-denied-reason", "compute_stats counts every 不予公开 reason",
             "src/gongkai/store/stats.py", '"process_info", "enforcement_file", "admin_query")', '"process_info", "enforcement_file")',
             ("tests/test_stats.py::test_compute_stats_gives_the_truths_figures",)),
    Mutation("stats-by-region", "stats --by region groups by region",
             "src/gongkai/store/stats.py", 'GROUPS = {"year": "year", "region": "region", "body_type": "body_type"}',
             'GROUPS = {"year": "year", "region": "agency", "body_type": "body_type"}',
             ("tests/test_stats.py::test_the_stats_command_writes_the_same_figures",)),
    Mutation("stats-by-body-type", "stats --by body_type groups by body type",
             "src/gongkai/store/stats.py", 'BODY_TYPES_ZH = {"department": "部门", "government": "人民政府", "township": "乡镇", "street": "街道", "other": "其他"}',
             'BODY_TYPES_ZH = {"department": "部门", "government": "部门", "township": "乡镇", "street": "街道", "other": "其他"}',
             ("tests/test_stats.py::test_the_stats_command_writes_the_same_figures",)),
    Mutation("web-timeout", "the web app's parse is stopped at its time limit",
             "src/gongkai/web/jobs.py", "    return parse_guarded(content, name=name, limits=Limits(seconds=seconds, memory_mb=memory_mb)).to_json()",
             "    return parse_guarded(content, name=name, limits=Limits(seconds=seconds * 1000, memory_mb=memory_mb)).to_json()",
             ("tests/test_web_limits.py::test_a_parse_over_the_time_limit_fails_its_job_alone",)),
    Mutation("web-broken-pool", "the web app replaces a parse pool whose workers died",
             "src/gongkai/web/jobs.py", "                    self.pool = self._new_pool()", "                    pass",
             ("tests/test_web_limits.py::test_the_parse_pool_is_replaced_when_its_workers_are_killed",)),
    Mutation("ocr-no-tables", "a scan's tables are read into cells (OCR end to end)",
             "src/gongkai/read/ocr.py", "    tables = find_tables(find_rules(ink, scale), settings)", "    tables = []",
             ("tests/test_provenance.py::test_a_scan_gives_cells_right_or_named",)),
    Mutation("ocr-box", "a scanned cell's box is where its value is on the page",
             "src/gongkai/read/ocr.py", "        return tuple(round(v * unit, 1) for v in b)  # type: ignore[return-value]",
             "        return tuple(round(v * unit, 1) + 60 for v in b)  # type: ignore[return-value]",
             ("tests/test_provenance.py::test_a_scanned_cell_points_at_its_box_on_the_page",)),
    Mutation("docx-provenance", "a docx cell points at its table cell",
             "src/gongkai/read/docx.py", "                    cells.append(GridCell(r, col, text, 1, span, Where(table=index, row=r, col=col)))",
             "                    cells.append(GridCell(r, col, text, 1, span, Where(table=index, row=r, col=col + span - 1 if span > 1 else col + 1)))",
             ("tests/test_provenance.py::test_docx_cells_point_at_their_table_cell",)),
    Mutation("html-provenance", "an HTML cell points at its table cell",
             "src/gongkai/read/html.py", "                where = Where(line=td.sourceline, table=index, row=r, col=col)",
             "                where = Where(line=td.sourceline, table=index, row=r + 1, col=col)",
             ("tests/test_provenance.py::test_html_cells_point_at_their_table_cell",)),
    Mutation("disk-full-efbig", "a store that cannot grow (EFBIG) stops with one line",
             "src/gongkai/store/db.py", "_FULL = tuple(os.strerror(code) for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG))",
             "_FULL = tuple(os.strerror(code) for code in (errno.ENOSPC, errno.EDQUOT))",
             ("tests/test_faults.py::test_a_database_that_cannot_grow_stops_with_one_line_and_a_rerun_completes_it",)),
    Mutation("opencv-unloadable", "the ocr extra installed but opencv unloadable (no libGL) fails the OCR tests",
             "tests/conftest.py", "ROOT = Path(__file__).resolve().parent.parent",
             "ROOT = Path(__file__).resolve().parent.parent; __import__('sys').modules['cv2'] = None  # as if libGL.so.1 were missing",
             ("tests/test_read_ocr.py",)),
]  # fmt: skip


def copy_project(target: Path) -> None:
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__", "screenshots"))
        else:
            shutil.copy2(source, target / name)


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[str, str]:
    """('passed' | 'failed' | 'hung', last lines) of the tests run in `copy`."""
    env = {**os.environ, "PYTHONPATH": str(copy / "src")}
    env.setdefault("GONGKAI_SHARED", str(ROOT.parent / "shared"))
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-rfEs", *tests]
    try:
        done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=SECONDS, start_new_session=True)
    except subprocess.TimeoutExpired:
        return "hung", f"still running after {SECONDS} s"
    lines = done.stdout.strip().splitlines()
    tail = "\n".join([line for line in lines if line.startswith(("FAILED", "ERROR", "E "))][:12] + lines[-1:])
    if done.returncode in (1, 2, 3):
        return "failed", tail
    return "passed", tail


def apply(copy: Path, mutation: Mutation) -> None:
    path = copy / mutation.path
    text = path.read_text(encoding="utf-8")
    assert text.count(mutation.old) == 1, f"{mutation.name}: the line to mutate is not found exactly once in {mutation.path}"
    path.write_text(text.replace(mutation.old, mutation.new), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    chosen = [m for m in MUTATIONS if args.k in m.name]
    if args.list:
        for m in chosen:
            print(f"{m.name:24} {m.behaviour}  [{m.path}]")
        return 0
    with tempfile.TemporaryDirectory(prefix="gongkai-mutations-") as tmp:
        baseline = Path(tmp) / "baseline"
        copy_project(baseline)
        for m in chosen:  # every line to mutate is there, once, before anything runs
            assert (baseline / m.path).read_text(encoding="utf-8").count(m.old) == 1, f"{m.name}: {m.old!r} not found once in {m.path}"
        tests = tuple(dict.fromkeys(t for m in chosen for t in m.tests))
        outcome, tail = run_tests(baseline, tests)
        print(f"baseline ({len(tests)} targets): {outcome}\n{tail}\n", flush=True)
        if outcome != "passed":
            return 2
        results = []
        for m in chosen:
            copy = Path(tmp) / m.name
            copy_project(copy)
            apply(copy, m)
            started = time.monotonic()
            outcome, tail = run_tests(copy, m.tests)
            verdict = "survived" if outcome == "passed" else "killed"
            results.append((m, verdict, time.monotonic() - started, tail))
            print(f"{verdict:8} {m.name:24} {time.monotonic() - started:6.0f} s  {tail.splitlines()[-1] if tail else ''}", flush=True)
            shutil.rmtree(copy, ignore_errors=True)
        killed = sum(v == "killed" for _, v, _, _ in results)
        print(f"\n{killed} of {len(results)} mutations killed")
        print("\n| mutation | behaviour | file | result |\n|---|---|---|---|")
        for m, verdict, seconds, _ in results:
            print(f"| `{m.name}` | {m.behaviour} | `{m.path}` | {verdict} ({seconds:.0f} s) |")
        return 0 if killed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
