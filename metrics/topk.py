"""Top-k overlap with the ground truth (N_ce in Mishra et al. 2020; "% drums most important" in audioLIME)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np

from audiox_bench.core.contracts import Metric, MetricInput
from audiox_bench.core.registry import metrics


def top_positive(names: Sequence[str], weights: np.ndarray, k: int) -> list[str]:
    """The ``k`` components with the largest positive weights, best first (ties: component order)."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(names),):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(names)},)")
    order = np.argsort(-weights, kind="stable")
    return [names[i] for i in order[:k] if weights[i] > 0]


def top_k(names: Sequence[str], weights: np.ndarray, k: int) -> list[str]:
    """The ``k`` components with the largest weights whatever their sign, best first (ties: component
    order). Rankings (stability, agreement between explanations) use this; overlap with the truth uses
    :func:`top_positive`."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (len(names),):
        raise ValueError(f"weights have shape {weights.shape}, expected ({len(names)},)")
    return [names[i] for i in np.argsort(-weights, kind="stable")[:k]]


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

    Reports ``topk_overlap`` (N_ce / k), ``topk_overlap.n_ce`` (N_ce), and the rates of Mishra et al.
    (2020) as 0/1 per instance (their means are the rates): ``topk_overlap.all`` (N_ce = k) and
    ``topk_overlap.all_but_one`` (N_ce >= k - 1), with k capped at the size of the truth. Instances
    without ground truth are skipped (None), not scored as 0.

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
            return dict.fromkeys(self.value_names())
        k = self.k or len(truth)
        n_ce = topk_overlap(item.explanation.components, item.explanation.weights, truth.components, k)
        best = min(k, len(truth))  # the largest N_ce possible
        return {self.name: n_ce / best, f"{self.name}.n_ce": float(n_ce), f"{self.name}.all": float(n_ce == best),
                f"{self.name}.all_but_one": float(n_ce >= best - 1)}

    def value_names(self) -> list[str]:
        return [self.name, *(f"{self.name}.{v}" for v in ("n_ce", "all", "all_but_one"))]
