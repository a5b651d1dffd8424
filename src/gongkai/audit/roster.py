"""The roster (名单): the bodies that must publish, imported from a .csv or .xlsx, all rows or none.

Columns: `名称` (required), and optionally `类型` (部门/人民政府/乡镇/街道/其他), `上级` (the name of the
body above it, in the same file) and `区划代码` (6, 9 or 12 digits). Every row with a problem is
reported with its line number, and then nothing is imported; a good file replaces the roster in
one transaction. Without a roster, the corpus gives one: every body it has a report of.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from gongkai.audit.bodies import TYPE_WORDS, Body, division_for
from gongkai.errors import GongkaiError
from gongkai.store.bodies import normalise_name

COLUMNS = {"名称": "name", "类型": "body_type", "上级": "parent", "区划代码": "division_code"}
ALIASES = {"机关名称": "名称", "单位名称": "名称", "机关": "名称", "单位": "名称", "机关类型": "类型", "上级机关": "上级",
           "上级单位": "上级", "行政区划代码": "区划代码", "区划": "区划代码"}  # fmt: skip
MAX_ROWS = 200_000


class RosterError(GongkaiError):
    """A roster that cannot be imported: every problem, by line."""


@dataclass(slots=True)
class RosterRow:
    line: int
    name: str
    body_type: str
    parent: str
    division_code: str


@dataclass(slots=True)
class RosterImport:
    bodies: list[Body]
    source: str

    @property
    def count(self) -> int:
        return len(self.bodies)

    def by_level(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for body in self.bodies:
            out[body.level_zh or "地区不明"] = out.get(body.level_zh or "地区不明", 0) + 1
        return out


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value == int(value):
        value = int(value)  # a code typed into Excel as a number
    return str(value).strip().replace("\u3000", " ").strip()


def _read(source: str | Path | bytes, filename: str | None) -> tuple[bytes, Path]:
    """The file's bytes and the name it goes by (an upload gives bytes and its file name)."""
    if isinstance(source, bytes | bytearray):
        return bytes(source), Path(filename or "名单")
    path = Path(source)
    try:
        return path.read_bytes(), path
    except FileNotFoundError:
        raise RosterError(f"{path}：文件不存在") from None
    except IsADirectoryError:
        raise RosterError(f"{path}：是目录，不是名单文件") from None
    except OSError as exc:
        raise RosterError(f"{path}：无法读取（{exc.strerror}）") from None


