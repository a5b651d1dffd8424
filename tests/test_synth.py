"""The synthetic report generator: consistent numbers, honest truth, faithful renderings.

Labels and identities below are written out from spec/template.md and rules.md, independently of
the generator's own template module, so a drift in either shows up here.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from datetime import date

import pytest

from gongkai.cells import cell_ids
from gongkai.synth import FAULTS, make_report
from gongkai.synth.faults import ARITHMETIC
from gongkai.synth.render_text import LAYOUTS

COLUMNS = (
    "natural_person",
    "commercial",
    "research",
    "public_interest",
    "legal_service",
    "other_org",
)
LEAVES_COMMON = (
    "granted", "partial",
    *(f"denied.{k}" for k in ("state_secret", "law_prohibited", "security_stability", "third_party",
                             "internal_affairs", "process_info", "enforcement_file", "admin_query")),
    *(f"unable.{k}" for k in ("not_held", "needs_creation", "still_unclear")),
    *(f"not_processed.{k}" for k in ("petition_complaint", "duplicate", "publication", "excessive", "confirm_reissue")),
)  # fmt: skip
LEAVES = {"2019": (*LEAVES_COMMON, "other"),
          "2021": (*LEAVES_COMMON, "other.no_correction", "other.unpaid_fee", "other.other")}  # fmt: skip
ROWS = {t: ("new_received", "carried_over", *LEAVES[t], "total", "carried_forward") for t in LEAVES}

LABELS_COMMON = (
    "第二十条第（一）项", "第二十条第（五）项", "第二十条第（六）项", "第二十条第（八）项", "规章", "行政许可", "行政处罚",
    "行政强制", "行政事业性收费", "信息内容",
    "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", "申请人情况", "自然人", "法人或其他组织",
    "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计",
    "一、本年新收政府信息公开申请数量", "二、上年结转政府信息公开申请数量", "三、本年度办理结果", "（一）予以公开",
    "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "（三）不予公开", "1.属于国家秘密",
    "2.其他法律行政法规禁止公开", "3.危及“三安全一稳定”", "4.保护第三方合法权益", "5.属于三类内部事务信息",
    "6.属于四类过程性信息", "7.属于行政执法案卷", "8.属于行政查询事项", "（四）无法提供", "1.本机关不掌握相关政府信息",
    "2.没有现成信息需要另行制作", "3.补正后申请内容仍不明确", "（五）不予处理", "1.信访举报投诉类申请", "2.重复申请",
    "3.要求提供公开出版物", "4.无正当理由大量反复申请", "5.要求行政机关确认或重新出具已获取信息", "（六）其他处理",
    "（七）总计", "四、结转下年度继续办理",
    "行政复议", "行政诉讼", "结果维持", "结果纠正", "其他结果", "尚未审结", "未经复议直接起诉", "复议后起诉",
)  # fmt: skip
LABELS = {
    "2021": (*LABELS_COMMON, "本年制发件数", "本年废止件数", "现行有效件数", "行政规范性文件", "本年处理决定数量",
             "本年收费金额（单位：万元）", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
             "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "3.其他"),
    "2019": (*LABELS_COMMON, "第二十条第（九）项", "本年新制作数量", "本年新公开数量", "对外公开总数量", "规范性文件",
             "其他对外管理服务事项", "上一年项目数量", "本年增/减", "处理决定数量", "政府集中采购", "采购项目数量",
             "采购总金额"),
}  # fmt: skip
SECTION_HEADS = (
    "总体情况",
    "主动公开政府信息情况",
    "收到和处理政府信息公开申请情况",
    "行政复议",
    "存在的主要问题",
    "其他需要报告的事项",
)


def broken(cells: dict, template: str) -> set[str]:
    """rules.md identities recomputed from truth cells (an identity with a null term is skipped)."""
    out = set()

    def check(rule, lhs, rhs):
        if None not in lhs + rhs and sum(lhs) != sum(rhs):
            out.add(rule)

    def r(row, col):
        return cells[f"requests.{row}.{col}"]

    for col in (*COLUMNS, "total"):
        check(
            "requests.balance",
            [r("new_received", col), r("carried_over", col)],
            [r("total", col), r("carried_forward", col)],
        )
        check(
            "requests.outcomes_sum",
            [r("total", col)],
            [r(leaf, col) for leaf in LEAVES[template]],
        )
    for row in ROWS[template]:
        check("requests.row_sum", [r(row, "total")], [r(row, c) for c in COLUMNS])
    for block in ("review", "suit_direct", "suit_after_review"):
        parts = [cells[f"appeals.{block}.{p}"] for p in ("upheld", "corrected", "other", "pending")]
        check("appeals.block_sum", [cells[f"appeals.{block}.total"]], parts)
    if any(v is not None and v < 0 for k, v in cells.items() if not k.endswith(".delta")):
        out.add("value.domain")
    return out


def expected_numbers(truth: dict) -> list[float]:
    """Every table number of the truth, in cells.tsv order (the order the template prints them)."""
    return [float(v) * (10000 if cid == "active.procurement.amount_wan" and v else 1)
            for cid, v in truth["cells"].items() if v is not None]  # fmt: skip


NUMBER = re.compile(r"-?\d+(?:\.\d+)?元?")


def numeric_cells(pieces) -> list[float]:
    return [float(p.rstrip("元")) for p in (x.strip() for x in pieces) if NUMBER.fullmatch(p)]


SEEDS = range(40)


# ---- numbers and truth ----


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_fault_free_truth_is_complete_and_every_identity_holds(template):
    for seed in SEEDS:
        truth = make_report(seed, template=template).truth
        assert list(truth["cells"]) == list(cell_ids(template))
        assert None not in truth["cells"].values()
        assert broken(truth["cells"], template) == set()
        assert truth["source_errors"] == [] and truth["expected_findings"] == []
        assert truth["meta"]["template"] == template
        assert (
            (2019 <= truth["meta"]["year"] <= 2020) if template == "2019" else (2021 <= truth["meta"]["year"] <= 2025)
        )
        for cid, value in truth["cells"].items():
            if cid.endswith("amount_wan"):
                assert isinstance(value, float) and value >= 0 and round(value, 6) == value
            else:
                assert isinstance(value, int) and (value >= 0 or cid.endswith(".delta"))


def test_numbers_are_mostly_small_with_many_zeros_and_some_large():
    values = [v for s in range(60) for v in make_report(s).truth["cells"].values()]
    zeros = sum(v == 0 for v in values) / len(values)
    assert zeros > 0.6
    assert max(values) > 100
    totals = [make_report(s).truth["cells"]["requests.new_received.total"] for s in range(60)]
    assert 0 in totals and any(t > 20 for t in totals)


def test_2019_deltas_are_sometimes_negative():
    deltas = [
        v for s in range(80) for k, v in make_report(s, template="2019").truth["cells"].items() if k.endswith(".delta")
    ]
    assert min(deltas) < 0


def test_meta_and_publication_before_the_deadline():
    deadlines = {"government": (3, 31)}
    for seed in SEEDS:
        syn = make_report(seed)
        published = date.fromisoformat(syn.truth["meta"]["published"])
        month, day = deadlines.get(syn.agency.body_type, (1, 31))
        assert date(syn.year + 1, 1, 1) < published <= date(syn.year + 1, month, day)
        assert syn.truth["meta"]["agency"] == syn.agency.name


@pytest.mark.parametrize("fault", [f for f in ARITHMETIC if f != "typo"])
def test_each_arithmetic_fault_breaks_exactly_its_rule(fault):
    rule = FAULTS[fault][0]
    for seed in range(15):
        for template in ("2019", "2021"):
            truth = make_report(seed, template=template, faults=(fault,)).truth
            assert broken(truth["cells"], template) == {rule}, (seed, template)
            assert truth["source_errors"] == [rule]


def _fix(cells: dict, suspect: str, template: str) -> dict:
    """The value of `suspect` that its own row (or block) identity asks for."""
    fixed = dict(cells)
    kind, *row, col = suspect.split(".")
    if kind == "appeals":
        parts = [cells[f"appeals.{row[0]}.{p}"] for p in ("upheld", "corrected", "other", "pending")]
        fixed[suspect] = (
            sum(parts) if col == "total" else cells[f"appeals.{row[0]}.total"] - sum(parts) + cells[suspect]
        )
    elif kind == "requests":
        prefix = "requests." + ".".join(row)
        others = sum(cells[f"{prefix}.{c}"] for c in COLUMNS)
        fixed[suspect] = others if col == "total" else cells[f"{prefix}.total"] - others + cells[suspect]
    else:
        fixed[suspect] = abs(cells[suspect])
    return fixed


@pytest.mark.parametrize("fault", ["typo", "block_sum", "negative_count"])
def test_single_cell_faults_name_the_suspect_whose_correction_fixes_everything(fault):
    for seed in range(20):
        template = ("2019", "2021")[seed % 2]
        truth = make_report(seed, template=template, faults=(fault,)).truth
        assert broken(truth["cells"], template) == set(truth["source_errors"]) != set()
        (suspect,) = truth["suspects"]
        assert broken(_fix(truth["cells"], suspect, template), template) == set()
        if fault == "typo":
            assert "requests.row_sum" in truth["source_errors"]


def test_two_cell_faults_have_no_single_suspect():
    for fault in ("balance", "outcomes_sum", "row_sum"):
        assert make_report(3, faults=(fault,)).truth["suspects"] == []


def txt(syn, layout="tabs") -> str:
    return syn.render("txt", layout, encoding="utf-8").decode("utf-8")


def section_six(text: str) -> str:
    return re.split(r"^六[、.]其他需要报告的事项$", text, flags=re.MULTILINE)[-1]


def mentions_fees(text: str) -> bool:
    return "信息处理费" in text or "收费通知" in text


def test_structural_faults():
    syn = make_report(5, faults=("section_missing",))
    assert syn.truth["source_errors"] == ["structure.section_missing"]
    gone = syn.truth["fault_details"]["section_missing"]
    assert not re.search(rf"^{gone}[、.]\S*(情况|举措|措施)$", txt(syn), re.MULTILINE)
    assert len(re.findall(r"^[一二三四五六][、.]\S*(情况|举措|措施|事项)$", txt(syn), re.MULTILINE)) == 5

    syn = make_report(6, faults=("table_missing",))
    assert syn.truth["source_errors"] == ["structure.table_missing"]
    table = syn.truth["fault_details"]["table_missing"]
    assert all(v is None for k, v in syn.truth["cells"].items() if k.startswith(table + "."))
    assert all(v is not None for k, v in syn.truth["cells"].items() if not k.startswith(table + "."))
    assert ("结果维持" if table == "appeals" else "第二十条第（一）项") not in txt(syn)

    for seed in range(10):
        syn = make_report(seed, faults=("blank_cells",))
        blanks = [k for k, v in syn.truth["cells"].items() if v is None]
        assert blanks and syn.truth["source_errors"] == ["structure.cells_missing"]
        assert broken(syn.truth["cells"], syn.template) == set()

    syn = make_report(7, faults=("outdated_template",))
    assert syn.template == "2019" and syn.year >= 2021
    assert syn.truth["source_errors"] == ["template.outdated"]
    assert list(syn.truth["cells"]) == list(cell_ids("2019"))
    assert mentions_fees(section_six(txt(syn)))  # the fee regime follows the year, not the template


def test_warning_and_info_faults_go_to_expected_findings():
    for fault, (rule, severity) in FAULTS.items():
        if severity == "error":
            continue
        syn = make_report(11, faults=(fault,))
        assert syn.truth["expected_findings"] == [rule], fault
        assert syn.truth["source_errors"] == [], fault
        assert broken(syn.truth["cells"], syn.template) == set(), fault


def test_text_faults_show_in_the_text():
    syn = make_report(12, faults=("label_altered",))
    detail = syn.truth["fault_details"]["label_altered"]
    assert detail["printed"] in txt(syn) and detail["template"] not in txt(syn).replace(detail["printed"], "")

    syn = make_report(13, faults=("extra_rows",))
    assert "小计" in txt(syn)

    syn = make_report(14, faults=("narrative_mismatch",))
    detail = syn.truth["fault_details"]["narrative_mismatch"]
    assert detail["text"] != detail["table"] == syn.truth["cells"][detail["cell"]]
    assert re.search(rf"(申请|复议){detail['text']}件", txt(syn))

    syn = make_report(15, faults=("year_mismatch",))
    assert f"{syn.year - 1}年，" in txt(syn) and f"{syn.year}年1月1日" in txt(syn)

    syn = make_report(16, faults=("period",))
    assert "12月31日" not in txt(syn) or "2月1日" in txt(syn)

    syn = make_report(17, faults=("published_late",))
    month, day = (3, 31) if syn.agency.body_type == "government" else (1, 31)
    assert date.fromisoformat(syn.truth["meta"]["published"]) > date(syn.year + 1, month, day)

    syn = make_report(18, faults=("fees_missing",))
    assert not mentions_fees(section_six(txt(syn))) and "信息处理费" not in txt(syn)
    assert mentions_fees(section_six(txt(make_report(18))))

    syn = make_report(19, faults=("unpaid_without_notice",))
    assert sum(syn.truth["cells"][f"requests.other.unpaid_fee.{c}"] for c in COLUMNS) > 0
    six = section_six(txt(syn))
    assert "信息处理费" in six and "收费通知" not in six


def test_unpaid_requests_come_with_a_fee_notice_when_not_faulted():
    for seed in range(200):
        syn = make_report(seed)
        if sum(syn.truth["cells"][f"requests.other.unpaid_fee.{c}"] for c in COLUMNS):
            assert "收费通知" in section_six(txt(syn))


def test_narrative_states_the_table_counts():
    for seed in range(10):
        syn = make_report(seed)
        cells, text = syn.truth["cells"], txt(syn)
        assert f"申请{cells['requests.new_received.total']}件" in text
        assert f"复议{cells['appeals.review.total']}件" in text
        lawsuits = cells["appeals.suit_direct.total"] + cells["appeals.suit_after_review.total"]
        assert f"诉讼{lawsuits}件" in text
        assert f"{syn.year}年1月1日" in text and "12月31日" in text


def test_incompatible_faults_are_refused():
    with pytest.raises(ValueError):
        make_report(1, template="2019", faults=("unpaid_without_notice",))
    with pytest.raises(ValueError):
        make_report(1, template="2019", year=2019, faults=("fees_missing",))
    with pytest.raises(ValueError):
        make_report(1, faults=("no_such_fault",))


def test_deterministic_for_a_seed():
    a, b = (
        make_report(77, faults=("balance", "extra_rows")),
        make_report(77, faults=("balance", "extra_rows")),
    )
    assert a.truth == b.truth
    for fmt, layout in [
        ("txt", None),
        ("txt", "glued"),
        ("html", None),
        ("docx", None),
        ("md", None),
    ]:
        assert a.render(fmt, layout) == b.render(fmt, layout)
    assert make_report(78).truth != a.truth


# ---- renderings ----


@pytest.mark.parametrize("layout", [x for x in LAYOUTS if x != "glued"])
@pytest.mark.parametrize("template", ["2019", "2021"])
def test_txt_layouts_carry_every_label_and_every_number_in_order(layout, template):
    for seed in range(6):
        syn = make_report(seed, template=template)
        text = txt(syn, layout)
        flat = re.sub(r"\s", "", text)
        for label in LABELS[template]:
            assert label in (flat if layout == "spaced_labels" else text), (
                layout,
                label,
            )
        for head in SECTION_HEADS:
            assert head in text
        assert numeric_cells(re.split(r"[\t\n|]", text)) == expected_numbers(syn.truth), (layout, seed)


def test_cell_per_line_layouts_have_their_separators():
    syn = make_report(1, template="2019", faults=("blank_cells",))
    assert "\n|\n0\n|\n" in txt(syn, "cell_per_line_pipes")
    blank = txt(syn, "cell_per_line_blank")
    assert "\n\n0\n\n" in blank and "\n\n\n" in blank  # an empty cell is an extra blank line
    assert re.search(r"^[^|\n]+ \| \d+ \| \d+ \|", txt(syn, "pipe_rows"), re.MULTILINE)
    assert re.search(r"^规章\t\d+\t\d+\t\d+$", txt(syn, "tabs"), re.MULTILINE)


def test_spaced_labels_are_spaced_and_broken():
    texts = [txt(make_report(s), "spaced_labels") for s in range(5)]
    assert any("三、 本 年 度 办 理 结 果" in t for t in texts)
    assert any(re.search(r"(商业|科研|结果)\n(企业|机构|维持|纠正)", t) for t in texts)


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_glued_layout_runs_labels_into_numbers_without_separators(template):
    for seed in range(6):
        syn = make_report(seed, template=template)
        text = txt(syn, "glued")
        header, body = text.split("正文 " + "=" * 20 + "\n")
        assert syn.truth["meta"]["published"] in header
        assert body.count("\n") == 1 and body.endswith("\n")
        start = body.index("（本列数据的勾稽关系为")
        table = body[start : body.index("结果维持", start)]
        assert not re.search(r"[\t|\n ]", table)
        cells = syn.truth["cells"]
        for row in ROWS[template]:
            digits = "".join(str(cells[f"requests.{row}.{c}"]) for c in (*COLUMNS, "total"))
            assert digits in table
        assert (
            "一、本年新收政府信息公开申请数量"
            + "".join(str(cells[f"requests.new_received.{c}"]) for c in (*COLUMNS, "total"))
            in table
        )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings(encoding):
    syn = make_report(3)
    data = syn.render("txt", "tabs", encoding=encoding)
    assert data.decode(encoding) == txt(syn)
    if encoding == "utf-8-sig":
        assert data.startswith(b"\xef\xbb\xbf")


def test_markdown_has_pipe_tables():
    syn = make_report(4, template="2019")
    md = syn.render("md").decode("utf-8")
    assert "## 三、收到和处理政府信息公开申请情况" in md and "|---|" in md
    assert numeric_cells(re.split(r"[\n|]", md)) == expected_numbers(syn.truth)


def html_cells(data: bytes, encoding="utf-8"):
    from lxml import html

    root = html.fromstring(data.decode(encoding))
    return root, [td for td in root.iter("td")]


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_html_tables_have_the_official_spans(template):
    syn = make_report(8, template=template)
    root, tds = html_cells(syn.render("html", "plain"))
    spans = {
        td.text_content().strip(): (
            int(td.get("rowspan", 1)),
            int(td.get("colspan", 1)),
        )
        for td in tds
    }
    assert spans["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"] == (3, 3)
    assert spans["三、本年度办理结果"] == ({"2019": 20, "2021": 22}[template], 1)
    assert spans["（三）不予公开"] == (8, 1) and spans["（四）无法提供"] == (3, 1) and spans["（五）不予处理"] == (5, 1)
    assert spans["（六）其他处理"] == ((3, 1) if template == "2021" else (1, 2))
    assert spans["（一）予以公开"] == (1, 2) and spans["一、本年新收政府信息公开申请数量"] == (1, 3)
    assert spans["申请人情况"] == (1, 7) and spans["法人或其他组织"] == (1, 5) and spans["自然人"] == (2, 1)
    assert spans["行政复议"] == (1, 5) and spans["行政诉讼"] == (1, 10) and spans["未经复议直接起诉"] == (1, 5)
    assert len(root.findall(".//table")) == 3
    for label in LABELS[template]:
        assert label in {td.text_content().strip() for td in tds}, label
    assert numeric_cells(td.text_content() for td in tds) == expected_numbers(syn.truth)


def test_html_extra_rows_widen_the_group_spans():
    syn = make_report(8, template="2021", faults=("extra_rows",))
    _, tds = html_cells(syn.render("html", "plain"))
    spans = {td.text_content().strip(): int(td.get("rowspan", 1)) for td in tds}
    assert spans["三、本年度办理结果"] == 22 + 4 and spans["（三）不予公开"] == 9


def test_html_options_chrome_gbk_traditional():
    syn = make_report(9)
    page = syn.render("html", "chrome+gbk")
    assert b"charset=gbk" in page
    text = page.decode("gb18030")
    assert "当前位置" in text and "<script" in text and "footer" in text
    trad = syn.render("html", "traditional").decode("utf-8")
    assert "辦理結果" in trad and "办理结果" not in trad
    from gongkai.synth.render_html import to_traditional

    assert syn.truth_for("x.html", "html", "traditional")["meta"]["agency"] == to_traditional(syn.agency.name)
    assert to_traditional(syn.agency.name) in trad


def docx_xml(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read("word/document.xml").decode("utf-8")


@pytest.mark.parametrize("template", ["2019", "2021"])
def test_docx_has_real_merged_cells_and_every_number(template):
    import docx

    syn = make_report(10, template=template)
    data = syn.render("docx")
    xml = docx_xml(data)
    assert '<w:gridSpan w:val="3"/>' in xml and '<w:gridSpan w:val="7"/>' in xml and '<w:gridSpan w:val="10"/>' in xml
    assert '<w:vMerge w:val="restart"/>' in xml
    document = docx.Document(io.BytesIO(data))
    assert len(document.tables) == 3
    requests = document.tables[1]
    assert len(requests.columns) == 10 and len(document.tables[2].columns) == 15
    result_rows = {"2019": 20, "2021": 22}[template]
    first = next(i for i, row in enumerate(requests.rows) if row.cells[0].text == "三、本年度办理结果")
    merged = [requests.cell(first + k, 0)._tc for k in range(result_rows)]
    assert all(tc is merged[0] or tc.vMerge == "continue" for tc in merged)
    assert requests.cell(first + result_rows, 0).text == "四、结转下年度继续办理"
    texts = [p.text for p in document.paragraphs]
    assert texts[0] == syn.title and any(t.startswith(("三、", "三.")) for t in texts)
    cells = re.findall(r"<w:tc>.*?</w:tc>", xml)
    cell_texts = ["".join(re.findall(r"<w:t[^>]*>([^<]*)</w:t>", c)) for c in cells]
    assert numeric_cells(cell_texts) == expected_numbers(syn.truth)
    for label in LABELS[template]:
        assert label.replace("“", "&#8220;") in cell_texts or label in cell_texts, label


def test_blank_cells_render_empty():
    syn = make_report(2, faults=("blank_cells",))
    _, tds = html_cells(syn.render("html", "plain"))
    assert numeric_cells(td.text_content() for td in tds) == expected_numbers(syn.truth)
    assert sum(td.text_content().strip() == "" for td in tds) >= len(syn.truth["blank_cells"])


# ---- the command ----


def test_synth_command_writes_reports_and_truth(tmp_path):
    from typer.testing import CliRunner

    from gongkai.cli import app

    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--count", "12", "--seed", "3",
                                      "--formats", "txt,html,docx,md", "--faults", "random"])  # fmt: skip
    assert result.exit_code == 0, result.output
    files = sorted(p for p in tmp_path.iterdir() if p.is_file())
    assert len(files) == 12
    assert {p.suffix for p in files} == {".txt", ".html", ".docx", ".md"}
    for path in files:
        assert re.fullmatch(
            r"\d{5}_(department|government|township|street|other)_20\d\d_[a-z_-]+",
            path.stem,
        )
        truth = json.loads((tmp_path / "truth" / f"{path.stem}.json").read_text(encoding="utf-8"))
        assert truth["file"] == path.name
        assert set(truth) >= {
            "file",
            "meta",
            "cells",
            "source_errors",
            "allowed_findings",
            "complete",
            "notes",
        }
    again = tmp_path / "again"
    CliRunner().invoke(app, ["synth", str(again), "--count", "12", "--seed", "3", "--formats", "txt,html,docx,md",
                             "--faults", "random"])  # fmt: skip
    assert all((again / p.name).read_bytes() == p.read_bytes() for p in files)


def test_synth_command_refuses_unknown_formats(tmp_path):
    from typer.testing import CliRunner

    from gongkai.cli import app

    result = CliRunner().invoke(app, ["synth", str(tmp_path), "--count", "1", "--formats", "rtf"])
    assert result.exit_code == 2


# ---- office renderings (LibreOffice) ----

needs_soffice = pytest.mark.skipif(not shutil.which("soffice"), reason="soffice (LibreOffice) is not installed")


@needs_soffice
@pytest.mark.slow
def test_pdf_and_scans():
    import pdfplumber
    from PIL import Image

    from gongkai.synth.render_office import scans

    syn = make_report(21)
    pdf = syn.render("pdf")
    assert pdf.startswith(b"%PDF")
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        text = "".join(page.extract_text() or "" for page in doc.pages)
    assert "收到和处理政府信息公开申请情况" in text
    pages = scans(syn, pdf)
    assert len(pages) >= 2 and pages[0].mode == "RGB"  # in colour: the seal is red
    assert 150 <= pages[0].info["dpi"][0] <= 300
    data = syn.render("scan_png")
    picture = Image.open(io.BytesIO(data))  # the whole report as one long picture
    assert picture.format == "PNG" and picture.height > (len(pages) - 0.5) * pages[0].width * 1.3

    from gongkai.read.ocr import pages_to_recognise

    assert pages_to_recognise(data) == len(pages)  # its time limit counts the pages it holds


@needs_soffice
@pytest.mark.slow
def test_doc_is_an_ole_word_file():
    data = make_report(22, template="2019").render("doc")
    assert data.startswith(b"\xd0\xcf\x11\xe0")  # OLE compound file
