"""Numbers as printed → numbers: units, signs, thousands separators, 元 → 万元."""

from __future__ import annotations

import re

from gongkai.locate.normalize import short_cache

_SIGN_WORDS = {"增加": 1, "新增": 1, "增": 1, "减少": -1, "减": -1}
_NUMBER = re.compile(r"([-+−－]?)\s*(\d+(?:[.．]\d+)?)")


def parse_value(text: str, *, amount: bool = False, default_unit: str = "万元") -> float | int | None:
    """'46件' → 46, '增加5' → 5, '减少3' → -3, '251000元' → 25.1 (amount), '' → None."""
    return _parse_value(text, amount, default_unit)


@short_cache
def _parse_value(text: str, amount: bool, default_unit: str) -> float | int | None:
    raw = text.strip().replace(",", "").replace("，", "").replace(" ", "")
    if not raw:
        return None
    sign = 1
    for word, word_sign in _SIGN_WORDS.items():
        if raw.startswith(word):
            sign, raw = word_sign, raw[len(word) :]
            break
    raw = raw.removeprefix("共").removeprefix("计")
    match = _NUMBER.match(raw)
    if not match:
        return None
    if match.group(1) in ("-", "−", "－"):
        sign = -sign
    digits = match.group(2).replace("．", ".")
    rest = raw[match.end() :]
    if amount:
        value = float(digits)
        unit = "元" if rest.startswith("元") else "万元" if rest.startswith("万") else default_unit
        if unit == "元":
            value = value / 10000
        return round(sign * value, 6)
    value = float(digits) if "." in digits else int(digits)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return sign * value


def unit_in_header(text: str) -> str | None:
    """The money unit a header names: '本年收费金额（单位：万元）' → '万元'."""
    if "万元" in text:
        return "万元"
    if "元" in text:
        return "元"
    return None
