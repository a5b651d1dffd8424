"""The corpus tables of spec/output.md as column lists: one place that knows names and types."""

from __future__ import annotations

from functools import cache

import pyarrow as pa

from gongkai.cells import all_cells, label

SECTION_NUMBERS = (1, 2, 3, 4, 5, 6)

# the fixed head of the reports table (output.md), then one column per cell id, then the counts
HEAD = (
    ("sha256", pa.string(), "文件 SHA-256"),
    ("path", pa.string(), "路径"),
    ("agency", pa.string(), "机关"),
    ("year", pa.int32(), "年度"),
    ("published", pa.date32(), "发布日期"),
    ("template", pa.string(), "表格格式"),
)
COUNTS = (
    ("errors", pa.int32(), "错误数"),
    ("warnings", pa.int32(), "警告数"),
)
# ours: useful beside the contract, never renamed by it
EXTRA = (
    ("body_type", pa.string(), "机关类型"),
    ("region", pa.string(), "地区"),
    ("format", pa.string(), "文件格式"),
    ("pages", pa.int32(), "页数"),
    ("bytes", pa.int64(), "字节数"),
    ("cells_found", pa.int32(), "读出单元格数"),
    ("body_key", pa.string(), "机关归一名"),
    # where a report fetched from a website came from (gongkai fetch's manifest, read by gongkai batch)
    ("source_url", pa.string(), "来源网址"),
    ("source_page", pa.string(), "来源网页"),
    ("published_from", pa.string(), "发布日期来源"),  # null: the report's text; listed | last_modified: a hint
)
SECTIONS = tuple((f"section_{n}", pa.string(), f"第{'一二三四五六'[n - 1]}部分正文") for n in SECTION_NUMBERS)
# which parser made the row (parsed_by.py): the store's bookkeeping, last in `reports` and `failures`,
# not exported, so that exporting a store made before these columns needs no migration
PARSED_BY = (
    ("gongkai_version", pa.string(), "gongkai 版本"),
    ("parser_fingerprint", pa.string(), "解析器指纹"),
)


def _cell_type(spec) -> pa.DataType:
    return pa.float64() if spec.is_amount else pa.int64()


@cache
def report_fields() -> tuple[tuple[str, pa.DataType, str], ...]:
    """(name, arrow type, Chinese header) of every column of `reports` a reader sees (exports), in table order."""
    cells = tuple((c.id, _cell_type(c), label(c.id)) for c in all_cells())
    return HEAD + cells + COUNTS + EXTRA + SECTIONS


@cache
def report_schema() -> pa.Schema:
    return pa.schema([(name, kind) for name, kind, _ in report_fields() + PARSED_BY])


FINDING_SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("seq", pa.int32()),  # order of the finding within its report
        ("rule", pa.string()),
        ("severity", pa.string()),
        ("origin", pa.string()),
        ("message", pa.string()),
        ("cells", pa.list_(pa.string())),
        ("suspects", pa.list_(pa.string())),
        ("related", pa.string()),  # corpus findings: sha256 of the earlier report
    ]
)

FAILURE_SCHEMA = pa.schema(
    [
        ("sha256", pa.string()),
        ("path", pa.string()),
        ("kind", pa.string()),  # unreadable | limit | crash
        ("reason", pa.string()),
        ("source_url", pa.string()),
        *((name, kind) for name, kind, _ in PARSED_BY),
    ]
)

FINDING_HEADERS = {
    "sha256": "文件 SHA-256",
    "rule": "规则",
    "severity": "级别",
    "origin": "来源",
    "message": "说明",
    "cells": "涉及单元格",
    "suspects": "可疑单元格",
    "related": "对照报告",
}


def cell_columns() -> tuple[str, ...]:
    return tuple(c.id for c in all_cells())


def duck_type(kind: pa.DataType) -> str:
    """The DuckDB column type for an arrow type of the schema above."""
    if pa.types.is_list(kind):
        return "VARCHAR[]"
    return {
        pa.string(): "VARCHAR",
        pa.int32(): "INTEGER",
        pa.int64(): "BIGINT",
        pa.float64(): "DOUBLE",
        pa.date32(): "DATE",
    }[kind]


def quote(name: str) -> str:
    """A column name quoted for SQL (cell ids contain dots)."""
    return '"' + name.replace('"', '""') + '"'


def create_sql(table: str, schema: pa.Schema) -> str:
    columns = ", ".join(f"{quote(f.name)} {duck_type(f.type)}" for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {table} ({columns})"
