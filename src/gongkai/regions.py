"""China's administrative divisions, from a maintained data package (jionlp's gazetteer), never a hand-written table.

The data: every province, prefecture-level city and county with its GB/T 2260 code (6 digits),
the townships and streets under each county by name (the package has no codes below counties),
and the renames of recent years (an old county name still finds its division). jionlp itself is
never imported (it is a large NLP toolkit); only its data file is read, once per process.

    >>> g = gazetteer()
    >>> g.by_code("110105").chain_names()
    ('北京市', '北京市', '朝阳区')
    >>> [(m.division.name, m.division.county_code, m.end) for m in g.locate("北京市朝阳区小关街道办事处")]
    [('小关街道', '110105', 10)]
"""

from __future__ import annotations

import importlib.util
import io
import re
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from gongkai.errors import GongkaiError

LEVELS = ("province", "city", "county", "township")
LEVEL_ZH = {"province": "省级", "city": "地级", "county": "县级", "township": "乡级"}
# a prefecture-level entry that is no city: the counties directly under a province (省直辖县级行政区划)
_NO_CITY = re.compile(r"直辖|行政区划")
_LONGEST_NAME = 16


@dataclass(eq=False, slots=True)
class Division:
    """One administrative division: code (6 digits; None below counties), full name, short name, level, parent."""

    code: str | None
    name: str
    short: str
    level: str
    parent: Division | None = None
    children: list[Division] = field(default_factory=list, repr=False)

    def chain(self) -> tuple[Division, ...]:
        """This division and those above it, the province first."""
        out, node = [], self
        while node is not None:
            out.append(node)
            node = node.parent
        return tuple(reversed(out))

    def chain_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.chain())

    def at(self, level: str) -> Division | None:
        """The division of `level` above (or at) this one, or None (a county directly under its province has no city)."""
        return next((d for d in self.chain() if d.level == level), None)

    @property
    def county_code(self) -> str | None:
        """The code of this division, or of the county it lies in (a township's own code is not in the data)."""
        return next((d.code for d in reversed(self.chain()) if d.code), None)

    @property
    def full_name(self) -> str:
        """The names from the province down, a municipality's city level not repeated: 北京市朝阳区."""
        names: list[str] = []
        for name in self.chain_names():
            if not names or names[-1] != name:
                names.append(name)
        return "".join(names)

    def __repr__(self) -> str:
        return f"Division({self.code}, {self.full_name}, {self.level})"


@dataclass(frozen=True, slots=True)
class RegionMatch:
    """Divisions named one after another at the start of a text: the deepest one, and how many characters they took."""

    division: Division
    end: int

    @property
    def text_levels(self) -> tuple[str, ...]:
        return tuple(d.level for d in self.division.chain())


class Gazetteer:
    """The divisions of the data package, found by code, by name, or as the run of names that starts a text."""

    def __init__(self, provinces: list[Division], renames: dict[str, list[Division]]):
        self.provinces = provinces
        self._by_code: dict[str, Division] = {}
        self._by_name: dict[str, list[Division]] = {}
        for division in self.walk():
            if division.code:
                self._by_code.setdefault(division.code, division)  # a municipality's city level shares the province's code
            self._by_name.setdefault(division.name, []).append(division)
        for old, divisions in renames.items():
            for division in divisions:
                if division not in self._by_name.get(old, ()):
                    self._by_name.setdefault(old, []).append(division)

    def walk(self, level: str | None = None):
        """Every division, depth first (only those of `level`, if given)."""
        stack = list(reversed(self.provinces))
        while stack:
            node = stack.pop()
            if level is None or node.level == level:
                yield node
            stack.extend(reversed(node.children))

    def by_code(self, code: str) -> Division | None:
        """The division of a 6-digit code, or the county of a 9- or 12-digit code (its first six digits)."""
        code = (code or "").strip()
        if not code.isdigit() or len(code) not in (6, 9, 12):
            return None
        division = self._by_code.get(code[:6])
        if division is None and code[2:6] == "0000":
            return None
        return division

    def named(self, name: str, level: str | None = None) -> list[Division]:
        """Divisions whose full name (or a former name) is `name`."""
        return [d for d in self._by_name.get(name, ()) if level is None or d.level == level]

    def locate(self, text: str, start: int = 0) -> list[RegionMatch]:
        """The longest runs of nested division names at `text[start:]`, each name a child (or grandchild) of the one before.

        Several matches mean the names are ambiguous (two 朝阳区); none, that the text does not start with a division.
        A province may be given by its short name (湖南); a township is only taken straight after its county
        (or its city, where a city has no counties), since township names repeat across the country.
        """
        best: list[RegionMatch] = []
        for division, end in self._heads(text, start):
            for match in self._extend(text, division, end):
                if not best or match.end > best[0].end:
                    best = [match]
                elif match.end == best[0].end and all(m.division is not match.division for m in best):
                    best.append(match)
        return best

    # the walk of `locate` --------------------------------------------------

    def _names_at(self, text: str, start: int):
        """(name, end) for every known name that starts at `start`, longest first."""
        for end in range(min(len(text), start + _LONGEST_NAME), start + 1, -1):
            name = text[start:end]
            if name in self._by_name:
                yield name, end

    def _heads(self, text: str, start: int):
        """The first division of a run: a province, city or county by its full name, or a province by its short name."""
        for name, end in self._names_at(text, start):
            for division in self._by_name[name]:
                if division.level != "township":
                    yield division, end
        for province in self.provinces:
            if province.short and text.startswith(province.short, start) and not text.startswith(province.name, start):
                yield province, start + len(province.short)

    def _extend(self, text: str, division: Division, end: int):
        """Every longest continuation of a run ending at `division`."""
        grown = False
        for name, after in self._names_at(text, end):
            for child in self._by_name[name]:
                if self._below(child, division) and (child.level != "township" or child.parent is division):
                    grown = True
                    yield from self._extend(text, child, after)
        if not grown:
            yield RegionMatch(division, end)

    @staticmethod
    def _below(child: Division, parent: Division) -> bool:
        """`child` lies under `parent`, at most one level skipped (a county named straight after its province)."""
        node, steps = child.parent, 0
        while node is not None and steps < 2:
            if node is parent:
                return True
            node, steps = node.parent, steps + 1
        return False


