"""The statistics the leaderboard reports, as pure functions of arrays: intervals, ranks over paired
instances, the Friedman test, post-hoc tests with multiplicity control, and groups of explainers no test
separates (tables and pages only format what these return).

Many methods compared on many instances are compared as Demšar (JMLR 2006) taught: explainers are
ranked within each instance (a *block*), the Friedman test asks whether their mean ranks differ at all, and
a post-hoc test asks which pairs do: the Nemenyi test (a critical difference of mean ranks, Demšar
Sec. 3.2.2) where every explainer has every instance, and the paired Wilcoxon signed-rank test with Holm's
correction where they do not (Benavoli, Corani, Mangili, JMLR 2016, argue for it in any case). Explainers
that no test separates share a group letter.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

N_RESAMPLES = 2000
# Means closer than this share a rank: differences of float round-off (1 - 3e-9 vs 1 - 1e-8) are no ranking.
RANK_ATOL, RANK_RTOL = 1e-9, 1e-6
SIGNIFICANCE = 0.05  # family-wise level of every test the leaderboard reports
CONFIDENCE = 0.95


# -- intervals ----------------------------------------------------------------------------------------
def is_rate(values: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (a success per instance, whose mean is a rate)."""
    values = np.asarray(values, dtype=np.float64)
    return len(values) > 0 and bool(np.all((values == 0) | (values == 1)))


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a binomial rate (Wilson 1927): unlike a bootstrap of 0/1 values, it
    does not collapse to a point at 0 or 1 (10 of 10: [0.72, 1])."""
    if n == 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + confidence / 2)
    rate = successes / n
    centre = (rate + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n))
    low, high = max(0.0, centre - half), min(1.0, centre + half)
    # at 0 or n successes the bound is 0 or 1 exactly (centre -/+ half differ from it by round-off only)
    return (0.0 if successes == 0 else low, 1.0 if successes == n else high)


def bca_interval(values: np.ndarray, seed: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The bias-corrected and accelerated bootstrap interval of the mean (``scipy.stats.bootstrap``,
    ``method="BCa"``), deterministic from ``seed``. Constant values give their value (no spread to
    resample); a single value gives no interval."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) < 2:
        return (np.nan, np.nan)
    if np.all(values == values[0]):
        return (float(values[0]), float(values[0]))
    with warnings.catch_warnings():  # degenerate samples (a few distinct values): handled below
        warnings.simplefilter("ignore")
        result = _bca(values, seed, confidence)
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if not (np.isfinite(low) and np.isfinite(high)):  # BCa's acceleration is undefined on a few ties
        low, high = (float(v) for v in np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2]))
    return (low, high)


def _bca(values: np.ndarray, seed: int, confidence: float):
    return stats.bootstrap(
        (values,),
        np.mean,
        confidence_level=confidence,
        n_resamples=N_RESAMPLES,
        method="BCa",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )


@dataclass(frozen=True)
class Interval:
    """A mean's interval and how it was made (``wilson`` for rates, ``bca`` for other means, ``none``)."""

    low: float
    high: float
    method: str


def mean_interval(values: np.ndarray, seed: int, confidence: float = CONFIDENCE) -> Interval:
    """The interval of the mean of per-instance values: Wilson's for a rate (0/1 values), else BCa."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return Interval(np.nan, np.nan, "none")
    if is_rate(values):
        return Interval(*wilson_interval(int(values.sum()), len(values), confidence), "wilson")
    low, high = bca_interval(values, seed, confidence)
    return Interval(low, high, "bca" if np.isfinite(low) else "none")


# -- ranks within instances -----------------------------------------------------------------------------
def tolerant_ranks(means: pd.Series, higher_is_better: bool) -> pd.Series:
    """Ranks 1, 2, ... of ``means`` (best first) where means within ``RANK_ATOL + RANK_RTOL * |mean|``
    of the previous one share its rank; NaN means get no rank."""
    order = means.dropna().sort_values(ascending=not higher_is_better, kind="stable")
    ranks = pd.Series(np.nan, index=means.index)
    previous, rank = None, 0
    for position, (index, value) in enumerate(order.items(), start=1):
        if previous is None or abs(value - previous) > RANK_ATOL + RANK_RTOL * max(abs(value), abs(previous)):
            rank = position
        ranks[index] = rank
        previous = value
    return ranks


def block_ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Ranks within each block (row) of ``values`` ``(n_blocks, k)``, 1 = best, ties sharing their mean
    rank (values within float round-off are ties); NaN stays NaN and the others rank among themselves."""
    values = np.asarray(values, dtype=np.float64)
    signed = values if not higher_is_better else -values
    ranks = np.full(values.shape, np.nan)
    for row, block in enumerate(signed):
        present = ~np.isnan(block)
        if not present.any():
            continue
        kept = block[present]
        rounded = _round_off(kept)
        ranks[row, present] = stats.rankdata(rounded)
    return ranks


