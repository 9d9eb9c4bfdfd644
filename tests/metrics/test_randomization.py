"""randomization_divergence (Adebayo et al. 2018): 1 - |Spearman| in [0, 1], undefined where a rank
correlation means nothing, a seed null and a pass/fail test, the layer curve, and scipy's statistics."""

import numpy as np
import pytest
from scipy import stats

from audiox_bench.core.data import Explanation, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.metrics.faithfulness import pearson_or_none
from audiox_bench.metrics.randomization import (
    RandomizationDivergence,
    changes_more_than_its_noise,
    js_divergence,
    normalised_entropy,
    rank_divergence,
    signed_rank_divergence,
    unrelated_divergence,
)
from tests.conftest import TINY_CONFOUND_SPEC


def test_randomization_divergence_is_one_minus_absolute_spearman():
    x = np.array([0.3, -1.0, 2.0, 0.5, 0.1])
    assert rank_divergence(x, -x) == pytest.approx(0.0)  # reversed: still fully determined by the trained ranking
    assert rank_divergence(x, x**3) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    values = [rank_divergence(x, rng.standard_normal(5)) for _ in range(200)]
    assert all(0.0 <= v <= 1.0 for v in values)
    # the permutation null of 10 distinct values, against an independent Monte Carlo estimate with numpy
    a = np.arange(10.0)
    reference = np.mean([1 - abs(np.corrcoef(a, rng.permutation(10))[0, 1]) for _ in range(20000)])
    assert unrelated_divergence(a, a[::-1].copy(), np.random.default_rng(1)) == pytest.approx(reference, abs=0.01)


@pytest.mark.parametrize(
    "weights, why",
    [([0.2, 0.7], "2 components"), ([0.0, 0.0, 0.0, 0.0], "constant"), ([1.0, 1.0, 1.0], "constant")],
)
def test_randomization_is_undefined_where_a_rank_correlation_means_nothing(tiny_confound, weights, why):
    example = tiny_confound.examples(1)[0]
    factorization = explainers.build("slime").factorize(tiny_confound.model, example)
    item = MetricInput(
        Explanation(tuple(factorization.names[: len(weights)]), np.array(weights), 0),
        None,
        tiny_confound.model,
        example,
        factorization,
        explainers.build("random:over=slime"),
        0,
        0,
    )
    with pytest.raises(NotApplicableError, match=why):
        RandomizationDivergence(n_models=2).score(item)


def test_the_sanity_check_is_a_test_the_random_explainer_fails(tiny_confound):
    result = run_benchmark(
        RunSpec(
            tasks=(TINY_CONFOUND_SPEC,),
            explainers=("random:over=slime", "occlusion:over=slime"),
            metrics=("randomization_divergence:n_models=2",),
            n_examples=8,
        ),
        progress=False,
    )
    records = result.records
    passes = {
        row.explainer: row.metrics["randomization_divergence.passes"]
        for row in result.group_rows
        if "randomization_divergence.passes" in row.metrics
    }
    assert passes == {"random:over=slime": 0.0, "occlusion:over=slime": 1.0}
    for record in records:
        assert 0.0 <= record.metrics["randomization_divergence"] <= 1.0
        assert record.metrics["randomization_divergence.unrelated"] > 0.5  # 10 segments: about 0.74
        if record.explainer == "occlusion:over=slime":
            assert record.metrics["randomization_divergence.seed_null"] == pytest.approx(0.0, abs=1e-12)
    assert result.specs["randomization_divergence.unrelated"].role == "reference"
    assert result.specs["randomization_divergence.js"].role == "diagnostic"


def test_changes_more_than_its_noise_is_a_one_sided_wilcoxon():
    from scipy import stats

    divergence, null = np.array([0.5, 0.6, 0.7, 0.4, 0.8, 0.55]), np.zeros(6)
    expected = stats.wilcoxon(divergence - null, alternative="greater").pvalue
    assert changes_more_than_its_noise(divergence, null) == pytest.approx(expected)
    assert changes_more_than_its_noise(divergence, divergence) == 1.0


