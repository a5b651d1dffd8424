"""The one pipeline: bytes ─read→ Document ─locate→ layout ─extract→ cells ─check→ findings → Report."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from gongkai.errors import UnreadableError
from gongkai.extract import extract
from gongkai.extract.alternatives import choose_readings
from gongkai.locate import locate
from gongkai.read import read
from gongkai.report import Report, Source
from gongkai.rules import check


def load(source: str | os.PathLike | bytes) -> tuple[bytes, str | None]:
    """The bytes of a report and its path (None for bytes given directly)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except IsADirectoryError:
        raise UnreadableError("是目录，不是文件") from None
    except FileNotFoundError:
        raise UnreadableError("文件不存在") from None
    except OSError as exc:
        raise UnreadableError(f"无法读取（{exc.strerror}）") from None


def parse(source: str | os.PathLike | bytes, *, name: str | None = None, corrections: dict | None = None) -> Report:
    """Parse one report (a path or its bytes) into a checked `Report`.

    `corrections` (cell id → value, from review) replace what was printed in those cells before the
    rules run: a corrected version is checked by the same reading and the same engine as the file.
    """
    data, path = load(source)
    document = read(data, name=name or path)
    layout = locate(document)
    extracted = extract(layout)
    choose_readings(extracted, document)  # OCR'd cells in doubt, decided by the identities where only one reading holds
    if corrections:
        extracted = extracted.corrected(corrections)
    findings = check(extracted)
    source_info = Source(
        path=path or name,
        sha256=hashlib.sha256(data).hexdigest(),
        format=document.format,
        pages=document.pages,
        bytes=len(data),
    )
    return Report(
        source=source_info,
        meta=extracted.meta,
        sections=extracted.sections,
        cells=extracted.cells,
        provenance=extracted.provenance,
        findings=findings,
    )
