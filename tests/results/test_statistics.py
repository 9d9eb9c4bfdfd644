"""The leaderboard's statistics on cases with known answers: Demšar's (2006) worked example, scipy's
Friedman test, Wilson intervals, a planted difference found and a planted tie not."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from audiox_bench.results.statistics import (
    block_ranks,
    friedman,
    friedman_from_mean_ranks,
    holm,
    letter_groups,
    mean_interval,
    mean_rank_interval,
    nemenyi_critical_difference,
    nemenyi_different,
    normalised_block_ranks,
    pairwise_wilcoxon_holm,
    pareto_front,
    tolerant_ranks,
    wilson_interval,
)

# Demšar (JMLR 2006), Sec. 3.2.4, Table 6: four variants of C4.5 on 14 data sets, their mean ranks.
DEMSAR_MEAN_RANKS = (3.143, 2.000, 2.893, 1.964)


def test_demsars_worked_example():
    chi2, f = friedman_from_mean_ranks(DEMSAR_MEAN_RANKS, 14)
    assert chi2 == pytest.approx(9.28, abs=0.01) and f == pytest.approx(3.69, abs=0.01)
    assert nemenyi_critical_difference(4, 14) == pytest.approx(1.25, abs=0.005)  # q_0.05 = 2.569
    different = nemenyi_different(np.array(DEMSAR_MEAN_RANKS), nemenyi_critical_difference(4, 14))
    # "C4.5+m+cf is significantly better than C4.5 (3.143 - 1.964 = 1.179 < 1.25 is not)": Demšar finds
    # no pair different at 0.05 with Nemenyi; the groups are one.
    assert not different.any() and letter_groups(np.array(DEMSAR_MEAN_RANKS), different) == ["a"] * 4


def test_friedman_equals_scipy_and_finds_a_planted_difference():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(30, 4)) + np.array([0.0, 0.0, 1.5, 0.0])  # the third is better
    ours = friedman(values, higher_is_better=True)
    theirs = stats.friedmanchisquare(*values.T)
    assert ours.statistic == pytest.approx(theirs.statistic) and ours.p_value == pytest.approx(theirs.pvalue)
    assert ours.p_value < 0.01 and np.argmin(ours.mean_ranks) == 2
    exact_tie = np.repeat(rng.normal(size=(30, 1)), 4, axis=1)
    assert friedman(exact_tie, higher_is_better=True).p_value == 1.0
    # Under a planted tie (exchangeable explainers) the test rejects at its level: about 5% of 400 runs.
    rejected = np.mean([friedman(rng.normal(size=(30, 4)), True).p_value < 0.05 for _ in range(400)])
    assert 0.02 <= rejected <= 0.09


def test_block_ranks_share_float_ties_and_skip_missing():
    ranks = block_ranks(np.array([[1.0, 1.0 + 1e-12, 0.5, np.nan]]), higher_is_better=True)
    np.testing.assert_allclose(ranks[0, :3], [1.5, 1.5, 3.0])
    assert np.isnan(ranks[0, 3])
    scaled = normalised_block_ranks(np.array([[3.0, 2.0, 1.0], [1.0, np.nan, np.nan]]), higher_is_better=True)
    np.testing.assert_allclose(scaled[0], [0.0, 0.5, 1.0])
    assert np.isnan(scaled[1]).all()  # one explainer alone ranks against nobody


def test_wilson_interval_equals_the_reference_and_does_not_collapse():
    for successes, n in ((10, 10), (0, 10), (7, 20), (1, 3)):
        reference = stats.binomtest(successes, n).proportion_ci(0.95, method="wilson")
        assert wilson_interval(successes, n) == pytest.approx((reference.low, reference.high), abs=1e-12)
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == pytest.approx(1.0)  # not the zero-width [1, 1]
    assert mean_interval(np.ones(10), 0).method == "wilson"
    interval = mean_interval(np.array([0.2, 0.5, 0.9, 0.4]), 0)
    assert interval.method == "bca" and interval.low < 0.5 < interval.high


def test_pairwise_wilcoxon_holm_finds_a_planted_difference_and_not_a_planted_tie():
    rng = np.random.default_rng(1)
    base = rng.normal(size=40)
    values = np.column_stack([base + 1.0, base + rng.normal(0, 0.01, 40), base + rng.normal(0, 0.01, 40)])
    p = pairwise_wilcoxon_holm(values)
    assert p[0, 1] < 0.01 and p[0, 2] < 0.01 and p[1, 2] > 0.05
    raw = stats.wilcoxon(values[:, 0] - values[:, 1], zero_method="zsplit").pvalue
    assert p[0, 1] == pytest.approx(min(1.0, 3 * raw)) or p[0, 1] >= raw  # Holm adjusts upwards
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])


def test_letter_groups_are_maximal_sets_no_test_separates():
    # a ~ b, b ~ c, a differs from c: two groups, b in both.
    different = np.array([[False, False, True], [False, False, False], [True, False, False]])
    assert letter_groups(np.array([1.0, 2.0, 3.0]), different) == ["a", "ab", "b"]


def test_mean_rank_interval_contains_the_mean_and_is_deterministic():
    ranks = block_ranks(np.random.default_rng(2).normal(size=(25, 3)), higher_is_better=True)
    low, high = mean_rank_interval(ranks, seed=4)
    means = ranks.mean(axis=0)
    assert np.all(low <= means) and np.all(means <= high)
    again = mean_rank_interval(ranks, seed=4)
    np.testing.assert_array_equal(low, again[0])


def test_pareto_front():
    quality = np.array([0.1, 0.2, 0.3, 0.15])
    cost = np.array([100.0, 10.0, 1.0, 200.0])
    assert pareto_front(quality, cost).tolist() == [True, True, True, False]


def test_the_exact_sign_flip_p_value_equals_scipys_permutation_test_with_ties_and_zeros():
    from audiox_bench.results.statistics import sign_flip_p

    rng = np.random.default_rng(5)
    worst = 0.0
    for _ in range(30):
        n = int(rng.integers(4, 14))
        differences = rng.integers(-3, 4, size=n).astype(float) / 2  # ties and zeros
        if not np.any(differences):
            continue
        reference = stats.wilcoxon(differences, zero_method="zsplit").pvalue  # scipy enumerates 2^n flips
        worst = max(worst, abs(sign_flip_p(differences) - reference))
    assert worst < 1e-12


def test_tolerant_ranks_share_a_rank_within_float_round_off():
    means = pd.Series([0.99999999721, 0.99999998775, 0.5, np.nan])
    assert tolerant_ranks(means, True).tolist()[:3] == [1, 1, 3] and np.isnan(tolerant_ranks(means, True)[3])
    assert tolerant_ranks(means, False).tolist()[:3] == [2, 2, 1]
