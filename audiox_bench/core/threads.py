"""How many threads torch uses, and how they wait, so a busy shared machine does not stall a run.

Torch's OpenMP threads spin while they wait for each other (libgomp: 300,000 spins by default). When
another process holds one of the cores, a spinning thread burns the time slice its partner needs, and a
run slows down three- to sixty-fold instead of two-fold (``benchmarks/test_threads.py`` measures it).
Two settings avoid that:

- ``GOMP_SPINCOUNT=10000``: waiting threads spin briefly, then sleep. Measured on 2 cores beside a busy
  torch process, this keeps training and explanations within 2.5x of their idle time at no idle cost;
  ``OMP_WAIT_POLICY=PASSIVE`` (no spinning at all) helps a little more under contention but costs 8-19%
  on an idle machine. OpenMP reads both once, when torch is first imported, so the command line and
  the Python API set the spin count before that (:func:`prepare_environment`); a user's own
  ``GOMP_SPINCOUNT`` or ``OMP_WAIT_POLICY`` always wins.
- the thread count: ``--threads N`` or ``AUDIOX_THREADS``, else the cores this process may run on
  (``os.sched_getaffinity``); a user's own ``OMP_NUM_THREADS`` wins over that default.

:func:`thread_settings` says what was used; runs record it in ``run.json`` and model cards with their
training time, so a slow run can be explained afterwards.
"""

from __future__ import annotations

import os
from typing import Any

from audiox_bench.core.errors import AudioxError

SPIN_COUNT = "10000"
_SOURCE = {"threads": "torch default"}


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity), or the machine's count where that is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def prepare_environment() -> None:
    """Let OpenMP threads spin only briefly before they sleep (``GOMP_SPINCOUNT``), unless the user set a
    spin count or wait policy. Call before torch is first imported (it has no effect after); the command
    line and :func:`audiox_bench.run` do."""
    if "GOMP_SPINCOUNT" not in os.environ and "OMP_WAIT_POLICY" not in os.environ:
        os.environ["GOMP_SPINCOUNT"] = SPIN_COUNT


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
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: spin, then sleep)"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "cores_available": available_cores(),
    }
