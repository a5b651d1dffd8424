"""Bounded load tests of `gongkai serve` on loopback.

    .venv/bin/python -m benchmarks.load --clients 20 --seconds 60            # uploads
    .venv/bin/python -m benchmarks.load --review --clients 20 --seconds 60   # reviewers

Uploads: starts `gongkai serve` on a free loopback port in a second process (its own data
directory in a temp folder), then each client POSTs a small report to /api/parse in a loop
(distinct bytes each time, so nothing is answered from a cache) and GETs / between uploads.

Reviewers (issue 11): a generated city's reports (synth.county, two of its years) in a store with
the roster and 20 reviewer accounts, half of 望城区 and half of 长沙县; each reviewer logs in
through the login form and, until the time is up, confirms, dismisses (with a reason) or reopens
findings of their region and now and then corrects a cell (a new version, the file read again in a
guarded worker). Afterwards the server is stopped and the store read: every decision and every
correction answered 200 must be there, in its table and in the audit log, once each.

Both print request counts, failures (5xx, a transport error, or for reviewers any refusal other
than the domain's 400 — deciding a finding a correction just resolved) and latency percentiles;
exit 1 when anything failed or was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hostile  # noqa: E402 — the test suite's report builder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-c", "from gongkai.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir), "--timeout", "60", *extra]  # fmt: skip
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 — lives as long as the server
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "GONGKAI_TOKEN": ""})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code < 500:
                return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("gongkai serve did not start within 60 s")


async def client(base: str, number: int, until: float, latencies: dict, failures: list) -> None:
    fmts = ("txt", "html", "docx")
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        i = 0
        while time.monotonic() < until:
            fmt = fmts[(number + i) % 3]
            report = hostile.valid_report(number * 100_000 + i)
            files = {"file": (f"client{number}_{i}.{fmt}", report.render(fmt))}
            for kind, call in (("upload", lambda files=files: http.post("/api/parse", files=files)), ("page", lambda: http.get("/"))):
                started = time.perf_counter()
                try:
                    response = await call()
                    if response.status_code != 200:
                        failures.append(f"{kind} {response.status_code}: {response.text[:120]}")
                except httpx.HTTPError as exc:
                    failures.append(f"{kind} {type(exc).__name__}: {exc}")
                latencies.setdefault(kind, []).append(time.perf_counter() - started)
            i += 1


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


# ── reviewers ──────────────────────────────────────────────────────────────────────────────────

REVIEW_REGIONS = ("430112", "430121")  # 望城区, 长沙县: half the reviewers each
STATUS_ZH = {"open": "待核", "confirmed": "已确认", "dismissed": "已驳回"}


def reviewer_accounts(n: int) -> list[tuple[str, str, str]]:
    """(name, password, region) of `n` reviewers."""
    return [(f"reviewer{i:02d}", f"load-test-password-{i:02d}", REVIEW_REGIONS[i % len(REVIEW_REGIONS)]) for i in range(n)]


def add_reviewers(db: Path, accounts: list[tuple[str, str, str]]) -> None:
    from gongkai.review import add_user
    from gongkai.store import Store

    with Store(db) as store:
        for name, password, region in accounts:
            add_user(store, name, "reviewer", password, region, by="load")


class Outcome:
    """What the reviewers were told: every decision and correction answered 200, every failure, every latency."""

    def __init__(self):
        self.lock = threading.Lock()
        self.decisions: list[tuple[str, str, str, str | None]] = []  # (finding id, status, actor, reason)
        self.corrections: list[tuple[str, int, str, float]] = []  # (lineage, version, cell, value)
        self.refused = Counter()  # the domain's 400s, by message
        self.failures: list[str] = []
        self.latencies: dict[str, list[float]] = {}

    def timed(self, kind: str, function, *args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — a transport error is a failure to report, not to raise
            with self.lock:
                self.failures.append(f"{kind} {type(exc).__name__}: {exc}")
            return None
        finally:
            with self.lock:
                self.latencies.setdefault(kind, []).append(time.perf_counter() - started)

    def judge(self, kind: str, response) -> bool:
        """True for a 200; a 400 of the domain is counted; anything else is a failure."""
        if response is None:
            return False
        if response.status_code == 200:
            return True
        with self.lock:
            if response.status_code == 400:
                self.refused[response.json().get("detail", "")[:40]] += 1
            else:
                self.failures.append(f"{kind} {response.status_code}: {response.text[:160]}")
        return False


def reviewer(base: str, account: tuple[str, str, str], until: float, out: Outcome, seed: int, correct_every: int, at_least: int = 0) -> None:
    """One reviewer: logs in, then decides and corrects until `until`, and at least `at_least` times
    whatever the clock says (a test on a loaded machine still does the work it checks)."""
    import httpx

    name, password, _ = account
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=300) as http:
        form = http.get("/login").text
        token = re.search(r'name="csrf-token" content="([0-9a-f]*)"', form).group(1)
        if http.post("/login", data={"name": name, "password": password, "csrf_token": token}).status_code != 303:
            with out.lock:
                out.failures.append(f"{name}: 登录失败")
            return
        headers = {"X-CSRF-Token": http.get("/api/me").json()["csrf_token"], "Accept": "application/json"}
        findings: list[dict] = []
        i = 0
        while time.monotonic() < until or i < at_least:
            if i % 10 == 0 or not findings:
                listed = out.timed("list", http.get, "/findings.json")
                if not out.judge("list", listed):
                    i += 1
                    continue
                findings = [f for f in listed.json() if f["status"] != "resolved"]
                if not findings:
                    with out.lock:
                        out.failures.append(f"{name}: 没有可审核的发现")
                    return
            f = rng.choice(findings)
            if (i + seed) % correct_every == 0 and f["cells"]:  # one reviewer in `correct_every` starts with a correction
                cell, value = rng.choice(f["cells"]), rng.randint(0, 999)
                body = {"cells": {cell: value}, "reason": f"负载测试 {name} 第{i}次"}
                done = out.timed("correct", http.post, f"/reports/{f['sha256']}/corrections", json=body, headers=headers)
                if out.judge("correct", done):
                    answer = done.json()
                    with out.lock:
                        for c, change in answer["changed"].items():
                            out.corrections.append((answer["version"]["lineage"], answer["version"]["version"], c, float(change["new"])))
                    findings = []  # the report has a new version: list again
            else:
                status = rng.choice(("confirmed", "dismissed", "open"))
                reason = f"负载测试 {name} 第{i}次" if status == "dismissed" else None
                body = {"status": status, "reason": reason}
                done = out.timed("decide", http.post, f"/findings/{f['id']}/decision", json=body, headers=headers)
                if out.judge("decide", done):
                    answer = done.json()
                    with out.lock:
                        out.decisions.append((answer["finding_id"], answer["status"], answer["actor"], answer["reason"]))
            i += 1


def run_reviewers(base: str, accounts: list[tuple[str, str, str]], seconds: float, correct_every: int = 10, at_least: int = 0) -> Outcome:
    """Every account reviews in its own thread for `seconds` (and `at_least` times); returns what they were told."""
    out = Outcome()
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=reviewer, args=(base, a, until, out, n, correct_every, at_least)) for n, a in enumerate(accounts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def lost(db: Path, out: Outcome) -> list[str]:
    """What a 200 promised and the store does not hold (read after the server stopped): decisions and
    corrections in their tables and in the audit log, each exactly as many times as answered."""
    from gongkai.store import Store

    problems = []
    with Store(db) as store:
        con = store.con
        stored = Counter(tuple(r) for r in con.execute("SELECT finding_id, status, actor, reason FROM decisions").fetchall())
        logged = Counter(tuple(r) for r in con.execute("SELECT target, new_value, actor FROM audit_log WHERE action = 'decision'").fetchall())
        fixed = Counter((lineage, version, cell, float(value)) for lineage, version, cell, value in
                        con.execute("SELECT lineage, version, cell_id, value FROM corrections").fetchall())  # fmt: skip
        fixes_logged = Counter(tuple(r) for r in con.execute("SELECT lineage, target FROM audit_log WHERE action = 'correction'").fetchall())
    answered = Counter(out.decisions)
    if stored != answered:
        problems.append(f"decisions: answered {sum(answered.values())}, stored {sum(stored.values())}; "
                        f"missing {list((answered - stored).items())[:3]}, unanswered {list((stored - answered).items())[:3]}")  # fmt: skip
    answered_log = Counter((fid, STATUS_ZH[status], actor) for fid, status, actor, _ in out.decisions)
    if logged != answered_log:
        problems.append(f"decision log: answered {sum(answered_log.values())}, logged {sum(logged.values())}")
    corrected = Counter(out.corrections)
    if fixed != corrected:
        problems.append(f"corrections: answered {sum(corrected.values())}, stored {sum(fixed.values())}; missing {list((corrected - fixed).items())[:3]}")
    corrected_log = Counter((lineage, cell) for lineage, _, cell, _ in out.corrections)
    if fixes_logged != corrected_log:
        problems.append(f"correction log: answered {sum(corrected_log.values())}, logged {sum(fixes_logged.values())}")
    return problems


def print_latencies(latencies: dict[str, list[float]], elapsed: float) -> None:
    for kind, values in sorted(latencies.items()):
        ms = [v * 1000 for v in values]
        print(f"{kind:7s} {len(ms):6d} requests  {len(ms) / elapsed:6.1f}/s  "
              f"p50 {percentile(ms, 50):7.0f} ms  p90 {percentile(ms, 90):7.0f} ms  p99 {percentile(ms, 99):7.0f} ms  max {max(ms):7.0f} ms")  # fmt: skip


def county_store(folder: Path) -> Path:
    """The generated city's 2023 and 2024 reports of 望城区 and 长沙县 in a store, with its roster."""
    from gongkai.synth.county import write_county

    write_county(folder / "county", seed=0, years=(2023, 2024))
    db = folder / "store.duckdb"
    for command in (["batch", str(folder / "county" / "reports"), "--db", str(db)],
                    ["roster", "import", str(folder / "county" / "roster.xlsx"), "--db", str(db), "--by", "load"]):  # fmt: skip
        subprocess.run([sys.executable, "-m", "gongkai", *command], check=True, capture_output=True)
    return db


