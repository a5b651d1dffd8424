"""The report gongkai returns: the output contract of spec/output.md as pydantic models."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA = "gongkai.report/1"
# meta.published_from: where a publication date the text does not give was taken from (gongkai fetch's manifest)
PUBLISHED_FROM_ZH = {"listed": "网站列表页所列日期", "last_modified": "网站服务器的最后修改时间（Last-Modified）"}

Severity = Literal["error", "warning", "info"]
Origin = Literal["source", "extraction"]
BodyType = Literal["department", "government", "township", "street", "other"]
BODY_TYPE_ZH = {"department": "部门", "government": "人民政府", "township": "乡镇", "street": "街道", "other": "其他"}  # what a reader sees


class Source(BaseModel):
    path: str | None = None
    sha256: str
    format: str
    pages: int | None = None
    bytes: int | None = None
    url: str | None = Field(None, description="the web address the file was fetched from (gongkai fetch), or null")
    page: str | None = Field(None, description="the detail page that linked the fetched file, or null")


class Meta(BaseModel):
    agency: str | None = None
    year: int | None = None
    published: str | None = Field(None, description="ISO date YYYY-MM-DD the report was signed or published")
    template: Literal["2019", "2021"] | None = None
    body_type: BodyType | None = None
    region: str | None = None
    division_code: str | None = Field(None, description="code of the body's division, from the gazetteer: 6 digits (GB/T 2260) for a county, city or province, 9 for a township or street")
    province: str | None = Field(None, description="the province (省级) the body lies in, from the gazetteer")
    city: str | None = Field(None, description="the prefecture-level city (地级), from the gazetteer; null for a county directly under its province")
    county: str | None = Field(None, description="the county (县级), from the gazetteer")
    published_from: Literal["listed", "last_modified"] | None = Field(
        None,
        description="null: `published` is read from the report's text (or absent); otherwise the text gives no date and "
        "`published` is a hint from where the report was fetched: 'listed' (the date beside its link on the site's list) "
        "or 'last_modified' (the server's Last-Modified, China time)",
    )


class Section(BaseModel):
    number: int = Field(description="1 … 6, the section of the official format")
    title: str = Field(description="canonical title of the section")
    heading: str = Field(description="the heading as printed")
    text: str = ""
    line: int | None = None


class Finding(BaseModel):
    rule: str
    severity: Severity
    origin: Origin
    message: str
    cells: list[str] = []
    suspects: list[str] = []


class Provenance(BaseModel):
    """Where a cell's value came from: the raw text, and its line (with the characters in it), grid cell or page box."""

    model_config = ConfigDict(extra="forbid")

    raw: str | None = None
    line: int | None = None
    start: int | None = Field(None, description="where the value's characters start in the text of its line (0-based)")
    end: int | None = Field(None, description="where they end (exclusive): line[start:end] is the number as printed")
    table: int | None = None
    row: int | None = None
    col: int | None = None
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    chosen: str | None = None  # OCR: how the tables' identities chose this reading among the recogniser's candidates


class Report(BaseModel):
    schema_: str = Field(SCHEMA, alias="schema")
    source: Source
    meta: Meta
    sections: list[Section] = []
    cells: dict[str, int | float | None] = {}
    provenance: dict[str, Provenance] = {}
    findings: list[Finding] = []

    model_config = ConfigDict(populate_by_name=True)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_json(self, **kwargs) -> str:
        return self.model_dump_json(by_alias=True, **kwargs)

    def to_dict(self) -> dict:
        return self.model_dump(by_alias=True, mode="json")


def json_schema() -> str:
    """The JSON Schema of a report, as written to docs/schema.json."""
    import json

    schema = Report.model_json_schema(by_alias=True)
    schema["$id"] = SCHEMA
    return json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
