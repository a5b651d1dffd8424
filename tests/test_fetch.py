"""gongkai fetch against a generated government website served on loopback (gongkai.synth.website).

The site has a second host (127.0.0.2) it links to; every request either host sees is recorded,
so the tests say what the fetch asked for and what bodies it was sent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from gongkai.errors import GongkaiError
from gongkai.fetch import FetchOptions, fetch
from gongkai.fetch.manifest import MANIFEST, Manifest, Record, fetched_files, latest
from gongkai.fetch.pages import detail_page, list_page
from gongkai.fetch.polite import Robots
from gongkai.fetch.scope import Scope
from gongkai.fetch.titles import looks_like_report, report_year
from gongkai.synth.website import COLUMN, Resource, SiteServer, Website, make_website

ROOT = Path(__file__).resolve().parent.parent
FAST = FetchOptions(delay=0.0, timeout=2.0, backoff=0.05, progress=False)


@pytest.fixture
def web():
    """A fresh site (inline pages, .docx, .ofd and the awkward cases; no LibreOffice needed) and its outside host."""
    with SiteServer(Website(), host="127.0.0.2") as outside:
        site = make_website(3, outside=outside.url, office=False)
        with SiteServer(site) as server:
            yield SimpleNamespace(site=site, server=server, outside=outside, start=server.url + site.column)


def saved_files(folder: Path) -> dict[str, Record]:
    """URL → the manifest's last record of every report file saved."""
    return {url: r for (kind, url), r in latest(folder / MANIFEST).items() if kind == "file" and r.saved}


def expected_files(web) -> dict[str, bytes]:
    """URL the manifest keeps it under → the bytes the site serves, for every file a fetch should save
    (an inline report: its page, kept under the link the list gives)."""
    out = {}
    for report in web.site.fetchable():
        if report.saved_as == "page":
            out[web.server.url + report.link] = web.site.resources[report.files[0]].body
        else:
            out.update({web.server.url + path: web.site.resources[path].body for path in report.files})
    return out


# ── the first run, the rerun, a changed site ────────────────────────────────────────────


def test_fetch_saves_every_report_once_and_nothing_else(web, tmp_path):
    out = tmp_path / "fetched"
    summary = fetch([web.start], out, FAST)

    saved = saved_files(out)
    expected = expected_files(web)
    assert sorted(saved) == sorted(expected)
    for url, body in expected.items():
        assert (out / saved[url].saved).read_bytes() == body, url
    for report in web.site.fetchable():
        for url in report.kept():
            record = saved[web.server.url + url]
            assert record.title == report.title and record.listed == report.listed.isoformat()
            assert record.saved.endswith(".html") if report.saved_as == "page" else Path(record.saved).suffix == Path(url).suffix
    files = [p for p in out.rglob("*") if p.is_file() and ".fetch-cache" not in p.parts and p.name != MANIFEST]
    assert len(files) == len(saved)  # once each: no second copy, no leftover temporary file

    assert summary.reports == len(web.site.reports) - 1  # all but the link to the outside host
    assert summary.downloaded == len(saved) and summary.unchanged == 0
    assert summary.list_pages == 3  # the script-drawn pager and the numbered links reach all three pages
    assert dict(summary.failed) == {"页面不存在（404）": 1}
    assert dict(summary.skipped) == {"站外链接（未跟随）": 2, "robots.txt 禁止": 1, "重定向到站外": 1}

    assert web.outside.hits == []  # nothing outside the site was requested, not even its robots.txt
    asked = [h.path for h in web.server.hits]
    for path in web.site.not_reports:  # news, notices, the 解读 page, another column, the robots-disallowed report
        assert path not in asked
    moved, slow, busy = (web.site.report(k) for k in ("moved", "slow", "docx_503_once"))
    assert asked.count(moved.link) == 1 and asked.count(moved.files[0]) == 1  # the 301 followed once
    assert asked.count(slow.files[0]) == 2  # late the first time: timed out, retried
    assert [h.status for h in web.server.hits if h.path == busy.files[0]] == [503, 200]  # retried after the 503
    for report in web.site.fetchable():  # every file sent whole once (the slow page's late first answer was never read)
        for path in report.files:
            sent = [h for h in web.server.hits if h.path == path and h.status == 200]
            assert len(sent) == (2 if report.key == "slow" else 1), report.key


