"""Random reporting bodies (province, city, district, body type) and their publication deadlines."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

BODY_TYPES = ("department", "government", "township", "street", "other")

PROVINCES = (
    "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省", "安徽省", "福建省", "江西省",
    "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省", "云南省", "陕西省",
    "甘肃省", "青海省", "广西壮族自治区", "内蒙古自治区", "宁夏回族自治区",
)  # fmt: skip
_CITY_STEMS = (
    "江州", "云阳", "临川", "安平", "清河", "长宁", "东阳", "南安", "宁远", "丰城", "泰和", "永安", "德阳", "合江",
    "兴平", "林州", "武城", "汉川", "龙泉", "桂平", "昌乐", "平湖", "乐清", "海门", "金沙", "凤城", "白河",
)  # fmt: skip
_DISTRICT_STEMS = (
    "城东", "城西", "新华", "和平", "青山", "东湖", "西湖", "鼓楼", "河西", "开发", "高新", "滨江", "北湖", "南川",
    "中山", "建设", "人民", "长安", "兴隆", "红旗", "金水", "望城", "秀峰", "江南",
)  # fmt: skip
_COUNTY_STEMS = (
    "安远", "宁陵", "永和", "石门", "桐柏", "通山", "盐边", "新化", "德安", "寿宁", "平山", "会宁", "富平", "定远",
)  # fmt: skip
_TOWN_STEMS = (
    "大柳", "石桥", "杨林", "梅子", "新集", "马坊", "黄庄", "白沙", "清溪", "龙门", "双河", "高桥", "三合", "柳树",
    "桃源", "官渡", "张集", "沙河", "永丰", "太平", "五里", "李家", "花园", "北坡",
)  # fmt: skip
_STREET_STEMS = (
    "和平路", "解放路", "人民路", "建设路", "驼峰路", "北京街", "新华", "东关", "西关", "南门", "北苑", "长青",
    "滨河", "文化路", "站前", "东城", "青年路", "朝阳", "胜利", "光明",
)  # fmt: skip
DEPARTMENTS = (
    "卫生健康局", "教育局", "民政局", "司法局", "财政局", "人力资源和社会保障局", "自然资源局", "生态环境局",
    "住房和城乡建设局", "交通运输局", "水务局", "农业农村局", "商务局", "文化和旅游局", "应急管理局",
    "市场监督管理局", "统计局", "医疗保障局", "城市管理综合执法局", "退役军人事务局", "发展和改革局",
)  # fmt: skip
_OTHER_BODIES = (
    "经济技术开发区管理委员会", "高新技术产业开发区管理委员会", "住房公积金管理中心", "公共资源交易中心",
    "机关事务管理局", "工业园区管理委员会",
)  # fmt: skip

# Default deadlines (month, day) of the year after the report year (template.md §1; rules.md meta.published_late).
DEADLINES = {
    "department": (1, 31),
    "government": (3, 31),
    "township": (1, 31),
    "street": (1, 31),
    "other": (1, 31),
}


@dataclass(frozen=True, slots=True)
class Agency:
    name: str
    body_type: str
    province: str
    region: str  # province + city (+ district/county) the body belongs to
    short: str  # how the narrative refers to itself: 我局, 我镇, 本街道 …


def make_agency(rng: random.Random, body_type: str | None = None) -> Agency:
    body_type = body_type or rng.choices(BODY_TYPES, weights=(40, 15, 18, 17, 10))[0]
    province = rng.choice(PROVINCES)
    city = rng.choice(_CITY_STEMS) + "市"
    county = rng.choice(_DISTRICT_STEMS) + "区" if rng.random() < 0.6 else rng.choice(_COUNTY_STEMS) + "县"
    prefix = province if rng.random() < 0.2 else ""
    if body_type == "department":
        dept = rng.choice(DEPARTMENTS)
        if rng.random() < 0.3:  # a city-level department
            return Agency(f"{prefix}{city}{dept}", body_type, province, province + city, "我局")
        return Agency(
            f"{prefix}{city}{county}{dept}",
            body_type,
            province,
            province + city + county,
            "我局",
        )
    if body_type == "government":
        if rng.random() < 0.2:
            return Agency(
                f"{prefix}{city}人民政府",
                body_type,
                province,
                province + city,
                "市政府",
            )
        short = "区政府" if county.endswith("区") else "县政府"
        return Agency(
            f"{prefix}{city}{county}人民政府",
            body_type,
            province,
            province + city + county,
            short,
        )
    if body_type == "township":
        town = rng.choice(_TOWN_STEMS) + rng.choice(("镇", "镇", "乡"))
        return Agency(
            f"{prefix}{city}{county}{town}人民政府",
            body_type,
            province,
            province + city + county,
            "我" + town[-1],
        )
    if body_type == "street":
        street = rng.choice(_STREET_STEMS) + "街道办事处"
        return Agency(
            f"{prefix}{city}{county}{street}",
            body_type,
            province,
            province + city + county,
            "本街道",
        )
    body = rng.choice(_OTHER_BODIES)
    short = "我委" if body.endswith("委员会") else "我中心" if body.endswith("中心") else "我局"
    return Agency(f"{prefix}{city}{body}", "other", province, province + city, short)


def deadline(body_type: str, year: int) -> date:
    month, day = DEADLINES[body_type]
    return date(year + 1, month, day)


def publication_date(rng: random.Random, body_type: str, year: int, *, late: bool = False) -> date:
    due = deadline(body_type, year)
    if late:
        return due + timedelta(days=rng.randint(1, 150))
    earliest = date(year + 1, 1, 4)
    return earliest + timedelta(days=rng.randint(0, (due - earliest).days))
