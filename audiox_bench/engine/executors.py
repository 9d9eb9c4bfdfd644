"""Executors that run work items: in this process (default), a local process pool, or Dask.

All three are ``concurrent.futures`` executors (Dask through ``Client.get_executor()``), so the runner
has one code path; ``dask[distributed]`` is the optional extra ``dask``.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from audiox_bench.core.errors import AudioxError


@dataclass(frozen=True)
class EngineSpec:
    """Where work items run.

    Attributes
    ----------
    jobs : int
        Local worker processes (1 = in this process).
    dask_scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    dask_local : int, optional
        Start a Dask ``LocalCluster`` with this many single-threaded worker processes.
    """

    jobs: int = 1
    dask_scheduler: str | None = None
    dask_local: int | None = None

    def __post_init__(self) -> None:
        if self.jobs < 1:
            raise AudioxError("--jobs must be at least 1")
        if self.dask_local is not None and self.dask_local < 1:
            raise AudioxError("--dask-local must be at least 1")
        if self.dask_scheduler and self.dask_local:
            raise AudioxError("give --dask-scheduler or --dask-local, not both")
        if (self.dask_scheduler or self.dask_local) and self.jobs > 1:
            raise AudioxError("--jobs is for local processes; with Dask, size the cluster instead")

    @property
    def in_process(self) -> bool:
        return self.jobs == 1 and not self.dask_scheduler and not self.dask_local


@contextmanager
def open_executor(engine: EngineSpec) -> Iterator[Executor | None]:
    """An executor for ``engine`` (None means: run in this process), shut down on exit."""
    if engine.in_process:
        yield None
        return
    if engine.dask_scheduler or engine.dask_local:
        with _dask_executor(engine) as executor:
            yield executor
        return
    # spawn: forked children of a process that already started torch threads can deadlock.
    with ProcessPoolExecutor(engine.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


@contextmanager
def _dask_executor(engine: EngineSpec) -> Iterator[Executor]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise AudioxError("Dask needs the optional extra: pip install 'audiox-bench[dask]'") from exc
    cluster = None
    try:
        if engine.dask_local:
            cluster = LocalCluster(
                n_workers=engine.dask_local, threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
        else:
            client = Client(engine.dask_scheduler, timeout="20s")
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        raise AudioxError(f"cannot reach the Dask scheduler {engine.dask_scheduler!r}: {exc}") from exc
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
