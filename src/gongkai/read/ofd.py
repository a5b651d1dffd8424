"""OFD (GB/T 33190-2016) → Document: text lines as Paragraphs, ruled tables as Grids, with page + bbox.

An OFD is a zip package. OFD.xml's DocBody names the document (DocRoot → Doc_0/Document.xml),
which lists its pages (Pages/Page BaseLoc), their size (CommonData/PageArea, or a page's own Area)
and the template pages drawn under them. A page's Content holds layers of objects: a TextObject
places the characters of its TextCodes from X, Y and DeltaX/DeltaY inside its Boundary (through
its CTM), and a PathObject's AbbreviatedData (M, L, B, Q, A, C) draws the ruling lines. Pieces and
rules then go through the PDF reader's layout (`page_layout`): tables, running heads and tables
split by page breaks are handled once for both formats. Millimetres become points, so boxes and
tolerances are the PDF reader's.

Safe by construction: the package is checked before anything is unpacked (entries, sizes,
compression ratio), each part is read up to a cap, XML is parsed without DTDs, entities or
network, pages are capped. Glyphs drawn as outlines or pictures (no TextCode) cannot be read:
such pages are named in a note, and a file without any text is refused as image-like.
"""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import zipfile
import zlib

from lxml import etree

from gongkai.document import Document
from gongkai.errors import UnreadableError
from gongkai.read.grid_from_lines import GridSettings, Piece, Rule, find_tables, straight_edges, thin_fill
from gongkai.read.page_layout import Page, assemble, could_be_table, drop_running_heads, layout_page, mark_spilled_numbers, straddles

SETTINGS = GridSettings()
MM = 72 / 25.4  # points per millimetre, OFD's unit
MAX_PAGES = 2000  # as for PDF: a report has a handful
MAX_ENTRIES = 20_000  # files in the package (a page is one or two)
MAX_PART_BYTES = 32 * 1024 * 1024  # one XML part, uncompressed
MAX_TOTAL_BYTES = 256 * 1024 * 1024  # all entries together, uncompressed (fonts and images included)
MAX_RATIO = 200  # uncompressed / compressed, for entries over 1 MB
MAX_CHARACTERS = 2_000_000  # characters placed in the whole document (a report has some ten thousand)
MAX_OBJECTS = 1_000_000  # text, path and image objects in the whole document
A4 = (0.0, 0.0, 210.0, 297.0)
_ASCENT, _DESCENT = 0.86, 0.14  # share of the font size above and below the baseline
_JOIN_GAP = 0.1  # characters of one TextCode closer than this share of the size are one piece
_IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
_OBJECTS = frozenset({"TextObject", "PathObject", "ImageObject", "CompositeObject"})
_PATH_TOKEN = re.compile(r"[A-Za-z]|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_PATH_ARGS = {"S": 2, "M": 2, "L": 2, "Q": 4, "B": 6, "A": 7, "C": 0}
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError)


def read(data: bytes) -> Document:
    """Read an OFD; raises UnreadableError for a broken, hostile or image-like package."""
    package = _Package(data)
    try:
        return _read(package)
    finally:
        package.zip.close()


def page_objects(data: bytes, number: int) -> tuple[tuple[float, float], list[Piece], list[Rule]]:
    """Page `number`'s size, characters and ruling lines in points: what a page image for provenance draws."""
    package = _Package(data)
    try:
        reader, refs = _document(package)
        if not 1 <= number <= len(refs):
            raise UnreadableError(f"没有第 {number} 页（共 {len(refs)} 页）")
        box = reader.collect(refs[number - 1], number)
        characters = [c for piece in reader.pieces for c in reader.runs.get(id(piece), (piece,))]
        return (box[2] * MM, box[3] * MM), characters, reader.rules
    finally:
        package.zip.close()


