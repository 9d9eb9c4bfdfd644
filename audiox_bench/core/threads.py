"""How many threads torch uses, and how they wait, so a busy shared machine does not stall a run.

Torch's OpenMP threads spin while they wait for each other (libgomp: 300,000 spins by default). When
another process holds one of the cores, a spinning thread burns the time slice its partner needs, and a
run slows down several-fold instead of two-fold (``benchmarks/test_threads.py`` measures it). Measured on
2 cores, idle and beside a busy torch process (the benchmark's table is in the README):

- no spinning (``OMP_WAIT_POLICY=PASSIVE``) keeps a contended run within about 2x of its idle time, but
  costs 10-40% on an idle machine (threads sleep and wake between the many small operations);
- a short spin (``GOMP_SPINCOUNT=10000``) still leaves contended runs 2.5-4x slower and costs up to 20%
  idle on small batches.

So the wait policy is chosen by measuring the machine when the process starts
(:func:`prepare_environment`, called by the command line and the Python API before torch is imported,
since OpenMP reads these settings once): if other processes keep at least half a core busy over 0.1 s,
threads wait passively; on an idle machine OpenMP's default is kept. A user's own ``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT`` always wins. If contention starts after a run has started, set
``OMP_WAIT_POLICY=PASSIVE`` yourself.

The thread count: ``--threads N`` or ``AUDIOX_THREADS``, else the cores this process may run on
(``os.sched_getaffinity``); a user's own ``OMP_NUM_THREADS`` wins over that default.

:func:`thread_settings` says what was used and why; runs record it in ``run.json`` and model cards with
their training time, so a slow run can be explained afterwards.

**Results do not depend on threads or batches.** MKL's matrix products split their sums differently per
thread count and per batch size, so a model's output for one input moved in the 8th digit (musicnn: its
logits by 6e-6) with ``--threads`` or with what else was in its batch (measured on 2 cores:
``tests/core/test_determinism.py``). :func:`reproducible_blas` asks MKL for its strict reproducible mode
(``MKL_CBWR=AUTO,STRICT``, no measured cost), and models evaluate a lone input as a batch of two; then an
input's output is the same bits in any batch, with any thread count. Training is the one exception:
weight gradients are summed per thread, so models are trained with :data:`TRAINING_THREADS` threads
whatever the run uses (:func:`fixed_threads`), and the count is part of the model's cache key.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from audiox_bench.core.errors import AudioxError

BUSY_CORES = 0.5  # other processes using at least this much CPU at start: wait passively
MKL_REPRODUCIBLE = "AUTO,STRICT"  # MKL's conditional numerical reproducibility, independent of threads
TRAINING_THREADS = 2  # threads every model is trained with (weight gradients depend on the count)
_SOURCE = {"threads": "torch default", "wait": "OpenMP default"}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), or the machine's count where that is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def busy_cores(interval: float = 0.1) -> float | None:
    """Cores kept busy by other processes over ``interval`` seconds (this one sleeps meanwhile), from
    ``/proc/stat``; None where that is not available."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle and iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy_before, total_before = sample()
        time.sleep(interval)
        busy_after, total_after = sample()
    except (OSError, ValueError, IndexError):
        return None
    elapsed = total_after - total_before
    return (busy_after - busy_before) / elapsed * (os.cpu_count() or 1) if elapsed > 0 else None


def prepare_environment() -> None:
    """Choose how OpenMP threads wait, unless the user did: passively if other processes keep the machine
    busy now, else OpenMP's default. Call before torch is first imported (it has no effect after); the
    command line and :func:`audiox_bench.run` do. Later calls keep the first choice."""
    if _SOURCE["wait"] == "OpenMP default" and ("GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ):
        _SOURCE["wait"] = "set by the user"
    if _SOURCE["wait"] != "OpenMP default":
        return  # decided already (torch may be imported since)
    busy = busy_cores()
    if busy is not None and busy >= BUSY_CORES:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        _SOURCE["wait"] = f"passive: other processes kept {busy:.1f} cores busy at start"
    else:
        _SOURCE["wait"] = (
            "OpenMP default: the machine was idle at start"
            if busy is not None
            else ("OpenMP default: the machine's load is unknown")
        )


def reproducible_blas() -> None:
    """Ask MKL for results that do not depend on the thread count or the batch (``MKL_CBWR``), unless the
    user set it. MKL reads it at its first call, so this runs when ``audiox_bench`` is imported."""
    os.environ.setdefault("MKL_CBWR", MKL_REPRODUCIBLE)


@contextmanager
def fixed_threads(threads: int) -> Iterator[None]:
    """Run the block with ``threads`` torch threads, then restore the count (training runs in
    :data:`TRAINING_THREADS`, so a model is the same bits whatever ``--threads`` says)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads and return the count.

    Parameters
    ----------
    threads : int, optional
        An explicit count (``--threads``). Else ``AUDIOX_THREADS``; else, unless the user set
        ``OMP_NUM_THREADS``, the cores this process may run on.

    Raises
    ------
    AudioxError
        For a count below 1 or an ``AUDIOX_THREADS`` that is not a positive integer.
    """
    import torch

    if threads is None and os.environ.get("AUDIOX_THREADS"):
        text = os.environ["AUDIOX_THREADS"]
        if not text.isdigit() or int(text) < 1:
            raise AudioxError(f"AUDIOX_THREADS must be a positive integer, got {text!r}")
        threads, _SOURCE["threads"] = int(text), "AUDIOX_THREADS"
    elif threads is not None:
        _SOURCE["threads"] = "--threads"
    elif os.environ.get("OMP_NUM_THREADS"):
        _SOURCE["threads"] = "OMP_NUM_THREADS"
        return torch.get_num_threads()
    else:
        threads, _SOURCE["threads"] = available_cores(), "cores available to the process"
    if threads < 1:
        raise AudioxError(f"--threads must be at least 1, got {threads}")
    torch.set_num_threads(threads)
    return threads


def thread_settings() -> dict[str, Any]:
    """What this process runs with: torch's threads and where the count came from, the OpenMP wait
    policy, and the cores available."""
    import torch

    return {
        "torch_threads": torch.get_num_threads(),
        "threads_from": _SOURCE["threads"],
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "wait_from": _SOURCE["wait"],
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "mkl_cbwr": os.environ.get("MKL_CBWR"),
        "cores_available": available_cores(),
    }
