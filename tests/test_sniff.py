"""Sniffing: the format comes from the bytes; the name only tells markdown from text."""

from __future__ import annotations

import io

import docx
import pytest

from gongkai.read import read
from gongkai.read.sniff import sniff


def _docx() -> bytes:
    buf = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("一、总体情况")
    d.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data, name, fmt",
    [
        (b"%PDF-1.7\n...", None, "pdf"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "a.doc", "doc"),
        (b"{\\rtf1\\ansi \\u25253?}", "a.doc", "doc"),
        (b"\x89PNG\r\n\x1a\n" + bytes(50), None, "image"),
        ("<html><body><p>报告</p></body></html>".encode(), "a.doc", "html"),  # HTML saved as .doc
        ('<p style="x">一、总体情况</p><p>二、主动公开</p>'.encode(), None, "html"),
        ("<html><body><p>报告</p></body></html>".encode("utf-16"), None, "html"),
        ("<html><body><p>一、总体情况</p></body></html>".encode("utf-16-le"), None, "html"),
        (b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=x\r\n", "a.doc", "html"),
        ("# 标题\n| a | b |\n|---|---|\n".encode(), "r.md", "md"),
        ("# 标题\n<table><tr><td>1</td></tr></table>\n".encode(), "r.md", "md"),
        ("一、总体情况\n规章\t0\n".encode(), "r.txt", "txt"),
        ("一、总体情况\n".encode("gbk"), None, "txt"),
        ("一、总体情况\n本年新公开 12 件\n".encode("utf-16-le"), None, "txt"),
        (b"\x00\x01\x02\x03\x04" * 100, None, "binary"),
    ],
)
def test_sniff(data, name, fmt):
    assert sniff(data, name) == fmt


def test_docx_and_plain_zip():
    assert sniff(_docx()) == "docx"
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "x")
    assert sniff(buf.getvalue()) == "zip"


def test_an_ofd_is_named_and_refused_in_one_line():
    """gongkai fetch saves .ofd reports; no reader reads them yet, and the user is told so."""
    from gongkai.errors import UnsupportedFormatError
    from gongkai.synth import make_report
    from gongkai.synth.website import _ofd

    data = _ofd(make_report(3))
    assert sniff(data) == "ofd"
    with pytest.raises(UnsupportedFormatError, match="OFD 版式文件"):
        read(data)


def test_read_dispatches_to_the_readers():
    assert read(_docx()).format == "docx"
    assert read("一、总体情况".encode("gb18030")).format == "txt"
    assert read(b"| a |", "x.md").format == "md"
    assert read(b"<table><tr><td>1</td></tr></table>").format == "html"