def _document(package: _Package) -> tuple[_PageReader, list]:
    """The reader of the package's first document and its page references (a page count within the cap)."""
    root_name = _doc_root(package)
    document = package.xml(root_name, "文档（Document.xml）")
    default_box = _box_of(_find(document, "CommonData", "PageArea", "PhysicalBox")) or A4
    templates = {t.get("ID"): t.get("BaseLoc") for t in _descendants(document, "TemplatePage") if t.get("ID")}
    page_refs = list(_descendants(_find(document, "Pages"), "Page"))
    if not page_refs:
        raise UnreadableError("OFD 没有页面")
    if len(page_refs) > MAX_PAGES:
        raise UnreadableError(f"OFD 页数过多（{len(page_refs)} 页，上限 {MAX_PAGES}）")
    return _PageReader(package, posixpath.dirname(root_name), templates, default_box), page_refs


def _read(package: _Package) -> Document:
    reader, page_refs = _document(package)
    pages: list[Page] = []
    drawn: list[int] = []  # pages whose glyphs are outlines or pictures
    for number, ref in enumerate(page_refs, start=1):
        page = reader.read(ref, number)
        if page is None:
            drawn.append(number)
        else:
            pages.append(page)
    n_pages = len(page_refs)
    if not any(page.items for page in pages):
        if drawn:
            raise UnreadableError("OFD 中没有文字层（文字以图形或图片绘制，相当于扫描件），无法读取；请用 OFD 阅读器导出为 PDF 或图片后再解析（将用 OCR 识别）")
        raise UnreadableError("OFD 中没有文字内容")
    notes = []
    if drawn:
        which = "第 " + "、".join(map(str, drawn)) + " 页"
        notes.append(f"OFD {which}没有文字层（文字以图形或图片绘制），未能读取：其中的文字和表格不在解析结果中")
    mark_spilled_numbers(pages)
    drop_running_heads(pages)
    return Document(blocks=assemble(pages), format="ofd", pages=n_pages, notes=notes, partial=bool(drawn))


# ── the package: zip limits, parts, XML without DTDs ─────────────────────────


class _Package:
    """The zip, checked against bombs before anything is unpacked; parts read by normalised name."""

    def __init__(self, data: bytes):
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except _ZIP_ERRORS as err:
            raise UnreadableError("OFD 文件已损坏，不是有效的 zip 压缩包") from err
        if len(infos) > MAX_ENTRIES:
            raise UnreadableError(f"OFD 包内文件过多（{len(infos)} 个，上限 {MAX_ENTRIES}）")
        if sum(info.file_size for info in infos) > MAX_TOTAL_BYTES:
            raise UnreadableError("OFD 解压后过大，超出解压大小上限")
        self.infos = {_normal(info.filename): info for info in infos if not info.is_dir()}
        self.folded = {name.lower(): name for name in self.infos}  # some writers differ in case from their own references
        self.characters = 0
        self.objects = 0

    def find(self, name: str) -> zipfile.ZipInfo | None:
        info = self.infos.get(name)
        if info is None and name.lower() in self.folded:
            info = self.infos[self.folded[name.lower()]]
        return info

    def xml(self, name: str, what: str) -> etree._Element:
        info = self.find(name)
        if info is None:
            raise UnreadableError(f"OFD 缺少{what}的文件（{name}）")
        if info.file_size > MAX_PART_BYTES or (info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1)):
            raise UnreadableError(f"OFD {what}解压后过大或压缩比异常（疑似压缩炸弹），超出解压大小上限")
        try:
            with self.zip.open(info) as part:
                content = part.read(MAX_PART_BYTES + 1)  # the header's size may lie
        except _ZIP_ERRORS as err:
            raise UnreadableError(f"OFD 文件已损坏，{what}无法解压") from err
        if len(content) > MAX_PART_BYTES:
            raise UnreadableError(f"OFD {what}解压后超出解压大小上限")
        return _parse(content, what)


def _parse(xml: bytes, what: str) -> etree._Element:
    if b"<!DOCTYPE" in xml[:4096] or b"<!ENTITY" in xml[:4096]:
        raise UnreadableError(f"OFD {what}含有不允许的 DTD 声明")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(xml, parser)
    except (etree.XMLSyntaxError, ValueError) as err:
        if "depth" in str(err).lower():
            raise UnreadableError(f"OFD {what}的 XML 嵌套过深，无法解析") from err
        raise UnreadableError(f"OFD {what}的 XML 已损坏，无法解析") from err
    if root.getroottree().docinfo.doctype:
        raise UnreadableError(f"OFD {what}含有不允许的 DTD 声明")
    return root


