"""One body across years: normalise agency names and link the reports of the same body.

`平潭综合实验区管理委员会`, `平潭综合实验区管委会` and `福建省平潭综合实验区管委会（办公室）`
are one body; `北京市朝阳区小关街道办事处` and `朝阳区小关街道` too. A configurable aliases
file (alias<TAB>canonical name, one a line) settles what the rules below cannot.

A name that says no place (`区民政局`, `示范区教育局`, `民政局`, with no region in the report) is
a body every county has: such reports are never joined by name alone. Their key is the name and
the folder the file lies in (`区民政局@/data/长沙县`): reports of one folder are taken as one body
(a crawl keeps a body's files together), those of other folders as other bodies; a file with no
folder (an upload) is a body of its own (`区民政局@file:` and its sha256). `agency_keys.folder`
says which reports were keyed so.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections import defaultdict
from pathlib import Path

import pyarrow as pa

from gongkai.errors import GongkaiError

# province-level names, full and short; a short prefix is written out in full before comparing
PROVINCES = (
    ("北京市", "北京"), ("天津市", "天津"), ("上海市", "上海"), ("重庆市", "重庆"),
    ("河北省", "河北"), ("山西省", "山西"), ("辽宁省", "辽宁"), ("吉林省", "吉林"),
    ("黑龙江省", "黑龙江"), ("江苏省", "江苏"), ("浙江省", "浙江"), ("安徽省", "安徽"),
    ("福建省", "福建"), ("江西省", "江西"), ("山东省", "山东"), ("河南省", "河南"),
    ("湖北省", "湖北"), ("湖南省", "湖南"), ("广东省", "广东"), ("海南省", "海南"),
    ("四川省", "四川"), ("贵州省", "贵州"), ("云南省", "云南"), ("陕西省", "陕西"),
    ("甘肃省", "甘肃"), ("青海省", "青海"), ("台湾省", "台湾"),
    ("内蒙古自治区", "内蒙古"), ("广西壮族自治区", "广西"), ("西藏自治区", "西藏"),
    ("宁夏回族自治区", "宁夏"), ("新疆维吾尔自治区", "新疆"),
    ("香港特别行政区", "香港"), ("澳门特别行政区", "澳门"),
)
# the same body written two ways (longest first)
SUFFIX_FORMS = (
    ("街道办事处", "街道"),
    ("人民政府办公室", "政府办"),
    ("人民政府办公厅", "政府办公厅"),
    ("政府办公室", "政府办"),
    ("人民政府", "政府"),
    ("管理委员会", "管委会"),
)
GENERIC_STARTS = ("政府", "管委会", "办公", "人大", "政协", "党委", "县委", "市委", "区委")
# a first region unit that names no place: a kind of zone, or a reference to "this" region
GENERIC_UNITS = frozenset({
    "新区", "开发区", "高新区", "经开区", "示范区", "实验区", "试验区", "园区", "保税区", "自贸区", "度假区", "风景区", "林区", "矿区",
    "本区", "本市", "本县", "本州", "我区", "我市", "我县", "全区", "全市", "全县", "该区", "该市", "该县",
})  # fmt: skip
# a name that starts with a bare level word names no place: 区卫健局, 县民政局, 市教育局
BARE_LEVELS = ("区", "县", "市", "州", "盟", "旗", "镇", "乡", "省", "街道")
# a local body's own words: a name of nothing else (民政局, 教育厅, 卫生健康委员会) is found in every region
LOCAL_ENDINGS = ("局", "厅", "委", "委员会", "办", "办公室", "中心", "政府", "管委会")
NATIONAL_STARTS = ("国家", "国务院", "中国", "中华", "全国", "中央", "最高")
_BRACKETED = re.compile(r"[（(【\[〔][^）)】\]〕]*[）)】\]〕]")
_NOISE = re.compile(r"[\s\u3000·•・,，.。、:：;；\"“”'‘’\-—_/|《》<>]+")
# one leading region unit: 广州市 / 海珠区 / 新疆维吾尔自治区 / 延边朝鲜族自治州 …
_REGION_UNIT = re.compile(r"^(.{1,10}?(?:自治区|自治州|自治县|特别行政区|省|市|地区|盟|区|县|州|旗))(?![省市区县州盟旗])")


def load_aliases(path: str | Path) -> dict[str, str]:
    """alias → canonical name from a file of `alias<TAB>canonical` lines (# comments, blank lines ok)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise GongkaiError(f"无法读取机关名别名文件 {path}（{exc.strerror or exc}）") from None
    except UnicodeDecodeError:
        raise GongkaiError(f"机关名别名文件 {path} 不是 UTF-8 文本") from None
    aliases = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        alias, _, canonical = _split_alias(line)
        if alias and canonical:
            aliases[alias] = canonical
    return aliases


def _split_alias(line: str) -> tuple[str, str, str]:
    for sep in ("\t", "=", "  "):
        if sep in line:
            alias, canonical = line.split(sep, 1)
            return alias.strip(), sep, canonical.strip()
    return line, "", ""


def normalise_name(name: str, aliases: dict[str, str] | None = None) -> str:
    """The comparable form of an agency name: no brackets, spacing or punctuation; one form per suffix."""
    text = unicodedata.normalize("NFKC", name).strip()
    if aliases:
        text = aliases.get(text, text)
    text = _BRACKETED.sub("", text)
    text = _NOISE.sub("", text)
    for long, short in SUFFIX_FORMS:
        text = text.replace(long, short)
    for full, short in PROVINCES:
        if text.startswith(short) and not text.startswith(full):
            rest = text[len(short):]
            if rest and not rest.startswith(("市", "省", "自治区")):  # 吉林市 is a city of 吉林省
                text = full + rest
            break
    return text


def region_units(name: str) -> list[str]:
    """The leading region units of a normalised name: 广州市海珠区官洲街道 → [广州市, 海珠区]."""
    units = []
    rest = name
    while (match := _REGION_UNIT.match(rest)) and len(rest) > len(match.group(1)):
        units.append(match.group(1))
        rest = rest[len(match.group(1)):]
    return units


def shorter_forms(name: str) -> list[str]:
    """The name with one, two, … leading region units dropped, while it still names somebody.

    政府办公厅 (上海市政府办公厅 without 上海市) names no one: every region has one.
    """
    forms = []
    rest = name
    for unit in region_units(name):
        rest = rest[len(unit):]
        if len(rest) >= 4 and not rest.startswith(GENERIC_STARTS):
            forms.append(rest)
    return forms


def full_name(agency: str, region: str | None, aliases: dict[str, str] | None = None) -> str:
    """The normalised agency name, with the report's region in front when the name lacks it."""
    name = normalise_name(agency, aliases)
    if not region:
        return name
    region = normalise_name(region)
    if not region or name.startswith(region):
        return name
    units = region_units(region + "X") or [region]
    for i, unit in enumerate(units):
        if name.startswith(unit):  # 朝阳区小关街道 in region 北京市朝阳区
            return "".join(units[:i]) + name
    return region + name


def placeless(name: str) -> bool:
    """A normalised name that names no place, so that every region may have a body of that name."""
    units = region_units(name)
    if units:
        return units[0] in GENERIC_UNITS
    if name.startswith(BARE_LEVELS) or name.startswith(GENERIC_STARTS):
        return True
    return name.endswith(LOCAL_ENDINGS) and not name.startswith(NATIONAL_STARTS)


def folder_key(name: str, path: str | None, sha256: str) -> tuple[str, str]:
    """(folder, body key) of a report whose name says no place: the name at the file's folder, or at the file."""
    folder = os.path.dirname(path or "")
    if not folder:
        folder = f"file:{sha256}"
    return folder, f"{name}@{folder}"


def body_keys(names: list[str]) -> dict[str, str]:
    """Map each name to its body key: a short form is folded into the one longer name it abbreviates."""
    names = sorted(set(names))
    parents: dict[str, set[str]] = defaultdict(set)
    for name in names:
        for form in shorter_forms(name):
            parents[form].add(name)
    keys = {}
    for name in names:
        candidates = parents.get(name, set())
        # keep only the longest spellings: 海珠区官洲街道 is itself a short form of 广州市海珠区官洲街道
        widest = {c for c in candidates if not any(c in shorter_forms(other) for other in candidates if other != c)}
        keys[name] = widest.pop() if len(widest) == 1 else name
    return keys


def link_bodies(con) -> None:
    """Set `reports.body_key`, and rebuild `agency_keys` and `bodies` (inside the caller's transaction)."""
    aliases = dict(con.execute("SELECT alias, canonical FROM name_aliases").fetchall())
    pairs = con.execute(
        "SELECT DISTINCT agency, region FROM reports WHERE agency IS NOT NULL AND trim(agency) <> '' ORDER BY ALL"
    ).fetchall()
    names = {(agency, region): full_name(agency, region, aliases) for agency, region in pairs}
    placed = {pair: name for pair, name in names.items() if not placeless(name)}
    keys = body_keys(list(placed.values()))
    rows = [(agency, region, None, keys[name]) for (agency, region), name in placed.items()]
    by_file = []  # (sha256, body key) of the reports whose name says no place
    if len(placed) < len(names):
        folders = set()
        found = con.execute(
            "SELECT sha256, agency, region, path FROM reports WHERE agency IS NOT NULL AND trim(agency) <> '' ORDER BY sha256").fetchall()
        for sha, agency, region, path in found:
            name = names[(agency, region)]
            if (agency, region) in placed:
                continue
            folder, key = folder_key(name, path, sha)
            by_file.append((sha, key))
            folders.add((agency, region, folder, key))
        rows += sorted(folders, key=lambda r: (r[0], r[1] or "", r[2]))
    mapping = pa.table(
        {
            "agency": [r[0] for r in rows],
            "region": [r[1] for r in rows],
            "folder": [r[2] for r in rows],
            "body_key": [r[3] for r in rows],
        },
        schema=pa.schema([("agency", pa.string()), ("region", pa.string()), ("folder", pa.string()), ("body_key", pa.string())]),
    )
    con.register("new_agency_keys", mapping)
    con.execute("DELETE FROM agency_keys")
    con.execute("INSERT INTO agency_keys BY NAME SELECT * FROM new_agency_keys")
    con.unregister("new_agency_keys")
    con.execute(
        "UPDATE reports SET body_key = k.body_key FROM agency_keys k "
        "WHERE k.folder IS NULL AND reports.agency = k.agency AND reports.region IS NOT DISTINCT FROM k.region "
        "AND reports.body_key IS DISTINCT FROM k.body_key"
    )
    if by_file:
        con.register("file_keys", pa.table({"sha256": [s for s, _ in by_file], "body_key": [k for _, k in by_file]}))
        con.execute(
            "UPDATE reports SET body_key = f.body_key FROM file_keys f "
            "WHERE reports.sha256 = f.sha256 AND reports.body_key IS DISTINCT FROM f.body_key"
        )
        con.unregister("file_keys")
    con.execute("UPDATE reports SET body_key = NULL WHERE body_key IS NOT NULL AND (agency IS NULL OR trim(agency) = '')")
    con.execute("DELETE FROM bodies")
    con.execute(
        "INSERT INTO bodies "
        "WITH spelled AS (SELECT body_key, agency, count(*) AS n FROM reports WHERE body_key IS NOT NULL GROUP BY ALL) "
        "SELECT r.body_key, any_value(s.name), min(r.region), min(r.body_type), min(r.year), max(r.year), count(*) "
        "FROM reports r JOIN (SELECT body_key, first(agency ORDER BY n DESC, agency) AS name FROM spelled GROUP BY body_key) s "
        "USING (body_key) GROUP BY r.body_key ORDER BY r.body_key"
    )
