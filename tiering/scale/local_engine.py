"""The partitions of a run on this machine's cores: a pool of worker processes, one task (a slice of the register
to cut, a partition to classify) each at a time.

A partition's classify is Python-bound (the GIL), so threads would not run two at once; processes do. Workers are
started fresh (``spawn``), not forked: the driver already runs Arrow's threads, and a fork copies their locks.
Tasks carry paths, as for Dask, and each worker writes its own spills and parts.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any

from tiering.scale.runner import Map, Runner, run_here

LOCAL_PROCESSES = 2
"""Worker processes of the local engine by default: the machine's two cores."""


def process_runner(processes: int = LOCAL_PROCESSES) -> Runner:
    """A runner for :func:`tiering.scale.classify_partitioned` that runs up to ``processes`` tasks at once in
    worker processes of this machine, started once for both steps of the run; with 1, every task in this process
    (:func:`tiering.scale.runner.run_here`).

    Memory is that of ``processes`` partitions at once, plus the driver's. A task's error ends the run (raised
    here) once the tasks already running have finished, so that no worker writes a part after the run has removed
    the written ones; a worker process that dies ends it too (``BrokenProcessPool``)."""
    if processes == 1:
        return run_here

    @contextmanager
    def pool() -> Iterator[Map]:
        with ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn")) as executor:

            def run(step: Callable[[Any], Any], tasks: Sequence[Any], done: Callable[[Any], None]) -> list[Any]:
                futures = [executor.submit(step, task) for task in tasks]
                results = []
                try:
                    for future in as_completed(futures):
                        results.append(future.result())  # a task's error is raised here, and ends the run
                        done(results[-1])
                except BaseException:
                    executor.shutdown(wait=True, cancel_futures=True)
                    raise
                return results

            yield run

    return pool
