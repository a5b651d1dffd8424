"""The conventions of a command-line tool, through the installed `gongkai` command: --version, -h on
every command, help in Chinese that wraps at 80 columns instead of being cut, usage errors as one
Chinese line, `-` for standard input, exit 2 for a missing input, a --retry-failed hint, a busy port."""

from __future__ import annotations

import json
import os
import re
import socket

import pytest
import typer
from cli_helpers import gongkai, text
from corpus_helpers import make_corpus
from rich.cells import cell_len

import gongkai as gk
from gongkai.cli import app
from gongkai.cli.conventions import HELP_NAMES
from gongkai.synth import make_report

ENGLISH = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
BOILERPLATE = ("Usage", "Options", "Arguments", "Commands", "Show this message", "default", "required", "Try '", "Error")


def command_tree():
    """(path, click command) of the app and every command under it, as `-h` would be asked."""
    root = typer.main.get_command(app)
    todo = [((), root)]
    while todo:
        path, command = todo.pop(0)
        yield path, command
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            todo.append(((*path, name), sub))


def own_words(path, command) -> set[str]:
    """The ASCII words our own texts put in a command's help: its path, its help, its parameters'
    names, helps and defaults, and its commands' names and helps."""
    texts = [command.help or "", "gongkai", *path, *HELP_NAMES]
    for param in command.params:
        texts += [param.help or "", *param.opts, *getattr(param, "secondary_opts", []), str(param.envvar or ""), str(param.default)]
    for name, sub in getattr(command, "commands", {}).items():
        texts += [name, sub.help or ""]
    return {w for t in texts for w in ENGLISH.findall(t)}


def squeeze(s: str) -> str:
    return re.sub(r"\s+", "", s)


def test_version_and_short_help():
    done = gongkai("--version")
    assert done.returncode == 0 and text(done)[0].strip() == f"gongkai {gk.__version__}"
    out, err = text(gongkai("-h"))
    assert out.startswith("用法：gongkai") and "解析报告" in out and not err
    short, _ = text(gongkai("batch", "-h", columns=80))
    assert short == text(gongkai("batch", "--help", columns=80))[0] and "--retry-failed" in short
    bare = gongkai()  # no command: the help, nothing wrong
    assert bare.returncode == 0 and text(bare)[0] == out


HELP_OF_EVERY_COMMAND = """
import contextlib, io, json, sys
from gongkai.cli import main
out = {}
for path in json.loads(sys.argv[1]):
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.suppress(SystemExit):
        main([*path, "-h"])
    out[" ".join(path)] = buffer.getvalue()
print(json.dumps(out))
"""


def test_every_command_has_whole_chinese_help_at_80_columns():
    """`gongkai … -h` for every command, in one gongkai process at 80 columns (a fresh interpreter for
    each would take a minute on a busy machine; test_version_and_short_help runs the command itself)."""
    paths = list(command_tree())
    assert len(paths) >= 13  # the app, its commands and draft's
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", HELP_OF_EVERY_COMMAND, json.dumps([list(p) for p, _ in paths])],
                          capture_output=True, timeout=120, env={**os.environ, "COLUMNS": "80"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    helps = json.loads(done.stdout)
    for path, command in paths:
        out = helps[" ".join(path)]
        assert out.startswith(f"用法：{' '.join(('gongkai', *path))}"), out
        too_wide = [line for line in out.splitlines() if cell_len(line) > 80]
        assert not too_wide, (path, too_wide)
        flat = squeeze(out)
        for help_text in [command.help or ""] + [p.help or "" for p in command.params]:
            for paragraph in help_text.split("\n\n"):
                assert squeeze(paragraph) in flat, (path, paragraph)  # whole: wrapped, never cut
        assert not [b for b in BOILERPLATE if b in out], (path, out)
        foreign = set(ENGLISH.findall(out)) - own_words(path, command)
        assert not foreign, (path, foreign)  # every English word in the help is one of our own names or texts


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["batch", "d", "--bogus"], "没有选项 --bogus"),
        (["batch", "d", "--retry"], "--retry-failed"),
        (["parse"], "缺少参数 文件"),
        (["batch", "--workers", "x", "d"], "须为整数"),
        (["nosuch"], "没有命令 nosuch"),
        (["stats"], "缺少选项 --db"),
        (["export", "--db", "a", "--to", "b.csv", "extra"], "多余的参数：extra"),
        (["stats", "--db"], "后面要给一个值"),
    ],
)
def test_a_usage_error_is_one_chinese_line(args, says):
    done = gongkai(*args)
    out, err = text(done)
    assert done.returncode == 2 and not out
    assert err.count("\n") == 1 and says in err and "-h" in err, err
    assert not [b for b in BOILERPLATE if b in err] and "Traceback" not in err


