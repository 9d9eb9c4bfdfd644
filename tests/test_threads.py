"""Threads on a shared machine: the wait policy follows the machine's load at start (a user's setting wins),
the thread count the options, and a run records what it used."""

import json
import os
import subprocess
import sys
import time

from audiox_bench.core.threads import busy_cores
from tests.conftest import TINY_CONFOUND_SPEC

BUSY = "import time\nend = time.time() + 20\nwhile time.time() < end:\n    pass\n"


def test_a_busy_neighbour_is_measured():
    neighbour = subprocess.Popen([sys.executable, "-c", BUSY])
    try:
        time.sleep(0.5)
        assert busy_cores(0.3) >= 0.5
    finally:
        neighbour.kill()
        neighbour.wait()


def _run(tmp_path, *options, env=None):
    out = tmp_path / "run"
    argv = [
        sys.executable,
        "-m",
        "audiox_bench",
        "run",
        "--task",
        TINY_CONFOUND_SPEC,
        "--explainer",
        "random",
        "--explainer",
        "audiolime",
        "--n-examples",
        "2",
        "--no-progress",
        "--out",
        str(out),
        *options,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False)
    return done, out


def test_the_run_records_its_thread_settings_and_the_users_win(tiny_confound, tmp_path):
    done, out = _run(tmp_path, "--threads", "1", env={"OMP_WAIT_POLICY": "ACTIVE"})
    assert done.returncode == 0, done.stderr
    threads = json.loads((out / "run.json").read_text())["threads"]
    assert threads["torch_threads"] == 1 and threads["threads_from"] == "--threads"
    assert threads["omp_wait_policy"] == "ACTIVE" and threads["wait_from"] == "set by the user"
    card = json.loads(next((out / "models").iterdir()).read_text())
    assert "torch_threads" in card["threads"] and card["training_seconds"] > 0


def test_a_bad_thread_count_is_one_line(tmp_path):
    done, _ = _run(tmp_path, env={"AUDIOX_THREADS": "many"})
    assert done.returncode == 2 and done.stderr == "error: AUDIOX_THREADS must be a positive integer, got 'many'\n"


def test_thread_settings_change_no_result(tiny_confound, tmp_path):
    """One thread or two, spinning or passive: identical records and leaderboards."""
    from audiox_bench.results.store import read_records

    runs = []
    for threads, policy in (("1", "PASSIVE"), ("2", "ACTIVE")):
        done, out = _run(tmp_path / threads, "--threads", threads, env={"OMP_WAIT_POLICY": policy})
        assert done.returncode == 0, done.stderr
        runs.append(out)
    first, second = ({r.key: r.without_timing() for r in read_records(out)} for out in runs)
    assert first == second
    assert (runs[0] / "leaderboard.csv").read_bytes() == (runs[1] / "leaderboard.csv").read_bytes()
