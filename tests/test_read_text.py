"""Plain text: every encoding a report arrives in decodes to the same lines, kept exactly."""

from __future__ import annotations

import pytest
from conftest import SHARED, shared_path

from gongkai.errors import UnreadableError
from gongkai.read import text
from gongkai.read.encoding import decode

# A flattened table: a tab row, one cell a line, a blank line marking an empty cell, spaces kept.
REPORT = "某区2022年政府信息公开工作年度报告\n一、总体情况\n规章\t0\t1\t2\n\n  0 \n0\t\n（七）总计\n末行"
LINES = ["某区2022年政府信息公开工作年度报告", "一、总体情况", "规章\t0\t1\t2", "", "  0 ", "0\t", "（七）总计", "末行"]


@pytest.mark.parametrize(
    "encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "gb18030", "gbk", "gb2312"]
)
def test_every_encoding_gives_the_same_lines(encoding):
    doc = text.read(REPORT.encode(encoding))
    assert [p.text for p in doc.blocks] == LINES
    assert [p.where.line for p in doc.blocks] == list(range(1, 9))
    assert doc.format == "txt"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"])
def test_newlines_are_normalised_and_a_final_newline_adds_no_line(newline):
    doc = text.read((newline.join(LINES) + newline).encode("utf-8"))
    assert [p.text for p in doc.blocks] == LINES


def test_utf16_without_bom_is_found_from_the_nul_pattern():
    # 一 (U+4E00) and 开 (U+5F00) put NULs on the "wrong" parity too
    sample = "一、总体情况\n本年新公开规章 12 件，开展培训 3 次。\n"
    for encoding in ("utf-16-le", "utf-16-be"):
        assert decode(sample.encode(encoding)).encoding == encoding
        assert [p.text for p in text.read(sample.encode(encoding)).blocks] == sample.splitlines()


def test_traditional_characters_are_not_converted():
    trad = "句容市住房和城鄉建設局政府信息公開工作年度報告\n二、主動公開政府信息情況"
    for encoding in ("utf-8", "big5", "gb18030"):
        doc = text.read(trad.encode(encoding))
        assert [p.text for p in doc.blocks] == trad.split("\n"), encoding


def test_big5_is_told_apart_from_gbk():
    trad = "政府信息公開工作年度報告，本機關全年主動公開政府信息數量統計如下，依申請公開辦理結果詳見表格。"
    assert decode(trad.encode("big5")).encoding == "big5hkscs"
    assert decode(trad.encode("gbk")).encoding == "gb18030"


def test_full_width_and_compatibility_forms_are_left_alone():
    raw = "（一）予以公开　１２３ ｱ ㈠"  # no NFKC: downstream does that
    assert text.read(raw.encode("utf-8")).blocks[0].text == raw


def test_lines_mixing_gbk_and_utf8_are_decoded_one_by_one():
    data = (
        "标题：年度报告\n".encode()
        + "这一行是 GBK 编码的内容\n".encode("gbk")
        + "一、总体情况\n".encode()
        + "二、主动公开\n".encode()
    )
    doc = text.read(data)
    assert [p.text for p in doc.blocks] == ["标题：年度报告", "这一行是 GBK 编码的内容", "一、总体情况", "二、主动公开"]
    assert any("GB18030" in note for note in doc.notes)


def test_an_excerpt_cut_inside_the_last_character_keeps_the_rest():
    doc = text.read("政府信息公开".encode()[:-1])
    assert doc.blocks[0].text == "政府信息公"
    assert doc.notes


@pytest.mark.parametrize(
    "data",
    [b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 64, bytes(range(256)) * 8, b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["nul-bytes", "all-bytes", "png"],
)
def test_binary_is_unreadable_with_a_chinese_reason(data):
    with pytest.raises(UnreadableError) as err:
        text.read(data)
    assert "二进制" in str(err.value) or "编码" in str(err.value)
    assert "\n" not in str(err.value)


def test_an_empty_file_is_unreadable():
    with pytest.raises(UnreadableError, match="为空"):
        text.read(b"")


def test_whitespace_only_lines_are_kept():
    doc = text.read(b" \n\t\n\n")
    assert [p.text for p in doc.blocks] == [" ", "\t", ""]


def _corpus_texts():
    folder = SHARED / "corpus"
    seeds = SHARED / "seeds"
    if not folder.exists():
        return ["missing"]
    return sorted(p.name for p in folder.glob("*.txt")) + sorted(f"../seeds/{p.name}" for p in seeds.glob("*.txt"))


@pytest.mark.parametrize("name", _corpus_texts())
def test_every_real_text_report_reads(name):
    path = shared_path("corpus", name)
    data = path.read_bytes()
    doc = text.read(data)
    assert doc.blocks
    expected = data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    assert "\n".join(p.text for p in doc.blocks) == expected.removesuffix("\n")  # every line, blank ones too
