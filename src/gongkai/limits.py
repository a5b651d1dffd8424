"""Parse one document — or do anything else with its bytes — in a child process under a hard
time limit and memory cap.

pdfium, onnxruntime and LibreOffice can hang or balloon on hostile files; a child process is
the only boundary that a runaway C library cannot cross. A document over a limit is
unreadable, with the reason, never a hang. `parse_guarded` is the parse; `run_guarded` runs any
module-level function of a document's bytes the same way (the web app's page images and source
lines), and bounds the size of what it hands back.

The time limit grows with the pages OCR must read (seconds each), so a long scan is not cut off
by a limit meant for a page; the child reports the pages it has read as it goes.

The child is a plain `os.fork()` (no multiprocessing), so this works inside pool workers,
which multiprocessing forbids to have children. It leads its own session: on timeout the
whole session is killed, LibreOffice and any grandchildren included, and reaped — no
orphans, no zombies. Where `fork` is missing, a fresh interpreter runs the child instead.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import pickle
import select
import signal
import struct
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
MAX_RESULT_BYTES = 64 * 1024 * 1024  # what a child may hand back (a report's JSON is a few hundred kB)
# OpenVINO reserves ~2 GB of address space it never touches (its resident peak on a page is ~0.8 GB):
# a document OCR must read may map this much more than `memory_mb`
OCR_ADDRESS_SPACE_MB = 3072


def parse_guarded(source: str | os.PathLike | bytes, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS,
                  corrections: dict | None = None, on_progress: progress.Listener | None = None) -> Report:
    """`gongkai.parse` in a child process; raises `LimitExceededError` / `UnreadableError`.

    `on_progress(done, total)` hears the pages read so far (scans report them page by page)."""
    source = os.fspath(source) if not isinstance(source, bytes | bytearray | memoryview) else bytes(source)
    return Report.model_validate_json(run_guarded(_parse_json, source, name, corrections, limits=limits, on_progress=on_progress))


def run_guarded(function, *args, limits: Limits = DEFAULT_LIMITS, max_result: int = MAX_RESULT_BYTES,
                on_progress: progress.Listener | None = None) -> str | bytes:
    """`function(*args)` (a module-level function returning str or bytes) in a child process under
    `limits`; a result over `max_result` bytes, like a limit, raises `LimitExceededError`, and a
    `GongkaiError` of the function is raised again here with its message.

    Nothing of the document is opened here: the child itself says how many pages OCR must read
    (`progress.recognising`), and only then does it get their seconds and OCR's address space."""
    job = (function, args)
    kind, payload = _run_forked(job, limits, max_result, on_progress) if _fork_is_safe() else \
        _run_spawned(job, limits, max_result, on_progress)  # fmt: skip
    if kind == "ok":
        return payload
    if kind == "bytes":
        return base64.b64decode(payload)
    raise outcome_error(kind, payload, limits)


def outcome_error(kind: str, payload: str, limits: Limits) -> GongkaiError:
    """The error of a guarded call that did not end "ok" (kinds of `failure_of` and of the guard itself)."""
    if kind == "memory":
        return LimitExceededError(f"超出内存上限 {limits.memory_mb} MB")
    if kind in ("limit", "timeout", "too_big", "died"):
        return LimitExceededError(payload)
    if kind == "unreadable":
        return UnreadableError(payload)
    return UnreadableError(f"解析出错（{payload}）")


def parse_outcome(source, name: str | None) -> tuple[str, Report | str]:
    """Inside a guarded child: ("ok", the report) or (what went wrong, one line), see `failure_of`."""
    from gongkai.pipeline import parse

    try:
        return "ok", parse(source, name=name)
    except Exception as exc:  # noqa: BLE001 — told apart by failure_of
        return failure_of(exc)


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


def _fork_is_safe() -> bool:
    """A forked child has one thread. Once this process has run OCR, onnxruntime's own thread pool
    is part of its state, and a child that runs OCR again waits forever for threads it does not
    have: such a process starts a fresh interpreter instead."""
    if not hasattr(os, "fork"):
        return False
    ocr = sys.modules.get("gongkai.read.ocr")
    return ocr is None or not ocr.engine_loaded()


def _parse_json(source, name: str | None, corrections: dict | None = None) -> str:
    from gongkai.pipeline import parse

    extra = {"corrections": corrections} if corrections else {}  # review's corrected cells (review/corrections.py)
    return parse(source, name=name, **extra).to_json()


