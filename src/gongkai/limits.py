"""Parse one document in a child process under a hard time limit and memory cap.

pdfminer and LibreOffice can hang or balloon on hostile files; a child process is the only
boundary that a runaway C library cannot cross. A document over a limit is unreadable, with
the reason, never a hang.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
from dataclasses import dataclass

from gongkai.errors import GongkaiError, LimitExceededError, UnreadableError
from gongkai.report import Report


@dataclass(frozen=True, slots=True)
class Limits:
    seconds: float = 120.0
    memory_mb: int = 2048


DEFAULT_LIMITS = Limits()


def _child(conn, source, name: str | None, memory_mb: int) -> None:
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        from gongkai.pipeline import parse

        conn.send(("ok", parse(source, name=name).to_json()))
    except MemoryError:
        conn.send(("memory", ""))
    except GongkaiError as exc:
        conn.send(("unreadable", str(exc)))
    except Exception as exc:  # noqa: BLE001 — a parser bug must reach the user as one line
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def parse_guarded(source: str | os.PathLike | bytes, *, name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Report:
    """`gongkai.parse` in a child process; raises `LimitExceededError` / `UnreadableError`."""
    ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
    receiver, sender = ctx.Pipe(duplex=False)
    source = os.fspath(source) if not isinstance(source, bytes | bytearray) else bytes(source)
    child = ctx.Process(target=_child, args=(sender, source, name, limits.memory_mb), daemon=True)
    child.start()
    sender.close()
    try:
        if not receiver.poll(limits.seconds):
            raise LimitExceededError(f"解析超时（超过 {limits.seconds:g} 秒）")
        kind, payload = receiver.recv()
    except EOFError:
        child.join(1)
        raise LimitExceededError(f"解析进程异常退出（退出码 {child.exitcode}，可能超出内存上限 {limits.memory_mb} MB）") from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receiver.close()
    if kind == "ok":
        return Report.model_validate_json(payload)
    if kind == "memory":
        raise LimitExceededError(f"超出内存上限 {limits.memory_mb} MB")
    if kind == "unreadable":
        raise UnreadableError(payload)
    raise UnreadableError(f"解析出错（{payload}）")
