"""Plain text: detect the encoding, one Paragraph per line (blank lines kept: they carry layout)."""

from __future__ import annotations

from gongkai.document import Document, Paragraph, Where
from gongkai.read.encoding import decode


def read(data: bytes) -> Document:
    """Every line as it is (spaces, tabs and blank lines kept): flattened tables are rebuilt from them later."""
    decoded = decode(data)
    blocks = [Paragraph(line, Where(line=n)) for n, line in enumerate(decoded.lines(), 1)]
    return Document(blocks, "txt", notes=decoded.notes)
