"""Cost of the parameter-randomization check per instance, against the explanation it checks: the
default (4 randomized models, no layer curve; each batch of perturbed inputs composed once for all
models) and the audioLIME paper's setting (10 models) with the cascading layer curve."""

import time

import numpy as np
import pytest

from audiox_bench.core.data import MetricInput
from audiox_bench.core.registry import explainers, metrics
from audiox_bench.perturbation.prediction_cache import forget_predictions

CASES = [("confound_task", "audiolime"), ("vocals_task", "slime"), ("vocals_task", "kernelshap:over=slime")]
SETTINGS = ["randomization_divergence", "randomization_divergence:n_models=10,curve=true"]
N_EXAMPLES = 5


@pytest.mark.parametrize("metric_spec", SETTINGS)
@pytest.mark.parametrize("task_fixture, spec", CASES)
def test_randomization_cost_per_instance(benchmark, request, task_fixture, spec, metric_spec):
    task = request.getfixturevalue(task_fixture)
    model, examples = task.model, task.examples(N_EXAMPLES)
    explainer, metric = explainers.build(spec), metrics.build(metric_spec)
    target = 1 if task_fixture.startswith("vocals") else 0
    items, explain_seconds = [], []
    for example in examples:
        forget_predictions(model)
        start = time.perf_counter()
        factorization = explainer.factorize(model, example)
        explanation = explainer.explain(model, example, factorization, target, 0)
        explain_seconds.append(time.perf_counter() - start)
        items.append(MetricInput(explanation, None, model, example, factorization, explainer, target, 0))

    def score_all():
        return [metric.score(item) for item in items]

    benchmark.pedantic(score_all, rounds=2, iterations=1, warmup_rounds=1)
    per_instance = benchmark.stats.stats.median / len(items)
    ratio = per_instance / float(np.mean(explain_seconds))
    benchmark.extra_info.update(
        seconds_per_instance=per_instance,
        explanation_seconds=float(np.mean(explain_seconds)),
        ratio_to_explanation=ratio,
    )
    print(
        f"\n{spec} / {metric_spec}: {per_instance:.3f} s per instance, {ratio:.1f}x the explanation "
        f"({np.mean(explain_seconds):.3f} s)"
    )
