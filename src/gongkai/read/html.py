"""HTML: find the article in the page, then paragraphs in reading order and a `Grid` per table.

Steps: decode (BOM → declared charset → the text decoder) → parse with lxml (no network) →
drop scripts, forms, menus and other page chrome → pick the article (the smallest element that
holds most of the Chinese text, widened until it holds the title, the section headings and the
report tables) → walk it: block elements and <br> end lines, each <table> becomes a grid whose
cells sit at their top-left (row, col) by an occupancy matrix honouring rowspan/colspan.

Tables inside tables: a table that only lays out the page (one cell, or a nested table plus a
cell of running text) is walked like a <div>, so the tables inside it become grids of their own;
any other nested table is flattened into its outer cell's text (one line per row, cells joined by tabs).
Text is taken as rendered: runs of whitespace become one space, &nbsp; is a space, lines are stripped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from gongkai.document import Block, Document, Grid, GridCell, Paragraph, Where
from gongkai.errors import UnreadableError
from gongkai.read.encoding import decode

# Never content: removed with everything inside them.
_DROP = {
    "script", "style", "noscript", "iframe", "frame", "frameset", "select", "option", "button", "template",
    "svg", "math", "canvas", "object", "embed", "applet", "audio", "video", "map", "textarea", "input", "link",
    "meta", "head", "title", "base",
}  # fmt: skip
# Usually chrome, but ASP.NET pages wrap everything in <form> and <header> may hold the title: removed only when small.
_SOFT_DROP = {"nav", "header", "footer", "form", "aside", "menu"}
_CHROME_NAME = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumbs?|crumbs?|position|location|footer|foot|header|head|top|topbar|"
    r"sidebar|side|share|bdshare|toolbar|tools|print|copyright|bottom|links?|related|relevant|search|login)"
    r"([\s_-]|\d|$)",
    re.IGNORECASE,
)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_BLOCK = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dt", "dd", "section", "article",
    "main", "blockquote", "pre", "address", "center", "figure", "figcaption", "hr", "tr", "td", "th", "caption",
    "table", "tbody", "thead", "tfoot", "body", "html", "fieldset", "legend", "details", "summary", "aside",
    "header", "footer", "nav", "form", "menu", "dir",
}  # fmt: skip
_CONTAINERS = {"div", "section", "article", "main", "td", "th", "tr", "tbody", "table", "form", "center", "font", "span"}
_EMPTY_LINE_TAGS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "h5", "h6"}  # an empty one is a blank line
_SPACE = re.compile(r"[ \t\n\r\f\v\xa0\u200b\ufeff]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*\?>")
_SECTION_HEADING = re.compile(
    r"^\s*[一二三四五六七][、.．,，]\s*(总体情况|主动公开|收到和处理|因政府信息公开|政府信息公开行政复议|"
    r"存在的主要问题|其他需要报告)"
)
_TITLE_YEAR = re.compile(r"(19|20)\d\d|[〇零二][〇零一二三四五六七八九]{3}")
_REPORT_TABLE_WORDS = ("信息内容", "申请", "行政复议", "本年", "规章", "行政许可")
_MAX_COLSPAN = 1000  # the HTML limit
_MAX_GRID_POSITIONS = 2_000_000
_SEP = "\x1f"  # stands for a tab between the cells of a flattened nested table until whitespace is collapsed


def read(data: bytes) -> Document:
    """Read an HTML page (or a Word 'web page') into paragraphs and grids."""
    data, declared = _unwrap_mime(data)
    decoded = decode(data, declared=declared or declared_charset(data))
    root, parse_notes = parse_tree(decoded.text)
    body = root.find("body")
    if body is None:
        body = root
    title = _page_title(root)
    counts = _Counts()
    _drop_hard(body)
    important = _important(body)
    _drop_chrome(body, counts, important)
    article = _article(body, counts, important)
    blocks = _Blocks(body_of=article).run()
    if title and not _contains_title(blocks, title):
        blocks.insert(0, Paragraph(title[0], Where(line=title[1])))
    return Document(blocks, "html", notes=decoded.notes + parse_notes)


def grids(fragment: str, first_index: int = 0) -> list[Grid]:
    """The tables of an HTML fragment as grids numbered from `first_index` (for HTML tables inside markdown)."""
    root, _ = parse_tree(fragment)
    builder = _Blocks(body_of=root)
    builder.n_grids = first_index
    tables = [t for t in root.iter("table") if _owner_table(t) is None]
    return [g for g in (builder.grid(t) for t in tables) if g is not None]


def _unwrap_mime(data: bytes) -> tuple[bytes, str | None]:
    """A Word 'single file web page' (MIME, .mht): its HTML part and that part's charset."""
    if not data.lstrip()[:13].lower().startswith(b"mime-version:"):
        return data, None
    import email
    from email import policy

    message = email.message_from_bytes(data, policy=policy.compat32)
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes) and payload:
                return payload, part.get_content_charset()
    raise UnreadableError("MIME 网页文件中没有 HTML 正文")


