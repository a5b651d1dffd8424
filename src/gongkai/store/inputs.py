"""Find the report files under folders and key each by the sha256 of its bytes."""

from __future__ import annotations

import hashlib
import os
import stat as stat_mode
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# every extension a reader of gongkai.read accepts (the format itself is sniffed from the bytes), and .ofd,
# which gongkai fetch saves and no reader reads yet: taken, so that the batch names it as a failure, not skipped unseen
REPORT_SUFFIXES = frozenset(
    [".txt", ".text", ".md", ".markdown", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".wps", ".rtf", ".pdf", ".ofd", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"]
)
SKIP_DIRS = frozenset({"truth", "__pycache__", "node_modules"})
SKIP_STEMS = frozenset({"readme", "license", "changelog", "notes"})  # a folder's own notes, not reports


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str  # absolute, as found (symlinks not resolved)
    size: int
    mtime_ns: int


def discover(roots: Iterable[str | os.PathLike], exclude: Iterable[Path] = (),
             refused: list[tuple[str, str]] | None = None) -> list[InputFile]:  # fmt: skip
    """Every report file under `roots` (files given directly are taken as they are), sorted by path.

    Only regular files are taken, and under a folder only those whose real path stays inside it:
    a named pipe, a device or a socket would hang or leak the reader, a symlink to /etc/shadow
    would read what the user never meant to give. Each entry left out that way, or that cannot be
    read, is appended to `refused` as (path, reason) so that the batch accounts for every input.
    """
    excluded = {os.path.abspath(p) for p in exclude}
    refused = refused if refused is not None else []
    found: dict[str, InputFile] = {}
    for root in roots:
        root = os.path.abspath(root)
        if not os.path.isdir(root):
            entry = _regular(root, None, refused)
            if entry is not None:
                found[root] = entry
            elif not os.path.lexists(root):
                refused.append((root, "不存在"))
            continue
        real_root = os.path.realpath(root)

        def unreadable(err: OSError, root: str = root) -> None:
            refused.append((err.filename or root, f"无法读取目录（{err.strerror or err}）"))

        for folder, dirs, files in os.walk(root, onerror=unreadable):
            dirs[:] = sorted(
                d for d in dirs
                if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".parts")
                and os.path.join(folder, d) not in excluded
            )
            for name in files:
                suffix = Path(name).suffix.lower()
                if suffix not in REPORT_SUFFIXES or name.startswith(".") or Path(name).stem.lower() in SKIP_STEMS:
                    continue
                path = os.path.join(folder, name)
                entry = _regular(path, real_root, refused)
                if entry is not None:
                    found[path] = entry
    return [found[p] for p in sorted(found)]


def _regular(path: str, inside: str | None, refused: list[tuple[str, str]]) -> InputFile | None:
    """The file at `path` if it is a regular file (and, given `inside`, really lies inside it)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        refused.append((path, "符号链接指向的文件不存在" if os.path.islink(path) else f"无法读取（{exc.strerror or exc}）"))
        return None
    if not stat_mode.S_ISREG(st.st_mode):
        refused.append((path, "不是普通文件（命名管道、设备或套接字），未读取"))
        return None
    if inside is not None and os.path.islink(path):
        real = os.path.realpath(path)
        if os.path.commonpath([real, inside]) != inside:
            refused.append((path, f"符号链接指向输入目录之外（{real}），未读取"))
            return None
    return InputFile(path, st.st_size, st.st_mtime_ns)


def read_regular(path: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file, never blocking on a pipe or a device put in its place since it was found."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        if not stat_mode.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "不是普通文件", path)
        return handle.read() if limit is None else handle.read(limit)


def sha256_file(path: str) -> tuple[str | None, str]:
    """(sha256, "") of a regular file, or (None, why it could not be read)."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            if not stat_mode.S_ISREG(os.fstat(fd).st_mode):
                return None, "无法读取（已不再是普通文件）"
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except FileNotFoundError:
        return None, "无法读取（已被删除或改名）"
    except OSError as exc:
        return None, f"无法读取（{exc.strerror or exc}）"
    return digest.hexdigest(), ""


def hash_files(files: list[InputFile], known: dict[tuple[str, int, int], str], threads: int = 8,
                refused: list[tuple[str, str]] | None = None) -> dict[str, str]:  # fmt: skip
    """path → sha256, reusing `known` hashes of unchanged files (same path, size and mtime); a file
    that cannot be read any more is appended to `refused`."""
    result: dict[str, str] = {}
    todo = []
    for f in files:
        sha = known.get((f.path, f.size, f.mtime_ns))
        if sha:
            result[f.path] = sha
        else:
            todo.append(f.path)
    with ThreadPoolExecutor(threads) as pool:  # hashlib releases the GIL: reading and hashing overlap
        for path, (sha, why) in zip(todo, pool.map(sha256_file, todo)):
            if sha is not None:
                result[path] = sha
            elif refused is not None:
                refused.append((path, why))
    return result
