"""Hostile and broken input files, written at test time (nothing large is committed).

`valid_report(seed)` builds a small, well-formed 2021-template report (numbers all distinct and
non-zero, so an invented value is visible) as txt, html and docx. `write_corpus(folder)` writes
the hostile corpus (≥200 files) next to a manifest of `Case`s: zip bombs and entity bombs,
wrong extensions, encrypted/corrupt/huge PDFs, pixel bombs, noise, deep nesting, odd
encodings, truncated downloads and byte flips. Declared sizes are huge; actual bytes are small.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

# ── a valid report ───────────────────────────────────────────────────────────

APPLICANTS = ("自然人", "商业企业", "科研机构", "社会组织", "法律服务机构", "其他", "总计")
OUTCOMES = (
    ("三、本年度办理结果", "(一) 予以公开", ""),
    ("", "(二) 部分公开（区分处理的，只计这一情形，不计其他情形）", ""),
    ("", "(三) 不予公开", "1.属于国家秘密"),
    ("", "", "2.其他法律行政法规禁止公开"),
    ("", "", "3.危及“三安全一稳定”"),
    ("", "", "4.保护第三方合法权益"),
    ("", "", "5.属于三类内部事务信息"),
    ("", "", "6.属于四类过程性信息"),
    ("", "", "7.属于行政执法案卷"),
    ("", "", "8.属于行政查询事项"),
    ("", "(四) 无法提供", "1.本机关不掌握相关政府信息"),
    ("", "", "2.没有现成信息需要另行制作"),
    ("", "", "3.补正后申请内容仍不明确"),
    ("", "(五) 不予处理", "1.信访举报投诉类申请"),
    ("", "", "2.重复申请"),
    ("", "", "3.要求提供公开出版物"),
    ("", "", "4.无正当理由大量反复申请"),
    ("", "", "5.要求行政机关确认或重新出具已获取信息"),
    ("", "(六) 其他处理", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请"),
    ("", "", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请"),
    ("", "", "3.其他"),
    ("", "", "(七) 总计"),
)


@dataclass(frozen=True)
class ValidReport:
    """One report as rows of cells (a list of tables between paragraphs) and its renderings."""

    blocks: list  # str paragraphs and list[list[str]] tables, in order
    numbers: frozenset[int]  # every number printed in a table

    def txt(self) -> bytes:
        lines: list[str] = []
        for block in self.blocks:
            lines.extend(["\t".join(row) for row in block] if isinstance(block, list) else [block, ""])
        return "\n".join(lines).encode("utf-8")

    def html(self) -> bytes:
        out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>报告</title></head><body><div class='article'>"]
        for block in self.blocks:
            if isinstance(block, list):
                out.append("<table border='1'>")
                out.extend("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in block)
                out.append("</table>")
            else:
                out.append(f"<p>{block}</p>")
        out.append("</div></body></html>")
        return "\n".join(out).encode("utf-8")

    def docx(self) -> bytes:
        import docx

        document = docx.Document()
        for block in self.blocks:
            if isinstance(block, list):
                table = document.add_table(rows=len(block), cols=max(len(r) for r in block))
                for r, row in enumerate(block):
                    for c, text in enumerate(row):
                        table.cell(r, c).text = text
            else:
                document.add_paragraph(block)
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()

    def render(self, fmt: str) -> bytes:
        return getattr(self, fmt)()


def valid_report(seed: int = 0) -> ValidReport:
    """A small 2021-template report whose table numbers are distinct, non-zero and seed-dependent."""
    rng = random.Random(seed)
    pool = iter(rng.sample(range(11, 9000), 400))
    numbers: set[int] = set()

    def n() -> str:
        value = next(pool)
        numbers.add(value)
        return str(value)

    agency = rng.choice(("青山区人民政府办公室", "东湖街道办事处", "市生态环境局"))
    blocks: list = [
        f"{agency}2021年政府信息公开工作年度报告",
        "本报告根据《中华人民共和国政府信息公开条例》编制。",
        "一、总体情况",
        "2021年，我单位认真贯彻落实政府信息公开工作部署。",
        "二、主动公开政府信息情况",
        [
            ["第二十条第（一）项", "", "", ""],
            ["信息内容", "本年制发件数", "本年废止件数", "现行有效件数"],
            ["规章", n(), n(), n()],
            ["行政规范性文件", n(), n(), n()],
            ["第二十条第（五）项", "", "", ""],
            ["信息内容", "本年处理决定数量", "", ""],
            ["行政许可", n(), "", ""],
            ["第二十条第（六）项", "", "", ""],
            ["信息内容", "本年处理决定数量", "", ""],
            ["行政处罚", n(), "", ""],
            ["行政强制", n(), "", ""],
            ["第二十条第（八）项", "", "", ""],
            ["信息内容", "本年收费金额（单位：万元）", "", ""],
            ["行政事业性收费", n(), "", ""],
        ],
        "三、收到和处理政府信息公开申请情况",
        [
            ["(本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和)", "", "", "申请人情况", "", "", "", "", "", ""],
            ["", "", "", "自然人", "法人或其他组织", "", "", "", "", "总计"],
            ["", "", "", "", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", ""],
            ["一、本年新收政府信息公开申请数量", "", "", *[n() for _ in APPLICANTS]],
            ["二、上年结转政府信息公开申请数量", "", "", *[n() for _ in APPLICANTS]],
            *[[a, b, c, *[n() for _ in APPLICANTS]] for a, b, c in OUTCOMES],
            ["四、结转下年度继续办理", "", "", *[n() for _ in APPLICANTS]],
        ],
        "四、政府信息公开行政复议、行政诉讼情况",
        [
            ["行政复议", "", "", "", "", "行政诉讼", "", "", "", "", "", "", "", "", ""],
            ["", "", "", "", "", "未经复议直接起诉", "", "", "", "", "复议后起诉", "", "", "", ""],
            ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"] * 3,
            [n() for _ in range(15)],
        ],
        "五、存在的主要问题及改进情况",
        "信息公开的主动性有待加强。",
        "六、其他需要报告的事项",
        "本年度未收取信息处理费。",
        f"{agency}",
        "2022年1月20日",
    ]
    return ValidReport(blocks, frozenset(numbers))


# ── hand-made binary formats ────────────────────────────────────────────────


def pdf(objects: list[bytes], *, trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (1-based), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def text_pdf(lines: list[str] = ("Report 2021", "Total 123 456"), *, media_box: str = "0 0 595 842") -> bytes:
    """A one-page PDF with Helvetica text lines."""
    ops = b"BT /F1 12 Tf 72 770 Td " + b" 0 -16 Td ".join(b"(%s) Tj" % s.encode("latin-1") for s in lines) + b" ET"
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>" % media_box.encode(),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])  # fmt: skip


def blank_pdf(media_box: str, *, ink: bool = False) -> bytes:
    """A one-page PDF with no text layer (it goes to OCR) and the given page size; `ink` draws a stroke."""
    ops = b"0 0 m 300 300 l S" if ink else b""
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R >>" % media_box.encode(),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops),
    ])  # fmt: skip


def many_pages_pdf(kids: int, count: int) -> bytes:
    """A page tree whose Kids repeat one page `kids` times and whose /Count claims `count`."""
    refs = b" ".join([b"3 0 R"] * kids)
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (refs, count),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ])  # fmt: skip


def xobject_bomb_pdf(levels: int = 28) -> bytes:
    """A page drawing form XObject 1, each XObject drawing the one below twice: 2^levels strokes in a few kB."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /XObject << /X 5 0 R >> >> >>",
        b"<< /Length 6 >>\nstream\n/X Do\n\nendstream",
    ]
    for level in range(levels):
        below = 5 + level + 1
        ops = b"/X Do /X Do" if level < levels - 1 else b"0 0 m 595 842 l S"
        resources = b"/Resources << /XObject << /X %d 0 R >> >>" % below if level < levels - 1 else b""
        objects.append(b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] %s /Length %d >>\nstream\n%s\nendstream"
                       % (resources, len(ops), ops))
    return pdf(objects)


