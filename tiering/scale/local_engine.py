"""The partitions of a run on this machine's cores: a pool of worker processes, one partition each at a time.

A partition's classify is Python-bound (the GIL), so threads would not run two at once; processes do. Workers are
started fresh (``spawn``), not forked: the driver already runs Arrow's threads, and a fork copies their locks.
Tasks carry the partition's paths, as for Dask, and each worker writes its own parts.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed

from tiering.scale.run import Done, PartResult, PartTask, Runner, classify_part, run_here

LOCAL_PROCESSES = 2
"""Worker processes of the local engine by default: the machine's two cores."""


def process_runner(processes: int = LOCAL_PROCESSES) -> Runner:
    """A runner for :func:`tiering.scale.classify_partitioned` that classifies up to ``processes`` partitions at
    once in worker processes of this machine; with 1, every partition in this process (:func:`run_here`).

    Memory is that of ``processes`` partitions at once, plus the driver's. A partition's error ends the run
    (raised here) once the partitions already running have finished, so that no worker writes a part after the
    run has removed the written ones; a worker process that dies ends it too (``BrokenProcessPool``)."""
    if processes == 1:
        return run_here

    def run(tasks: Sequence[PartTask], done: Done) -> list[PartResult]:
        if not tasks:
            return []
        results: list[PartResult] = []
        with ProcessPoolExecutor(max_workers=min(processes, len(tasks)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(classify_part, task) for task in tasks]
            try:
                for future in as_completed(futures):
                    results.append(future.result())  # a partition's error is raised here, and ends the run
                    done(results[-1])
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        return results

    return run
