"""The OFD reader (GB/T 33190): generated OFD reports read cell for cell, provenance on the value, hostile packages refused.

The reports are written by the project's own generator (`render("ofd")`): paragraphs wrapped over
A4 pages, the three tables as text objects in ruled cells, page numbers in the footer. Each is
read against its truth: every cell right or flagged, the injected faults found. The boxes the
reader gives are checked against the package's own XML, not against the reader.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import zipfile

import pytest
from lxml import etree

import gongkai
from gongkai.document import Paragraph
from gongkai.errors import GongkaiError, UnreadableError
from gongkai.evaluate import compare
from gongkai.limits import Limits, parse_guarded
from gongkai.read import ofd
from gongkai.synth import FAULTS, make_report
from gongkai.synth.corpus import plan

NS = {"ofd": "http://www.ofdspec.org/2016"}
TAG = "{http://www.ofdspec.org/2016}"
MM = 72 / 25.4


def _check(syn, report) -> None:
    truth = syn.truth_for("report.ofd", "ofd")
    result = compare(report, truth)
    assert result.silent == [], f"seed {syn.seed}: cells wrong with no finding naming them"
    assert result.errors_missed == [], f"seed {syn.seed}: injected source errors not raised"
    assert result.false_errors == [], f"seed {syn.seed}: error findings the truth does not have"
    assert result.meta_wrong == [], f"seed {syn.seed}: metadata"
    assert set(truth.get("expected_findings", [])) <= {f.rule for f in report.findings}


# ── generated reports against their truth ────────────────────────────────────


@pytest.mark.parametrize(("template", "year"), [("2021", 2023), ("2019", 2020)])
@pytest.mark.parametrize("seed", [7, 31])
def test_a_clean_report_reads_exactly(template: str, year: int, seed: int) -> None:
    syn = make_report(seed, template=template, year=year)
    data = syn.render("ofd")
    document = ofd.read(data)
    assert document.format == "ofd" and document.pages >= 3 and not document.partial and len(document.grids) == len(syn.tables())
    report = gongkai.parse(data, name="report.ofd")
    _check(syn, report)
    assert [f for f in report.findings if f.severity == "error"] == []
    filled = {c: v for c, v in syn.truth["cells"].items() if v is not None}
    assert {c: report.cells[c] for c in filled} == filled


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_source_fault_is_found(fault: str) -> None:
    template, year = ("2019", 2022) if fault == "outdated_template" else ("2021", 2023)
    syn = make_report(3, template=template, year=year, faults=(fault,))
    _check(syn, gongkai.parse(syn.render("ofd"), name="report.ofd"))


def test_reports_with_random_faults_and_layouts_have_no_silent_cell() -> None:
    """Layout variants (headings, table 四 transposed or split, numbers wrapped in narrow cells, ...) and faults at random."""
    for index in range(16):
        syn = plan(index, 23, "random", "random")
        _check(syn, gongkai.parse(syn.render("ofd"), name="report.ofd"))


def test_numbers_wrapped_in_narrow_cells_are_read_whole() -> None:
    syn = make_report(6, template="2021", year=2023, variants=("narrow_cells",))  # numbers of up to five digits
    document = ofd.read(syn.render("ofd"))
    assert any(cell.wrapped for grid in document.grids for cell in grid.cells)
    _check(syn, gongkai.parse(syn.render("ofd"), name="report.ofd"))


# ── the package the generator writes ─────────────────────────────────────────


def test_the_generated_package_follows_the_standards_structure() -> None:
    """OFD.xml → DocBody → DocRoot → Document.xml (CommonData: PageArea, PublicRes with a font) → Pages → Content."""
    data = make_report(12, template="2021", year=2024).render("ofd")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {name: etree.fromstring(z.read(name)) for name in z.namelist()}
    entry = parts["OFD.xml"]
    assert entry.tag == f"{TAG}OFD" and entry.get("Version") == "1.0" and entry.get("DocType") == "OFD"
    assert entry.findtext("ofd:DocBody/ofd:DocInfo/ofd:DocID", namespaces=NS)
    root = entry.findtext("ofd:DocBody/ofd:DocRoot", namespaces=NS)
    document = parts[root]
    common = document.find("ofd:CommonData", NS)
    assert common.findtext("ofd:PageArea/ofd:PhysicalBox", namespaces=NS).split() == ["0", "0", "210", "297"]
    res = parts["Doc_0/" + common.findtext("ofd:PublicRes", namespaces=NS)]
    fonts = {font.get("ID") for font in res.iterfind("ofd:Fonts/ofd:Font", NS)}
    assert fonts and all(f.get("FontName") for f in res.iterfind("ofd:Fonts/ofd:Font", NS))
    pages = document.findall("ofd:Pages/ofd:Page", NS)
    assert len(pages) >= 3
    ids = [int(p.get("ID")) for p in pages]
    texts = []
    for page in pages:
        content = parts["Doc_0/" + page.get("BaseLoc")]
        layers = content.findall("ofd:Content/ofd:Layer", NS)
        assert layers
        for obj in content.iter(f"{TAG}TextObject", f"{TAG}PathObject"):
            ids.append(int(obj.get("ID")))
            assert len(obj.get("Boundary").split()) == 4
            if obj.tag.endswith("TextObject"):
                assert obj.get("Font") in fonts and float(obj.get("Size")) > 0
                code = obj.find("ofd:TextCode", NS)
                assert code.get("X") is not None and code.get("Y") is not None
                texts.append(code.text)
            else:
                assert re.fullmatch(r"M [\d. ]+(L [\d. ]+)+C", obj.findtext("ofd:AbbreviatedData", namespaces=NS))
        ids.extend(int(layer.get("ID")) for layer in layers)
    assert len(ids) == len(set(ids)) and max(ids) <= int(common.findtext("ofd:MaxUnitID", namespaces=NS))  # IDs unique in the document
    assert any(re.search(r"[\u4e00-\u9fff]", t) for t in texts)


# ── provenance: the page and box of every value hold that value ───────────────


def _texts_in(data: bytes, page: int, bbox) -> str:
    """The text objects of page `page` whose centre lies in `bbox` (points), read from the package itself."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        document = etree.fromstring(z.read("Doc_0/Document.xml"))
        location = document.findall("ofd:Pages/ofd:Page", NS)[page - 1].get("BaseLoc")
        content = etree.fromstring(z.read("Doc_0/" + location))
    x0, top, x1, bottom = bbox
    found = []
    for obj in content.iter(f"{TAG}TextObject"):
        x, y, w, h = (float(v) * MM for v in obj.get("Boundary").split())
        if x0 <= x + w / 2 <= x1 and top <= y + h / 2 <= bottom:
            found.append((y, obj.findtext("ofd:TextCode", namespaces=NS)))
    return "".join(text for _, text in sorted(found))


