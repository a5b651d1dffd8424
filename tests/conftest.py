"""Shared fixtures: where ../shared is (env GONGKAI_SHARED), and skipping cleanly without it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GONGKAI_SHARED", ROOT.parent / "shared"))


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
