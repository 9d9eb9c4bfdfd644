"""The power analysis on cases with known answers: resampled Friedman p-values equal scipy's, the
analytic size is where Nemenyi's critical difference reaches the difference, a planted order is always
found, and power grows with the number of instances."""

import numpy as np
import pytest
from scipy import stats

from audiox_bench.core.records import Record
from audiox_bench.results.power import (
    friedman_resampled,
    instances_for_difference,
    nemenyi_power,
    power_table,
)
from audiox_bench.results.statistics import block_ranks, nemenyi_critical_difference


def test_resampled_friedman_equals_scipy_with_ties():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 3, size=(15, 4)).astype(float)  # many ties within blocks
    ranks = block_ranks(values, higher_is_better=True)
    picks = rng.integers(0, 15, size=(5, 15))
    means, p = friedman_resampled(ranks, picks)
    for row, pick in enumerate(picks):
        reference = stats.friedmanchisquare(*(-values[pick]).T)
        assert p[row] == pytest.approx(reference.pvalue, rel=1e-9)
        np.testing.assert_allclose(means[row], ranks[pick].mean(axis=0))


@pytest.mark.parametrize(("k", "difference"), [(4, 1.25), (21, 1.0), (8, 0.5)])
def test_the_analytic_size_is_where_the_critical_difference_reaches_the_difference(k, difference):
    n = instances_for_difference(k, difference)
    assert nemenyi_critical_difference(k, n) <= difference < nemenyi_critical_difference(k, n - 1)
    assert nemenyi_critical_difference(4, 14) == pytest.approx(1.2536, abs=1e-4)  # Demšar rounds it to 1.25


def test_a_planted_order_is_always_found_and_power_grows_with_instances():
    constant = np.tile([1.0, 2.0, 3.0], (20, 1))
    assert nemenyi_power(constant, [20], resamples=50) == {20: 1.0}  # CD(3, 20) = 0.74 < 1
    rng = np.random.default_rng(1)
    noisy = block_ranks(rng.normal(size=(30, 5)) + np.array([0.0, 0.0, 0.8, 0.8, 1.6]), higher_is_better=False)
    power = nemenyi_power(noisy, [10, 30, 120, 480], resamples=200)
    values = list(power.values())
    assert values == sorted(values) and values[0] < 0.5 and values[-1] > 0.95
    exchangeable = block_ranks(rng.normal(size=(40, 4)), higher_is_better=True)
    assert np.isnan(nemenyi_power(exchangeable, [40], difference=2.0)[40])  # no pair that far apart


def test_power_table_of_records():
    rng = np.random.default_rng(2)
    records = [
        Record("t", name, str(i), 0, metrics={"m": float(shift + rng.normal())})
        for i in range(12)
        for name, shift in (("a", 0.0), ("b", 1.0), ("c", 2.0), ("d", 3.0))
    ]
    (row,) = power_table(records, {})
    assert (row.task, row.score, row.k, row.n_blocks) == ("t", "m", 4, 12)
    assert row.n_for_difference == instances_for_difference(4) and list(row.power) == [12, 24, 48, 96]
