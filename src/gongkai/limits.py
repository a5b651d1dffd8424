"""Parse one document in a child process under a hard time limit and memory cap.

pdfium, onnxruntime and LibreOffice can hang or balloon on hostile files; a child process is
the only boundary that a runaway C library cannot cross. A document over a limit is
unreadable, with the reason, never a hang.

The child is a plain `os.fork()` (no multiprocessing), so this works inside pool workers,
which multiprocessing forbids to have children. It leads its own session: on timeout the
whole session is killed, LibreOffice and any grandchildren included, and reaped — no
orphans, no zombies. Where `fork` is missing, a fresh interpreter runs the child instead.

The time limit grows with the pages OCR must read (seconds each), so a long scan is not cut off
by a limit meant for a page; the child reports the pages it has read as it goes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

from gongkai import progress
from gongkai.errors import GongkaiError, LimitExceededError, UnreadableError
from gongkai.report import Report


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 120.0  # for a document with at most one page to recognise
    memory_mb: int = 2048  # address space (RLIMIT_AS) of the child and everything it starts
    seconds_per_page: float = 90.0  # more for each further page OCR reads (a scan on a busy machine)

    def seconds_for(self, pages: int) -> float:
        """The time limit of a document with `pages` pages to recognise."""
        return self.seconds + self.seconds_per_page * max(0, pages - 1)


DEFAULT_LIMITS = Limits()
# OpenVINO reserves ~2 GB of address space it never touches (its resident peak on a page is ~0.8 GB):
# a document OCR must read may map this much more than `memory_mb`
OCR_ADDRESS_SPACE_MB = 3072


def parse_guarded(source: str | os.PathLike | bytes, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS,
                  on_progress: progress.Listener | None = None) -> Report:  # fmt: skip
    """`gongkai.parse` in a child process; raises `LimitExceededError` / `UnreadableError`.

    `on_progress(done, total)` hears the pages read so far (scans report them page by page)."""
    source = os.fspath(source) if not isinstance(source, bytes | bytearray | memoryview) else bytes(source)
    pages = _pages_to_recognise(source)
    seconds = limits.seconds_for(pages)
    address_mb = limits.memory_mb + (OCR_ADDRESS_SPACE_MB if pages else 0)
    if _fork_is_safe():
        kind, payload = _run_forked(source, name, limits, seconds, on_progress, address_mb)
    else:
        kind, payload = _run_spawned(source, name, limits, seconds, address_mb)
    if kind == "ok":
        return Report.model_validate_json(payload)
    if kind == "memory":
        raise LimitExceededError(f"超出内存上限 {limits.memory_mb} MB")
    if kind == "limit":
        raise LimitExceededError(payload)
    if kind == "unreadable":
        raise UnreadableError(payload)
    raise UnreadableError(f"解析出错（{payload}）")


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cap_workers(workers: int) -> tuple[int, str | None]:
    """At most one parsing process per core (more only queue for the same cores, and every scan among
    them then runs out of time); a note in Chinese says when the request was lowered."""
    available = cores()
    if workers <= available:
        return max(1, workers), None
    return available, f"--workers {workers} 超过本机可用的 CPU 核数 {available}，已按 {available} 个进程并行解析"


def share_cores(workers: int) -> None:
    """Each of `workers` parsing processes runs OCR on its share of the cores (inherited by their children)."""
    os.environ["GONGKAI_OCR_THREADS"] = str(max(1, cores() // max(1, workers)))


def die_with_parent() -> None:
    """For a pool worker's initializer: end this process when the one that started it is gone.

    A pool whose owner is killed (kill -9 of a batch, a web server stopped hard) would leave its
    workers waiting for tasks for ever; a daemon thread watches for the parent to change.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="gongkai-die-with-parent", daemon=True).start()


def _pages_to_recognise(source: str | bytes) -> int:
    """Pages OCR will read in the document (0 when it has none, or cannot be opened here)."""
    from gongkai.read.ocr import pages_to_recognise

    try:
        if isinstance(source, str):
            with open(source, "rb") as fh:
                head = fh.read(2048)
                if not _may_need_ocr(head):
                    return 0
                fh.seek(0)
                source = fh.read()
        return pages_to_recognise(source)
    except (OSError, GongkaiError):
        return 0


def _may_need_ocr(head: bytes) -> bool:
    from gongkai.read.sniff import sniff

    return sniff(head) in ("pdf", "image")


def _fork_is_safe() -> bool:
    """A forked child has one thread. Once this process has run OCR, onnxruntime's own thread pool
    is part of its state, and a child that runs OCR again waits forever for threads it does not
    have: such a process starts a fresh interpreter instead."""
    if not hasattr(os, "fork"):
        return False
    ocr = sys.modules.get("gongkai.read.ocr")
    return ocr is None or not ocr.engine_loaded()


def _outcome(source, name: str | None, listener: progress.Listener | None = None) -> tuple[str, str]:
    """What the child reports: (kind, payload)."""
    try:
        from gongkai.pipeline import parse

        with progress.listening(listener):
            return "ok", parse(source, name=name).to_json()
    except MemoryError:
        return "memory", ""
    except LimitExceededError as exc:
        return "limit", str(exc)
    except GongkaiError as exc:
        return "unreadable", str(exc)
    except Exception as exc:  # noqa: BLE001 — a parser bug must reach the user as one line
        if "bad_alloc" in str(exc):  # C++ libraries (onnxruntime) report an allocation over the cap their own way
            return "memory", ""
        return "crash", _one_line(exc)