def _round_off(values: np.ndarray) -> np.ndarray:
    """``values`` with those within float round-off of a smaller one set to it (ties for ranking)."""
    order = np.argsort(values, kind="stable")
    out = values.astype(np.float64).copy()
    for previous, current in itertools.pairwise(order):
        a, b = out[previous], values[current]
        if abs(b - a) <= RANK_ATOL + RANK_RTOL * max(abs(a), abs(b)):
            out[current] = a
    return out


def normalised_block_ranks(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Block ranks scaled to [0, 1] per block (0 = best, 1 = worst) among the explainers present in it,
    so blocks with different numbers of explainers weigh alike (NaN where absent or alone)."""
    ranks = block_ranks(values, higher_is_better)
    present = np.sum(~np.isnan(ranks), axis=1, keepdims=True).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = (ranks - 1.0) / (present - 1.0)
    scaled[np.broadcast_to(present, ranks.shape) < 2] = np.nan
    return scaled


def mean_rank_interval(ranks: np.ndarray, seed: int, confidence: float = CONFIDENCE) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of each column's mean rank, blocks resampled with replacement
    (deterministic from ``seed``); NaN entries are left out of each mean."""
    ranks = np.asarray(ranks, dtype=np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(ranks), size=(N_RESAMPLES, len(ranks)))
    with warnings.catch_warnings():  # a column absent from a resample: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(ranks[picks], axis=1)  # (N_RESAMPLES, k)
    low, high = np.nanquantile(means, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    return low, high


# -- the Friedman test and its post-hoc tests ----------------------------------------------------------
@dataclass(frozen=True)
class Friedman:
    """The Friedman test over blocks (Demšar 2006, Sec. 3.2.2).

    Attributes
    ----------
    statistic : float
        Friedman's chi-square (scipy's, with its correction for ties).
    p_value : float
    iman_davenport : float
        Iman and Davenport's F, less conservative than the chi-square (Demšar's F_F).
    mean_ranks : np.ndarray [shape=(k,)]
    n_blocks : int
    """

    statistic: float
    p_value: float
    iman_davenport: float
    mean_ranks: np.ndarray
    n_blocks: int


def friedman(values: np.ndarray, higher_is_better: bool) -> Friedman | None:
    """The Friedman test of ``values`` ``(n_blocks, k)`` with every value present; None with fewer than
    2 blocks or 3 explainers (then a paired test compares two)."""
    values = np.asarray(values, dtype=np.float64)
    n, k = values.shape
    if n < 2 or k < 3:
        return None
    ranks = block_ranks(values, higher_is_better)
    tied = np.all(ranks == ranks[:, :1], axis=1)
    if np.all(tied):  # every block a tie: no evidence of any difference
        return Friedman(0.0, 1.0, 0.0, ranks.mean(axis=0), n)
    result = stats.friedmanchisquare(*(-ranks).T)
    chi2 = float(result.statistic)
    f = (n - 1) * chi2 / (n * (k - 1) - chi2) if n * (k - 1) > chi2 else np.inf
    return Friedman(chi2, float(result.pvalue), float(f), ranks.mean(axis=0), n)


def friedman_from_mean_ranks(mean_ranks: Sequence[float], n_blocks: int) -> tuple[float, float]:
    """Friedman's chi-square and Iman-Davenport's F from mean ranks (Demšar 2006, Eq. for chi2_F and F_F;
    without a correction for ties)."""
    r = np.asarray(mean_ranks, dtype=np.float64)
    k, n = len(r), n_blocks
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(r * r) - k * (k + 1) ** 2 / 4)
    return float(chi2), float((n - 1) * chi2 / (n * (k - 1) - chi2))


def nemenyi_critical_difference(k: int, n_blocks: int, alpha: float = SIGNIFICANCE) -> float:
    """The Nemenyi test's critical difference of mean ranks, q_alpha * sqrt(k (k + 1) / (6 N)), with
    q_alpha the studentized range's quantile divided by sqrt(2) (Demšar 2006, Sec. 3.2.2)."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n_blocks)))


EXACT_SIGN_FLIPS = 13  # below this many differences with ties or zeros, the exact sign-flip distribution


def paired_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired values, zero differences split between the signs
    (scipy's ``zero_method="zsplit"``); differences within float round-off count as zero (1.0 when all are).

    As scipy's ``method="auto"``: the exact null distribution without ties or zeros up to 50 pairs, the
    normal approximation above, and with ties or zeros the exact distribution of every sign flip up to 13
    pairs (:func:`sign_flip_p`, which computes what scipy's permutation test enumerates, in milliseconds).
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    differences = a - b
    differences[np.abs(differences) <= RANK_ATOL + RANK_RTOL * np.maximum(np.abs(a), np.abs(b))] = 0.0
    if not np.any(differences):
        return 1.0
    magnitudes = np.abs(differences)
    ties_or_zeros = np.any(differences == 0) or len(np.unique(magnitudes)) < len(magnitudes)
    if ties_or_zeros and len(differences) <= EXACT_SIGN_FLIPS:
        return sign_flip_p(differences)
    return float(stats.wilcoxon(differences, zero_method="zsplit").pvalue)


def sign_flip_p(differences: np.ndarray) -> float:
    """Exact two-sided p-value of the signed-rank statistic (ranks of |d|, ties averaged, zeros' ranks
    split between the signs) over all 2^n sign flips of the non-zero differences, by convolution."""
    differences = np.asarray(differences, dtype=np.float64)
    ranks = stats.rankdata(np.abs(differences))
    doubled = np.rint(2 * ranks[differences != 0]).astype(np.int64)  # average ranks are multiples of 1/2
    observed = int(doubled[differences[differences != 0] > 0].sum())
    counts = np.zeros(int(doubled.sum()) + 1)
    counts[0] = 1.0
    for q in doubled:
        counts[q:] = counts[q:] + counts[: len(counts) - q].copy()
    total = counts.sum()
    below, above = counts[: observed + 1].sum() / total, counts[observed:].sum() / total
    return float(min(1.0, 2 * min(below, above)))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (monotone, capped at 1)."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()


def pairwise_wilcoxon_holm(values: np.ndarray, min_pairs: int = 2) -> np.ndarray:
    """Holm-adjusted two-sided Wilcoxon p-values of every pair of columns of ``values`` ``(n, k)``, each
    pair on the rows where both are present; a pair with fewer than ``min_pairs`` such rows gets p = 1
    (no evidence). Returns a symmetric ``(k, k)`` matrix (1 on the diagonal)."""
    values = np.asarray(values, dtype=np.float64)
    k = values.shape[1]
    pairs, raw = [], []
    for i in range(k):
        for j in range(i + 1, k):
            both = ~np.isnan(values[:, i]) & ~np.isnan(values[:, j])
            pairs.append((i, j))
            raw.append(paired_p(values[both, i], values[both, j]) if both.sum() >= min_pairs else 1.0)
    p = np.ones((k, k))
    for (i, j), adjusted in zip(pairs, holm(raw) if raw else []):
        p[i, j] = p[j, i] = adjusted
    return p


def nemenyi_different(mean_ranks: np.ndarray, critical_difference: float) -> np.ndarray:
    """``(k, k)`` booleans: which pairs' mean ranks differ by more than the critical difference."""
    r = np.asarray(mean_ranks, dtype=np.float64)
    return np.abs(r[:, None] - r[None, :]) > critical_difference


# -- groups ---------------------------------------------------------------------------------------
def letter_groups(scores: np.ndarray, different: np.ndarray) -> list[str]:
    """A compact letter display: each explainer gets the letters of the groups it belongs to, a group
    being a maximal set of explainers no two of which a test separates; ``a`` is the group of the best
    (lowest ``scores``, e.g. mean ranks). Explainers sharing a letter are not significantly different.

    Groups are the maximal cliques of the "not separated" relation (Bron-Kerbosch), ordered by their best
    member's score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    k = len(scores)
    together = ~np.asarray(different, dtype=bool)
    np.fill_diagonal(together, True)
    cliques: list[frozenset[int]] = []

    def expand(r: set[int], p: set[int], x: set[int]) -> None:
        if not p and not x:
            cliques.append(frozenset(r))
            return
        pivot = max(p | x, key=lambda v: len(p & _neighbours(v)))
        for v in sorted(p - _neighbours(pivot)):
            expand(r | {v}, p & _neighbours(v), x & _neighbours(v))
            p = p - {v}
            x = x | {v}

    def _neighbours(v: int) -> set[int]:
        return {u for u in range(k) if u != v and together[v, u]}

    expand(set(), set(range(k)), set())
    cliques.sort(key=lambda c: (min(scores[i] for i in c), sorted(c)))
    letters = [""] * k
    for index, clique in enumerate(cliques):
        letter = _letter(index)
        for member in clique:
            letters[member] += letter
    return letters


def _letter(index: int) -> str:
    """a, b, ..., z, aa, ab, ... (more groups than letters are possible with many explainers)."""
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    return alphabet[index] if index < 26 else _letter(index // 26 - 1) + alphabet[index % 26]


def pareto_front(quality: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Booleans: the points no other point beats on both (lower quality value and lower cost are better)."""
    quality, cost = np.asarray(quality, np.float64), np.asarray(cost, np.float64)
    front = np.ones(len(quality), dtype=bool)
    for i in range(len(quality)):
        dominated = (quality <= quality[i]) & (cost <= cost[i]) & ((quality < quality[i]) | (cost < cost[i]))
        front[i] = not np.any(dominated)
    return front
