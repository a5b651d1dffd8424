"""Plain text: detect the encoding, one Paragraph per line (blank lines kept: they carry layout)."""

from __future__ import annotations

from gongkai.document import Document, Paragraph, Where


def read(data: bytes) -> Document:
    text = data.decode("utf-8", errors="replace")
    return Document([Paragraph(line, Where(line=i)) for i, line in enumerate(text.splitlines(), 1)], "txt")
