"""Cost of the exact Shapley values behind ``shapley_agreement`` per example, against the explanation it
scores: computed once per example, class and kind of components (2^d model inputs), then read from the disk
cache by every other explainer and run. Cold: the prediction cache and the disk cache empty; warm: on disk."""

import time

import numpy as np
import pytest

from audiox_bench.core.registry import explainers
from audiox_bench.perturbation.baselines import switched_off
from audiox_bench.perturbation.prediction_cache import forget_predictions
from audiox_bench.perturbation.shapley import shapley_game

CASES = [
    ("vocals_task", "slime"),
    ("confound_task", "audiolime"),
    ("tags_task", "audiolime"),
    ("tags_task", "occlusion:over=slime"),
]
N_EXAMPLES = 2


@pytest.mark.parametrize("task_fixture, spec", CASES)
def test_exact_shapley_cost_per_example(benchmark, request, tmp_path, monkeypatch, task_fixture, spec):
    task = request.getfixturevalue(task_fixture)  # its model from the usual cache
    monkeypatch.setenv("AUDIOX_CACHE", str(tmp_path))  # an empty disk cache for the Shapley values
    model, examples = task.model, task.examples(N_EXAMPLES)
    explainer = explainers.build(spec)
    cases, explain_seconds = [], []
    for example in examples:
        target = task.target_for(example)
        target = int(model.predict_proba(example.audio[None]).argmax()) if target is None else target
        forget_predictions(model)
        start = time.perf_counter()
        factorization = explainer.factorize(model, example)
        explainer.explain(model, example, factorization, target, 0)
        explain_seconds.append(time.perf_counter() - start)
        cases.append((switched_off(factorization, model, task.baseline, 0), target))

    def cold():
        for factorization, target in cases:
            forget_predictions(model)
            shapley_game(model, factorization, target, disk=False)

    benchmark.pedantic(cold, rounds=1, iterations=1)
    per_example = benchmark.stats.stats.median / len(cases)
    n_inputs = 2 ** cases[0][0].n_components
    start = time.perf_counter()
    for factorization, target in cases:
        shapley_game(model, factorization, target)  # written to disk
    warm_start = time.perf_counter()
    read = [shapley_game(model, factorization, target) for factorization, target in cases]
    warm = (time.perf_counter() - warm_start) / len(cases)
    assert all(game.from_disk for game in read)
    ratio = per_example / float(np.mean(explain_seconds))
    benchmark.extra_info.update(
        model_inputs=n_inputs, seconds_per_example=per_example, warm_seconds=warm, ratio_to_explanation=ratio
    )
    print(
        f"\n{task_fixture} {spec}: exact Shapley {n_inputs} inputs, {per_example:.2f} s per example cold "
        f"({ratio:.1f}x the explanation, {np.mean(explain_seconds):.2f} s), {warm * 1000:.1f} ms from disk"
    )
