"""The researcher's panel: one row per body and year in DuckDB, Parquet, CSV and Excel, and the data dictionary.

A few bodies of the generated city (synth.county: a city department with a fixed re-submission, a
department and a street with a missing year, two towns, a department its reports call by a short
name), plus 区民政局 — a name that says no place — in two folders, go through a real batch. A
researcher then opens the DuckDB file and reads the panel without quoting a column; pandas (and R,
when it is installed) read the exports as numbers with their labels.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import duckdb
import pytest
from audit_helpers import copy_store, gk
from conftest import ROOT

from gongkai.store import BatchOptions, Store, run_batch
from gongkai.store.bodies import normalise_name, placeless

BODIES = {  # roster name → (division code expected, county, township)
    "长沙市财政局": ("430100", None, None),
    "湖南省长沙市望城区民政局": ("430112", "望城区", None),
    "长沙市望城区丁字湾街道办事处": ("430112009000", "望城区", "丁字湾街道"),
    "望城区乔口镇人民政府": ("430112107", "望城区", "乔口镇"),
    "长沙县北山镇人民政府": ("430121114", "长沙县", "北山镇"),
    "湖南省长沙市望城区市场监督管理局": ("430112", "望城区", None),  # its reports' short name waits for a person
}
PLACELESS = (("甲", 2022, 11), ("甲", 2023, 12), ("乙", 2023, 13))  # (folder, year, seed) of 区民政局's reports


def _md5_id(canonical: str) -> str:
    return "B" + hashlib.md5(canonical.encode("utf-8")).hexdigest()[:12]


@pytest.fixture(scope="module")
def city(county, tmp_path_factory):
    """The chosen bodies' reports (and one fixed re-submission as a second copy) in a store, before any roster."""
    from gongkai.synth.agency import Agency
    from gongkai.synth.model import make_report

    folder, truth = county
    work = tmp_path_factory.mktemp("panel")
    reports = work / "reports"
    reports.mkdir()
    chosen = {b["roster_name"]: b for b in truth["bodies"] if b["roster_name"] in BODIES}
    fixed = None
    for body in chosen.values():
        for year, record in body["years"].items():
            if record["file"]:
                shutil.copy(folder / "reports" / record["file"], reports / record["file"])
                if record["faults"] and (folder / "fixed" / record["file"]).exists():
                    fixed = (body["roster_name"], int(year), f"fixed_{record['file']}")
                    shutil.copy(folder / "fixed" / record["file"], reports / fixed[2])
    for sub, year, seed in PLACELESS:
        (reports / sub).mkdir(exist_ok=True)
        report = make_report(seed, year=year, agency=Agency("区民政局", "department", "", "", "我局"))
        (reports / sub / f"民政_{year}.txt").write_bytes(report.render("txt", "tabs"))
    db = work / "city.duckdb"
    run_batch([reports], db, BatchOptions(progress=False))
    return {"folder": folder, "reports": reports, "db": db, "bodies": chosen, "fixed": fixed, "work": work}


@pytest.fixture(scope="module")
def rostered(city, tmp_path_factory):
    """The same store with the city's roster imported and the panel refreshed by `gongkai panel`."""
    db = copy_store(city["db"], tmp_path_factory.mktemp("rostered") / "city.duckdb")
    code, _, error = gk("roster", "import", city["folder"] / "roster.csv", "--db", db, "--by", "张三")
    assert code == 0, error
    code, out, error = gk("panel", "--db", db)
    assert code == 0, error
    return db, out


def _panel(db) -> list[dict]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(
            "SELECT body_id, year, body_name, body_type, division_code, province, city, county, township, roster_name, roster_state, "
            "body_note, body_key, sha256, path, copies, prev_year, prev_sha256, version, prev_version, errors, "
            "findings_open, findings_confirmed, findings_dismissed, findings_resolved, corrected_cells, requests__new_received__total "
            "FROM panel ORDER BY body_id, year"
        )  # a researcher's query: not one column quoted
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def test_a_researcher_gets_one_row_per_body_year_with_codes_and_previous_years(city, rostered):
    db, out = rostered
    rows = _panel(db)
    assert len({(r["body_id"], r["year"]) for r in rows}) == len(rows)
    assert "面板：2022–2024 年" in out and f"{len(rows)} 行" in out
    by_body: dict[str, list[dict]] = {}
    for row in rows:
        by_body.setdefault(row["roster_name"] or row["body_key"], []).append(row)
    for name, body in city["bodies"].items():
        expected_years = sorted(int(y) for y, r in body["years"].items() if r["file"])
        key = name if name in by_body else next(k for k in by_body if k and k.endswith("市场监管局"))
        mine = by_body[key]
        assert [r["year"] for r in mine] == expected_years, name
        code, county, township = BODIES[name]
        for before, row in zip([None, *mine], mine):
            assert (row["division_code"], row["province"], row["city"], row["county"], row["township"]) == \
                (code, "湖南省", "长沙市", county, township), (name, row)  # fmt: skip
            assert row["prev_year"] == (before["year"] if before else None)  # a missing year is skipped, not invented
            assert row["prev_sha256"] == (before["sha256"] if before else None)
            assert row["version"] == row["copies"] and row["prev_version"] == (before["version"] if before else None)  # each file a version
            assert isinstance(row["requests__new_received__total"], int)
        if key == name:
            assert {r["roster_state"] for r in mine} == {"exact"} and mine[0]["body_id"] == _md5_id(f"roster:{body['code']}:{normalise_name(name)}")
        else:  # 市场监管局 for 市场监督管理局: never taken silently
            assert {r["roster_state"] for r in mine} == {"uncertain"} and "待人工确认" in mine[0]["body_note"]
            assert mine[0]["body_id"] == _md5_id(f"key:{mine[0]['body_key']}")


