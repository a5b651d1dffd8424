"""A scan never times out by default: limits grow with its pages, workers stay within the cores, the web
shows pages done and answers at once for a file already in the store."""

from __future__ import annotations

import hashlib
import io

import pytest

import gongkai
from gongkai.limits import Limits, cap_workers, cores
from gongkai.read.ocr import pages_to_recognise


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def _image_pdf(pages: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    images = [Image.new("L", (600, 848), 255) for _ in range(pages)]
    images[0].save(buffer, format="PDF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def test_pages_to_recognise_counts_scanned_pages_without_reading_them():
    assert pages_to_recognise(_png(1000, 1414)) == 1
    assert pages_to_recognise(_png(1000, 5 * 1414)) == 5  # one long picture of a five-page report
    assert pages_to_recognise(_image_pdf(3)) == 3
    assert pages_to_recognise("一、总体情况".encode()) == 0


def test_the_time_limit_grows_with_the_pages_to_recognise():
    limits = Limits(seconds=120, seconds_per_page=90)
    assert limits.seconds_for(0) == limits.seconds_for(1) == 120
    assert limits.seconds_for(5) == 120 + 4 * 90


SLOW_PAGES = """
import io, sys, time
from PIL import Image
import gongkai.pipeline
from gongkai import progress
from gongkai.limits import Limits, parse_guarded
from gongkai.synth import make_report
parse = gongkai.pipeline.parse
def slow_pages(source, name=None):  # three pages to recognise, read at 0.6 s each, reporting each, then a text report
    progress.recognising(3)
    for page in (1, 2, 3):
        time.sleep(0.6)
        progress.pages_done(page, 3)
    return parse(make_report(3).render("txt"))
gongkai.pipeline.parse = slow_pages
buffer = io.BytesIO()
pages = [Image.new("L", (600, 848), 255) for _ in range(3)]
pages[0].save(buffer, format="PDF", save_all=True, append_images=pages[1:])
heard = []
# 1 s for a one-page document would stop these 1.8 s; three pages to recognise give 1 + 2 x 1 s
report = parse_guarded(buffer.getvalue(), limits=Limits(seconds=1.0, seconds_per_page=1.0), on_progress=lambda d, t: heard.append((d, t)))
print(report.meta.template is not None, heard)
"""


def test_a_scan_gets_a_limit_per_page_and_reports_its_pages():
    """In a fresh interpreter: a process that has run OCR itself parses in a spawned one, where a patched parse does not reach."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", SLOW_PAGES], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True [(1, 3), (2, 3), (3, 3)]"


def test_workers_beyond_the_cores_are_capped_with_a_note():
    assert cap_workers(1) == (1, None)
    workers, note = cap_workers(cores() + 3)
    assert workers == cores() and str(cores() + 3) in note and "核" in note


def test_batch_says_so_when_it_caps_workers(tmp_path):
    import subprocess
    import sys

    from gongkai.synth import make_report

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_bytes(make_report(4).render("txt"))
    done = subprocess.run([sys.executable, "-m", "gongkai", "batch", str(tmp_path / "in"), "--db", str(tmp_path / "c.duckdb"),
                           "--workers", str(cores() + 2)], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"已按 {cores()} 个进程并行解析" in done.stderr


def test_an_upload_already_in_the_store_is_done_at_once(tmp_path):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from gongkai.synth import make_report
    from gongkai.web.app import Settings, create_app
    from gongkai.web.storage import add_to_store

    data = make_report(6).render("txt")
    add_to_store(tmp_path / "corpus.duckdb", gongkai.parse(data))  # e.g. put there by gongkai batch

    def never(*args, **kwargs):
        raise AssertionError("a file already in the store must not be parsed again")

    settings = Settings(data_dir=tmp_path / "data", db=tmp_path / "corpus.duckdb")
    with TestClient(create_app(settings, parser=never)) as client:
        r = client.post("/upload", files=[("files", ("r.txt", data, "text/plain"))], headers={"Accept": "application/json"})
        (job,) = r.json()["jobs"]
        assert job["status"] == "done" and "语料库中已有" in job["message"]
        sha = hashlib.sha256(data).hexdigest()
        assert client.get(f"/api/reports/{sha}").status_code == 200


def test_a_scan_upload_shows_pages_done(tmp_path):
    """The server opens nothing of an upload: the worker's pages-done file says how far a scan got."""
    from gongkai.web.jobs import ParseQueue
    from gongkai.web.storage import DataDir

    queue = ParseQueue(DataDir(tmp_path / "data"), lambda: tmp_path / "corpus.duckdb", Limits(), 1, parser=lambda *a, **k: None)
    try:
        data = _image_pdf(4)
        sha = hashlib.sha256(data).hexdigest()
        queue.submit = lambda *a, **k: None  # keep the job queued: only its progress is looked at here
        job = queue.accept(data, "scan.pdf")
        assert job.pages is None  # not counted in the server process: a hostile PDF must not stall it
        job.status = "parsing"
        queue.progress_file(sha).write_text("0 4")
        (seen,) = queue.status([sha])
        assert (seen.pages_done, seen.pages) == (0, 4)
        queue.progress_file(sha).write_text("3 4")
        (seen,) = queue.status([sha])
        assert (seen.pages_done, seen.pages) == (3, 4)
    finally:
        queue.shutdown()
