"""extract/: map located tables onto canonical cell ids, parse numbers, read metadata."""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.report import Finding, Meta, Provenance, Section


@dataclass(slots=True)
class Extracted:
    meta: Meta
    sections: list[Section] = field(default_factory=list)
    cells: dict[str, int | float | None] = field(default_factory=dict)
    provenance: dict[str, Provenance] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)


def extract(layout) -> Extracted:
    return Extracted(Meta())
