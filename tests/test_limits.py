"""parse_guarded: a child under a time limit and memory cap; never a hang, never a leftover process.

A guarded parse starts its child one of two ways: a fork, or (once this process has loaded the
OCR engine, whose threads do not fork) a fresh interpreter. The `child` fixture runs a test
through each way explicitly, so no test depends on what another test loaded before it; the
inputs are real documents that take too long or need too much memory, not patched parsers.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from multiprocessing import get_context

import pytest
from conftest import require_ocr, require_soffice

from gongkai import limits
from gongkai.errors import LimitExceededError
from gongkai.limits import Limits, parse_guarded
from gongkai.pipeline import parse
from gongkai.synth import make_report

REPORT = make_report(1).render("txt")  # a generated report of 2021 (~6 KB of text)


@pytest.fixture(params=["fork", "fresh interpreter"])
def child(request, monkeypatch) -> str:
    """Each way a guarded parse starts its child, whatever this process has loaded before."""
    if request.param == "fork":  # a process that has run OCR cannot fork (conftest runs those modules last)
        assert limits._fork_is_safe(), "the OCR engine is loaded in the test process: add its module to conftest.OCR_IN_PROCESS"
    monkeypatch.setattr(limits, "_fork_is_safe", lambda: request.param == "fork")
    return request.param


def tagged(monkeypatch) -> str:
    """A mark in this process's environment that every child, grandchild and LibreOffice inherits."""
    tag = f"GONGKAI_TEST_TAG={uuid.uuid4().hex}"
    monkeypatch.setenv("GONGKAI_TEST_TAG", tag.split("=", 1)[1])
    return tag


def descendants(tag: str) -> dict[int, str]:
    """Live processes (pid → command line) carrying `tag` in their environment: this test's own, wherever they were reparented."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as fh:
                if tag.encode() not in fh.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                found[int(entry)] = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or a zombie's environment (empty): not alive
            continue
    return found


def zombie_children() -> set[int]:
    """This process's children that have ended and not been reaped."""
    zombies = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.add(int(entry))
    return zombies


def test_a_report_parses_the_same_in_the_child(child):
    guarded = parse_guarded(REPORT, limits=Limits(seconds=60))
    assert guarded.model_dump() == parse(REPORT).model_dump()


def test_a_document_that_takes_too_long_is_stopped_at_the_limit(child, monkeypatch):
    """The same report 2,000 times over (11 MB of text) takes seconds to parse: a 1 s limit stops it."""
    tag = tagged(monkeypatch)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="超时（超过 1 秒）"):
        parse_guarded(REPORT * 2000, limits=Limits(seconds=1.0))
    assert time.monotonic() - started < 15  # the limit, a kill and a reap: never the whole parse
    assert descendants(tag) == {}


CAPPED = """
import sys
from gongkai import limits
from gongkai.errors import LimitExceededError
from gongkai.synth import make_report

limits._fork_is_safe = lambda: sys.argv[1] == "fork"
report = make_report(1).render("txt")
print(len(limits.parse_guarded(report, limits=limits.Limits(seconds=60, memory_mb=32)).cells))
try:
    limits.parse_guarded(report * 1000, limits=limits.Limits(seconds=60, memory_mb=32))
except LimitExceededError as exc:
    print(exc)
"""


@pytest.mark.parametrize("way", ["fork", "fresh interpreter"])
def test_a_document_that_needs_too_much_memory_is_refused(way):
    """One report parses under a 32 MB cap; the same report 1,000 times over needs more and is refused.

    Run from a fresh process, as the commands are: the cap is on address space beyond what the
    parent maps, so a forked child may also use memory the parent has freed but still maps — the
    test process's own heap, after hundreds of tests, would make the cap's reach depend on them.
    """
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", CAPPED, way], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [str(len(parse(REPORT).cells)), "超出内存上限 32 MB"]


def big_rtf(paragraphs: int) -> bytes:
    """An RTF document of many short paragraphs: LibreOffice takes many seconds to convert it."""
    line = "本年度共收到政府信息公开申请12件，办结12件。"
    escaped = "".join(f"\\u{ord(c)}?" if ord(c) > 127 else c for c in line)
    return ("{\\rtf1\\ansi\\deff0 " + "".join(f"{{\\pard {i} {escaped}\\par}}\n" for i in range(paragraphs)) + "}").encode()


