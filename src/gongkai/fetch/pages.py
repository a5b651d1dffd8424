"""What a column's list page and a report's detail page hold: pure functions of a page's bytes and address.

A list page gives the links whose titles look like reports (with the date listed beside each)
and the links to its other pages: 下一页/尾页/numbered links and `index_N.html` siblings in the
column's folder, and the pages a `createPageHTML(count, current, "index", "html")` script would
draw. A detail page gives the report itself: its attachments (.pdf/.doc/.docx/.wps/.ofd), else
its pictures (a report posted as image pages), else the page, when the report is inline.

Pages are decoded like the readers decode (`gongkai.read.encoding`): the charset the HTTP header
or the page declares, else detected from the bytes (GBK pages often declare nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlsplit

from lxml import etree

from gongkai.fetch.scope import DOCUMENT_SUFFIXES, IMAGE_SUFFIXES, absolute, same_column, suffix_of
from gongkai.fetch.titles import looks_like_report
from gongkai.read.encoding import decode
from gongkai.read.html import declared_charset, parse_tree


@dataclass(frozen=True, slots=True)
class Link:
    url: str
    title: str
    listed: str | None = None  # YYYY-MM-DD printed beside it on a list page


@dataclass(slots=True)
class ListPage:
    reports: list[Link] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # the column's other list pages


@dataclass(slots=True)
class DetailPage:
    title: str | None
    documents: list[Link] = field(default_factory=list)  # attachments: .pdf .doc .docx .wps .ofd
    images: list[Link] = field(default_factory=list)  # pictures in the article or linked, in page order
    inline: bool = False  # the page's own text is a report

    @property
    def kind(self) -> str:
        """documents | images | inline | none: what the report on this page is saved as."""
        if self.documents:
            return "documents"
        if self.inline:
            return "inline"
        if self.images:
            return "images"
        return "none"


_PAGER_WORDS = {"下一页", "下页", "后页", "后一页", "尾页", "末页", "最后一页", "上一页", "上页", "前页", "前一页", "首页", "第一页"}
_PAGER_NUMBER = re.compile(r"^[\[［(（]?\d{1,4}[\]］)）]?$")
_PAGER_HREF = re.compile(r"(?i)(?:^|/)(?:index|list|default|page)[_-]?\d+\.s?html?$")
_CREATE_PAGE = re.compile(r"createPage(?:HTML)?\s*\(([^)]*)\)")
_DATE = re.compile(r"(?<!\d)(20\d\d|19\d\d)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?!\d)")
_ROW_TAGS = {"li", "tr", "dd", "dt", "p", "div", "td", "span", "ul", "table"}
# pictures that are page furniture, not report pages
_FURNITURE = re.compile(
    r"(?i)logo|icon|ico[_.-]|banner|btn|button|share|weixin|wechat|weibo|qrcode|erweima|ewm|wza|jiucuo|gongan|beian|"
    r"police|conac|dzjg|blank|spacer|arrow|bg[_.-]|/images?/(?:common|public|skin)|print|close|top\.|search|nav|line\.|dot\."
)
_CHROME = re.compile(
    r"(?i)(^|[\s_-])(nav|menu|header|head|top|footer|foot|bottom|copyright|share|sidebar|side|crumbs?|position|location|links?|related)([\s_-]|\d|$)"
)
_REPORT_WORDS = ("主动公开", "依申请", "行政复议", "总体情况", "存在的主要问题", "收费", "申请")


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """A page's text: its HTTP charset, else the one it declares, else detected (read/encoding.py)."""
    declared = _header_charset(content_type) or declared_charset(body)
    return decode(body, declared=declared).text


def _header_charset(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type or "", re.IGNORECASE)
    return match.group(1) if match else None


def _tree(body: bytes, content_type: str | None) -> etree._Element:
    root, _ = parse_tree(decode_page(body, content_type))
    for el in root.iter("style", "noscript"):
        el.text = ""  # scripts are kept: a pager may be drawn by one
    return root


def _text(el: etree._Element) -> str:
    return re.sub(r"\s+", " ", "".join(el.itertext())).strip()


def _base(root: etree._Element, url: str) -> str:
    base = root.find(".//base[@href]")
    return absolute(url, base.get("href")) or url if base is not None else url


def _anchors(root: etree._Element, url: str):
    """(element, absolute url, title) of every http(s) link; the title attribute when the text is cut short."""
    base = _base(root, url)
    for a in root.iter("a"):
        href = a.get("href")
        target = absolute(base, href) if href else None
        if target is None:
            continue
        text = _text(a)
        title = (a.get("title") or "").strip()
        yield a, target, title if len(title) > len(text.rstrip("…. ")) else text


