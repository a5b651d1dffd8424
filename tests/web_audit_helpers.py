"""Helpers of the web app's audit and review tests: `gongkai serve` as a real process on loopback,
and HTTP clients that log in as a person does (the login form's CSRF token, then the session's)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from gongkai.review import add_user
from gongkai.store import Store

# the accounts of the tests: an administrator, a reviewer of each county of the generated city, a reader
USERS = {
    "admin": ("admin", None, "管理员的口令123"),
    "wang": ("reviewer", "430112", "望城区审核员口令"),  # 望城区
    "chang": ("reviewer", "430121", "长沙县审核员口令"),  # 长沙县
    "reader": ("readonly", None, "只读用户的口令1"),
    "zhao": ("reviewer", "430121", "赵的口令12345"),  # made through the user page by one test
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_store(audited_store: dict, target: Path, *, users: bool = True) -> Path:
    """A copy of the session's store to write to, with the test accounts."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(audited_store["db"], target)
    wal = Path(f"{audited_store['db']}.wal")
    if wal.exists():
        shutil.copy(wal, Path(f"{target}.wal"))
    if users:
        with Store(target) as store:
            for name, (role, region, password) in USERS.items():
                if name != "zhao":
                    add_user(store, name, role, password, region, by="测试")
    return target


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    data: Path
    db: Path
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def start_server(folder: Path, db: Path, *args: str, env: dict | None = None) -> Server:
    """`gongkai serve` on a free loopback port over store `db`, answering once its pages load."""
    port = free_port()
    data = folder / "data"
    log = folder / f"server-{port}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gongkai", "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data),
                                 "--db", str(db), "--timeout", "120", *args],
                                stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1", "GONGKAI_TOKEN": "", **(env or {})})  # fmt: skip
    server = Server(proc, port, data, db, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(server.url + "/static/gongkai.css", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError(f"gongkai serve exited: {server.log_text()[-2000:]}")
        time.sleep(0.2)
    server.stop()
    raise AssertionError("gongkai serve did not start within 60 s")


class Browserless(httpx.Client):
    """An HTTP client that logs in through the login form, as a browser does, and sends its session's
    CSRF token with every write (`csrf=False` leaves it out)."""

    def __init__(self, server: Server, **kwargs):
        super().__init__(base_url=server.url, timeout=180, **kwargs)
        self.csrf = ""

    def __enter__(self) -> Browserless:  # a client that has logged in is already open
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def login(self, name: str, password: str | None = None) -> Browserless:
        form = self.get("/login")
        token = re.search(r'name="csrf-token" content="([0-9a-f]*)"', form.text).group(1)
        answer = self.post("/login", data={"name": name, "password": password or USERS[name][2], "next": "/", "csrf_token": token}, csrf=False)
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        self.csrf = self.get("/api/me").json()["csrf_token"]
        return self

    def request(self, method, url, *args, csrf: bool = True, **kwargs):
        if csrf and method.upper() in ("POST", "PUT", "PATCH", "DELETE") and self.csrf:
            kwargs["headers"] = {"X-CSRF-Token": self.csrf, **(kwargs.get("headers") or {})}
        return super().request(method, url, *args, **kwargs)

    def post(self, url, *args, csrf: bool = True, **kwargs):
        return self.request("POST", url, *args, csrf=csrf, **kwargs)


def client(server: Server, name: str | None = None) -> Browserless:
    """A client of `server`, logged in as `name` (one of USERS) when given."""
    c = Browserless(server)
    return c.login(name) if name else c


def sha_of(audited_store: dict, file: str) -> str:
    import hashlib

    return hashlib.sha256((audited_store["reports"] / file).read_bytes()).hexdigest()


def fault_year(body: dict, fault: str) -> tuple[int, dict]:
    """The first year from 2023 in which `fault` was planted in the body's report."""
    return next((int(y), r) for y, r in body["years"].items() if fault in r["faults"] and int(y) >= 2023)