def test_randomization_curve_averages_the_seeds_of_the_main_value(tiny_confound):
    from audiox_bench.metrics.randomization import RandomizationDivergence, rank_divergence

    model, example = tiny_confound.model, tiny_confound.examples(2)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    explanation = slime.explain(model, example, factorization, 0, 5)
    item = MetricInput(explanation, None, model, example, factorization, slime, 0, 5)
    values = RandomizationDivergence(n_models=3, curve=True).score(item)
    n_layers = model.n_layers()
    assert values[f"randomization_divergence.layers{n_layers}"] == values["randomization_divergence"]
    for count in (1, 3):
        by_seed = [
            rank_divergence(
                explanation.weights,
                slime.explain(model.randomized("cascading", count, seed), example, factorization, 0, 5).weights,
            )
            for seed in range(3)
        ]
        assert values[f"randomization_divergence.layers{count}"] == pytest.approx(np.mean(by_seed), abs=1e-9)


def test_randomized_models_reuse_the_explanations_inputs_composed_once(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(2)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    composed = []
    original = factorization.compose
    factorization.compose = lambda masks: composed.append(len(masks)) or original(masks)
    models = [model.randomized(seed=seed) for seed in range(3)]
    together = slime.explain_models(models, example, factorization, 0, 5)
    assert sum(composed) == 1024  # every mask composed once for the three models
    factorization.compose = original
    for copy, explanation in zip(models, together):
        alone = slime.explain(copy, example, factorization, 0, 5)
        np.testing.assert_allclose(explanation.weights, alone.weights, atol=1e-12)


def test_statistics_agree_with_scipy_on_hand_made_cases():
    x, y = np.array([1.0, 2, 3, 4]), np.array([2.0, 1, 4, 3])
    assert pearson_or_none(x, y) == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert pearson_or_none(x, np.ones(4)) is None
    assert rank_divergence(x, y) == pytest.approx(1 - abs(stats.spearmanr(x, y).statistic))
    assert rank_divergence(x, x**3) == pytest.approx(0.0) and rank_divergence(x, -x) == pytest.approx(0.0)
    assert signed_rank_divergence(x, -x) == pytest.approx(2.0)
    assert js_divergence([5, 0, 0], [5, 0, 0]) == pytest.approx(0.0)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(1.0)  # disjoint: 1 bit
    assert normalised_entropy([3, 3, 3]) == pytest.approx(1.0) and normalised_entropy([9, 0, 0]) == 0.0


def test_sanity_metrics_through_the_runner(tiny_confound, tmp_path):
    spec = RunSpec(
        tasks=(TINY_CONFOUND_SPEC,),
        explainers=("audiolime", "random", "gradient:over=audiolime", "gradient"),
        metrics=(
            "topk_overlap",
            "faithfulness_correlation",
            "surrogate_fidelity",
            "randomization_divergence:n_models=2,curve=true",
        ),
        n_examples=6,
    )
    result = run_benchmark(spec, out=tmp_path / "run", progress=False)
    table = result.leaderboard.set_index(["explainer", "metric"])
    assert table.loc[("gradient:over=audiolime", "(not applicable)"), "n_not_applicable"] == 6
    assert table.loc[("gradient", "topk_overlap"), "n_skipped"] == 6  # no truth for segments in confound
    assert table.loc[("random", "surrogate_fidelity"), "n"] == 0  # undefined without a surrogate
    fidelity = table.loc[("audiolime", "surrogate_fidelity")]  # 2-3 sources: 4-8 coalitions
    assert fidelity["n"] == 0 and fidelity["n_skipped"] == 6
    assert "distinct coalitions, fewer than the 10" in fidelity["note"]
    assert ("audiolime", "randomization_divergence.layers5") in table.index
    summary = [r for r in result.group_rows if r.explainer == "audiolime"]
    assert 0 <= summary[0].metrics["randomization_divergence.js"] <= 1
    defined = [r for r in result.records if r.explainer == "audiolime" and len(r.components) >= 3]
    assert defined and all(len(r.metric_data["_top1"]["randomized"]) == 2 for r in defined)
    two_sources = [r for r in result.records if r.explainer == "audiolime" and len(r.components) == 2]
    assert all("2 components" in r.metric_notes["randomization_divergence"] for r in two_sources)
