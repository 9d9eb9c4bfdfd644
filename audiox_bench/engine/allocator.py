"""Keep freed memory in the process, so batched inference does not page-fault on every batch.

A batch of model inputs and activations takes tens to hundreds of MB. glibc's malloc serves blocks
that large with ``mmap`` and returns them to the system when they are freed (and trims the heap top
above 128 KB), so the next batch faults every page in again, zero-filled. A process that has already
allocated a lot (e.g. trained a model) hides the effect; a fresh worker process shows it in full, and
Dask's nanny even lowers the trim threshold on purpose to return memory early. Raising both thresholds
keeps freed memory in the process: the cost is resident memory (a process keeps the peak of its batch
working set). ``benchmarks/test_engine_scaling.py`` measures the engines under this setting; the
README reports the numbers.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from glibc's malloc.h
M_MMAP_THRESHOLD = -3
TRIM_THRESHOLD_BYTES = 2**31 - 1
MMAP_THRESHOLD_BYTES = 2**30


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds for this process (no-op elsewhere).

    Returns
    -------
    bool
        True when both thresholds were set (Linux with glibc), False otherwise.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl has no mallopt)
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)) and bool(
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    )
