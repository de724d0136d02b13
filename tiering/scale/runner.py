"""What runs the two steps of a partitioned run — the register's slices cut into buckets, then the partitions
classified — on the run's workers: this process (:func:`run_here`), a pool of local processes
(tiering.scale.local_engine) or a Dask cluster (tiering.scale.dask_engine). A runner opens its workers once for the
run, so that both steps go to the same ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

Map = Callable[[Callable[[Any], Any], Sequence[Any], Callable[[Any], None]], list[Any]]
"""``map(step, tasks, done)``: ``step`` applied to every task on the workers (tasks and results are pickled to
travel: paths and small tables, never a partition's rows), ``done`` called in the driver with each result as it
comes back; the results, in any order. A step's error is raised here, and ends the run."""
Runner = Callable[[], AbstractContextManager[Map]]
"""Opens the workers for a run (``with runner() as map: …``) and stops them when the run leaves."""


def map_here(step: Callable[[Any], Any], tasks: Sequence[Any], done: Callable[[Any], None]) -> list[Any]:
    """Every task in this process, one after another: memory is that of one task."""
    out = []
    for task in tasks:
        out.append(step(task))
        done(out[-1])
    return out


def run_here() -> AbstractContextManager[Map]:
    """The runner of a run in this process (:func:`map_here`): no worker to start or stop."""
    return nullcontext(map_here)