def test_a_rerun_fetches_nothing_again(web, tmp_path):
    out = tmp_path / "fetched"
    fetch([web.start], out, FAST)
    first = {url: (r.sha256, r.saved, (out / r.saved).stat().st_mtime_ns) for url, r in saved_files(out).items()}
    mark = len(web.server.hits)

    summary = fetch([web.start], out, FAST)

    again = web.server.hits_since(mark)
    assert again, "the rerun asked the site nothing"
    assert [h for h in again if h.body_bytes and h.status != 404] == []  # no body sent but the dead link's 404 page
    assert all(h.conditional for h in again if h.status == 304)
    assert {h.status for h in again} == {304, 301, 302, 404}
    assert summary.downloaded == 0 and summary.unchanged == len(first)
    assert {url: (r.sha256, r.saved, (out / r.saved).stat().st_mtime_ns) for url, r in saved_files(out).items()} == first
    assert web.outside.hits == []


def test_a_changed_page_and_a_new_report_are_fetched_the_rest_is_not(web, tmp_path):
    out = tmp_path / "fetched"
    fetch([web.start], out, FAST)
    before = saved_files(out)
    corrected, new = web.site.update()
    mark = len(web.server.hits)

    summary = fetch([web.start], out, FAST)

    sent = sorted(h.path for h in web.server.hits_since(mark) if h.status == 200)
    assert sent == sorted([COLUMN + "index.html", corrected.files[0], new.link])
    assert summary.downloaded == 2 and summary.unchanged == len(before) - 1
    after = saved_files(out)
    url = web.server.url + corrected.link
    assert after[url].saved == before[url].saved and after[url].sha256 != before[url].sha256
    assert (out / after[url].saved).read_bytes() == web.site.resources[corrected.files[0]].body
    assert web.server.url + new.link in after


# ── an interrupted run ─────────────────────────────────────────────────────────────────


@pytest.mark.slow
def test_kill_9_mid_run_then_a_rerun_continues_without_fetching_again(web, tmp_path):
    out = tmp_path / "fetched"
    web.server.pause = 0.15  # every answer a little late, so that a kill lands mid-run
    command = [sys.executable, "-m", "gongkai", "fetch", web.start, "--out", str(out), "--delay", "0",
               "--per-host", "1", "--timeout", "2", "--retries", "3"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(saved_files(out)) < 3 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the fetch ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = saved_files(out)
    assert 3 <= len(kept) < len(web.site.fetchable())
    mark = len(web.server.hits)
    web.server.pause = 0.0

    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)

    assert done.returncode == 0, done.stderr
    assert "访问的列表页" in done.stdout and "Traceback" not in done.stderr
    saved = saved_files(out)
    assert len(saved) == len(web.site.fetchable())
    for url, body in expected_files(web).items():
        assert (out / saved[url].saved).read_bytes() == body
    resumed = web.server.hits_since(mark)
    for url, record in kept.items():  # what the killed run saved is only confirmed, never sent again
        path = url.removeprefix(web.server.url)
        answers = [h for h in resumed if h.path == path or (record.final_url or "").endswith(h.path)]
        assert answers and all(h.status in (304, 301) and h.body_bytes == 0 for h in answers), (url, answers)
    files = [p for p in out.rglob("*") if p.is_file() and ".fetch-cache" not in p.parts and p.name != MANIFEST]
    assert len(files) == len(saved)
    assert web.outside.hits == []


def test_the_manifest_survives_a_torn_last_line(tmp_path):
    folder = tmp_path / "f"
    with Manifest(folder) as manifest:
        manifest.write(Record("file", "http://a.gov.cn/1.pdf", "downloaded", saved="a.gov.cn/1.pdf", sha256="ab"))
        manifest.write(Record("file", "http://a.gov.cn/2.pdf", "downloaded", saved="a.gov.cn/2.pdf"))
    with open(folder / MANIFEST, "a", encoding="utf-8") as handle:
        handle.write('{"kind":"file","url":"http://a.gov.cn/3.pdf","sta')  # a kill -9 mid-write
    with Manifest(folder) as manifest:
        assert manifest.get("file", "http://a.gov.cn/1.pdf").sha256 == "ab"
        assert manifest.get("file", "http://a.gov.cn/3.pdf") is None
        manifest.write(Record("file", "http://a.gov.cn/3.pdf", "downloaded"))
    lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["url"][-5:] for line in lines] == ["1.pdf", "2.pdf", "3.pdf"]


