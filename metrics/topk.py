"""Top-k overlap with the ground truth (N_ce in Mishra et al. 2020; "% drums most important" in audioLIME)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from audiox_bench.contracts import Metric, MetricInput
from audiox_bench.registry import metrics


def top_positive(names: Sequence[str], weights: np.ndarray, k: int) -> list[str]:
    """The ``k`` components with the largest positive weights, best first (ties: component order)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(names),):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(names)},)")
    order = np.argsort(-weights, kind="stable")
    return [names[i] for i in order[:k] if weights[i] > 0]


def topk_overlap(names: Sequence[str], weights: np.ndarray, truth: Collection[str], k: int | None = None) -> int:
    """N_ce: how many of the top-``k`` positive components are in ``truth``.

    Parameters
    ----------
    names : sequence of str
        Component names.
    weights : np.ndarray [shape=(len(names),)]
        Explanation weights.
    truth : collection of str
        Ground-truth component names.
    k : int, optional
        Defaults to ``len(truth)``.
    """
    k = len(truth) if k is None else k
    if k < 1:
        raise ValueError("k must be at least 1 (the ground truth is empty)")
    return len(set(top_positive(names, weights, k)) & set(truth))


@metrics.register("topk_overlap")
class TopKOverlap(Metric):
    """N_ce / k: share of the top-k positive components that are ground truth (k = |truth|).

    Reports ``topk_overlap`` (N_ce / k) and ``topk_overlap.n_ce`` (N_ce); instances without ground
    truth are skipped (None), not scored as 0.

    Parameters
    ----------
    k : int, optional
        Fixed k; by default the size of the ground truth.
    """

    name = "topk_overlap"
    higher_is_better = True
    description = "share of the top-k positive components that are ground truth (k = |truth|)"

    def __init__(self, k: int | None = None) -> None:
        if k is not None and k < 1:
            raise ValueError("k must be at least 1")
        self.k = k

    def score(self, item: MetricInput) -> dict[str, float | None]:
        truth = item.ground_truth
        if truth is None or len(truth) == 0:
            return {self.name: None, f"{self.name}.n_ce": None}
        k = self.k or len(truth)
        n_ce = topk_overlap(item.explanation.components, item.explanation.weights, truth.components, k)
        return {self.name: n_ce / min(k, len(truth)), f"{self.name}.n_ce": float(n_ce)}