def operator_flood_pdf(operators: int = 40_000_000) -> bytes:
    """One Flate content stream of `operators` strokes: about 1 MB on disk, 560 MB and minutes of drawing at 40 M."""
    ops = zlib.compress(b"0 0 m 1 1 l S\n" * operators, 9)
    return pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(ops), ops),
    ])  # fmt: skip


def multi_frame_tiff(frames: int) -> bytes:
    """A TIFF of `frames` small blank pages."""
    from PIL import Image

    pages = [Image.new("L", (32, 32), 255) for _ in range(frames)]
    buffer = io.BytesIO()
    pages[0].save(buffer, format="TIFF", save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def altchunk_docx(html: bytes) -> bytes:
    """A docx whose whole body is one w:altChunk: an HTML page kept as a part of its own (as web exports make them)."""
    rels = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="htmlChunk" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk" '
            b'Target="/word/afchunk.htm"/></Relationships>')  # fmt: skip
    body = ('<w:altChunk xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="htmlChunk"/>'
            '<w:sectPr/>')  # fmt: skip
    return docx_with(docx_xml(body), extra={"word/_rels/document.xml.rels": rels, "word/afchunk.htm": html})


def encrypted_pdf(revision: int = 3) -> bytes:
    """A PDF with a Standard security handler whose user password is not empty."""
    rng = random.Random(revision)
    o, u = bytes(rng.randrange(256) for _ in range(32)), bytes(rng.randrange(256) for _ in range(32))
    encrypt = b"<< /Filter /Standard /V %d /R %d /Length %d /P -3904 /O <%s> /U <%s> >>" % (
        1 if revision == 2 else 2, revision, 40 if revision == 2 else 128, o.hex().encode(), u.hex().encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 12 >>\nstream\n\x8a\x11\x93\x04\xfe\x00\x12\x7f\x80\x01\x02\x03\nendstream",
        encrypt,
    ]
    return pdf(objects, trailer_extra=b"/Encrypt 5 0 R /ID [<%s> <%s>] " % (b"ab" * 16, b"ab" * 16))


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares width×height pixels and carries one tiny compressed row."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def small_png() -> bytes:
    """A valid 40×20 grey PNG (no text: OCR finds nothing)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (40, 20), 200).save(buffer, "PNG")
    return buffer.getvalue()


def docx_with(document_xml: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal docx package around the given document.xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
        archive.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="word/document.xml"/></Relationships>'
)
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def docx_xml(body: str, prolog: str = "") -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<w:document {W_NS}><w:body>{body}</w:body></w:document>'.encode()


OFD_NS = 'xmlns:ofd="http://www.ofdspec.org/2016"'
OFD_TEXT = '<ofd:TextObject ID="10" Boundary="25 40 60 6" Font="1" Size="4"><ofd:TextCode X="0" Y="4">{}</ofd:TextCode></ofd:TextObject>'


def ofd_with(objects: str, prolog: str = "", *, pages: int = 1) -> bytes:
    """A minimal OFD package (GB/T 33190): OFD.xml, a document listing `pages` pages (all the same content), one page."""
    refs = "".join(f'<ofd:Page ID="{k + 1}" BaseLoc="Pages/Page_0/Content.xml"/>' for k in range(pages))
    parts = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {OFD_NS} Version="1.0" DocType="OFD"><ofd:DocBody>'
                   "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {OFD_NS}><ofd:CommonData><ofd:PageArea>'
                              f"<ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>{refs}</ofd:Pages></ofd:Document>",
        "Doc_0/Pages/Page_0/Content.xml": f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<ofd:Page {OFD_NS}><ofd:Content>'
                                          f'<ofd:Layer ID="9">{objects}</ofd:Layer></ofd:Content></ofd:Page>',
    }  # fmt: skip
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def billion_laughs(levels: int = 10, fanout: int = 10) -> str:
    """The classic entity-expansion DTD: &lol{levels}; expands to fanout**levels strings."""
    lines = ['<!ENTITY lol0 "lol">']
    for level in range(1, levels):
        lines.append(f'<!ENTITY lol{level} "' + f"&lol{level - 1};" * fanout + '">')
    return "\n".join(lines)


def lying_zip_sizes(data: bytes, member: str, declared: int) -> bytes:
    """The archive with `member`'s uncompressed size rewritten to `declared` (ZIP64-free, so < 4 GiB)."""
    out = bytearray(data)
    name = member.encode()
    for signature, size_at, name_len_at, header_len in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            name_len = struct.unpack_from("<H", out, at + name_len_at)[0]
            if out[at + header_len : at + header_len + name_len] == name:
                struct.pack_into("<I", out, at + size_at, declared)
            start = at + 4
    return bytes(out)