def _normal(name: str) -> str:
    return posixpath.normpath(name.replace("\\", "/").lstrip("/")) if name else name


def _resolve(base: str, location: str) -> str:
    """A BaseLoc: absolute from the package root, else relative to the part that names it."""
    location = location.strip().replace("\\", "/")
    name = posixpath.normpath(location.lstrip("/") if location.startswith("/") else posixpath.join(base, location))
    if name.startswith("..") or not name or name == ".":
        raise UnreadableError(f"OFD 引用了包外的文件（{location}）")
    return name


def _doc_root(package: _Package) -> str:
    """The first document's root part named by OFD.xml (DocBody/DocRoot)."""
    ofd = package.xml("OFD.xml", "入口文件（OFD.xml）")
    for body in _descendants(ofd, "DocBody"):
        root = _find(body, "DocRoot")
        if root is not None and (root.text or "").strip():
            return _resolve("", root.text)
    raise UnreadableError("OFD 入口文件（OFD.xml）中没有文档根节点（DocBody/DocRoot）")


def _local(element) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _descendants(element, name: str):
    if element is None:
        return
    for child in element.iter():
        if _local(child) == name:
            yield child


def _find(element, *path: str):
    """The first child along `path` (by local name: writers differ in namespace prefix)."""
    for name in path:
        if element is None:
            return None
        element = next((child for child in element if _local(child) == name), None)
    return element


def _numbers(text: str | None, count: int) -> tuple[float, ...] | None:
    if not text:
        return None
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        return None
    return values if len(values) == count else None


def _box_of(element) -> tuple[float, ...] | None:
    box = _numbers(element.text if element is not None else None, 4)
    return box if box and box[2] > 0 and box[3] > 0 else None


def _deltas(text: str | None, limit: int) -> list[float]:
    """DeltaX/DeltaY: numbers, where 'g N D' stands for N times D; no more than `limit` of them."""
    if not text:
        return []
    out: list[float] = []
    tokens = text.split()
    i = 0
    try:
        while i < len(tokens) and len(out) < limit:
            if tokens[i] == "g" and i + 2 < len(tokens):
                out.extend([float(tokens[i + 2])] * max(0, min(int(tokens[i + 1]), limit - len(out))))
                i += 3
            else:
                out.append(float(tokens[i]))
                i += 1
    except ValueError:
        raise UnreadableError("OFD 文字的字距（DeltaX/DeltaY）不是数字") from None
    return out


# ── one page ─────────────────────────────────────────────────────────────────


