"""Judge a file's format from its bytes, never from its name alone."""

from __future__ import annotations

import io
import zipfile

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls


def sniff(data: bytes, name: str | None = None) -> str:
    """txt | md | html | docx | doc | pdf | image | zip | binary — judged from content."""
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx(data) else "zip"
    if head.startswith(_IMAGE_MAGIC) or head[4:12] in (b"ftypavif", b"ftypheic") or head[8:12] == b"WEBP":
        return "image"
    if head.startswith(b"{\\rtf"):
        return "doc"  # RTF saved as .doc: LibreOffice reads it
    if _looks_binary(head):
        return "binary"
    lowered = head.lower()
    if lowered.startswith((b"\xff\xfe", b"\xfe\xff")):
        lowered = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore").lower()
    if any(tag in lowered for tag in (b"<html", b"<!doctype html", b"<table", b"<body", b"<meta", b"<div", b"<p>")):
        return "html"
    if name and name.lower().endswith((".md", ".markdown")):
        return "md"
    return "txt"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _looks_binary(head: bytes) -> bool:
    """NUL bytes outside a UTF-16 pattern, or mostly control bytes, mean not text."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return False
    nul = head.count(b"\x00")
    if nul:
        even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        utf16ish = max(even, odd) > 0.3 * (len(head) / 2) and min(even, odd) < 0.05 * (len(head) / 2)
        return not utf16ish
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > 0.1 * len(head)
