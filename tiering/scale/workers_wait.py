"""Before a run at an existing Dask scheduler: a worker to run the partitions on. A scheduler with none would take
the tasks and hold them until one connects, so a run started before its workers, or at a cluster whose workers
have all gone, would wait without end and without a word."""

from __future__ import annotations

from tiering.scale.run import PartitionFailed

WORKER_WAIT = 60.0
"""Seconds a run waits for the first worker of a scheduler that has none (workers started just after the run)."""


def wait_for_a_worker(scheduler: str) -> None:
    """Return once the cluster at ``scheduler`` has a worker, waiting up to :data:`WORKER_WAIT` seconds for one;
    :class:`PartitionFailed` (exit 6, nothing written) when none comes or the scheduler cannot be reached."""
    from distributed import Client

    try:
        client = Client(scheduler)
    except OSError as exc:
        raise PartitionFailed(f"连接不上 Dask 调度器 {scheduler}：{type(exc).__name__}: {exc}") from exc
    with client:
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT)
        except TimeoutError as exc:
            raise PartitionFailed(f"Dask 调度器 {scheduler} 没有工作进程：等了 {WORKER_WAIT:g} 秒仍没有工作进程连上；"
                                  f"请先在各机器上启动 dask worker {scheduler}（见 README“Pointing at a cluster”）"
                                  "再运行") from exc
