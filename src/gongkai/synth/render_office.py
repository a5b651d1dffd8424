"""Office renderings through LibreOffice: PDF and legacy .doc from our .docx, and scans of the PDF.

A scan is the PDF rasterised (pypdfium2) at 150–300 dpi and degraded as scanners and phones do
(Pillow): a red seal over the signature and sometimes over a table, a small turn, low contrast or a
shadow, grey specks, blur. `scan_png` is the whole report as one long picture, `scan_pdf` an
image-only PDF of every page.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from gongkai.synth.model import Synthetic

SOFFICE_TIMEOUT = 180


class OfficeUnavailable(RuntimeError):
    """LibreOffice (soffice) is not installed, so pdf/doc/scan renderings cannot be made."""


def soffice() -> str:
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if not path:
        raise OfficeUnavailable("soffice (LibreOffice) not found: install libreoffice-writer to render pdf, doc or scans")
    return path


def convert(docx: bytes, target: str) -> bytes:
    """docx bytes → `target` ('pdf' or 'doc') bytes via a headless LibreOffice with its own profile."""
    exe = soffice()
    with tempfile.TemporaryDirectory(prefix="gongkai-soffice-") as tmp:
        work = Path(tmp)
        src = work / "report.docx"
        src.write_bytes(docx)
        profile = (work / f"profile-{uuid.uuid4().hex}").as_uri()
        cmd = [exe, f"-env:UserInstallation={profile}", "--headless", "--norestore",
               "--convert-to", target, "--outdir", str(work / "out"), str(src)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, timeout=SOFFICE_TIMEOUT, check=False)
        out = work / "out" / f"report.{target}"
        if not out.exists():
            raise RuntimeError(f"soffice could not convert to {target}: {done.stderr.decode(errors='replace')[-300:]}")
        return out.read_bytes()


def scans(syn: Synthetic, pdf: bytes) -> list:
    """Every page of the PDF as a scanner or a phone gives it (see `_degrade`); the last page sealed."""
    rng = syn.rng("scan")
    dpi = rng.choice(DPIS)
    looks = _looks(rng)
    pages = _pages(pdf, dpi)
    return [_degrade(page, rng, dpi, looks, seal=n == len(pages) - 1, agency=syn.agency.name) for n, page in enumerate(pages)]


def long_scan(syn: Synthetic, pdf: bytes):
    """All pages one under the other in one image, as reports posted as a single long picture are; then degraded once."""
    from PIL import Image

    rng = syn.rng("scan")
    dpi = rng.choice(DPIS)
    looks = _looks(rng)
    pages = _pages(pdf, dpi)
    gap = dpi // 4
    width = max(page.width for page in pages)
    image = Image.new("L", (width, sum(page.height for page in pages) + gap * (len(pages) - 1)), 255)
    top = 0
    for page in pages:
        image.paste(page, (0, top))
        top += page.height + gap
    return _degrade(image, rng, dpi, looks, seal=True, agency=syn.agency.name)


DPIS = (150, 170, 200, 250, 300)
CJK_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "NotoSansCJK-Regular.ttc",
)


def _cjk_font(size: int):
    from PIL import ImageFont

    for name in CJK_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _pages(pdf: bytes, dpi: int) -> list:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def _looks(rng) -> dict:
    """How one report's scan looks: a clean scanner, a grey photocopy, or a phone photo with a shadow."""
    kind = rng.choice(("scanner", "scanner", "photocopy", "photo"))
    return {
        "kind": kind,
        "contrast": (0, 255) if kind == "scanner" else (rng.randint(40, 90), rng.randint(200, 235)),
        "shadow": rng.uniform(0.55, 0.8) if kind == "photo" else None,
        "seal_over_table": rng.random() < 0.5,
    }


