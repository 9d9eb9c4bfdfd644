"""LIME's local linear surrogate: kernel-weighted ridge regression on binary masks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import pairwise_distances

DISTANCES = ("cosine", "l2")


def distances_to_original(masks: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Distance of each mask to the all-ones mask (the unperturbed input).

    ``cosine`` is LIME's default (the all-zeros mask gets distance 1); ``l2`` is Euclidean, as the
    reference SLIME code used.
    """
    if metric not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {metric!r}")
    masks = np.asarray(masks, dtype=np.float64)
    ones = np.ones((1, masks.shape[1]))
    return pairwise_distances(masks, ones, metric="euclidean" if metric == "l2" else "cosine").ravel()


def exponential_kernel(distances: np.ndarray, width: float) -> np.ndarray:
    """LIME's kernel ``sqrt(exp(-d**2 / width**2))``."""
    return np.sqrt(np.exp(-(np.asarray(distances) ** 2) / width**2))


@dataclass(frozen=True)
class SurrogateFit:
    """A fitted local linear model.

    Attributes
    ----------
    weights : np.ndarray [shape=(n_components,)]
    intercept : float
    r2 : float
        Weighted coefficient of determination on the neighbourhood (LIME's ``score``).
    correlation : float
        Weighted Pearson correlation between surrogate and model predictions on the neighbourhood.
    """

    weights: np.ndarray
    intercept: float
    r2: float
    correlation: float


def fit_surrogate(masks: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray, alpha: float = 1.0) -> SurrogateFit:
    """Fit ``Ridge(alpha)`` to ``targets`` from ``masks`` with ``sample_weight``.

    Evaluating distinct masks once and passing their multiplicity as a factor of ``sample_weight``
    gives exactly the fit of the duplicated data (the weighted loss is a sum over rows).

    Parameters
    ----------
    masks : np.ndarray [shape=(n, n_components), dtype=bool]
    targets : np.ndarray [shape=(n,)]
        Model score of the target class for each mask.
    sample_weight : np.ndarray [shape=(n,)]
        Kernel weight times multiplicity.
    alpha : float
        Ridge regularisation.
    """
    x = np.asarray(masks, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    w = np.asarray(sample_weight, dtype=np.float64)
    model = Ridge(alpha=alpha, fit_intercept=True)
    model.fit(x, y, sample_weight=w)
    predicted = model.predict(x)
    r2 = float(model.score(x, y, sample_weight=w)) if len(y) > 1 else float("nan")
    return SurrogateFit(model.coef_.copy(), float(model.intercept_), r2, weighted_correlation(predicted, y, w))


def weighted_correlation(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> float:
    """Weighted Pearson correlation; NaN when either side is constant."""
    w = weight / weight.sum()
    da, db = a - np.sum(w * a), b - np.sum(w * b)
    denominator = np.sqrt(np.sum(w * da * da) * np.sum(w * db * db))
    return float(np.sum(w * da * db) / denominator) if denominator > 1e-15 else float("nan")
