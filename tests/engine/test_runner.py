"""The run engine: executors give identical records, kill -9 at any point loses nothing, bad input is
one clear line, same seed gives byte-identical leaderboards."""

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audiox_bench.core.errors import AudioxError
from audiox_bench.engine.executors import EngineSpec
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.results.store import read_records
from tests.conftest import TINY_CONFOUND_SPEC

SPEC = RunSpec(
    tasks=(TINY_CONFOUND_SPEC,),
    explainers=("audiolime", "slime:n_samples=300", "random", "kernelshap:separator=hpss"),
    metrics=("topk_overlap", "faithfulness_correlation", "stability"),
    n_examples=4,
    repeats=2,
    seed=3,
)


def comparable(records):
    """Records without wall-clock fields, in key order."""
    rows = [r.without_timing() for r in records]
    return sorted(rows, key=lambda r: (r["task"], r["explainer"], r["example_id"], r["repeat"]))


@pytest.fixture(scope="module")
def in_process_run(tiny_confound, tmp_path_factory):
    out = tmp_path_factory.mktemp("in-process")
    return out, run_benchmark(SPEC, out=out, progress=False)


def test_same_seed_gives_identical_records_and_byte_identical_leaderboard(in_process_run, tmp_path):
    out, first = in_process_run
    second = run_benchmark(SPEC, out=tmp_path / "again", progress=False)
    assert comparable(first.records) == comparable(second.records)
    assert (out / "leaderboard.csv").read_bytes() == (tmp_path / "again" / "leaderboard.csv").read_bytes()


def test_batch_size_changes_speed_only(in_process_run, tmp_path):
    """The guarantee the README states: another batch size gives identical records (an input's output is
    the same bits in any batch: MKL's reproducible mode, and a lone input evaluated as a batch of two)."""
    out, reference = in_process_run
    small_batches = run_benchmark(replace(SPEC, batch_size=5), out=tmp_path / "b5", progress=False)
    assert comparable(small_batches.records) == comparable(reference.records)
    assert (out / "leaderboard.csv").read_bytes() == (tmp_path / "b5" / "leaderboard.csv").read_bytes()
    resumed = run_benchmark(SPEC, out=tmp_path / "b5", progress=False)  # not a different spec: resumes
    assert comparable(resumed.records) == comparable(reference.records)


@pytest.mark.parametrize("engine", [EngineSpec(jobs=2), EngineSpec(dask_local=2)], ids=["jobs2", "dask2"])
def test_process_pool_and_dask_give_the_in_process_records(in_process_run, tmp_path, engine):
    if engine.dask_local:
        pytest.importorskip("dask.distributed")
    out, reference = in_process_run
    result = run_benchmark(SPEC, out=tmp_path / "run", progress=False, engine=engine)
    assert comparable(result.records) == comparable(reference.records)
    assert (tmp_path / "run" / "leaderboard.csv").read_bytes() == (out / "leaderboard.csv").read_bytes()


def test_engine_options_are_checked():
    for kwargs, message in (
        ({"jobs": 0}, "--jobs"),
        ({"dask_local": 2, "dask_scheduler": "tcp://x:1"}, "not both"),
        ({"jobs": 2, "dask_local": 2}, "size the cluster"),
    ):
        with pytest.raises(AudioxError, match=message):
            EngineSpec(**kwargs)


def _cli(out: Path, seed: str = "0") -> list[str]:
    return [
        sys.executable,
        "-m",
        "audiox_bench",
        "run",
        "--task",
        TINY_CONFOUND_SPEC,
        "--explainer",
        "slime",
        "--explainer",
        "audiolime",
        "--metric",
        "topk_overlap",
        "--n-examples",
        "6",
        "--repeats",
        "1",
        "--seed",
        seed,
        "--no-progress",
        "--out",
        str(out),
    ]


def _lines(path: Path) -> int:
    file = path / "records.jsonl"
    return file.read_bytes().count(b"\n") if file.exists() else 0


def test_kill_9_at_several_points_then_resume_equals_an_uninterrupted_run(tiny_confound, tmp_path):
    env = dict(os.environ)
    reference = tmp_path / "reference"
    subprocess.run(_cli(reference), env=env, check=True, capture_output=True)
    killed = tmp_path / "killed"
    for stop_after in (2, 5, 9):
        process = subprocess.Popen(_cli(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while _lines(killed) < stop_after and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
    with open(killed / "records.jsonl", "ab") as handle:  # and a torn write, as if killed inside write()
        handle.write(b'{"task": "conf')
    subprocess.run(_cli(killed), env=env, check=True, capture_output=True)
    resumed = read_records(killed)
    keys = [(r.explainer, r.example_id, r.repeat) for r in resumed]
    assert len(keys) == len(set(keys)) == 12  # nothing lost, nothing duplicated
    assert comparable(resumed) == comparable(read_records(reference))
    assert (killed / "leaderboard.csv").read_bytes() == (reference / "leaderboard.csv").read_bytes()


def _wav(path: Path, audio: np.ndarray, sr: int = 16_000) -> Path:
    sf.write(path, audio, sr, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.with_suffix(".missing"), "does not exist"),
        (lambda p: (p.write_bytes(b"RIFF0000WAVEjunk"), p)[1], "cannot read audio file"),
        (lambda p: _wav(p, np.zeros(0, np.float32)), "empty"),
        (lambda p: _wav(p, np.full(16_000, np.nan, np.float32)), "NaN"),
        (lambda p: _wav(p, np.zeros(16_000, np.float32)), "silent"),
        (lambda p: _wav(p, np.random.default_rng(0).normal(0, 0.1, 800).astype(np.float32)), "too short"),
        (
            lambda p: _wav(p, np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32), sr=2000),
            "unsupported sample rate",
        ),
    ],
)
def test_bad_audio_is_one_line_and_exit_2(tiny_confound, tmp_path, make, message):
    path = make(tmp_path / "input.wav")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "audiox_bench",
            "explain",
            str(path),
            "--task",
            TINY_CONFOUND_SPEC,
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("error: ") and message in out.stderr and "Traceback" not in out.stderr


def test_records_are_json_lines_with_keys(in_process_run):
    out, _ = in_process_run
    for line in (out / "records.jsonl").read_text().splitlines():
        record = json.loads(line)
        assert {"task", "explainer", "example_id", "repeat", "seed"} <= set(record)