def _table_rows(data: bytes, path: Path) -> list[tuple[int, list[str]]]:
    """(line, cells) of every row of the file, the header included."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from gongkai.read.encoding import decode

        try:
            text = decode(data).text
        except GongkaiError as exc:
            raise RosterError(f"{path}：{exc}") from None
        sample = text[:4096]
        dialect = "excel-tab" if sample.count("\t") > sample.count(",") else "excel"
        reader = csv.reader(io.StringIO(text), dialect=dialect)
        rows = []
        for cells in reader:
            rows.append((reader.line_num, [_cell(c) for c in cells]))
            if len(rows) > MAX_ROWS:
                raise RosterError(f"{path}：名单超过 {MAX_ROWS} 行")
        return rows
    if suffix in (".xlsx", ".xlsm"):
        import zipfile

        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise RosterError(f"{path}：不是可读的 Excel 文件（{type(exc).__name__}）") from None
        try:
            sheet = book.worksheets[0]
            rows = []
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                rows.append((number, [_cell(v) for v in values]))
                if len(rows) > MAX_ROWS:
                    raise RosterError(f"{path}：名单超过 {MAX_ROWS} 行")
            return rows
        finally:
            book.close()
    raise RosterError(f"{path}：名单须为 .csv 或 .xlsx 文件")


def read_roster(source: str | Path | bytes, filename: str | None = None) -> list[RosterRow]:
    """The rows of a roster file, each with its line number (blank rows skipped); problems of form raise at once."""
    data, path = _read(source, filename)
    rows = [(line, cells) for line, cells in _table_rows(data, path) if any(cells)]
    if not rows:
        raise RosterError(f"{path}：文件是空的")
    header_line, header = rows[0]
    names = [ALIASES.get(h.replace(" ", ""), h.replace(" ", "")) for h in header]
    if "名称" not in names:
        raise RosterError(f"{path}：第{header_line}行（表头）没有“名称”一列（可有：名称、类型、上级、区划代码）")
    index = {COLUMNS[n]: i for i, n in reversed(list(enumerate(names))) if n in COLUMNS}
    out = []
    for line, cells in rows[1:]:
        get = {key: cells[i] if i < len(cells) else "" for key, i in index.items()}
        out.append(RosterRow(line, get.get("name", ""), get.get("body_type", ""), get.get("parent", ""), get.get("division_code", "")))
    if not out:
        raise RosterError(f"{path}：名单中没有任何机关（只有表头）")
    return out


def check_rows(rows: list[RosterRow]) -> tuple[list[Body], list[str]]:
    """The bodies of the rows, and every problem as “第N行：…”."""
    from gongkai.extract.meta import body_type as type_of_name

    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    by_name: dict[str, RosterRow] = {}
    for row in rows:
        if not row.name:
            problems.append((row.line, "缺少名称"))
            continue
        key = normalise_name(row.name)
        if key in seen:
            problems.append((row.line, f"名称“{row.name}”与第{seen[key]}行重复"))
            continue
        seen[key] = row.line
        by_name[row.name] = row
        if row.body_type and row.body_type.replace(" ", "") not in TYPE_WORDS:
            problems.append((row.line, f"类型“{row.body_type}”无效：只能是 部门、人民政府、乡镇、街道、其他"))
        code = row.division_code.replace(" ", "")
        if code and (not code.isdigit() or len(code) not in (6, 9, 12)):
            problems.append((row.line, f"区划代码“{row.division_code}”须为 6、9 或 12 位数字"))
        if row.parent and row.parent not in by_name and row.parent not in {r.name for r in rows}:
            problems.append((row.line, f"上级“{row.parent}”不在名单中"))
        if row.parent and row.parent == row.name:
            problems.append((row.line, "上级不能是自己"))
    for row in rows:  # a chain of 上级 that comes back to where it started
        node, steps = row, 0
        while node is not None and node.parent and steps <= len(rows):
            node, steps = by_name.get(node.parent), steps + 1
        if steps > len(rows):
            problems.append((row.line, "上级关系成环"))
    bodies: dict[str, Body] = {}
    bad = {line for line, _ in problems}

    def resolve(row: RosterRow, depth: int = 0) -> Body | None:
        if row.name in bodies:
            return bodies[row.name]
        parent = by_name.get(row.parent) if row.parent and depth < 50 else None
        parent_body = resolve(parent, depth + 1) if parent is not None and parent.line not in bad else None
        code = row.division_code.replace(" ", "") or None
        division, problem = division_for(row.name, code if row.line not in bad else None, parent_body.division if parent_body else None)
        if problem:
            problems.append((row.line, problem))
            bad.add(row.line)
        kind = TYPE_WORDS.get(row.body_type.replace(" ", "")) if row.body_type else type_of_name(normalise_name(row.name))
        bodies[row.name] = Body(row.name, kind, row.parent or None, code, division, row.line)
        return bodies[row.name]

    for row in rows:
        if row.name and row.line not in bad:
            resolve(row)
    messages = [f"第{line}行：{text}" for line, text in sorted(set(problems))]
    return [bodies[r.name] for r in rows if r.name in bodies and r.line not in bad], messages


def import_roster(store, source: str | Path | bytes, by: str = "", *, filename: str | None = None) -> RosterImport:
    """Replace the store's roster with the file's (a path, or an upload's bytes and `filename`), all rows or none;
    raises `RosterError` listing every bad row."""
    from gongkai.review.log import now, write

    path = Path(filename) if isinstance(source, bytes | bytearray) else Path(source)
    rows = read_roster(source, filename)
    bodies, problems = check_rows(rows)
    if problems:
        shown = problems[:50] + ([f"……另有 {len(problems) - 50} 处"] if len(problems) > 50 else [])
        raise RosterError(f"名单 {path.name} 有 {len(problems)} 处问题，未导入任何一行：\n" + "\n".join(shown))
    when = now()
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM roster")
        con.executemany(
            "INSERT INTO roster (name, body_type, parent, division_code, region_code, region_name, level, line, imported_at, imported_by, source_file) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[b.name, b.body_type, b.parent, b.division_code, b.region_code, b.region_name, b.level, b.line, when, by or None, path.name]
             for b in bodies])  # fmt: skip
        write(con, by or None, "roster", target=path.name, new=f"{len(bodies)} 个机关", detail="导入名单（替换原名单）", at=when)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return RosterImport(bodies, path.name)


def has_roster(store) -> bool:
    return bool(store.con.execute("SELECT count(*) FROM roster").fetchone()[0])


def roster_bodies(store) -> list[Body]:
    """The roster's bodies; without a roster, one body per body the corpus has a report of."""
    from gongkai.audit.bodies import division_for as resolve

    con = store.con
    rows = con.execute("SELECT name, body_type, parent, division_code, line FROM roster ORDER BY line").fetchall()
    if rows:
        bodies: dict[str, Body] = {}
        parents = {name: parent for name, _, parent, _, _ in rows}
        pending = {name: (kind, code, line) for name, kind, _, code, line in rows}

        def make(name: str, depth: int = 0) -> Body:
            if name in bodies:
                return bodies[name]
            kind, code, line = pending[name]
            parent = make(parents[name], depth + 1) if parents[name] in pending and depth < 50 else None
            division, _ = resolve(name, code, parent.division if parent else None)
            bodies[name] = Body(name, kind, parents[name], code, division, line)
            return bodies[name]

        return [make(name) for name, *_ in rows]
    out = []
    for key, name, kind in con.execute("SELECT body_key, name, body_type FROM bodies ORDER BY body_key").fetchall():
        division, _ = resolve(key)
        out.append(Body(name or key, kind, None, None, division, None, "corpus", key))
    return out
