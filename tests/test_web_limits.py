"""The web app's own guarded parse, for real: a document over the time limit fails its job and
nothing else, and a parse pool whose worker processes are killed is replaced."""

from __future__ import annotations

import os
import signal
import time

import pytest

pytest.importorskip("fastapi", reason="没有安装 web 附加依赖（fastapi）")
pytest.importorskip("httpx", reason="没有安装 httpx")

from fastapi.testclient import TestClient  # noqa: E402 — after the checks that the web extra is there
from test_web import upload, wait_done  # noqa: E402

from gongkai.limits import Limits  # noqa: E402
from gongkai.synth import make_report  # noqa: E402
from gongkai.web.app import Settings, create_app  # noqa: E402


def children() -> dict[int, str]:
    """This process's child processes: pid → command line."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            if int(fields[1]) != os.getpid() or fields[0] == "Z":
                continue
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                found[int(entry)] = fh.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
    return found


def test_a_parse_over_the_time_limit_fails_its_job_alone(tmp_path):
    """A generated report 2,000 times over (11 MB) takes seconds to parse; under a 1 s limit its job fails with the reason."""
    report = make_report(3).render("txt")
    settings = Settings(data_dir=tmp_path / "d", limits=Limits(seconds=1.0), workers=1)
    with TestClient(create_app(settings)) as client:
        started = time.monotonic()
        (slow,) = wait_done(client, [upload(client, ("long.txt", report * 2000))[0]["id"]], timeout=120)
        assert slow["status"] == "failed" and "超时" in slow["message"], slow
        assert time.monotonic() - started < 60
        (fine,) = wait_done(client, [upload(client, ("report.txt", report))[0]["id"]], timeout=120)
        assert fine["status"] == "done", fine
        assert client.get(f"/api/reports/{fine['id']}").json()["cells"] == _cells(report)


def test_the_parse_pool_is_replaced_when_its_workers_are_killed(tmp_path):
    reports = [make_report(seed).render("txt") for seed in (4, 5, 6)]
    before = set(children())
    settings = Settings(data_dir=tmp_path / "d", workers=1)
    with TestClient(create_app(settings)) as client:
        (first,) = wait_done(client, [upload(client, ("a.txt", reports[0]))[0]["id"]], timeout=120)
        assert first["status"] == "done", first
        workers = [pid for pid, cmd in children().items() if pid not in before and "spawn_main" in cmd]
        assert workers, "no parse worker process found"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        # the upload that meets the broken pool may fail with one line, never hang; the pool is replaced for the next
        (second,) = wait_done(client, [upload(client, ("b.txt", reports[1]))[0]["id"]], timeout=120)
        assert second["status"] == "done" or "解析进程异常退出" in second["message"], second
        (third,) = wait_done(client, [upload(client, ("c.txt", reports[2]))[0]["id"]], timeout=120)
        assert third["status"] == "done", third
        assert client.get(f"/api/reports/{third['id']}").json()["cells"] == _cells(reports[2])
        assert not set(workers) & set(children())


def _cells(data: bytes) -> dict:
    from gongkai.pipeline import parse

    return parse(data).cells
