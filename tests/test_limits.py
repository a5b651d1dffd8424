"""parse_guarded: a child under a time limit and memory cap; never a hang, never a leftover process."""

from __future__ import annotations

import os
import subprocess
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
