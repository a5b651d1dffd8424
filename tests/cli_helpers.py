"""Running gongkai as a user does: the installed command in a subprocess, and `gongkai serve` on loopback."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "gongkai"
GK = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "gongkai.cli"]


def gongkai(*args: str, stdin: bytes | None = None, columns: int | None = None, timeout: float = 120,
            cwd: Path | None = None) -> subprocess.CompletedProcess:  # fmt: skip
    """`gongkai ARGS…` with its output as text (stdin given, or none)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if columns:
        env["COLUMNS"] = str(columns)
    return subprocess.run([*GK, *args], input=stdin if stdin is not None else b"", capture_output=True, timeout=timeout,
                          cwd=cwd or ROOT, env=env)  # fmt: skip


def text(done: subprocess.CompletedProcess) -> tuple[str, str]:
    return done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served(*args: str):
    """`gongkai serve ARGS…` on a free loopback port; yields its base URL, stops it after."""
    port = free_port()
    proc = subprocess.Popen([*GK, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/static/gongkai.css", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError(f"gongkai serve exited: {proc.stdout.read().decode(errors='replace')[-2000:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def fetch(url: str) -> tuple[int, bytes, dict]:
    """GET `url`: status, body, headers (an HTTP error is returned, not raised)."""
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)