# ── into the corpus ────────────────────────────────────────────────────────────────────


def test_batch_keeps_every_reports_address_and_takes_the_listed_date_only_when_the_text_has_none(web, tmp_path):
    from gongkai.store import BatchOptions, Store, run_batch
    from gongkai.views import stored_report

    out = tmp_path / "fetched"
    fetch([web.start], out, FAST)
    db = tmp_path / "corpus.duckdb"
    summary = run_batch([out], db, BatchOptions(progress=False))

    saved = saved_files(out)
    assert summary.addressed == summary.reports == len(saved) - 1  # every report; the .ofd is a failure row
    with Store(db, read_only=True) as store:
        rows = store.con.execute("SELECT sha256, agency, published, published_from, source_url, source_page FROM reports").fetchall()
        failures = store.con.execute("SELECT path, reason, source_url FROM failures").fetchall()
        by_sha = {r.sha256: url for url, r in saved.items()}
        for sha, agency, published, published_from, url, page in rows:
            assert url == by_sha[sha]
            report = next(r for r in web.site.reports if url in [web.server.url + k for k in r.kept()])
            assert agency == report.synthetic.agency.name
            if report.key == "inline_undated":  # no date in its text: the date beside its link, and said so
                assert (published, published_from) == (report.listed, "listed")
            else:  # the text's own date, never replaced
                assert (published, published_from) == (report.synthetic.published, None)
            if report.key == "docx":
                assert page == web.server.url + report.link
        [(path, reason, url)] = failures
        assert path.endswith(".ofd") and "OFD" in reason and url == web.server.url + web.site.report("ofd").files[0]
        undated = next(sha for sha, *_, url, _ in rows if url == web.server.url + web.site.report("inline_undated").link)
        shown = stored_report(store.con, undated).to_dict()
    assert shown["source"]["url"] == web.server.url + web.site.report("inline_undated").link
    assert shown["meta"]["published_from"] == "listed"

    from fastapi.testclient import TestClient

    from gongkai.web.app import Settings, create_app

    with TestClient(create_app(Settings(data_dir=tmp_path / "data", db=db))) as client:
        assert client.get(f"/api/reports/{undated}").json()["source"]["url"] == shown["source"]["url"]
        page = client.get(f"/reports/{undated}").text
    assert f'<a href="{shown["source"]["url"]}"' in page and "正文没有写明发布日期" in page and "网站列表页" in page

    rerun = run_batch([out], db, BatchOptions(progress=False))  # nothing to parse: the addresses stay
    assert rerun.skipped == len(saved) and rerun.addressed == summary.addressed


def test_fetched_files_are_read_from_the_manifest_only_inside_the_folder(tmp_path):
    folder = tmp_path / "f"
    (folder / "site").mkdir(parents=True)
    (folder / "site" / "a.html").write_text("x", encoding="utf-8")
    (tmp_path / "secret.html").write_text("y", encoding="utf-8")
    with Manifest(folder) as manifest:
        manifest.write(Record("file", "http://a.gov.cn/a.html", "downloaded", saved="site/a.html", listed="2024-01-20"))
        manifest.write(Record("file", "http://a.gov.cn/b.html", "downloaded", saved="../secret.html"))
        manifest.write(Record("file", "http://a.gov.cn/c.html", "downloaded", saved="site/gone.html",
                              last_modified="Sat, 20 Jan 2024 17:00:00 GMT"))  # fmt: skip
    [only] = fetched_files(folder)
    assert only.url == "http://a.gov.cn/a.html" and only.path == str(folder.absolute() / "site" / "a.html")
    assert (str(only.published_hint), only.hint_from) == ("2024-01-20", "listed")


# ── the command ──────────────────────────────────────────────────────────────────────────


