"""Word documents: headings and paragraphs, and tables with real merged cells (gridSpan, vMerge).

The package is written as WordprocessingML directly: python-docx's cell-by-cell API and its
350 KB default styles are too slow for corpora of thousands of files, and the XML is what Word
itself writes for merged cells. python-docx and LibreOffice read the result.
"""

from __future__ import annotations

import io
import zipfile
from xml.sax.saxutils import escape

from gongkai.synth.model import Para, Synthetic
from gongkai.synth.template import Table

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_BORDERS = "".join(f'<w:{s} w:val="single" w:sz="4" w:space="0" w:color="000000"/>'
                   for s in ("top", "left", "bottom", "right", "insideH", "insideV"))  # fmt: skip
PAGE_WIDTH_TWIPS = 9000


def owners(table: Table) -> list[list[tuple]]:
    """For every grid position: (cell, top row, left col) of the cell covering it."""
    grid = table.positions()
    out: list[list[tuple | None]] = [[None] * len(grid[0]) for _ in grid]
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell is None:
                continue
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    out[r + dr][c + dc] = (cell, r, c)
    return out


def _run(text: str, size: int | None = None, bold: bool = False) -> str:
    props = ("<w:b/>" if bold else "") + (f'<w:sz w:val="{size}"/>' if size else "")
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{escape(text)}</w:t></w:r>'


NARROW_TWIPS = 400  # a number column two digits wide: longer numbers wrap inside the cell


def column_widths(key: str, n_cols: int, narrow: bool = False) -> list[int]:
    """Twips per grid column: label columns wide enough for the template's long labels."""
    labels = {"requests": [600, 800, 2800], "active": [2400]}.get(key, [])[:n_cols]
    if narrow and labels:
        numbers = [NARROW_TWIPS] * (n_cols - len(labels))
        spare = PAGE_WIDTH_TWIPS - sum(numbers) - sum(labels)
        return [labels[0], labels[1], labels[2] + spare][: len(labels)] + numbers if len(labels) == 3 else labels + numbers
    rest = (PAGE_WIDTH_TWIPS - sum(labels)) // max(1, n_cols - len(labels))
    return labels + [rest] * (n_cols - len(labels))


def table_xml(table: Table) -> str:
    grid = owners(table)
    n_cols = len(grid[0])
    widths = column_widths(table.key, n_cols, table.narrow)
    rows = []
    for r, row in enumerate(grid):
        cells = []
        c = 0
        while c < n_cols:
            cell, r0, _c0 = row[c]
            props = f'<w:tcW w:w="{sum(widths[c : c + cell.colspan])}" w:type="dxa"/>'
            if cell.colspan > 1:
                props += f'<w:gridSpan w:val="{cell.colspan}"/>'
            if cell.rowspan > 1:
                props += '<w:vMerge w:val="restart"/>' if r == r0 else "<w:vMerge/>"
            para = (
                '<w:p><w:pPr><w:jc w:val="center"/></w:pPr>'
                + (_run(cell.text, 18) if r == r0 and cell.text else "")
                + "</w:p>"
            )
            cells.append(f"<w:tc><w:tcPr>{props}</w:tcPr>{para}</w:tc>")
            c += cell.colspan
        rows.append("<w:tr>" + "".join(cells) + "</w:tr>")
    cols = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    return (
        f'<w:tbl {W}><w:tblPr><w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:jc w:val="center"/>'
        f'<w:tblBorders>{_BORDERS}</w:tblBorders><w:tblLayout w:type="fixed"/></w:tblPr>'
        f"<w:tblGrid>{cols}</w:tblGrid>" + "".join(rows) + "</w:tbl>"
    )


def _paragraph(block: Para) -> str:
    if block.kind == "title":
        return '<w:p><w:pPr><w:jc w:val="center"/></w:pPr>' + _run(block.text, 36, bold=True) + "</w:p>"
    if block.kind in ("heading", "subheading"):
        return "<w:p>" + _run(block.text, bold=True) + "</w:p>"
    if block.kind in ("sign", "meta"):
        align = "right" if block.kind == "sign" else "center"
        return f'<w:p><w:pPr><w:jc w:val="{align}"/></w:pPr>' + _run(block.text) + "</w:p>"
    return '<w:p><w:pPr><w:ind w:firstLine="480"/></w:pPr>' + _run(block.text) + "</w:p>"


_SECT = ('<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1247" w:bottom="1440" '
         'w:left="1247" w:header="851" w:footer="992" w:gutter="0"/></w:sectPr>')  # fmt: skip


def document_xml(syn: Synthetic) -> str:
    body = "".join(table_xml(b).replace(f" {W}", "") if isinstance(b, Table) else _paragraph(b) for b in syn.blocks)
    return (
        "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
        f'<w:document {W} xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<w:body>{body}{_SECT}</w:body></w:document>"
    )


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>'
    '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    "</Relationships>"
)
_DOC_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
    "</Relationships>"
)
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:styles {W}>'
    '<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Times New Roman" w:hAnsi="Times New Roman" '
    'w:eastAsia="宋体"/><w:sz w:val="24"/><w:lang w:eastAsia="zh-CN"/></w:rPr></w:rPrDefault>'
    '<w:pPrDefault><w:pPr><w:spacing w:after="0" w:line="360" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>'
    '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>'
    '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/></w:style>'
    "</w:styles>"
)


def _core(syn: Synthetic) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        f"<dc:title>{escape(syn.title)}</dc:title><dc:creator>{escape(syn.agency.name)}</dc:creator>"
        f'<dcterms:created xsi:type="dcterms:W3CDTF">{syn.published.isoformat()}T09:00:00Z</dcterms:created>'
        "</cp:coreProperties>"
    )


def render_docx(syn: Synthetic) -> bytes:
    """A minimal .docx package: content types, relationships, styles, core properties, document."""
    parts = {
        "[Content_Types].xml": _CONTENT_TYPES,
        "_rels/.rels": _RELS,
        "docProps/core.xml": _core(syn),
        "word/_rels/document.xml.rels": _DOC_RELS,
        "word/styles.xml": _STYLES,
        "word/document.xml": document_xml(syn),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(
                zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0)),
                data.encode("utf-8"),
                compress_type=zipfile.ZIP_DEFLATED,
            )
    return buf.getvalue()
