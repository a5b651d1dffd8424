"""What the caller may see of the store: the region rules of review/accounts.py, applied for every route.

A route that reads a report (its page, JSON, Excel, source lines, page images) asks `check_read`;
one that lists reports or sums over them (the corpus page, its Excel, the API's lists and
statistics, a body's years) reads through `corpus_con`, which for a user limited to a region is an
in-memory copy of the tables the views and exports read, holding only that user's reports — so
the same view and export code draws a county's corpus as it draws the whole one. An administrator
(or a reader of every region) reads the store itself and pays nothing.
"""

from __future__ import annotations

import contextlib

import duckdb
from fastapi import HTTPException

from gongkai.review import PermissionDenied, ReviewError, reads_everything, require_read, visible_reports
from gongkai.web.storage import open_store

# table → the filter that keeps a user's rows (`?` is the list of the user's sha256, `??` that of their lineages)
SCOPED_TABLES = {
    "reports": "list_contains(?, sha256)",
    "findings": "list_contains(?, sha256)",
    "failures": "false",  # a file nobody could read has no region: an administrator's to see
    "report_versions": "list_contains(?, sha256)",
    "corrections": "list_contains(?, sha256)",
    "current_cells": "list_contains(?, sha256)",
    "version_cells": "list_contains(??, lineage)",
    "version_findings": "list_contains(??, lineage)",
}


def visible(w, user) -> set[str] | None:
    """sha256 of every report `user` may read, or None when every one."""
    if reads_everything(user):
        return None
    with w.store() as store:
        return visible_reports(store, user)


def check_read(w, user, sha: str) -> None:
    """403 when `user` may not read report `sha`; 404 when the store does not know it (and `user` is limited to a region)."""
    if reads_everything(user):
        return
    with w.store() as store:
        try:
            require_read(store, user, sha)
        except PermissionDenied:
            raise
        except ReviewError:
            raise HTTPException(404, "没有这份报告") from None


@contextlib.contextmanager
def corpus_con(w, user):
    """A DuckDB connection to the store as `user` may see it (see the module's docstring)."""
    if reads_everything(user):
        with open_store(w.settings.store) as con:
            yield con
        return
    mem = duckdb.connect(":memory:")
    try:
        if w.settings.store.exists():
            with w.store() as store:
                shas = sorted(visible_reports(store, user) or ())
                con = store.con
                lineages = [r[0] for r in con.execute("SELECT DISTINCT lineage FROM report_versions WHERE list_contains(?, sha256)",
                                                      [shas]).fetchall()]  # fmt: skip
                for table, keep in SCOPED_TABLES.items():
                    if not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = ?", [table]).fetchall():
                        continue
                    where = keep.replace("??", "$lineages").replace("?", "$shas")
                    params = {name: values for name, values in (("shas", shas), ("lineages", lineages)) if f"${name}" in where}
                    rows = con.sql(f"SELECT * FROM {table} WHERE {where}", params=params or None).to_arrow_table()
                    mem.register("gk_scoped", rows)
                    mem.execute(f"CREATE TABLE {table} AS SELECT * FROM gk_scoped")
                    mem.unregister("gk_scoped")
        yield mem
    finally:
        mem.close()