def _one_line(exc: Exception) -> str:
    """The type and last message line: some libraries put a whole traceback into the message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1][:200]}" if lines else type(exc).__name__


def _cap_memory(memory_mb: int) -> None:
    """Cap the address space at what the process already maps plus `memory_mb`.

    A forked child inherits its parent's mappings (DuckDB, Arrow and onnxruntime reserve large
    virtual areas); a cap below them would make every later import fail, not just big parses.
    """
    limit = _mapped_bytes() + memory_mb * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard if hard != resource.RLIM_INFINITY else limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _mapped_bytes() -> int:
    """Virtual memory this process maps now (0 where /proc is not there)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


# Threads that fork at once would hand each other's pipe ends to their children (a reader then
# waits for the wrong child): pipe, fork and closing the write end happen under one lock.
_FORK_LOCK = threading.Lock()


def _write_all(fd: int, message: bytes) -> None:
    view = memoryview(message)
    while view:
        view = view[os.write(fd, view) :]


def _run_forked(source, name: str | None, limits: Limits, seconds: float, on_progress, address_mb: int) -> tuple[str, str]:
    with _FORK_LOCK:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid != 0:
            os.close(write_fd)
    if pid == 0:  # the child: never returns into the caller's code
        status = 0
        try:
            os.close(read_fd)
            os.setsid()
            _cap_memory(address_mb)

            def tell(done: int, total: int) -> None:
                _write_all(write_fd, json.dumps(["pages", done, total]).encode() + b"\n")

            kind, payload = _outcome(source, name, tell)
            _write_all(write_fd, json.dumps([kind, payload], ensure_ascii=False).encode() + b"\n")
        except BaseException:  # noqa: BLE001 — whatever happens, the child must end here
            status = 1
        finally:
            os._exit(status)
    chunks: list[bytes] = []
    deadline = time.monotonic() + seconds
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
                if b"\n" in chunk:
                    chunks = _heard(chunks, on_progress)
    finally:
        os.close(read_fd)
        _kill_session(pid)
        _kill(pid)  # a child stuck before setsid() is in no session of its own
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise LimitExceededError(f"解析超时（超过 {seconds:g} 秒）")
    try:
        kind, payload = json.loads(b"".join(chunks))
    except ValueError:
        raise LimitExceededError(_died(status, limits)) from None
    return kind, payload


def _heard(chunks: list[bytes], on_progress) -> list[bytes]:
    """Pass on the pages-done lines received so far; what follows the last line break is kept."""
    *lines, rest = b"".join(chunks).split(b"\n")
    for line in lines:
        message = json.loads(line)
        if message[0] != "pages":
            return [line, b"\n", rest]  # the result itself (the last line the child writes)
        if on_progress is not None:
            on_progress(message[1], message[2])
    return [rest] if rest else []


def _died(status: int, limits: Limits) -> str:
    if os.WIFSIGNALED(status):
        return f"解析进程异常退出（信号 {os.WTERMSIG(status)}，可能超出内存上限 {limits.memory_mb} MB）"
    return (
        f"解析进程异常退出（退出码 {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status}，可能超出内存上限 {limits.memory_mb} MB）"
    )


def _kill_session(sid: int) -> None:
    """SIGKILL the child's session: its process group, and groups its children made (LibreOffice)."""
    try:
        os.killpg(sid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for pid in _session_members(sid):
        _kill(pid)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _session_members(sid: int) -> list[int]:
    """Processes in session `sid` (Linux /proc; elsewhere the process group kill must do)."""
    members = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return members
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()  # after "pid (comm) "
        if len(fields) > 3 and int(fields[3]) == sid:
            members.append(int(entry))
    return members


# ── without fork (Windows): a fresh interpreter ───────────────────────────────


def _run_spawned(source, name: str | None, limits: Limits, seconds: float, address_mb: int) -> tuple[str, str]:
    request = json.dumps({"path": source if isinstance(source, str) else None, "name": name, "memory_mb": address_mb})
    data = source if isinstance(source, bytes) else b""
    process = subprocess.Popen(
        [sys.executable, "-m", "gongkai.limits", request],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=hasattr(os, "setsid"),
    )
    try:
        out, _ = process.communicate(data, timeout=seconds)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            _kill_session(process.pid)  # LibreOffice started by the child too
        process.kill()
        process.communicate()
        raise LimitExceededError(f"解析超时（超过 {seconds:g} 秒）") from None
    try:
        kind, payload = json.loads(out)
    except ValueError:
        raise LimitExceededError(f"解析进程异常退出（退出码 {process.returncode}）") from None
    return kind, payload


def _spawned_main(request: str) -> None:
    args = json.loads(request)
    if resource is not None:
        _cap_memory(args["memory_mb"])
    source = args["path"] if args["path"] is not None else sys.stdin.buffer.read()
    sys.stdout.write(json.dumps(_outcome(source, args["name"]), ensure_ascii=False))


if __name__ == "__main__":
    _spawned_main(sys.argv[1])
