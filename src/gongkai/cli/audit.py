"""Commands of the January audit: roster, coverage, notice — each a call into gongkai.audit."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import Db, app, existing_store, print_json
from gongkai.errors import GongkaiError

Json = Annotated[bool, typer.Option("--json", help="输出 JSON")]

roster_app = typer.Typer(no_args_is_help=True, help="名单：要求发布年度报告的机关（导入、查看区划树、确认报告属于哪个机关）。")
app.add_typer(roster_app, name="roster")


def _console():
    from rich.console import Console

    return Console()


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="名单 .csv 或 .xlsx：名称（必填）、类型、上级、区划代码")],
    db: Db,
    by: Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")] = "",
) -> None:
    """导入名单（替换原名单）：任何一行有问题就一行也不导入，并按行号列出问题。"""
    from gongkai.audit import import_roster, pending_matches

    with existing_store(db) as store:
        done = import_roster(store, file, by=by)
        pending = pending_matches(store)
    levels = "，".join(f"{level} {n}" for level, n in done.by_level().items())
    typer.echo(f"已导入名单 {done.source}：{done.count} 个机关（{levels}）")
    uncertain = [m for m in pending if m.state == "uncertain"]
    if uncertain:
        typer.echo(f"有 {len(uncertain)} 个报告机关与名单对应不确定，未计入任何机关：gongkai roster matches --db {db}")


@roster_app.command("show")
def roster_show(db: Db, json_: Json = False) -> None:
    """按区划树列出名单（省 → 市 → 县 → 乡镇街道；部门在本级政府之下）。"""
    from rich.tree import Tree

    from gongkai.audit import has_roster, tree

    with existing_store(db) as store:
        roots = tree(store)
        from_roster = has_roster(store)
    if json_:
        print_json([r.to_dict() for r in roots])
        return
    count = sum(len(list(_bodies(n))) for r in roots for n in r.walk())
    top = Tree(f"[bold]{'名单' if from_roster else '库中报告的机关（未导入名单）'}：{count} 个机关")

    def add(parent, node) -> None:
        label = f"[bold]{node.name}[/]" + (f" [dim]{node.code}[/]" if node.code else "")
        branch = parent.add(label)
        for body in node.bodies:
            _add_body(branch, body)
        for child in node.children:
            add(branch, child)

    for root in roots:
        add(top, root)
    _console().print(top)


def _bodies(node):
    stack = list(node.bodies)
    while stack:
        body = stack.pop()
        yield body
        stack.extend(body.children)


def _add_body(branch, body) -> None:
    code = f" [dim]{body.division_code}[/]" if body.division_code else ""
    leaf = branch.add(f"{body.name} [cyan]{body.type_zh}[/]{code}", highlight=False)
    for child in body.children:
        _add_body(leaf, child)


@roster_app.command("matches")
def roster_matches(db: Db, all_: Annotated[bool, typer.Option("--all", help="也列出已自动对应和已确认的")] = False, json_: Json = False) -> None:
    """报告机关与名单的对应：不确定的（待确认）和名单中没有的；确认用 gongkai roster confirm。"""
    from rich.table import Table

    from gongkai.audit import pending_matches, scope

    with existing_store(db) as store:
        matches = scope(store).matches if all_ else pending_matches(store)
    if json_:
        print_json([m.to_dict() for m in matches])
        return
    if not matches:
        typer.echo("所有报告机关都已对应到名单")
        return
    table = Table(title=f"报告机关与名单的对应 {len(matches)} 个")
    for name in ("报告机关", "年度", "状态", "名单机关或候选"):
        table.add_column(name, overflow="fold")
    for m in matches:
        names = m.roster_name or "；".join(f"{n}（相似度 {s:.0%}）" for n, s in m.candidates) or "—"
        table.add_row(m.report_name, "、".join(map(str, m.years)), m.state_zh, names)
    _console().print(table)
    typer.echo("确认：gongkai roster confirm 报告机关 名单机关 --db … --by 姓名（名单机关写 --none 表示不属名单）")


@roster_app.command("confirm")
def roster_confirm(
    report: Annotated[str, typer.Argument(help="报告机关（gongkai roster matches 列出的名称）")],
    db: Db,
    roster_name: Annotated[str | None, typer.Argument(help="名单中的机关")] = None,
    by: Annotated[str, typer.Option("--by", help="确认人（记入审计日志）")] = "",
    none: Annotated[bool, typer.Option("--none", help="确认这个报告机关不属名单中任何机关")] = False,
) -> None:
    """确认某个报告机关就是名单中的某个机关（等同别名），此后它的报告计入该机关。"""
    from gongkai.audit import confirm_match

    if (roster_name is None) == (not none):
        raise GongkaiError("请给出名单中的机关，或用 --none 表示不属名单")
    with existing_store(db) as store:
        match = confirm_match(store, report, None if none else roster_name, by=by)
    typer.echo(f"已确认：“{match.report_name}” → {match.roster_name or '不属名单'}")


@app.command()
def coverage(
    db: Db,
    year: Annotated[int, typer.Option("--year", help="报告年度")],
    region: Annotated[str | None, typer.Option("--region", help="只看这个区划（代码 6、9 或 12 位）及其下级")] = None,
    json_: Json = False,
    summary: Annotated[bool, typer.Option("--summary", help="只输出汇总：发布、逾期、未发布、有错误、已整改，常见问题，与上年比较")] = False,
) -> None:
    """某年度名单中每个机关的报告：按时、逾期或未发布，发布日期与期限，错误和警告数，审核状态；再按区划汇总。"""
    from gongkai.audit import coverage as cover
    from gongkai.audit import pending_matches, totals
    from gongkai.audit import summary as summarise

    with existing_store(db) as store:
        if summary:
            result = summarise(store, year, region)
            if json_:
                print_json(result.to_dict())
            else:
                _print_summary(result)
            return
        rows = cover(store, year, region)
        pending = [m for m in pending_matches(store) if m.state == "uncertain" and year in m.years]
    if json_:
        print_json([r.to_dict() for r in rows])
        return
    _print_coverage(rows, year)
    if rows and all(r.status == "missing" for r in rows):
        typer.echo(f"注意：库中没有任何机关的 {year} 年度报告（年度是否写对？报告是否已用 gongkai batch 入库？）")
    if pending:
        typer.echo(f"另有 {len(pending)} 个报告机关与名单对应不确定，其报告未计入：gongkai roster matches --db {db}")
    _print_totals(totals(rows))


def _print_coverage(rows, year: int) -> None:
    from rich.table import Table

    from gongkai.audit import REVIEW_ZH, TYPE_ZH

    style = {"on_time": "green", "late": "yellow", "missing": "bold red", "undated": "magenta"}
    table = Table(title=f"{year} 年度报告覆盖情况（{len(rows)} 个机关）")
    for name in ("机关", "类型", "区划代码", "状态", "发布日期", "期限", "错误", "警告", "审核"):
        table.add_column(name, overflow="fold", min_width=12 if name == "机关" else None, justify="right" if name in ("错误", "警告") else "left")
    for r in rows:
        note = f"（待确认：{'、'.join(r.candidates)}）" if r.candidates else ""
        table.add_row(r.body + note, TYPE_ZH.get(r.body_type or "", ""), r.division_code or "", f"[{style[r.status]}]{r.status_zh}[/]",
                      r.published.isoformat() if r.published else "—", r.deadline.isoformat(), "—" if r.errors is None else str(r.errors),
                      "—" if r.warnings is None else str(r.warnings), REVIEW_ZH.get(r.review_state or "", "—"))  # fmt: skip
    _console().print(table)


def _print_totals(rows) -> None:
    """Province, city and county totals (a town has a body or two: the JSON and the web page go down to it)."""
    from rich.table import Table

    table = Table(title="按区划汇总（省、市、县级）")
    for name in ("区划", "代码", "机关", "已发布", "按时", "逾期", "未发布", "有错误", "已整改"):
        left = name in ("区划", "代码")
        table.add_column(name, justify="left" if left else "right", no_wrap=name != "区划", overflow="fold", min_width=8 if name == "区划" else None)
    for t in rows:
        if t.level == "township":
            continue
        table.add_row("  " * t.depth + t.name, t.code or "", str(t.bodies), str(t.published), str(t.on_time), str(t.late),
                      str(t.missing), str(t.with_errors), str(t.rectified))  # fmt: skip
    _console().print(table)


def _print_summary(s) -> None:
    from rich.table import Table

    from gongkai.audit import COUNT_ZH

    table = Table(title=f"{s.region_name} {s.year} 年度汇总")
    table.add_column("指标")
    if s.previous:
        table.add_column(f"{s.previous['year']}年", justify="right")
    table.add_column(f"{s.year}年", justify="right")
    for key, value in s.counts().items():
        table.add_row(COUNT_ZH[key], *([str(s.previous[key])] if s.previous else []), str(value))
    console = _console()
    console.print(table)
    if s.problems:
        problems = Table(title="最常见的问题（待核与已确认，报告本身）")
        for name in ("规则", "问题", "机关数", "条数"):
            problems.add_column(name, justify="right" if name in ("机关数", "条数") else "left")
        for p in s.problems:
            problems.add_row(p["rule"], p["rule_zh"], str(p["bodies"]), str(p["findings"]))
        console.print(problems)


@app.command()
def notice(
    db: Db,
    year: Annotated[int, typer.Option("--year", help="报告年度")],
    out: Annotated[Path, typer.Option("--out", "-o", help="通知文件 .docx 或 .pdf（--all 时为输出目录）")],
    body: Annotated[str | None, typer.Option("--body", help="名单中的机关")] = None,
    all_: Annotated[bool, typer.Option("--all", help="为每个有问题的机关各写一份")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="--all 时写成 PDF（需要 LibreOffice）")] = False,
    issuer: Annotated[str, typer.Option("--issuer", help="落款（发文单位）")] = "政务公开工作主管部门",
    reply_days: Annotated[int, typer.Option("--reply-days", help="回复期限：发文后多少天")] = 15,
    issued: Annotated[str | None, typer.Option("--date", help="发文日期 YYYY-MM-DD（默认今天）")] = None,
    region: Annotated[str | None, typer.Option("--region", help="--all 时只为这个区划及其下级")] = None,
    by: Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")] = "",
) -> None:
    """整改通知：给机关的正式函件，逐项列出待整改的问题（表格、行、列、所填数值、违反的规则与数字、整改要求）和回复期限。

    只列报告本身的问题（来源 source）中已确认和尚未审核的；已驳回、已更正的和解析存疑的不列入。
    """
    from gongkai.audit import write_notice, write_notices

    if all_ == (body is not None):
        raise GongkaiError("请用 --body 指定一个机关，或用 --all 为所有有问题的机关各写一份")
    try:
        when = date.fromisoformat(issued) if issued else None
    except ValueError:
        raise GongkaiError(f"--date 须为 YYYY-MM-DD，不是“{issued}”") from None
    options = {"issuer": issuer, "reply_days": reply_days, "issued": when}
    with existing_store(db) as store:
        if all_:
            written = write_notices(store, year, out, fmt="pdf" if pdf else "docx", region=region, by=by or None, **options)
            for n, path in written:
                typer.echo(f"{path}（{len(n.items)} 项）")
            typer.echo(f"共 {len(written)} 份整改通知，写入 {out}")
            return
        made = write_notice(store, body, year, out, by=by or None, **options)
    typer.echo(f"已写出整改通知 {out}：{made.body}，{len(made.items)} 项问题，回复期限 {made.reply_by.isoformat()}")
