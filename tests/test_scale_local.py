"""The local engine on worker processes: the same part files, byte for byte, as one process; a partition that
fails in a worker, or a worker process killed mid-run, ends the run cleanly with no part left."""

from __future__ import annotations

import multiprocessing
import os
import signal
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from tiering.app import rules_in_force
from tiering.cli import main
from tiering.datasets import generate_panel, write_register
from tiering.output.trace_file import TRACE_DIR
from tiering.rules.library import load_library
from tiering.scale import classify_partitioned
from tiering.scale.local_engine import process_runner
from tiering.scale.run import (
    LADDER_FILE,
    PARTITIONS,
    RESULTS_DIR,
    STANDING_DIR,
    SUMMARY_FILE,
    WORK_DIR,
    PartitionFailed,
    classify_part,
)

YEAR = 2025
DATASETS = (RESULTS_DIR, STANDING_DIR, TRACE_DIR)


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:
    return write_register(generate_panel(120, (2021, 2024), seed=5).panel, tmp_path_factory.mktemp("r") / "g.parquet")


@pytest.fixture(scope="module")
def rules():
    return rules_in_force(load_library(), YEAR)


@pytest.fixture(scope="module")
def here(register: Path, rules, tmp_path_factory) -> Path:
    """The partitions classified one after another in this process."""
    out = tmp_path_factory.mktemp("here")
    classify_partitioned(register, rules[0], YEAR, rules[1], out, partition_size=20)
    return out


def test_two_processes_write_the_parts_of_one_process_byte_for_byte(register: Path, rules, here: Path,
                                                                     tmp_path: Path) -> None:
    heard: list[int] = []
    run = classify_partitioned(register, rules[0], YEAR, rules[1], tmp_path, partition_size=20,
                               runner=process_runner(2), progress=lambda _step, done, _total: heard.append(done))
    assert run.partitions >= 5
    assert heard[-1] == run.partitions
    assert sorted(run.files) == sorted(f"{d}/{p.name}" for d in DATASETS for p in (here / d).glob("part-*.parquet"))
    for name in run.files:
        assert (tmp_path / name).read_bytes() == (here / name).read_bytes(), name
    for name in (SUMMARY_FILE, LADDER_FILE, "provenance.json"):
        assert (tmp_path / name).read_bytes() == (here / name).read_bytes(), name
    assert not (tmp_path / WORK_DIR).exists()


def _left(out: Path) -> list[str]:
    return [d for d in (*DATASETS, WORK_DIR) if (out / d).exists()]


def test_a_partition_failing_in_a_worker_ends_the_run_with_no_part_left(register: Path, rules, tmp_path) -> None:
    lost = []

    @contextmanager
    def damaged():
        with process_runner(2)() as run:
            def lose(step, tasks, done):  # a partition's spilled rows lost before the workers read them
                if step is classify_part:
                    lost.append(tasks[2].partition.index)
                    for spill in tasks[2].partition.files[0].spills:
                        spill.unlink()
                return run(step, tasks, done)

            yield lose

    with pytest.raises(PartitionFailed, match=r"^分区 \d+ 评价失败：FileNotFoundError") as failed:
        classify_partitioned(register, rules[0], YEAR, rules[1], tmp_path, partition_size=20, runner=damaged)
    assert str(failed.value).startswith(f"分区 {lost[0]} 评价失败")
    assert _left(tmp_path) == []


def test_a_worker_process_killed_mid_run_ends_the_run_with_no_part_left(register: Path, rules, tmp_path) -> None:
    killed: list[int] = []

    def kill_a_worker(step: str, done: int, _total: int) -> None:
        if step == PARTITIONS and done == 1 and not killed:  # the first partition back, others running or queued
            worker = multiprocessing.active_children()[0]
            killed.append(worker.pid or 0)
            os.kill(worker.pid or 0, signal.SIGKILL)

    with pytest.raises(PartitionFailed, match=r"^分区运行中断：BrokenProcessPool"):
        classify_partitioned(register, rules[0], YEAR, rules[1], tmp_path, partition_size=10,
                             runner=process_runner(2), progress=kill_a_worker)
    assert killed
    assert _left(tmp_path) == []


