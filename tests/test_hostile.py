"""Hostile input never crashes, never hangs, never loses data (issue 6).

The corpus (`hostile.py`, ≥200 files written at test time) goes through `gongkai.parse` in
process (the cases the readers' own caps make safe), through `parse_guarded` (the dangerous
ones), through `gongkai parse` / `gongkai check` as a user runs them, and through `gongkai batch`
once. Every file must end in a Report or one clear error line that names it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import hostile
import pytest

from gongkai import parse
from gongkai.errors import GongkaiError, LimitExceededError
from gongkai.limits import Limits, parse_guarded
from gongkai.report import Report

GONGKAI = [sys.executable, "-c", "from gongkai.cli import main; main()"]
SECONDS = 30  # per file, in process: far above any honest file's time
MEMORY_MB = 2048


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[hostile.Case]:
    return hostile.write_corpus(tmp_path_factory.mktemp("hostile"))


@contextmanager
def deadline(seconds: int):
    """Raise TimeoutError in this thread after `seconds` (a hang in Python code becomes a failure)."""
    def expire(*_):
        raise TimeoutError(f"no result after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# the cap is set by the new interpreter itself, then it becomes gongkai: a preexec_fn (Python in the forked
# child) can wait for ever on a lock another thread of this process held at the fork (onnxruntime's, after OCR)
CAPPED = "import os, resource, sys; n = int(sys.argv[1]); resource.setrlimit(resource.RLIMIT_AS, (n, n)); os.execv(sys.argv[2], sys.argv[2:])"


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    limit = (MEMORY_MB + 1024) * 1024 * 1024  # LibreOffice and onnxruntime reserve address space generously
    return subprocess.run(
        [sys.executable, "-c", CAPPED, str(limit), *GONGKAI, *args], capture_output=True, text=True, timeout=timeout, env=env
    )


def is_one_clear_line(message: str) -> bool:
    return bool(message.strip()) and "\n" not in message.strip() and "Traceback" not in message


# ── the corpus itself ────────────────────────────────────────────────────────


def test_the_corpus_has_every_kind_of_attack(corpus):
    kinds = {case.kind for case in corpus}
    assert len(corpus) >= 200
    assert kinds >= {
        "zip-bomb", "entity-bomb", "external-entity", "wrong-extension", "encrypted-pdf", "corrupt-pdf",
        "truncated-pdf", "many-pages", "huge-page", "pixel-bomb", "empty", "noise", "deep-nesting", "encoding",
        "truncated", "byte-flip", "valid",
    }  # fmt: skip
    assert sum(case.path.stat().st_size for case in corpus) < 40 * 1024 * 1024  # huge only in what they declare


def test_the_valid_base_reports_parse_whole():
    report = hostile.valid_report(3)
    for fmt in ("txt", "html", "docx"):
        cells = parse(report.render(fmt), name=f"r.{fmt}").cells
        values = {v for v in cells.values() if v is not None}
        assert len(values) >= 190 and values <= report.numbers, fmt


# ── in process: only a Report or a GongkaiError ─────────────────────────────


def test_in_process_every_safe_file_ends_in_a_report_or_one_clear_error(corpus):
    problems, slowest = [], (0.0, None)
    for case in (c for c in corpus if not c.dangerous):
        started = time.perf_counter()
        try:
            with deadline(SECONDS):
                assert isinstance(parse(case.path), Report)
        except GongkaiError as exc:
            if not is_one_clear_line(str(exc)):
                problems.append(f"{case.path.name}: unclear message {str(exc)!r}")
        except BaseException as exc:  # noqa: BLE001 — every other exception is the bug under test
            problems.append(f"{case.path.name} ({case.kind}): {type(exc).__name__}: {exc}")
        slowest = max(slowest, (time.perf_counter() - started, case.path.name), key=lambda s: s[0])
    assert not problems, "\n".join(problems)
    assert slowest[0] < SECONDS, slowest


REFUSED = {  # file → a word its one-line reason must contain
    "bomb_declared_0.docx": "上限", "bomb_declared_1.docx": "上限", "bomb_declared_2.docx": "上限",
    "bomb_declared_3.docx": "压缩炸弹", "laughs.docx": "DTD", "xxe.docx": "DTD", "laughs_late_doctype.docx": "docx",
    "pixels_zero.png": "图像", "truncated.png": "图像", "encrypted_r2.pdf": "加密", "encrypted_r3.pdf": "加密",
    "encrypted_r4.pdf": "加密", "empty.txt": "空", "noise_65536.bin": "不支持",
    "bomb_declared.ofd": "上限", "laughs.ofd": "DTD", "xxe.ofd": "DTD", "nested_blocks.ofd": "XML", "many_pages.ofd": "页数过多",
}  # fmt: skip


def test_the_readers_refuse_bombs_with_a_reason(corpus):
    """The caps trip before the work is done, and the reason says what was wrong."""
    by_name = {case.path.name: case for case in corpus}
    for name, word in REFUSED.items():
        with pytest.raises(GongkaiError, match=word):
            parse(by_name[name].path)


def test_entities_are_never_expanded(corpus):
    for case in corpus:
        if case.kind == "entity-bomb":
            try:
                assert "lollol" not in parse(case.path).to_json()
            except GongkaiError:
                pass


def test_external_entities_are_never_resolved(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-4711", encoding="utf-8")
    url = secret.as_uri()
    entity = f'<!DOCTYPE x [<!ENTITY xxe SYSTEM "{url}">]>'
    docx = hostile.docx_with(hostile.docx_xml("<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>", entity.replace("x [", "w:document [")))
    html = f'{entity}<html><body><p>总体情况 &xxe;</p><iframe src="{url}"></iframe><img src="{url}"></body></html>'.encode()
    svg_html = f'<html><body><p>x</p><object data="{url}"></object><link rel="stylesheet" href="{url}"></body></html>'.encode()
    for data, name in ((docx, "a.docx"), (html, "a.html"), (svg_html, "b.html")):
        try:
            report = parse(data, name=name)
        except GongkaiError:
            continue
        assert "TOPSECRET" not in report.to_json()


# ── the dangerous ones: under the time limit and memory cap ─────────────────


def test_dangerous_files_end_within_the_limits(corpus):
    limits = Limits(seconds=60, memory_mb=MEMORY_MB)
    problems = []
    for case in (c for c in corpus if c.dangerous):
        started = time.perf_counter()
        try:
            parse_guarded(case.path, limits=limits)
        except LimitExceededError as exc:
            problems.append(f"{case.path.name}: over a limit ({exc}); a reader cap should refuse it first")
        except GongkaiError as exc:
            if str(exc).startswith("解析出错") or not is_one_clear_line(str(exc)):
                problems.append(f"{case.path.name}: a parser bug ({exc})")
        if time.perf_counter() - started > limits.seconds:
            problems.append(f"{case.path.name}: took {time.perf_counter() - started:.0f} s")
    assert not problems, "\n".join(problems)


# ── as a user runs it: one line per bad file, never a traceback ─────────────


def test_gongkai_parse_names_every_bad_file_in_one_line_and_prints_every_report(corpus):
    files = [str(c.path) for c in corpus]
    result = cli("parse", "--jsonl", *files, timeout=600)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 2)
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(errors) + len(reports) == len(files)  # nothing lost, nothing doubled
    named = {line.split(": ", 2)[1] for line in errors}
    assert named | {r["source"]["path"] for r in reports} == set(files)
    assert all(line.startswith("gongkai: ") and len(line.split(": ", 2)) == 3 for line in errors)


def test_gongkai_check_never_shows_a_traceback(corpus):
    files = [str(c.path) for c in corpus[::4] if not c.dangerous]
    result = cli("check", *files)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode in (0, 1, 2)


def test_gongkai_parse_of_a_missing_file_a_folder_and_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (tmp_path / "missing.docx", tmp_path):
        result = cli("parse", str(target))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1 and str(target) in result.stderr


# ── nothing read or written outside the given paths; no network ────────────

_AUDIT = r"""
import json, os, sys, tempfile
import importlib.util
package = os.path.dirname(importlib.util.find_spec("gongkai").origin)
allowed_reads = [os.path.realpath(p) for p in (package, sys.prefix, sys.base_prefix, "/usr", "/proc", "/sys", "/dev", "/etc")]
inputs = {os.path.realpath(p) for p in sys.argv[1:]}
cache = os.path.realpath(os.environ["GONGKAI_CACHE_DIR"]) + "/"  # the gazetteer's index: gongkai's own cache, named
seen = []
def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if not isinstance(path, str):
            return
        real = os.path.realpath(path)
        writing = (mode and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        if real.startswith(cache):
            return
        if writing and not real.startswith(tempfile.gettempdir() + "/gongkai"):
            seen.append(["write", real])
        elif not writing and real not in inputs and not any(real.startswith(p) for p in allowed_reads):
            seen.append(["read", real])
    elif event.startswith("socket.") or event in ("urllib.Request", "http.client.connect"):
        seen.append([event, repr(args)[:120]])
sys.addaudithook(hook)
from gongkai import parse
from gongkai.errors import GongkaiError
for path in sys.argv[1:]:
    try:
        parse(path)
    except GongkaiError:
        pass
print(json.dumps(seen))
"""


def test_parsing_touches_no_other_path_and_no_network(corpus, tmp_path, tmp_path_factory):
    """Beyond its inputs a parse reads only Python, the package, the system, and the gazetteer index it keeps in
    its own cache folder (made there on first use); it writes only that index and its temporary files."""
    files = [str(c.path) for c in corpus if not c.dangerous and c.path.suffix != ".doc"][::2]
    cache = tmp_path_factory.mktemp("gongkai-cache")
    result = subprocess.run(
        [sys.executable, "-c", _AUDIT, *files], capture_output=True, text=True, timeout=300, cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "GONGKAI_CACHE_DIR": str(cache)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
    assert list(tmp_path.iterdir()) == []  # nothing written into the working directory
    assert [p.name.split("-")[0] for p in cache.iterdir()] == ["gazetteer"]  # and in the cache, the index alone


# ── gongkai batch: every file recorded, as a report or a failure ────────────


def test_batch_records_every_hostile_file(corpus, tmp_path):
    from gongkai.store import BatchOptions, Store, run_batch
    from gongkai.store.inputs import REPORT_SUFFIXES

    folder = corpus[0].path.parent.parent
    db = tmp_path / "hostile.duckdb"
    summary = run_batch([folder], db, BatchOptions(workers=2, limits=Limits(seconds=60, memory_mb=MEMORY_MB), progress=False))
    with Store(db, read_only=True) as store:
        reports = {Path(p).name for (p,) in store.con.execute("SELECT path FROM reports").fetchall()}
        failures = store.con.execute("SELECT path, reason FROM failures").fetchall()
    recorded = reports | {Path(p).name for p, _ in failures}
    names = {c.path.name for c in corpus if c.path.suffix.lower() in REPORT_SUFFIXES}  # batch takes report files only
    assert names - recorded <= _duplicates(corpus), sorted(names - recorded)
    assert all(is_one_clear_line(reason) and not reason.startswith("解析出错") for _, reason in failures)
    assert summary.failed == len(failures)


def _duplicates(corpus) -> set[str]:
    """Files whose bytes another file also has: the store keeps one report per sha256."""
    import hashlib

    first: dict[str, str] = {}
    out = set()
    for case in corpus:
        digest = hashlib.sha256(case.path.read_bytes()).hexdigest()
        if digest in first:
            out.add(case.path.name)
        first.setdefault(digest, case.path.name)
    return out


# ── inputs the fuzzer (fuzz/) found ──────────────────────────────────────────


def test_fuzz_a_pdf_whose_page_object_cannot_be_loaded():
    """A page entry of the xref points into nowhere: pdfium's 'Failed to load page' is one line, not a crash."""
    import base64

    data = base64.b64decode(
        "JVBERi0xLjQKJeLjz9MKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb52VCjIgMCBvYmoKPDwg"
        "L1R5cGUgL1BhZ2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVu"
        "dCAyIDAgUiAvTWVkaWFCb3ggWzAgMCA1OTUgODQyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEg"
        "NSAwIFIgPj4gPj4gPj4KZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA3MCA+PgpzdHJlYW0KQlQgL0YxIDEyIFRmIDcyIDc3MCBU"
        "ZCAoUmVwb3J0IDIwMjEpIFRqIDAgLTE2IFRkIChUb3RhbCAxMjMgNDU2KSBUaiBFVAplbmRzdHJlYW0KZW5kb2JqCjUgMCBvYmoK"
        "PDwgL1R5cGUgL0ZvbnQgL1N1YnR5cGUgL1R5cGUxIC9CYXNlRm9udCAvSGVsdmV0aWNhID4+CmVuZG9iagp4cmVmCjAgNgowMDAw"
        "MDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMTUgMDAwMDAgbiAKMDAwMDAwMDA2NCAwMDAwMCBuIAowMDAwMDMwMTIxIDAwMDAwIG4g"
        "CjAwMDAwMDAyNDcgMDAwMDAgbiAKMDAwMDAwMDM2NyAwMDAwMCBuIAp0cmFpbGVyCjw8IC9TaXplIDYgL1Jvb3QgMSAwIFIgPj4K"
        "c3RhcnR4cmVmCjQzNwolJUVPRgo="
    )
    with pytest.raises(GongkaiError, match="页已损坏"):
        parse(data)


# ── a reader's gap is the parser's doubt (issue 18) ──────────────────────────


def _source_findings(report: Report) -> list[str]:
    return [f"{f.rule}: {f.message}" for f in report.findings if f.origin == "source"]


def test_a_docx_whose_body_is_an_altchunk_is_the_parsers_doubt_not_the_reports_fault():
    """Web exports keep the whole report as an HTML part behind one w:altChunk: the reader says so."""
    report = parse(hostile.altchunk_docx(hostile.valid_report(3).html()), name="导出.docx")
    assert _source_findings(report) == []
    notes = [f.message for f in report.findings if f.rule == "extraction.reader_note"]
    assert notes and "altChunk" in notes[0]
    missing = [f for f in report.findings if f.rule.startswith("structure.")]
    assert missing and all(f.origin == "extraction" and "未能读取" in f.message for f in missing)


def test_frames_past_the_cap_are_named(monkeypatch):
    """A TIFF of more pages than are read says how many were left, and blames no missing table on the report."""
    report = parse(hostile.multi_frame_tiff(1000), name="扫描.tif")
    (note,) = [f.message for f in report.findings if f.rule == "extraction.reader_note"]
    assert "共 1000 帧" in note and "800 帧未读取" in note
    assert _source_findings(report) == []


def test_a_utf8_bom_before_a_gbk_body_reads_the_body():
    valid = hostile.valid_report(4)
    data = b"\xef\xbb\xbf" + valid.txt().decode("utf-8").encode("gbk")
    report = parse(data, name="报告.txt")
    assert report.cells == parse(valid.txt(), name="报告.txt").cells  # the same cells as the file saved as UTF-8
    assert sum(v is not None for v in report.cells.values()) >= 100
    assert any("BOM" in f.message and "gb18030" in f.message for f in report.findings if f.rule == "extraction.reader_note")


def test_fuzz_a_control_character_after_a_dropped_html_element():
    """The text after a <script> held a U+001F: lxml refused to set it back onto the parent (ValueError, a crash)."""
    report = parse("<html><body><p>青山区<script>x</script>\x1f人民政府</p></body></html>".encode(), name="report.html")
    assert isinstance(report, Report)