def review_main(clients: int, seconds: float) -> int:
    with tempfile.TemporaryDirectory(prefix="gongkai-review-load-") as tmp:
        folder = Path(tmp)
        db = county_store(folder)
        accounts = reviewer_accounts(clients)
        add_reviewers(db, accounts)
        port = free_port()
        server = start_server(folder, port, "--db", str(db))
        started = time.monotonic()
        try:
            out = run_reviewers(f"http://127.0.0.1:{port}", accounts, seconds)
        finally:
            elapsed = time.monotonic() - started
            server.terminate()
            server.wait(30)
        problems = lost(db, out)
    print(f"{clients} reviewers, {elapsed:.0f} s, {os.cpu_count()} CPUs")
    print_latencies(out.latencies, elapsed)
    print(f"decisions {len(out.decisions)}  corrections {len(out.corrections)}  refused by the domain (400) {sum(out.refused.values())}")
    print(f"failed  {len(out.failures)}  lost  {len(problems)}")
    for line in out.failures[:10] + problems:
        print("  ", line)
    return 1 if out.failures or problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--review", action="store_true", help="reviewers deciding and correcting, instead of uploads")
    args = parser.parse_args()
    if args.review:
        return review_main(args.clients, args.seconds)
    with tempfile.TemporaryDirectory(prefix="gongkai-load-") as tmp:
        port = free_port()
        server = start_server(Path(tmp), port)
        latencies: dict[str, list[float]] = {}
        failures: list[str] = []
        started = time.monotonic()
        try:
            until = started + args.seconds
            base = f"http://127.0.0.1:{port}"

            async def run() -> None:
                await asyncio.gather(*(client(base, n, until, latencies, failures) for n in range(args.clients)))

            asyncio.run(run())
        finally:
            elapsed = time.monotonic() - started
            server.terminate()
            server.wait(10)
            log = (Path(tmp) / "server.log").read_text(errors="replace").splitlines()
    errors = [line for line in log if "Error" in line or "Traceback" in line]
    print(f"{args.clients} clients, {elapsed:.0f} s, {os.cpu_count()} CPUs")
    print_latencies(latencies, elapsed)
    print(f"failed  {len(failures)}")
    for line in failures[:10]:
        print("  ", line)
    for line in errors[-10:] if failures else []:
        print("  server:", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
