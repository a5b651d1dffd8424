"""`gongkai batch`: every file once, keyed by sha256; reruns, changed files, kill -9 and workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from corpus_helpers import corpus_with_store, dump, killable_batch, make_corpus
from typer.testing import CliRunner

from gongkai.store import BatchOptions, Store, run_batch


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A generated corpus of 30 reports, one unreadable file, and truth files to skip."""
    folder = tmp_path_factory.mktemp("corpus")
    make_corpus(folder, 30)
    (folder / "truth").mkdir()
    (folder / "truth" / "report_0000.json").write_text("{}", encoding="utf-8")
    (folder / "notes.json").write_text("{}", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)  # control bytes: not a document
    return folder


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory):
    return corpus_with_store(tmp_path_factory, "small", seed=7)


@pytest.fixture(scope="module")
def serial_db(corpus, tmp_path_factory):
    db = tmp_path_factory.mktemp("serial") / "corpus.duckdb"
    run_batch([corpus], db, BatchOptions(progress=False, shard_size=7))
    return db


def tables(db):
    with Store(db, read_only=True) as store:
        return dump(store.con)


def test_every_report_is_a_row_and_a_bad_file_a_failure(serial_db):
    with Store(serial_db, read_only=True) as store:
        assert store.count("reports") == 30
        [(path, kind, reason)] = store.con.execute("SELECT path, kind, reason FROM failures").fetchall()
        assert path.endswith("broken.pdf") and kind == "unreadable" and reason
        assert store.count("reports", "WHERE path LIKE '%.json'") == 0
    assert not os.listdir(f"{serial_db}.parts")  # every shard loaded and removed


def test_a_rerun_skips_everything_and_changes_nothing(corpus, serial_db, tmp_path):
    db = tmp_path / "again.duckdb"
    first = run_batch([corpus], db, BatchOptions(progress=False))
    before = tables(db)
    second = run_batch([corpus], db, BatchOptions(progress=False))
    assert (first.parsed, first.failed) == (30, 1)
    assert (second.parsed, second.failed, second.skipped) == (0, 0, 31)
    assert tables(db) == before == tables(serial_db)


def test_a_changed_file_is_redone_and_its_old_row_goes(corpus, tmp_path):
    folder = tmp_path / "copy"
    make_corpus(folder, 5, seed=3)
    db = tmp_path / "c.duckdb"
    run_batch([folder], db, BatchOptions(progress=False))
    target = sorted(folder.rglob("*.txt"))[2]
    with Store(db, read_only=True) as store:
        [(old_sha,)] = store.con.execute("SELECT sha256 FROM reports WHERE path = ?", [str(target)]).fetchall()
    target.write_bytes(target.read_bytes() + "\n（更正版）\n".encode())
    summary = run_batch([folder], db, BatchOptions(progress=False))
    assert (summary.parsed + summary.failed, summary.stale, summary.skipped) == (1, 1, 4)
    with Store(db, read_only=True) as store:
        [(new_sha,)] = store.con.execute(
            "SELECT sha256 FROM reports WHERE path = ? UNION ALL SELECT sha256 FROM failures WHERE path = ?", [str(target)] * 2
        ).fetchall()
        assert new_sha != old_sha and store.count("reports") + store.count("failures") == 5
        assert store.count("findings", f"WHERE sha256 = '{old_sha}'") == 0


def test_same_bytes_under_two_names_are_one_report(tmp_path):
    folder = tmp_path / "dup"
    [path] = make_corpus(folder, 1)
    (folder / "mirror.txt").write_bytes(path.read_bytes())
    summary = run_batch([folder], tmp_path / "d.duckdb", BatchOptions(progress=False))
    assert (summary.found, summary.unique, summary.parsed) == (2, 1, 1)


def test_two_workers_give_the_same_rows_as_one(corpus, serial_db, tmp_path):
    db = tmp_path / "two.duckdb"
    run_batch([corpus], db, BatchOptions(workers=2, progress=False, shard_size=4))
    assert tables(db) == tables(serial_db)


@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_at_any_moment_then_a_rerun_equals_an_uninterrupted_run(small_corpus, tmp_path, workers):
    corpus, uninterrupted = small_corpus
    db, progress = tmp_path / "killed.duckdb", tmp_path / "progress"
    for parses in (4, 3):  # 13 files: each kill leaves work undone, the second in a rerun of the first
        assert killable_batch(corpus, db, progress, workers=workers, kill_after=parses), "the batch ended before the kill"
    killable_batch(corpus, db, progress, workers=workers)
    assert tables(db) == tables(uninterrupted)


def test_ctrl_c_keeps_what_was_parsed(corpus, tmp_path, monkeypatch):
    from gongkai.store import batch as batch_module

    real = batch_module.parse_file
    calls = []

    def interrupt_after_five(path, sha, limits):
        calls.append(path)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(path, sha, limits)

    monkeypatch.setattr(batch_module, "parse_file", interrupt_after_five)
    db = tmp_path / "ctrl_c.duckdb"
    with pytest.raises(KeyboardInterrupt):
        run_batch([corpus], db, BatchOptions(progress=False, shard_size=100))
    with Store(db, read_only=True) as store:
        assert store.count("reports") + store.count("failures") == 5
    monkeypatch.setattr(batch_module, "parse_file", real)
    assert run_batch([corpus], db, BatchOptions(progress=False)).skipped == 5


