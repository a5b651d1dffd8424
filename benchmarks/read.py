"""Read benchmarks: gongkai's reader per format against the floor of the library underneath.

- text PDF: the whole `gongkai.parse` (target ≤ 3×), and `gongkai.read.pdf.read` alone, vs
  pypdfium2 text extraction alone
- text:     the whole `gongkai.parse` of a text report vs decoding its bytes into lines
- scan:     `gongkai.read.ocr.read` vs plain rapidocr on the same page image (target ≤ 0.5×; whole reports: benchmarks/scans.py)
- .doc:     `gongkai.read.doc.read` vs the LibreOffice conversion alone
- .docx:    `gongkai.read.docx.read` vs unzipping and reading document.xml's text (target ≤ 2×), in
            CPU time of this thread, which other load on a shared machine disturbs least
- .ofd:     `gongkai.read.ofd.read` vs unzipping and reading every page's text (no target yet: measured), in CPU time
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

SHARED = Path(os.environ.get("GONGKAI_SHARED", Path(__file__).resolve().parent.parent.parent / "shared"))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) if repeat > 2 else statistics.mean(times)


def interleaved(floor_fn, ours_fn, repeat: int) -> tuple[float, float]:
    """Best of `repeat` alternating runs of each: fair on a machine shared with other work."""
    floor, ours = float("inf"), float("inf")
    for _ in range(repeat):
        floor = min(floor, best(floor_fn, 1))
        ours = min(ours, best(ours_fn, 1))
    return floor, ours


def pdfium_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    out = [page.get_textpage().get_text_range() for page in doc]
    doc.close()
    return "".join(out)


def report(name: str, ours: float, floor: float, target: float | None) -> None:
    ratio = ours / floor
    verdict = "" if target is None else ("ok" if ratio <= target else f"OVER target {target:g}×")
    print(f"{name:42s} gongkai {ours * 1000:9.1f} ms   floor {floor * 1000:9.1f} ms   ratio {ratio:5.2f}×  {verdict}")


def text_pdfs() -> None:
    """Each PDF: the whole parse against the text floor, then the same floor split over read and the later stages."""
    import gongkai
    from benchmarks.fixtures import GeneratedReport
    from gongkai.read import pdf
    from gongkai.synth import make_report

    samples = {f"generated seed {s} (pdf)": GeneratedReport(s).render("pdf") for s in (1, 2)}
    for template in ("2019", "2021"):
        samples[f"synth seed 3, {template} format (pdf)"] = make_report(3, template=template).render("pdf")
    hongze = SHARED / "corpus" / "09_hongze_2023.pdf"
    if hongze.exists():
        samples["09_hongze_2023.pdf"] = hongze.read_bytes()
    gongkai.parse(next(iter(samples.values())))  # warm imports and the spec tables
    for name, data in samples.items():
        floor, ours = interleaved(lambda data=data: pdfium_text(data), lambda data=data: gongkai.parse(data), 20)
        report(f"{name} parse", ours, floor, 3.0)
        _, read_only = interleaved(lambda data=data: pdfium_text(data), lambda data=data: pdf.read(data), 20)
        later = max(ours - read_only, 0.0)
        print(f"{'':42s} of which read {read_only * 1000:.1f} ms ({read_only / floor:.2f}×), "
              f"locate → check {later * 1000:.1f} ms ({later / floor:.2f}×)")


def texts() -> None:
    """Each text report: the whole parse (absolute times: the floor, decoding into lines, is microseconds); then the
    first parse in a fresh process over its import (what loads lazily on first use: the spec tables, the gazetteer)."""
    import subprocess
    import tempfile

    import gongkai
    from gongkai.synth import make_report

    samples = {f"synth seed 3 ({layout})": make_report(3).render("txt", layout) for layout in ("tabs", "glued", "cell_per_line")}
    for name in ("16_xjnlk_town_2023.txt", "25_hengdong_yanglin_town_2023.txt", "02_pingtan_2019.txt"):
        path = SHARED / "corpus" / name
        if path.exists():
            samples[name] = path.read_bytes()
    gongkai.parse(next(iter(samples.values())))  # warm imports, the spec tables and the gazetteer
    for name, data in samples.items():
        ours = best(lambda data=data: gongkai.parse(data), 20)
        print(f"{name + ' parse':42s} gongkai {ours * 1000:9.1f} ms")
    with tempfile.NamedTemporaryFile(suffix=".txt") as tmp:
        tmp.write(next(iter(samples.values())))
        tmp.flush()
        code = f"import time, gongkai; t = time.perf_counter(); gongkai.parse({tmp.name!r}); print(time.perf_counter() - t)"
        first = min(float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout) for _ in range(5))
    print(f"{'first parse in a fresh process':42s} gongkai {first * 1000:9.1f} ms")


def scans() -> None:
    import io

    import numpy as np
    from PIL import Image
    from rapidocr_onnxruntime import RapidOCR

    from benchmarks.fixtures import GeneratedReport, scan_pages
    from gongkai.read import ocr, ocr_models

    pages = scan_pages(GeneratedReport(1).render("pdf"), skew=0.8)[:2]
    engine = RapidOCR()
    ocr_models.models()  # load both engines before timing
    for n, page in enumerate(pages, start=1):
        pixels = np.asarray(Image.open(io.BytesIO(page)).convert("RGB"))
        floor, ours = interleaved(lambda pixels=pixels: engine(pixels), lambda page=page: ocr.read(page), 2)
        report(f"scan page {n} (png, 200 dpi)", ours, floor, 0.5)


def docs() -> None:
    from benchmarks.fixtures import GeneratedReport
    from gongkai.read import doc

    data = GeneratedReport(1).render("doc")
    soffice = doc.find_soffice()
    if soffice is None:
        print("doc: LibreOffice not installed, skipped")
        return
    floor, ours = interleaved(lambda: doc.to_docx(data, soffice=soffice), lambda: doc.read(data), 3)
    report("generated seed 1 (doc)", ours, floor, None)


def docx_floor(data: bytes) -> str:
    """Unzip word/document.xml and read all its text: what any .docx reader must do."""
    import io
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("word/document.xml")
    return "".join(etree.fromstring(xml).itertext())


def cpu_interleaved(floor_fn, ours_fn, repeat: int) -> tuple[float, float]:
    """Least CPU time of `repeat` alternating runs of each (thread time: what the work itself cost)."""
    floor, ours = float("inf"), float("inf")
    for _ in range(repeat):
        for fn, which in ((floor_fn, 0), (ours_fn, 1)):
            start = time.thread_time()
            fn()
            spent = time.thread_time() - start
            floor, ours = (min(floor, spent), ours) if which == 0 else (floor, min(ours, spent))
    return floor, ours


def docx_files() -> None:
    """Generated reports as .docx (both templates), and the same report as LibreOffice writes it when soffice is there."""
    import gongkai
    from gongkai.read import docx
    from gongkai.synth import make_report

    samples = {f"synth seed {s}, {t} format (docx)": make_report(s, template=t).render("docx") for s, t in ((1, "2021"), (2, "2019"))}
    samples.update(_libreoffice_docx(make_report(3).render("html")))
    gongkai.parse(next(iter(samples.values())))
    for name, data in samples.items():
        floor, ours = cpu_interleaved(lambda data=data: docx_floor(data), lambda data=data: docx.read(data), 200)
        report(f"{name} read", ours, floor, 2.0)
        _, whole = cpu_interleaved(lambda data=data: docx_floor(data), lambda data=data: gongkai.parse(data), 50)
        print(f"{'':42s} whole parse {whole * 1000:.1f} ms ({whole / floor:.2f}× the floor)")


def _libreoffice_docx(html: bytes) -> dict[str, bytes]:
    """The report as LibreOffice's .docx (richer XML: run properties, styles), or nothing without LibreOffice."""
    import subprocess
    import tempfile

    from gongkai.read import doc

    soffice = doc.find_soffice()
    if soffice is None:
        print("docx: LibreOffice not installed, its .docx skipped")
        return {}
    with tempfile.TemporaryDirectory(prefix="gongkai-bench-docx-") as tmp:
        source = Path(tmp) / "report.html"
        source.write_bytes(html)
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to", "docx:MS Word 2007 XML",
                        "--outdir", tmp, str(source)], capture_output=True, timeout=300, check=False)  # fmt: skip
        converted = Path(tmp) / "report.docx"
        return {"synth seed 3 via LibreOffice (docx)": converted.read_bytes()} if converted.exists() else {}


