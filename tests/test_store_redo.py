"""A store made by another parser is brought up to date: --redo, --redo-stale, old stores, kill -9."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from corpus_helpers import corpus_with_store, dump, killable_batch
from typer.testing import CliRunner

from gongkai.store import BatchOptions, Store, run_batch
from gongkai.store.parsed_by import current_parser, fingerprint

OLD = "0123456789abcdef"  # the fingerprint of some other parser


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return corpus_with_store(tmp_path_factory, "redo", seed=11)


def copy_of(fresh, tmp_path):
    db = tmp_path / "store.duckdb"
    shutil.copyfile(fresh, db)
    return db


def tables(db):
    with Store(db, read_only=True) as store:
        return dump(store.con)


def mark_parsed_by_another(db, reports: int, failures: bool = True) -> set[str]:
    """Stamp `reports` reports (the first one unstamped, as an old store's rows are) and the failures as another parser's."""
    with Store(db) as store:
        shas = [sha for (sha,) in store.con.execute(f"SELECT sha256 FROM reports ORDER BY path LIMIT {reports}").fetchall()]
        store.con.execute(
            "UPDATE reports SET gongkai_version = '0.0.9', parser_fingerprint = ? WHERE list_contains(?, sha256)", [OLD, shas]
        )
        store.con.execute("UPDATE reports SET gongkai_version = NULL, parser_fingerprint = NULL WHERE sha256 = ?", [shas[0]])
        if failures:
            store.con.execute("UPDATE failures SET gongkai_version = '0.0.9', parser_fingerprint = ?", [OLD])
            shas += [sha for (sha,) in store.con.execute("SELECT sha256 FROM failures").fetchall()]
    return set(shas)


def parsed_shas(monkeypatch) -> list[str]:
    """The sha256 of every file the batch parses from now on."""
    from gongkai.store import batch as batch_module

    real, seen = batch_module.parse_file, []

    def recording(path, sha, limits):
        seen.append(sha)
        return real(path, sha, limits)

    monkeypatch.setattr(batch_module, "parse_file", recording)
    return seen


def test_every_row_is_stamped_with_the_parser_that_made_it(corpus):
    _, fresh = corpus
    parser = current_parser()
    with Store(fresh, read_only=True) as store:
        stamps = store.con.execute(
            "SELECT DISTINCT gongkai_version, parser_fingerprint FROM reports UNION SELECT gongkai_version, parser_fingerprint FROM failures"
        ).fetchall()
    assert stamps == [(parser.version, parser.fingerprint)]


def test_the_fingerprint_follows_the_parsing_code(tmp_path):
    import gongkai

    tree = tmp_path / "gongkai"
    shutil.copytree(os.path.dirname(gongkai.__file__), tree, ignore=shutil.ignore_patterns("__pycache__"))
    assert fingerprint(tree) == fingerprint()  # names relative to the tree: a copy is the same parser
    (tree / "extract" / "values.py").write_text((tree / "extract" / "values.py").read_text() + "\n# a change\n")
    changed = fingerprint(tree)
    assert changed != fingerprint()
    (tree / "web" / "app.py").write_text("# not the parser\n")
    assert fingerprint(tree) == changed


def test_redo_parses_everything_again_and_ends_with_the_rows_of_a_fresh_store(corpus, tmp_path):
    folder, fresh = corpus
    db = copy_of(fresh, tmp_path)
    summary = run_batch([folder], db, BatchOptions(progress=False, redo=True, shard_size=5))
    assert (summary.redone, summary.parsed, summary.failed, summary.skipped) == (13, 12, 1, 0)
    assert tables(db) == tables(fresh)
    with Store(db, read_only=True) as store:
        assert store.con.execute("SELECT count(*) - count(DISTINCT sha256) FROM reports").fetchone() == (0,)
        assert store.con.execute(
            "SELECT count(*) - count(DISTINCT (sha256, seq)) FROM findings WHERE rule NOT LIKE 'corpus.%'"
        ).fetchone() == (0,)
        assert (store.count("reports"), store.count("failures")) == (12, 1)


def test_redo_stale_parses_again_only_what_another_parser_made(corpus, tmp_path, monkeypatch):
    folder, fresh = corpus
    db = copy_of(fresh, tmp_path)
    stale = mark_parsed_by_another(db, reports=3)
    parsed = parsed_shas(monkeypatch)
    summary = run_batch([folder], db, BatchOptions(progress=False, redo_stale=True))
    assert set(parsed) == stale and len(parsed) == 4
    assert (summary.redone, summary.skipped, summary.outdated) == (4, 9, 0)
    assert tables(db) == tables(fresh)


def test_a_rerun_without_flags_skips_everything_and_counts_what_another_parser_made(corpus, tmp_path, monkeypatch):
    folder, fresh = corpus
    db = copy_of(fresh, tmp_path)
    mark_parsed_by_another(db, reports=3)
    before = tables(db)
    parsed = parsed_shas(monkeypatch)
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert parsed == []
    assert (summary.redone, summary.skipped, summary.outdated) == (0, 13, 4)
    assert tables(db) == before


def test_a_store_made_before_the_stamp_is_read_as_it_is_then_migrated(corpus, tmp_path):
    from gongkai.cli import app

    folder, fresh = corpus
    db = copy_of(fresh, tmp_path)
    with Store(db) as store:  # the tables as the previous gongkai made them
        for table in ("reports", "failures"):
            for column in ("gongkai_version", "parser_fingerprint"):
                store.con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    runner = CliRunner()
    for command in (["export", "--db", str(db), "--to", str(tmp_path / "old.csv")], ["stats", "--db", str(db)]):
        result = runner.invoke(app, command)  # read-only: no migration needed
        assert result.exit_code == 0, result.output
    with Store(db) as store:
        assert store.con.execute("SELECT count(*) FROM reports WHERE parser_fingerprint IS NULL").fetchone() == (12,)
        assert store.parsed_by_other(current_parser().fingerprint) == store.done()
    summary = run_batch([folder], db, BatchOptions(progress=False, redo_stale=True))
    assert (summary.redone, summary.outdated) == (13, 0)
    assert tables(db) == tables(fresh)


def test_the_command_says_how_many_were_parsed_again(corpus, tmp_path):
    from gongkai.cli import app

    folder, fresh = corpus
    db = copy_of(fresh, tmp_path)
    mark_parsed_by_another(db, reports=2, failures=False)
    runner = CliRunner()
    result = runner.invoke(app, ["batch", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert re.search(r"已在库中，重新解析\s*│\s*0\b", result.output)
    assert "库中 2 条结果非当前解析器生成，加 --redo-stale" in result.output
    result = runner.invoke(app, ["batch", str(folder), "--db", str(db), "--redo-stale"])
    assert re.search(r"已在库中，重新解析\s*│\s*2\b", result.output), result.output
    result = runner.invoke(app, ["batch", str(folder), "--db", str(db), "--redo"])
    assert re.search(r"已在库中，重新解析\s*│\s*13\b", result.output), result.output


def test_kill_9_while_parsing_again_then_a_rerun_equals_an_uninterrupted_run(corpus, tmp_path):
    folder, fresh = corpus
    db, progress = copy_of(fresh, tmp_path), tmp_path / "progress"
    mark_parsed_by_another(db, reports=12)
    for parses in (4, 3):  # 13 to parse again: each kill leaves some replaced, others still old
        assert killable_batch(folder, db, progress, redo_stale=True, kill_after=parses), "the batch ended before the kill"
        with Store(db) as store:  # every report is whole: its own findings came with the rows that hold them
            store.recover()
            assert store.con.execute(
                "SELECT count(*) FROM reports r WHERE r.errors + r.warnings <> "
                "(SELECT count(*) FROM findings f WHERE f.sha256 = r.sha256 AND f.severity IN ('error', 'warning'))"
            ).fetchone() == (0,)
    killable_batch(folder, db, progress, redo_stale=True)
    assert tables(db) == tables(fresh)