class _PageReader:
    """Pieces and rules of a page's objects (its template pages first), in points on the page."""

    def __init__(self, package: _Package, base: str, templates: dict[str, str], default_box: tuple[float, ...]):
        self.package, self.base, self.templates, self.default_box = package, base, templates, default_box
        self._template_content: dict[str, etree._Element] = {}

    def collect(self, ref, number: int) -> tuple[float, ...]:
        """The pieces, rules and drawn objects of the page `ref` names (its template pages first); its box in millimetres."""
        location = ref.get("BaseLoc")
        if not location:
            raise UnreadableError(f"OFD 第 {number} 页没有指明内容文件（Page 缺少 BaseLoc）")
        content = self.package.xml(_resolve(self.base, location), f"第 {number} 页")
        box = _box_of(_find(content, "Area", "PhysicalBox")) or self.default_box
        self.pieces: list[Piece] = []
        self.runs: dict[int, list[Piece]] = {}  # id(piece of several characters) → its characters
        self.rules: list[Rule] = []
        self.drawn = 0  # pictures, curves and text objects without text
        self.order = 0  # visible characters so far, in drawing order
        self.origin = box[0], box[1]
        for template in _descendants(content, "Template"):
            location = self.templates.get(template.get("TemplateID"))
            if location:
                self._objects(self._template(location, number))
        self._objects(_find(content, "Content"))
        return box

    def read(self, ref, number: int) -> Page | None:
        """The page laid out; None when it draws something but holds no text (glyphs as outlines or pictures)."""
        box = self.collect(ref, number)
        if not self.pieces:
            return None if self.drawn else Page(number, box[3] * MM, [])
        tables = find_tables(self.rules, SETTINGS) if could_be_table(self.rules) else []
        pieces = self.pieces
        if tables:
            pieces = [p for piece in pieces for p in (self.runs[id(piece)] if id(piece) in self.runs and straddles(piece.box, tables) else (piece,))]
        return layout_page(number, box[3] * MM, pieces, tables)

    def _template(self, location: str, number: int) -> etree._Element | None:
        name = _resolve(self.base, location)
        if name not in self._template_content:
            self._template_content[name] = _find(self.package.xml(name, f"第 {number} 页的模板页"), "Content")
        return self._template_content[name]

    def _objects(self, container) -> None:
        """Every object under a Content, its Layers and PageBlocks, in drawing order."""
        if container is None:
            return
        for element in container.iter():
            kind = _local(element)
            if kind in _OBJECTS:
                self.package.objects += 1
                if self.package.objects > MAX_OBJECTS:
                    raise UnreadableError(f"OFD 图形和文字对象过多（超过 {MAX_OBJECTS} 个）")
            if kind == "TextObject":
                self._text(element)
            elif kind == "PathObject":
                self._path(element)
            elif kind in ("ImageObject", "CompositeObject"):
                self.drawn += 1

    def _place(self, obj) -> tuple[tuple[float, ...], float, float]:
        """The object's CTM and the page offset of its Boundary, in millimetres."""
        boundary = _numbers(obj.get("Boundary"), 4) or (0.0, 0.0, 0.0, 0.0)
        ctm = _numbers(obj.get("CTM"), 6) or _IDENTITY
        return ctm, boundary[0] - self.origin[0], boundary[1] - self.origin[1]

    def _text(self, obj) -> None:
        ctm, ox, oy = self._place(obj)
        a, b, c, d, e, f = ctm
        try:
            size = float(obj.get("Size") or 0)
        except ValueError:
            size = 0.0
        size = size if size > 0 else 3.5
        scale = abs(a * d - b * c) ** 0.5 or 1.0  # a CTM may scale the glyphs: Size="1" with CTM="10.5 0 0 10.5 0 0"
        x = y = None
        placed = False
        for code in obj:
            if _local(code) != "TextCode":
                continue
            text = code.text or ""
            try:
                x = float(code.get("X")) if code.get("X") is not None else x
                y = float(code.get("Y")) if code.get("Y") is not None else y
            except ValueError:
                raise UnreadableError("OFD 文字的位置（TextCode 的 X/Y）不是数字") from None
            if x is None or y is None or not text.strip():
                continue
            self.package.characters += len(text)
            if self.package.characters > MAX_CHARACTERS:
                raise UnreadableError(f"OFD 文字过多（超过 {MAX_CHARACTERS} 个字符）")
            dx, dy = _deltas(code.get("DeltaX"), len(text)), _deltas(code.get("DeltaY"), len(text))
            run: list[Piece] = []
            gx, gy, gap = x, y, False
            for i, ch in enumerate(text):
                natural = size if unicodedata.east_asian_width(ch) in "WF" else 0.5 * size
                step_x = dx[i] if i < len(dx) else (0.0 if dy else natural)
                step_y = dy[i] if i < len(dy) else 0.0
                if ch.isspace() or not ch.isprintable():
                    gap = True
                else:
                    width = min(step_x, natural) if step_x > 0 else natural
                    corners = [(gx, gy - _ASCENT * size), (gx + width, gy - _ASCENT * size), (gx, gy + _DESCENT * size), (gx + width, gy + _DESCENT * size)]
                    us = [a * px + c * py + e + ox for px, py in corners]
                    vs = [b * px + d * py + f + oy for px, py in corners]
                    box = (min(us) * MM, min(vs) * MM, max(us) * MM, max(vs) * MM)
                    run = self._add(Piece(ch, box, None, box[3] - box[1], self.order, gap), run, size * scale * MM)
                    self.order += 1
                    placed, gap = True, False
                gx, gy = gx + step_x, gy + step_y
            self._close(run)
        if not placed and any(_local(child) in ("CGTransform", "Glyphs") for child in obj.iter()):
            self.drawn += 1  # glyph indices without text: nothing to read

    def _add(self, char: Piece, run: list[Piece], size: float) -> list[Piece]:
        """A character joins the run before it when it follows on the same line without a gap."""
        if run and not char.gap_before:
            last = run[-1]
            if abs(char.box[1] - last.box[1]) < 0.01 and abs(char.box[3] - last.box[3]) < 0.01 and -0.01 <= char.box[0] - last.box[2] <= _JOIN_GAP * size:
                run.append(char)
                return run
        self._close(run)
        return [char]

    def _close(self, run: list[Piece]) -> None:
        if not run:
            return
        if len(run) == 1:
            self.pieces.append(run[0])
            return
        first, last = run[0], run[-1]
        box = (first.box[0], first.box[1], last.box[2], last.box[3])
        piece = Piece("".join(p.text for p in run), box, None, first.size, first.order, first.gap_before)
        self.pieces.append(piece)
        self.runs[id(piece)] = run

    def _path(self, obj) -> None:
        stroked = obj.get("Stroke", "true").strip().lower() != "false" and not _is_light(_find(obj, "StrokeColor"))
        filled = obj.get("Fill", "false").strip().lower() == "true" and not _is_light(_find(obj, "FillColor"))
        data = _find(obj, "AbbreviatedData")
        if data is None or not (data.text or "").strip():
            return
        ctm, ox, oy = self._place(obj)
        subpaths, curved = _subpaths(data.text, ctm, ox, oy)
        if curved:
            self.drawn += 1  # glyph outlines are curves; ruling lines are not
        if not (stroked or filled):
            return
        for points in subpaths:
            if stroked:
                self.rules.extend(straight_edges(points))
            if filled and len(points) >= 3 and (rule := thin_fill(points)) is not None:
                self.rules.append(rule)


