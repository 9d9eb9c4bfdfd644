"""Model throughput per batch size (large batches are not always fastest on CPU), in the main thread
and in a worker thread (where a Dask worker runs its tasks), and how a run's time grows with the number
of instances (it should be linear)."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from audiox_bench.core.registry import explainers
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.perturbation.masks import all_masks


@pytest.mark.parametrize("thread", ["main", "worker"])
@pytest.mark.parametrize("batch_size", [16, 32, 64, 128, 256, 512])
def test_inputs_per_second_by_batch_size(benchmark, vocals_task, batch_size, thread):
    model = vocals_task.model
    example = vocals_task.examples(1)[0]
    features = explainers.build("slime").factorize(model, example).compose(all_masks(10))
    previous, model.batch_size = model.batch_size, batch_size
    try:
        if thread == "main":
            benchmark.pedantic(model.predict_features, args=(features,), rounds=3, iterations=1, warmup_rounds=1)
        else:
            with ThreadPoolExecutor(1) as worker:
                benchmark.pedantic(
                    lambda: worker.submit(model.predict_features, features).result(),
                    rounds=3,
                    iterations=1,
                    warmup_rounds=1,
                )
    finally:
        model.batch_size = previous
    rate = len(features) / benchmark.stats.stats.median
    benchmark.extra_info["inputs_per_second"] = rate
    print(f"\nbatch {batch_size}, {thread} thread: {rate:.0f} inputs/s")


@pytest.mark.parametrize("batch_size", [8, 16, 32, 64, 128])
def test_musicnn_inputs_per_second_by_batch_size(benchmark, tags_task, batch_size):
    """The published tagger (musicnn, about 790k parameters) on its own 3 s log-mel inputs."""
    model = tags_task.model
    features = model.features(np.stack([e.audio for e in tags_task.examples(4)] * 32))  # 128 inputs
    previous, model.batch_size = model.batch_size, batch_size
    try:
        benchmark.pedantic(model.predict_features, args=(features,), rounds=3, iterations=1, warmup_rounds=1)
    finally:
        model.batch_size = previous
    rate = len(features) / benchmark.stats.stats.median
    benchmark.extra_info["inputs_per_second"] = rate
    print(f"\nmusicnn, batch {batch_size}: {rate:.0f} inputs/s")


@pytest.mark.parametrize("n_examples", [10, 20, 40])
def test_run_time_grows_linearly(benchmark, vocals_task, tmp_path_factory, n_examples):
    spec = RunSpec(
        tasks=("vocals",),
        explainers=("slime", "slime:content=mean_inp"),
        metrics=("topk_overlap",),
        n_examples=n_examples,
    )

    # Each run builds its task afresh (model from the disk cache, validity measured): a fixed cost per run.
    benchmark.pedantic(run_benchmark, args=(spec,), kwargs={"progress": False}, rounds=2, iterations=1)
    per_example = benchmark.stats.stats.median / n_examples
    benchmark.extra_info["seconds_per_example"] = per_example
    print(f"\n{n_examples} examples: {benchmark.stats.stats.median:.1f} s, {per_example:.3f} s per example")
