"""Page images for provenance: a PDF page rendered with pypdfium2, an OFD page drawn from its objects, or a scanned image, as PNG."""

from __future__ import annotations

import io

from gongkai.errors import UnreadableError
from gongkai.read.sniff import sniff

PDF_SCALE = 2.0  # pixels per PDF point: the overlay divides a bbox (in points) by this
MAX_PIXELS = 40_000_000
CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"  # installed by scripts/install-system.sh


def page_scale(fmt: str) -> float:
    """Pixels per bbox unit: PDF and OFD boxes are in points, image boxes already in pixels."""
    return PDF_SCALE if fmt in ("pdf", "ofd") else 1.0


def render_page_png(data: bytes, page: int, scale: float | None = None) -> bytes:
    """PNG of page `page` (1-based) of a PDF or OFD, or of the image itself; raises UnreadableError."""
    fmt = sniff(data)
    if fmt == "pdf":
        import pypdfium2 as pdfium

        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as exc:
            raise UnreadableError(f"PDF 无法打开（{exc}）") from None
        try:
            if not 1 <= page <= len(pdf):
                raise UnreadableError(f"没有第 {page} 页（共 {len(pdf)} 页）")
            p = pdf[page - 1]
            s = scale or PDF_SCALE
            width, height = p.get_size()
            if width * height * s * s > MAX_PIXELS:
                s = (MAX_PIXELS / (width * height)) ** 0.5
            image = p.render(scale=s).to_pil()
        finally:
            pdf.close()
    elif fmt == "image":
        from PIL import Image

        if page != 1:
            raise UnreadableError("图片只有一页")
        Image.MAX_IMAGE_PIXELS = MAX_PIXELS
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except Exception as exc:  # noqa: BLE001 — PIL raises many kinds on bad images
            raise UnreadableError(f"图片无法打开（{type(exc).__name__}）") from None
        if scale and scale != 1.0:
            image = image.resize((max(1, int(image.width * scale)), max(1, int(image.height * scale))))
    elif fmt == "ofd":
        image = _draw_ofd_page(data, page, scale or PDF_SCALE)
    else:
        raise UnreadableError("这个文件没有页面图像（不是 PDF、OFD 或图片）")
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=False)
    return out.getvalue()


def _draw_ofd_page(data: bytes, page: int, scale: float):
    """An OFD page drawn from what the reader places on it (each character in its box, the ruling lines): no renderer needed."""
    from PIL import Image, ImageDraw, ImageFont

    from gongkai.read.ofd import page_objects

    (width, height), characters, rules = page_objects(data, page)
    if width * height * scale * scale > MAX_PIXELS:
        scale = (MAX_PIXELS / (width * height)) ** 0.5
    image = Image.new("L", (max(1, round(width * scale)), max(1, round(height * scale))), 255)
    draw = ImageDraw.Draw(image)
    for rule in rules:
        a, b = (rule.start * scale, rule.pos * scale), (rule.end * scale, rule.pos * scale)
        draw.line([a, b] if rule.horizontal else [a[::-1], b[::-1]], fill=0, width=1)
    fonts: dict[int, ImageFont.FreeTypeFont | ImageFont.ImageFont] = {}
    for char in characters:
        x0, top, _, bottom = char.box
        size = max(4, round((bottom - top) * scale))
        if size not in fonts:
            try:
                fonts[size] = ImageFont.truetype(CJK_FONT, size)
            except OSError:
                fonts[size] = ImageFont.load_default()
        draw.text((x0 * scale, top * scale), char.text, font=fonts[size], fill=0)
    return image