def zip_bomb_docx(real_bytes: int = 80 * 1024 * 1024) -> bytes:
    """A docx whose document.xml really inflates to `real_bytes` (it compresses ~1000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = docx_xml("<w:p><w:r><w:t>").rstrip(b"</w:t></w:r></w:p></w:body></w:document>")
    chunk = b" " * (1 << 20)
    crc, parts = 0, [compressor.compress(head)]
    crc = zlib.crc32(head, crc)
    for _ in range(real_bytes >> 20):
        parts.append(compressor.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    parts.append(compressor.flush())
    deflated = b"".join(parts)
    size = len(head) + (real_bytes >> 20 << 20)
    return _zip_with_raw_member("word/document.xml", deflated, crc, size)


def _zip_with_raw_member(name: str, deflated: bytes, crc: int, size: int) -> bytes:
    """A zip holding [Content_Types].xml, _rels/.rels and one pre-deflated member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", RELS)
    head = buffer.getvalue()
    central_at = head.find(b"PK\x01\x02")
    local_part, central_part = head[:central_at], head[central_at : head.find(b"PK\x05\x06")]
    encoded = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(deflated), size, len(encoded), 0) + encoded
    offset = len(local_part)
    central = struct.pack(
        "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(deflated), size, len(encoded), 0, 0, 0, 0, 0, offset
    ) + encoded
    body = local_part + local + deflated
    directory = central_part + central
    end = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, 3, 3, len(directory), len(body), 0)
    return body + directory + end


