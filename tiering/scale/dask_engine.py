"""The partitions of a run on a Dask distributed cluster: a local one started for the run, or an existing one at
``tcp://HOST:PORT``. Tasks carry paths — of a slice of the register to cut, of a partition's spilled rows — never
rows, so every worker must see the register and the output folder at the same paths (one machine, or a shared file
system).

A worker lost mid-run costs only its tasks: the scheduler gives them to another worker (up to Dask's
``distributed.scheduler.allowed-failures`` times each), and a spill or part file is renamed into place only when
complete. When no worker is left the run fails, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any

from tiering.scale.run import PartitionFailed
from tiering.scale.runner import Map, Runner

WORKER_WAIT = 60.0
"""Seconds a run waits for the first worker of a scheduler that has none (workers started just after the run)."""
LOCAL_WORKERS = 2
"""Worker processes of a local cluster: the machine's two cores, one partition each at a time."""
TRIM_SETTING = "MALLOC_TRIM_THRESHOLD_"
"""What Dask sets in a local cluster's worker processes (64 KiB: give freed memory back to the system at once).
A partition's classify frees and allocates many mid-sized blocks, and with that setting a run of 50,000 firms on
one worker spent 9.7 s of system time against 2.5 s without it (the local engine: 2.7 s), so the local cluster's
workers keep the C library's default."""
PRIVATE_HTTP = "127.0.0.1:0"
"""Where a local cluster's scheduler serves its few HTTP routes (it always serves some, dashboard or not): a port
the system picks, on this machine only. Dask's own choice, 8787, is taken by any other run on the machine at the
time, and Dask then warns in English on the analyst's screen (``UserWarning: Port 8787 is already in use``)."""
BATCH_SETTINGS = {
    "distributed.worker.profile.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
    "distributed.admin.tick.interval": "200ms",
}
"""Dask settings of a local cluster started for one run. Its defaults suit an interactive cluster watched on a
dashboard: each worker samples its task's stack every 10 ms for the profile page, the nannies read each worker's
memory every 100 ms, and every process checks its event loop every 20 ms and the host every 500 ms. A run has no
dashboard, and its partitions take seconds, so these watch less often. Measured on this machine with two idle
workers: the driver (scheduler, nannies, client) 3.4 % of a core → 1.0 %, each worker 2.4 % → 0.5 %; when both
workers are busy that time is taken from them."""


def dask_runner(scheduler: str | None = None, workers: int = LOCAL_WORKERS) -> Runner:
    """A runner for :func:`tiering.scale.classify_partitioned` that sends each task (a slice of the register to
    cut, a partition to classify) to a Dask worker: of the cluster at ``scheduler`` (``tcp://HOST:PORT``), else of
    a local cluster of ``workers`` single-threaded worker processes started for the run and stopped after it."""

    @contextmanager
    def cluster() -> Iterator[Map]:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            with Client(scheduler) as client:
                yield partial(_gather, client)
            return
        import dask

        environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ").items()
                   if k != TRIM_SETTING}
        with dask.config.set({**BATCH_SETTINGS, "distributed.nanny.pre-spawn-environ": environ}), \
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                             scheduler_kwargs={"dashboard_address": PRIVATE_HTTP}) as local, \
                Client(local) as client:
            yield partial(_gather, client)

    return cluster


def cluster_slots(scheduler: str) -> int:
    """How many partitions the cluster at ``scheduler`` runs at once: its workers' threads (at least 1), once it
    has a worker. A scheduler with none would take the tasks and hold them until one connects, so a run started
    before its workers, or at a cluster whose workers have all gone, would wait without end and without a word:
    the first worker is waited for up to :data:`WORKER_WAIT` seconds. :class:`PartitionFailed` (exit 6, nothing
    written) when the scheduler cannot be reached or no worker comes."""
    from distributed import Client

    try:
        client = Client(scheduler)
    except (OSError, TimeoutError) as exc:
        raise PartitionFailed(f"连接不上 Dask 调度器 {scheduler}：{type(exc).__name__}: {exc}") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError as exc:
            raise PartitionFailed(f"Dask 调度器 {scheduler} 没有工作进程：等了 {WORKER_WAIT:g} 秒仍没有工作进程连上；"
                                  f"请先在各机器上启动 dask worker {scheduler}（见 README“Pointing at a cluster”）"
                                  "再运行") from exc
        return max(1, sum(client.nthreads().values()))


def _gather(client: object, step: Callable[[Any], Any], tasks: Sequence[Any], done: Callable[[Any], None]) -> list[Any]:
    from distributed import as_completed

    futures = client.map(step, list(tasks), pure=False)  # type: ignore[attr-defined]
    results = []
    for future in as_completed(futures):
        results.append(future.result())  # a task's error is raised here, and ends the run
        done(results[-1])
    return results
