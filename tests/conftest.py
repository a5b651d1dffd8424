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


@pytest.fixture(scope="session")
def audited_store(county, tmp_path_factory):
    """A small store of the generated city for the web app's audit and review tests (copy it before writing).

    Every report of five bodies: 望城区's department with a misprinted cell (`typo`), its government
    with a broken appeals sum (`block`, whose fixed re-submission is in the county's fixed/), its
    department whose reports use a short name only a person can match to the roster (`short`), and
    two bodies of 长沙县 (`others`); the county's roster imported.
    """
    import shutil

    from audit_helpers import batch, gk

    folder, truth = county
    bodies = truth["bodies"]

    def pick(fault, county_name, exclude=()):
        return next(b for b in bodies if b["roster_name"] not in exclude and county_name in b["roster_name"]
                    and any(fault in r["faults"] and int(y) >= 2023 for y, r in b["years"].items()))  # fmt: skip

    typo = pick("typo", "望城区")
    block = pick("block_sum", "望城区", exclude=(typo["roster_name"],))
    short = next(b for b in bodies if b["roster_name"] == truth["short_name"]["roster_name"])
    others = [b for b in bodies if "长沙县" in b["roster_name"]][:2]
    work = tmp_path_factory.mktemp("web-audit")
    reports = work / "reports"
    reports.mkdir()
    for body in (typo, block, short, *others):
        for record in body["years"].values():
            if record["file"]:
                shutil.copy(folder / "reports" / record["file"], reports / record["file"])
    db = work / "store.duckdb"
    batch(reports, db)
    code, _, error = gk("roster", "import", folder / "roster.xlsx", "--db", db, "--by", "张三")
    assert code == 0, error
    return {"folder": folder, "truth": truth, "reports": reports, "db": db, "typo": typo, "block": block, "short": short, "others": others}


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


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]  # fmt: skip


def require_browser() -> None:
    """Skip without Chromium or Playwright (Debian's chromium, the dev extra's playwright)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"没有 {CHROMIUM}：跳过真实浏览器测试（apt-get install chromium）")
    pytest.importorskip("playwright.sync_api", reason="没有安装 playwright（python）")


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through Playwright, one for the module."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


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