def _outcome(job, write) -> tuple[str, str]:
    """What the child reports: (kind, payload); on the way, `write` sends the pages done and the
    pages OCR will read to the parent (OCR's address space is allowed once there are some)."""
    function, args = job

    def tell(done: int, total: int) -> None:
        write(["pages", done, total])

    def budget(pages: int) -> None:
        _allow_ocr_address_space()
        write(["ocr", pages])

    try:
        with progress.listening(tell, budget):
            result = function(*args)
    except Exception as exc:  # noqa: BLE001 — told apart by failure_of
        return failure_of(exc)
    if isinstance(result, bytes):
        return "bytes", base64.b64encode(result).decode("ascii")
    return "ok", result


def failure_of(exc: Exception) -> tuple[str, str]:
    """(kind, one line) of what a guarded call raised: "memory", "limit", "unreadable" or "crash"."""
    if isinstance(exc, MemoryError):
        return "memory", ""
    if isinstance(exc, LimitExceededError):
        return "limit", str(exc)
    if isinstance(exc, GongkaiError):
        return "unreadable", str(exc)
    if "bad_alloc" in str(exc):  # C++ libraries (onnxruntime) report an allocation over the cap their own way
        return "memory", ""
    return "crash", _one_line(exc)  # a parser bug must reach the user as one line


def _one_line(exc: Exception) -> str:
    """The type and last message line: some libraries put a whole traceback into the message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[-1][:200]}" if lines else type(exc).__name__


def _cap_memory(memory_mb: int) -> None:
    """Cap the address space at what the process already maps plus `memory_mb` (the soft limit),
    and OCR_ADDRESS_SPACE_MB above that (the hard limit, which `_allow_ocr_address_space` reaches).

    A forked child inherits its parent's mappings (DuckDB, Arrow and onnxruntime reserve large
    virtual areas); a cap below them would make every later import fail, not just big parses.
    """
    limit = _mapped_bytes() + memory_mb * 1024 * 1024
    ceiling = limit + OCR_ADDRESS_SPACE_MB * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit, ceiling = min(limit, hard), min(ceiling, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, ceiling))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _allow_ocr_address_space() -> None:
    """The child is about to OCR: its soft address-space limit rises to the hard one set by `_cap_memory`."""
    if resource is not None:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if soft != hard:
            resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


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


def _fork(child, limits: Limits) -> tuple[int, int]:
    """Fork a child in a session of its own, its memory capped, that runs `child(write_fd)` and exits;
    the parent gets (pid, read_fd) and must `_reap` it."""
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
            _cap_memory(limits.memory_mb)
            child(write_fd)
        except BaseException:  # noqa: BLE001 — whatever happens, the child must end here
            status = 1
        finally:
            os._exit(status)
    return pid, read_fd


def _reap(pid: int, read_fd: int) -> int:
    """Close the pipe, kill the child's session and the child, and wait for it: its exit status."""
    os.close(read_fd)
    _kill_session(pid)
    _kill(pid)  # a child stuck before setsid() is in no session of its own
    _, status = os.waitpid(pid, 0)
    return status


def _run_forked(job, limits: Limits, max_result: int, on_progress) -> tuple[str, str]:
    def child(write_fd: int) -> None:
        def write(message) -> None:
            _write_all(write_fd, json.dumps(message, ensure_ascii=False).encode() + b"\n")

        write(list(_outcome(job, write)))

    pid, read_fd = _fork(child, limits)
    try:
        outcome = _collect(read_fd, limits, max_result, on_progress)
    finally:
        status = _reap(pid, read_fd)
    return outcome or ("died", _died(status, limits))


def _collect(read_fd: int, limits: Limits, max_result: int, on_progress) -> tuple[str, str] | None:
    """Read the child's lines until its outcome: the pages done go to `on_progress`, the pages OCR will
    read extend the time limit. None when the child ended without one (it died)."""
    started = time.monotonic()
    seconds = limits.seconds
    buffer = b""
    received = 0
    while True:
        left = started + seconds - time.monotonic()
        if left <= 0:
            return "timeout", f"解析超时（超过 {seconds:g} 秒）"
        ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
        if not ready:
            continue
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            return None
        received += len(chunk)
        if received > max_result * 4 // 3 + 1024:  # base64 and the JSON around it
            return "too_big", _too_big(max_result)
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            message = json.loads(line)
            if message[0] == "pages":
                if on_progress is not None:
                    on_progress(message[1], message[2])
            elif message[0] == "ocr":
                seconds = max(seconds, limits.seconds_for(message[1]))
            else:
                return message[0], message[1]


def _too_big(max_result: int) -> str:
    return f"结果过大（超过 {max_result // (1024 * 1024)} MB）"


def _died(status: int, limits: Limits) -> str:
    if os.WIFSIGNALED(status):
        return f"解析进程异常退出（信号 {os.WTERMSIG(status)}，可能超出内存上限 {limits.memory_mb} MB）"
    return f"解析进程异常退出（退出码 {os.WEXITSTATUS(status) if os.WIFEXITED(status) else status}，可能超出内存上限 {limits.memory_mb} MB）"


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


