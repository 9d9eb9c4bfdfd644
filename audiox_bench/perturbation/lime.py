"""The LIME procedure shared by audioLIME and SLIME: masks -> model scores -> weighted ridge.

Masks are enumerated exhaustively when there are few components, sampled otherwise; each distinct mask
is evaluated once and enters the fit with its multiplicity as a sample-weight factor (the same fit as
evaluating duplicates).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.contracts import Explanation
from audiox_bench.perturbation.masks import all_masks, distinct_masks, sample_masks
from audiox_bench.perturbation.prediction_cache import PredictionCache, predict_masks
from audiox_bench.perturbation.surrogate import (
    DISTANCES,
    distances_to_original,
    exponential_kernel,
    fit_surrogate,
)


@dataclass(frozen=True)
class LimeSettings:
    """Neighbourhood and surrogate settings of LIME.

    Attributes
    ----------
    n_samples : int or None
        Sampled masks (row 0 all ones). None: all ``2**d`` masks if ``d <= max_exhaustive``, else 2048.
    max_exhaustive : int
        Largest number of components for which all masks are enumerated when ``n_samples`` is None.
    kernel_width : float
        Width of LIME's exponential kernel (0.25, the reference default).
    distance : str
        ``cosine`` (LIME default) or ``l2``.
    alpha : float
        Ridge regularisation (1.0, the reference default).
    """

    n_samples: int | None = None
    max_exhaustive: int = 12
    kernel_width: float = 0.25
    distance: str = "cosine"
    alpha: float = 1.0

    def __post_init__(self) -> None:
        if self.n_samples is not None and self.n_samples < 2:
            raise ValueError("n_samples must be at least 2 (or none for the default)")
        if self.kernel_width <= 0:
            raise ValueError("kernel_width must be positive")
        if self.distance not in DISTANCES:
            raise ValueError(f"distance must be one of {', '.join(DISTANCES)}, got {self.distance!r}")
        if self.alpha < 0:
            raise ValueError("alpha must be non-negative")

    def masks(self, n_components: int, rng: np.random.Generator) -> np.ndarray:
        """The neighbourhood's masks for ``n_components`` components."""
        if self.n_samples is None and n_components <= self.max_exhaustive:
            return all_masks(n_components)
        return sample_masks(n_components, self.n_samples or 2048, rng)


def lime_explain(
    model: Classifier,
    factorization: Factorization,
    target: int,
    seed: int,
    settings: LimeSettings,
    cache: PredictionCache | None = None,
) -> Explanation:
    """Fit LIME's surrogate for class ``target`` over ``factorization``'s components.

    ``n_model_calls`` is the number of distinct masks the explanation needs; with a ``cache``, those
    already evaluated for this factorization are not evaluated again.
    """
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    masks = settings.masks(factorization.n_components, rng)
    distinct = distinct_masks(masks)
    if cache is None:
        probabilities = predict_masks(model, factorization, distinct.masks)
    else:
        probabilities, _ = cache.predict(model, factorization, distinct.masks)
    scores = probabilities[:, target]
    kernel = exponential_kernel(distances_to_original(distinct.masks, settings.distance), settings.kernel_width)
    fit = fit_surrogate(distinct.masks, scores, kernel * distinct.counts, settings.alpha)
    return Explanation(
        components=tuple(factorization.names),
        weights=fit.weights,
        target=int(target),
        intercept=fit.intercept,
        score=fit.r2,
        n_model_calls=len(distinct.masks),
        seconds=time.perf_counter() - start,
        extra={
            "n_masks": len(masks),
            "n_distinct_masks": len(distinct.masks),
            "surrogate_correlation": fit.correlation,
        },
    )
