"""parse_guarded: a child under a time limit and memory cap; never a hang, never a leftover process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from multiprocessing import Pool

import pytest
from conftest import shared_path

import gongkai.pipeline
from gongkai.errors import LimitExceededError
from gongkai.limits import Limits, parse_guarded


def _spawn_and_hang(source, name=None):
    subprocess.Popen(["sleep", "307"], process_group=0)  # like soffice: its own process group
    subprocess.Popen(["sleep", "308"])
    time.sleep(600)


def _hog(source, name=None):
    return bytearray(4 * 1024**3)


def _leftovers() -> str:
    return subprocess.run(["pgrep", "-f", "sleep 30[78]"], capture_output=True, text=True).stdout.strip()


def test_timeout_kills_the_whole_session(monkeypatch):
    monkeypatch.setattr(gongkai.pipeline, "parse", _spawn_and_hang)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="超时"):
        parse_guarded(b"x", limits=Limits(seconds=1.5))
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert _leftovers() == ""


def test_memory_cap(monkeypatch):
    monkeypatch.setattr(gongkai.pipeline, "parse", _hog)
    with pytest.raises(LimitExceededError, match="内存"):
        parse_guarded(b"x", limits=Limits(seconds=30, memory_mb=512))


def test_no_zombies_after_many_runs():
    for _ in range(5):
        try:
            parse_guarded(b"\x00\x01binary", limits=Limits(seconds=20))
        except LimitExceededError:
            raise
        except Exception:  # noqa: BLE001 — unreadable is fine; a leftover child is not
            pass
    children = subprocess.run(["ps", "-o", "stat=", "--ppid", str(os.getpid())], capture_output=True, text=True).stdout.split()
    assert not [s for s in children if s.startswith("Z")]


def _pages(path: str) -> int | None:
    return parse_guarded(path).source.pages


def test_works_inside_a_process_pool():
    path = str(shared_path("corpus", "09_hongze_2023.pdf"))
    with Pool(2) as pool:
        assert pool.map(_pages, [path, path]) == [5, 5]


def test_a_child_stuck_before_its_own_session_is_killed(monkeypatch):
    """The time limit holds even for a child that never got to setsid() (no session to kill)."""

    def stuck() -> None:
        time.sleep(60)

    monkeypatch.setattr(os, "setsid", stuck)
    started = time.monotonic()
    with pytest.raises(LimitExceededError, match="超时"):
        parse_guarded(b"x", limits=Limits(seconds=1.5))
    assert time.monotonic() - started < 10


def test_after_ocr_in_this_process_a_guarded_scan_still_parses():
    """onnxruntime's threads do not fork: once this process has run OCR, the guarded parse starts a fresh interpreter."""
    pytest.importorskip("rapidocr_onnxruntime")
    import io

    from PIL import Image, ImageDraw

    from gongkai.read import ocr

    image = Image.new("L", (900, 200), 255)
    ImageDraw.Draw(image).rectangle((40, 60, 400, 120), outline=0, width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    ocr.read(buffer.getvalue())  # loads the engine here
    assert ocr.engine_loaded()
    report = parse_guarded(buffer.getvalue(), limits=Limits(seconds=60))
    assert report.source.format == "image"


def test_a_pool_worker_ends_when_its_parent_is_killed(tmp_path):
    """A batch or web server killed with -9 leaves no pool workers waiting for ever."""
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
