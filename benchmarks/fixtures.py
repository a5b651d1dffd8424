"""Generated reports for the read benchmarks and tests: a 2021-format report with known cells.

A stop-gap until `gongkai.synth` exists: python-docx writes the three official tables (with
their merged cells), LibreOffice turns the .docx into .pdf or .doc, pypdfium2 renders scans.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from gongkai.cells import APPEAL_BLOCKS, APPEAL_COLUMNS, APPLICANT_COLUMNS

# (row id, label, group label or None) for table 二, 2021 format, in order
REQUEST_ROWS = [
    ("new_received", "一、本年新收政府信息公开申请数量", None),
    ("carried_over", "二、上年结转政府信息公开申请数量", None),
    ("granted", "（一）予以公开", "result"),
    ("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", "result"),
    ("denied.state_secret", "1.属于国家秘密", "（三）不予公开"),
    ("denied.law_prohibited", "2.其他法律行政法规禁止公开", "（三）不予公开"),
    ("denied.security_stability", "3.危及“三安全一稳定”", "（三）不予公开"),
    ("denied.third_party", "4.保护第三方合法权益", "（三）不予公开"),
    ("denied.internal_affairs", "5.属于三类内部事务信息", "（三）不予公开"),
    ("denied.process_info", "6.属于四类过程性信息", "（三）不予公开"),
    ("denied.enforcement_file", "7.属于行政执法案卷", "（三）不予公开"),
    ("denied.admin_query", "8.属于行政查询事项", "（三）不予公开"),
    ("unable.not_held", "1.本机关不掌握相关政府信息", "（四）无法提供"),
    ("unable.needs_creation", "2.没有现成信息需要另行制作", "（四）无法提供"),
    ("unable.still_unclear", "3.补正后申请内容仍不明确", "（四）无法提供"),
    ("not_processed.petition_complaint", "1.信访举报投诉类申请", "（五）不予处理"),
    ("not_processed.duplicate", "2.重复申请", "（五）不予处理"),
    ("not_processed.publication", "3.要求提供公开出版物", "（五）不予处理"),
    ("not_processed.excessive", "4.无正当理由大量反复申请", "（五）不予处理"),
    ("not_processed.confirm_reissue", "5.要求行政机关确认或重新出具已获取信息", "（五）不予处理"),
    ("other.no_correction", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    ("other.unpaid_fee", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请", "（六）其他处理"),
    ("other.other", "3.其他", "（六）其他处理"),
    ("total", "（七）总计", "result"),
    ("carried_forward", "四、结转下年度继续办理", None),
]
APPLICANT_LABELS = ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]
APPEAL_LABELS = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
FILLER = (
    "本机关坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，"
    "不断完善政府信息公开制度，建立健全政府信息公开保障机制，推进政府信息公开工作规范、有序、健康发展。"
)


class GeneratedReport:
    """A report with known cell values; `render(fmt)` gives its bytes as docx, pdf, doc, scan_png or scan_pdf."""

    def __init__(self, seed: int = 0):
        rng = random.Random(seed)
        self.seed = seed
        self.truth: dict[str, float | int] = {}
        for key in ("rules", "normative_docs"):
            for col in ("issued", "repealed", "in_force"):
                self.truth[f"active.{key}.{col}"] = rng.randint(0, 40)
        for key in ("licensing", "penalty", "coercion"):
            self.truth[f"active.{key}.decisions"] = rng.randint(0, 9000)
        self.truth["active.admin_fees.amount_wan"] = round(rng.uniform(0, 900), 2)
        for row, _, _ in REQUEST_ROWS:
            values = [rng.choice([0, 0, 0, rng.randint(1, 300)]) for _ in APPLICANT_COLUMNS[:-1]]
            for col, value in zip(APPLICANT_COLUMNS, values + [sum(values)]):
                self.truth[f"requests.{row}.{col}"] = value
        for block in APPEAL_BLOCKS:
            values = [rng.randint(0, 30) for _ in APPEAL_COLUMNS[:-1]]
            for col, value in zip(APPEAL_COLUMNS, values + [sum(values)]):
                self.truth[f"appeals.{block}.{col}"] = value
        self._cache: dict[str, bytes] = {}

    def render(self, fmt: str) -> bytes:
        if fmt not in self._cache:
            self._cache[fmt] = {
                "docx": self._docx,
                "pdf": lambda: soffice_convert(self.render("docx"), "docx", "pdf"),
                "doc": lambda: soffice_convert(self.render("docx"), "docx", "doc"),
                "scan_png": lambda: scan_pages(self.render("pdf"))[0],
                "scan_pdf": lambda: images_to_pdf(scan_pages(self.render("pdf"))),
            }[fmt]()
        return self._cache[fmt]

    def _docx(self) -> bytes:
        from docx import Document as Docx
        from docx.oxml.ns import qn
        from docx.shared import Pt

        d = Docx()
        style = d.styles["Normal"]
        style.font.size = Pt(10.5)
        style.font.name = "Noto Serif CJK SC"
        style.element.rPr.rFonts.set(qn("w:eastAsia"), "Noto Serif CJK SC")
        d.add_paragraph("示例区人民政府2023年政府信息公开工作年度报告")
        d.add_paragraph("一、总体情况")
        for _ in range(4 + self.seed % 3):
            d.add_paragraph(FILLER)
        d.add_paragraph("二、主动公开政府信息情况")
        self._active_table(d)
        d.add_paragraph("三、收到和处理政府信息公开申请情况")
        self._request_table(d)
        d.add_paragraph("四、政府信息公开行政复议、行政诉讼情况")
        self._appeal_table(d)
        d.add_paragraph("五、存在的主要问题及改进情况")
        d.add_paragraph(FILLER)
        d.add_paragraph("六、其他需要报告的事项")
        d.add_paragraph("本年度未收取信息处理费。")
        out = io.BytesIO()
        d.save(out)
        return out.getvalue()

    def _active_table(self, d) -> None:
        t = self.truth
        rows = [
            ("第二十条第（一）项",),
            ("信息内容", "本年制发件数", "本年废止件数", "现行有效件数"),
            ("规章", t["active.rules.issued"], t["active.rules.repealed"], t["active.rules.in_force"]),
            ("行政规范性文件", t["active.normative_docs.issued"], t["active.normative_docs.repealed"], t["active.normative_docs.in_force"]),
            ("第二十条第（五）项",),
            ("信息内容", "本年处理决定数量"),
            ("行政许可", t["active.licensing.decisions"]),
            ("第二十条第（六）项",),
            ("信息内容", "本年处理决定数量"),
            ("行政处罚", t["active.penalty.decisions"]),
            ("行政强制", t["active.coercion.decisions"]),
            ("第二十条第（八）项",),
            ("信息内容", "本年收费金额（单位：万元）"),
            ("行政事业性收费", t["active.admin_fees.amount_wan"]),
        ]
        table = d.add_table(rows=len(rows), cols=4)
        table.style = "Table Grid"
        for r, values in enumerate(rows):
            if len(values) == 1:
                table.cell(r, 0).merge(table.cell(r, 3)).text = values[0]
            elif len(values) == 2:
                table.cell(r, 0).text = values[0]
                table.cell(r, 1).merge(table.cell(r, 3)).text = str(values[1])
            else:
                for c, v in enumerate(values):
                    table.cell(r, c).text = str(v)

    def _request_table(self, d) -> None:
        n = 3 + len(REQUEST_ROWS)
        table = d.add_table(rows=n, cols=10)
        table.style = "Table Grid"
        cell = table.cell
        cell(0, 0).merge(cell(2, 2)).text = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
        cell(0, 3).merge(cell(0, 9)).text = "申请人情况"
        cell(1, 3).merge(cell(2, 3)).text = "自然人"
        cell(1, 4).merge(cell(1, 8)).text = "法人或其他组织"
        cell(1, 9).merge(cell(2, 9)).text = "总计"
        for i, label in enumerate(APPLICANT_LABELS):
            cell(2, 4 + i).text = label
        first_result = 3 + next(i for i, r in enumerate(REQUEST_ROWS) if r[2] is not None)
        last_result = 3 + max(i for i, r in enumerate(REQUEST_ROWS) if r[2] is not None)
        cell(first_result, 0).merge(cell(last_result, 0)).text = "三、本年度办理结果"
        groups: dict[str, list[int]] = {}
        for i, (row, label, group) in enumerate(REQUEST_ROWS):
            r = 3 + i
            if group is None:
                cell(r, 0).merge(cell(r, 2)).text = label
            elif group == "result":
                cell(r, 1).merge(cell(r, 2)).text = label
            else:
                groups.setdefault(group, []).append(r)
                cell(r, 2).text = label
            for c, col in enumerate(APPLICANT_COLUMNS):
                cell(r, 3 + c).text = str(self.truth[f"requests.{row}.{col}"])
        for group, rows in groups.items():
            cell(rows[0], 1).merge(cell(rows[-1], 1)).text = group

    def _appeal_table(self, d) -> None:
        table = d.add_table(rows=4, cols=15)
        table.style = "Table Grid"
        cell = table.cell
        cell(0, 0).merge(cell(0, 4)).text = "行政复议"
        cell(0, 5).merge(cell(0, 14)).text = "行政诉讼"
        for i, label in enumerate(APPEAL_LABELS):
            cell(1, i).merge(cell(2, i)).text = label
        cell(1, 5).merge(cell(1, 9)).text = "未经复议直接起诉"
        cell(1, 10).merge(cell(1, 14)).text = "复议后起诉"
        for i, label in enumerate(APPEAL_LABELS * 2):
            cell(2, 5 + i).text = label
        for b, block in enumerate(APPEAL_BLOCKS):
            for c, col in enumerate(APPEAL_COLUMNS):
                cell(3, 5 * b + c).text = str(self.truth[f"appeals.{block}.{col}"])


def soffice_convert(data: bytes, source_ext: str, target: str, seconds: float = 120) -> bytes:
    """Convert bytes with LibreOffice headless (a private profile per call)."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError("LibreOffice (soffice) is needed to build this fixture")
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / f"report.{source_ext}"
        src.write_bytes(data)
        profile = (Path(tmp) / f"lo-{uuid.uuid4().hex}").as_uri()
        subprocess.run(
            [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", target, "--outdir", tmp, str(src)],
            check=True,
            capture_output=True,
            timeout=seconds,
        )
        return (Path(tmp) / f"report.{target}").read_bytes()


def scan_pages(pdf: bytes, dpi: int = 200, skew: float = 0.0) -> list[bytes]:
    """Each PDF page rendered to a greyscale PNG, as a scanner would (optionally skewed)."""
    import pypdfium2 as pdfium
    from PIL import Image

    doc = pdfium.PdfDocument(pdf)
    out = []
    for page in doc:
        image = page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
        if skew:
            image = image.rotate(skew, resample=Image.Resampling.BILINEAR, fillcolor=255)
        buf = io.BytesIO()
        image.save(buf, format="PNG", dpi=(dpi, dpi))
        out.append(buf.getvalue())
    return out


def images_to_pdf(images: list[bytes], dpi: int = 200) -> bytes:
    """An image-only PDF, one page per image (what a scanner's "save as PDF" writes)."""
    from PIL import Image

    pages = [Image.open(io.BytesIO(b)).convert("L") for b in images]
    buf = io.BytesIO()
    pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=dpi)
    return buf.getvalue()