def list_page(body: bytes, url: str, content_type: str | None = None) -> ListPage:
    """The report links and the other list pages of one page of a column."""
    root = _tree(body, content_type)
    page = ListPage()
    seen_reports, seen_pages = set(), {url}
    for a, target, title in _anchors(root, url):
        if looks_like_report(title):
            if target not in seen_reports:
                seen_reports.add(target)
                page.reports.append(Link(target, title, _listed_date(a)))
        elif _is_pager(title, target, url) and target not in seen_pages:
            seen_pages.add(target)
            page.pages.append(target)
    for target in _scripted_pages(root, url):
        if target not in seen_pages:
            seen_pages.add(target)
            page.pages.append(target)
    return page


def _is_pager(text: str, target: str, page: str) -> bool:
    """A link to another page of the same column: pager words or numbers, or an index_N.html sibling."""
    if not same_column(target, page):
        return False
    text = re.sub(r"\s+", "", text)
    return text in _PAGER_WORDS or bool(_PAGER_NUMBER.match(text)) or bool(_PAGER_HREF.search(urlsplit(target).path))


def _scripted_pages(root: etree._Element, url: str) -> list[str]:
    """The pages of a TRS-style `createPageHTML(count, current, "index", "html")` pager."""
    out = []
    for script in root.iter("script"):
        for args in _CREATE_PAGE.findall(script.text or ""):
            numbers = [int(n) for n in re.findall(r"(?<![\w.])(\d+)(?![\w.])", args)]
            words = re.findall(r"[\"']([A-Za-z0-9_-]+)[\"']", args)
            if not numbers or len(words) < 2:
                continue
            count = min(numbers[0], 1000)  # the number of pages comes first
            stem, ext = words[-2], words[-1]
            out += [absolute(url, f"{stem}.{ext}" if n == 0 else f"{stem}_{n}.{ext}") for n in range(count)]
    return [u for u in out if u and same_column(u, url)]


def _listed_date(a: etree._Element) -> str | None:
    """The one date printed in the row (li, tr, …) that holds the link, if there is exactly one."""
    el = a.getparent()
    for _ in range(4):
        if el is None:
            return None
        if el.tag in _ROW_TAGS:
            dates = {d for d in (_date(m) for m in _DATE.finditer(_text(el))) if d}
            if len(dates) == 1:
                return dates.pop()
            if len(dates) > 1 or len(list(el.iter("a"))) > 3:
                return None  # a whole list, not one row
        el = el.getparent()
    return None


def _date(match: re.Match) -> str | None:
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
    except ValueError:
        return None


def detail_page(body: bytes, url: str, content_type: str | None = None) -> DetailPage:
    """The report a detail page holds: attachments, pictures, or the page itself."""
    root = _tree(body, content_type)
    title_el = root.find(".//title")
    page = DetailPage(title=_text(title_el) if title_el is not None else None)
    links = {a: (target, text) for a, target, text in _anchors(root, url)}  # the elements held: one proxy per node
    base = _base(root, url)
    seen = set()
    for el in root.iter("a", "img"):  # in document order: image pages stay in the order they are shown
        if el.tag == "a":
            if el not in links or _in_chrome(el):
                continue
            target, text = links[el]
            suffix = suffix_of(target, text)
            found = page.documents if suffix in DOCUMENT_SUFFIXES else page.images if suffix in IMAGE_SUFFIXES else None
        else:
            src = el.get("src") or el.get("data-src") or ""
            target, text = absolute(base, src), el.get("alt") or ""
            found = None if target is None or _furniture(el, src) else page.images
        if found is not None and target not in seen:
            seen.add(target)
            found.append(Link(target, text))
    for el in root.iter("script", "style"):
        el.text = ""
    body_el = root.find("body")
    text = _text(body_el if body_el is not None else root)
    page.inline = len(text) > 400 and "信息公开" in text and sum(word in text for word in _REPORT_WORDS) >= 3
    return page


def _in_chrome(el: etree._Element) -> bool:
    """Inside the page's header, menu, footer or side bar."""
    for parent in el.iterancestors():
        if parent.tag in ("nav", "header", "footer", "aside"):
            return True
        names = f"{parent.get('class') or ''} {parent.get('id') or ''}"
        if names.strip() and _CHROME.search(names):
            return True
    return False


def _furniture(img: etree._Element, src: str) -> bool:
    """A logo, icon, button or badge rather than a page of the report."""
    if _FURNITURE.search(src) or _in_chrome(img):
        return True
    for size in (img.get("width"), img.get("height")):
        if size and re.fullmatch(r"\d+", size.strip()) and int(size) < 120:
            return True
    return False


def is_document(url: str, text: str = "") -> bool:
    return suffix_of(url, text) in DOCUMENT_SUFFIXES + IMAGE_SUFFIXES