def _data_file() -> Path:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise GongkaiError("缺少行政区划数据（jionlp 软件包未安装；请运行 make install）")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _read_tree(lines) -> list[Division]:
    provinces: list[Division] = []
    stack: list[Division | None] = [None, None, None]
    for raw in lines:
        line = raw.rstrip("\r\n")
        depth = len(line) - len(line.lstrip("\t"))
        if depth > 3 or not line.strip():
            continue  # villages and blank lines
        parts = line.strip("\t").split("\t")
        name = parts[0].strip()
        code = parts[1].strip() if len(parts) > 1 and parts[1].strip().isdigit() else None
        short = parts[2].strip() if len(parts) > 2 else ""
        if depth == 0:
            node = Division(code, name, short, "province")
            provinces.append(node)
        else:
            parent = stack[depth - 1]
            if parent is None:
                continue
            if depth in (1, 2) and _NO_CITY.search(name):
                # counties directly under a province hang from the province, townships directly under a city from the city
                stack[depth] = parent
                continue
            node = Division(code, name, short, LEVELS[depth], parent)
            parent.children.append(node)
        if depth < 3:
            stack[depth] = node
            for deeper in range(depth + 1, 3):
                stack[deeper] = None
    return provinces


def _renames(lines, provinces: list[Division]) -> dict[str, list[Division]]:
    """Former names → the divisions they became (from the package's change list)."""
    current: dict[tuple[str, ...], Division] = {}
    for province in provinces:
        for division in [province, *province.children]:
            current[division.chain_names()] = division
            for county in division.children:
                current[county.chain_names()] = county
    out: dict[str, list[Division]] = {}
    for raw in lines:
        fields = raw.rstrip("\r\n").split("\t")
        if len(fields) < 4 or "=>" not in raw:
            continue
        before, after = raw.rstrip("\r\n").split("=>", 1)
        old = [f for i, f in enumerate(before.split("\t")[2:]) if i % 2 == 0]
        new = tuple(f for f in after.split("\t") if f)
        target = current.get(new) or current.get((new[0], *new[2:])) if new else None
        if target is not None and old and old[-1] != target.name:
            out.setdefault(old[-1], []).append(target)
    return out


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer, read once per process from the data package."""
    folder = _data_file()
    try:
        with zipfile.ZipFile(folder / "china_location.zip") as archive:
            name = next(n for n in archive.namelist() if n.endswith(".txt"))
            text = io.TextIOWrapper(archive.open(name), encoding="utf-8")
            provinces = _read_tree(text)
        with open(folder / "china_location_change.txt", encoding="utf-8") as changes:
            renames = _renames(changes, provinces)
    except (OSError, zipfile.BadZipFile, StopIteration) as exc:
        raise GongkaiError(f"行政区划数据无法读取（{exc}）") from None
    return Gazetteer(provinces, renames)


def division_of(name: str | None) -> Division | None:
    """The one division an agency's name starts with (湖南省宁远县水市镇人民政府 → 水市镇), or None when it names none or several."""
    if not name:
        return None
    matches = gazetteer().locate(name)
    return matches[0].division if len(matches) == 1 else None
