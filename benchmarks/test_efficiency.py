"""Efficiency: time of the model's forward passes over an explanation's distinct perturbations, divided
by the time of the whole (cold) explanation. 1.0 means the explainer costs nothing beyond the model.

Each benchmark records ``efficiency``, ``inputs_per_second`` and ``seconds_per_explanation`` in the
benchmark's ``extra_info`` (``--benchmark-json`` keeps them) and prints them.
"""

import time

import numpy as np
import pytest

from audiox_bench.evaluation import forget_predictions
from audiox_bench.masks import distinct_masks
from audiox_bench.registry import explainers

CASES = [
    ("vocals_task", "slime:content=zero"),
    ("vocals_task", "slime:content=mean_inp"),
    ("vocals_task", "slime:content=noise_norm"),
    ("vocals_task", "slime:content=zero,n_samples=70000"),
    ("vocals_task", "slime:segmentation=time_frequency,n_samples=2048"),
    ("vocals_audio_task", "audiolime:n_segments=10"),
    ("confound_task", "audiolime"),
    ("confound_task", "audiolime:n_segments=4"),
    ("confound_task", "audiolime:separator=hpss,n_segments=6"),
]
N_EXAMPLES = 5


def forward_seconds(model, factorization, masks) -> float:
    """The network alone on the features of the distinct masks (composed beforehand, not timed)."""
    masks = distinct_masks(masks).masks
    if factorization.domain == "features":
        features = factorization.compose(masks)
    else:
        features = model.features(factorization.compose(masks))
    start = time.perf_counter()
    model.predict_features(features)
    return time.perf_counter() - start


@pytest.mark.parametrize("task_fixture, spec", CASES)
def test_explanation_efficiency(benchmark, request, task_fixture, spec):
    task = request.getfixturevalue(task_fixture)
    model, examples = task.model, task.examples(N_EXAMPLES)
    explainer = explainers.build(spec)
    factorizations = [explainer.factorize(model, e) for e in examples]

    def explain_all():
        forget_predictions(model)  # cold: every distinct mask reaches the model
        return [explainer.explain(model, e, f, 1 if task_fixture.startswith("vocals") else 0, seed=0)
                for e, f in zip(examples, factorizations)]

    explanations = benchmark.pedantic(explain_all, rounds=3, iterations=1, warmup_rounds=1)
    whole = benchmark.stats.stats.median
    forward = float(np.median([
        sum(forward_seconds(model, f, explainer.settings.masks(f.n_components, np.random.default_rng(0)))
            for f in factorizations) for _ in range(3)]))
    n_inputs = sum(x.n_model_calls for x in explanations)
    benchmark.extra_info.update(efficiency=forward / whole, inputs_per_second=n_inputs / whole,
                                seconds_per_explanation=whole / len(examples),
                                model_calls_per_explanation=n_inputs / len(examples))
    print(f"\n{task_fixture} {spec}: efficiency {forward / whole:.3f}, {n_inputs / whole:.0f} inputs/s, "
          f"{whole / len(examples):.3f} s and {n_inputs / len(examples):.0f} model calls per explanation")
