"""One body across years: normalise agency names and link the reports of the same body.

`平潭综合实验区管理委员会`, `平潭综合实验区管委会` and `福建省平潭综合实验区管委会（办公室）`
are one body; `北京市朝阳区小关街道办事处` and `朝阳区小关街道` too. A configurable aliases
file (alias<TAB>canonical name, one a line) settles what the rules below cannot.
"""

from __future__ import annotations

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
    keys = body_keys(list(names.values()))
    mapping = pa.table(
        {
            "agency": [a for a, _ in names],
            "region": [r for _, r in names],
            "body_key": [keys[n] for n in names.values()],
        },
        schema=pa.schema([("agency", pa.string()), ("region", pa.string()), ("body_key", pa.string())]),
    )
    con.register("new_agency_keys", mapping)
    con.execute("DELETE FROM agency_keys")
    con.execute("INSERT INTO agency_keys SELECT * FROM new_agency_keys")
    con.unregister("new_agency_keys")
    con.execute(
        "UPDATE reports SET body_key = k.body_key FROM agency_keys k "
        "WHERE reports.agency = k.agency AND reports.region IS NOT DISTINCT FROM k.region "
        "AND reports.body_key IS DISTINCT FROM k.body_key"
    )
    con.execute("UPDATE reports SET body_key = NULL WHERE body_key IS NOT NULL AND (agency IS NULL OR trim(agency) = '')")
    con.execute("DELETE FROM bodies")
    con.execute(
        "INSERT INTO bodies "
        "WITH spelled AS (SELECT body_key, agency, count(*) AS n FROM reports WHERE body_key IS NOT NULL GROUP BY ALL) "
        "SELECT r.body_key, any_value(s.name), min(r.region), min(r.body_type), min(r.year), max(r.year), count(*) "
        "FROM reports r JOIN (SELECT body_key, first(agency ORDER BY n DESC, agency) AS name FROM spelled GROUP BY body_key) s "
        "USING (body_key) GROUP BY r.body_key ORDER BY r.body_key"
    )

