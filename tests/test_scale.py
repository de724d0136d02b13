"""Partitioned and distributed runs give the single-process run's rows: in one process, on a Dask cluster of two
worker processes on 127.0.0.1, and when a worker is killed mid-run."""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from tiering.app import classify, rules_in_force
from tiering.datasets import generate_panel, write_register
from tiering.output.trace_file import TRACE_DIR
from tiering.output.write import zh
from tiering.register import load_register
from tiering.rules.library import load_library
from tiering.scale import classify_partitioned, partition_of
from tiering.scale.dask_engine import dask_runner
from tiering.scale.run import LADDER_FILE, RESULTS_DIR, STANDING_DIR, SUMMARY_FILE, classify_part
from tiering.scale.runner import map_here

YEAR = 2025
KEYS = {RESULTS_DIR: ["uscc", "ruleset_id"], STANDING_DIR: ["uscc"],
        TRACE_DIR: ["uscc", "ruleset_id", "criterion_id"]}


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    path = write_register(generate_panel(150, (2021, 2024), seed=9).panel, tmp_path_factory.mktemp("r") / "g.parquet")
    return load_register(path)


@pytest.fixture(scope="module")
def rules():
    return rules_in_force(load_library(), YEAR)


@pytest.fixture(scope="module")
def single(register, rules):
    """The single-process run's tables, sorted."""
    result = classify(register, *[rules[0]], YEAR, rules[1])
    from tiering.engine.trace import trace_table

    tables = {RESULTS_DIR: result.results, STANDING_DIR: result.standing,
              TRACE_DIR: trace_table(result.evaluation).to_pandas()}
    return {k: _sorted(v, KEYS[k]) for k, v in tables.items()}, result


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="stable").reset_index(drop=True)


def _same_as_single(out: Path, single) -> None:
    tables, result = single
    for name, keys in KEYS.items():
        parts = sorted((out / name).glob("part-*.parquet"))
        assert len(parts) > 1, name
        got = _sorted(pd.concat([pd.read_parquet(p) for p in parts], ignore_index=True), keys)
        pd.testing.assert_frame_equal(got, tables[name], check_dtype=False, check_categorical=False)
    # the 汇总.csv a whole run writes with --format csv: the same rows under the same Chinese headers
    summary = pd.read_csv(out / SUMMARY_FILE)
    expected = zh(result.summary.reset_index(drop=True)).rename_axis(columns=None)
    pd.testing.assert_frame_equal(summary, expected, check_dtype=False)
    ladder = pd.read_csv(out / LADDER_FILE)
    assert list(ladder.columns) == ["层级序号", "最高层级", "企业数（家）"]
    assert ladder["企业数（家）"].sum() == len(result.standing)
    assert not (out / ".partitions").exists()


def test_a_firm_stays_in_one_partition_whatever_the_order() -> None:
    codes = pd.Series([f"91120116MA05JX{i:04d}" for i in range(1000)])
    first = partition_of(codes, 7)
    again = partition_of(codes[::-1].reset_index(drop=True), 7)[::-1]
    assert (first == again).all()
    assert set(first) == set(range(7))


def test_partitioned_in_one_process_equals_the_single_run(register, rules, single, tmp_path: Path) -> None:
    run = classify_partitioned(register.path, rules[0], YEAR, rules[1], tmp_path, partition_size=40)
    assert run.partitions >= 4
    _same_as_single(tmp_path, single)
    assert run.provenance.firms_evaluated == single[1].provenance.firms_evaluated
    assert run.provenance.rows_read == register.rows_read
    assert set(run.files) == {f"{d}/{p.name}" for d in KEYS for p in (tmp_path / d).glob("part-*.parquet")}
    for folder in (RESULTS_DIR, STANDING_DIR):  # only the firm's code carries statistics (to find a firm's rows)
        meta = pq.ParquetFile(next((tmp_path / folder).glob("part-*.parquet"))).metadata
        columns = [meta.row_group(0).column(c) for c in range(meta.num_columns)]
        assert [c.path_in_schema for c in columns if c.is_stats_set] == ["uscc"]


