"""The LIME procedure shared by audioLIME and SLIME: masks -> model scores -> weighted ridge.

The reference implementations draw ``num_samples`` = 1,000 masks (row 0 all ones, the others
Bernoulli(0.5)). With few components this benchmark enumerates all ``2**d`` masks instead and weights
each by its expected count under those 1,000 draws: the exact expectation of the sampled fit's normal
equations, so the surrogate has the reference's scale and regularisation without its sampling noise.
An explicit ``n_samples`` samples that many masks, as the papers did (e.g. SLIME's N_s sweep). Either
way each distinct mask is evaluated once and enters the fit with its multiplicity (or expected count)
as a sample-weight factor, which is the same fit as evaluating duplicates.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import Example, Explanation
from audiox_bench.core.interfaces import Explainer
from audiox_bench.perturbation.masks import all_masks, distinct_masks, sample_masks
from audiox_bench.perturbation.prediction_cache import (
    PredictionCache,
    predict_masks,
    predict_masks_many,
    prediction_cache,
)
from audiox_bench.perturbation.surrogate import (
    DISTANCES,
    distances_to_original,
    exponential_kernel,
    fit_surrogate,
)

REFERENCE_N_SAMPLES = 1000  # num_samples of the audioLIME and LIME-for-audio reference code


@dataclass(frozen=True)
class Neighbourhood:
    """The masks a LIME explanation evaluates, and what each weighs in the fit.

    Attributes
    ----------
    masks : np.ndarray [shape=(n_distinct, n_components), dtype=bool]
        Distinct masks.
    weights : np.ndarray [shape=(n_distinct,)]
        Kernel weight times multiplicity (sampled) or expected count (enumerated).
    n_masks : int
        Masks the neighbourhood stands for (samples drawn, or the reference's draws).
    """

    masks: np.ndarray
    weights: np.ndarray
    n_masks: int


def expected_counts(masks: np.ndarray, n_draws: int) -> np.ndarray:
    """Expected number of times each of the ``2**d`` masks occurs among ``n_draws`` masks drawn as
    :func:`~audiox_bench.perturbation.masks.sample_masks` draws them (row 0 all ones, the rest
    Bernoulli(0.5)): ``(n_draws - 1) / 2**d``, plus 1 for the all-ones mask."""
    masks = np.asarray(masks, dtype=bool)
    counts = np.full(len(masks), (n_draws - 1) / 2.0 ** masks.shape[1])
    counts[masks.all(axis=1)] += 1.0
    return counts


@dataclass(frozen=True)
class LimeSettings:
    """Neighbourhood and surrogate settings of LIME.

    Attributes
    ----------
    n_samples : int or None
        Masks to sample (row 0 all ones). None: the reference's 1,000 draws, computed exactly by
        enumerating all ``2**d`` masks weighted by their expected counts if ``d <= max_exhaustive``,
        sampled otherwise.
    max_exhaustive : int
        Largest number of components for which masks are enumerated when ``n_samples`` is None.
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

    def neighbourhood(self, n_components: int, seed: int) -> Neighbourhood:
        """The distinct masks for ``n_components`` components and their weights in the fit."""
        if self.n_samples is None and n_components <= self.max_exhaustive:
            masks = all_masks(n_components)
            counts, n_masks = expected_counts(masks, REFERENCE_N_SAMPLES), REFERENCE_N_SAMPLES
        else:
            n_masks = self.n_samples or REFERENCE_N_SAMPLES
            distinct = distinct_masks(sample_masks(n_components, n_masks, np.random.default_rng(seed)))
            masks, counts = distinct.masks, distinct.counts
        kernel = exponential_kernel(distances_to_original(masks, self.distance), self.kernel_width)
        return Neighbourhood(masks, kernel * counts, n_masks)


LIME = LimeSettings()  # the defaults of audioLIME and SLIME


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
    neighbourhood = settings.neighbourhood(factorization.n_components, seed)
    if cache is None:
        probabilities = predict_masks(model, factorization, neighbourhood.masks)
    else:
        probabilities = cache.predict(model, factorization, neighbourhood.masks)
    return _fit(neighbourhood, probabilities[:, target], factorization, target, settings, start)


def lime_explain_models(
    models: list[Classifier],
    factorization: Factorization,
    target: int,
    seed: int,
    settings: LimeSettings,
) -> list[Explanation]:
    """:func:`lime_explain` for several models on the same masks (the seed's neighbourhood), with each
    batch of perturbed inputs composed once and evaluated by every model."""
    start = time.perf_counter()
    neighbourhood = settings.neighbourhood(factorization.n_components, seed)
    outputs = predict_masks_many(models, factorization, neighbourhood.masks)
    return [
        _fit(neighbourhood, probabilities[:, target], factorization, target, settings, start)
        for probabilities in outputs
    ]


def _fit(
    neighbourhood: Neighbourhood,
    scores: np.ndarray,
    factorization: Factorization,
    target: int,
    settings: LimeSettings,
    start: float,
) -> Explanation:
    fit = fit_surrogate(neighbourhood.masks, scores, neighbourhood.weights, settings.alpha)
    return Explanation(
        components=tuple(factorization.names),
        weights=fit.weights,
        target=int(target),
        intercept=fit.intercept,
        score=fit.r2,
        surrogate_correlation=fit.correlation,
        n_model_calls=len(neighbourhood.masks),
        seconds=time.perf_counter() - start,
        extra={"n_masks": neighbourhood.n_masks, "n_distinct_masks": len(neighbourhood.masks)},
    )


class LimeExplainer(Explainer):
    """An explainer that fits LIME's surrogate over its factorization (audioLIME, SLIME): subclasses
    set ``settings`` and implement :meth:`factorize`. Masks go through the model's shared prediction
    cache; several models (the randomization check) are evaluated together on the same masks."""

    settings: LimeSettings

    def explain(
        self, model: Classifier, example: Example, factorization: Factorization, target: int, seed: int
    ) -> Explanation:
        return lime_explain(model, factorization, target, seed, self.settings, prediction_cache(model))

    def explain_models(
        self, models: Sequence[Classifier], example: Example, factorization: Factorization, target: int, seed: int
    ) -> list[Explanation]:
        return lime_explain_models(list(models), factorization, target, seed, self.settings)
