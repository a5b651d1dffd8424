"""Office renderings through LibreOffice: PDF and legacy .doc from our .docx, and scans of the PDF.

A scan is the PDF rasterised (pypdfium2), turned by a small random angle and speckled with
noise (Pillow): a PNG of the first page, or an image-only PDF of every page.
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
        raise OfficeUnavailable(
            "soffice (LibreOffice) not found: install libreoffice-writer to render pdf, doc or scans"
        )
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
    """Every page of the PDF as a slightly rotated, noisy greyscale image."""
    rng = syn.rng("scan")
    dpi = rng.choice((150, 170, 200))
    return [_degrade(page, rng, dpi) for page in _pages(pdf, dpi)]


def long_scan(syn: Synthetic, pdf: bytes):
    """All pages one under the other in one image, as reports posted as a single long picture are; then degraded once."""
    from PIL import Image

    rng = syn.rng("scan")
    dpi = rng.choice((150, 170, 200))
    pages = _pages(pdf, dpi)
    gap = dpi // 4
    width = max(page.width for page in pages)
    image = Image.new("L", (width, sum(page.height for page in pages) + gap * (len(pages) - 1)), 255)
    top = 0
    for page in pages:
        image.paste(page, (0, top))
        top += page.height + gap
    return _degrade(image, rng, dpi)


def _pages(pdf: bytes, dpi: int) -> list:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil().convert("L") for page in document]
    finally:
        document.close()


def _degrade(image, rng, dpi: int):
    """A clean page image as a scanner gives it: turned a little, grey specks, a little blur."""
    from PIL import Image, ImageChops, ImageFilter

    angle = rng.uniform(-1.5, 1.5)
    image = image.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    sigma = rng.uniform(15, 25)  # about 0.3% of the pixels become grey specks
    specks = Image.effect_noise(image.size, sigma).point(lambda v, s=sigma: 150 if v < 128 - 2.7 * s else 255)
    image = ImageChops.darker(image, specks)
    image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.2, 0.6)))
    image.info["dpi"] = (dpi, dpi)
    return image


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
