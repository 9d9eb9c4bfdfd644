"""Faithfulness correlation (Bhatt, Weller, Moura, IJCAI 2020) over interpretable components, and the
fidelity of LIME's surrogate (audioLIME paper, Fig. 4b)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from audiox_bench.core.data import Figure, MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.perturbation.baselines import OWN, TASK, check_baseline, switched_off
from audiox_bench.perturbation.masks import distinct_masks
from audiox_bench.perturbation.prediction_cache import prediction_cache
from audiox_bench.results.plots import figure_path, values_by_explainer, violins


def random_subsets(n_components: int, n_runs: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``n_runs`` random subsets of ``size`` components each, as a boolean matrix ``(n_runs, d)``."""
    subsets = np.zeros((n_runs, n_components), bool)
    for row in subsets:
        row[rng.choice(n_components, size=size, replace=False)] = True
    return subsets


def pearson_or_none(x: np.ndarray, y: np.ndarray) -> float | None:
    """Pearson's r (scipy), or None where it is undefined (fewer than 2 values, or a constant input)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(stats.pearsonr(x, y).statistic)


def faithfulness_of_subsets(item: MetricInput, subsets: np.ndarray, baseline: str = OWN) -> float | None:
    """Pearson r between the drop in the target score when each subset of components is switched off
    (filled with ``baseline``, through the shared prediction cache) and the subset's summed weights.

    Parameters
    ----------
    item : MetricInput
    subsets : np.ndarray [shape=(n_runs, n_components), dtype=bool]
        True where a component is switched off.
    baseline : str
        An occlusion content, or ``own`` (the explanation's factorization as it is); see
        :func:`~audiox_bench.perturbation.baselines.switched_off`.
    """
    d, target = item.factorization.n_components, item.explanation.target
    factorization = switched_off(item.factorization, item.model, baseline, item.seed)
    distinct = distinct_masks(np.vstack([np.ones((1, d), bool), ~np.asarray(subsets, bool)]))
    probabilities = prediction_cache(item.model).predict(item.model, factorization, distinct.masks)
    scores = probabilities[distinct.inverse, target]
    sums = np.asarray(subsets, bool) @ np.asarray(item.explanation.weights, dtype=np.float64)
    return pearson_or_none(scores[0] - scores[1:], sums)


class FaithfulnessCorrelation(Metric):
    """Pearson correlation, over random subsets of components switched off, between the drop in the
    target score and the sum of the explanation's weights on the subset (Bhatt, Weller, Moura, IJCAI 2020,
    Sec. 3, "faithfulness": mu_F with |S| = 30% of the features, 50 subsets).

    Components are switched off to the task's baseline (``baseline=task``), the same for every explainer
    of the task, so two explanations with the same weights over the same components score the same
    whatever content each was fitted with; sources are switched off by removing them. The paper leaves the
    baseline open (its "x_s = baseline"); ``baseline=own`` scores each explanation through its own fill
    (its surrogate's perturbations), only on request. Subsets are drawn from the instance's seed and
    evaluated in one batch (distinct subsets once, shared cache). Undefined (skipped, with the reason) when the
    drops or the sums do not vary, and when fewer than ``min_subsets`` distinct subsets of the subset
    size exist: with 2 components a correlation over the 2 possible subsets is +-1 by construction, and
    with 3 or 4 it is a correlation over 3 or 4 points. The default bound of 10 is where a correlation
    starts to discriminate: with 10 independent points |r| must exceed 0.63 to be significant at the
    5% level, with 4 points 0.95. Subset sizes round 30% of the components, so 5 components (C(5, 2) =
    10 subsets of 2) are the fewest that qualify.

    Parameters
    ----------
    n_runs : int
        Random subsets per instance (50 in Bhatt et al.).
    fraction : float
        Subset size as a fraction of the components (at least 1 component).
    min_subsets : int
        Fewest distinct subsets for which the correlation is reported.
    baseline : str
        What switched-off segments are filled with: ``task`` (the task's baseline, the default), an
        occlusion content (``zero``, ``min_data``, ``mean_inp``, ``noise_norm`` ...), or ``own`` (each
        explanation's own fill).
    """

    name = "faithfulness_correlation"
    higher_is_better = True
    description = (
        "Pearson r between score drop and summed weights of random component subsets switched off to the "
        "task's baseline"
    )

    def __init__(self, n_runs: int = 50, fraction: float = 0.3, min_subsets: int = 10, baseline: str = TASK) -> None:
        if n_runs < 2 or not 0 < fraction < 1 or min_subsets < 3:
            raise ValueError("n_runs >= 2, 0 < fraction < 1 and min_subsets >= 3 are needed")
        self.n_runs, self.fraction, self.min_subsets = int(n_runs), float(fraction), int(min_subsets)
        self.baseline = check_baseline(baseline)

    def subset_size(self, n_components: int) -> int:
        """Components switched off per subset: ``fraction`` of them, rounded, between 1 and d - 1."""
        return min(max(1, round(self.fraction * n_components)), n_components - 1)

    def score(self, item: MetricInput) -> Scores:
        d = item.factorization.n_components
        size = self.subset_size(d) if d >= 2 else 0
        possible = math.comb(d, size) if d >= 2 else 0
        if possible < self.min_subsets:
            raise NotApplicableError(
                f"{d} components give {possible} distinct subsets of {size}, fewer than the "
                f"{self.min_subsets} a correlation needs to mean anything"
            )
        subsets = random_subsets(d, self.n_runs, size, np.random.default_rng(item.seed))
        baseline = item.baseline if self.baseline == TASK else self.baseline
        return Scores({self.name: faithfulness_of_subsets(item, subsets, baseline)})

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """``faithfulness_<task>.png``: per-instance correlations per configuration."""
        values = values_by_explainer(records, self.name)
        if not values:
            return [Figure(f"faithfulness ({task})", skipped="faithfulness is undefined on every instance")]
        path = violins(
            plt,
            values,
            "Pearson r (score drop vs summed weights)",
            f"{task}: faithfulness correlation per configuration",
            figure_path(out, "faithfulness", task),
        )
        return [Figure(f"faithfulness ({task})", path)]


class SurrogateFidelity(Metric):
    """Weighted R^2 of the explainer's local linear surrogate on its neighbourhood (LIME's ``score``,
    Ribeiro, Singh, Guestrin, KDD 2016, Sec. 3.2: local fidelity), and the correlation between surrogate and
    model predictions there. Undefined (skipped, not 0) for explainers without a surrogate, and when the
    components allow fewer than ``min_coalitions`` distinct on/off coalitions (2^d): a linear surrogate has
    d + 1 parameters, so with 2 components its 3 parameters fit the 4 possible coalitions almost exactly
    whatever the model does (R^2 near 1 by construction), and with 3 it fits 8. The default bound of 10 is
    the faithfulness correlation's (:class:`FaithfulnessCorrelation`): 4 components are the fewest that
    qualify.

    Parameters
    ----------
    min_coalitions : int
        Fewest distinct coalitions (2^d) for which the fit is reported.
    """

    name = "surrogate_fidelity"
    higher_is_better = True
    description = "weighted R^2 of the local surrogate (and surrogate-model correlation); none without one"
    value_roles = (("correlation", "score"),)

    def __init__(self, min_coalitions: int = 10) -> None:
        if min_coalitions < 2:
            raise ValueError("min_coalitions >= 2 is needed")
        self.min_coalitions = int(min_coalitions)

    def value_names(self) -> list[str]:
        return [self.name, f"{self.name}.correlation"]

    def score(self, item: MetricInput) -> Scores:
        r2 = item.explanation.score
        if r2 is None:
            raise NotApplicableError("the explainer fits no local surrogate")
        d = item.factorization.n_components
        if 2**d < self.min_coalitions:
            raise NotApplicableError(
                f"{d} components give {2**d} distinct coalitions, fewer than the {self.min_coalitions} a linear "
                f"surrogate of {d + 1} parameters needs for its R^2 to mean anything"
            )
        correlation = item.explanation.surrogate_correlation
        return Scores(
            {self.name: float(r2), f"{self.name}.correlation": None if correlation is None else float(correlation)}
        )