def test_the_command_prints_a_chinese_summary_and_bad_input_is_one_line(web, tmp_path):
    from gongkai.cli import app

    runner = CliRunner()
    urls = tmp_path / "urls.txt"
    urls.write_text(f"# 年报栏目\n{web.start}\n\n", encoding="utf-8")
    result = runner.invoke(app, ["fetch", "--from-file", str(urls), "--out", str(tmp_path / "o"), "--delay", "0", "--timeout", "2"])
    assert result.exit_code == 0, result.output
    for words in ("访问的列表页", "找到的报告", "下载（新的或有变化）", "页面不存在（404）", "robots.txt 禁止", "站外链接（未跟随）"):
        assert words in result.output

    for args, message in (  # through the real command: one line on stderr, exit 2
        (["fetch", "ftp://example.gov.cn/x", "--out", str(tmp_path / "x")], "不是网址"),
        (["fetch", web.start, "--out", str(urls)], "不是目录"),
    ):
        done = subprocess.run([sys.executable, "-m", "gongkai", *args], capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(ROOT / "src")})  # fmt: skip
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1
    for args, message in (
        (["fetch", "--out", str(tmp_path / "x")], "请给出年报栏目页网址"),
        (["fetch", web.start, "--per-host", "0"], "--per-host 至少为 1"),
    ):
        result = runner.invoke(app, args)
        assert isinstance(result.exception, GongkaiError) and message in str(result.exception)


def test_a_site_that_cannot_be_reached_is_a_failure_not_a_crash(tmp_path):
    server = SiteServer(Website())
    url = server.url
    server.close()  # nothing listens there any more
    summary = fetch([url + COLUMN], tmp_path / "o", FetchOptions(delay=0, timeout=1, retries=1, backoff=0.01, progress=False))
    assert summary.list_pages == 0 and summary.skipped  # robots.txt unreachable: nothing may be fetched (RFC 9309)
    assert "robots.txt 无法读取（按规范视为禁止）" in summary.skipped


# ── the parts ────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize(
    "title, is_report",
    [
        ("XX县人民政府2023年政府信息公开工作年度报告", True),
        ("XX市卫生和计划生育委员会2016年政府信息公开工作年度报告", True),
        ("国家统计局XX调查队2022年度政府信息公开工作年度报告", True),
        ("XX区教育局关于2023年度政府信息公开工作的年度报告", True),
        ("二〇二三年XX镇政务公开工作年度报告", True),
        ("XX街道2021年政府信息公开年报", True),
        ("2023年政府信息公开工作年度报告（更正版）", True),
        ("XX县人民政府政府信息公开工作年度报告", False),  # no year
        ("《2023年政府信息公开工作年度报告》解读", False),
        ("关于做好2023年度政府信息公开工作年度报告编制发布工作的通知", False),
        ("我县召开2023年度政府信息公开工作年度报告编制培训会", False),
        ("2023年政府工作报告", False),
        ("XX县2023年国民经济和社会发展统计公报", False),
    ],
)
def test_report_titles(title, is_report):
    assert looks_like_report(title) is is_report


def test_report_year_reads_arabic_and_chinese_numerals():
    assert report_year("XX县2023年度政府信息公开工作年度报告") == 2023
    assert report_year("二〇一九年XX镇政府信息公开工作年度报告") == 2019


def test_list_page_pagination_dates_and_reports():
    page = """<html><head><meta charset="gbk"></head><body>
      <ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/xxgkzn/">政府信息公开指南</a></li></ul>
      <ul><li><a href="./202401/t1.html" title="XX县教育局2023年政府信息公开工作年度报告">XX县教育局2023年政府信息…</a><span>2024-01-20</span></li>
          <li><a href="./202401/t2.html">《2023年政府信息公开工作年度报告》解读</a><span>2024-01-21</span></li>
          <li><a href="http://www.a.gov.cn/zwgk/ndbg/P1.pdf">XX镇2023年度政府信息公开工作年度报告</a> [2024年1月22日]</li></ul>
      <div class="page"><a href="index_1.html">下一页</a> <a href="index_7.html">尾页</a> <a href="../tzgg/index_1.html">2</a></div>
      <script>createPageHTML(3, 0, "index", "shtml");</script></body></html>""".encode("gbk")
    found = list_page(page, "http://a.gov.cn/zwgk/ndbg/index.html")
    assert [(link.url, link.listed) for link in found.reports] == [
        ("http://a.gov.cn/zwgk/ndbg/202401/t1.html", "2024-01-20"),
        ("http://www.a.gov.cn/zwgk/ndbg/P1.pdf", "2024-01-22"),
    ]
    assert found.reports[0].title == "XX县教育局2023年政府信息公开工作年度报告"  # the title attribute, not the cut text
    assert found.pages == [f"http://a.gov.cn/zwgk/ndbg/{name}" for name in
                           ("index_1.html", "index_7.html", "index.shtml", "index_1.shtml", "index_2.shtml")]  # fmt: skip


