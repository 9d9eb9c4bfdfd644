"""The statistics the leaderboard reports, as pure functions of arrays: intervals, ranks, paired tests and
multiplicity control (tables and pages only format what these return)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

N_RESAMPLES = 2000
# Means closer than this share a rank: differences of float round-off (1 - 3e-9 vs 1 - 1e-8) are no ranking.
RANK_ATOL, RANK_RTOL = 1e-9, 1e-6
SIGNIFICANCE = 0.05  # family-wise level of the comparisons with the best explainer (Holm)


def bootstrap_ci(values: np.ndarray, seed: int, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (``scipy.stats.bootstrap``), deterministic from ``seed``.

    A single value or constant values give a zero-width interval at the mean.
    """
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0:
        return (np.nan, np.nan)
    if len(values) == 1 or np.all(values == values[0]):
        return (float(values[0]), float(values[0])) if len(values) == 1 else (float(values.mean()),) * 2
    result = stats.bootstrap(
        (values,),
        np.mean,
        confidence_level=confidence,
        n_resamples=N_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(seed),
        vectorized=True,
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


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


def paired_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired values (scipy; zero differences split between the
    signs); differences within the rank tolerance count as zero (1.0 when all are)."""
    differences = np.asarray(a, np.float64) - np.asarray(b, np.float64)
    differences[np.abs(differences) <= RANK_ATOL + RANK_RTOL * np.maximum(np.abs(a), np.abs(b))] = 0.0
    if not np.any(differences):
        return 1.0
    return float(stats.wilcoxon(differences, zero_method="zsplit").pvalue)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (monotone, capped at 1)."""
    order = np.argsort(p_values)
    adjusted = np.empty(len(p_values))
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted.tolist()