def test_of_two_copies_of_a_report_the_fixed_one_is_the_row(city, rostered):
    name, year, fixed_file = city["fixed"]
    [row] = [r for r in _panel(rostered[0]) if r["roster_name"] == name and r["year"] == year]
    assert row["copies"] == 2 and row["path"].endswith(fixed_file)  # fewer errors: the preferred copy (store/duplicates.py)
    assert row["errors"] == 0


def test_bodies_named_only_by_their_office_stay_apart_by_folder(city, rostered):
    rows = [r for r in _panel(rostered[0]) if r["body_key"] and r["body_key"].startswith("区民政局@")]
    assert len(rows) == 3 and len({r["body_id"] for r in rows}) == 2
    by_folder = {(r["path"].split("/")[-2], r["year"]): r for r in rows}
    assert by_folder[("甲", 2023)]["prev_year"] == 2022 and by_folder[("甲", 2023)]["prev_sha256"] == by_folder[("甲", 2022)]["sha256"]
    assert by_folder[("乙", 2023)]["prev_year"] is None  # the other folder's 区民政局 is another body
    assert all("文件夹" in r["body_note"] and r["division_code"] is None for r in rows)
    with Store(rostered[0], read_only=True) as store:  # and no corpus rule compared the two 2023 reports as one body
        related = store.con.execute("SELECT count(*) FROM findings f JOIN reports r USING (sha256) "
                                    "WHERE r.body_key LIKE '区民政局@%' AND f.rule = 'corpus.duplicate_report'").fetchone()[0]  # fmt: skip
    assert related == 0


@pytest.mark.parametrize(
    ("name", "says_no_place"),
    [("区卫健局", True), ("县民政局", True), ("示范区教育局", True), ("民政局", True), ("教育厅", True),
     ("长沙县民政局", False), ("市中区教育局", False), ("教育部", False), ("国家统计局", False), ("平潭综合实验区管委会", False),
     ("某镇", False), ("北京市朝阳区小关街道", False)],
)  # fmt: skip
def test_which_names_say_no_place(name, says_no_place):
    assert placeless(normalise_name(name)) is says_no_place


def test_body_ids_are_the_same_in_another_store_of_the_same_files(city, tmp_path):
    """Without a roster an id is the body key's; a second store of the same folder gives the same ids."""
    code, _, error = gk("panel", "--db", city["db"])
    assert code == 0, error
    first = {(r["body_key"], r["year"]): r["body_id"] for r in _panel(city["db"])}
    other = tmp_path / "other.duckdb"
    run_batch([city["reports"]], other, BatchOptions(progress=False, workers=2))
    second = {(r["body_key"], r["year"]): r["body_id"] for r in _panel(other)}  # not refreshed: the view's own ids
    assert first == second
    assert all(body_id == _md5_id(f"key:{key}") for (key, _), body_id in first.items())


def test_corrections_and_decisions_show_in_the_panel(city, rostered, tmp_path):
    from gongkai import review

    db = copy_store(rostered[0], tmp_path / "reviewed.duckdb")
    target = next(r for r in _panel(db) if r["roster_name"] == "望城区乔口镇人民政府" and r["year"] == 2023)
    with Store(db) as store:
        fixed = review.correct(store, target["sha256"], "requests.new_received.total", target["requests__new_received__total"] + 5,
                               "按原件更正", by="李四")  # fmt: skip
        found = review.list_findings(store, status="open")
        decided = found[0]
        review.decide(store, decided.id, "confirmed", by="李四")
    code, _, error = gk("panel", "--db", db)
    assert code == 0, error
    rows = {(r["body_id"], r["year"]): r for r in _panel(db)}
    row = rows[(target["body_id"], 2023)]
    assert row["requests__new_received__total"] == target["requests__new_received__total"] + 5
    assert row["corrected_cells"] == ["requests__new_received__total"] and row["version"] == fixed.version.version == 2
    after = rows[(target["body_id"], 2024)]
    assert after["prev_version"] == 2 and after["prev_sha256"] == target["sha256"]
    confirmed = [r for r in rows.values() if r["findings_confirmed"]]
    assert [(r["sha256"], r["findings_confirmed"]) for r in confirmed] == [(decided.sha256, 1)]
    with Store(db, read_only=True) as store:
        open_total = store.con.execute("SELECT sum(findings_open + findings_confirmed + findings_dismissed) FROM panel").fetchone()[0]
    with Store(db) as store:
        listed = [f for f in review.list_findings(store) if f.status != "resolved"]
    panel_files = {r["sha256"] for r in rows.values()}
    assert open_total == sum(f.sha256 in panel_files for f in listed)


