"""A generated government website with an annual-report column, and a small HTTP server for it on loopback.

The column (政府信息公开年报, /zwgk/ndbg/) spreads its links over three list pages: the first
draws its pager with a `createPageHTML` script, the second has numbered links and 下一页, the
third is reached by both. Its reports come in every way sites publish them:

    inline pages       UTF-8; GBK declared in <meta>; GBK declared only in the HTTP header; one without a date in its text
    attachments        .docx (one linked straight from the list), .pdf, .doc, .wps, .ofd
    image pages        one report as three pictures (PNG and JPEG) in its detail page
    awkward ones       a moved page (301), a slow page (late on its first request), an attachment
                       that fails once with 503, a dead link (404)

and beside them what a fetch must leave alone: news and notices (some naming 年度报告 too), a
解读 page, another column, a report under a path robots.txt disallows, and links to an outside
host (a report, a page that redirects there, an attachment kept there).

`Website.update()` changes the site as a later visit finds it: one inline report corrected and
one new report at the top of the first list page.

The server answers conditional requests (ETag, If-Modified-Since → 304) and records every
request it sees, so a test can say what a fetch asked for and what bodies it was sent.

    python -m gongkai.synth.website --port 8000     # serve one on loopback (Ctrl-C to stop)
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import formatdate, parsedate_to_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from gongkai.synth.model import Para, Synthetic, make_report

COLUMN = "/zwgk/ndbg/"
HTML = "text/html; charset=utf-8"
TYPES = {".pdf": "application/pdf", ".doc": "application/msword", ".wps": "application/kswps",
         ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         ".ofd": "application/ofd", ".png": "image/png", ".jpg": "image/jpeg"}  # fmt: skip
EPOCH = datetime(2024, 3, 1, 8, 0, 0).timestamp()


@dataclass(slots=True)
class Resource:
    """What the server answers for one path."""

    body: bytes = b""
    content_type: str = HTML
    modified: float = EPOCH  # Last-Modified
    status: int = 200
    location: str | None = None  # for a redirect
    late_first: float = 0.0  # the first request waits this long before the answer (a slow page)
    fail_first: int = 0  # this many requests get 503 before the answer

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass(slots=True)
class SiteReport:
    """A report the column publishes, and what a fetch should save of it."""

    key: str  # a short name for tests: inline_utf8, pdf, images, …
    title: str
    listed: date
    link: str  # the address the list page gives
    files: list[str]  # the addresses whose bytes make the report (the page, the attachment, the pictures)
    synthetic: Synthetic | None = None
    fetchable: bool = True  # False: a dead link, or one a fetch must not follow
    saved_as: str = "file"  # file: each file is saved under its own address; page: one file under the link's

    def kept(self) -> list[str]:
        """The addresses (paths) a fetch's manifest keeps the report's saved files under."""
        return [self.link] if self.saved_as == "page" else list(self.files)


@dataclass(slots=True)
class Website:
    resources: dict[str, Resource] = field(default_factory=dict)
    reports: list[SiteReport] = field(default_factory=list)
    outside: str = ""  # the outside host's base URL, linked from the site
    not_reports: list[str] = field(default_factory=list)  # same-site paths a fetch must never request
    later: SiteReport | None = None  # the report update() publishes
    later_pages: dict[str, Resource] = field(default_factory=dict)  # …with its page and the first list page as they then are

    @property
    def column(self) -> str:
        return COLUMN + "index.html"

    def fetchable(self) -> list[SiteReport]:
        return [r for r in self.reports if r.fetchable]

    def report(self, key: str) -> SiteReport:
        return next(r for r in self.reports if r.key == key)

    def update(self) -> list[SiteReport]:
        """The site as a later visit finds it: one inline report corrected, one new report listed first. Returns the two."""
        corrected = self.report("inline_utf8")
        page = self.resources[corrected.files[0]]
        page.body = page.body.replace(b"</body>", "<p>（2024年3月20日更正：第二部分数据录入有误，已更正。）</p></body>".encode())
        page.modified += 86400 * 19
        new, self.later = self.later, None
        self.reports.append(new)
        self.resources.update(self.later_pages)
        return [corrected, new]


def make_website(seed: int = 0, *, outside: str = "http://127.0.0.2:9", office: bool = True, slow: float = 4.0) -> Website:
    """A column of reports in every form, on the site served at any address (links are site-relative).

    `outside` is the base URL of another host the site links to; `office` renders the PDF, .doc,
    .wps and image reports (LibreOffice needed; without it those reports are left out); `slow` is
    how late the slow page's first answer is.
    """
    site = Website(outside=outside.rstrip("/"))
    res = site.resources
    month = lambda d: d.strftime("%Y%m")  # noqa: E731
    n = iter(range(1001, 2000))

    def synthetic(i: int, **kwargs) -> Synthetic:
        return make_report(seed * 1000 + i, **kwargs)

    def detail_path(syn: Synthetic) -> str:
        return f"{COLUMN}{month(syn.published)}/t{syn.published.strftime('%Y%m%d')}_{next(n)}.html"

    def add_inline(key: str, syn: Synthetic, *, layout: str, content_type: str = HTML, strip_meta: bool = False,
                   path: str | None = None, **behaviour) -> SiteReport:  # fmt: skip
        body = syn.render("html", layout)
        if strip_meta:
            body = body.replace(b'<meta http-equiv="Content-Type" content="text/html; charset=gbk">', b"")
        path = path or detail_path(syn)
        res[path] = Resource(body, content_type, _stamp(syn.published), **behaviour)
        report = SiteReport(key, syn.title, syn.published, path, [path], syn, saved_as="page")
        site.reports.append(report)
        return report

    def add_attachment(key: str, syn: Synthetic, data: bytes, suffix: str, *, direct: bool = False, **behaviour) -> SiteReport:
        stamp = syn.published.strftime("%Y%m%d")
        file_path = f"{COLUMN}{month(syn.published)}/P0{stamp}{next(n)}{suffix}"
        res[file_path] = Resource(data, TYPES[suffix], _stamp(syn.published), **behaviour)
        if direct:
            report = SiteReport(key, syn.title, syn.published, file_path, [file_path], syn)
        else:
            page = detail_path(syn)
            res[page] = Resource(_detail_page(syn.title, syn.published, [(file_path, f"{syn.title}{suffix}")]).encode(),
                                 modified=_stamp(syn.published))  # fmt: skip
            report = SiteReport(key, syn.title, syn.published, page, [file_path], syn)
        site.reports.append(report)
        return report

    # inline pages
    add_inline("inline_utf8", synthetic(1), layout="chrome")
    add_inline("inline_gbk_meta", synthetic(2), layout="chrome+gbk")
    add_inline("inline_gbk_header", synthetic(3), layout="gbk", content_type="text/html; charset=GBK", strip_meta=True)
    add_inline("inline_undated", _undated(synthetic(4)), layout="plain")
    # attachments
    add_attachment("docx", synthetic(5), synthetic(5).render("docx"), ".docx")
    add_attachment("docx_direct", synthetic(6), synthetic(6).render("docx"), ".docx", direct=True)
    add_attachment("docx_503_once", synthetic(7), synthetic(7).render("docx"), ".docx", fail_first=1)
    add_attachment("ofd", synthetic(8), _ofd(synthetic(8)), ".ofd")
    if office:
        add_attachment("pdf", synthetic(9), synthetic(9).render("pdf"), ".pdf")
        add_attachment("doc", synthetic(10), synthetic(10).render("doc"), ".doc")
        add_attachment("wps", synthetic(11), synthetic(11).render("doc"), ".wps")
        site.reports.append(_image_report(res, synthetic(12), detail_path))
    # awkward ones
    moved = add_inline("moved", synthetic(13), layout="plain")
    old = f"{COLUMN}old/{next(n)}.html"
    res[old] = Resource(status=301, location=moved.link)
    moved.link = old
    add_inline("slow", synthetic(14), layout="chrome", late_first=slow)
    dead = synthetic(15)
    site.reports.append(SiteReport("dead", dead.title, dead.published, detail_path(dead), [], dead, fetchable=False))

    # what a fetch must leave alone
    admin = synthetic(16)
    admin_path = f"/admin/preview/{next(n)}.html"
    res[admin_path] = Resource(admin.render("html", "plain"))
    site.not_reports.append(admin_path)
    site.reports.append(SiteReport("robots", admin.title, admin.published, admin_path, [], admin, fetchable=False))
    away = synthetic(17)
    site.reports.append(SiteReport("outside", away.title, away.published, f"{site.outside}/art/{next(n)}.html", [], away, fetchable=False))
    gone = synthetic(18)
    gone_path = f"{COLUMN}202403/moved_{next(n)}.html"
    res[gone_path] = Resource(status=302, location=f"{site.outside}/ndbg/{next(n)}.html")
    site.reports.append(SiteReport("redirect_outside", gone.title, gone.published, gone_path, [], gone, fetchable=False))
    kept = synthetic(19)
    kept_page = detail_path(kept)
    res[kept_page] = Resource(
        _detail_page(kept.title, kept.published, [(f"{site.outside}/files/{next(n)}.pdf", f"{kept.title}.pdf")]).encode()
    )
    site.reports.append(SiteReport("attachment_outside", kept.title, kept.published, kept_page, [], kept, fetchable=False))

    news = [
        ("/xwzx/202401/t20240108_1.html", "我县召开2023年度政府信息公开工作年度报告编制培训会", date(2024, 1, 8)),
        ("/xwzx/202401/t20240112_2.html", "县政府召开第十二次常务会议", date(2024, 1, 12)),
        (f"{COLUMN}202401/jd_{next(n)}.html", "《2023年政府信息公开工作年度报告》解读", date(2024, 1, 20)),
        ("/zwgk/tzgg/202312/t20231215_3.html", "关于做好2023年度政府信息公开工作年度报告编制发布工作的通知", date(2023, 12, 15)),
    ]
    for path, title, _ in news:
        res[path] = Resource(_detail_page(title, date(2024, 1, 8), []).encode())
        site.not_reports.append(path)
    res["/zwgk/tzgg/index.html"] = Resource(_detail_page("通知公告", date(2024, 1, 8), []).encode())
    site.not_reports.append("/zwgk/tzgg/index.html")
    res["/robots.txt"] = Resource(b"User-agent: *\nDisallow: /admin/\n", "text/plain; charset=utf-8")

    later = synthetic(20)
    site.later = SiteReport("new", later.title, later.published, detail_path(later), [], later, saved_as="page")
    _lay_out(site, news)
    return site


def _lay_out(site: Website, news: list[tuple[str, str, date]]) -> None:
    """The three list pages, and the first page as it is after `update()`."""
    entries = [(r.link, r.title, r.listed) for r in site.reports] + news
    entries.sort(key=lambda e: e[2], reverse=True)
    pages = [entries[i::3] for i in range(3)]
    for number, chunk in enumerate(pages):
        name = "index.html" if number == 0 else f"index_{number}.html"
        site.resources[COLUMN + name] = Resource(_list_page(site, chunk, number, len(pages)).encode())
    new = site.later
    new.files = [new.link]
    first = [(new.link, new.title, new.listed)] + pages[0]
    site.later_pages = {
        new.link: Resource(new.synthetic.render("html", "chrome"), HTML, _stamp(new.listed)),
        COLUMN + "index.html": Resource(_list_page(site, first, 0, len(pages)).encode(), modified=EPOCH + 86400 * 20),
    }


def _list_page(site: Website, entries: list[tuple[str, str, date]], number: int, count: int) -> str:
    rows = "\n".join(
        f'<li><a href="{escape(link)}" title="{escape(title)}" target="_blank">{escape(_cut(title))}</a><span>{listed.isoformat()}</span></li>'
        for link, title, listed in entries
    )
    if number == 0:  # the pager drawn by a script, as TRS sites do
        pager = f'<div class="page"><script>createPageHTML({count}, 0, "index", "html");</script></div>'
    else:
        links = " ".join(f'<a href="{"index.html" if i == 0 else f"index_{i}.html"}">{i + 1}</a>' for i in range(count))
        following = f' <a href="index_{number + 1}.html">下一页</a>' if number + 1 < count else ""
        pager = f'<div class="page"><a href="index.html">首页</a> {links}{following} <a href="index_{count - 1}.html">尾页</a></div>'
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head>\n<body>\n'
        '<div class="header"><div class="logo"><img src="/images/logo.png" width="300" height="60"></div>'
        '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>'
        '<li><a href="/zwgk/tzgg/index.html">通知公告</a></li><li><a href="/xwzx/">新闻中心</a></li></ul></div>\n'
        '<div class="crumbs">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政府信息公开</a> &gt; 政府信息公开年报</div>\n'
        f'<div class="list"><ul>\n{rows}\n</ul>\n{pager}</div>\n'
        f'<div class="footer">友情链接：<a href="{site.outside}/">市政府门户网站</a> <a href="/xwzx/202401/t20240112_2.html">县政府常务会议</a></div>\n'
        "</body></html>\n"
    )


def _cut(title: str) -> str:
    return title if len(title) <= 24 else title[:22] + "…"


def _detail_page(title: str, published: date, attachments: list[tuple[str, str]]) -> str:
    links = "".join(f'<p>附件：<a href="{escape(href)}">{escape(text)}</a></p>' for href, text in attachments)
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(title)}</title></head>\n<body>\n'
        '<div class="header"><a href="/">首页</a> <a href="/zwgk/">政务公开</a></div>\n'
        f'<div class="article"><h1>{escape(title)}</h1><div class="info">发布时间：{published.isoformat()}</div>\n'
        f'<div class="content"><p>现将{escape(title)}予以公布，全文见附件。</p>{links}</div></div>\n'
        '<div class="footer"><a href="/">网站首页</a> <img src="/images/conac.png" width="60" height="60"></div>\n'
        "</body></html>\n"
    )


def _image_report(res: dict[str, Resource], syn: Synthetic, detail_path) -> SiteReport:
    """The report as three pictures in its detail page (the first two pages as PNG and JPEG, the rest as a long JPEG)."""
    from gongkai.synth.render_office import convert, scans

    pages = scans(syn, convert(syn.render("docx"), "pdf"))
    if len(pages) > 3:
        from PIL import Image

        rest = pages[2:]
        joined = Image.new("L", (max(p.width for p in rest), sum(p.height for p in rest)), 255)
        top = 0
        for p in rest:
            joined.paste(p, (0, top))
            top += p.height
        joined.info["dpi"] = pages[0].info["dpi"]
        pages = pages[:2] + [joined]
    page = detail_path(syn)
    stamp = syn.published.strftime("%Y%m%d")
    files = []
    for i, image in enumerate(pages):
        suffix = ".png" if i % 2 == 0 else ".jpg"
        buf = io.BytesIO()
        image.save(
            buf, format="PNG" if suffix == ".png" else "JPEG", dpi=image.info["dpi"], **({} if suffix == ".png" else {"quality": 90})
        )
        path = f"{COLUMN}{syn.published.strftime('%Y%m')}/W0{stamp}{i}{suffix}"
        res[path] = Resource(buf.getvalue(), TYPES[suffix], _stamp(syn.published))
        files.append(path)
    images = "".join(f'<p style="text-align:center"><img src="{p}" alt="" border="0"></p>' for p in files)
    res[page] = Resource(
        (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{escape(syn.title)}</title></head>\n<body>\n'
         '<div class="header"><img src="/images/logo.png" width="300" height="60"> <a href="/">首页</a></div>\n'
         f'<div class="article"><h1>{escape(syn.title)}</h1><div class="content">{images}</div></div>\n'
         "</body></html>\n").encode(),
        modified=_stamp(syn.published),
    )  # fmt: skip
    return SiteReport("images", syn.title, syn.published, page, files, syn, saved_as="page")


def _undated(syn: Synthetic) -> Synthetic:
    """The report with every date printed in it removed (the fetch's listed date is then the only hint)."""
    marks = (syn.published.isoformat(), f"{syn.published.year}年{syn.published.month}月{syn.published.day}日")
    syn.blocks = [b for b in syn.blocks if not (isinstance(b, Para) and any(m in b.text for m in marks))]
    syn.truth["meta"]["published"] = None
    return syn


def _ofd(syn: Synthetic) -> bytes:
    """The report as a small OFD package (GB/T 33190): OFD.xml, a document, one page of text objects."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    lines = [b.text for b in syn.blocks if isinstance(b, Para)][:40]
    objects = "".join(
        f'<ofd:TextObject ID="{i + 10}" Boundary="20 {20 + 6 * i} 170 5" Font="1" Size="4.2">'
        f'<ofd:TextCode X="0" Y="4">{escape(text[:40])}</ofd:TextCode></ofd:TextObject>'
        for i, text in enumerate(lines)
    )
    files = {
        "OFD.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo>'
                   f"<ofd:DocID>{hashlib.md5(syn.title.encode()).hexdigest()}</ofd:DocID><ofd:Title>{escape(syn.title)}</ofd:Title>"
                   "</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>",
        "Doc_0/Document.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData><ofd:MaxUnitID>99</ofd:MaxUnitID>'
                              '<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData>'
                              '<ofd:Pages><ofd:Page ID="2" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>',
        "Doc_0/Pages/Page_0/Content.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content><ofd:Layer ID="3">'
                                          f"{objects}</ofd:Layer></ofd:Content></ofd:Page>",
    }  # fmt: skip
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def _stamp(day: date) -> float:
    return datetime(day.year, day.month, day.day, 9, 30).timestamp()


# the server ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the server saw: what was asked, the answer's status and how many body bytes it carried."""

    path: str
    status: int
    body_bytes: int
    conditional: bool
    at: float


class SiteServer:
    """A `Website` served on loopback in a thread; `hits` lists every request, `pause` slows every answer."""

    def __init__(self, site: Website, host: str = "127.0.0.1", port: int = 0):
        self.site = site
        self.hits: list[Hit] = []
        self.pause = 0.0
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer((host, port), self._handler())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"site-{host}", daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def hits_since(self, mark: int) -> list[Hit]:
        with self._lock:
            return self.hits[mark:]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _answer(self, path: str, headers) -> tuple[int, dict[str, str], bytes, bool, float]:
        """(status, headers, body, conditional, seconds to wait before answering) for one GET, as the site would answer it now."""
        resource = self.site.resources.get(path)
        with self._lock:
            seen = self._seen.get(path, 0)
            self._seen[path] = seen + 1
        conditional = bool(headers.get("If-None-Match") or headers.get("If-Modified-Since"))
        if resource is None:
            return 404, {"Content-Type": HTML}, "<html><body><h1>404 页面不存在</h1></body></html>".encode(), conditional, 0.0
        late = resource.late_first if seen == 0 else 0.0
        if seen < resource.fail_first:
            return 503, {"Content-Type": HTML, "Retry-After": "0"}, b"<html><body>busy</body></html>", conditional, late
        if resource.status in (301, 302, 303, 307, 308):
            return resource.status, {"Location": resource.location or "/"}, b"", conditional, late
        modified = formatdate(resource.modified, usegmt=True)
        validators = {"ETag": resource.etag, "Last-Modified": modified}
        if _not_modified(headers, resource):
            return 304, validators, b"", conditional, late
        return 200, {"Content-Type": resource.content_type, **validators}, resource.body, conditional, late

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 — the name http.server calls
                if server.pause:
                    time.sleep(server.pause)
                path = urlsplit(self.path).path
                status, headers, body, conditional, late = server._answer(path, self.headers)
                with server._lock:  # logged as it arrives (a late answer may never be read)
                    server.hits.append(Hit(path, status, len(body), conditional, time.time()))
                time.sleep(late)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body:
                        self.wfile.write(body)
                except (ConnectionError, TimeoutError):
                    pass  # the client gave up (a timeout it was told to have)

            def log_message(self, *args):
                pass

        return Handler


def _not_modified(headers, resource: Resource) -> bool:
    tags = headers.get("If-None-Match")
    if tags:
        return resource.etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since:
        try:
            return int(resource.modified) <= parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False
    return False


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gongkai.synth.website", description="在本机提供一个生成的政府网站（年报栏目）")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-office", action="store_true", help="不生成需要 LibreOffice 的 PDF、doc、wps 和图片报告")
    args = parser.parse_args(argv)
    outside = SiteServer(Website(), host="127.0.0.2")
    site = make_website(args.seed, outside=outside.url, office=not args.no_office)
    with SiteServer(site, port=args.port) as server:
        print(f"年报栏目：{server.url}{site.column}（站外主机 {outside.url}；Ctrl-C 结束）", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    outside.close()


if __name__ == "__main__":
    main()
