"""The bodies an office audits, where each lies, and the tree of regions they hang in.

A body's division comes from the gazetteer (regions.py, jionlp's data): its 区划代码 when the roster
gives one, else the run of division names its name starts with, else its parent's. Below a county
the gazetteer has names, not codes, so a town is found by name under its county. The tree is
province → city → county → township, each body at its division, and a department under the
government of its division (its 上级 when the roster says so).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gongkai.regions import LEVEL_ZH, Division, gazetteer
from gongkai.store.bodies import normalise_name

TYPE_ZH = {"department": "部门", "government": "人民政府", "township": "乡镇", "street": "街道", "other": "其他"}
TYPE_WORDS = {
    **{zh: en for en, zh in TYPE_ZH.items()}, **{en: en for en in TYPE_ZH},
    "政府部门": "department", "政府": "government", "乡": "township", "镇": "township", "街道办事处": "street",
}  # fmt: skip


@dataclass(eq=False)
class Body:
    """One body of the roster (or, without a roster, one body the corpus has reports of)."""

    name: str
    body_type: str | None = None
    parent: str | None = None
    division_code: str | None = None  # as the roster gives it (6, 9 or 12 digits)
    division: Division | None = None
    line: int | None = None
    source: str = "roster"  # roster | corpus
    report_key: str | None = None  # a corpus body: its body key (reports.body_key)
    children: list[Body] = field(default_factory=list, repr=False)

    @property
    def level(self) -> str | None:
        return self.division.level if self.division else None

    @property
    def region_name(self) -> str | None:
        return self.division.full_name if self.division else None

    @property
    def region_code(self) -> str | None:
        return self.division.nearest_code if self.division else None

    @property
    def region_codes(self) -> tuple[str, ...]:
        """The codes of its division and those above it, and its own finer code (9 or 12 digits) if the roster gives one."""
        codes = list(dict.fromkeys(d.code for d in self.division.chain() if d.code)) if self.division else []
        if self.division_code and len(self.division_code) > 6:
            codes.append(self.division_code)
        return tuple(codes)

    @property
    def type_zh(self) -> str:
        return TYPE_ZH.get(self.body_type or "", "")

    @property
    def level_zh(self) -> str:
        return LEVEL_ZH.get(self.level or "", "")


# ── divisions ────────────────────────────────────────────────────────────────────────────────


def related(a: Division, b: Division) -> bool:
    """One division lies within the other (or they are the same)."""
    return a in b.chain() or b in a.chain()


def located(name: str) -> tuple[Division | None, int]:
    """The one division a (normalised) name starts with, and where its names end; (None, 0) if none or several."""
    matches = gazetteer().locate(name)
    return (matches[0].division, matches[0].end) if len(matches) == 1 else (None, 0)


def descend(division: Division | None, text: str) -> tuple[Division | None, str]:
    """Strip the names of `division` and those above it from the front of `text`, then step down into the
    towns or districts `text` goes on to name: 望城区 + 乔口镇政府 → 乔口镇 + 政府."""
    if division is None:
        return None, text
    stripped = True
    while stripped:
        stripped = False
        for d in division.chain():  # full names only: normalise_name has written short province names out
            if text.startswith(d.name):
                text, stripped = text[len(d.name):], True
    while True:
        child = next((c for c in division.children if text.startswith(c.name) and (len(text) > len(c.name) or c.level == "township")), None)
        if child is None:
            return division, text
        division, text = child, text[len(child.name):]


def division_for(name: str, code: str | None = None, parent: Division | None = None) -> tuple[Division | None, str | None]:
    """The division of a body from its code, its name or its parent; and a problem (Chinese) when they disagree."""
    text = normalise_name(name)
    found, _ = located(text)
    if code:
        by_code = gazetteer().by_code(code)
        if by_code is None:
            return None, f"区划代码“{code}”不是已知的行政区划"
        if found is not None and not related(found, by_code):
            return None, f"名称中的“{found.full_name}”与区划代码 {code}（{by_code.full_name}）不符"
        division = found if found is not None and by_code in found.chain() else by_code
        division, _ = descend(division, text)  # a town named after its county's code: 430112 + 乔口镇人民政府
        return division, None
    if found is not None:
        return found, None
    if parent is not None:
        division, _ = descend(parent, text)
        return division, None
    return None, None


def match_key(name: str, division: Division | None) -> tuple[int | None, str]:
    """What two spellings of one body share: its division and the rest of its normalised name."""
    text = normalise_name(name)
    if division is None:
        division, end = located(text)
        text = text[end:]
    division, rest = descend(division, text)
    return (id(division) if division else None), rest


# ── the tree ─────────────────────────────────────────────────────────────────────────────────


@dataclass(eq=False)
class RegionNode:
    """A division of the tree with the bodies at it (departments nested under their government) and the divisions below."""

    division: Division | None  # None: bodies whose region is not known
    bodies: list[Body] = field(default_factory=list)
    children: list[RegionNode] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.division.name if self.division else "（地区不明）"

    @property
    def code(self) -> str | None:
        return self.division.code if self.division else None

    @property
    def level(self) -> str | None:
        return self.division.level if self.division else None

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def to_dict(self) -> dict:
        def body(b: Body) -> dict:
            return {"name": b.name, "body_type": b.body_type, "type_zh": b.type_zh, "division_code": b.division_code,
                    "children": [body(c) for c in b.children]}  # fmt: skip

        return {"name": self.name, "code": self.code, "level": self.level, "level_zh": LEVEL_ZH.get(self.level or "", ""),
                "bodies": [body(b) for b in self.bodies], "children": [c.to_dict() for c in self.children]}  # fmt: skip


def nest(bodies: list[Body]) -> list[Body]:
    """Departments (and any body whose 上级 sits at the same division) under their parent; returns the tops."""
    by_name = {b.name: b for b in bodies}
    for b in bodies:
        b.children = []
    governments: dict[int, list[Body]] = {}
    for b in bodies:
        if b.body_type == "government" and b.division is not None:
            governments.setdefault(id(b.division), []).append(b)
    tops = []
    for b in bodies:
        parent = by_name.get(b.parent) if b.parent else None
        if parent is None and b.body_type == "department" and b.division is not None:
            here = governments.get(id(b.division), [])
            parent = here[0] if len(here) == 1 else None
        if parent is not None and parent is not b and parent.division is b.division:
            parent.children.append(b)
        else:
            tops.append(b)
    return tops


def region_tree(bodies: list[Body]) -> list[RegionNode]:
    """Provinces (and a node for bodies of unknown region), each with the divisions and bodies under it."""
    nodes: dict[int, RegionNode] = {}
    roots: list[RegionNode] = []
    unknown = RegionNode(None)

    def node(division: Division) -> RegionNode:
        key = id(division)
        if key not in nodes:
            nodes[key] = RegionNode(division)
            if division.parent is None:
                roots.append(nodes[key])
            else:
                node(division.parent).children.append(nodes[key])
        return nodes[key]

    for body in nest(bodies):
        (node(body.division) if body.division else unknown).bodies.append(body)
    for n in nodes.values():
        n.children.sort(key=lambda c: (c.code or "", c.name))
        n.bodies.sort(key=_body_order)
    roots.sort(key=lambda c: c.code or "")
    if unknown.bodies:
        unknown.bodies.sort(key=_body_order)
        roots.append(unknown)
    return roots


_TYPE_ORDER = {"government": 0, "department": 1, "township": 2, "street": 3, "other": 4}


def _body_order(body: Body) -> tuple:
    return (_TYPE_ORDER.get(body.body_type or "other", 5), body.name)
