""".doc / .wps / RTF → Document: LibreOffice converts to .docx, the docx reader reads it.

Each conversion gets its own LibreOffice profile, so parallel workers never share one (a
shared profile makes soffice exit at once or deadlock), and runs in its own process group,
so a timeout kills soffice.bin and every child it started. Without LibreOffice, antiword
still gives the text (tables flattened), and the Document says so in `notes`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import uuid
from pathlib import Path

from gongkai.document import Document, Paragraph, Where
from gongkai.errors import LimitExceededError, UnreadableError

CONVERT_SECONDS = 90.0  # LibreOffice needs ~2 s warm, ~5 s with a fresh profile; a hostile file may hang
ANTIWORD_NOTE = "未安装 LibreOffice，已用 antiword 提取纯文本，表格可能不完整"


def read(data: bytes) -> Document:
    """Read a legacy Word/WPS/RTF document via LibreOffice (or antiword as a fallback)."""
    soffice = find_soffice()
    if soffice is not None:
        from gongkai.read.docx import read as read_docx

        document = read_docx(to_docx(data, soffice=soffice))
        document.format = "doc"
        return document
    if shutil.which("antiword") and not data.startswith(b"{\\rtf"):
        return _read_antiword(data)
    raise UnreadableError("无法读取 .doc/.wps 文件：未安装 LibreOffice（或 antiword）")


def find_soffice() -> str | None:
    """The LibreOffice binary (env GONGKAI_SOFFICE overrides; empty string disables it)."""
    configured = os.environ.get("GONGKAI_SOFFICE")
    if configured is not None:
        return configured or None
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_docx(data: bytes, *, soffice: str = "soffice", seconds: float = CONVERT_SECONDS) -> bytes:
    """Convert legacy document bytes to .docx bytes with a private, throwaway LibreOffice profile."""
    suffix = ".rtf" if data.lstrip()[:5] == b"{\\rtf" else ".doc"
    with tempfile.TemporaryDirectory(prefix="gongkai-doc-") as tmp:
        work = Path(tmp)
        source = work / f"source{suffix}"
        source.write_bytes(data)
        profile = work / f"gongkai-lo-{os.getpid()}-{uuid.uuid4().hex}"
        command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(work / "out"),
            str(source),
        ]
        run(command, seconds=seconds, cwd=work)
        converted = work / "out" / "source.docx"
        if not converted.exists() or converted.stat().st_size == 0:
            raise UnreadableError("无法转换 .doc 文件（LibreOffice 无法打开，文件可能已损坏）")
        return converted.read_bytes()


def run(command: list[str], *, seconds: float, cwd: Path) -> subprocess.CompletedProcess:
    """Run a converter in its own process group; on timeout the whole group is killed."""
    env = dict(os.environ, HOME=str(cwd), SAL_USE_VCLPLUGIN="svp")  # no display, no shared ~/.config
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        process_group=0,  # its own group (killable on timeout), inside the caller's session (killable by limits)
    )
    try:
        out, err = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        raise LimitExceededError(f"文档转换超时（超过 {seconds:g} 秒）") from None
    except BaseException:
        _kill_group(process)
        raise
    _kill_group(process)  # soffice may leave a child (oosplash, soffice.bin) behind
    return subprocess.CompletedProcess(command, process.returncode, out, err)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def _read_antiword(data: bytes) -> Document:
    with tempfile.TemporaryDirectory(prefix="gongkai-doc-") as tmp:
        work = Path(tmp)
        source = work / "source.doc"
        source.write_bytes(data)
        done = run(["antiword", "-m", "UTF-8.txt", "-w", "0", str(source)], seconds=CONVERT_SECONDS, cwd=work)
    if done.returncode != 0:
        raise UnreadableError("无法读取 .doc 文件（antiword 无法解析，文件可能已损坏或不是 Word 文档）")
    text = done.stdout.decode("utf-8", errors="replace")
    blocks = [Paragraph(line.rstrip(), Where(line=n)) for n, line in enumerate(text.splitlines(), start=1)]
    return Document(blocks=blocks, format="doc", notes=[ANTIWORD_NOTE])