# ── many items in one child ───────────────────────────────────────────────────


def guarded_each(work, items: list, *, limits: Limits = DEFAULT_LIMITS):
    """`work(item)` for each item in a forked child, each item under its own time limit; yields (item, result).

    One child runs as many items as it survives (a fork and its clean-up cost more than a short
    parse); an item that times out or kills its child yields a `LimitExceededError`, and a fresh
    child goes on with the next. An item whose reader says OCR will read pages gets their seconds,
    as in `run_guarded`. `work` returns a picklable value and should not raise: what it raises
    anyway yields an `UnreadableError`. Needs `os.fork` and a process whose fork is safe
    (`fork_is_safe()`); elsewhere guard each item with `parse_guarded`.
    """
    start = 0
    while start < len(items):
        done = 0
        for index, result in _forked_each(work, items[start:], limits):
            yield items[start + index], result
            done = index + 1
        start += max(done, 1)


def fork_is_safe() -> bool:
    """Whether `guarded_each` may be used in this process (see `_fork_is_safe`)."""
    return _fork_is_safe()


_FRAME = struct.Struct("<Q")


def _forked_each(work, items: list, limits: Limits):
    """Yields (index, result) in order until the items end, one times out or the child dies."""

    def child(write_fd: int) -> None:
        def send(kind: str, payload) -> None:
            message = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
            _write_all(write_fd, _FRAME.pack(len(message)) + message)

        def budget(pages: int) -> None:
            _allow_ocr_address_space()
            send("ocr", pages)

        for item in items:
            try:
                with progress.listening(None, budget):
                    result = ("ok", work(item))
            except Exception as exc:  # noqa: BLE001 — a bug in `work` reaches the caller as one line
                result = failure_of(exc)
            send(*result)

    pid, read_fd = _fork(child, limits)
    buffer = bytearray()
    index = 0
    started, seconds = time.monotonic(), limits.seconds
    ended = ""  # why the child stopped before the last item: "timeout" or "died"
    try:
        while index < len(items):
            while len(buffer) >= _FRAME.size and len(buffer) >= _FRAME.size + _FRAME.unpack_from(buffer)[0]:
                size = _FRAME.unpack_from(buffer)[0]
                kind, payload = pickle.loads(buffer[_FRAME.size : _FRAME.size + size])
                del buffer[: _FRAME.size + size]
                if kind == "ocr":  # this item is a scan: seconds a page
                    seconds = max(seconds, limits.seconds_for(payload))
                    continue
                yield index, payload if kind == "ok" else outcome_error(kind, payload, limits)
                index += 1
                started, seconds = time.monotonic(), limits.seconds  # the next item's own time starts now
            if index == len(items):
                break
            left = started + seconds - time.monotonic()
            if left <= 0:
                ended = "timeout"
                break
            ready, _, _ = select.select([read_fd], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    ended = "died"
                    break
                buffer += chunk
    finally:
        status = _reap(pid, read_fd)
    if ended == "timeout":
        yield index, LimitExceededError(f"解析超时（超过 {seconds:g} 秒）")
    elif ended == "died":
        yield index, LimitExceededError(_died(status, limits))


# ── without fork (Windows): a fresh interpreter ───────────────────────────────


def _run_spawned(job, limits: Limits, max_result: int, on_progress) -> tuple[str, str]:
    function, args = job
    request = json.dumps({"function": f"{function.__module__}:{function.__qualname__}", "memory_mb": limits.memory_mb})
    data = pickle.dumps(args)  # our own child reads it back: the arguments are ours, not a client's
    process = subprocess.Popen(
        [sys.executable, "-m", "gongkai.limits", request],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=hasattr(os, "setsid"),
    )
    try:
        try:
            process.stdin.write(data)  # the child reads all of it before it writes a line
            process.stdin.close()
        except BrokenPipeError:
            pass
        outcome = _collect(process.stdout.fileno(), limits, max_result, on_progress)
    finally:
        if hasattr(os, "killpg"):
            _kill_session(process.pid)  # LibreOffice started by the child too
        process.kill()
        process.wait()
        process.stdout.close()
    return outcome or ("died", f"解析进程异常退出（退出码 {process.returncode}）")


def _spawned_main(request: str) -> None:
    spec = json.loads(request)
    if resource is not None:
        _cap_memory(spec["memory_mb"])
    module, _, name = spec["function"].partition(":")
    function = importlib.import_module(module)
    for part in name.split("."):
        function = getattr(function, part)
    args = pickle.loads(sys.stdin.buffer.read())

    def write(message) -> None:
        sys.stdout.write(json.dumps(message, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    write(list(_outcome((function, args), write)))


if __name__ == "__main__":
    _spawned_main(sys.argv[1])
