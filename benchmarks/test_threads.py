"""Speed on a shared machine: each workload idle and beside one busy process (a second torch process
multiplying matrices with torch's default threads: the unremedied neighbour a shared server or CI runner
has), without a remedy and with the one the command line applies (``audiox_bench.core.threads``).

The ideal contended/idle ratio on 2 cores with one busy neighbour is 2 (half the cores); the remedy must
keep it within 2.5 and cost at most 5% on an idle machine. Workloads run in fresh processes so that the
OpenMP wait policy takes effect; see ``thread_workloads.py``.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

WORKLOADS = Path(__file__).with_name("thread_workloads.py")
BUSY = "import torch\na = torch.randn(600, 600)\nwhile True:\n    a = (a @ a).clamp_(-1, 1)\n"


@contextmanager
def neighbours(count: int):
    processes = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(count)]
    time.sleep(2.0 if count else 0.0)  # let them start spinning
    try:
        yield
    finally:
        for process in processes:
            process.kill()
            process.wait()


def seconds(workload: str, remedy: str) -> dict:
    unset = ("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "AUDIOX_THREADS", "GOMP_SPINCOUNT")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    out = subprocess.run(
        [sys.executable, str(WORKLOADS), workload, remedy], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module", autouse=True)
def warm_caches(confound_task, vocals_task):
    """The task models and stems are built before anything is timed."""


@pytest.mark.parametrize("workload", ["train", "slime", "audiolime"])
@pytest.mark.parametrize("remedy", ["none", "audiox"])
def test_contended_over_idle(benchmark, workload, remedy):
    busy_count = max(1, (os.cpu_count() or 2) - 1)
    measured = {}

    def measure():
        with neighbours(0):
            measured["idle"] = seconds(workload, remedy)["seconds"]
        with neighbours(busy_count):
            measured["contended"] = seconds(workload, remedy)["seconds"]
        return measured

    benchmark.pedantic(measure, rounds=1, iterations=1)
    ratio = measured["contended"] / measured["idle"]
    benchmark.extra_info.update(idle_seconds=measured["idle"], contended_seconds=measured["contended"], ratio=ratio)
    print(
        f"\n{workload}, remedy {remedy}: idle {measured['idle']:.1f} s, contended {measured['contended']:.1f} s "
        f"({busy_count} busy), ratio {ratio:.2f}"
    )
