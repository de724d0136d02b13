"""The partitions of a run on a Dask distributed cluster: a local one started for the run, or an existing one at
``tcp://HOST:PORT``. Tasks carry the partition's path, never its rows, so every worker must see the output
folder at the same path (one machine, or a shared file system).

A worker lost mid-run costs only its partitions: the scheduler gives them to another worker (up to Dask's
``distributed.scheduler.allowed-failures`` times each), and a part is renamed into place only when complete.
When no worker is left the run fails, and nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence

from tiering.scale.run import Done, PartResult, PartTask, Runner, classify_part

LOCAL_WORKERS = 2
"""Worker processes of a local cluster: the machine's two cores, one partition each at a time."""


def dask_runner(scheduler: str | None = None, workers: int = LOCAL_WORKERS) -> Runner:
    """A runner for :func:`tiering.scale.classify_partitioned` that sends each partition to a Dask worker: of the
    cluster at ``scheduler`` (``tcp://HOST:PORT``), else of a local cluster of ``workers`` single-threaded worker
    processes started for the run and stopped after it."""

    def run(tasks: Sequence[PartTask], done: Done) -> list[PartResult]:
        from distributed import Client, LocalCluster

        if scheduler is not None:
            with Client(scheduler) as client:
                return _gather(client, tasks, done)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            return _gather(client, tasks, done)

    return run


def _gather(client: object, tasks: Sequence[PartTask], done: Done) -> list[PartResult]:
    from distributed import as_completed

    futures = client.map(classify_part, list(tasks), pure=False)  # type: ignore[attr-defined]
    results = []
    for future in as_completed(futures):
        results.append(future.result())  # a partition's error is raised here, and ends the run
        done(results[-1])
    return results
