"""extract/: map located tables onto canonical cell ids, parse numbers, read metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def extract(layout: Layout) -> Extracted:
    document = layout.document
    lines = [b.text for b in document.blocks if isinstance(b, Paragraph)]
    text = document.text()
    agency, year = meta_reader.read_agency_and_year(lines, text)
    template = detect_template(layout, year)
    meta = Meta(
        agency=agency,
        year=year,
        published=meta_reader.read_published(lines, year),
        template=template,
        body_type=meta_reader.body_type(agency),
        region=meta_reader.region(agency),
    )
    sections = build_sections(layout)
    if template is None:
        return Extracted(meta, sections, text=text, notes=list(document.notes))
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
    )


def build_sections(layout: Layout) -> list[Section]:
    """Each found section with its heading as printed and its text up to the next heading."""
    tokens = layout.tokens
    out: list[Section] = []
    marks = layout.sections
    for i, mark in enumerate(marks):
        end_token = marks[i + 1].token if i + 1 < len(marks) else len(tokens)
        pieces: list[str] = []
        first = tokens[mark.token]
        pieces.append(first.text[mark.offset :] if len(first.norm) == len(first.text) else "")
        last_block = first.block
        for token in tokens[mark.token + 1 : end_token + (1 if i + 1 < len(marks) else 0)]:
            if token.kind == "row":
                continue
            if token is tokens[end_token] if end_token < len(tokens) else False:
                nxt = marks[i + 1]
                head = token.text[: max(0, nxt.offset - len(nxt.heading))]
                pieces.append(("\n" if token.block != last_block else "") + head)
                break
            pieces.append(("\n" if token.block != last_block else "\t") + token.text)
            last_block = token.block
        where = first.where
        out.append(
            Section(
                number=mark.number,
                title=TITLES[mark.number],
                heading=mark.heading,
                text="".join(pieces).strip(),
                line=where.line,
            )
        )
    return out