@pytest.mark.parametrize("variants", [(), ("narrow_cells",)])
def test_each_values_page_and_box_hold_the_value(variants) -> None:
    syn = make_report(9, template="2021", year=2023, variants=variants)
    data = syn.render("ofd")
    report = gongkai.parse(data, name="report.ofd")
    checked = 0
    for cell, value in report.cells.items():
        if value is None:
            continue
        where = report.provenance[cell]
        assert where.page and where.bbox, cell
        assert _texts_in(data, where.page, where.bbox) == where.raw, cell
        checked += 1
    assert checked > 100
    document = ofd.read(data)
    pages = {b.where.page for b in document.blocks if isinstance(b, Paragraph)} | {c.where.page for g in document.grids for c in g.cells}
    assert pages == set(range(1, document.pages + 1))
    assert not any(re.fullmatch(r"- \d+ -", b.text) for b in document.blocks if isinstance(b, Paragraph))  # page numbers dropped


# ── hostile and broken packages ─────────────────────────────────────────────

OFD_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD">'
    "<ofd:DocBody><ofd:DocInfo><ofd:DocID>0</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
)


def _document(n_pages: int) -> str:
    pages = "".join(f'<ofd:Page ID="{k + 1}" BaseLoc="Pages/Page_{k}/Content.xml"/>' for k in range(n_pages))
    return (
        '<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData>'
        f"<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages>{pages}</ofd:Pages></ofd:Document>"
    )


