"""Parameter-randomization divergence: the sanity check of Adebayo et al. (2018) as the audioLIME
paper applies it (Figs. 2-3): an explanation that does not change when the model's parameters are
re-initialised does not explain the model."""

from __future__ import annotations

import weakref
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial import distance

from audiox_bench.core.classifier import Classifier, LayerRandomizable, require
from audiox_bench.core.contracts import Figure, Metric, MetricInput
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.core.registry import metrics
from audiox_bench.models.reinitialization import ORDERS
from audiox_bench.results.plots import (
    explainer_ticks,
    figure_path,
    natural_order,
    save,
    values_by_explainer,
)


def rank_divergence(a: np.ndarray, b: np.ndarray) -> float | None:
    """1 - Spearman's rank correlation (scipy) between two weight vectors; None if either is constant."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(1.0 - stats.spearmanr(a, b).statistic)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0..1) between two histograms (scipy's distance, squared)."""
    return float(distance.jensenshannon(np.asarray(p, np.float64), np.asarray(q, np.float64), base=2) ** 2)


def normalised_entropy(counts: np.ndarray, n_bins: int | None = None) -> float:
    """Entropy of a histogram divided by the log of its number of bins (1 = uniform over the bins)."""
    counts = np.asarray(counts, np.float64)
    n_bins = len(counts) if n_bins is None else n_bins
    return float(stats.entropy(counts) / np.log(n_bins)) if n_bins > 1 and counts.sum() else 0.0


