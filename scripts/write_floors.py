"""Write tests/floors.json: how many truth cells of each report gongkai gets right today.

The truth tests allow a wrong cell only when a finding of origin `extraction` names it; without a
floor, a change that blanks and flags more cells would still pass. The floor is today's count of
cells right per file, so more doubt fails a test. The file holds counts only, never a document's
content: the reports of ../shared stay there.

    .venv/bin/python scripts/write_floors.py            # samples/ and ../shared (GONGKAI_SHARED)
    .venv/bin/python scripts/write_floors.py --check    # exit 1 if a file is below its floor

Run it again (and commit tests/floors.json) when a change makes more cells right, or when the
truth files change; a lower figure must be a decision, visible in the diff.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import gongkai
from gongkai.evaluate import compare

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "tests" / "floors.json"


def truth_folders(shared: Path) -> list[tuple[str, Path]]:
    """(key prefix, folder holding the reports and their truth/) for every set with truth files."""
    folders = [("samples", ROOT / "samples")]
    folders += [(name, shared / name) for name in ("seeds", "corpus") if (shared / name / "truth").is_dir()]
    return folders


def measure(prefix: str, folder: Path) -> dict[str, dict[str, int]]:
    figures = {}
    for truth_path in sorted((folder / "truth").glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        result = compare(gongkai.parse(folder / truth["file"]), truth)
        figures[f"{prefix}/{truth['file']}"] = {"cells": result.cells, "right": result.right, "flagged": len(result.flagged)}
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with tests/floors.json instead of writing it")
    args = parser.parse_args()
    shared = Path(os.environ.get("GONGKAI_SHARED", ROOT.parent / "shared"))
    figures: dict[str, dict[str, int]] = {}
    for prefix, folder in truth_folders(shared):
        figures.update(measure(prefix, folder))
    if args.check:
        floors = json.loads(FLOORS.read_text(encoding="utf-8"))
        below = [f"{key}: {got['right']} < {floors[key]['right']}" for key, got in figures.items() if key in floors and got["right"] < floors[key]["right"]]
        print("\n".join(below) or f"{len(figures)} files at or above their floor")
        return 1 if below else 0
    if not any(key.startswith(("seeds/", "corpus/")) for key in figures):
        print(f"{shared} has no truth files: refusing to write floors without them", file=sys.stderr)
        return 2
    FLOORS.write_text(json.dumps(figures, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    right = sum(f["right"] for f in figures.values())
    cells = sum(f["cells"] for f in figures.values())
    print(f"{FLOORS.relative_to(ROOT)}: {len(figures)} files, {right} of {cells} truth cells right")
    return 0


if __name__ == "__main__":
    sys.exit(main())
