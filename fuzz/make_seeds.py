"""Write a seed corpus for the fuzzer: one small valid report per format and a few hostile files."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import hostile  # noqa: E402


def main(folder: str = "fuzz/seeds") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    report = hostile.valid_report(1)
    for index, fmt in enumerate(("txt", "html", "txt", "docx")):  # first byte: the name index
        (out / f"valid.{fmt}").write_bytes(bytes([index]) + report.render(fmt))
    (out / "text.pdf").write_bytes(bytes([4]) + hostile.text_pdf())
    (out / "table.md").write_bytes(bytes([2]) + b"| a | b |\n|---|---|\n| 1 | 2 |\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
