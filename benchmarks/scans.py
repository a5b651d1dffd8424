"""Scan benchmark: generated scans never seen before, read by gongkai and by plain rapidocr.

For every generated report (`gongkai.synth`, a fresh seed) as an image-only PDF and as one long
picture — seals, skew, specks, low contrast or a shadow, 150–300 dpi — it reports:

- cells right / flagged / silent, source errors found, false errors (`gongkai.evaluate.compare`);
- seconds per page of the whole `gongkai.parse`, pages read in parallel on the cores this process
  may use (as a lone parse does), and one page at a time on all of them (`GONGKAI_OCR_STREAMS=1`,
  as before pages were read in parallel; what a batch worker with one core does anyway);
- the floor: plain rapidocr (`RapidOCR()`, its default pipeline: detection, angle classifier,
  recognition) over the same page images (a long picture cut into page-sized pieces, as rapidocr
  would shrink a whole one to 2,000 px), timed right before gongkai on the same document, so both
  see the same load. Target: gongkai ≤ 0.5× the floor.

`python -m benchmarks scans`; env `GONGKAI_BENCH_SCANS` (reports, default 4), `GONGKAI_BENCH_SEED`
(default 8101), `GONGKAI_BENCH_FLOOR=0` skips the floor, `GONGKAI_BENCH_SERIAL=0` skips the
one-page-at-a-time run.
"""

from __future__ import annotations

import io
import os
import time

PAGE_RATIO = 1.414


def page_images(data: bytes) -> list:
    """The page images a plain OCR run is given: a PDF's embedded page images, or a long picture cut into pages."""
    from PIL import Image

    if data[:5] == b"%PDF-":
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        images = []
        for page in document:
            for obj in page.get_objects():
                if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE:
                    images.append(obj.get_bitmap().to_pil().convert("RGB"))
        document.close()
        return images
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    step = int(PAGE_RATIO * width)
    return [image.crop((0, top, width, min(height, top + step))) for top in range(0, height, step)]


def plain_rapidocr():
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR()
    return lambda images: [engine(__import__("numpy").asarray(image)) for image in images]


def timed_parse(data: bytes, models) -> tuple[float, object]:
    """Seconds of a whole `gongkai.parse` with these OCR models (loaded before), and its report."""
    import gongkai
    from gongkai.read import ocr_models

    ocr_models._models = models  # the process's models: one page at a time, or several at once
    started = time.perf_counter()
    report = gongkai.parse(data)
    return time.perf_counter() - started, report


def main() -> None:
    from gongkai.evaluate import compare
    from gongkai.read import ocr_models
    from gongkai.read.ocr import pages_to_recognise
    from gongkai.synth.corpus import plan

    count = int(os.environ.get("GONGKAI_BENCH_SCANS", "4"))
    seed = int(os.environ.get("GONGKAI_BENCH_SEED", "8101"))
    floor_run = plain_rapidocr() if os.environ.get("GONGKAI_BENCH_FLOOR", "1") != "0" else None
    parallel = ocr_models.Models()
    serial = ocr_models.Models(streams=1) if os.environ.get("GONGKAI_BENCH_SERIAL", "1") != "0" and parallel.streams > 1 else None
    totals = {"cells": 0, "right": 0, "flagged": 0, "silent": 0, "errors": 0, "found": 0, "false": 0, "pages": 0, "ours": 0.0,
              "serial": 0.0, "floor": 0.0}  # fmt: skip
    print(f"generated scans: --seed {seed}, {count} reports, each as scan_pdf and scan_png (faults random); "
          f"OCR on {parallel.backend}, {parallel.streams} model runs at once")  # fmt: skip
    print(f"{'file':34s} {'pages':>5s} {'cells right':>12s} {'flag':>5s} {'silent':>6s} {'errors':>7s} {'false':>5s} "
          f"{'gongkai s/page':>15s} {'1 page at a time':>17s} {'rapidocr s/page':>16s} {'ratio':>6s}")  # fmt: skip
    for index in range(count):
        syn = plan(index, seed, "random")
        for fmt in ("scan_pdf", "scan_png"):
            data = syn.render(fmt)
            truth = syn.truth_for(f"{index:03d}.{fmt}", fmt)
            pages = pages_to_recognise(data)
            floor = 0.0
            if floor_run is not None:
                images = page_images(data)
                started = time.perf_counter()
                floor_run(images)
                floor = time.perf_counter() - started
            one_at_a_time = timed_parse(data, serial)[0] if serial is not None else 0.0
            ours, report = timed_parse(data, parallel)
            result = compare(report, truth)
            totals["cells"] += result.cells
            totals["right"] += result.right
            totals["flagged"] += len(result.flagged)
            totals["silent"] += len(result.silent)
            totals["errors"] += len(result.errors_expected)
            totals["found"] += len(result.errors_expected) - len(result.errors_missed)
            totals["false"] += len(result.false_errors)
            totals["pages"] += pages
            totals["ours"] += ours
            totals["serial"] += one_at_a_time
            totals["floor"] += floor
            ratio = f"{ours / floor:5.2f}×" if floor else "—"
            print(f"{truth['file']:34s} {pages:5d} {result.right:5d}/{result.cells:<6d} {len(result.flagged):5d} {len(result.silent):6d} "
                  f"{len(result.errors_expected) - len(result.errors_missed):3d}/{len(result.errors_expected):<3d} {len(result.false_errors):5d} "
                  f"{ours / max(pages, 1):15.1f} {one_at_a_time / max(pages, 1) if serial else float('nan'):17.1f} "
                  f"{floor / max(pages, 1) if floor else float('nan'):16.1f} {ratio:>6s}", flush=True)  # fmt: skip
            for line in result.silent[:5]:
                print(f"    silent: {line}")
    t = totals
    ratio = f"{t['ours'] / t['floor']:.2f}×" if t["floor"] else "—"
    print(f"total: cells right {t['right']}/{t['cells']} ({100 * t['right'] / max(t['cells'], 1):.1f}%), flagged {t['flagged']}, "
          f"silent {t['silent']}, source errors {t['found']}/{t['errors']}, false errors {t['false']}; "
          f"{t['ours'] / max(t['pages'], 1):.1f} s/page vs plain rapidocr {t['floor'] / max(t['pages'], 1):.1f} s/page: {ratio} "
          f"(target ≤ 0.5×)")  # fmt: skip
    if t["serial"]:
        print(f"pages in parallel: {t['ours'] / max(t['pages'], 1):.1f} s/page, one page at a time: "
              f"{t['serial'] / max(t['pages'], 1):.1f} s/page ({t['ours'] / t['serial']:.2f}×)")  # fmt: skip


if __name__ == "__main__":
    main()
