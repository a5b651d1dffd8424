"""Find the report files under folders and key each by the sha256 of its bytes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

# every extension a reader of gongkai.read accepts (the format itself is sniffed from the bytes)
REPORT_SUFFIXES = frozenset(
    [".txt", ".text", ".md", ".markdown", ".html", ".htm", ".shtml", ".xhtml", ".docx", ".doc", ".wps", ".rtf", ".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"]
)
SKIP_DIRS = frozenset({"truth", "__pycache__", "node_modules"})
SKIP_STEMS = frozenset({"readme", "license", "changelog", "notes"})  # a folder's own notes, not reports


@dataclass(frozen=True, slots=True)
class InputFile:
    path: str  # absolute, as found (symlinks not resolved)
    size: int
    mtime_ns: int


def discover(roots: Iterable[str | os.PathLike], exclude: Iterable[Path] = ()) -> list[InputFile]:
    """Every report file under `roots` (files given directly are taken as they are), sorted by path."""
    excluded = {os.path.abspath(p) for p in exclude}
    found: dict[str, InputFile] = {}
    for root in roots:
        root = os.path.abspath(root)
        if os.path.isfile(root):
            stat = os.stat(root)
            found[root] = InputFile(root, stat.st_size, stat.st_mtime_ns)
            continue
        for folder, dirs, files in os.walk(root):
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
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                found[path] = InputFile(path, stat.st_size, stat.st_mtime_ns)
    return [found[p] for p in sorted(found)]


def sha256_file(path: str) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def hash_files(files: list[InputFile], known: dict[tuple[str, int, int], str], threads: int = 8) -> dict[str, str]:
    """path → sha256, reusing `known` hashes of unchanged files (same path, size and mtime)."""
    result: dict[str, str] = {}
    todo = []
    for f in files:
        sha = known.get((f.path, f.size, f.mtime_ns))
        if sha:
            result[f.path] = sha
        else:
            todo.append(f.path)
    with ThreadPoolExecutor(threads) as pool:  # hashlib releases the GIL: reading and hashing overlap
        for path, sha in zip(todo, pool.map(sha256_file, todo)):
            if sha is not None:
                result[path] = sha
    return result
