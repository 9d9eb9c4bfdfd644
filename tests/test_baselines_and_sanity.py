"""Baselines (random, occlusion, Kernel SHAP, gradient), faithfulness, surrogate fidelity and parameter
randomization, on the tiny confound model (real data, real network)."""

from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import comb

from audiox_bench.core.contracts import Explanation, MetricInput
from audiox_bench.core.registry import explainers
from audiox_bench.engine.plan import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.explainers.baselines import exact_shapley, kernel_shap_fit, kernel_shap_masks
from audiox_bench.factorizations.segmentation import SegmentationFactorization
from audiox_bench.metrics.faithfulness import FaithfulnessCorrelation, pearson_or_none
from audiox_bench.metrics.randomization import (
    js_divergence,
    normalised_entropy,
    rank_divergence,
    signed_rank_divergence,
)
from audiox_bench.metrics.topk import topk_overlap
from audiox_bench.perturbation.masks import all_masks

from .conftest import TINY_CONFOUND_SPEC


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


def test_random_explainer_scores_chance_on_overlap():
    features = np.random.default_rng(0).normal(size=(16, 40)).astype(np.float32)
    factorization = SegmentationFactorization(features, 0.0, "temporal", n_time=10)
    random = explainers.build("random:over=slime")
    truth = {"t1", "t4", "t7"}
    n_ce = [
        topk_overlap(factorization.names, random.explain(None, None, factorization, 0, seed).weights, truth)
        for seed in range(3000)
    ]
    # r-th best weight is positive iff at least r of 10 normals are; each top slot is truth w.p. 3/10.
    positive = [sum(comb(10, j) for j in range(r, 11)) / 1024 for r in (1, 2, 3)]
    assert np.mean(n_ce) == pytest.approx(0.3 * sum(positive), abs=0.05)


def test_exact_shapley_on_a_known_game_and_kernel_shap_recovers_it():
    masks = all_masks(4)
    weights = np.array([1.0, -2.0, 0.5, 3.0])
    values = masks @ weights + 2.0 * (masks[:, 0] & masks[:, 1])  # additive plus a pair interaction
    phi = exact_shapley(masks, values)
    np.testing.assert_allclose(phi, weights + np.array([1.0, 1.0, 0, 0]), atol=1e-12)
    sampled = kernel_shap_masks(4, 4000, np.random.default_rng(0))
    sampled_values = sampled @ weights + 2.0 * (sampled[:, 0] & sampled[:, 1])
    estimate = kernel_shap_fit(sampled, sampled_values)
    assert estimate.sum() == pytest.approx(weights.sum() + 2.0)  # efficiency holds exactly
    np.testing.assert_allclose(estimate, phi, atol=0.1)


def test_exact_kernelshap_sums_to_full_minus_empty_on_the_model(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(4)[1]
    shap = explainers.build("kernelshap")
    factorization = shap.factorize(model, example)
    explanation = shap.explain(model, example, factorization, target=0, seed=0)
    d = factorization.n_components
    full, empty = model.predict_proba(factorization.compose(np.array([[True] * d, [False] * d])))[:, 0]
    assert explanation.extra["exact"] and explanation.weights.sum() == pytest.approx(full - empty, abs=1e-5)


def test_occlusion_weights_are_leave_one_out_drops(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(4)[3]
    occlusion = explainers.build("occlusion:over=audiolime,separator=hpss")
    factorization = occlusion.factorize(model, example)
    explanation = occlusion.explain(model, example, factorization, target=1, seed=0)
    scores = model.predict_proba(factorization.compose(np.array([[1, 1], [0, 1], [1, 0]], bool)))[:, 1]
    np.testing.assert_allclose(explanation.weights, scores[0] - scores[1:], atol=1e-5)


def test_faithfulness_flips_sign_with_the_explanation_and_needs_variation(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(4)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    explanation = slime.explain(model, example, factorization, target=0, seed=0)
    negated = Explanation(explanation.components, -explanation.weights, 0)
    metric = FaithfulnessCorrelation()
    value = metric.score(MetricInput(explanation, None, model, example, factorization, seed=5))
    flipped = metric.score(MetricInput(negated, None, model, example, factorization, seed=5))
    assert -1 <= value["faithfulness_correlation"] <= 1
    assert flipped["faithfulness_correlation"] == pytest.approx(-value["faithfulness_correlation"])


def test_randomization_is_deterministic_and_never_alters_the_model(tiny_confound):
    model = tiny_confound.model
    cached = Path(tiny_confound.model_card["cache_path"]) / "model.pt"
    before_file = cached.read_bytes()
    before = {k: v.clone() for k, v in model.network.state_dict().items()}
    top = model.randomized("cascading", layers=1, seed=3)
    full = model.randomized("cascading", seed=3)
    again = model.randomized("cascading", seed=3)
    for key, value in model.network.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert cached.read_bytes() == before_file
    changed = [k for k, v in top.network.state_dict().items() if not torch.equal(v, before[k])]
    assert changed and all(k.startswith("head.") for k in changed)  # only the output layer
    assert all(torch.equal(v, again.network.state_dict()[k]) for k, v in full.network.state_dict().items())
    weights = [k for k in before if k.endswith("weight")]
    assert all(not torch.equal(full.network.state_dict()[k], before[k]) for k in weights if "blocks.0" in k)
    independent = model.randomized("independent", layers=2, seed=3)
    changed = {
        k.split(".")[1]
        for k, v in independent.network.state_dict().items()
        if not torch.equal(v, before[k]) and k.startswith("blocks.")
    }
    assert changed == {"12", "13"}  # the last conv block's convolution and batch norm only
    with pytest.raises(ValueError, match="between 1 and 5"):
        model.randomized("cascading", layers=9)


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
    assert table.loc[("audiolime", "surrogate_fidelity"), "n"] == 6
    assert ("audiolime", "randomization_divergence.layers5") in table.index
    summary = [r for r in result.group_rows if r.explainer == "audiolime"]
    assert 0 <= summary[0].metrics["randomization_divergence.js"] <= 1
    defined = [r for r in result.records if r.explainer == "audiolime" and len(r.components) >= 3]
    assert defined and all(len(r.metric_data["_top1"]["randomized"]) == 2 for r in defined)
    two_sources = [r for r in result.records if r.explainer == "audiolime" and len(r.components) == 2]
    assert all("2 components" in r.metric_notes["randomization_divergence"] for r in two_sources)
