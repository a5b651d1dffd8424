"""What every command of the one typer app follows, set once on the app (common.py), so that a
command added later follows it too: help in Chinese under -h and --help, wrapped to the terminal
instead of cut; a usage error as one Chinese line; --version. `docs.py` writes the same help to
docs/cli.md.

typer's own help and errors are English boilerplate ("Show this message and exit.", "Missing
argument …") and its rich panels cut Chinese text at 80 columns, so the help is drawn here from the
commands' parameters, and click's usage errors are reworded from their kind and parameter.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import MethodType

import typer
from rich.cells import cell_len
from typer._click import exceptions as click_errors  # typer vendors click; its usage errors live here
from typer.core import TyperGroup

HELP_NAMES = ["-h", "--help"]
CONTEXT = {"help_option_names": HELP_NAMES}
MAX_WIDTH = 100  # help lines stop here even on a wide terminal: easier to read
# the Chinese name of a value's kind, shown after an option that takes one
KINDS = {int: "整数", float: "数值", str: "文本", Path: "路径", bool: ""}


@dataclass(slots=True)
class ParamDoc:
    names: str  # "-o, --out 路径" or "文件…"
    help: str
    notes: list[str] = field(default_factory=list)  # 默认值、必填、环境变量


@dataclass(slots=True)
class CommandDoc:
    path: str  # "gongkai draft check"
    usage: str
    help: str
    arguments: list[ParamDoc]
    options: list[ParamDoc]
    commands: list[tuple[str, str]]  # (name, first paragraph of its help) of a group's commands
    children: list[CommandDoc] = field(default_factory=list)


def _kind(param) -> str:
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    inner = getattr(annotation, "__args__", None)
    if inner and getattr(descriptor, "is_list", False):
        annotation = inner[0]
    return KINDS.get(annotation, "值")


def _metavar(param) -> str:
    """An argument's name as help shows it: its metavar (Chinese in our commands), else its kind."""
    name = param.metavar or _kind(param) or param.name.upper()
    return f"{name}…" if param.nargs == -1 else name


def _default(value) -> str | None:
    if value is None or value is False or value == () or value == []:
        return None
    if value is True:
        return "是"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _param_doc(param) -> ParamDoc:
    if param.param_type_name == "argument":
        notes = ["必填"] if param.required else []
        if param.nargs == -1:
            notes.append("可给多个")
        return ParamDoc(_metavar(param), param.help or "", notes)
    names = ", ".join(sorted(param.opts, key=len) + list(param.secondary_opts))
    if not getattr(param, "is_flag", False):
        names += f" {param.metavar or _kind(param)}".rstrip()
    notes = []
    if param.required:
        notes.append("必填")
    default = _default(param.default)
    if default is not None and getattr(param, "show_default", True) is not False:
        notes.append(f"默认 {default}")
    if param.envvar:
        notes.append(f"环境变量 {param.envvar}")
    return ParamDoc(names, param.help or "", notes)


def first_paragraph(text: str | None) -> str:
    return " ".join((text or "").strip().split("\n\n")[0].split())


def describe(command, ctx: typer.Context) -> CommandDoc:
    """The help of one command (or group) as data: what the terminal and docs/cli.md both show."""
    arguments, options = [], []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "argument":
            arguments.append(_param_doc(param))
        elif set(param.opts) <= set(HELP_NAMES):
            options.append(ParamDoc(", ".join(HELP_NAMES), "显示本帮助并退出"))
        else:
            options.append(_param_doc(param))
    commands, children = [], []
    if isinstance(command, TyperGroup):
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is None or sub.hidden:
                continue
            commands.append((name, first_paragraph(sub.help)))
            children.append(describe(sub, typer.Context(sub, info_name=name, parent=ctx)))
    pieces = [ctx.command_path] + (["[选项]"] if options else [])
    pieces += [a.names if "必填" in a.notes else f"[{a.names}]" for a in arguments]
    if commands:
        pieces.append("命令 …")
    return CommandDoc(ctx.command_path, " ".join(pieces), (command.help or "").strip(), arguments, options, commands, children)


def width() -> int:
    """The terminal's width (COLUMNS when set), at most MAX_WIDTH."""
    return min(shutil.get_terminal_size((80, 24)).columns, MAX_WIDTH)


NO_LINE_START = set("，。、；：？！）》」』】”’,.;:?!)%")  # punctuation that must not begin a line
TOKENS = re.compile(r"[!-~]+|\s+|.")  # a run of ASCII (a word, an option, a path) or one other character


