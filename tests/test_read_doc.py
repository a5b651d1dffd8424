"""Legacy .doc: LibreOffice → docx reader (tables kept); antiword text when LibreOffice is missing."""

from __future__ import annotations

import shutil
import sys

import pytest
from conftest import ROOT

from gongkai.errors import UnreadableError
from gongkai.read import doc

sys.path.insert(0, str(ROOT))
pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice needed to build .doc fixtures")


@pytest.fixture(scope="module")
def generated():
    from benchmarks.fixtures import GeneratedReport

    report = GeneratedReport(seed=3)
    return report, report.render("doc")


def test_doc_via_libreoffice_keeps_tables(generated):
    report, data = generated
    document = doc.read(data)
    assert document.format == "doc" and not document.notes
    assert len(document.grids) == 3
    requests = document.grids[1]
    label = next(c for c in requests.cells if c.text == "三、本年度办理结果")
    assert label.rowspan == 22
    row = next(r for r in requests.rows() if r and r[0].text == "四、结转下年度继续办理")
    assert row[-1].text == str(report.truth["requests.carried_forward.total"])


@pytest.mark.skipif(shutil.which("antiword") is None, reason="antiword not installed")
def test_without_libreoffice_antiword_gives_text_and_a_note(generated, monkeypatch):
    _, data = generated
    monkeypatch.setenv("GONGKAI_SOFFICE", "")
    document = doc.read(data)
    assert document.notes == [doc.ANTIWORD_NOTE]
    assert "三、收到和处理政府信息公开申请情况" in document.text()


def test_corrupt_doc_is_unreadable():
    with pytest.raises(UnreadableError):
        doc.read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