def test_exports_read_as_numbers_with_labels(rostered, tmp_path):
    pd = pytest.importorskip("pandas")
    import pyarrow.csv as pacsv
    import pyarrow.dataset as ds

    from gongkai.store.panel import panel_columns

    db = rostered[0]
    for name in ("panel.parquet", "panel.csv", "panel.xlsx"):
        code, out, error = gk("panel", "--db", db, "--to", tmp_path / name)
        assert code == 0 and str(tmp_path / name) in out, error
    cells = [c for c in panel_columns() if c.cell_id]
    rows = len(_panel(db))

    parquet = tmp_path / "panel.parquet"
    assert sorted(p.name for p in parquet.iterdir()) == ["year=2022", "year=2023", "year=2024"]
    table = ds.dataset(parquet, partitioning="hive").to_table()
    frame = table.to_pandas()
    assert len(frame) == rows and str(frame["year"].dtype) == "int32"
    assert all(pd.api.types.is_numeric_dtype(frame[c.name]) for c in cells)
    assert pd.api.types.is_numeric_dtype(pd.read_parquet(parquet)["requests__new_received__total"])
    field = table.schema.field("requests__new_received__total")
    assert field.metadata[b"label_zh"].decode() == "一、本年新收政府信息公开申请数量·总计" and field.metadata[b"unit"].decode() == "件"
    described = json.loads(table.schema.metadata[b"gongkai.columns"])
    assert described["year"]["label_zh"] == "年度" and described["active__admin_fees__amount_wan"]["unit"] == "万元"

    csv = tmp_path / "panel.csv"
    raw = csv.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.splitlines()[0].decode() == ",".join(c.name for c in panel_columns())
    frame = pd.read_csv(csv)
    assert len(frame) == rows
    filled = [c.name for c in cells if frame[c.name].notna().any()]
    assert len(filled) > 150 and all(pd.api.types.is_numeric_dtype(frame[name]) for name in filled)
    assert pd.api.types.is_integer_dtype(frame["year"]) and pd.api.types.is_float_dtype(frame["prev_year"])  # blanks are NaN, not 0
    inferred = pacsv.read_csv(csv).schema  # the type inference R's readr and Stata's import delimited do alike
    assert all(str(inferred.field(name).type) in ("int64", "double") for name in filled)

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.load_workbook(tmp_path / "panel.xlsx")
    assert book.sheetnames == ["面板", "字段说明"]
    sheet = book["面板"]
    assert sheet.row_dimensions[1].hidden and sheet.cell(1, 1).value == "body_id" and sheet.cell(2, 1).value == "机关编号"
    assert sheet.max_row == rows + 2 and sheet["D3"].value in ("部门", "人民政府", "乡镇", "街道", "其他")
    assert book["字段说明"].max_row == len(panel_columns()) + 2


@pytest.mark.skipif(shutil.which("Rscript") is None, reason="Rscript 未安装：R 读取 CSV 的检查跳过（pyarrow.csv 的类型推断代替）")
def test_r_reads_the_csv_as_numbers(rostered, tmp_path):
    csv = tmp_path / "panel.csv"
    code, _, error = gk("panel", "--db", rostered[0], "--to", csv)
    assert code == 0, error
    script = f'p <- read.csv("{csv}", fileEncoding = "UTF-8"); cat(class(p$requests__new_received__total), class(p$year), nrow(p))'
    done = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.split()[:2] == ["integer", "integer"], done.stderr


def test_every_table_view_and_column_has_a_comment(city):
    with duckdb.connect(str(city["db"]), read_only=True) as con:
        objects = con.execute("SELECT table_name, comment FROM duckdb_tables() UNION ALL "
                              "SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall()  # fmt: skip
        columns = con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal AND comment IS NULL").fetchall()
    names = {name for name, _ in objects}
    assert {"reports", "findings", "failures", "inputs", "loaded_shards", "name_aliases", "bodies", "agency_keys", "panel",
            "panel_bodies", "current_cells", "current_versions"} <= names  # fmt: skip
    assert [name for name, comment in objects if not comment] == [] and columns == []
    assert all(" / " in comment for _, comment in objects)  # Chinese, then English


def test_data_dictionary_is_current():
    from gongkai.store.docs import PATH, data_markdown

    assert PATH == ROOT / "docs" / "data.md"
    assert PATH.read_text(encoding="utf-8") == data_markdown(), "docs/data.md is stale: python -m gongkai.store.docs"


def test_panel_of_a_missing_store_or_an_unknown_format_is_one_line(city, tmp_path):
    code, _, error = gk("panel", "--db", tmp_path / "nothing.duckdb")
    assert code == 2 and "数据库不存在" in error
    code, _, error = gk("panel", "--db", city["db"], "--to", tmp_path / "panel.json")
    assert code == 2 and "不支持的面板格式" in error
