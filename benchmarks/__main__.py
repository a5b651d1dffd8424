"""`python -m benchmarks [name …]`: run every benchmark module in this package (or the named ones)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

SKIP = {"fixtures"}


def main(argv: list[str]) -> None:
    names = argv or sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name not in SKIP and not m.name.startswith("_"))
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        if hasattr(module, "main"):
            print(f"== benchmarks.{name}")
            module.main()


if __name__ == "__main__":
    main(sys.argv[1:])