def test_detail_page_kinds():
    base = "http://a.gov.cn/zwgk/ndbg/202401/t1.html"
    chrome = '<div class="header"><img src="/images/logo.png"><a href="/guide.pdf">指南.pdf</a></div>'
    attached = f'<html><body>{chrome}<p>附件：<a href="/attach/download?id=5">XX县2023年年报.docx</a></p></body></html>'
    page = detail_page(attached.encode(), base)
    assert page.kind == "documents" and [d.url for d in page.documents] == ["http://a.gov.cn/attach/download?id=5"]
    pictures = f'<html><body>{chrome}<div class="content"><img src="W1.png"><img src="W2.jpg" width="800"><img src="/btn.gif" width="20"></div></body></html>'
    page = detail_page(pictures.encode(), base)
    assert page.kind == "images" and [i.url for i in page.images] == [
        base.rsplit("/", 1)[0] + "/W1.png",
        base.rsplit("/", 1)[0] + "/W2.jpg",
    ]
    assert detail_page(b"<html><body><p>" + "无关的新闻".encode() * 100 + b"</p></body></html>", base).kind == "none"
    mixed = '<html><body><div class="content"><img src="p1.png"><a href="p2.jpg">第2页</a><img src="p3.png"></div></body></html>'
    assert [i.url[-6:] for i in detail_page(mixed.encode(), base).images] == ["p1.png", "p2.jpg", "p3.png"]  # shown order


def test_follow_host_lets_an_attachment_server_in_and_nothing_else(tmp_path):
    from dataclasses import replace

    from gongkai.synth import make_report

    files = Website()
    report = make_report(7)
    files.resources["/f/1.docx"] = Resource(report.render("docx"), "application/octet-stream")
    with SiteServer(files, host="127.0.0.3") as file_server:
        site = Website()
        site.resources["/c/index.html"] = Resource(f'<html><body><a href="t1.html">{report.title}</a></body></html>'.encode())
        site.resources["/c/t1.html"] = Resource(f'<html><body><a href="{file_server.url}/f/1.docx">附件.docx</a></body></html>'.encode())
        with SiteServer(site) as server:
            kept_out = fetch([server.url + "/c/index.html"], tmp_path / "a", FAST)
            assert dict(kept_out.skipped) == {"站外链接（未跟随）": 1} and file_server.hits == []
            let_in = fetch([server.url + "/c/index.html"], tmp_path / "b", replace(FAST, follow_hosts=(file_server.url,)))
    assert let_in.downloaded == 1 and sorted(h.path for h in file_server.hits) == ["/f/1.docx", "/robots.txt"]
    [record] = saved_files(tmp_path / "b").values()
    assert record.detail == server.url + "/c/t1.html" and (tmp_path / "b" / record.saved).read_bytes() == files.resources["/f/1.docx"].body


def test_scope_takes_the_www_twin_and_named_hosts_only():
    scope = Scope.of("http://www.a.gov.cn/zwgk/ndbg/", ("files.a.gov.cn",))
    assert scope.allows("https://a.gov.cn/x.pdf") and scope.allows("http://WWW.A.GOV.CN/y") and scope.allows("http://files.a.gov.cn/z.pdf")
    assert not scope.allows("http://b.gov.cn/") and not scope.allows("http://a.gov.cn:8080/") and not scope.allows("mailto:x@a.gov.cn")


