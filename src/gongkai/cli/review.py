"""Commands of review: findings, review, correct, history, diff, user — each a call into gongkai.review."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gongkai.cli.common import Db, app, existing_store, print_json

Json = Annotated[bool, typer.Option("--json", help="输出 JSON")]
By = Annotated[str, typer.Option("--by", help="操作人姓名（记入审计日志）")]


def _console():
    from rich.console import Console

    return Console()


def _short(text: str | None, width: int = 60) -> str:
    text = text or ""
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command()
def findings(
    db: Db,
    body: Annotated[str | None, typer.Option("--body", help="名单中的机关（或报告所写的机关名称）")] = None,
    year: Annotated[int | None, typer.Option("--year", help="报告年度")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open|confirmed|dismissed|resolved（或 待核/已确认/已驳回/已更正）")] = None,
    report: Annotated[str | None, typer.Option("--report", help="报告的 SHA-256（可写前 8 位以上）")] = None,
    json_: Json = False,
) -> None:
    """列出发现及其审核状态：每份报告当前版本的发现，以及已被更正或新版本解决的（已更正）。"""
    from gongkai.review import list_findings
    from gongkai.rules.catalog import ORIGIN_ZH, SEVERITY_ZH

    with existing_store(db) as store:
        rows = list_findings(store, body=body, year=year, status=status, report=report)
    if json_:
        print_json([r.to_dict() for r in rows])
        return
    console = _console()
    style = {"error": "bold red", "warning": "yellow", "info": "dim"}
    for r in rows:  # two lines each: readable at any terminal width
        console.print(f"[bold]{r.id}[/]  {r.status_zh}  [{style.get(r.severity, '')}]{SEVERITY_ZH.get(r.severity, r.severity)}[/]·"
                      f"{ORIGIN_ZH.get(r.origin, r.origin)}  {r.rule}  {r.agency or '（机关未识别）'} {r.year or ''}年度 第{r.version}版"
                      + (f"  [dim]{r.decided_by}：{r.reason}[/]" if r.reason else ""), highlight=False, soft_wrap=True)  # fmt: skip
        console.print(f"    {r.message}", highlight=False, markup=False, soft_wrap=True)
    console.print(f"共 {len(rows)} 条")


@app.command("review")
def review_(
    finding_id: Annotated[str, typer.Argument(help="发现编号（gongkai findings 列出）")],
    db: Db,
    status: Annotated[str, typer.Option("--status", help="confirmed（已确认）、dismissed（已驳回）或 open（重新待核）")],
    by: By,
    reason: Annotated[str | None, typer.Option("--reason", help="理由（驳回时必填）")] = None,
    json_: Json = False,
) -> None:
    """审核一条发现：确认、驳回（须写理由）或重新待核；立即提交，记入审计日志。"""
    from gongkai.review import STATUS_ZH, decide

    with existing_store(db) as store:
        decision = decide(store, finding_id, status, reason, by=by)
    if json_:
        print_json(decision.to_dict())
        return
    why = f"（理由：{decision.reason}）" if decision.reason else ""
    typer.echo(f"{decision.finding_id}：{STATUS_ZH[decision.previous]} → {STATUS_ZH[decision.status]}{why}，审核人 {decision.actor}")


@app.command()
def correct(
    sha256: Annotated[str, typer.Argument(help="报告的 SHA-256（可写前 8 位以上）")],
    cell_id: Annotated[str, typer.Argument(help="单元格编号（spec/cells.tsv，如 requests.total.total）")],
    value: Annotated[str, typer.Argument(help="更正后的值（空白写“空”）")],
    db: Db,
    reason: Annotated[str, typer.Option("--reason", help="理由（必填）")],
    by: By,
    source: Annotated[Path | None, typer.Option("--source", help="报告原文件所在（库中路径已不对时）")] = None,
    json_: Json = False,
) -> None:
    """更正一个单元格：原解析值保留，报告生成新版本，按同一规则重新核验；因此不再成立的发现变为“已更正”。"""
    from gongkai.review import correct as correct_cell
    from gongkai.views import format_value

    with existing_store(db) as store:
        done = correct_cell(store, sha256, cell_id, value, reason, by=by, source=source)
    if json_:
        print_json(done.to_dict())
        return
    changes = "；".join(f"{c} {format_value(o) or '空'} → {format_value(n) or '空'}" for c, (o, n) in done.changed.items())
    typer.echo(f"{done.version.label}：{changes}")
    basis = "重新读取原文件" if done.rechecked_from == "file" else "库中的单元格与正文（原文件不可用）"
    typer.echo(f"按同一规则重新核验（{basis}）：已更正 {len(done.resolved)} 条" + (f"（{'、'.join(done.resolved)}）" if done.resolved else "")
               + f"，新出现 {len(done.raised)} 条" + (f"（{'、'.join(done.raised)}）" if done.raised else ""))  # fmt: skip


@app.command()
def history(
    db: Db,
    report: Annotated[str | None, typer.Option("--report", help="只看这份报告（SHA-256，任一版本）")] = None,
    json_: Json = False,
) -> None:
    """审计日志：每个审核决定、更正、新版本、登录和用户变更（谁、何时、原值、新值、理由）。"""
    from gongkai.review import history as read_history

    with existing_store(db) as store:
        entries = read_history(store, report)
    if json_:
        print_json([e.to_dict() for e in entries])
        return
    console = _console()
    for e in entries:  # one line each, whatever the terminal's width
        change = f"{e.old_value or ''} → {e.new_value}" if e.old_value else (e.new_value or "")
        parts = [e.at.isoformat(sep=" ", timespec="seconds"), e.actor or "（批量入库）", e.action_zh, e.lineage or "", e.target or "", change,
                 f"理由：{e.reason}" if e.reason else "", e.detail if e.action in ("version", "user", "roster", "notice", "match") and e.detail else ""]
        console.print("  ".join(p for p in parts if p), highlight=False, markup=False, soft_wrap=True)
    console.print(f"共 {len(entries)} 条")


@app.command()
def diff(
    report: Annotated[str, typer.Argument(help="报告的 SHA-256（任一版本）")],
    db: Db,
    old: Annotated[int | None, typer.Option("--from", help="较早的版本号（默认：当前版本的前一版）")] = None,
    new: Annotated[int | None, typer.Option("--to", help="较新的版本号（默认：当前版本）")] = None,
    json_: Json = False,
) -> None:
    """比较一份报告的两个版本：变了的单元格，新出现和已解决的发现。"""
    from rich.table import Table

    from gongkai.review import diff as compare
    from gongkai.review import versions
    from gongkai.views import format_value

    with existing_store(db) as store:
        result = compare(store, report, old, new)
        every = versions(store, report)
    if json_:
        print_json(result.to_dict())
        return
    console = _console()
    console.print(f"{result.lineage}：共 {len(every)} 版；比较{result.old.label}与{result.new.label}")
    if not result.old_available:
        console.print(f"{result.old.label}的文件在存档前已离开数据库，无法比较单元格和发现")
    if result.cells:
        table = Table(title="变了的单元格")
        for name in ("单元格", "编号", result.old.label, result.new.label):
            table.add_column(name)
        for c in result.cells:
            table.add_row(c.label, c.cell_id, format_value(c.old) or "空", format_value(c.new) or "空")
        console.print(table)
    elif result.old_available:
        console.print("单元格没有变化")
    for title, rows in (("新出现的发现", result.added), ("已解决的发现", result.resolved)):
        for f in rows:
            console.print(f"{title}：{f.id} {f.rule} {f.message}", highlight=False, markup=False, soft_wrap=True)


user_app = typer.Typer(no_args_is_help=True, help="用户与角色：管理员、按区划管辖的审核员、只读用户。")
app.add_typer(user_app, name="user")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("口令", hide_input=True, confirmation_prompt="再输入一次")


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="用户名")],
    db: Db,
    role: Annotated[str, typer.Option("--role", help="admin（管理员）、reviewer（审核员）或 readonly（只读）")],
    region: Annotated[str | None, typer.Option("--region", help="可管辖的区划代码（审核员必填；6、9 或 12 位）")] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读口令（一行）")] = False,
    by: Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")] = "命令行",
) -> None:
    """新建用户（口令以 Argon2id 散列保存）。"""
    from gongkai.review import add_user
    from gongkai.review.accounts import check_region

    with existing_store(db) as store:
        check_region(region)  # a bad code is said before the password is asked
        user = add_user(store, name, role, _password(password_stdin), region, by=by)
    typer.echo(f"已新建用户 {user.name}（{user.role_zh}" + (f"，区划 {user.region}" if user.region else "") + "）")


@user_app.command("set")
def user_set(
    name: Annotated[str, typer.Argument(help="用户名")],
    db: Db,
    role: Annotated[str | None, typer.Option("--role", help="新角色")] = None,
    region: Annotated[str | None, typer.Option("--region", help="新的管辖区划代码")] = None,
    disable: Annotated[bool, typer.Option("--disable", help="停用")] = False,
    enable: Annotated[bool, typer.Option("--enable", help="启用")] = False,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="从标准输入读新口令")] = False,
    by: Annotated[str, typer.Option("--by", help="操作人（记入审计日志）")] = "命令行",
) -> None:
    """修改用户的角色、区划、口令或启用状态（每项变更记入审计日志）。"""
    from gongkai.review import set_user

    active = False if disable else True if enable else None
    with existing_store(db) as store:
        user = set_user(store, name, role=role, region=region, active=active, password=_password(True) if password_stdin else None, by=by)
    typer.echo(f"{user.name}：{user.role_zh}" + (f"，区划 {user.region}" if user.region else "") + ("" if user.active else "（已停用）"))


@user_app.command("list")
def user_list(db: Db, json_: Json = False) -> None:
    """列出用户。"""
    from rich.table import Table

    from gongkai.review import list_users

    with existing_store(db) as store:
        users = list_users(store)
    if json_:
        print_json([u.to_dict() for u in users])
        return
    table = Table(title=f"用户 {len(users)} 个")
    for name in ("用户名", "角色", "管辖区划", "状态"):
        table.add_column(name)
    for u in users:
        table.add_row(u.name, u.role_zh, u.region or "全部", "启用" if u.active else "停用")
    _console().print(table)
