"""Properties (hypothesis): layout recovery, number parsing and glued splitting never crash and
never invent a value; a report cut off mid-table leaves its missing cells null and names them."""

from __future__ import annotations

import re
import time

import hostile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gongkai import parse
from gongkai.document import Document, Paragraph, Where
from gongkai.errors import GongkaiError
from gongkai.extract.glued import block_sums, row_sum, splits, unique_split
from gongkai.extract.values import parse_value
from gongkai.locate.normalize import char_normalise, collapse_spaces, label_key, simplify, squash
from gongkai.locate.tokens import tokenize

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = hostile.valid_report(11)
BASE_LINES = BASE.txt().decode().split("\n")

cjk_text = st.text(
    alphabet=st.sampled_from("0123456789０１２３４５６７８９.,，．-−－+ \t\u3000件元万增加减少共计一二三四五六七（）()、：:本年总计合计"),
    max_size=40,
)
any_text = st.one_of(cjk_text, st.text(max_size=40))


def digits_of(text: str) -> str:
    """The text's digit runs joined by '|' (full-width digits made ASCII, separators dropped)."""
    text = char_normalise(text).replace(",", "").replace("，", "")
    return "|".join(re.findall(r"\d+", text))


# ── number and label parsing ────────────────────────────────────────────────


@FAST
@given(any_text, st.booleans())
def test_parse_value_never_crashes_and_never_invents_digits(text, amount):
    value = parse_value(text, amount=amount)
    assert value is None or isinstance(value, int | float)
    if value is not None and not amount and isinstance(value, int):
        # spaces and commas are thousands separators ('1 000'); nothing else may join digits
        assert abs(value) in {int(run) for run in digits_of(text.replace(" ", "")).split("|") if run}


@FAST
@given(any_text)
def test_label_normalisers_never_crash(text):
    for normalise in (char_normalise, simplify, label_key, squash, collapse_spaces):
        assert isinstance(normalise(text), str)


# ── glued digit runs ─────────────────────────────────────────────────────────


@FAST
@given(st.text(alphabet="0123456789", min_size=1, max_size=24), st.integers(1, 15))
def test_every_split_reconcatenates_to_the_run(run, n):
    for parts in splits(run, n, limit=5):
        assert len(parts) == n and "".join(map(str, parts)) == run


@FAST
@given(st.lists(st.integers(0, 300), min_size=6, max_size=6))
def test_a_unique_split_satisfies_the_check(values):
    run = "".join(map(str, [*values, sum(values)]))
    parts = unique_split(run, 7, row_sum)
    if parts is not None:
        assert row_sum(parts) and "".join(map(str, parts)) == run


def test_a_long_run_gives_up_quickly_instead_of_hanging():
    """30+ ones in the 15-cell appeals row have tens of millions of cuts (it hung for hours)."""
    for n, check in ((15, block_sums), (7, row_sum)):
        started = time.process_time()  # this process's own CPU time: a busy machine does not count
        assert unique_split("1" * 40, n, check) is None
        assert time.process_time() - started < 10


# ── layout recovery ──────────────────────────────────────────────────────────


@FAST
@given(st.lists(st.one_of(any_text, st.sampled_from(BASE_LINES)), max_size=30))
def test_tokenize_never_crashes_and_keeps_to_the_text(lines):
    document = Document([Paragraph(line, Where(line=i + 1)) for i, line in enumerate(lines)], "txt")
    for token in tokenize(document):
        if token.kind == "value":
            assert set(digits_of(token.text).replace("|", "")) <= set(digits_of(lines[token.block]))
        if token.start is not None:  # a token knows its characters in its line
            assert lines[token.block][token.start : token.start + len(token.text)] == token.text


# ── whole parse of arbitrary text: never a value that is not in the text ─────


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(BASE_LINES), cjk_text), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_parse_of_arbitrary_text_invents_no_value(lines, rng):
    text = "\n".join(lines)
    try:
        report = parse(text.encode("utf-8"), name="x.txt")
    except GongkaiError:
        return
    printed = digits_of(text)
    for cell, value in report.cells.items():
        if value is None or isinstance(value, float) or "fee" in cell:
            continue
        assert str(abs(value)) in printed, (cell, value)


# ── damaged but readable: cut mid-table, lost rows ──────────────────────────


def _missing_are_named(report) -> list[str]:
    """Null cells no finding names (a table missing whole is named by its table_missing finding)."""
    named = {cell for finding in report.findings for cell in finding.cells}
    if any(finding.rule == "structure.table_missing" for finding in report.findings):
        tables = {cell.split(".")[0] for cell, value in report.cells.items() if value is not None}
        named |= {cell for cell in report.cells if cell.split(".")[0] not in tables}
    return [cell for cell, value in report.cells.items() if value is None and cell not in named]


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.3, 0.95))
def test_a_report_cut_off_mid_table_leaves_the_rest_null_and_says_so(seed, where):
    report_data = hostile.valid_report(seed)
    lines = report_data.txt().decode().split("\n")
    table = [i for i, line in enumerate(lines) if line.count("\t") >= 9]  # the rows of 表三 and 表四
    cut = table[int(where * len(table))]
    text = "\n".join(lines[:cut])
    report = parse(text.encode(), name="cut.txt")
    printed = digits_of(text)
    assert any(value is None for value in report.cells.values())
    for cell, value in report.cells.items():
        assert value is None or isinstance(value, float) or str(value) in printed, (cell, value)
    assert not _missing_are_named(report)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.data())
def test_lost_rows_are_null_and_named_never_filled_in(seed, data):
    report_data = hostile.valid_report(seed)
    lines = report_data.txt().decode().split("\n")
    rows = [i for i, line in enumerate(lines) if re.match(r"^[^\t]*\t", line) and re.search(r"\t\d", line)]
    lost = set(data.draw(st.lists(st.sampled_from(rows), min_size=1, max_size=4)))
    text = "\n".join(line for i, line in enumerate(lines) if i not in lost)
    report = parse(text.encode(), name="lost.txt")
    kept = digits_of(text).split("|")
    lost_only = {int(v) for i in lost for v in re.findall(r"\d+", lines[i])} - {int(v) for v in kept if v}
    for cell, value in report.cells.items():
        assert value not in lost_only, (cell, value)  # a lost number never comes back
    assert not _missing_are_named(report)
