"""Cross-checks at scale: our numbers against Captum, Quantus and scipy on the default models, over many
instances (tests/test_captum.py checks the same on one tiny instance each). Reports, per pair, the instances
compared and the largest |difference| (printed and kept in ``extra_info``); run with
``python -m pytest benchmarks/test_crosschecks.py --benchmark-only -s``.
"""

import numpy as np
import pytest
from scipy import stats

from audiox_bench.core.data import MetricInput
from audiox_bench.core.registry import explainers
from audiox_bench.metrics.randomization import RandomizationDivergence
from tests.quantus_view import faithfulness_with_quantus

N_EXAMPLES = 20
PAIRS = [
    ("occlusion:over=audiolime", "captum:method=FeatureAblation,over=audiolime"),
    ("occlusion:over=audiolime,separator=hpss", "captum:method=FeatureAblation,over=audiolime,separator=hpss"),
    ("occlusion:over=slime", "captum:method=FeatureAblation,over=slime"),
    ("occlusion:over=slime,content=mean_inp", "captum:method=FeatureAblation,over=slime,content=mean_inp"),
    ("kernelshap:over=audiolime", "captum:method=ShapleyValues,over=audiolime"),
    ("kernelshap:over=slime,n_segments=7", "captum:method=ShapleyValues,over=slime,n_segments=7"),
]


def _report(benchmark, name, n, difference):
    benchmark.extra_info.update(instances=n, max_abs_difference=difference)
    print(f"\n{name}: {n} instances, max |difference| {difference:.3g}")


@pytest.mark.parametrize("ours, theirs", PAIRS)
def test_our_baselines_against_captum(benchmark, confound_task, ours, theirs):
    model, examples = confound_task.model, confound_task.examples(N_EXAMPLES)

    def compare():
        worst = 0.0
        for seed, example in enumerate(examples):
            a, b = explainers.build(ours), explainers.build(theirs)
            factorization = a.factorize(model, example)
            wa = a.explain(model, example, factorization, 0, seed).weights
            wb = b.explain(model, example, factorization, 0, seed).weights
            worst = max(worst, float(np.abs(wa - wb).max()))
        return worst

    _report(benchmark, f"{ours} vs {theirs}", len(examples), benchmark.pedantic(compare, rounds=1, iterations=1))


def test_faithfulness_against_quantus(benchmark, vocals_task):
    pytest.importorskip("quantus")
    model, examples = vocals_task.model, vocals_task.examples(N_EXAMPLES)
    slime = explainers.build("slime")

    def compare():
        worst = 0.0
        for seed, example in enumerate(examples):
            factorization = slime.factorize(model, example)
            explanation = slime.explain(model, example, factorization, 1, seed)
            item = MetricInput(explanation, None, model, example, factorization, seed=seed)
            theirs, ours = faithfulness_with_quantus(item, target=1)
            worst = max(worst, abs(ours - theirs))
        return worst

    _report(benchmark, "faithfulness_correlation vs quantus", len(examples), benchmark.pedantic(compare, rounds=1))


def test_randomization_against_scipy(benchmark, vocals_task):
    model, examples = vocals_task.model, vocals_task.examples(N_EXAMPLES)
    slime = explainers.build("slime")
    metric = RandomizationDivergence(n_models=2)

    def compare():
        worst = 0.0
        for seed, example in enumerate(examples):
            factorization = slime.factorize(model, example)
            explanation = slime.explain(model, example, factorization, 1, seed)
            item = MetricInput(explanation, None, model, example, factorization, slime, 1, seed)
            value = metric.score(item)["randomization_divergence"]
            randomized = [slime.explain(model.randomized(seed=s), example, factorization, 1, seed) for s in range(2)]
            expected = np.mean([1 - abs(stats.spearmanr(explanation.weights, r.weights).statistic) for r in randomized])
            worst = max(worst, abs(value - expected))
        return worst

    _report(benchmark, "randomization_divergence vs scipy", len(examples), benchmark.pedantic(compare, rounds=1))
