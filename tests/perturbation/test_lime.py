"""The LIME procedure: enumerated masks carry their expected count under the reference's 1,000 draws,
so the enumerated fit is the limit of the sampled one."""

import numpy as np
import pytest

from audiox_bench.perturbation.lime import REFERENCE_N_SAMPLES, LimeSettings, expected_counts
from audiox_bench.perturbation.masks import all_masks, distinct_masks, sample_masks
from audiox_bench.perturbation.surrogate import distances_to_original, exponential_kernel, fit_surrogate


def test_enumerated_masks_carry_their_expected_count_under_the_reference_draws():
    settings = LimeSettings()
    neighbourhood = settings.neighbourhood(4, seed=0)
    kernel = exponential_kernel(distances_to_original(all_masks(4)), 0.25)
    np.testing.assert_allclose(neighbourhood.weights, kernel * expected_counts(all_masks(4), REFERENCE_N_SAMPLES))
    assert neighbourhood.n_masks == REFERENCE_N_SAMPLES and len(neighbourhood.masks) == 16
    counts = expected_counts(all_masks(4), 1000)
    assert counts.sum() == pytest.approx(1000) and counts[0] == pytest.approx(1 + 999 / 16)


@pytest.mark.parametrize("d", [3, 4, 6])
def test_the_enumerated_fit_is_the_limit_of_the_sampled_fit(d):
    """Weighting every mask by its expected count under N draws gives the fit of N sampled masks up to
    sampling noise, which vanishes as N grows; unit weights (the old enumeration) do not."""
    rng = np.random.default_rng(d)
    true_weights = rng.normal(size=d)

    def model(masks):  # a non-linear score with an interaction, like a classifier's
        return 1 / (1 + np.exp(-(masks @ true_weights + 0.8 * masks[:, 0] * masks[:, 1])))

    n_draws = 200_000
    sampled = distinct_masks(sample_masks(d, n_draws, np.random.default_rng(0)))
    kernel = lambda masks: exponential_kernel(distances_to_original(masks), 0.25)
    reference = fit_surrogate(sampled.masks, model(sampled.masks), kernel(sampled.masks) * sampled.counts)
    masks = all_masks(d)
    enumerated = fit_surrogate(masks, model(masks), kernel(masks) * expected_counts(masks, n_draws))
    unit = fit_surrogate(masks, model(masks), kernel(masks))
    np.testing.assert_allclose(enumerated.weights, reference.weights, rtol=0.02, atol=2e-3)
    assert enumerated.r2 == pytest.approx(reference.r2, abs=0.01)
    unit_error = np.abs(unit.weights - reference.weights).max()  # over-regularised, smaller weights
    assert np.linalg.norm(unit.weights) < np.linalg.norm(reference.weights)
    assert unit_error > 5 * np.abs(enumerated.weights - reference.weights).max()