def ofd_floor(data: bytes) -> str:
    """Unzip every page of an OFD and read its text: what any OFD reader must do."""
    import io
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        pages = [archive.read(n) for n in archive.namelist() if n.endswith("Content.xml")]
    return "".join("".join(etree.fromstring(xml).itertext()) for xml in pages)


def ofd_files() -> None:
    """Generated reports as .ofd (both templates, and numbers wrapped in narrow cells)."""
    import gongkai
    from gongkai.read import ofd
    from gongkai.synth import make_report

    samples = {f"synth seed {s}, {t} format (ofd)": make_report(s, template=t).render("ofd") for s, t in ((1, "2021"), (2, "2019"))}
    samples["synth seed 6, narrow cells (ofd)"] = make_report(6, variants=("narrow_cells",)).render("ofd")
    for name, data in samples.items():
        floor, ours = cpu_interleaved(lambda data=data: ofd_floor(data), lambda data=data: ofd.read(data), 20)
        report(f"{name} read", ours, floor, None)
        _, whole = cpu_interleaved(lambda data=data: ofd_floor(data), lambda data=data: gongkai.parse(data), 10)
        print(f"{'':42s} whole parse {whole * 1000:.1f} ms ({whole / floor:.2f}× the floor)")


PARTS = {"pdf": text_pdfs, "txt": texts, "docx": docx_files, "ofd": ofd_files, "doc": docs, "scan": scans}


def main(parts: list[str] | None = None) -> None:
    """All three benchmarks, or the named ones: `python -m benchmarks.read pdf`."""
    for part in parts or list(PARTS):
        PARTS[part]()


if __name__ == "__main__":
    main(sys.argv[1:])
