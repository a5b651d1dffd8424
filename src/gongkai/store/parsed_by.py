"""Which parser made a stored row: gongkai's version and a fingerprint of the parsing code.

The fingerprint hashes the source of every step from bytes to rows (read, locate, extract,
rules, the spec tables, the pipeline, the row mapping), so it changes whenever that code does,
with or without a version bump. Computed once per process, where the parse runs (a Dask worker
stamps the rows with its own gongkai, not the client's).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import gongkai

PACKAGE = Path(gongkai.__file__).parent
# what decides a report's rows; the store, exports, web and CLI do not
PARSER_PACKAGES = ("read", "locate", "extract", "rules", "spec")
PARSER_MODULES = ("pipeline.py", "document.py", "cells.py", "report.py", "store/rows.py")


@dataclass(frozen=True, slots=True)
class ParsedBy:
    version: str  # gongkai.__version__
    fingerprint: str  # 16 hex digits of the sha256 over the parser's source files


def parser_files(root: Path = PACKAGE) -> list[Path]:
    """The source and data files of the parser, in a fixed order."""
    files = [root / name for name in PARSER_MODULES]
    for package in PARSER_PACKAGES:
        files += (p for p in (root / package).rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def fingerprint(root: Path = PACKAGE) -> str:
    """A hash of the parser's files, names and bytes: equal trees give equal fingerprints on any machine."""
    digest = hashlib.sha256()
    for path in parser_files(root):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\1missing")  # an install without its sources still gets a stable stamp
        digest.update(b"\0")
    return digest.hexdigest()[:16]


@cache
def current_parser() -> ParsedBy:
    """The parser of this process."""
    return ParsedBy(gongkai.__version__, fingerprint())