def test_the_commands_batch_export_and_stats(small_corpus, tmp_path):
    from gongkai.cli import app

    corpus, _ = small_corpus
    runner = CliRunner()
    db = tmp_path / "cli.duckdb"
    result = runner.invoke(app, ["batch", str(corpus), "--db", str(db), "--workers", "2", "--timeout", "60"])
    assert result.exit_code == 0, result.output
    assert "本次解析成功" in result.output and "不支持的文件类型" in result.output
    result = runner.invoke(app, ["export", "--db", str(db), "--to", str(tmp_path / "out.csv")])
    assert result.exit_code == 0 and (tmp_path / "out.findings.csv").exists()
    result = runner.invoke(app, ["stats", "--db", str(db), "--by", "year", "--csv", str(tmp_path / "s.csv"), "--charts", str(tmp_path / "charts")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "charts").iterdir()) == ["appeals.png", "outcome_shares.png", "requests_received.png"]


@pytest.mark.slow
def test_the_shared_corpus_loads_whole(tmp_path, shared):
    folder = shared("corpus")
    summary = run_batch([folder], tmp_path / "shared.duckdb", BatchOptions(workers=2, progress=False))
    real = [p for p in folder.iterdir() if p.suffix in {".txt", ".html", ".pdf", ".md"} and p.stem != "README"]
    assert summary.reports + summary.failures == len(real)
    assert summary.failures == 0


def test_pipes_devices_and_symlinks_out_of_the_folder_are_refused_and_named(tmp_path):
    """A FIFO would hang the hashing for ever; a link to a file outside the folder would be read and stored."""
    folder = tmp_path / "in"
    make_corpus(folder, 2, seed=3)
    os.mkfifo(folder / "pipe.txt")
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("本年新收政府信息公开申请 999 件", encoding="utf-8")
    (folder / "link_out.txt").symlink_to(secret)
    inside = sorted(folder.glob("*.txt"))[0]
    (folder / "link_in.txt").symlink_to(inside)
    (folder / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")
    (folder / "dev.txt").symlink_to("/dev/zero")
    db = tmp_path / "s.duckdb"
    done = subprocess.run([sys.executable, "-m", "gongkai", "batch", str(folder), "--db", str(db)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 1, done.stderr  # finished, but not every input was read
    for name in ("pipe.txt", "link_out.txt", "dangling.txt", "dev.txt"):
        assert name in done.stdout, name
    assert "符号链接指向输入目录之外" in done.stdout and "不是普通文件" in done.stdout
    with Store(db, read_only=True) as store:
        paths = {p for (p,) in store.con.execute("SELECT path FROM reports").fetchall()}
        assert not any("secret" in p or "link_out" in p for p in paths)
        assert store.count("reports") == 2  # the inside link is the same bytes as its target: one report


def test_unreadable_files_and_folders_are_counted_and_named(tmp_path):
    """A file and a folder the batch may not read are failures with a reason, never silently missing.

    Root reads anything, so there the batch runs without the capabilities that override file modes.
    """
    import shutil

    folder = tmp_path / "in"
    secret_file = make_corpus(folder, 3, seed=6)[0]
    locked = folder / "locked"
    locked.mkdir()
    (locked / "inner.txt").write_bytes(secret_file.read_bytes() + b"\n")
    secret_file.chmod(0o000)
    locked.chmod(0o000)
    db = tmp_path / "s.duckdb"
    command = [sys.executable, "-m", "gongkai", "batch", str(folder), "--db", str(db)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("以 root 运行且没有 setpriv（util-linux）：无法让文件不可读")
        drop = "-dac_override,-dac_read_search"
        command = ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    finally:
        locked.chmod(0o755)
    assert done.returncode == 1, done.stdout + done.stderr  # finished, and says not every input was read
    assert "Traceback" not in done.stderr
    assert secret_file.name in done.stdout and "locked" in done.stdout, done.stdout
    assert "未读取的条目 2 个" in done.stdout
    assert "无法读取目录（Permission denied）" in done.stdout and "无法读取（Permission denied）" in done.stdout
    with Store(db, read_only=True) as store:
        assert store.count("reports") == 2 and store.count("failures") == 0  # no bytes, so no sha256 to key a failure


def test_a_missing_input_folder_is_an_error_and_makes_no_store(tmp_path):
    db = tmp_path / "s.duckdb"
    done = subprocess.run([sys.executable, "-m", "gongkai", "batch", str(tmp_path / "nodir"), "--db", str(db)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2 and "输入不存在" in done.stderr and "Traceback" not in done.stderr
    assert not db.exists()


def test_a_store_removed_during_the_batch_is_not_called_a_success(tmp_path, monkeypatch):
    from gongkai.errors import GongkaiError
    from gongkai.store import batch as batch_module

    folder = tmp_path / "in"
    make_corpus(folder, 3, seed=4)
    db = tmp_path / "s.duckdb"
    real = batch_module.run_serial

    def remove_store_midway(tasks, limits):
        for i, rows in enumerate(real(tasks, limits)):
            if i == 1:
                db.unlink()
            yield rows

    monkeypatch.setattr(batch_module, "run_serial", remove_store_midway)
    with pytest.raises(GongkaiError, match="被删除或替换"):
        run_batch([folder], db, BatchOptions(progress=False))


def test_a_store_held_by_another_batch_is_named_as_such_not_as_a_full_disk(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, 1, seed=5)
    db = tmp_path / "s.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)",
                               str(db)], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        done = subprocess.run([sys.executable, "-m", "gongkai", "batch", str(folder), "--db", str(db)],
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "正被另一个程序使用" in done.stderr and f"进程 {holder.pid}" in done.stderr
    assert "空间" not in done.stderr