@metrics.register("randomization_divergence")
class RandomizationDivergence(Metric):
    """How much the explanation changes when the model's parameters are re-initialised.

    Per instance, ``randomization_divergence`` is the mean over ``n_models`` randomized models (seeds
    0..n_models-1) of 1 - Spearman(weights of the trained model, weights of the randomized model). Each
    randomized model is explained with the same explainer, factorization (so the same perturbed inputs),
    target and seed as the explanation it checks; explainers that can evaluate several models on one
    composition of each input (LIME) do so. With ``curve=true``, ``randomization_divergence.layersL`` is
    the layer-wise curve: the divergence after re-initialising the top L layers (cascading), averaged
    over the same seeds. Per dataset (a summary row per task x explainer),
    ``randomization_divergence.js`` is the Jensen-Shannon divergence (bits) between the histograms of the
    top-1 component under the trained model and under the randomized models, with the normalised
    entropies of both (``.entropy_trained``, ``.entropy_randomized``).

    **Cost**: ``n_models`` explanations per instance (about 4x the explanation it checks by default);
    the curve adds ``(n_layers - 1) x n_models`` more.

    Parameters
    ----------
    n_models : int
        Randomized models per instance (the audioLIME paper used 10 random VGGs; 4 keeps the check within
        5x the cost of the explanation).
    order : str
        ``cascading`` or ``independent``.
    layers : int, optional
        Layers re-initialised (cascading; default all) or the one re-initialised (independent; default 1).
    curve : bool
        Also compute the layer-wise curve (cascading, over the same seeds).
    """

    name = "randomization_divergence"
    higher_is_better = True
    description = "1 - Spearman between explanations of the trained and of parameter-randomized models"
    value_roles = (("js", "score"), ("layers*", "diagnostic"), ("entropy_*", "diagnostic"))

    def __init__(
        self, n_models: int = 4, order: str = "cascading", layers: int | None = None, curve: bool = False
    ) -> None:
        if n_models < 1:
            raise ValueError("n_models must be at least 1")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        self.n_models, self.order, self.layers, self.curve = int(n_models), order, layers, bool(curve)
        self._models: weakref.WeakKeyDictionary[Classifier, dict] = weakref.WeakKeyDictionary()

    def __getstate__(self) -> dict[str, Any]:  # randomized copies are rebuilt where the metric runs
        return {k: v for k, v in self.__dict__.items() if k != "_models"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._models = weakref.WeakKeyDictionary()

    def _randomized(self, model: LayerRandomizable, order: str, layers: int | None) -> list[Classifier]:
        """The ``n_models`` randomized copies for (order, layers), built once per model and kept with it."""
        cache = self._models.setdefault(model, {})
        if (order, layers) not in cache:
            cache[(order, layers)] = [
                model.randomized(order=order, layers=layers, seed=s) for s in range(self.n_models)
            ]
        return cache[(order, layers)]

    @staticmethod
    def _weights(item: MetricInput, models: list[Classifier]) -> list[np.ndarray]:
        explanations = item.explainer.explain_models(
            models, item.example, item.factorization, item.explanation.target, item.seed
        )
        return [np.asarray(e.weights, dtype=np.float64) for e in explanations]

    def _mean_divergence(self, trained: np.ndarray, randomized: list[np.ndarray]) -> float | None:
        defined = [v for v in (rank_divergence(trained, w) for w in randomized) if v is not None]
        return float(np.mean(defined)) if defined else None

    def score(self, item: MetricInput) -> dict[str, Any]:
        if item.explainer is None:
            return {self.name: None}
        model = require(item.model, LayerRandomizable, "randomization_divergence")
        trained = np.asarray(item.explanation.weights, dtype=np.float64)
        randomized = self._weights(item, self._randomized(model, self.order, self.layers))
        values: dict[str, Any] = {self.name: self._mean_divergence(trained, randomized)}
        if self.curve:
            n_layers = model.n_layers()
            for count in range(1, n_layers + 1):
                if count == n_layers and self.order == "cascading" and self.layers in (None, n_layers):
                    curve_point = values[self.name]  # all layers: the models of the main value
                else:
                    curve_point = self._mean_divergence(
                        trained, self._weights(item, self._randomized(model, "cascading", count))
                    )
                values[f"{self.name}.layers{count}"] = curve_point
        values["_top1"] = {
            "trained": int(np.argmax(trained)),
            "randomized": [int(np.argmax(w)) for w in randomized],
            "n_components": len(trained),
        }
        return values

    def summarize(self, records: Sequence[Record]) -> list[GroupRow]:
        trained: dict[tuple[str, str], Counter] = defaultdict(Counter)
        randomized: dict[tuple[str, str], Counter] = defaultdict(Counter)
        for record in records:
            top1 = record.metric_data.get("_top1")
            if not top1:
                continue
            names, cell = record.components, (record.task, record.explainer)
            trained[cell][names[top1["trained"]]] += 1  # by name: examples may have different components
            randomized[cell].update(names[i] for i in top1["randomized"])
        rows = []
        for cell in sorted(trained):
            bins = sorted(set(trained[cell]) | set(randomized[cell]))
            p = np.array([trained[cell][b] for b in bins])
            q = np.array([randomized[cell][b] for b in bins])
            rows.append(
                GroupRow(
                    cell[0],
                    cell[1],
                    "(dataset)",
                    None,
                    {
                        f"{self.name}.js": js_divergence(p, q),
                        f"{self.name}.entropy_trained": normalised_entropy(p, len(bins)),
                        f"{self.name}.entropy_randomized": normalised_entropy(q, len(bins)),
                    },
                )
            )
        return rows

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """``randomization_<task>.png``: mean divergence per configuration (with the cascading layer curve
        when the run computed it): an explanation that does not move when the model is randomized does
        not explain the model (Adebayo et al. 2018)."""
        values = values_by_explainer(records, self.name)
        if not values:
            return [
                Figure(
                    f"randomization ({task})",
                    skipped="no explanation of this task was recomputed on "
                    "randomized models (the model cannot be randomized, or no value was defined)",
                )
            ]
        explainers = natural_order(values)
        curves = {
            e: sorted((int(k.rsplit("layers", 1)[1]), v) for k, v in _curve_means(records, e).items())
            for e in explainers
        }
        has_curve = any(curves.values())
        fig, axes = plt.subplots(1, 2 if has_curve else 1, figsize=(13 if has_curve else 7, 4.5), squeeze=False)
        ax = axes[0, 0]
        means = [np.mean(values[e]) for e in explainers]
        spread = [np.std(values[e]) for e in explainers]
        ax.bar(np.arange(len(explainers)), means, yerr=spread, capsize=3)
        explainer_ticks(ax, explainers)
        ax.set_ylabel("1 - Spearman (trained vs randomized)")
        ax.set_title(f"{task}: parameter randomization (higher: depends on the model)")
        legend = []
        if has_curve:
            curve_ax = axes[0, 1]
            for explainer in explainers:
                if curves[explainer]:
                    layers, divergence = zip(*curves[explainer])
                    curve_ax.plot(layers, divergence, marker="o", label=explainer)
            curve_ax.set_xlabel("top layers randomized (cascading)")
            curve_ax.set_ylabel("1 - Spearman")
            curve_ax.set_title("layer-wise curve")
            legend = [curve_ax]
        return [Figure(f"randomization ({task})", save(fig, figure_path(out, "randomization", task), legend))]


def _curve_means(records: Sequence[Record], explainer: str) -> dict[str, float]:
    """Mean of each ``.layersL`` value of ``explainer`` over its records."""
    sums: dict[str, list[float]] = defaultdict(list)
    for record in records:
        if record.explainer == explainer:
            for key, value in record.metrics.items():
                if ".layers" in key and value is not None:
                    sums[key].append(value)
    return {key: float(np.mean(v)) for key, v in sums.items()}
