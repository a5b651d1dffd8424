"""Docs that describe code are written from the code, and a test keeps them current."""

from __future__ import annotations

from conftest import ROOT

from gongkai.cli.docs import PATH, cli_markdown
from gongkai.report import BODY_TYPE_ZH
from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH
from gongkai.store.stats import METRICS
from gongkai.views import FAILURE_KIND_ZH


def test_cli_reference_is_current():
    assert PATH.read_text(encoding="utf-8") == cli_markdown(), "docs/cli.md is stale: python -m gongkai.cli.docs"


def test_output_doc_names_what_programs_rely_on():
    text = (ROOT / "docs" / "output.md").read_text(encoding="utf-8")
    for metric in METRICS:
        assert f"`{metric.id}` | {metric.label_zh}" in text, metric.id
    for code, zh in [*SEVERITY_ZH.items(), *ORIGIN_ZH.items(), *BODY_TYPE_ZH.items(), *FAILURE_KIND_ZH.items()]:
        assert f"`{code}`" in text and zh in text, code
    for command in ("parse", "check", "batch", "export", "stats", "report", "serve", "eval", "draft check"):
        assert f"gongkai {command}" in text, command
    for sheet in ("「报告」", "「发现」", "「无法解析」", "「说明」"):
        assert sheet in text


def test_no_pointer_to_a_missing_output_md():
    """Help texts, the web pages and the API descriptions name output.md by its place in the project
    (docs/cli.md, itself in docs/, links to it by its relative name)."""
    import re

    assert (ROOT / "docs" / "output.md").exists()
    sources = [*ROOT.joinpath("src", "gongkai", "cli").glob("*.py"), *ROOT.joinpath("src", "gongkai", "web", "templates").glob("*.html"),
               ROOT / "src" / "gongkai" / "web" / "routes" / "api.py"]  # fmt: skip
    for path in sources:
        text = path.read_text(encoding="utf-8")
        if path.name == "docs.py":
            text = text.replace("[output.md](output.md)", "")
        assert not re.findall(r"(?<!docs/)output\.md", text), path
