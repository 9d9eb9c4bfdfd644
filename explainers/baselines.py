"""Baseline explainers: a random floor, leave-one-out occlusion, Kernel SHAP and gradient x input.

Baselines explain over the factorization of another registered explainer, named by ``over`` (default
``audiolime``); the remaining SPEC keys configure that factorization, e.g.
``occlusion:over=audiolime,separator=hpss`` or ``kernelshap:over=slime,content=mean_inp``. Component
values are model scores of composed inputs, evaluated once per distinct mask through the shared
prediction cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from audiox_bench.core.classifier import Classifier, Differentiable, require
from audiox_bench.core.components import AGGREGATION_RULES, Factorization, FeatureFactorization
from audiox_bench.core.data import DefaultConfiguration, Example, Explanation
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Explainer
from audiox_bench.core.registry import explainers
from audiox_bench.core.spec import Spec
from audiox_bench.explainers import SKIP_ON_TAGS
from audiox_bench.perturbation.masks import all_masks, distinct_masks
from audiox_bench.perturbation.prediction_cache import prediction_cache
from audiox_bench.perturbation.shapley import exact_shapley


class OverExplainer(Explainer):
    """An explainer that borrows the factorization of the registered explainer ``over``.

    Parameters
    ----------
    over : str
        Registered explainer whose ``factorize`` is used (``audiolime``, ``slime``, or a plugin).
    **factorization : Any
        Keywords of that explainer (only those shaping its factorization matter).
    """

    family = "any"

    def __init__(self, over: str = "audiolime", **factorization: Any) -> None:
        shaping = explainers.get(over).factorization_keys
        unused = sorted(set(factorization) - set(shaping)) if shaping is not None else []
        if unused:
            raise ValueError(
                f"{unused[0]!r} configures {over}'s own explanation, not the components borrowed from it; "
                f"what shapes them: {', '.join(shaping)}"
            )
        self.over_name = over
        self.over = explainers.build(Spec(over, factorization))
        self.family = self.over.family
        self._borrowed = frozenset(factorization)

    def canonical_params(self) -> dict[str, Any]:
        """This explainer's own parameters that differ from its defaults, and the canonical parameters of
        the factorization it borrows (``occlusion:separator=oracle`` is ``occlusion``)."""
        own = {k: v for k, v in super().canonical_params().items() if k not in self._borrowed}
        return {**own, **self.over.canonical_params()}

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        return self._named(lambda: self.over.factorize(model, example))

    def _named(self, factorize: Callable[[], Factorization]) -> Factorization:
        """``factorize()``, whose not-applicable reason names the configuration of this explainer that
        applies to a feature-domain example (its own name over SLIME's segments)."""
        try:
            return factorize()
        except NotApplicableError as exc:
            if self.over_name == "slime":
                raise
            names = [name for name in explainers.names() if explainers.get(name) is type(self)]
            name = names[0] if names else type(self).__name__.lower()
            raise NotApplicableError(f"{exc}; {name}:over=slime explains the model input's segments") from exc

    @property
    def seeded_factorization(self) -> bool:
        return self.over.seeded_factorization

    def factorize_for(self, model: Classifier, example: Example, seed: int) -> Factorization:
        return self._named(lambda: self.over.factorize_for(model, example, seed))

    @staticmethod
    def _scores(
        model: Classifier, factorization: Factorization, masks: np.ndarray, target: int
    ) -> tuple[np.ndarray, int]:
        """Target-class scores of masks (each distinct one evaluated once) and the number of distinct
        masks (the model inputs the explanation needs)."""
        distinct = distinct_masks(masks)
        probabilities = prediction_cache(model).predict(model, factorization, distinct.masks)
        return probabilities[distinct.inverse, target], len(distinct.masks)

    @staticmethod
    def _explanation(
        factorization: Factorization, weights: np.ndarray, target: int, n_calls: int, start: float, **extra: Any
    ) -> Explanation:
        return Explanation(
            tuple(factorization.names),
            np.asarray(weights, dtype=np.float64),
            int(target),
            n_model_calls=n_calls,
            seconds=time.perf_counter() - start,
            extra=extra,
        )


SHUFFLE_STREAM = 0x5F1E  # the shuffled control's permutation, apart from the instance's other draws


class RandomExplainer(OverExplainer):
    """Standard-normal weights drawn from the explanation's seed: the floor every explainer must beat."""

    description = "random weights from the seed (the chance floor)"
    default_benchmark = (DefaultConfiguration("random"), DefaultConfiguration("random:over=slime"))

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        weights = np.random.default_rng(seed).standard_normal(factorization.n_components)
        return self._explanation(factorization, weights, target, 0, start)


class EnergyExplainer(OverExplainer):
    """A control that never asks the model: each component's weight is its level alone (the RMS of a
    source's audio; for a segment of the model input, its mean value above the fill). It can look right
    where the truth happens to be loud (the confound's drums) and must fail the parameter-randomization
    check (its explanation does not change when the model does): a metric that cannot tell it from an
    explainer of the model is not measuring explanations of the model."""

    description = "components ranked by their level alone, without the model (a control)"
    default_benchmark = (DefaultConfiguration("energy"), DefaultConfiguration("energy:over=slime"))

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        alone = factorization.compose(np.eye(factorization.n_components, dtype=bool))
        flat = alone.reshape(len(alone), -1).astype(np.float64)
        if factorization.domain == "audio":
            weights = np.sqrt(np.mean(flat**2, axis=1))
        else:
            nothing = factorization.compose(np.zeros((1, factorization.n_components), bool)).reshape(1, -1)
            weights = np.mean(flat - nothing, axis=1)
        return self._explanation(factorization, weights, target, 0, start)


class ShuffledExplainer(OverExplainer):
    """A control with an explanation's values but not its order: occlusion's weights, permuted at random
    from the explanation's seed. It keeps the weights' distribution (so sparseness and complexity cannot
    tell it apart from occlusion) and loses what they say about the components: a metric must separate it
    from occlusion."""

    description = "occlusion's weights in a random order (a control)"
    default_benchmark = (DefaultConfiguration("shuffled"), DefaultConfiguration("shuffled:over=slime"))

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        d = factorization.n_components
        masks = np.vstack([np.ones((1, d), bool), ~np.eye(d, dtype=bool)])
        scores, n_calls = self._scores(model, factorization, masks, target)
        weights = np.random.default_rng([seed, SHUFFLE_STREAM]).permutation(scores[0] - scores[1:])
        return self._explanation(factorization, weights, target, n_calls, start)


class OcclusionExplainer(OverExplainer):
    """Leave-one-component-out: weight = score of the input - score with that component off."""

    description = "drop in the target score when one component is switched off"
    default_benchmark = (DefaultConfiguration("occlusion"), DefaultConfiguration("occlusion:over=slime"))

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        d = factorization.n_components
        masks = np.vstack([np.ones((1, d), bool), ~np.eye(d, dtype=bool)])
        scores, n_calls = self._scores(model, factorization, masks, target)
        return self._explanation(factorization, scores[0] - scores[1:], target, n_calls, start)


def kernel_shap_masks(d: int, n_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Coalitions for sampled Kernel SHAP: the empty and the full one, then ``n_samples`` drawn with
    the Shapley kernel (size s with probability proportional to (d - 1) / (s (d - s)), members uniform)."""
    sizes = np.arange(1, d)
    probabilities = (d - 1) / (sizes * (d - sizes))
    drawn = rng.choice(sizes, size=n_samples, p=probabilities / probabilities.sum())
    masks = np.zeros((n_samples + 2, d), bool)
    masks[1] = True
    for row, size in enumerate(drawn, start=2):
        masks[row, rng.choice(d, size=size, replace=False)] = True
    return masks


def kernel_shap_fit(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Shapley estimates from kernel-sampled coalitions (rows 0 and 1: empty and full), by least squares
    under the efficiency constraint sum(phi) = v(full) - v(empty), which is eliminated exactly."""
    masks = np.asarray(masks, dtype=np.float64)
    empty, full = values[0], values[1]
    total = full - empty
    z, y = masks[2:], values[2:] - empty
    design = z[:, :-1] - z[:, -1:]
    head, *_ = np.linalg.lstsq(design, y - z[:, -1] * total, rcond=None)
    return np.append(head, total - head.sum())


class KernelShapExplainer(OverExplainer):
    """Shapley values of the components: exact over all coalitions when ``d <= max_exhaustive``, Kernel
    SHAP (Lundberg and Lee 2017) with ``n_samples`` kernel-drawn coalitions otherwise.

    Parameters
    ----------
    n_samples : int
        Sampled coalitions when not exact.
    max_exhaustive : int
        Largest number of components for exact Shapley values.
    over, **factorization :
        As in :class:`OverExplainer`.
    """

    description = "Shapley values of the components (exact when enumerable, Kernel SHAP otherwise)"
    default_benchmark = (
        DefaultConfiguration("kernelshap"),
        DefaultConfiguration("kernelshap:over=slime", skip_tasks=SKIP_ON_TAGS),  # 2^10 musicnn inputs per clip
    )

    def __init__(
        self, over: str = "audiolime", n_samples: int = 2048, max_exhaustive: int = 12, **factorization: Any
    ) -> None:
        super().__init__(over, **factorization)
        if n_samples < 2:
            raise ValueError("n_samples must be at least 2")
        self.n_samples, self.max_exhaustive = int(n_samples), int(max_exhaustive)

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        d = factorization.n_components
        if d <= self.max_exhaustive:
            masks = all_masks(d)
            scores, n_calls = self._scores(model, factorization, masks, target)
            phi = exact_shapley(masks, scores)
            exact = True
        else:
            masks = kernel_shap_masks(d, self.n_samples, np.random.default_rng(seed))
            scores, n_calls = self._scores(model, factorization, masks, target)
            phi = kernel_shap_fit(masks, scores)
            exact = False
        empty = scores[np.flatnonzero(~masks.any(axis=1))[0]]
        return Explanation(
            tuple(factorization.names),
            phi,
            int(target),
            intercept=float(empty),
            n_model_calls=n_calls,
            seconds=time.perf_counter() - start,
            extra={"exact": exact},
        )


class GradientExplainer(OverExplainer):
    """Gradient x (input - occlusion content) of the target probability, aggregated per segment (summed
    by default).

    With the ``zero`` content of a dB input this is the classic gradient x input; in general it is the
    first-order estimate of the drop when the segment is filled with the content. Needs a torch model
    and a segmentation factorization (``over=slime``, the default here); anything else is not
    applicable (N/A in the leaderboard).

    Parameters
    ----------
    aggregate : str
        How a segment's weight is read from its cells: ``sum`` (the default: the segment's share of the
        first-order change), ``mean`` (per cell) or ``abs_sum`` (magnitude).
    over, **factorization :
        As in :class:`OverExplainer`.
    """

    description = "gradient x (input - content) summed per segment (torch models, segmentations)"
    default_benchmark = (DefaultConfiguration("gradient"),)

    def __init__(self, over: str = "slime", aggregate: str = "sum", **factorization: Any) -> None:
        super().__init__(over, **factorization)
        if aggregate not in AGGREGATION_RULES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATION_RULES)}, got {aggregate!r}")
        self.aggregate = aggregate

    @property
    def weight_rule(self) -> str:
        return f"gradient x (input - content) per cell, aggregate={self.aggregate} over each segment's cells"

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        network = require(model, Differentiable, "gradient")
        if not isinstance(factorization, FeatureFactorization):
            raise NotApplicableError("gradient needs a segmentation of the model input (over=slime)")
        features = torch.from_numpy(np.ascontiguousarray(factorization.features[None])).to(network.device)
        features.requires_grad_(True)
        with torch.enable_grad():
            probability = network.probabilities(network.logits(features))[0, target]
            (gradient,) = torch.autograd.grad(probability, features)
        attribution = gradient[0].cpu().numpy().astype(np.float64) * (
            factorization.features - factorization.fill
        ).astype(np.float64)
        weights = factorization.per_component(attribution, self.aggregate)
        return self._explanation(factorization, weights, target, 1, start)