def test_partitions_are_a_multiple_of_the_workers_and_start_largest_first(register, rules, single,
                                                                          tmp_path: Path) -> None:
    given = []

    @contextmanager
    def spy():
        def run(step, tasks, done):
            if step is classify_part:
                given.extend(t.partition.rows for t in tasks)
            return map_here(step, tasks, done)

        yield run

    run = classify_partitioned(register.path, rules[0], YEAR, rules[1], tmp_path, partition_size=60, runner=spy,
                               slots=2)
    firms = register.frame["uscc"].nunique()
    assert math.ceil(firms / 60) % 2 == 1  # so that ceil(firms / size) partitions would leave a worker idle
    assert run.partitions == len(given) == math.ceil(firms / 60) + 1
    assert given == sorted(given, reverse=True) and sum(given) == register.rows_read
    _same_as_single(tmp_path, single)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path: Path):
    """A real scheduler and two worker processes on 127.0.0.1 (the `dask` command line), stopped afterwards."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    procs = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port), "--dashboard-address", ":0"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    for _ in range(2):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1",
             "--no-nanny", "--dashboard-address", ":0", "--local-directory", str(tmp_path / "dask")],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(2, timeout=120)
    yield address, procs[1:]
    for p in reversed(procs):  # workers first; nothing of theirs is needed any more
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)


def test_on_a_dask_cluster_every_output_equals_the_single_run(register, rules, single, cluster, tmp_path) -> None:
    address, _ = cluster
    out = tmp_path / "dask"
    here = tmp_path / "here"
    classify_partitioned(register.path, rules[0], YEAR, rules[1], out, partition_size=40, runner=dask_runner(address))
    classify_partitioned(register.path, rules[0], YEAR, rules[1], here, partition_size=40)
    _same_as_single(out, single)
    for name in KEYS:  # every part file, byte for byte
        for part in sorted((here / name).glob("part-*.parquet")):
            assert (out / name / part.name).read_bytes() == part.read_bytes(), f"{name}/{part.name}"
    for name in (SUMMARY_FILE, LADDER_FILE):
        assert (out / name).read_bytes() == (here / name).read_bytes()


def test_a_worker_killed_mid_run_costs_nothing_but_time(register, rules, single, cluster, tmp_path) -> None:
    address, workers = cluster
    out = tmp_path / "killed"
    import threading

    def kill_when_working() -> None:
        deadline = time.time() + 120
        while time.time() < deadline and not any((out / RESULTS_DIR).glob("part-*.parquet")):
            time.sleep(0.05)
        workers[0].send_signal(signal.SIGKILL)

    killer = threading.Thread(target=kill_when_working)
    killer.start()
    classify_partitioned(register.path, rules[0], YEAR, rules[1], out, partition_size=20,
                         runner=dask_runner(address))
    killer.join()
    assert workers[0].poll() is not None  # the worker was killed while partitions were left
    _same_as_single(out, single)


def test_classify_engine_local_is_recorded_once_and_verifies(register, single, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tiering.cli import main

    store = tmp_path / "audit.sqlite"
    out = tmp_path / "out"
    done = CliRunner().invoke(main, ["classify", str(register.path), "--year", str(YEAR), "--out", str(out),
                                     "--engine", "local", "--partition-size", "40", "--store", str(store)])
    assert done.exit_code == 0, done.output
    assert f"读取 {register.rows_read} 行 = 接受 {len(register.frame)} 行 + 拒收 0 行" in done.output
    assert done.output.count("审计记录 audit run") == 1
    _same_as_single(out, single)
    verify = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert verify.exit_code == 0 and "1 次运行" in verify.output, verify.output
    uscc = str(single[0][RESULTS_DIR]["uscc"].iloc[0])
    shown = CliRunner().invoke(main, ["audit", "show", uscc, "--year", str(YEAR), "--store", str(store)])
    assert shown.exit_code == 0, shown.output
    for name in sorted(p.name for p in (out / RESULTS_DIR).glob("part-*.parquet")):  # every part hashed
        assert f"part {RESULTS_DIR}/{name}: SHA-256" in shown.output
    firm = single[0][RESULTS_DIR].query("uscc == @uscc")
    assert shown.output.count(f"[{firm['ruleset_id'].iloc[0]} 版本") >= 1
    dask = CliRunner().invoke(main, ["classify", str(register.path), "--year", str(YEAR), "--out", str(tmp_path / "o"),
                                     "--engine", "local", "--scheduler", "tcp://127.0.0.1:1", "--no-audit"])
    assert dask.exit_code == 2 and "--scheduler 只用于 --engine dask" in dask.output
    # one part of the stored trace changed: verify fails and names it
    from tiering.audit.db import traces_dir

    part = sorted(traces_dir(store).glob("*/part-*.parquet"))[1]
    trace = pd.read_parquet(part)
    trace["value"] = trace["value"].fillna(0.0) + 1.0
    trace.to_parquet(part, index=False)
    tampered = CliRunner().invoke(main, ["audit", "verify", "--store", str(store)])
    assert tampered.exit_code == 4, tampered.output
    assert f"; part(s) {part.name} (changed)" in tampered.output


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_classify_on_dask_through_the_command_line_writes_the_local_runs_files(register, single, cluster,
                                                                                 tmp_path) -> None:
    """`tiering classify --engine dask` (a local cluster started for the run) and `--scheduler tcp://…` (the running
    cluster) write every file the local engine writes, byte for byte, and say where the partitions went."""
    from click.testing import CliRunner

    from tiering.cli import main

    address, _ = cluster
    args = ["classify", str(register.path), "--year", str(YEAR), "--partition-size", "40", "--format", "csv",
            "--no-audit"]
    runs = {}
    for name, engine in (("local", ["--engine", "local"]), ("cluster", ["--engine", "dask", "--workers", "2"]),
                         ("scheduler", ["--scheduler", address])):
        done = CliRunner().invoke(main, [*args, "--out", str(tmp_path / name), *engine])
        assert done.exit_code == 0, done.output
        assert f"读取 {register.rows_read} 行 = 接受 {len(register.frame)} 行 + 拒收 0 行" in done.output
        runs[name] = done.output
    assert "Dask（本机 2 个工作进程 local cluster）" in runs["cluster"]
    assert f"Dask（{address}，2 个工作线程）" in runs["scheduler"]
    _same_as_single(tmp_path / "cluster", single)
    local = _files(tmp_path / "local")
    assert {"结果.csv", "层级.csv", SUMMARY_FILE, LADDER_FILE, "provenance.json"} <= set(local)
    for name in ("cluster", "scheduler"):
        assert _files(tmp_path / name) == local, name
    whole = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "whole")])
    assert whole.exit_code == 0, whole.output
    for name in ("结果.csv", "层级.csv"):  # in the whole run's row order, byte for byte
        assert (tmp_path / "whole" / name).read_bytes() == local[name], name


def test_classify_at_a_scheduler_nobody_listens_on_fails_cleanly(register, tmp_path) -> None:
    import dask
    import distributed  # noqa: F401  its defaults join dask's config first, else leaving the set below drops them
    from click.testing import CliRunner

    from tiering.cli import main

    address = f"tcp://127.0.0.1:{_free_port()}"
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        done = CliRunner().invoke(main, ["classify", str(register.path), "--year", str(YEAR), "--out",
                                         str(tmp_path / "o"), "--scheduler", address, "--no-audit"])
    assert done.exit_code == 6, done.output
    assert f"连接不上 Dask 调度器 {address}" in done.output and "[partition-failed]" in done.output
    assert not (tmp_path / "o" / RESULTS_DIR).exists()


def test_classify_at_a_scheduler_without_workers_waits_then_fails_cleanly(register, tmp_path, monkeypatch) -> None:
    """A scheduler with no worker would hold the tasks until one connects: the run waits WORKER_WAIT seconds for
    one, then stops with exit 6 and says so, leaving no folder behind."""
    from click.testing import CliRunner

    from tiering.cli import main
    from tiering.scale import dask_engine

    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        from distributed import Client

        Client(address, timeout=60).close()  # the scheduler is up
        monkeypatch.setattr(dask_engine, "WORKER_WAIT", 2.0)
        done = CliRunner().invoke(main, ["classify", str(register.path), "--year", str(YEAR), "--out",
                                         str(tmp_path / "o"), "--scheduler", address, "--no-audit"])
    finally:
        scheduler.kill()
        scheduler.wait(timeout=30)
    assert done.exit_code == 6, done.output
    assert f"Dask 调度器 {address} 没有工作进程：等了 2 秒仍没有工作进程连上" in done.output
    assert "[partition-failed]" in done.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", ["classify", "report", "select"])
def test_a_register_without_a_usable_row_ends_every_partitioned_command_with_exit_3(register, tmp_path,
                                                                                     command) -> None:
    from click.testing import CliRunner

    from tiering.cli import main

    header_only = tmp_path / "header_only.csv"
    header_only.write_text(",".join(pd.read_parquet(register.path).columns) + "\n", encoding="utf-8-sig")
    audit = ["--no-audit"] if command != "report" else []
    done = CliRunner().invoke(main, [command, str(header_only), "--year", str(YEAR), "--out", str(tmp_path / "o"),
                                     "--engine", "local", "--workers", "1", *audit])
    assert done.exit_code == 3, done.output
    assert f"no usable rows in {header_only} (0 read, 0 refused)" in done.output


def test_a_local_cluster_beside_another_run_says_nothing_in_english(register, tmp_path) -> None:
    """A second run on the machine (its scheduler on Dask's usual port 8787) leaves this run's screen in Chinese:
    no `UserWarning: Port 8787 is already in use` from the local cluster's scheduler."""
    held = socket.socket()
    try:
        held.bind(("0.0.0.0", 8787))
        held.listen()
    except OSError:
        pass  # something on this machine holds the port already: the case itself
    try:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "cli.py"), "classify",
                               str(register.path), "--year", str(YEAR), "--out", str(tmp_path / "o"), "--engine",
                               "dask", "--workers", "1", "--no-audit"], capture_output=True, text=True, timeout=300)
    finally:
        held.close()
    assert done.returncode == 0, done.stderr
    assert "8787" not in done.stderr and "Warning:" not in done.stderr, done.stderr


def test_a_local_clusters_workers_watch_themselves_at_batch_intervals() -> None:
    """The workers of a cluster started for a run take its batch settings (no stack profile every 10 ms, memory read
    every second): what a dashboard needs, and a run has none, is not taken from the partitions."""
    from tiering.scale.dask_engine import BATCH_SETTINGS

    with dask_runner(workers=1)() as run_all:
        seen = run_all(_worker_settings, [0], lambda _: None)
    assert seen == [{key: BATCH_SETTINGS[key] for key in BATCH_SETTINGS}]


def _worker_settings(_: int) -> dict[str, object]:
    import dask

    from tiering.scale.dask_engine import BATCH_SETTINGS

    return {key: dask.config.get(key) for key in BATCH_SETTINGS}
