import numpy as np
import pytest
from sklearn.linear_model import Ridge
from sklearn.metrics import pairwise_distances

from audiox_bench.perturbation.masks import all_masks, distinct_masks, sample_masks
from audiox_bench.perturbation.surrogate import (
    distances_to_original,
    exponential_kernel,
    fit_surrogate,
)


def test_exhaustive_enumeration_is_complete_and_starts_with_the_input():
    masks = all_masks(5)
    assert masks.shape == (32, 5) and masks.dtype == bool
    assert masks[0].all() and not masks[-1].any()
    assert len({row.tobytes() for row in masks}) == 32


def test_sampled_masks_keep_the_input_first():
    masks = sample_masks(10, 100, np.random.default_rng(0))
    assert masks[0].all() and masks.shape == (100, 10)


def test_distinct_masks_round_trip():
    masks = sample_masks(4, 500, np.random.default_rng(1))
    distinct = distinct_masks(masks)
    assert len(distinct.masks) <= 16 and distinct.counts.sum() == 500
    np.testing.assert_array_equal(distinct.masks[distinct.inverse], masks)
    np.testing.assert_array_equal(distinct.masks[0], masks[0])


def test_cosine_distance_and_kernel():
    masks = np.array([[1, 1], [1, 0], [0, 0]], bool)
    d = distances_to_original(masks, "cosine")
    np.testing.assert_allclose(d, [0.0, 1 - 1 / np.sqrt(2), 1.0], atol=1e-12)
    np.testing.assert_allclose(exponential_kernel(d, 0.25), np.sqrt(np.exp(-(d**2) / 0.0625)))


def test_dedup_fit_equals_naive_fit_with_duplicates():
    rng = np.random.default_rng(2)
    masks = sample_masks(10, 5000, rng)
    true_weights = rng.normal(size=10)
    scores_of = lambda m: 1 / (1 + np.exp(-(m.astype(float) @ true_weights)))
    kernel = exponential_kernel(distances_to_original(masks), 0.25)
    naive = fit_surrogate(masks, scores_of(masks), kernel)
    distinct = distinct_masks(masks)
    dedup_kernel = exponential_kernel(distances_to_original(distinct.masks), 0.25)
    dedup = fit_surrogate(distinct.masks, scores_of(distinct.masks), dedup_kernel * distinct.counts)
    assert len(distinct.masks) < len(masks)
    np.testing.assert_allclose(dedup.weights, naive.weights, atol=1e-8)
    assert abs(dedup.intercept - naive.intercept) < 1e-8
    assert abs(dedup.r2 - naive.r2) < 1e-8


@pytest.mark.parametrize(
    "n_components, n_samples, alpha", [(3, 8, 1.0), (20, 2048, 1.0), (10, 300, 0.01), (40, 70, 5.0)]
)
def test_surrogate_is_scikit_learns_weighted_ridge(n_components, n_samples, alpha):
    rng = np.random.default_rng(n_components)
    masks = sample_masks(n_components, n_samples, rng)
    scores = 1 / (1 + np.exp(-(masks.astype(float) @ rng.normal(size=n_components)))) + 0.05 * rng.normal(
        size=n_samples
    )
    weights = exponential_kernel(distances_to_original(masks), 0.25) * rng.integers(1, 4, n_samples)
    fit = fit_surrogate(masks, scores, weights, alpha)
    reference = Ridge(alpha=alpha).fit(masks.astype(float), scores, sample_weight=weights)
    np.testing.assert_allclose(fit.weights, reference.coef_, rtol=1e-7, atol=1e-10)
    assert fit.intercept == pytest.approx(reference.intercept_, rel=1e-9, abs=1e-12)
    assert fit.r2 == pytest.approx(reference.score(masks.astype(float), scores, sample_weight=weights), abs=1e-9)


@pytest.mark.parametrize("metric", ["cosine", "l2"])
def test_distances_are_scikit_learns(metric):
    masks = sample_masks(7, 200, np.random.default_rng(3))
    masks[5] = False  # the all-off mask: cosine distance 1
    reference = pairwise_distances(
        masks.astype(float), np.ones((1, 7)), metric="euclidean" if metric == "l2" else "cosine"
    )
    np.testing.assert_allclose(distances_to_original(masks, metric), reference.ravel(), atol=1e-12)
