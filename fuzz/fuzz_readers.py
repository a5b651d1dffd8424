"""Coverage-guided fuzzing of everything that touches a document's bytes, with atheris.

The first byte of an input picks the file name the sniffer sees and the job: the whole parse
(`gongkai.pipeline.parse`), a page image (`render_page_png`, what /reports/<sha>/pages/N.png
runs) or the source lines (`source_lines`, what /reports/<sha>/source runs). Any exception other
than a GongkaiError is a crash; atheris stops and writes the input to crash-<sha1>.
See fuzz/README.md for the command.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from gongkai.errors import GongkaiError
    from gongkai.pipeline import parse
    from gongkai.views import source_lines
    from gongkai.web.pages import render_page_png

# names steer the sniffer (markdown is chosen by name)
NAMES = ("report.txt", "report.html", "report.md", "report.docx", "report.pdf", None)
JOBS = (
    lambda data, name: parse(data, name=name),
    lambda data, name: render_page_png(data, 1),
    lambda data, name: source_lines(data, name=name),
)


def one_input(data: bytes) -> None:
    if not data:
        return
    name = NAMES[data[0] % len(NAMES)]
    job = JOBS[(data[0] // len(NAMES)) % len(JOBS)]
    try:
        job(data[1:], name)
    except GongkaiError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