def declared_charset(data: bytes) -> str | None:
    """The charset a page names in <meta charset> / http-equiv content-type or an XML declaration."""
    head = data[:8192]
    match = _META_CHARSET.search(head)
    if match is None:
        match = re.search(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.-]+)""", head)
    return match.group(1).decode("ascii") if match else None


def parse_tree(text: str) -> tuple[etree._Element, list[str]]:
    """Parse decoded HTML (no network, no huge trees, comments and processing instructions dropped) and
    say what was cut; the bytes we hand lxml are UTF-8 whatever the page declared."""
    raw = _XML_DECL.sub(b"", text.encode("utf-8", errors="replace"), count=1)
    parser = etree.HTMLParser(
        encoding="utf-8", no_network=True, huge_tree=False, remove_comments=True, remove_pis=True, recover=True
    )
    try:
        root = etree.fromstring(raw, parser)
    except (etree.LxmlError, ValueError, RecursionError) as err:
        raise UnreadableError(f"HTML 无法解析：{type(err).__name__}") from err
    if root is None:
        raise UnreadableError("HTML 中没有可读取的内容")
    notes = []
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        notes.append("HTML 嵌套过深或过大，超出解析上限的部分未读取")
    return root, notes


def _page_title(root: etree._Element) -> tuple[str, int] | None:
    """The <title> when it names a report: pages often carry the agency and year only there."""
    title = root.find("head/title")
    if title is None:
        title = root.find(".//title")
    if title is None:
        return None
    text = _SPACE.sub(" ", "".join(title.itertext())).strip()
    return (text, title.sourceline or 1) if "报告" in text else None


def _contains_title(blocks: list[Block], title: tuple[str, int]) -> bool:
    """Whether the article already shows the title (a site name after '_', '-' or '|' does not count)."""
    core = re.split(r"\s*[_|｜—–-]\s*", title[0])[0] or title[0]
    for block in blocks:
        texts = [block.text] if isinstance(block, Paragraph) else [c.text for c in block.cells]
        if any(core in t for t in texts):
            return True
    return False


def _drop_hard(body: etree._Element) -> None:
    for el in list(body.iter()):
        if not isinstance(el.tag, str) or el.tag.lower() in _DROP:
            _remove(el)


def _remove(el: etree._Element) -> None:
    """Remove an element and what is inside it, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        tail = _NOT_XML.sub("", el.tail)  # the HTML parser keeps control characters that lxml will not set back
        previous = el.getprevious()
        if previous is not None:
            previous.tail = _NOT_XML.sub("", previous.tail or "") + tail
        else:
            parent.text = _NOT_XML.sub("", parent.text or "") + tail
    parent.remove(el)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


class _Counts:
    """CJK characters inside each element, computed bottom-up once and kept up to date on removal."""

    def __init__(self) -> None:
        self.of: dict[etree._Element, int] = {}

    def compute(self, body: etree._Element) -> None:
        self.of.clear()
        for el in reversed(list(body.iter())):
            if _tag(el) == "a":  # link text is menus and "related reports", not the article
                self.of[el] = 0
                continue
            own = len(_CJK.findall(el.text or ""))
            for child in el:
                own += self.of.get(child, 0) + len(_CJK.findall(child.tail or ""))
            self.of[el] = own

    def __getitem__(self, el: etree._Element) -> int:
        return self.of.get(el, 0)


def _important(body: etree._Element) -> list[etree._Element]:
    """Elements the article must keep: the report title, the section headings, the report tables."""
    found = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag == "table":
            text = "".join(el.itertext())
            if any(word in text for word in _REPORT_TABLE_WORDS) and len(el.findall(".//tr")) >= 2:
                found.append(el)
            continue
        if tag == "a" or any(a.tag == "a" for a in el.iterancestors()):
            continue  # links to other reports are not this report
        own = _SPACE.sub("", el.text or "")
        if own and (_is_title(own) or _SECTION_HEADING.match(own)):
            found.append(el)
    return found


