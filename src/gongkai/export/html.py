"""The self-contained HTML audit report: the web app's views in ONE file (inline CSS, JS and SVG).

    >>> from gongkai.export.html import write_html
    >>> write_html("audit.html", files=["报告.pdf"])          # or db="corpus.duckdb"

The official tables, findings and charts are drawn by the same Jinja2 partials as the web app
(gongkai/web/templates/_*.html); nothing in the file points to the network.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from markupsafe import Markup

from gongkai.errors import GongkaiError
from gongkai.report import Report
from gongkai.views import (
    BODY_TYPE_ZH,
    CorpusView,
    ReportView,
    corpus_view,
    report_view,
    source_lines,
    stored_report,
)

_HERE = Path(__file__).parent
_WEB = _HERE.parent / "web"
MAX_DETAILED = 300  # reports drawn in full in a corpus file; the rest are in the list
MAX_PAGES = 8  # page images embedded per report (for provenance of PDFs and scans)


def _env() -> Environment:
    env = Environment(loader=ChoiceLoader([FileSystemLoader(_HERE / "templates"), FileSystemLoader(_WEB / "templates")]),
                      autoescape=True)
    env.globals["body_type_zh"] = BODY_TYPE_ZH
    return env


def _asset(name: str) -> Markup:
    """Our own stylesheet or script, inlined; `</` is broken up so it can never close the tag early."""
    text = (_WEB / "static" / name).read_text(encoding="utf-8")
    return Markup(text.replace("</", "<\\/"))


def extras_for(report: Report, data: bytes | None) -> dict:
    """What the web app fetches on demand, embedded: source lines near each cell's line, page images."""
    lines: dict[int, str] = {}
    pages: dict[int, dict] = {}
    if data is None:
        return {"lines": lines, "pages": pages}
    wanted_lines = {p.line for p in report.provenance.values() if p.line is not None}
    if wanted_lines:
        try:
            every = source_lines(data, report.source.path)
        except GongkaiError:
            every = {}
        for n in wanted_lines:
            for k in range(n - 3, n + 4):
                if k in every:
                    lines[k] = every[k]
    wanted_pages = sorted({p.page for p in report.provenance.values() if p.page is not None})[:MAX_PAGES]
    if wanted_pages and report.source.format in ("pdf", "ofd", "image"):
        from gongkai.web.pages import render_page_png

        scale = 1.0
        for n in wanted_pages:
            try:
                png = render_page_png(data, n, scale)
            except GongkaiError:
                continue
            pages[n] = {"src": "data:image/png;base64," + base64.b64encode(png).decode("ascii"), "scale": scale}
    return {"lines": {str(k): v for k, v in sorted(lines.items())}, "pages": {str(k): v for k, v in pages.items()}}


def render_html(reports: list[tuple[ReportView, dict]], corpus: CorpusView | None = None, *, title: str = "政府信息公开工作年度报告审阅",
                note: str = "") -> str:
    """The whole file: optional corpus overview, then every report with its tables and findings."""
    template = _env().get_template("audit.html")
    return template.render(
        title=title, note=note, reports=reports, c=corpus, css=_asset("gongkai.css"), js=_asset("gongkai.js"),
        generated=datetime.now().strftime("%Y-%m-%d %H:%M"),
        link=lambda sha: f"#r-{sha[:16]}",
    )


def html_for_reports(reports: list[Report], sources: dict[str, bytes] | None = None, **kwargs) -> str:
    sources = sources or {}
    views = [(report_view(r), extras_for(r, sources.get(r.source.sha256))) for r in reports]
    return render_html(views, **kwargs)


def html_for_store(db: str | os.PathLike, filters: dict | None = None, *, files_dir: Path | None = None) -> str:
    """The corpus page of a store and the worst MAX_DETAILED reports in full."""
    import duckdb

    path = Path(db)
    if not path.exists():
        raise GongkaiError(f"{path}: 数据库不存在（先运行 gongkai batch）")
    con = duckdb.connect(str(path), read_only=True)
    try:
        view = corpus_view(con, filters, limit=100_000)
        detailed = []
        for row in view.reports[:MAX_DETAILED]:
            report = stored_report(con, row["sha256"])
            if report is not None:
                data = None
                if files_dir is not None and (files_dir / report.source.sha256).exists():
                    data = (files_dir / report.source.sha256).read_bytes()
                detailed.append((report_view(report), extras_for(report, data)))
    finally:
        con.close()
    note = f"只完整列出问题最多的 {MAX_DETAILED} 份报告。" if len(view.reports) > MAX_DETAILED else ""
    return render_html(detailed, view, title=f"语料库审阅：{path.name}", note=note)


def write_html(target: str | os.PathLike, *, files: list[str | os.PathLike] = (), db: str | os.PathLike | None = None,
               parse=None) -> Path:
    """Write the audit file for report files (parsed now) or for a store; returns its path."""
    target = Path(target)
    if db is not None:
        html = html_for_store(db)
    else:
        if parse is None:
            from gongkai.limits import parse_guarded as parse
        reports, sources, failed = [], {}, []
        for f in files:
            try:
                data = Path(f).read_bytes()
                report = parse(data, name=str(f))
            except (OSError, GongkaiError) as exc:
                failed.append(f"{f}：{exc}")
                continue
            reports.append(report)
            sources[report.source.sha256] = data
        if not reports and failed:
            raise GongkaiError("没有可读的报告：" + "；".join(failed))
        html = html_for_reports(reports, sources, note="；".join(f"无法读取 {x}" for x in failed))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target
