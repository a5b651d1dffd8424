"""extract/: map located tables onto canonical cell ids, parse numbers, read metadata."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from gongkai.document import Paragraph
from gongkai.extract import meta as meta_reader
from gongkai.extract.tables import TableResult, detect_template, extract_tables
from gongkai.locate import Layout
from gongkai.locate.sections import TITLES
from gongkai.report import Finding, Meta, Provenance, Section


@dataclass(slots=True)
class Extracted:
    """Everything the rules judge: the report's values plus what extraction knows about them."""

    meta: Meta
    sections: list[Section] = field(default_factory=list)
    cells: dict[str, int | float | None] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)  # extraction's own doubts
    tables: TableResult | None = None
    text: str = ""  # the whole text, for narrative checks
    notes: list[str] = field(default_factory=list)
    ocr: bool = False  # some of the text was read by OCR: a table not found may still be there
    partial: bool = False  # the reader left part of the file unread: what is missing may be there
    grid_sections: set[int] = field(default_factory=set)  # sections holding a ruled table of some kind

    def corrected(self, values: dict[str, int | float | None]) -> Extracted:
        """This reading with the cells a person corrected (review): their values replace what was printed, and
        the parser's own doubts about exactly those cells (blank, not placed, glued, low confidence) are settled."""
        settled = {c for c in values if c in self.cells}
        if not settled:
            return self
        cells = {**self.cells, **{c: values[c] for c in settled}}
        findings = [f for f in self.findings if not (f.cells and set(f.cells) <= settled)]
        tables = self.tables
        if tables is not None:
            tables = replace(
                tables, cells=cells,
                blank=[c for c in tables.blank if c not in settled],
                unplaced=[c for c in tables.unplaced if c not in settled],
                unsplittable=[(spec, run) for spec, run in tables.unsplittable if not set(spec.cells) <= settled],
                impossible=[(rule, cs, runs) for rule, cs, runs in tables.impossible if not set(cs) <= settled],
                rows_found=tables.rows_found | {c.rsplit(".", 1)[0] for c in settled},
            )  # fmt: skip
        return replace(self, cells=cells, findings=findings, tables=tables)


def extract(layout: Layout) -> Extracted:
    document = layout.document
    lines = [b.text for b in document.blocks if isinstance(b, Paragraph)]
    text = document.text()
    agency, year = meta_reader.read_agency_and_year(lines, text)
    template = detect_template(layout, year)
    where = meta_reader.place(agency)
    meta = Meta(
        agency=agency,
        year=year,
        published=meta_reader.read_published(lines, year),
        template=template,
        body_type=meta_reader.body_type(agency),
        region=where.region,
        division_code=where.division_code,
        province=where.province,
        city=where.city,
        county=where.county,
    )
    sections = build_sections(layout)
    seen = {"ocr": _was_ocred(document), "partial": document.partial, "grid_sections": _grid_sections(layout)}
    if template is None:
        return Extracted(meta, sections, text=text, notes=list(document.notes), **seen)
    tables = extract_tables(layout, template)
    return Extracted(
        meta,
        sections,
        cells=tables.cells,
        provenance=tables.provenance,
        findings=list(tables.findings),
        tables=tables,
        text=text,
        notes=list(document.notes),
        **seen,
    )


def _was_ocred(document) -> bool:
    """Any text read by OCR carries a confidence."""
    for block in document.blocks:
        if isinstance(block, Paragraph):
            if block.confidence is not None:
                return True
        elif any(cell.confidence is not None for cell in block.cells):
            return True
    return False


def _grid_sections(layout: Layout) -> set[int]:
    """The sections (by number) in which a grid starts."""
    out: set[int] = set()
    marks = layout.sections
    k = -1
    for index, token in enumerate(layout.tokens):
        while k + 1 < len(marks) and marks[k + 1].token <= index:
            k += 1
        if token.kind == "row" and token.norm == "grid" and k >= 0:
            out.add(marks[k].number)
    return out


def build_sections(layout: Layout) -> list[Section]:
    """Each found section with its heading as printed and its text up to the next heading."""
    blocks = layout.document.blocks
    texts = [_block_text(b) for b in blocks]
    starts: list[tuple[int, int]] = []  # (block, character offset just after the heading)
    for mark in layout.sections:
        token = layout.tokens[mark.token]
        text = texts[token.block]
        at = text.find(token.text) if token.text else -1
        starts.append((token.block, at + mark.offset if at >= 0 else len(text)))
    out: list[Section] = []
    for i, mark in enumerate(layout.sections):
        block, offset = starts[i]
        end_block, end_offset = starts[i + 1] if i + 1 < len(starts) else (len(blocks), 0)
        if i + 1 < len(starts):
            end_offset -= len(layout.sections[i + 1].heading)
        if end_block == block:
            body = texts[block][offset : max(offset, end_offset)]
        else:
            pieces = [texts[block][offset:]] + texts[block + 1 : end_block]
            if end_block < len(blocks):
                pieces.append(texts[end_block][: max(0, end_offset)])
            body = "\n".join(pieces)
        out.append(
            Section(
                number=mark.number,
                title=TITLES[mark.number],
                heading=mark.heading,
                text=body.strip(),
                line=layout.tokens[mark.token].where.line,
            )
        )
    return out


def _block_text(block) -> str:
    if isinstance(block, Paragraph):
        return block.text
    return "\n".join("\t".join(c.text for c in row) for row in block.rows())
