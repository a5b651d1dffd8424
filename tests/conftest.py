"""Shared fixtures: where ../shared is (env GONGKAI_SHARED), skipping cleanly without it, and the optional tools."""

from __future__ import annotations

import os
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GONGKAI_SHARED", ROOT.parent / "shared"))
# modules whose tests run OCR in the test process itself: after that, a fork of this process waits for
# ever on onnxruntime's threads (a Pool, a preexec_fn, a forced fork), so these run after all the others
OCR_IN_PROCESS = {"test_read_ocr.py", "test_read_pdf.py", "test_hostile.py"}


def shared_path(*parts: str) -> Path:
    """A path under ../shared, or skip the test when the folder is not there (a user's clone)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} 不存在：真实报告只在 CI 旁的 shared/ 中（可用 GONGKAI_SHARED 指定）")
    return path


@pytest.fixture
def shared():
    return shared_path


@pytest.fixture(scope="session")
def county(tmp_path_factory):
    """A generated city's audit (synth.county, seed 0): reports of ~60 bodies over three years, rosters, truth.

    Shared by the audit and review tests; each builds the store it needs from it.
    """
    import json

    from gongkai.synth.county import write_county

    folder = tmp_path_factory.mktemp("county")
    write_county(folder, seed=0)
    return folder, json.loads((folder / "audit.json").read_text(encoding="utf-8"))


def require_ocr() -> None:
    """Skip without the ocr extra; fail when it is installed but cannot load (opencv without libGL/glib).

    rapidocr imports opencv, which needs libgl1 and libglib2.0-0 from the system: without them the
    extra looks installed and OCR is quietly unavailable, which a skip would hide.
    """
    try:
        version("rapidocr-onnxruntime")
    except PackageNotFoundError:
        pytest.skip("没有安装 ocr 附加依赖（pip install 'gongkai[ocr]'）", allow_module_level=True)
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError as exc:
        pytest.fail(
            f"ocr 附加依赖已安装却无法加载（{exc}）：缺系统库 libgl1 / libglib2.0-0？请运行 scripts/install-system.sh", pytrace=False
        )


def require_soffice() -> None:
    """Skip when LibreOffice is not installed (a conversion that runs and writes nothing must fail, not skip)."""
    if shutil.which("soffice") is None:
        pytest.skip("没有 LibreOffice（soffice）：无法生成 PDF、.doc 或扫描件", allow_module_level=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """The random order's seed, also under -q (pytest-randomly prints it only in the header)."""
    seed = getattr(config.option, "randomly_seed", None)
    if seed is not None and config.pluginmanager.hasplugin("randomly"):
        terminalreporter.write_line(f"random order: rerun this one with --randomly-seed={seed}")


def pytest_collection_modifyitems(config, items) -> None:
    """The random order, with the modules that load the OCR engine into this process moved to the end (a stable sort)."""
    items.sort(key=lambda item: item.path.name in OCR_IN_PROCESS)