@pytest.mark.slow
def test_a_timeout_kills_libreoffice_started_by_the_child(child, monkeypatch):
    """LibreOffice runs in a process group of its own; the time limit ends it with the child."""
    require_soffice()
    tag = tagged(monkeypatch)
    outcome: dict = {}

    def run() -> None:
        try:
            # 150,000 paragraphs take LibreOffice minutes; 15 s is enough for it to start on a busy machine
            parse_guarded(big_rtf(150_000), limits=Limits(seconds=15.0, memory_mb=4096))
        except BaseException as exc:  # noqa: BLE001 — judged below
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    runner.start()
    seen: set[int] = set()
    while runner.is_alive():
        seen |= {pid for pid, cmd in descendants(tag).items() if "soffice" in cmd}
        time.sleep(0.05)
    runner.join()
    assert seen, "LibreOffice never started: the test did not test the kill"
    assert isinstance(outcome.get("error"), LimitExceededError) and "超时" in str(outcome["error"]), outcome
    time.sleep(0.2)
    assert descendants(tag) == {}


def test_no_zombies_after_many_runs(child):
    before = zombie_children()
    for data in (b"\x00\x01binary", REPORT, b"\x00\x01binary", REPORT, b""):
        try:
            parse_guarded(data, limits=Limits(seconds=30))
        except LimitExceededError:
            raise
        except Exception:  # noqa: BLE001 — unreadable is fine; a leftover child is not
            pass
    assert zombie_children() - before == set()


def _cells(path: str) -> dict:
    return parse_guarded(path).cells


def test_works_inside_a_process_pool(tmp_path):
    """Pool workers may not start multiprocessing children: the guarded child is a plain fork."""
    path = tmp_path / "report.txt"
    path.write_bytes(REPORT)
    with get_context("spawn").Pool(2) as pool:  # as batch and web start theirs: fresh workers, never a fork of this process
        assert pool.map_async(_cells, [str(path), str(path)]).get(300) == [parse(path).cells] * 2


def test_a_child_stuck_before_its_own_session_is_killed(monkeypatch):
    """The time limit holds even for a forked child that never got to setsid() (no session to kill)."""

    def stuck() -> None:
        time.sleep(60)

    monkeypatch.setattr(limits, "_fork_is_safe", lambda: True)  # setsid() in the child is the fork's own step
    monkeypatch.setattr(os, "setsid", stuck)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="超时"):
        parse_guarded(b"x", limits=Limits(seconds=1.5))
    assert time.monotonic() - started < 10


AFTER_OCR = """
import io, sys
from PIL import Image, ImageDraw
from gongkai import limits
from gongkai.errors import LimitExceededError
from gongkai.read import ocr
from gongkai.synth import make_report

image = Image.new("L", (900, 200), 255)
ImageDraw.Draw(image).rectangle((40, 60, 400, 120), outline=0, width=3)
buffer = io.BytesIO()
image.save(buffer, format="PNG")
ocr.read(buffer.getvalue())  # loads the engine here
assert ocr.engine_loaded() and not limits._fork_is_safe()
print(limits.parse_guarded(buffer.getvalue(), limits=limits.Limits(seconds=120)).source.format)
try:
    limits.parse_guarded(make_report(1).render("txt") * 2000, limits=limits.Limits(seconds=1.0))
except LimitExceededError as exc:
    print(exc)
"""


def test_after_ocr_in_this_process_a_guarded_parse_starts_a_fresh_interpreter():
    """onnxruntime's threads do not fork: a process that has run OCR parses in a fresh interpreter,
    under the same time limit. Run in a process of its own, so this one never loads the engine."""
    require_ocr()
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", AFTER_OCR], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["image", "解析超时（超过 1 秒）"]


def test_a_pool_worker_ends_when_its_parent_is_killed(tmp_path):
    """A batch or web server killed with -9 leaves no pool workers waiting for ever."""
    import subprocess
    import sys

    script = tmp_path / "owner.py"
    script.write_text(
        "import multiprocessing as mp, os, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from gongkai.limits import die_with_parent\n"
        "if __name__ == '__main__':\n"
        "    pool = ProcessPoolExecutor(1, mp_context=mp.get_context('spawn'), initializer=die_with_parent)\n"
        "    print(pool.submit(os.getpid).result(), flush=True)\n"
        "    time.sleep(600)\n"
    )
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(owner.stdout.readline())
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False
