"""Split runs of digits printed with no separator between cells ('801000081' = 80,1,0,0,0,0,81).

A split is accepted only where the table's identities allow exactly one; otherwise the caller
leaves the cells null and says so.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

MAX_DIGITS = 48  # beyond this the search is pointless: no unique split is plausible
MAX_TRIED = 200_000  # candidate splits tried; past this no split is claimed (30 digits in 15 parts have 77 million)

Check = Callable[[list[int]], bool]


def _parts(s: str, n: int) -> Iterator[list[int]]:
    """Every way to cut s into n integers without leading zeros ('-' may only start a part)."""
    if n == 1:
        if _valid(s):
            yield [int(s)]
        return
    for cut in range(1, len(s) - n + 2):
        head = s[:cut]
        if not _valid(head):
            if head.lstrip("-").startswith("0") and len(head.lstrip("-")) > 1:
                break  # a longer head keeps the leading zero
            continue
        for rest in _parts(s[cut:], n - 1):
            yield [int(head), *rest]


def _valid(part: str) -> bool:
    body = part.removeprefix("-")
    if not body.isdigit():
        return False
    if part.startswith("-") and body == "0":
        return False
    return body == "0" or not body.startswith("0")


def splits(run: str, n: int, check: Check | None = None, limit: int = 2) -> list[list[int]]:
    """Up to `limit` splits of `run` into n integers that pass `check` (2 found = ambiguous)."""
    s = "".join(run.split()).replace("−", "-")
    if not s or len(s) > MAX_DIGITS or len(s.replace("-", "")) < n:
        return []
    found: list[list[int]] = []
    for tried, parts in enumerate(_parts(s, n)):
        if tried >= MAX_TRIED:
            return []  # too many ways to cut the run to know that one is the only one
        if check is None or check(parts):
            found.append(parts)
            if len(found) >= limit:
                break
    return found


def row_sum(parts: list[int]) -> bool:
    """The applicant columns add up to 总计 (the last part)."""
    return sum(parts[:-1]) == parts[-1]


def block_sums(parts: list[int]) -> bool:
    """Each block of five: 总计 = 维持 + 纠正 + 其他 + 尚未审结."""
    return all(sum(parts[i : i + 4]) == parts[i + 4] for i in range(0, len(parts), 5))


def unique_split(run: str, n: int, check: Check | None = None) -> list[int] | None:
    found = splits(run, n, check)
    return found[0] if len(found) == 1 else None


# What a report's own text states about table 二's normative documents ('本年度制发的规范性文件88件',
# '现行有效行政规范性文件698件'): cell meaning (rows.COLUMN_MEANINGS) → pattern over simplified text.
_STATED_DOCS = (
    (("issued", "new_made"), re.compile(r"(?:制发|印发|制定)(?:的|了)?(?:行政)?规范性文件(?:共)?(\d+)件")),
    (("in_force",), re.compile(r"现行有效(?:的)?(?:行政)?规范性文件(?:共)?(\d+)件")),
    (("repealed",), re.compile(r"废止(?:的|了)?(?:行政)?规范性文件(?:共)?(\d+)件")),
)


def stated_docs(text: str) -> dict[str, int]:
    """The counts of normative documents the report's text states, by column meaning ('issued': 88). A
    meaning stated twice with different numbers is left out: the text does not say which one is the table's."""
    out: dict[str, int] = {}
    for meanings, pattern in _STATED_DOCS:
        numbers = {int(m.group(1)) for m in pattern.finditer(text)}
        if len(numbers) == 1:
            out.update(dict.fromkeys(meanings, numbers.pop()))
    return out


def agreeing(found: list[list[int]], meanings: list[str], stated: dict[str, int]) -> list[list[int]]:
    """The readings of a glued row whose columns agree with every number the text states for them."""
    known = [(i, stated[m]) for i, m in enumerate(meanings) if m in stated]
    if not known:
        return []
    return [parts for parts in found if all(parts[i] == value for i, value in known)]
