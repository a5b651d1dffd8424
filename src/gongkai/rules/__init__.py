"""rules/: the catalog of spec/rules.md as data, evaluated by one small engine."""

from __future__ import annotations

from gongkai.report import Finding


def check(extracted) -> list[Finding]:
    return list(extracted.findings)
