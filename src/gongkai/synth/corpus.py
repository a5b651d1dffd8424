"""Write many synthetic reports and their truth files into a directory (the `gongkai synth` command)."""

from __future__ import annotations

import json
import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gongkai.synth.faults import pick_random
from gongkai.synth.model import YEARS, Synthetic, make_report
from gongkai.synth.variants import pick as pick_variants

FORMATS = ("txt", "md", "html", "docx", "ofd", "pdf", "doc", "scan_pdf", "scan_png", "md_html", "md_docx", "md_pdf")
OFFICE = ("pdf", "doc", "scan_pdf", "scan_png", "md_pdf")
CONVERTED = ("md_html", "md_docx", "md_pdf")
EXTENSIONS = {"txt": "txt", "md": "md", "html": "html", "docx": "docx", "ofd": "ofd", "pdf": "pdf", "doc": "doc",
              "scan_pdf": "pdf", "scan_png": "png", "md_html": "md", "md_docx": "md", "md_pdf": "md"}  # fmt: skip


def plan(index: int, seed: int, fault_mode: str | tuple[str, ...] | None, variant_mode: str | tuple[str, ...] | None = None) -> Synthetic:
    """The report at `index` of a corpus: its own seed, template, year, (random) faults and layout variants."""
    report_seed = seed * 1_000_003 + index
    rng = random.Random(f"plan:{report_seed}")
    if variant_mode == "random":
        variants = pick_variants(random.Random(f"variants:{report_seed}"))  # a stream of its own: the rest draws as before
    else:
        variants = tuple(variant_mode or ())
    if fault_mode == "random" and rng.random() < 0.04:
        return make_report(report_seed, faults=("outdated_template",), variants=variants)
    template = "2021" if rng.random() < 0.7 else "2019"
    year = rng.randint(*YEARS[template])
    if fault_mode == "random":
        faults = pick_random(rng, template, year)
    else:
        faults = tuple(fault_mode or ())
    return make_report(report_seed, template=template, year=year, faults=faults, variants=variants)


def _layout(syn: Synthetic, fmt: str) -> str | None:
    if fmt == "txt":
        from gongkai.synth.render_text import LAYOUTS, choose_layout

        layout = choose_layout(syn)
        if layout == "glued" and "blank_cells" in syn.faults:  # blanks cannot be placed in a glued run
            layout = syn.rng("txt-layout-2").choice([x for x in LAYOUTS if x != "glued"])
        return layout
    if fmt == "html":
        from gongkai.synth.render_html import choose_layout

        return choose_layout(syn)
    return None


def file_stem(index: int, syn: Synthetic, fmt: str, layout: str | None) -> str:
    variant = (layout or fmt).replace("+", "-")
    return f"{index:05d}_{syn.agency.body_type}_{syn.year}_{variant}"


def write_one(outdir: Path, index: int, seed: int, fmt: str, fault_mode, variant_mode=None) -> Path:
    syn = plan(index, seed, fault_mode, variant_mode)
    layout = _layout(syn, fmt)
    name = f"{file_stem(index, syn, fmt, layout)}.{EXTENSIONS[fmt]}"
    data = syn.render(fmt, layout)
    (outdir / name).write_bytes(data)
    truth = syn.truth_for(name, fmt, layout)
    (outdir / "truth" / f"{Path(name).stem}.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return outdir / name


def write_corpus(outdir: Path, count: int, seed: int = 0, formats=("txt", "html", "docx"),
                 faults: str | tuple[str, ...] | None = None, start: int = 0,
                 variants: str | tuple[str, ...] | None = None) -> list[Path]:  # fmt: skip
    """`count` reports (numbered from `start`) cycling through `formats`, each with OUTDIR/truth/<stem>.json.

    `variants`: None, "random" (layout variants drawn per report) or names of synth/variants.py."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format(s) {unknown}; known: {FORMATS}")
    outdir = Path(outdir)
    (outdir / "truth").mkdir(parents=True, exist_ok=True)
    jobs = [(i, formats[i % len(formats)]) for i in range(start, start + count)]
    if any(f in CONVERTED for f in formats):
        from gongkai.synth.converted import _converter

        _converter("html")  # fail once, clearly, when markitdown is missing
    if any(f in OFFICE for f in formats):
        from gongkai.synth.render_office import soffice

        soffice()  # fail once, clearly, before any work
        with ThreadPoolExecutor(max_workers=max(1, min(4, (os.cpu_count() or 2) // 2))) as pool:
            return list(pool.map(lambda job: write_one(outdir, job[0], seed, job[1], faults, variants), jobs))
    return [write_one(outdir, i, seed, fmt, faults, variants) for i, fmt in jobs]
