"""The engine for identities: judge every equation, skip those with a null cell, name suspects."""

from __future__ import annotations

from gongkai.cells import by_id
from gongkai.report import Finding
from gongkai.rules.catalog import CATALOG, Identity, identities

Cells = dict[str, int | float | None]


def _fmt(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _short(cell_id: str) -> str:
    spec = by_id()[cell_id]
    row = spec.label_zh.split(" / ")[0]
    row = row.split(" ")[-1] if row.startswith("(") and " " in row else row
    return row.replace("三、本年度办理结果 ", "")


def check_identities(cells: Cells, template: str) -> tuple[list[Finding], set[str]]:
    """Findings for broken identities, and the cells of identities that could not be judged."""
    broken: list[tuple[Identity, float, float]] = []
    holding: list[Identity] = []
    unjudged: set[str] = set()
    for identity in identities(template):
        values = [cells.get(c) for c in identity.cells]
        if any(v is None for v in values):
            unjudged.update(c for c in identity.cells if cells.get(c) is None)
            continue
        lhs = sum(cells[c] for c in identity.lhs)  # type: ignore[misc]
        rhs = sum(cells[c] for c in identity.rhs)  # type: ignore[misc]
        if abs(lhs - rhs) > 1e-9:
            broken.append((identity, lhs, rhs))
        else:
            holding.append(identity)
    suspects = _suspects(cells, broken, holding)
    findings = [_finding(identity, lhs, rhs, cells, suspects) for identity, lhs, rhs in broken]
    return findings, unjudged


def _finding(identity: Identity, lhs: float, rhs: float, cells: Cells, suspects: set[str]) -> Finding:
    rule = CATALOG[identity.rule]
    if identity.rule == "requests.balance":
        a, b = identity.lhs
        c, d = identity.rhs
        text = (
            f"{identity.where}：本年新收 {_fmt(cells[a])} + 上年结转 {_fmt(cells[b])} = {_fmt(lhs)}，"
            f"但办理结果总计 {_fmt(cells[c])} + 结转下年度 {_fmt(cells[d])} = {_fmt(rhs)}"
        )
    elif identity.rule == "requests.outcomes_sum":
        text = f"{identity.where}：（七）总计为 {_fmt(lhs)}，而各项办理结果之和为 {_fmt(rhs)}"
    elif identity.rule == "requests.row_sum":
        parts = " + ".join(_fmt(cells[c]) for c in identity.rhs)
        text = f"{identity.where}：总计列为 {_fmt(lhs)}，而各类申请人之和 {parts} = {_fmt(rhs)}"
    else:
        parts = " + ".join(_fmt(cells[c]) for c in identity.rhs)
        text = f"{identity.where}：总计为 {_fmt(lhs)}，而结果维持、纠正、其他、尚未审结之和 {parts} = {_fmt(rhs)}"
    own = [c for c in identity.cells if c in suspects]
    if own:
        text += f"；若“{'”或“'.join(_short(c) + '·' + by_id()[c].label_zh.split(' / ')[-1] for c in own)}”有误，改正后各项均可成立"
    return Finding(
        rule=identity.rule,
        severity=rule.severity,
        origin=rule.origin,
        message=text,
        cells=list(identity.cells),
        suspects=own,
    )


def _suspects(cells: Cells, broken: list[tuple[Identity, float, float]], holding: list[Identity]) -> set[str]:
    """Per group of broken identities that share cells: the cells whose single correction would
    make every identity of the group hold while keeping those that hold."""
    groups: list[list[tuple[Identity, float, float]]] = []
    for item in broken:
        linked = [g for g in groups if any(set(item[0].cells) & set(other.cells) for other, _, _ in g)]
        merged = [item] + [x for g in linked for x in g]
        groups = [g for g in groups if g not in linked] + [merged]
    found: set[str] = set()
    for group in groups:
        found |= _group_suspects(cells, group, holding)
    return found


def _group_suspects(cells: Cells, broken: list[tuple[Identity, float, float]], holding: list[Identity]) -> set[str]:
    common = set(broken[0][0].cells)
    for identity, _, _ in broken[1:]:
        common &= set(identity.cells)
    found: set[str] = set()
    for cell in common:
        needed: set[float] = set()
        for identity, lhs, rhs in broken:
            # the value `cell` must take for this identity to hold
            current = cells[cell]
            if cell in identity.lhs:
                needed.add(current + (rhs - lhs))  # type: ignore[operator]
            else:
                needed.add(current + (lhs - rhs))  # type: ignore[operator]
        if len(needed) != 1:
            continue
        value = needed.pop()
        if value < 0:
            continue
        trial = dict(cells)
        trial[cell] = value
        if all(_holds(i, trial) for i in holding if cell in i.cells):
            found.add(cell)
    return found


def _holds(identity: Identity, cells: Cells) -> bool:
    return abs(sum(cells[c] for c in identity.lhs) - sum(cells[c] for c in identity.rhs)) <= 1e-9  # type: ignore[misc]


def check_domain(cells: Cells) -> list[Finding]:
    """Counts are whole numbers ≥ 0 (2019 deltas may be negative); amounts ≥ 0."""
    bad: list[str] = []
    for cell_id, value in cells.items():
        if value is None:
            continue
        spec = by_id()[cell_id]
        if spec.is_amount:
            ok = value >= 0
        elif spec.is_signed:
            ok = float(value).is_integer()
        else:
            ok = value >= 0 and float(value).is_integer()
        if not ok:
            bad.append(cell_id)
    if not bad:
        return []
    shown = "；".join(f"{by_id()[c].label_zh} 为 {_fmt(cells[c])}" for c in bad[:5])  # type: ignore[arg-type]
    rule = CATALOG["value.domain"]
    return [Finding(rule="value.domain", severity=rule.severity, origin=rule.origin, message=f"数值不合规（件数应为非负整数，金额非负）：{shown}", cells=bad)]