def _is_light(colour) -> bool:
    """A colour too pale (or too transparent) to be a printed rule."""
    if colour is None:
        return False
    values = _numbers(colour.get("Value"), 3)
    try:
        alpha = float(colour.get("Alpha", "255"))
    except ValueError:
        alpha = 255.0
    return alpha < 40 or (values is not None and min(values) > 200)


def _subpaths(text: str, ctm: tuple[float, ...], ox: float, oy: float) -> tuple[list[list[tuple[float, float]]], bool]:
    """AbbreviatedData as polylines in points on the page (a curve breaks the run); and whether it has curves."""
    a, b, c, d, e, f = ctm
    tokens = _PATH_TOKEN.findall(text)
    subpaths: list[list[tuple[float, float]]] = []
    curved = False
    i = 0
    while i < len(tokens):
        command = tokens[i]
        n = _PATH_ARGS.get(command)
        if n is None or i + n >= len(tokens):
            break  # an unknown command or a number out of place: the rest is not read
        try:
            args = [float(t) for t in tokens[i + 1 : i + 1 + n]]
        except ValueError:
            break
        i += 1 + n
        if command == "C":
            if subpaths and subpaths[-1]:
                subpaths[-1].append(subpaths[-1][0])
            continue
        px, py = args[-2], args[-1]
        point = ((a * px + c * py + e + ox) * MM, (b * px + d * py + f + oy) * MM)
        if command in ("S", "M") or not subpaths:
            subpaths.append([point])
        elif command == "L":
            subpaths[-1].append(point)
        else:  # a curve or an arc: not a rule; break the run so no false straight edge is made
            curved = True
            subpaths.append([point])
    return subpaths, curved