def test_classify_engine_local_runs_on_workers_processes(register: Path, here: Path, tmp_path: Path) -> None:
    base = ["classify", str(register), "--year", str(YEAR), "--engine", "local", "--partition-size", "20",
            "--no-audit"]
    two = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "two")])
    assert two.exit_code == 0, two.output
    assert "partitioned run in 2 local processes，每区约 20 家企业" in two.output
    one = CliRunner().invoke(main, [*base, "--out", str(tmp_path / "one"), "--workers", "1"])
    assert one.exit_code == 0, one.output
    assert "partitioned run in this process，每区约 20 家企业" in one.output
    for folder, keys in zip(DATASETS, (["uscc", "ruleset_id"], ["uscc"], ["uscc", "ruleset_id", "criterion_id"]),
                            strict=True):
        parts = sorted(p.name for p in (here / folder).glob("part-*.parquet"))
        assert sorted(p.name for p in (tmp_path / "one" / folder).glob("part-*.parquet")) == parts
        for name in parts:
            assert (tmp_path / "one" / folder / name).read_bytes() == (here / folder / name).read_bytes()
        # two workers: the partitions made a multiple of two (none idles at the end), the same rows
        shared = sorted((tmp_path / "two" / folder).glob("part-*.parquet"))
        assert len(shared) % 2 == 0 and len(shared) >= len(parts)
        got, expected = (pd.concat([pd.read_parquet(p) for p in ps]).sort_values(keys).reset_index(drop=True)
                         for ps in (shared, [here / folder / n for n in parts]))
        pd.testing.assert_frame_equal(got, expected)


def test_the_command_line_runs_on_the_c_librarys_allocator_unless_told_otherwise() -> None:
    import subprocess
    import sys

    show = "import tiering.cli, pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    chosen = subprocess.run([sys.executable, "-c", show], env=env, capture_output=True, text=True, check=True)
    assert chosen.stdout.strip() == "system"
    kept = subprocess.run([sys.executable, "-c", show], env=env | {"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"},
                          capture_output=True, text=True, check=True)
    assert kept.stdout.strip() == "jemalloc"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_a_run_stopped_by_sigterm_or_ctrl_c_leaves_nothing_and_says_so(tmp_path: Path, stop: signal.Signals) -> None:
    """The driver stopped once its first part is written (``kill``, Ctrl-C): its workers finish their task and
    stop, the written parts and the spills are removed, nothing is recorded, and it says why (exit 6). Before,
    SIGTERM killed the driver at once, leaving parts that look like a run and its workers running on."""
    import subprocess
    import sys
    import time

    register = write_register(generate_panel(600, (2021, 2024), seed=5).panel, tmp_path / "g.parquet")
    out, store = tmp_path / "o", tmp_path / "audit.sqlite"
    cli = [sys.executable, "-c", "from tiering.cli import main; main()"]
    driver = subprocess.Popen([*cli, "classify", str(register), "--year", str(YEAR), "--out", str(out), "--engine",
                               "local", "--partition-size", "20", "--store", str(store)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              # a suite started in the background (`nohup … &`) hands its children Ctrl-C ignored,
                              # and Python then never turns it into KeyboardInterrupt: give the driver a terminal's
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while not list((out / RESULTS_DIR).glob("part-*.parquet")):
        assert driver.poll() is None, driver.communicate()[0]
        time.sleep(0.05)
    driver.send_signal(stop)
    output = driver.communicate(timeout=300)[0]
    assert driver.returncode == 6, output
    assert "分区运行被中断（Ctrl-C 或 SIGTERM） [partition-failed]" in output
    assert [p.name for p in out.iterdir()] == []
    assert not store.exists()