# ── the corpus ───────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Case:
    """One hostile file: where it is, what kind of attack, and whether it must run in a child process."""

    path: Path
    kind: str
    dangerous: bool = False  # may cost time/memory without the readers' caps: parse under limits only


def _noise(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def cases(seed: int = 6) -> list[tuple[str, str, bool, object]]:
    """(file name, kind, dangerous, bytes or a zero-argument function making them) for every case."""
    rng = random.Random(seed)
    base = valid_report(seed)
    txt, html, docx = base.txt(), base.html(), base.docx()
    out: list[tuple[str, str, bool, object]] = []

    def add(name: str, kind: str, data, dangerous: bool = False) -> None:
        out.append((name, kind, dangerous, data))

    # zip bombs: declared sizes of GBs (header lies), a real 80 MB inflation, a nested zip
    small_doc = docx_with(docx_xml("<w:p><w:r><w:t>报告</w:t></w:r></w:p>"))
    for i, declared in enumerate((2**31, 2**32 - 1, 70 * 2**20, 5 * 2**20)):
        add(f"bomb_declared_{i}.docx", "zip-bomb", lying_zip_sizes(small_doc, "word/document.xml", declared))
    add("bomb_real_80mb.docx", "zip-bomb", zip_bomb_docx, dangerous=True)
    add("bomb_real_80mb_lying.docx", "zip-bomb", lambda: lying_zip_sizes(zip_bomb_docx(), "word/document.xml", 1000), dangerous=True)
    add("bomb_many_members.docx", "zip-bomb", docx_with(docx_xml(""), extra={f"word/media/x{i}.bin": b"" for i in range(2000)}))
    add("bomb_nested.docx", "zip-bomb", docx_with(docx_xml(""), extra={"word/embeddings/inner.docx": docx}))

    # entity expansion and external entities
    laughs = billion_laughs()
    add("laughs.docx", "entity-bomb", docx_with(docx_xml("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", f"<!DOCTYPE w:document [{laughs}]>")))
    add("laughs_late_doctype.docx", "entity-bomb",
        docx_with(b"<?xml version='1.0'?>" + b" " * 5000 + docx_xml("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", f"<!DOCTYPE w:document [{laughs}]>")[21:]))  # fmt: skip
    add("laughs_in_rels.docx", "entity-bomb", _docx_rels_bomb(laughs))
    add("laughs.html", "entity-bomb", f"<!DOCTYPE html [{laughs}]><html><body><p>&lol9;</p><p>&lol9;&lol9;</p></body></html>".encode())
    add("laughs.xhtml.html", "entity-bomb", f"<?xml version='1.0'?><!DOCTYPE html [{laughs}]><html><body>&lol9;</body></html>".encode())
    add("xxe.docx", "external-entity", docx_with(docx_xml(
        "<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>", '<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')))
    add("xxe.html", "external-entity", b'<!DOCTYPE html [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><html><body><p>&xxe;</p></body></html>')

    # OFD packages: the same attacks on their parts
    page_part = "Doc_0/Pages/Page_0/Content.xml"
    add("bomb_declared.ofd", "zip-bomb", lying_zip_sizes(ofd_with(OFD_TEXT.format("报告")), page_part, 2**31))
    add("laughs.ofd", "entity-bomb", ofd_with(OFD_TEXT.format("&lol9;"), f"<!DOCTYPE ofd:Page [{laughs}]>"))
    add("xxe.ofd", "external-entity", ofd_with(OFD_TEXT.format("&xxe;"), '<!DOCTYPE ofd:Page [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'))
    add("nested_blocks.ofd", "deep-nesting", ofd_with("<ofd:PageBlock>" * 10_000 + OFD_TEXT.format("报告") + "</ofd:PageBlock>" * 10_000))
    add("many_pages.ofd", "many-pages", ofd_with(OFD_TEXT.format("报告"), pages=100_000), dangerous=True)

    # wrong extensions
    add("pdf_named.docx", "wrong-extension", text_pdf())
    add("html_named.doc", "wrong-extension", html)
    add("docx_named.pdf", "wrong-extension", docx)
    add("txt_named.pdf", "wrong-extension", txt)
    add("png_named.html", "wrong-extension", small_png(), dangerous=True)
    add("docx_named.txt", "wrong-extension", docx)
    add("html_named.docx", "wrong-extension", html)
    add("zip_named.docx", "wrong-extension", _plain_zip())

    # PDFs: encrypted, corrupt, truncated, thousands of pages, a page 10 m wide
    add("encrypted_r2.pdf", "encrypted-pdf", encrypted_pdf(2))
    add("encrypted_r3.pdf", "encrypted-pdf", encrypted_pdf(3))
    add("encrypted_r4.pdf", "encrypted-pdf", encrypted_pdf(4))
    good_pdf = text_pdf()
    add("good.pdf", "valid", good_pdf)
    add("header_only.pdf", "corrupt-pdf", b"%PDF-1.7\n")
    add("no_xref.pdf", "corrupt-pdf", good_pdf[: good_pdf.find(b"xref")])
    add("garbage_after_header.pdf", "corrupt-pdf", b"%PDF-1.4\n" + _noise(rng, 4000))
    for cut in sorted(rng.sample(range(10, len(good_pdf)), 12)):
        add(f"truncated_{cut}.pdf", "truncated-pdf", good_pdf[:cut])
    add("pages_5000.pdf", "many-pages", many_pages_pdf(5000, 5000), dangerous=True)
    add("pages_count_lies.pdf", "many-pages", many_pages_pdf(1, 10_000_000))
    add("pages_1999.pdf", "many-pages", many_pages_pdf(1999, 1999), dangerous=True)
    add("page_10m_wide.pdf", "huge-page", blank_pdf("0 0 28346 842"), dangerous=True)
    add("page_10m_square.pdf", "huge-page", blank_pdf("0 0 28346 28346"), dangerous=True)
    add("page_10m_wide_text.pdf", "huge-page", text_pdf(media_box="0 0 28346 842"))
    add("page_zero_size.pdf", "huge-page", blank_pdf("0 0 0 0"), dangerous=True)
    add("page_negative.pdf", "huge-page", blank_pdf("0 0 -595 -842"), dangerous=True)

    # images that declare 20,000 × 20,000 pixels (and worse)
    for w, h in ((20_000, 20_000), (65_535, 65_535), (100_000, 1), (1, 2_000_000_000), (12_000, 9_000)):
        add(f"pixels_{w}x{h}.png", "pixel-bomb", png_header(w, h), dangerous=True)
    add("pixels_zero.png", "pixel-bomb", png_header(0, 0))
    add("truncated.png", "pixel-bomb", small_png()[:30])

    # empty files and binary noise
    for ext in ("txt", "html", "docx", "pdf", "doc", "png", "md", ""):
        add(f"empty.{ext}" if ext else "empty", "empty", b"")
    for size in (1, 2, 3, 7, 64, 511, 4096, 65_536, 1 << 20):
        add(f"noise_{size}.bin", "noise", _noise(rng, size))
    for magic, ext in ((b"%PDF-", "pdf"), (b"PK\x03\x04", "docx"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "doc"),
                       (b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF8", "gif"), (b"{\\rtf", "doc"), (b"II*\x00", "tif")):  # fmt: skip
        add(f"noise_after_magic.{magic[:3].hex()}.{ext}", "noise", magic + _noise(rng, 3000), dangerous=ext in ("doc",))

    # deep nesting
    add("nested_div_100k.html", "deep-nesting", b"<html><body>" + b"<div>" * 100_000 + "报告".encode() + b"</div>" * 100_000 + b"</body></html>")
    add("nested_table_5k.html", "deep-nesting", b"<html><body>" + b"<table><tr><td>" * 5000 + b"1" + b"</td></tr></table>" * 5000 + b"</body></html>")
    add("nested_unclosed_100k.html", "deep-nesting", b"<html><body>" + b"<span>" * 100_000 + b"x")
    add("nested_docx_10k.docx", "deep-nesting", docx_with(docx_xml("<w:sdt><w:sdtContent>" * 10_000 + "<w:p/>" + "</w:sdtContent></w:sdt>" * 10_000)))
    add("nested_docx_tables.docx", "deep-nesting",
        docx_with(docx_xml("<w:tbl><w:tr><w:tc>" * 2000 + "<w:p/>" + "</w:tc></w:tr></w:tbl>" * 2000)))  # fmt: skip
    add("wide_colspan.html", "deep-nesting", b"<table>" + b"<tr><td colspan='1000' rowspan='65534'>1</td></tr>" * 3000 + b"</table>")
    add("md_wide_table.md", "deep-nesting", ("|" + "a|" * 2000 + "\n|" + "-|" * 2000 + "\n" + ("|" + "1|" * 2000 + "\n") * 50).encode())

    # encodings
    add("utf16le_nobom.txt", "encoding", txt.decode().encode("utf-16-le"))
    add("utf16be_nobom.txt", "encoding", txt.decode().encode("utf-16-be"))
    add("utf16_odd_length.txt", "encoding", txt.decode().encode("utf-16-le")[:-1])
    add("utf16le_nobom.html", "encoding", html.decode().encode("utf-16-le"))
    lines = txt.decode().split("\n")
    add("mixed_gbk_utf8.txt", "encoding", b"\n".join(l.encode("gbk", "replace") if i % 2 else l.encode() for i, l in enumerate(lines)))
    add("mixed_gbk_utf8_html.html", "encoding", b"\n".join(l.encode("gbk", "replace") if i % 3 == 1 else l.encode() for i, l in enumerate(html.decode().split("\n"))))
    add("gb18030.txt", "encoding", txt.decode().encode("gb18030"))
    add("big5.txt", "encoding", txt.decode().encode("big5", "replace"))
    add("bom_utf8_then_gbk.txt", "encoding", b"\xef\xbb\xbf" + txt.decode().encode("gbk", "replace"))
    add("bom_utf16_garbage.txt", "encoding", b"\xff\xfe" + _noise(rng, 1001))
    add("lone_surrogates.txt", "encoding", "报告 \ud800 1".encode("utf-8", "surrogatepass") * 20)
    add("nul_bytes.txt", "encoding", txt.replace("。".encode(), b"\x00"))
    add("control_chars.txt", "encoding", bytes(range(1, 32)) * 40 + txt)
    add("html_bad_charset.html", "encoding", html.replace(b"charset='utf-8'", b"charset='x-no-such-codec'"))
    add("html_utf7_charset.html", "encoding", html.replace(b"charset='utf-8'", b"charset='utf-7'"))
    add("mht_no_html.doc", "encoding", b"MIME-Version: 1.0\nContent-Type: multipart/related; boundary=x\n\n--x\nContent-Type: text/plain\n\nhi\n--x--\n")
    add("mht_bad_b64.doc", "encoding",
        b"MIME-Version: 1.0\nContent-Type: multipart/related; boundary=x\n\n--x\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n@@@!!\n--x--\n")  # fmt: skip
    add("long_line.txt", "encoding", "一、总体情况".encode() + b"1" * 2_000_000)
    add("many_lines.txt", "encoding", b"\n" * 100_000 + txt)
    add("many_digits.txt", "encoding", txt + b"\n" + b"\t".join(b"1" * 40 for _ in range(20000)))

    # truncated downloads of valid reports, cut at random points
    for fmt, data in (("txt", txt), ("html", html), ("docx", docx)):
        for cut in sorted(rng.sample(range(1, len(data)), 15)):
            add(f"cut_{cut}.{fmt}", "truncated", data[:cut])

    # random byte flips of valid reports
    for fmt, data in (("txt", txt), ("html", html), ("docx", docx), ("pdf", good_pdf)):
        for i in range(12):
            flipped = bytearray(data)
            for _ in range(rng.choice((1, 3, 20, 200))):
                flipped[rng.randrange(len(flipped))] = rng.randrange(256)
            add(f"flip_{i}.{fmt}", "byte-flip", bytes(flipped))

    # the intact reports themselves
    for fmt, data in (("txt", txt), ("html", html), ("docx", docx)):
        add(f"valid.{fmt}", "valid", data)
    return out


def _docx_rels_bomb(laughs: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("_rels/.rels", f"<?xml version='1.0'?><!DOCTYPE r [{laughs}]><Relationships>&lol9;</Relationships>")
        archive.writestr("word/document.xml", docx_xml("<w:p><w:r><w:t>x</w:t></w:r></w:p>"))
    return buffer.getvalue()


def _plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a report")
    return buffer.getvalue()


def write_corpus(folder: Path, seed: int = 6) -> list[Case]:
    """Write every hostile case into `folder` (one subfolder per case, so names never clash)."""
    out: list[Case] = []
    for index, (name, kind, dangerous, data) in enumerate(cases(seed)):
        path = folder / f"{index:03d}" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data() if callable(data) else data)
        out.append(Case(path, kind, dangerous))
    return out
