"""The DuckDB store of a corpus: tables `reports`, `findings`, `failures` and their upkeep.

Only the process that runs the batch writes; shards are loaded in one transaction each
(delete the shard's sha256s, insert its rows, note the shard as loaded), so a kill at any
moment leaves either the old rows or the new ones, never half of a shard and never twice.
A report parsed again (`--redo`, `--redo-stale`) replaces its old rows in that same transaction.
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Self

import duckdb
import pyarrow as pa

from gongkai.store.inputs import InputFile
from gongkai.store.panel import ensure_panel
from gongkai.store.review_tables import ensure_review_tables
from gongkai.store.rows import Rows
from gongkai.store.schema import (
    FAILURE_SCHEMA,
    FINDING_SCHEMA,
    create_sql,
    duck_type,
    quote,
    report_schema,
)
from gongkai.store.shards import commit_shard, committed_shards, parts_dir, remove_shard

KEYED_TABLES = ("reports", "findings", "failures")


def _writes(method):
    """A store method that writes: a failed write (disk full, read-only, quota) is one `GongkaiError` line."""

    @functools.wraps(method)
    def writing(self, *args, **kwargs):
        with self._writing():
            return method(self, *args, **kwargs)

    return writing


class Store:
    """A corpus store at `path` (a DuckDB file) with its shard folder beside it."""

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False):
        self.path = Path(path)
        self.parts = parts_dir(path)
        if read_only and not self.path.exists():
            from gongkai.errors import GongkaiError

            raise GongkaiError(f"{self.path}: 数据库不存在（先运行 gongkai batch）")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with nullcontext() if read_only else self._writing():
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        self.con.execute("SET enable_progress_bar = false")  # our own progress bar owns the terminal
        if not read_only:
            self._ensure_schema()

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # schema ---------------------------------------------------------------

    @_writes
    def _ensure_schema(self) -> None:
        con = self.con
        con.execute(create_sql("reports", report_schema()))
        con.execute(create_sql("findings", FINDING_SCHEMA))
        con.execute(create_sql("failures", FAILURE_SCHEMA))
        con.execute("CREATE TABLE IF NOT EXISTS inputs (path VARCHAR PRIMARY KEY, size BIGINT, mtime_ns BIGINT, sha256 VARCHAR)")
        con.execute("CREATE TABLE IF NOT EXISTS loaded_shards (name VARCHAR PRIMARY KEY)")
        con.execute("CREATE TABLE IF NOT EXISTS name_aliases (alias VARCHAR PRIMARY KEY, canonical VARCHAR)")
        con.execute(
            "CREATE TABLE IF NOT EXISTS bodies (body_key VARCHAR, name VARCHAR, region VARCHAR, body_type VARCHAR,"
            " first_year INTEGER, last_year INTEGER, reports INTEGER)"
        )
        con.execute("CREATE TABLE IF NOT EXISTS agency_keys (agency VARCHAR, region VARCHAR, folder VARCHAR, body_key VARCHAR)")
        con.execute("ALTER TABLE agency_keys ADD COLUMN IF NOT EXISTS folder VARCHAR")  # a store made before placeless names
        ensure_review_tables(con)  # the audit's and review's own tables: never touched by a batch
        ensure_panel(con)  # the researcher's view: one row per body and year
        # a store made before cells.tsv grew a cell, or before rows were stamped with their parser,
        # gets the new columns (null for old rows: an unknown parser, so --redo-stale redoes them)
        for table, schema in (("reports", report_schema()), ("findings", FINDING_SCHEMA), ("failures", FAILURE_SCHEMA)):
            have = {row[0] for row in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]).fetchall()}
            for field in schema:
                if field.name not in have:
                    con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(field.name)} {duck_type(field.type)}")

    # loading --------------------------------------------------------------

    @_writes
    def add(self, batch: list[Rows], shards: list[Path] = ()) -> None:
        """Commit `batch` as a shard, then load it with `shards` committed elsewhere (the way every row enters the store).

        A write that fails (disk full, read-only, quota) is one `GongkaiError` line; the rows
        already loaded stay whole, and a shard committed but not loaded is loaded by the next run.
        """
        shards = list(shards)
        if batch:
            shards.append(commit_shard(self.parts, batch))
        if shards:
            self.load_shards(shards)

    @_writes
    def recover(self) -> int:
        """Load the shards a killed or interrupted run committed but did not load; returns how many."""
        shards = committed_shards(self.parts)
        for start in range(0, len(shards), 500):
            self.load_shards(shards[start : start + 500])
        return len(shards)

    def load_shard(self, shard: Path) -> None:
        self.load_shards([shard])

    def load_shards(self, shards: list[Path]) -> None:
        """Load committed shards in one transaction, each report replacing its old rows.

        A report in several of them (a Dask chunk run again after its worker died) keeps the
        rows of the newest shard only, so it is never in the store twice.
        """
        con = self.con
        names = [shard.name for shard in shards]
        loaded = {row[0] for row in con.execute("SELECT name FROM loaded_shards WHERE list_contains(?, name)", [names]).fetchall()}
        for shard in shards:
            if shard.name in loaded:
                remove_shard(shard)  # loaded before a kill, not yet removed
        shards = [shard for shard in shards if shard.name not in loaded]
        if not shards:
            return
        files = {t: [str(shard / f"{t}.parquet") for shard in shards] for t in KEYED_TABLES}
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE shard_keys AS SELECT sha256, max(parse_dirpath(filename)) AS shard FROM ("
                "SELECT sha256, filename FROM read_parquet($reports, filename = true) "
                "UNION ALL SELECT sha256, filename FROM read_parquet($failures, filename = true)) GROUP BY sha256",
                {"reports": files["reports"], "failures": files["failures"]},
            )
            for table in KEYED_TABLES:
                con.execute(f"DELETE FROM {table} WHERE sha256 IN (SELECT sha256 FROM shard_keys)")
                con.execute(
                    f"INSERT INTO {table} BY NAME SELECT t.* EXCLUDE (filename) "
                    "FROM read_parquet(?, filename = true, union_by_name = true) t "
                    "SEMI JOIN shard_keys k ON k.sha256 = t.sha256 AND k.shard = parse_dirpath(t.filename)",
                    [files[table]],
                )
            con.execute("INSERT INTO loaded_shards SELECT unnest(?)", [[shard.name for shard in shards]])
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        for shard in shards:
            remove_shard(shard)

    # inputs ---------------------------------------------------------------

    def known_hashes(self) -> dict[tuple[str, int, int], str]:
        rows = self.con.execute("SELECT path, size, mtime_ns, sha256 FROM inputs").fetchall()
        return {(p, s, m): h for p, s, m, h in rows}

    @_writes
    def reconcile(self, files: list[InputFile], hashes: dict[str, str]) -> int:
        """Remember the hashes; drop rows of files whose bytes changed; give each sha256 its first path.

        Returns the number of stale reports removed (a path now holding other bytes).
        """
        found = pa.table(
            {
                "path": [f.path for f in files if f.path in hashes],
                "size": [f.size for f in files if f.path in hashes],
                "mtime_ns": [f.mtime_ns for f in files if f.path in hashes],
                "sha256": [hashes[f.path] for f in files if f.path in hashes],
            }
        )
        con = self.con
        con.register("found_files", found)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM inputs WHERE path IN (SELECT path FROM found_files)")
            con.execute("INSERT INTO inputs SELECT path, size, mtime_ns, sha256 FROM found_files")
            con.execute("CREATE OR REPLACE TEMP TABLE first_path AS SELECT sha256, min(path) AS path FROM found_files GROUP BY sha256")
            # a path that now holds other bytes: its old row goes, unless those bytes live on elsewhere
            con.execute(
                "CREATE OR REPLACE TEMP TABLE stale AS "
                "SELECT DISTINCT t.sha256 FROM (SELECT sha256, path FROM reports UNION ALL SELECT sha256, path FROM failures) t "
                "JOIN found_files f ON f.path = t.path AND f.sha256 <> t.sha256 "
                "WHERE t.sha256 NOT IN (SELECT sha256 FROM first_path)"
            )
            stale = con.execute("SELECT count(*) FROM stale").fetchone()[0]
            for table in KEYED_TABLES:
                con.execute(f"DELETE FROM {table} WHERE sha256 IN (SELECT sha256 FROM stale)")
            for table in ("reports", "failures"):
                con.execute(
                    f"UPDATE {table} SET path = first_path.path FROM first_path "
                    f"WHERE {table}.sha256 = first_path.sha256 AND {table}.path <> first_path.path"
                )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.unregister("found_files")
        return stale

    @_writes
    def set_sources(self, fetched) -> int:
        """Give the reports and failures of files a fetch saved (`gongkai.fetch.manifest.FetchedFile`s) their
        web address, and, to a report whose text gives no publication date, the date the site listed it
        (else its Last-Modified) as `published`, marked in `published_from`. A date the text gives is never
        replaced; a hint earlier than the report's year is not taken. Returns how many reports have an address.
        """
        if not fetched:
            return 0
        table = pa.table(
            {
                "path": [f.path for f in fetched],
                "url": [f.url for f in fetched],
                "page": [f.page for f in fetched],
                "hint": pa.array([f.published_hint for f in fetched], pa.date32()),
                "hint_from": [f.hint_from for f in fetched],
            }
        )
        con = self.con
        con.register("fetched_files", table)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE fetched_sources AS SELECT i.sha256, arg_min(f.url, f.path) AS url, "
                "arg_min(f.page, f.path) AS page, arg_min(f.hint, f.path) AS hint, arg_min(f.hint_from, f.path) AS hint_from "
                "FROM fetched_files f JOIN inputs i USING (path) GROUP BY i.sha256"
            )
            hinted = "(r.published IS NULL OR r.published_from IS NOT NULL)"  # no date from the text, or only a hint so far
            usable = "(s.hint IS NOT NULL AND (r.year IS NULL OR year(s.hint) >= r.year))"
            con.execute(
                f"UPDATE reports r SET source_url = s.url, source_page = s.page, "
                f"published = CASE WHEN {hinted} THEN CASE WHEN {usable} THEN s.hint END ELSE r.published END, "
                f"published_from = CASE WHEN {hinted} AND {usable} THEN s.hint_from END "
                f"FROM fetched_sources s WHERE r.sha256 = s.sha256"
            )
            con.execute("UPDATE failures f SET source_url = s.url FROM fetched_sources s WHERE f.sha256 = s.sha256")
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.unregister("fetched_files")
        return self.count("reports", "WHERE source_url IS NOT NULL")

    def done(self) -> set[str]:
        """sha256 of every input already in the store, parsed or failed."""
        return self._shas("SELECT sha256 FROM reports UNION SELECT sha256 FROM failures")

    def failed(self) -> set[str]:
        return self._shas("SELECT sha256 FROM failures")

    def parsed_by_other(self, fingerprint: str) -> set[str]:
        """sha256 of the reports and failures made by another parser than `fingerprint`, or by an unknown one."""
        return self._shas(
            "SELECT sha256 FROM reports WHERE parser_fingerprint IS DISTINCT FROM $fp "
            "UNION SELECT sha256 FROM failures WHERE parser_fingerprint IS DISTINCT FROM $fp",
            {"fp": fingerprint},
        )

    def _shas(self, sql: str, params=None) -> set[str]:
        return {row[0] for row in self.con.execute(sql, params).fetchall()}

    # corpus-wide upkeep ----------------------------------------------------

    @_writes
    def set_aliases(self, aliases: dict[str, str]) -> None:
        """Replace the configured name aliases (alias → canonical agency name)."""
        self.con.execute("BEGIN TRANSACTION")
        self.con.execute("DELETE FROM name_aliases")
        if aliases:
            self.con.executemany("INSERT INTO name_aliases VALUES (?, ?)", sorted(aliases.items()))
        self.con.execute("COMMIT")

    @_writes
    def refresh(self) -> int:
        """Link bodies across years, recompute the corpus findings and the counts; returns corpus findings."""
        from gongkai.store.anomalies import load_settings, run_anomaly_rules
        from gongkai.store.bodies import link_bodies
        from gongkai.store.corpus_rules import run_corpus_rules

        con = self.con
        settings = load_settings()  # a bad thresholds file stops here, before anything changes
        con.execute("BEGIN TRANSACTION")
        try:
            link_bodies(con)
            count = run_corpus_rules(con) + run_anomaly_rules(con, settings)
            con.execute(
                "UPDATE reports SET "
                "errors = (SELECT count(*) FROM findings f WHERE f.sha256 = reports.sha256 AND f.severity = 'error'), "
                "warnings = (SELECT count(*) FROM findings f WHERE f.sha256 = reports.sha256 AND f.severity = 'warning')"
            )
            con.execute("COMMIT")
        except BaseException:
            _rollback(con)
            raise
        return count

    @_writes
    def write_comments(self) -> int:
        """Write the comments of the data dictionary the store lacks (store/dictionary.py); returns how many."""
        from gongkai.store.dictionary import ensure_comments

        return ensure_comments(self.con)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write that fails (disk full, read-only, quota) becomes one `GongkaiError` line.

        The rows already loaded stay whole: a shard is loaded in one transaction, and one
        committed but not loaded is loaded by the next run.
        """
        try:
            yield
        except OSError as exc:
            raise _write_failed(self.parts, exc.strerror or str(exc)) from None
        except (duckdb.IOException, duckdb.TransactionException) as exc:
            raise _write_failed(self.path, str(exc)) from None

    def count(self, table: str, where: str = "") -> int:
        return self.con.execute(f"SELECT count(*) FROM {table} {where}").fetchone()[0]


def _rollback(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass  # a COMMIT that failed (disk full) has rolled back already


_FULL = tuple(os.strerror(code) for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG))


def _write_failed(where: Path, reason: str) -> Exception:
    from gongkai.errors import GongkaiError

    held = _LOCK_HOLDER.search(reason)
    if held or "Could not set lock" in reason:
        by = f"（进程 {held.group(1)}）" if held else ""
        return GongkaiError(f"数据库 {where} 正被另一个程序使用{by}，可能是另一个 gongkai batch 或 serve："
                            "等它结束后重新运行同一命令即可；已入库的报告完整无缺")
    reason = "磁盘空间不足" if any(full in reason for full in _FULL) else reason.strip().splitlines()[-1][:200]
    return GongkaiError(f"无法写入 {where}：{reason}。已入库的报告完整无缺；腾出空间后重新运行同一命令即可续完")


_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")
