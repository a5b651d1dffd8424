"""Helpers of the audit and review tests: the command line in-process and as a real process, and a county store."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from gongkai.cli import app
from gongkai.errors import GongkaiError


def gk(*args, input: str | None = None) -> tuple[int, str, str]:
    """A gongkai command run in-process through the typer app: (exit code, stdout, the one-line error)."""
    result = CliRunner().invoke(app, [str(a) for a in args], input=input)
    if isinstance(result.exception, GongkaiError):
        return 2, result.stdout, str(result.exception)  # what main() prints as one line, with exit 2
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, ""


def gk_json(*args):
    code, out, error = gk(*args, "--json")
    assert code == 0, error or out
    return json.loads(out)


def run(*args, input: str | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """A gongkai command as a real process."""
    return subprocess.run([sys.executable, "-m", "gongkai", *map(str, args)], capture_output=True, text=True, input=input, timeout=timeout)


def assert_one_line_error(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, one clear Chinese line on stderr (or several naming rows), never a traceback."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and done.stderr.startswith("gongkai: "), done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def batch(folder: Path, db: Path, *extra: str) -> None:
    done = run("batch", folder, "--db", db, *extra)
    assert done.returncode == 0, done.stderr[-2000:]


def copy_store(db: Path, target: Path) -> Path:
    """A copy of a store (closed), to try something on without touching the module's one."""
    shutil.copy(db, target)
    wal = Path(f"{db}.wal")
    if wal.exists():
        shutil.copy(wal, Path(f"{target}.wal"))
    return target


def docx_text(path: Path) -> str:
    """Every paragraph and table cell of a .docx, read back with python-docx."""
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    return "\n".join(parts)