def _tag(el: etree._Element) -> str:
    return el.tag.lower() if isinstance(el.tag, str) else ""


def _is_title(text: str) -> bool:
    """A report title names a year and the report, and is not a breadcrumb ('首页 > … > 年度报告')."""
    return (
        len(text) <= 80
        and bool(_TITLE_YEAR.search(text))
        and bool(re.search(r"年度?[报報]告|年[报報]", text))
        and not re.search(r"[>›»]|当前位置|现在的位置|所在位置", text)
    )


def _drop_chrome(body: etree._Element, counts: _Counts, important: list[etree._Element]) -> None:
    """Remove menus, breadcrumbs, footers and hidden blocks that hold no table, no heading and little text."""
    counts.compute(body)
    total = max(counts[body], 1)
    keep = set()
    for el in important:
        keep.add(el)
        keep.update(el.iterancestors())
    for el in list(body.iter()):
        if el in keep or el.getparent() is None or not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        name = f"{el.get('class', '')} {el.get('id', '')}"
        chrome = tag in _SOFT_DROP or _CHROME_NAME.search(name) or _HIDDEN.search(el.get("style", ""))
        if chrome and counts[el] < 0.2 * total and el.find(".//table") is None and tag != "table":
            _remove(el)
    counts.compute(body)


def _article(body: etree._Element, counts: _Counts, important: list[etree._Element]) -> etree._Element:
    """The smallest element holding most of the Chinese text, widened to hold every important element."""
    total = counts[body]
    if total == 0:
        return body
    article = body
    while True:  # only containers: a single <p> never stands for the article
        child = next((c for c in article if _tag(c) in _CONTAINERS and counts[c] >= 0.8 * total), None)
        if child is None:
            break
        article = child
    for el in important:
        while article is not body and not (el is article or any(a is article for a in el.iterancestors())):
            article = article.getparent()
    if article.tag.lower() in {"tr", "tbody", "thead", "tfoot"}:  # never start inside a table's structure
        while article.tag.lower() != "table" and article is not body:
            article = article.getparent()
    return article


@dataclass(slots=True)
class _Token:
    kind: str  # text | break | br | empty | table
    text: str = ""
    line: int | None = None
    element: etree._Element | None = None


def _tokens(root: etree._Element, *, in_cell: bool) -> Iterator[_Token]:
    """Walk `root` in document order without recursion; tables become one token unless they only lay out."""
    stack: list[tuple[bool, etree._Element]] = [(True, root)]
    while stack:
        entering, el = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        line = el.sourceline
        if not entering:
            if tag in _BLOCK and not (in_cell and tag in {"td", "th"}):
                yield _Token("break", line=line)
            if el is not root and el.tail:
                parent = el.getparent()
                yield _Token("text", el.tail, parent.sourceline if parent is not None else line)
            continue
        if not tag:
            if el.tail and el is not root:
                stack.append((False, el))
            continue
        if tag == "br":
            yield _Token("br", line=line)
            if el.tail:
                yield _Token("text", el.tail, line)
            continue
        if tag == "table" and el is not root and not in_cell and not _is_layout_table(el):
            yield _Token("break", line=line)
            yield _Token("table", line=line, element=el)
            if el.tail:
                yield _Token("text", el.tail, line)
            continue
        if in_cell and tag in {"td", "th"}:
            if el.getprevious() is not None:  # cells of a nested table stay on their row's line
                yield _Token("text", _SEP, line)
        elif tag in _BLOCK:
            yield _Token("break", line=line)
            if tag in _EMPTY_LINE_TAGS and not _SPACE.sub("", "".join(el.itertext())):
                yield _Token("empty", line=line)
                stack.append((False, el))
                continue
        if el.text:
            if tag == "pre":
                for i, part in enumerate(el.text.split("\n")):
                    if i:
                        yield _Token("br", line=line)
                    yield _Token("text", part, line)
            else:
                yield _Token("text", el.text, line)
        stack.append((False, el))
        stack.extend((True, child) for child in reversed(el))


def _is_layout_table(table: etree._Element) -> bool:
    """A table that arranges the page rather than holding data: one cell, or nested tables beside running text."""
    cells = [c for c in table.iter("td", "th") if _owner_table(c) is table]
    if len(cells) <= 1:
        return True
    if table.find(".//table") is None:
        return False
    return any(len(_SPACE.sub("", "".join(c.itertext()))) > 200 for c in cells) or _max_cells_per_row(table) <= 2


