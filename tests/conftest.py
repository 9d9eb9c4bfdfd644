"""Shared fixtures: a private cache and a tiny confound task trained in seconds (real data, real model)."""

from __future__ import annotations

import os

import pytest

from audiox_bench.testing import CHECK_TASK

TINY_CONFOUND = {"n_stems": 20, "n_train": 160, "epochs": 6, "n_validity": 40, "max_attempts": 1}
TINY_CONFOUND_SPEC = "confound:" + ",".join(f"{k}={v}" for k, v in TINY_CONFOUND.items())
assert TINY_CONFOUND_SPEC == CHECK_TASK  # the conformance suite checks on the same cached model
TINY_VOCALS = {"n_stems": 40, "n_train": 800, "epochs": 10, "n_validity": 60, "max_attempts": 1, "seed": 1}
TINY_VOCALS_SPEC = "vocals:" + ",".join(f"{k}={v}" for k, v in TINY_VOCALS.items())
TINY_ADVERSARIAL_SPEC = "adversarial:n_validity=6,seed=1," + ",".join(
    f"detector_{k}={v}" for k, v in TINY_VOCALS.items() if k != "seed"
)


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """Every test session gets its own model and stem cache."""
    path = tmp_path_factory.mktemp("audiox-cache")
    previous = os.environ.get("AUDIOX_CACHE")
    os.environ["AUDIOX_CACHE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("AUDIOX_CACHE", None)
    else:
        os.environ["AUDIOX_CACHE"] = previous


@pytest.fixture(scope="session")
def tiny_confound(private_cache):
    from audiox_bench.core.registry import tasks

    task = tasks.build(TINY_CONFOUND_SPEC)
    task.prepare(progress=False)
    return task


@pytest.fixture(scope="session")
def tiny_vocals(private_cache):
    from audiox_bench.core.registry import tasks

    task = tasks.build(TINY_VOCALS_SPEC)
    task.prepare(progress=False)
    return task


@pytest.fixture(scope="session")
def tiny_vocals_audio(private_cache, tiny_vocals):
    from audiox_bench.core.registry import tasks

    task = tasks.build(TINY_VOCALS_SPEC + ",form=audio")  # the same cached detector, hybrids in audio
    task.prepare(progress=False)
    return task


def run_records(task, explainer_specs, metric_specs, n=4, **fields):
    """The records of a run of ``task`` in this process (no run directory)."""
    from audiox_bench.engine.run_spec import RunSpec
    from audiox_bench.engine.runner import run_benchmark

    spec = RunSpec(
        tasks=(task,), explainers=tuple(explainer_specs), metrics=tuple(metric_specs), n_examples=n, **fields
    )
    return run_benchmark(spec, progress=False).records
