"""Threads on a shared machine: the wait policy follows the machine's load at start (a user's setting wins),
the thread count the options, and a run records what it used."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

from audiox_bench.core.threads import busy_cores
from tests.conftest import TINY_CONFOUND_SPEC


def test_busy_cores_reads_the_share_of_busy_time_from_proc_stat(monkeypatch):
    """Two /proc/stat snapshots 400 jiffies apart on 2 cores, 300 of them not idle: 1.5 cores were busy."""
    from pathlib import Path

    snapshots = iter(
        [
            "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 ...\n",  # busy 200 of 1000
            "cpu  250 0 250 900 0 0 0 0 0 0\ncpu0 ...\n",  # busy 500 of 1400: 300 of the 400 since
        ]
    )
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: next(snapshots))
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert busy_cores(0.1) == 1.5


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


def test_training_does_not_depend_on_the_thread_count():
    from audiox_bench.models.networks import build_network
    from audiox_bench.models.training import TrainingConfig, train_network

    rng = np.random.default_rng(0)
    features, labels = rng.standard_normal((64, 32, 20)).astype(np.float32), rng.integers(0, 2, 64)
    states = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            network = build_network("vggish", 32, 2, 0)
            train_network(network, features, labels, TrainingConfig(epochs=2), progress=False)
            states.append(torch.cat([t.flatten().float() for t in network.state_dict().values()]))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(states[0], states[1]) and torch.equal(states[0], states[2])


def test_an_input_gives_the_same_bits_in_any_batch_with_any_thread_count(tiny_confound):
    model = tiny_confound.model
    audio = np.stack([e.audio for e in tiny_confound.examples(20)])
    reference = model.predict_proba(audio)
    before = torch.get_num_threads()
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            assert np.array_equal(model.predict_proba(audio), reference)
            assert np.array_equal(model.predict_proba(audio[:1]), reference[:1])  # a lone input
            assert np.array_equal(model.predict_proba(audio[[5, 2, 9]]), reference[[5, 2, 9]])
    finally:
        torch.set_num_threads(before)
