"""read/: bytes in, `Document` out. One module per format; the format is judged from content."""

from __future__ import annotations

import importlib

from gongkai.document import Document
from gongkai.errors import UnsupportedFormatError
from gongkai.read.sniff import sniff

# format → module under gongkai.read with a `read(data: bytes) -> Document`
READERS = {
    "txt": "text",
    "md": "markdown",
    "html": "html",
    "docx": "docx",
    "doc": "doc",
    "pdf": "pdf",
    "image": "ocr",
}
# formats known by name that no reader reads (yet): what to tell the user
UNREAD = {"ofd": "OFD 版式文件，gongkai 暂不能读取；请用 OFD 阅读器另存为 PDF 后再解析"}


def read(data: bytes, name: str | None = None) -> Document:
    """Read any supported report into a `Document`; raises `UnreadableError` subclasses."""
    fmt = sniff(data, name)
    module_name = READERS.get(fmt)
    if module_name is None:
        raise UnsupportedFormatError(UNREAD.get(fmt, f"不支持的文件类型（{fmt}）"))
    module = importlib.import_module(f"gongkai.read.{module_name}")
    return module.read(data)
