"""Robustness: max-sensitivity (Yeh, Hsieh, Suggala, Inouye, Ravikumar, NeurIPS 2019, Sec. 3): the largest
change of the explanation over small perturbations of the input,

    SENS_MAX = max_k || w(x + n_k) - w(x) || / || w(x) ||,

over ``n_samples`` perturbations n_k drawn uniformly within ``radius`` times the standard deviation of the
input (Yeh et al. sample the ball of radius r; Quantus' MaxSensitivity divides by ||w(x)|| by default, as
here, so explainers of different weight scales compare), in the domain of the explanation's components
(:mod:`audiox_bench.perturbation.noisy_inputs`), each explained with the instance's seed. Lower is better.
The perturbations are small enough to keep most predictions (the default 2% of the input's standard
deviation); ``.kept`` is the share of them that kept the explained class's rank.

**Cost**: ``n_samples`` explanations per instance (10 times the explanation by default), which is why the
default benchmark leaves it out; run it with ``--metric max_sensitivity``.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.data import MetricInput, Scores, predict_examples
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.perturbation.noisy_inputs import noisy_copies

SENSITIVITY_STREAM = 0x5E45  # the perturbations' random stream


class MaxSensitivity(Metric):
    """Max-sensitivity of Yeh et al. (2019, Sec. 3) over components (see the module).

    Parameters
    ----------
    n_samples : int
        Perturbed inputs per instance (Quantus: 200; 10 keeps it at 10 explanations).
    radius : float
        Half-width of the uniform perturbation, relative to the input's standard deviation.
    normalise : bool
        Divide by ||w(x)|| (default True, as Quantus).
    """

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "max_sensitivity"
    higher_is_better = False
    description = "largest relative change of the explanation over small input perturbations (lower: more robust)"
    value_roles = (("kept", "diagnostic"),)

    def __init__(self, n_samples: int = 10, radius: float = 0.02, normalise: bool = True) -> None:
        if n_samples < 1 or radius <= 0:
            raise ValueError("n_samples >= 1 and radius > 0 are needed")
        self.n_samples, self.radius, self.normalise = int(n_samples), float(radius), bool(normalise)

    def value_names(self) -> list[str]:
        return [self.name, f"{self.name}.kept"]

    def score(self, item: MetricInput) -> Scores:
        if item.explainer is None:
            raise NotApplicableError("max-sensitivity explains again, and this item has no explainer")
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        scale = float(np.linalg.norm(weights)) if self.normalise else 1.0
        if scale == 0:
            raise NotApplicableError("the explanation is all zeros: its relative change is undefined")
        target = item.explanation.target
        copies = noisy_copies(item, self.n_samples, self.radius, SENSITIVITY_STREAM, "uniform")
        changes = []
        for example, factorization in copies:
            again = item.explainer.explain(item.model, example, factorization, target, item.seed)
            if tuple(again.components) != tuple(item.explanation.components):
                raise NotApplicableError("the perturbed input has other components than the original")
            changes.append(float(np.linalg.norm(np.asarray(again.weights, np.float64) - weights)) / scale)
        predicted = predict_examples(item.model, [example for example, _ in copies]).argmax(axis=1)
        return Scores({self.name: max(changes), f"{self.name}.kept": float(np.mean(predicted == target))})