def test_parse_and_check_read_standard_input():
    report = make_report(3, template="2021", faults=["balance"]).render("txt")
    data = report if isinstance(report, bytes) else report.encode("utf-8")
    done = gongkai("parse", "-", "--json", stdin=data)
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    assert parsed["source"]["path"] == "-" and parsed["cells"]["requests.new_received.total"] is not None
    assert parsed["source"]["sha256"] == gk.parse(data).source.sha256
    checked = gongkai("check", "-", stdin=data)
    assert checked.returncode == 1 and "requests.balance" in text(checked)[0]
    empty = gongkai("parse", "-", stdin=b"")
    assert empty.returncode == 2 and text(empty)[1].count("\n") == 1 and "标准输入" in text(empty)[1]
    twice = gongkai("parse", "-", "-", stdin=data)
    assert twice.returncode == 2 and "只能给一次" in text(twice)[1]


def test_batch_of_a_missing_folder_exits_2_and_makes_no_store(tmp_path):
    db = tmp_path / "corpus.duckdb"
    done = gongkai("batch", str(tmp_path / "nodir"), "--db", str(db))
    out, err = text(done)
    assert done.returncode == 2 and err.count("\n") == 1 and "输入不存在" in err and "nodir" in err
    assert not db.exists()


@pytest.mark.slow
def test_a_rerun_with_failed_files_suggests_retry_failed(tmp_path):
    folder = tmp_path / "in"
    make_corpus(folder, 1, seed=5)
    (folder / "broken.pdf").write_bytes(bytes(range(32)) * 40)
    db = tmp_path / "corpus.duckdb"
    again = gongkai("batch", str(folder), "--db", str(db))  # the next run would skip the broken file: say how not to
    out = text(again)[0]
    assert again.returncode == 0 and "--retry-failed" in out and "1 个文件解析失败" in out
    retried = gongkai("batch", str(folder), "--db", str(db), "--retry-failed")
    assert "加 --retry-failed" not in text(retried)[0]  # asked for it: no hint


@pytest.mark.slow
def test_stats_csv_reads_as_numbers_in_pandas(tmp_path):
    pandas = pytest.importorskip("pandas")
    folder = tmp_path / "in"
    make_corpus(folder, 4, seed=11)
    db = tmp_path / "corpus.duckdb"
    assert gongkai("batch", str(folder), "--db", str(db)).returncode == 0
    target = tmp_path / "stats.csv"
    done = gongkai("stats", "--db", str(db), "--by", "year", "--csv", str(target))
    assert done.returncode == 0, done.stderr
    frame = pandas.read_csv(target)
    from gongkai.store.stats import METRICS

    assert list(frame.columns) == ["group", *(m.id for m in METRICS)]
    assert frame["group"].dtype.kind == "i"  # years, as numbers
    for metric in METRICS:
        assert frame[metric.id].dtype.kind in "if", (metric.id, frame[metric.id].dtype)
    assert frame["reports"].sum() == 4
    shares = frame[["granted", "partial", "denied", "unable", "not_processed", "other"]]
    assert (shares.isna() | ((shares >= 0) & (shares <= 1))).all().all() and shares.notna().any().any()


def test_a_busy_port_is_one_chinese_line(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = gongkai("serve", "--port", str(port), "--data-dir", str(tmp_path / "data"), timeout=60)
    out, err = text(done)
    assert done.returncode == 2 and err.count("\n") == 1
    assert f"端口 {port} 已被占用" in err and "--port" in err
    assert "Traceback" not in err + out and "ERROR" not in err + out and "address already in use" not in (err + out).lower()
