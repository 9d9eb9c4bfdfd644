"""LIME's local linear surrogate: kernel-weighted ridge regression on binary masks.

The surrogate is scikit-learn's ``Ridge(alpha, fit_intercept=True)`` with sample weights. Its
closed form is solved here with numpy: for the tiny systems LIME fits (a few to a few hundred
components) scikit-learn's input validation costs more than the solve itself, and more than the
model's forward pass on a few-source explanation. ``tests/test_masks_and_surrogate.py`` pins the
result to ``sklearn.linear_model.Ridge``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DISTANCES = ("cosine", "l2")


def distances_to_original(masks: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Distance of each mask to the all-ones mask (the unperturbed input).

    ``cosine`` is LIME's default (the all-zeros mask gets distance 1); ``l2`` is Euclidean, as the
    reference SLIME code used. For a binary mask with ``k`` of ``d`` components kept they are
    ``1 - sqrt(k / d)`` and ``sqrt(d - k)``.
    """
    if metric not in DISTANCES:
        raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {metric!r}")
    masks = np.asarray(masks, dtype=np.float64)
    if metric == "l2":
        return np.sqrt(np.sum((1.0 - masks) ** 2, axis=1))
    norms = np.sqrt(np.sum(masks * masks, axis=1)) * np.sqrt(masks.shape[1])
    similarity = np.divide(masks.sum(axis=1), norms, out=np.zeros(len(masks)), where=norms > 0)
    return np.clip(1.0 - similarity, 0.0, 2.0)


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


def fit_surrogate(
    masks: np.ndarray, targets: np.ndarray, sample_weight: np.ndarray, alpha: float = 1.0
) -> SurrogateFit:
    """Fit ``Ridge(alpha)`` (intercept not penalised) to ``targets`` from ``masks`` with ``sample_weight``.

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
    share = w / w.sum()
    x_mean, y_mean = share @ x, share @ y
    xc, yc = x - x_mean, y - y_mean
    weighted_xc = xc * w[:, None]
    gram = weighted_xc.T @ xc + alpha * np.eye(x.shape[1])
    moment = weighted_xc.T @ yc
    try:
        coef = np.linalg.solve(gram, moment)
    except np.linalg.LinAlgError:  # singular (alpha = 0 with collinear masks): minimum-norm solution
        coef = np.linalg.lstsq(gram, moment, rcond=None)[0]
    intercept = float(y_mean - x_mean @ coef)
    predicted = x @ coef + intercept
    residual, total = float(np.sum(w * (y - predicted) ** 2)), float(np.sum(w * yc * yc))
    if len(y) < 2:
        r2 = float("nan")
    else:  # a constant target scores 1 when fitted exactly, else 0 (scikit-learn's convention)
        r2 = 1.0 - residual / total if total > 0 else float(residual == 0.0)
    return SurrogateFit(coef, intercept, r2, weighted_correlation(predicted, y, w))


def weighted_correlation(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> float:
    """Weighted Pearson correlation; NaN when either side is constant."""
    w = weight / weight.sum()
    da, db = a - np.sum(w * a), b - np.sum(w * b)
    denominator = np.sqrt(np.sum(w * da * da) * np.sum(w * db * db))
    return float(np.sum(w * da * db) / denominator) if denominator > 1e-15 else float("nan")
