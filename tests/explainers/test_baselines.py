"""Baselines (random, occlusion, Kernel SHAP, gradient), faithfulness, surrogate fidelity and parameter
randomization, on the tiny confound model (real data, real network)."""

import numpy as np
import pytest
from scipy.special import comb

from audiox_bench.core.registry import explainers
from audiox_bench.explainers.baselines import exact_shapley, kernel_shap_fit, kernel_shap_masks
from audiox_bench.factorizations.segmentation import SegmentationFactorization
from audiox_bench.metrics.topk import topk_overlap
from audiox_bench.perturbation.masks import all_masks


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
