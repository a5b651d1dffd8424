"""One entry point for the docs generated from code (docs/cli.md, docs/data.md, docs/rules.md)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, text: str, module: str, argv: list[str] | None = None) -> int:
    """Write `text` to `path`; with --check only say whether the file is current (exit 1 when it is not)."""
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} 已过期：请运行 python -m {module}", file=sys.stderr)
            return 1
        return 0
    path.write_text(text, encoding="utf-8")
    print(f"已写入 {path}")
    return 0
