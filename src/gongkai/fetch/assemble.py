"""A report posted as several image pages, put together as one image-only PDF (what the readers OCR page by page).

JPEG pages go in as they are (DCTDecode: not re-encoded); other pictures are decoded by Pillow
and stored losslessly (FlateDecode). Each page is sized from the picture's own resolution
(150 dpi when it gives none), so the PDF reader renders it back at about its pixel size.
"""

from __future__ import annotations

import io
import zlib

from gongkai.errors import GongkaiError

DEFAULT_DPI = 150


def images_to_pdf(pages: list[bytes]) -> bytes:
    """One PDF with a page per picture, in order; raises GongkaiError for a picture that cannot be read."""
    try:
        from PIL import Image
    except ImportError:
        raise GongkaiError("合成图片页需要 Pillow：pip install 'gongkai[ocr]'") from None
    objects: list[bytes] = []  # object n is objects[n - 1]
    kids = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    add(b"")  # 1: catalog, written last
    add(b"")  # 2: pages
    for number, data in enumerate(pages, start=1):
        try:
            image = Image.open(io.BytesIO(data))
            image.load()
        except Exception as exc:  # noqa: BLE001 — Pillow raises many kinds for a bad picture
            raise GongkaiError(f"第 {number} 页图片无法读取（{type(exc).__name__}）") from None
        width, height = image.size
        dpi = _dpi(image)
        if image.format == "JPEG" and image.mode in ("RGB", "L"):
            stream, colour, filt = data, ("/DeviceRGB" if image.mode == "RGB" else "/DeviceGray"), "/DCTDecode"
        else:
            image = image.convert("L" if image.mode in ("1", "L", "LA", "I", "I;16", "F") else "RGB")
            stream, colour, filt = (
                zlib.compress(image.tobytes(), 6),
                ("/DeviceRGB" if image.mode == "RGB" else "/DeviceGray"),
                "/FlateDecode",
            )
        xobject = add(
            f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace {colour} "
            f"/BitsPerComponent 8 /Filter {filt} /Length {len(stream)} >>\nstream\n".encode()
            + stream
            + b"\nendstream"
        )
        w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
        content = f"q {w_pt:.2f} 0 0 {h_pt:.2f} 0 0 cm /Im0 Do Q".encode()
        contents = add(f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream")
        kids.append(add(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {w_pt:.2f} {h_pt:.2f}] "
            f"/Resources << /XObject << /Im0 {xobject} 0 R >> >> /Contents {contents} 0 R >>".encode()
        ))  # fmt: skip
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{n} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def _dpi(image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 72 <= value <= 1200 else DEFAULT_DPI