def _owner_table(el: etree._Element) -> etree._Element | None:
    return next(el.iterancestors("table"), None)


def _rows(table: etree._Element) -> list[etree._Element]:
    """The table's own rows (not those of nested tables), in document order."""
    return [tr for tr in table.iter("tr") if _owner_table(tr) is table]


def _max_cells_per_row(table: etree._Element) -> int:
    return max((len([c for c in tr if isinstance(c.tag, str) and c.tag.lower() in {"td", "th"}]) for tr in _rows(table)), default=0)


def _lines(tokens: Iterator[_Token]) -> Iterator[tuple[str, int | None]]:
    """Tokens → rendered lines: whitespace collapsed, <br> a forced line end, <br><br> a blank line."""
    parts: list[str] = []
    first_line: int | None = None
    last = ""
    for token in tokens:
        if token.kind == "text":
            if first_line is None and token.text.strip():
                first_line = token.line
            parts.append(token.text)
        elif token.kind in {"break", "br", "empty", "table"}:
            text = _render("".join(parts))
            if text or (token.kind == "br" and last == "br"):
                yield text, first_line if first_line is not None else token.line
            elif token.kind == "empty":
                yield "", token.line
            parts, first_line = [], None
            if token.kind == "table":
                yield token.element, token.line  # type: ignore[misc]
        last = token.kind if token.kind != "text" or token.text.strip() else last
    text = _render("".join(parts))
    if text:
        yield text, first_line


def _render(text: str) -> str:
    text = _SPACE.sub(" ", text).strip()
    if _SEP in text:
        text = re.sub(rf" ?{_SEP} ?", "\t", text).strip(" \t")
    return text


class _Blocks:
    """The article as blocks: paragraphs in reading order, grids numbered as they come."""

    def __init__(self, body_of: etree._Element) -> None:
        self.root = body_of
        self.n_grids = 0

    def run(self) -> list[Block]:
        blocks: list[Block] = []
        if self.root.tag.lower() == "table" and not _is_layout_table(self.root):
            tokens: Iterator[_Token] = iter([_Token("table", line=self.root.sourceline, element=self.root)])
        else:
            tokens = _tokens(self.root, in_cell=False)
        for item, line in _lines(tokens):
            if isinstance(item, str):
                blocks.append(Paragraph(item, Where(line=line)))
            else:
                grid = self.grid(item)
                if grid is not None:
                    blocks.append(grid)
        return blocks

    def grid(self, table: etree._Element) -> Grid | None:
        """Cells at their top-left (row, col): each cell takes the first free column of its row."""
        rows = _rows(table)
        index = self.n_grids
        cells: list[GridCell] = []
        taken: dict[int, set[int]] = {}
        positions = 0
        for r, tr in enumerate(rows):
            col = 0
            for td in tr:
                if not isinstance(td.tag, str) or td.tag.lower() not in {"td", "th"}:
                    continue
                free = taken.setdefault(r, set())
                while col in free:
                    col += 1
                rowspan = max(1, min(_span(td.get("rowspan")), len(rows) - r))
                colspan = max(1, min(_span(td.get("colspan")), _MAX_COLSPAN))
                positions += rowspan * colspan
                if positions > _MAX_GRID_POSITIONS:
                    raise UnreadableError("HTML 表格过大（行列跨度超出上限）")
                for rr in range(r, r + rowspan):
                    taken.setdefault(rr, set()).update(range(col, col + colspan))
                where = Where(line=td.sourceline, table=index, row=r, col=col)
                cells.append(GridCell(r, col, _cell_text(td), rowspan, colspan, where))
                col += colspan
        if not cells:
            return None
        self.n_grids += 1
        return Grid(cells, Where(line=table.sourceline, table=index))


def _span(value: str | None) -> int:
    """rowspan/colspan as written ('2', ' 3 ', '2px'); 0 or junk count as 1 (0 is clamped to the table by the caller)."""
    match = re.match(r"\s*(\d+)", value or "")
    if not match:
        return 1
    number = int(match.group(1)[:7])
    return number if number > 0 else 1_000_000


def _cell_text(td: etree._Element) -> str:
    """A cell's lines (<br>, <p> and nested-table rows) joined by newlines; empty lines dropped."""
    return "\n".join(text for text, _ in _lines(_tokens(td, in_cell=True)) if isinstance(text, str) and text)
