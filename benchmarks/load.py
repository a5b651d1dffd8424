"""A bounded load test of `gongkai serve`: N concurrent clients upload small reports for S seconds.

    .venv/bin/python -m benchmarks.load --clients 20 --seconds 60

Starts `gongkai serve` on a free loopback port in a second process (its own data directory in a
temp folder), then each client POSTs a small report to /api/parse in a loop (distinct bytes each
time, so nothing is answered from a cache) and GETs / between uploads. Prints request counts,
failures (any status other than 200, or a transport error) and latency percentiles; exits 1 when
any request failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hostile  # noqa: E402 — the test suite's report builder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-c", "from gongkai.cli import main; main()", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--data-dir", str(data_dir), "--timeout", "60"]  # fmt: skip
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
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
    for kind, values in sorted(latencies.items()):
        ms = [v * 1000 for v in values]
        print(f"{kind:7s} {len(ms):6d} requests  {len(ms) / elapsed:6.1f}/s  "
              f"p50 {percentile(ms, 50):7.0f} ms  p90 {percentile(ms, 90):7.0f} ms  p99 {percentile(ms, 99):7.0f} ms  max {max(ms):7.0f} ms")  # fmt: skip
    print(f"failed  {len(failures)}")
    for line in failures[:10]:
        print("  ", line)
    for line in errors[-10:] if failures else []:
        print("  server:", line)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
