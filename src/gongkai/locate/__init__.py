"""locate/: find the six sections and the three tables in a `Document`.

The document becomes one token stream (`tokens.py`); sections are found by their headings
(`sections.py`) and each table is the stretch of tokens between its anchors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.document import Document
from gongkai.locate.sections import SectionMark, find_sections
from gongkai.locate.tokens import Token, tokenize

TABLES = ("active", "requests", "appeals")
_ANCHORS = {
    "active": ("第二十条", "本年制发件数", "本年新制作数量", "信息内容"),
    "requests": ("勾稽关系", "申请人情况", "本年新收"),
    "appeals": ("行政复议", "结果维持", "尚未审结", "结果纠正", "审结", "维持"),
}


@dataclass(slots=True)
class Layout:
    document: Document
    tokens: list[Token]
    sections: list[SectionMark]
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # table → token range [start, end)


def locate(document: Document) -> Layout:
    tokens = tokenize(document)
    sections = find_sections(tokens)
    return Layout(document, tokens, sections, find_tables(tokens, sections))


def find_tables(tokens: list[Token], sections: list[SectionMark]) -> dict[str, tuple[int, int]]:
    """Token ranges of the three tables, each after its section heading when there is one."""
    heading = {m.number: m.token for m in sections}
    starts: dict[str, int] = {}
    floor = 0
    for table, section in zip(TABLES, (2, 3, 4)):
        lower = max(floor, heading.get(section, floor))
        start = _first_anchor(tokens, table, lower)
        if start is None and heading.get(section) is not None:
            start = _first_anchor(tokens, table, floor)
        if start is not None:
            starts[table] = start
            floor = start + 1
    regions: dict[str, tuple[int, int]] = {}
    ordered = sorted(starts.items(), key=lambda kv: kv[1])
    for i, (table, start) in enumerate(ordered):
        end = ordered[i + 1][1] if i + 1 < len(ordered) else len(tokens)
        section_five = heading.get(5)
        if section_five is not None and start < section_five < end:
            end = section_five + 1  # the heading token may also hold the table's tail in glued text
        regions[table] = (start, end)
    return regions


def _first_anchor(tokens: list[Token], table: str, lower: int) -> int | None:
    for index in range(lower, len(tokens)):
        token = tokens[index]
        if token.kind == "text" and any(anchor in token.norm for anchor in _ANCHORS[table]):
            if table == "requests" and "本年新收" in token.norm and "。" in token.norm[-40:]:
                continue  # a sentence of the narrative, not the table's row label
            return index
    return None