def _content(objects: str, doctype: str = "") -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>{doctype}<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="9">{objects}</ofd:Layer></ofd:Content></ofd:Page>'


TEXT = '<ofd:TextObject ID="10" Boundary="25 40 60 6" Font="1" Size="4"><ofd:TextCode X="0" Y="4" DeltaX="g 4 4">一、总体情况</ofd:TextCode></ofd:TextObject>'
OUTLINE = '<ofd:PathObject ID="11" Boundary="25 40 5 5" Fill="true"><ofd:AbbreviatedData>M 0 0 B 1 2 3 4 5 5 L 0 5 C</ofd:AbbreviatedData></ofd:PathObject>'
PICTURE = '<ofd:ImageObject ID="12" Boundary="0 0 210 297" ResourceID="20"/>'


def _package(parts: dict[str, str | bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, text in parts.items():
            z.writestr(name, text.encode() if isinstance(text, str) else text)
    return buf.getvalue()


def _ofd(*contents: str, **extra) -> bytes:
    parts = {"OFD.xml": OFD_XML, "Doc_0/Document.xml": _document(len(contents))}
    parts.update({f"Doc_0/Pages/Page_{k}/Content.xml": c for k, c in enumerate(contents)})
    parts.update(extra)
    return _package(parts)


def test_a_minimal_package_reads_and_the_hostile_ones_are_refused_in_one_chinese_line() -> None:
    assert [b.text for b in ofd.read(_ofd(_content(TEXT))).blocks] == ["一、总体情况"]
    laughs = '<!DOCTYPE ofd:Page [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    external = '<!DOCTYPE ofd:Page [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    late = "<!-- " + "x" * 5000 + " -->" + laughs  # the DTD after the first 4 KB: the parsed tree still says it has one
    entity_text = TEXT.replace("一、总体情况", "&c;")
    bomb = b"\0" * (ofd.MAX_PART_BYTES + 1)
    cases = {
        "not a zip": (b"PK\x03\x04" + b"\0" * 100, "zip"),
        "truncated": (_ofd(_content(TEXT))[:-40], "损坏"),
        "entity bomb": (_ofd(_content(entity_text, laughs)), "DTD"),
        "external entity": (_ofd(_content(TEXT.replace("一、总体情况", "&x;"), external)), "DTD"),
        "late DTD": (_ofd(_content(entity_text, late)), "DTD"),
        "zip bomb (size)": (_ofd(_content(TEXT), **{"Doc_0/Pages/Page_0/Content.xml": bomb}), "上限"),
        "zip bomb (ratio)": (_ofd(_content(TEXT), **{"Doc_0/Pages/Page_0/Content.xml": _content(TEXT).encode() + b" " * (2 << 20)}), "压缩炸弹"),
        "no OFD.xml root": (_package({"OFD.xml": OFD_XML.replace("<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>", "")}), "DocRoot"),
        "no Document.xml": (_package({"OFD.xml": OFD_XML}), "Document.xml"),
        "no page content": (_package({"OFD.xml": OFD_XML, "Doc_0/Document.xml": _document(1)}), "第 1 页"),
        "no pages": (_package({"OFD.xml": OFD_XML, "Doc_0/Document.xml": _document(0)}), "没有页面"),
        "too many pages": (_package({"OFD.xml": OFD_XML, "Doc_0/Document.xml": _document(ofd.MAX_PAGES + 1), "Doc_0/Pages/Page_0/Content.xml": _content(TEXT)}), "页数过多"),
        "outside the package": (_package({"OFD.xml": OFD_XML.replace("Doc_0/Document.xml", "../../etc/passwd")}), "包外"),
        "broken XML": (_ofd(_content(TEXT)[:-20]), "XML"),
        "bad numbers": (_ofd(_content(TEXT.replace('X="0"', 'X="零"'))), "X/Y"),
        "glyphs drawn as outlines": (_ofd(_content(OUTLINE * 3), _content(PICTURE)), "没有文字层"),
        "nothing on the pages": (_ofd(_content("")), "没有文字"),
    }
    for name, (data, word) in cases.items():
        with pytest.raises(UnreadableError) as caught:
            gongkai.parse(data, name="report.ofd")
        message = str(caught.value)
        assert word in message and "\n" not in message and re.search(r"[\u4e00-\u9fff]", message), f"{name}: {message}"


def test_a_package_with_too_many_entries_is_refused_before_it_is_unpacked() -> None:
    parts = {f"Doc_0/Res/{k}.xml": b"" for k in range(ofd.MAX_ENTRIES)}
    data = _ofd(_content(TEXT), **parts)
    with pytest.raises(UnreadableError, match="文件过多"):
        ofd.read(data)


def test_a_page_whose_glyphs_are_outlines_is_named_and_the_report_marked_partial() -> None:
    """Never a silent blank: the page is named, and what it held is missing, not zero."""
    syn = make_report(4, template="2021", year=2023)
    data = syn.render("ofd")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    drawn = "Doc_0/Pages/Page_1/Content.xml"
    page = etree.fromstring(parts[drawn])
    for obj in list(page.iter(f"{TAG}TextObject")):  # the text of page 2 replaced by outlines
        outline = etree.fromstring(OUTLINE.replace("ofd:", "").replace("<PathObject", f'<PathObject xmlns="{NS["ofd"]}"'))
        outline.set("ID", obj.get("ID"))
        obj.getparent().replace(obj, outline)
    parts[drawn] = etree.tostring(page)
    document = ofd.read(_package(parts))
    assert document.partial and any("第 2 页没有文字层" in note for note in document.notes)
    report = gongkai.parse(_package(parts), name="report.ofd")
    result = compare(report, syn.truth_for("report.ofd", "ofd"))
    assert result.silent == [] and result.flagged  # the cells of page 2 are missing and named
    assert any("第 2 页" in f.message for f in report.findings)


def test_hostile_packages_end_within_the_limits_and_in_one_line_from_the_cli(tmp_path) -> None:
    bomb = _ofd(_content(TEXT), **{"Doc_0/Pages/Page_0/Content.xml": b"<a>" + b"<b/>" * (8 << 20) + b"</a>"})
    files = {"bomb.ofd": bomb, "pages.ofd": _package({"OFD.xml": OFD_XML, "Doc_0/Document.xml": _document(50_000)}),
             "outlines.ofd": _ofd(_content(OUTLINE)), "good.ofd": make_report(2).render("ofd")}  # fmt: skip
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    for name in ("bomb.ofd", "pages.ofd"):
        with pytest.raises(GongkaiError) as caught:
            parse_guarded(tmp_path / name, limits=Limits(seconds=60, memory_mb=1024))
        assert "上限" in str(caught.value) or "过多" in str(caught.value)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1"}
    result = subprocess.run([sys.executable, "-m", "gongkai", "parse", "--jsonl", *sorted(map(str, tmp_path.iterdir()))],
                            capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 3 and all(line.startswith("gongkai: ") for line in errors), result.stderr
    assert len([line for line in result.stdout.splitlines() if line.startswith("{")]) == 1  # good.ofd: its report


def test_the_layout_is_shared_with_the_pdf_reader() -> None:
    """One layout for both fixed-layout formats: a change to how pages become blocks reaches both."""
    from gongkai.read import page_layout, pdf

    assert ofd.layout_page is pdf.layout_page is page_layout.layout_page
    assert ofd.assemble is pdf.assemble is page_layout.assemble
    grids = ofd.read(make_report(7).render("ofd")).grids
    assert len(grids) == 3 and any(len({c.where.page for c in grid.cells}) == 2 for grid in grids)  # a table split by a page break is one grid


def _rewrite(data: bytes, change) -> bytes:
    """The package with `change(TextObject)` applied to every text object of every page."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    for name in parts:
        if name.endswith("Content.xml"):
            page = etree.fromstring(parts[name])
            for obj in list(page.iter(f"{TAG}TextObject")):
                change(obj)
            parts[name] = etree.tostring(page, xml_declaration=True, encoding="UTF-8")
    return _package(parts)


def _scaled_by_ctm(obj) -> None:
    """Size 1 scaled up by the CTM, positions in the object's own units (as PDF-to-OFD converters write)."""
    size = float(obj.get("Size"))
    obj.set("Size", "1")
    obj.set("CTM", f"{size} 0 0 {size} 0 0")
    code = obj.find("ofd:TextCode", NS)
    code.set("X", str(float(code.get("X")) / size))
    code.set("Y", str(float(code.get("Y")) / size))
    tokens = (code.get("DeltaX") or "").split()
    counts = {k + 1 for k, t in enumerate(tokens) if t == "g"}  # 'g N D': N is a count, not a distance
    code.set("DeltaX", " ".join(t if t == "g" or k in counts else str(float(t) / size) for k, t in enumerate(tokens)))


def _a_code_per_character(obj) -> None:
    """Each character its own TextCode with its own X (as other writers place glyphs)."""
    code = obj.find("ofd:TextCode", NS)
    x, size = float(code.get("X")), float(obj.get("Size"))
    for ch in code.text:
        single = etree.SubElement(obj, f"{TAG}TextCode", X=f"{x:.3f}", Y=code.get("Y"))
        single.text = ch
        x += size if re.match(r"[^\x00-\x7f]", ch) else size / 2
    obj.remove(code)


@pytest.mark.parametrize("change", [_scaled_by_ctm, _a_code_per_character])
def test_text_placed_as_other_writers_place_it_reads_the_same(change) -> None:
    syn = make_report(11, template="2021", year=2023, faults=("balance",))
    data = _rewrite(syn.render("ofd"), change)
    report = gongkai.parse(data, name="report.ofd")
    _check(syn, report)
    filled = {c: v for c, v in syn.truth["cells"].items() if v is not None}
    assert {c: report.cells[c] for c in filled} == filled


def test_the_page_image_shows_each_value_in_its_box() -> None:
    """The web app's page image of an OFD (drawn from the page's objects) has ink inside each value's box and none in an empty box."""
    from PIL import Image

    from gongkai.web.pages import PDF_SCALE, page_scale, render_page_png

    syn = make_report(9, template="2021", year=2023)
    data = syn.render("ofd")
    report = gongkai.parse(data, name="report.ofd")
    assert page_scale("ofd") == PDF_SCALE
    images = {}
    for cell, value in report.cells.items():
        where = report.provenance[cell]
        if value is None or where.page is None:
            continue
        if where.page not in images:
            images[where.page] = Image.open(io.BytesIO(render_page_png(data, where.page))).convert("L")
        image = images[where.page]
        assert image.size == (round(595.3 * PDF_SCALE), round(841.9 * PDF_SCALE))
        x0, top, x1, bottom = (round(v * PDF_SCALE) for v in where.bbox)
        assert image.crop((x0, top, x1, bottom)).getextrema()[0] < 128, cell  # dark pixels: the value is drawn there
    assert image.crop((10, 10, 100, 60)).getextrema() == (255, 255)  # the top margin is blank
    with pytest.raises(UnreadableError, match="没有第 99 页"):
        render_page_png(data, 99)
