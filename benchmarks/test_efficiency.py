"""Efficiency: time of the model's forward passes over an explanation's distinct perturbations, divided
by the time of the whole (cold) explanation. 1.0 means the explainer costs nothing beyond the model.

"The model's forward pass" is the classifier called on its own inputs: ``predict_features`` on the
composed features for segmentation explainers, ``predict_proba`` on the composed waveforms (front end
included) for source explainers. audioLIME composes mixes as spectra and skips the STFT, so it can
beat 1.0; ``network_efficiency`` (network alone on precomputed features) is reported next to it.

Each benchmark records ``efficiency``, ``inputs_per_second`` and ``seconds_per_explanation`` in the
benchmark's ``extra_info`` (``--benchmark-json`` keeps them) and prints them.
"""

import time

import numpy as np
import pytest

from audiox_bench.core.registry import explainers
from audiox_bench.perturbation.masks import distinct_masks
from audiox_bench.perturbation.prediction_cache import forget_predictions

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
    ("tags_task", "audiolime"),
    ("tags_task", "audiolime:n_segments=2"),  # 3-5 sources x 2: at most 1,024 masks at 48 inputs/s
    ("tags_task", "slime:n_samples=300"),
]
N_EXAMPLES = 5


def target_of(task, task_fixture, example) -> int:
    """The class explained: the task's own choice (tags), else vocals for the detector, guitar for confound."""
    chosen = task.target_for(example)
    return chosen if chosen is not None else (1 if task_fixture.startswith("vocals") else 0)


def forward_seconds(model, factorization, masks, network_only: bool = False) -> float:
    """The model on the inputs of the distinct masks (composed beforehand, not timed): features for
    segmentations, waveforms (front end included) for sources; ``network_only``: features always."""
    masks = distinct_masks(masks).masks
    composed = factorization.compose(masks)
    if factorization.domain == "features" or network_only:
        features = composed if factorization.domain == "features" else model.features(composed)
        start = time.perf_counter()
        model.predict_features(features)
    else:
        start = time.perf_counter()
        model.predict_proba(composed)
    return time.perf_counter() - start


@pytest.mark.parametrize("task_fixture, spec", CASES)
def test_explanation_efficiency(benchmark, request, task_fixture, spec):
    task = request.getfixturevalue(task_fixture)
    model, examples = task.model, task.examples(N_EXAMPLES)
    explainer = explainers.build(spec)
    factorizations = [explainer.factorize(model, e) for e in examples]

    def explain_all():
        forget_predictions(model)  # cold: every distinct mask reaches the model
        return [
            explainer.explain(model, e, f, target_of(task, task_fixture, e), seed=0)
            for e, f in zip(examples, factorizations)
        ]

    explanations = benchmark.pedantic(explain_all, rounds=3, iterations=1, warmup_rounds=1)
    whole = benchmark.stats.stats.median

    def model_seconds(network_only: bool) -> float:
        return float(
            np.median(
                [
                    sum(
                        forward_seconds(
                            model, f, explainer.settings.neighbourhood(f.n_components, 0).masks, network_only
                        )
                        for f in factorizations
                    )
                    for _ in range(3)
                ]
            )
        )

    forward_time, network_time = model_seconds(False), model_seconds(True)
    n_inputs = sum(x.n_model_calls for x in explanations)
    benchmark.extra_info.update(
        efficiency=forward_time / whole,
        network_efficiency=network_time / whole,
        inputs_per_second=n_inputs / whole,
        seconds_per_explanation=whole / len(examples),
        model_calls_per_explanation=n_inputs / len(examples),
    )
    print(
        f"\n{task_fixture} {spec}: efficiency {forward_time / whole:.3f} (network alone {network_time / whole:.3f}), "
        f"{n_inputs / whole:.0f} inputs/s, "
        f"{whole / len(examples):.3f} s and {n_inputs / len(examples):.0f} model calls per explanation"
    )