def wrap(text: str, columns: int) -> list[str]:
    """Lines of at most `columns` terminal cells: Chinese breaks between any two characters, an ASCII
    word is kept whole where it fits, closing punctuation stays at the end of its line."""
    lines: list[str] = []
    line, used = "", 0
    for token in TOKENS.findall(" ".join(text.split())):
        size = cell_len(token)
        if used + size > columns and line.strip():
            if token[0] in NO_LINE_START and len(line) > 1:  # carry the last character over with it
                line, token, size = line[:-1], line[-1] + token, size + cell_len(line[-1])
            lines.append(line.rstrip())
            line, used = "", 0
            if token.isspace():
                continue
        while size > columns:  # a word longer than a line: cut it where it must be cut
            cut = 0
            while cell_len(token[: cut + 1]) <= columns:
                cut += 1
            lines.append(token[:cut])
            token = token[cut:]
            size = cell_len(token)
        line += token
        used += size
    if line.strip():
        lines.append(line.rstrip())
    return lines


def render_help(doc: CommandDoc, columns: int | None = None) -> str:
    """The help as the terminal shows it: wrapped to `columns`, never cut."""
    columns = columns or width()
    out = [f"用法：{doc.usage}"]
    for paragraph in doc.help.split("\n\n") if doc.help else []:
        out += ["", *wrap(paragraph, columns)]
    for title, rows in (("参数", [(p.names, _with_notes(p)) for p in doc.arguments]),
                        ("选项", [(p.names, _with_notes(p)) for p in doc.options]), ("命令", doc.commands)):  # fmt: skip
        if rows:
            out += ["", title, *_rows(rows, columns)]
    if doc.commands:
        out += ["", f"每个命令的用法：{doc.path} 命令 -h"]
    return "\n".join(out) + "\n"


def _with_notes(param: ParamDoc) -> str:
    return param.help + "".join(f"［{note}］" for note in param.notes)


def _rows(rows: list[tuple[str, str]], columns: int) -> list[str]:
    """Two columns, names then texts; a name too long for the column gets its text on the next line."""
    indent = 2
    name_width = min(max(cell_len(name) for name, _ in rows), 24)
    text_at = indent + name_width + 2
    lines = []
    for name, text in rows:
        wrapped = wrap(text, max(columns - text_at, 20)) or [""]
        if cell_len(name) > name_width:
            lines.append(" " * indent + name)
            lines += [" " * text_at + w for w in wrapped]
            continue
        lines.append((" " * indent + name + " " * (name_width - cell_len(name) + 2) + wrapped[0]).rstrip())
        lines += [" " * text_at + w for w in wrapped[1:]]
    return lines


def _format_help(self, ctx, formatter) -> None:
    formatter.write(render_help(describe(self, ctx)).rstrip("\n") + "\n")


def adopt(command) -> None:
    """Give `command` and everything under it the Chinese help."""
    command.format_help = MethodType(_format_help, command)
    for sub in getattr(command, "commands", {}).values():
        adopt(sub)


class Group(TyperGroup):
    """The app's root group: every command registered on the app, now or by a later module, and
    every sub-app added with add_typer, gets the Chinese help."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        adopt(self)


# ── usage errors ──────────────────────────────────────────────────────────────────────────


def _hint(param) -> str:
    if param is None:
        return ""
    if param.param_type_name == "argument":
        return f"参数 {_metavar(param)}"
    return f"选项 {' / '.join(param.opts)}"


def usage_error(exc: click_errors.UsageError) -> str:
    """One Chinese line for a mistake on the command line, naming what to fix and where help is."""
    ctx = getattr(exc, "ctx", None)
    where = ctx.command_path if ctx is not None else "gongkai"
    message = exc.message or ""
    if isinstance(exc, click_errors.NoSuchOption):
        text = f"没有选项 {exc.option_name}"
        if exc.possibilities:
            text += f"（是不是 {'、'.join(sorted(exc.possibilities))}？）"
    elif isinstance(exc, click_errors.MissingParameter):
        text = f"缺少{_hint(exc.param) or '参数'}"
    elif isinstance(exc, click_errors.BadParameter):
        kind = _kind(exc.param) if exc.param is not None else ""
        text = f"{_hint(exc.param) or '参数'} 的值无效" + (f"：须为{kind}" if kind in ("整数", "数值") else "")
    elif isinstance(exc, click_errors.BadOptionUsage):
        if "requires an argument" in message:
            text = f"选项 {exc.option_name} 后面要给一个值"
        elif "does not take a value" in message:
            text = f"选项 {exc.option_name} 不带值"
        else:
            text = f"选项 {exc.option_name} 用法有误"
    elif message.startswith("No such command"):
        text = f"没有命令 {message.split(' ', 3)[-1].rstrip('.').strip(chr(39))}"
    elif message.startswith("Missing command"):
        text = "缺少命令"
    elif message.startswith("Got unexpected extra argument"):
        text = f"多余的参数：{message.rsplit('(', 1)[-1].rstrip(')')}"
    else:
        text = f"命令行有误（{message}）"
    return f"{text}；用法见 {where} -h"


def show_version(value: bool) -> None:
    if value:
        import gongkai

        typer.echo(f"gongkai {gongkai.__version__}")
        raise typer.Exit()