def test_robots_rules():
    robots = Robots("User-agent: *\nDisallow: /admin/\nCrawl-delay: 3\n\nUser-agent: gongkai\nDisallow: /private/\n")
    assert not robots.allows("http://a.gov.cn/private/1.html") and robots.allows("http://a.gov.cn/admin/1.html")
    assert Robots(None).allows("http://a.gov.cn/anything") and not Robots(None, unreachable=True).allows("http://a.gov.cn/")


def test_size_limit_redirect_loops_and_error_pages_are_failures(tmp_path):
    site = Website()
    big = b"%PDF-1.4\n" + b"0" * 300_000
    site.resources.update({
        "/c/index.html": Resource(
            '<html><body><a href="1.html">A县2023年政府信息公开工作年度报告</a><a href="2.html">B县2023年政府信息公开工作年度报告</a>'
            '<a href="3.pdf">C县2023年政府信息公开工作年度报告</a></body></html>'.encode()),
        "/c/1.html": Resource('<html><body><a href="big.pdf">附件.pdf</a></body></html>'.encode()),
        "/c/big.pdf": Resource(big, "application/pdf"),
        "/c/2.html": Resource(status=302, location="/c/2.html"),
        "/c/3.pdf": Resource(b"<html><body><h1>\xe7\xbd\x91\xe7\xab\x99\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad</h1><p>x</p><p>y</p></body></html>"),
    })  # fmt: skip
    with SiteServer(site) as server:
        summary = fetch([server.url + "/c/index.html"], tmp_path / "o", FetchOptions(delay=0, max_mb=0.1, progress=False))
    assert dict(summary.failed) == {"超过大小上限": 1, "重定向过多": 1, "链接返回网页而不是文件": 1}
    assert summary.downloaded == 0 and not saved_files(tmp_path / "o")


# ── the generated site itself ────────────────────────────────────────────────────────────


@pytest.mark.slow
def test_every_format_is_saved_and_batch_gives_each_its_address(tmp_path):
    """PDF, .doc, .wps and a report of three image pages (LibreOffice renders them), fetched and put in a store."""
    if shutil.which("soffice") is None:
        pytest.skip("没有 LibreOffice（soffice）：无法生成 PDF、doc、wps 和图片报告")
    import pypdfium2 as pdfium

    from gongkai.limits import Limits
    from gongkai.store import BatchOptions, Store, run_batch

    with SiteServer(Website(), host="127.0.0.2") as outside:
        site = make_website(5, outside=outside.url, office=True, slow=0.0)
        with SiteServer(site) as server:
            out = tmp_path / "fetched"
            summary = fetch([server.url + site.column], out, FAST)
    saved = saved_files(out)
    assert summary.downloaded == len(saved) == len(site.fetchable())
    for key, suffix in (("pdf", ".pdf"), ("doc", ".doc"), ("wps", ".wps"), ("ofd", ".ofd")):
        report = site.report(key)
        record = saved[server.url + report.files[0]]
        assert record.saved.endswith(suffix) and (out / record.saved).read_bytes() == site.resources[report.files[0]].body
    images = site.report("images")
    record = saved[server.url + images.link]  # the pages put together as one PDF, kept under the detail page
    assert record.parts == [server.url + p for p in images.files]
    pdf = pdfium.PdfDocument(out / record.saved)
    assert len(pdf) == 3
    parts = sorted((out / record.saved).with_suffix(".parts").iterdir())
    assert [p.read_bytes() for p in parts] == [site.resources[p].body for p in images.files]
    assert hashlib.sha256((out / record.saved).read_bytes()).hexdigest() == record.sha256
    assert outside.hits == []

    # OCR of the image report may run past the limit on a busy machine: then it is a failure row, with its address too
    db = tmp_path / "corpus.duckdb"
    run_batch([out], db, BatchOptions(workers=2, progress=False, limits=Limits(seconds=30, memory_mb=2048)))
    with Store(db, read_only=True) as store:
        stored = store.con.execute("SELECT source_url FROM reports UNION ALL SELECT source_url FROM failures").fetchall()
        formats = {row[0] for row in store.con.execute("SELECT format FROM reports").fetchall()}
    assert sorted(url for (url,) in stored) == sorted(saved)
    assert {"pdf", "doc", "docx", "html"} <= formats
