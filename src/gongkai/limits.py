"""Parse one document in a child process under a hard time limit and memory cap.

pdfium, onnxruntime and LibreOffice can hang or balloon on hostile files; a child process is
the only boundary that a runaway C library cannot cross. A document over a limit is
unreadable, with the reason, never a hang.

The child is a plain `os.fork()` (no multiprocessing), so this works inside pool workers,
which multiprocessing forbids to have children. It leads its own session: on timeout the
whole session is killed, LibreOffice and any grandchildren included, and reaped — no
orphans, no zombies. Where `fork` is missing, a fresh interpreter runs the child instead.
"""

from __future__ import annotations

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

from gongkai.errors import GongkaiError, LimitExceededError, UnreadableError
from gongkai.report import Report


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 120.0
    memory_mb: int = 2048  # address space (RLIMIT_AS) of the child and everything it starts


DEFAULT_LIMITS = Limits()


def parse_guarded(source: str | os.PathLike | bytes, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Report:
    """`gongkai.parse` in a child process; raises `LimitExceededError` / `UnreadableError`."""
    source = os.fspath(source) if not isinstance(source, bytes | bytearray | memoryview) else bytes(source)
    kind, payload = _run_forked(source, name, limits) if _fork_is_safe() else _run_spawned(source, name, limits)
    if kind == "ok":
        return Report.model_validate_json(payload)
    raise outcome_error(kind, payload, limits)


def outcome_error(kind: str, payload: str, limits: Limits) -> GongkaiError:
    """The error a parse that did not end "ok" raises (see `parse_outcome`)."""
    if kind == "memory":
        return LimitExceededError(f"超出内存上限 {limits.memory_mb} MB")
    if kind == "limit":
        return LimitExceededError(payload)
    if kind == "unreadable":
        return UnreadableError(payload)
    return UnreadableError(f"解析出错（{payload}）")


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


def _fork_is_safe() -> bool:
    """A forked child has one thread. Once this process has run OCR, onnxruntime's own thread pool
    is part of its state, and a child that runs OCR again waits forever for threads it does not
    have: such a process starts a fresh interpreter instead."""
    if not hasattr(os, "fork"):
        return False
    ocr = sys.modules.get("gongkai.read.ocr")
    return ocr is None or not ocr.engine_loaded()


def _outcome(source, name: str | None) -> tuple[str, str]:
    """What the child reports: (kind, payload)."""
    kind, value = parse_outcome(source, name)
    return (kind, value.to_json()) if kind == "ok" else (kind, value)


def parse_outcome(source, name: str | None) -> tuple[str, Report | str]:
    """("ok", the report) or (what went wrong, one line): "memory", "limit", "unreadable" or "crash"."""
    try:
        from gongkai.pipeline import parse

        return "ok", parse(source, name=name)
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


def _run_forked(source, name: str | None, limits: Limits) -> tuple[str, str]:
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
            kind, payload = _outcome(source, name)
            message = json.dumps([kind, payload], ensure_ascii=False).encode()
            view = memoryview(message)
            while view:
                view = view[os.write(write_fd, view) :]
        except BaseException:  # noqa: BLE001 — whatever happens, the child must end here
            status = 1
        finally:
            os._exit(status)
    chunks: list[bytes] = []
    deadline = time.monotonic() + limits.seconds
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
    finally:
        os.close(read_fd)
        _kill_session(pid)
        _kill(pid)  # a child stuck before setsid() is in no session of its own
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise LimitExceededError(f"解析超时（超过 {limits.seconds:g} 秒）")
    try:
        kind, payload = json.loads(b"".join(chunks))
    except ValueError:
        raise LimitExceededError(_died(status, limits)) from None
    return kind, payload


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
    """`work(item)` for each item in a forked child, each item under `limits.seconds`; yields (item, result).

    One child runs as many items as it survives (a fork and its clean-up cost more than a short
    parse); an item that times out or kills its child yields a `LimitExceededError`, and a fresh
    child goes on with the next. `work` returns a picklable value and should not raise: what it
    raises anyway yields an `UnreadableError`. Needs `os.fork` and a process whose fork is safe
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
            for item in items:
                try:
                    message = pickle.dumps(("ok", work(item)), protocol=pickle.HIGHEST_PROTOCOL)
                except MemoryError:
                    message = pickle.dumps(("memory", ""))
                except Exception as exc:  # noqa: BLE001 — a bug in `work` reaches the caller as one line
                    message = pickle.dumps(("crash", _one_line(exc)))
                view = memoryview(_FRAME.pack(len(message)) + message)
                while view:
                    view = view[os.write(write_fd, view) :]
        except BaseException:  # noqa: BLE001 — whatever happens, the child must end here
            status = 1
        finally:
            os._exit(status)
    buffer = bytearray()
    index = 0
    deadline = time.monotonic() + limits.seconds
    ended = ""  # why the child stopped before the last item: "timeout" or "died"
    try:
        while index < len(items):
            while len(buffer) >= _FRAME.size and len(buffer) >= _FRAME.size + _FRAME.unpack_from(buffer)[0]:
                size = _FRAME.unpack_from(buffer)[0]
                kind, payload = pickle.loads(buffer[_FRAME.size : _FRAME.size + size])
                del buffer[: _FRAME.size + size]
                yield index, _each_result(kind, payload, limits)
                index += 1
                deadline = time.monotonic() + limits.seconds  # the next item's own time starts now
            if index == len(items):
                break
            left = deadline - time.monotonic()
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
        os.close(read_fd)
        _kill_session(pid)
        _kill(pid)
        _, status = os.waitpid(pid, 0)
    if ended == "timeout":
        yield index, LimitExceededError(f"解析超时（超过 {limits.seconds:g} 秒）")
    elif ended == "died":
        yield index, LimitExceededError(_died(status, limits))


def _each_result(kind: str, payload, limits: Limits):
    if kind == "ok":
        return payload
    if kind == "memory":
        return LimitExceededError(f"超出内存上限 {limits.memory_mb} MB")
    return UnreadableError(f"解析出错（{payload}）")


# ── without fork (Windows): a fresh interpreter ───────────────────────────────


def _run_spawned(source, name: str | None, limits: Limits) -> tuple[str, str]:
    request = json.dumps({"path": source if isinstance(source, str) else None, "name": name, "memory_mb": limits.memory_mb})
    data = source if isinstance(source, bytes) else b""
    process = subprocess.Popen(
        [sys.executable, "-m", "gongkai.limits", request],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=hasattr(os, "setsid"),
    )
    try:
        out, _ = process.communicate(data, timeout=limits.seconds)
    except subprocess.TimeoutExpired:
        if hasattr(os, "killpg"):
            _kill_session(process.pid)  # LibreOffice started by the child too
        process.kill()
        process.communicate()
        raise LimitExceededError(f"解析超时（超过 {limits.seconds:g} 秒）") from None
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
