"""Judge a file's format from its bytes, never from its name alone."""

from __future__ import annotations

import io
import re
import zipfile

from gongkai.read.encoding import looks_binary, utf16_without_bom

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc / .wps / .xls
_STRONG_HTML = (b"<html", b"<!doctype html", b"<body", b"<head>", b"<meta ", b"<table")
_WEAK_HTML = re.compile(rb"<(?:p|div|br|span|h[1-6]|font|td|tr|li|strong|b)[\s>/]")  # two of these make HTML


def sniff(data: bytes, name: str | None = None) -> str:
    """txt | md | html | docx | doc | pdf | image | ofd | zip | binary — judged from content."""
    head = data[:2048]
    if head.lstrip()[:5] == b"%PDF-" or data[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if head.startswith(_OLE_MAGIC):
        return "doc"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(_IMAGE_MAGIC) or head[4:12] in (b"ftypavif", b"ftypheic") or head[8:12] == b"WEBP":
        return "image"
    if head.startswith(b"{\\rtf"):
        return "doc"  # RTF saved as .doc: LibreOffice reads it
    if looks_binary(data):
        return "binary"
    lowered = _as_ascii(data[:8192]).lower()
    if lowered.lstrip().startswith(b"mime-version:") and b"multipart/related" in lowered:
        return "html"  # a Word 'single file web page' (.mht), often saved as .doc
    if lowered.lstrip().startswith((b"<!doctype html", b"<html")):
        return "html"
    if name and name.lower().endswith((".md", ".markdown")):
        return "md"  # markdown may carry HTML tables: the markdown reader reads them
    if any(tag in lowered for tag in _STRONG_HTML) or len(_WEAK_HTML.findall(lowered)) >= 2:
        return "html"
    return "txt"


def _as_ascii(head: bytes) -> bytes:
    """The head with UTF-16 undone, so tags can be searched for as ASCII."""
    encoding = None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = utf16_without_bom(head)
    if encoding is None:
        return head
    text = head[: len(head) - len(head) % 2].decode(encoding, errors="ignore")
    return text.encode("ascii", errors="ignore")


def _zip_kind(data: bytes) -> str:
    """docx (word/document.xml), ofd (OFD.xml, GB/T 33190), else zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "OFD.xml" in names:
        return "ofd"
    return "zip"
