"""locate/: find the six sections and the three tables in a `Document`."""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.document import Document


@dataclass(slots=True)
class Layout:
    document: Document
    sections: list = field(default_factory=list)
    tables: dict = field(default_factory=dict)


def locate(document: Document) -> Layout:
    return Layout(document)
