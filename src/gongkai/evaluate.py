"""Compare parse results with truth files (the format of shared/corpus/truth): how right is gongkai?"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from gongkai.errors import GongkaiError
from gongkai.locate.normalize import squash
from gongkai.pipeline import parse
from gongkai.report import Report

META_FIELDS = ("agency", "year", "template", "published")


@dataclass(slots=True)
class FileResult:
    file: str
    cells: int = 0
    right: int = 0
    flagged: list[str] = field(default_factory=list)  # wrong or missing, but named by a finding
    flagged_why: list[dict] = field(default_factory=list)  # each flagged cell: what was read, the truth, the finding naming it
    silent: list[str] = field(default_factory=list)  # wrong and named by nothing
    meta_right: int = 0
    meta_wrong: list[str] = field(default_factory=list)
    errors_expected: list[str] = field(default_factory=list)
    errors_missed: list[str] = field(default_factory=list)
    false_errors: list[str] = field(default_factory=list)
    unreadable: str | None = None

    @property
    def ok(self) -> bool:
        return not (self.silent or self.errors_missed or self.false_errors or self.unreadable)


@dataclass(slots=True)
class Evaluation:
    files: list[FileResult]

    def total(self, name: str) -> int:
        return sum(len(v) if isinstance(v := getattr(f, name), list) else v for f in self.files)

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.files)


def _same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(b)))


def compare(report: Report, truth: dict) -> FileResult:
    """One report against its truth file."""
    result = FileResult(truth.get("file", report.source.path or "?"))
    naming = [f for f in report.findings if f.origin == "extraction" or f.rule == "structure.cells_missing"]
    named = {c for f in naming for c in f.cells}
    for cell_id, expected in truth["cells"].items():
        result.cells += 1
        got = report.cells.get(cell_id)
        if _same(got, expected) and (cell_id in report.cells or expected is None):
            result.right += 1
        elif cell_id in named:
            result.flagged.append(cell_id)
            finding = next(f for f in naming if cell_id in f.cells)
            result.flagged_why.append({"cell": cell_id, "got": got, "truth": expected, "rule": finding.rule, "message": finding.message})
        else:
            result.silent.append(f"{cell_id}: {got!r} ≠ {expected!r}")
    for name in META_FIELDS:
        expected, got = truth["meta"].get(name), getattr(report.meta, name)
        same = (squash(str(got)) == squash(str(expected))) if name == "agency" and got and expected else str(got) == str(expected)
        if same:
            result.meta_right += 1
        else:
            result.meta_wrong.append(f"{name}: {got!r} ≠ {expected!r}")
    raised = {f.rule for f in report.findings}
    result.errors_expected = list(truth.get("source_errors", []))
    result.errors_missed = [r for r in result.errors_expected if r not in raised]
    allowed = set(result.errors_expected) | set(truth.get("allowed_findings", []))
    complete = truth.get("complete", True)
    for f in report.findings:
        if f.severity != "error" or f.origin != "source" or f.rule in allowed:
            continue
        if not complete and f.rule.startswith("structure."):
            continue
        result.false_errors.append(f"{f.rule}: {f.message}")
    return result


def evaluate_dir(directory: Path, truth_dir: Path) -> Evaluation:
    files: list[FileResult] = []
    for truth_path in sorted(truth_dir.glob("*.json")):
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        source = directory / truth["file"]
        try:
            report = parse(source)
        except GongkaiError as exc:
            files.append(FileResult(truth["file"], unreadable=str(exc)))
            continue
        files.append(compare(report, truth))
    return Evaluation(files)


def print_evaluation(evaluation: Evaluation, verbose: bool = False) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="gongkai eval", show_lines=False)
    for col in ("文件", "单元格", "正确", "已标记", "静默错误", "元数据", "源错误检出", "误报错误"):
        table.add_column(col)
    for f in evaluation.files:
        if f.unreadable:
            table.add_row(f.file, "-", "-", "-", "-", "-", "-", f"无法读取：{f.unreadable}")
            continue
        detected = len(f.errors_expected) - len(f.errors_missed)
        table.add_row(
            f.file[:40],
            str(f.cells),
            str(f.right),
            str(len(f.flagged)),
            ("[red]" if f.silent else "") + str(len(f.silent)),
            f"{f.meta_right}/{len(META_FIELDS)}",
            f"{detected}/{len(f.errors_expected)}",
            ("[red]" if f.false_errors else "") + str(len(f.false_errors)),
        )
    console.print(table)
    cells = evaluation.total("cells")
    right = evaluation.total("right")
    flagged = evaluation.total("flagged")
    silent = evaluation.total("silent")
    metas = evaluation.total("meta_right")
    n = len([f for f in evaluation.files if not f.unreadable])
    expected = evaluation.total("errors_expected")
    missed = evaluation.total("errors_missed")
    console.print(
        f"单元格 {cells}：正确 {right}（{right / max(cells, 1):.1%}），错误但已标记 {flagged}，"
        f"正确或已标记 {(right + flagged) / max(cells, 1):.1%}，静默错误 {silent}\n"
        f"元数据正确 {metas}/{n * len(META_FIELDS)}（{metas / max(n * len(META_FIELDS), 1):.1%}）；"
        f"源错误检出 {expected - missed}/{expected}；误报错误 {evaluation.total('false_errors')}"
    )
    if verbose:
        for f in evaluation.files:
            for kind in ("silent", "meta_wrong", "errors_missed", "false_errors"):
                for item in getattr(f, kind):
                    console.print(f"  {f.file} {kind}: {item}", markup=False)


def as_json(evaluation: Evaluation) -> str:
    """Every file's result with each flagged cell's reading, truth and finding (what `gongkai eval --json` prints)."""
    from dataclasses import asdict

    totals = {name: evaluation.total(name) for name in ("cells", "right", "flagged", "silent", "meta_right", "errors_expected", "errors_missed", "false_errors")}
    return json.dumps({"totals": totals, "files": [asdict(f) for f in evaluation.files]}, ensure_ascii=False, indent=1)


def markdown(evaluation: Evaluation, title: str) -> str:
    """The evaluation as a markdown table, for docs/accuracy.md."""
    lines = [f"### {title}", "", "| file | cells | right | flagged | silent | meta | source errors | false errors |", "|---|---|---|---|---|---|---|---|"]
    for f in evaluation.files:
        if f.unreadable:
            lines.append(f"| {f.file} | – | – | – | – | – | – | unreadable: {f.unreadable} |")
            continue
        detected = len(f.errors_expected) - len(f.errors_missed)
        lines.append(
            f"| {f.file} | {f.cells} | {f.right} | {len(f.flagged)} | {len(f.silent)} | {f.meta_right}/{len(META_FIELDS)} "
            f"| {detected}/{len(f.errors_expected)} | {len(f.false_errors)} |"
        )
    cells, right, flagged = evaluation.total("cells"), evaluation.total("right"), evaluation.total("flagged")
    n = len([f for f in evaluation.files if not f.unreadable])
    lines += [
        "",
        f"- cells: {cells}; right {right} ({right / max(cells, 1):.1%}); wrong or missing but flagged {flagged}; "
        f"right or flagged {(right + flagged) / max(cells, 1):.1%}; **silent wrong {evaluation.total('silent')}**",
        f"- metadata right: {evaluation.total('meta_right')}/{n * len(META_FIELDS)}",
        f"- source errors detected: {evaluation.total('errors_expected') - evaluation.total('errors_missed')}/{evaluation.total('errors_expected')}; "
        f"false errors: {evaluation.total('false_errors')}",
        "",
    ]
    return "\n".join(lines)