def _degrade(image, rng, dpi: int, looks: dict | None = None, *, seal: bool = False, agency: str = ""):
    """A clean page image as it reaches a reader: a red seal (over the signature, and sometimes over a
    table), turned a little, low contrast or a shadow across it, grey specks, a little blur."""
    from PIL import Image, ImageChops, ImageFilter

    looks = looks or {"kind": "scanner", "contrast": (0, 255), "shadow": None, "seal_over_table": False}
    image = image.convert("RGB")
    if seal:
        _stamp(image, rng, dpi, agency, near="bottom")
    if looks["seal_over_table"]:
        _stamp(image, rng, dpi, agency, near="middle")
    angle = rng.uniform(-1.5, 1.5)
    image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=(255, 255, 255))
    low, high = looks["contrast"]
    if (low, high) != (0, 255):
        image = image.point(lambda v: low + v * (high - low) // 255)
    if looks["shadow"] is not None:
        image = ImageChops.multiply(image, _shadow(image.size, looks["shadow"], rng))
    sigma = rng.uniform(15, 25)  # about 0.3% of the pixels become grey specks
    specks = Image.effect_noise(image.size, sigma).point(lambda v, s=sigma: 150 if v < 128 - 2.7 * s else 255)
    image = ImageChops.darker(image, Image.merge("RGB", (specks, specks, specks)))
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.6)))
    image.info["dpi"] = (dpi, dpi)
    return image


def _shadow(size, darkest: float, rng):
    """Light falling off across the page from one side, as on a phone photo of a sheet on a desk."""
    from PIL import Image

    width, height = size
    ramp = Image.linear_gradient("L").resize((width, height))
    if rng.random() < 0.5:
        ramp = ramp.transpose(Image.Transpose.ROTATE_90).resize((width, height))
    if rng.random() < 0.5:
        ramp = ramp.transpose(Image.Transpose.FLIP_TOP_BOTTOM if rng.random() < 0.5 else Image.Transpose.FLIP_LEFT_RIGHT)
    ramp = ramp.point(lambda v: round(255 * (darkest + (1 - darkest) * v / 255)))
    return Image.merge("RGB", (ramp, ramp, ramp))


def _stamp(image, rng, dpi: int, agency: str, near: str) -> None:
    """A red official seal (ring, star, the body's name around it) pressed onto the page, ink partly worn."""
    import math

    from PIL import Image, ImageChops, ImageDraw

    radius = round(0.8 * dpi)  # a 4 cm seal
    size = 2 * radius + 8
    ink = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(ink)
    centre = size / 2
    ring = max(3, dpi // 40)
    draw.ellipse((4, 4, size - 4, size - 4), outline=255, width=ring)
    star = [(centre + (0.32 if k % 2 == 0 else 0.13) * radius * math.sin(math.pi * k / 5),
             centre - (0.32 if k % 2 == 0 else 0.13) * radius * math.cos(math.pi * k / 5)) for k in range(10)]  # fmt: skip
    draw.polygon(star, fill=255)
    font = _cjk_font(max(10, radius // 5))
    name = agency or "政府信息公开专用章"
    for k, char in enumerate(name[:14]):
        theta = math.pi * (-0.75 + 1.5 * k / max(1, min(len(name), 14) - 1))
        x = centre + 0.72 * radius * math.sin(theta)
        y = centre - 0.72 * radius * math.cos(theta)
        draw.text((x, y), char, fill=255, font=font, anchor="mm")
    worn = Image.effect_noise((size, size), 60).point(lambda v: 255 if v > 70 else 0)
    ink = ImageChops.multiply(ink, worn)
    width, height = image.size
    if near == "bottom":
        x = rng.randint(width // 2, max(width // 2, width - size - dpi // 3))
        y = rng.randint(max(0, height - size - dpi * 2), max(0, height - size - dpi // 2))
    else:
        x = rng.randint(width // 3, max(width // 3, width - size - dpi // 3))
        y = rng.randint(height // 4, max(height // 4, height // 2))
    red = Image.new("RGB", (size, size), (205, 35, 40))
    region = image.crop((x, y, x + size, y + size))
    stamped = ImageChops.multiply(region, red)
    image.paste(Image.composite(stamped, region, ink), (x, y))


def render(syn: Synthetic, fmt: str) -> bytes:
    import io

    docx = syn.render("docx")
    if fmt == "doc":
        return convert(docx, "doc")
    pdf = convert(docx, "pdf")
    if fmt == "pdf":
        return pdf
    buf = io.BytesIO()
    if fmt == "scan_png":
        image = long_scan(syn, pdf)
        image.save(buf, format="PNG", dpi=image.info["dpi"])
    elif fmt == "scan_pdf":
        pages = scans(syn, pdf)
        pages[0].save(buf, format="PDF", save_all=True, append_images=pages[1:], resolution=pages[0].info["dpi"][0])
    else:
        raise ValueError(fmt)
    return buf.getvalue()
