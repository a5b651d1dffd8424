"""Coverage-guided fuzzing of the readers and the pipeline with atheris.

Any exception other than a GongkaiError is a crash; atheris stops and writes the input to
crash-<sha1>. See fuzz/README.md for the command.
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from gongkai.errors import GongkaiError
    from gongkai.pipeline import parse

# names steer the sniffer (markdown is chosen by name); the first byte picks one
NAMES = ("report.txt", "report.html", "report.md", "report.docx", "report.pdf", None)


def one_input(data: bytes) -> None:
    if not data:
        return
    name = NAMES[data[0] % len(NAMES)]
    try:
        parse(data[1:], name=name)
    except GongkaiError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
