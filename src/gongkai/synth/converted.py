"""Markdown as a common converter (markitdown) writes it from a report's HTML, .docx or PDF.

Converters flatten merged cells, break a PDF's table into ragged pipe rows and move labels away
from their numbers: the parser must read what it can and name what it cannot. markitdown is a
test-only (dev) dependency; without it these formats cannot be made.
"""

from __future__ import annotations

import io

CONVERTED = {"md_html": ("html", ".html", "text/html"), "md_docx": ("docx", ".docx", None), "md_pdf": ("pdf", ".pdf", "application/pdf")}


class ConverterUnavailable(RuntimeError):
    """markitdown is not installed (pip install -e '.[dev]')."""


def _converter(source: str):
    try:
        from markitdown import StreamInfo
        from markitdown.converters import DocxConverter, HtmlConverter, PdfConverter
    except ImportError as exc:
        raise ConverterUnavailable("markitdown not installed: install the dev extra to render md_html, md_docx or md_pdf") from exc
    kind = {"html": HtmlConverter, "docx": DocxConverter, "pdf": PdfConverter}[source]
    return kind(), StreamInfo


def render(syn, fmt: str) -> bytes:
    """The report rendered as its source format, then converted to markdown by markitdown."""
    source, extension, mimetype = CONVERTED[fmt]
    converter, stream_info = _converter(source)
    data = syn.render(source, "plain" if source == "html" else None)
    result = converter.convert(io.BytesIO(data), stream_info(extension=extension, mimetype=mimetype, charset="utf-8"))
    return result.markdown.encode("utf-8")
