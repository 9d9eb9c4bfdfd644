"""Parameter-randomization divergence: the sanity check of Adebayo et al. (2018) as the audioLIME
paper applies it (Figs. 2-3): an explanation that does not change when the model's parameters are
re-initialised does not explain the model.

Length: the layer orders, the seed null, the permutation reference, eMPRT/sMPRT and the pass/fail test share the
randomized models and must agree, so they stay together.
"""

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
from audiox_bench.core.data import Figure, MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.metrics.complexity import weight_entropy
from audiox_bench.models.reinitialization import ORDERS
from audiox_bench.perturbation.noisy_inputs import noisy_copies
from audiox_bench.results.plots import (
    explainer_ticks,
    figure_path,
    natural_order,
    save,
    values_by_explainer,
)

MIN_COMPONENTS = 3  # with 2 components |Spearman| is 1 whatever the weights
N_PERMUTATIONS = 2000  # draws of the permutation null (the mean |rho| of unrelated explanations)
NULL_STREAM = 0x5EED  # the seed of the explainer's second explanation, apart from the instance's draws
NOISE_STREAM = 0x5A0F  # sMPRT's input noise, apart from the instance's other draws
SIGNIFICANCE = 0.05


def spearman_or_none(a: np.ndarray, b: np.ndarray) -> float | None:
    """Spearman's rank correlation (scipy), or None if either vector is constant (no ranking)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.spearmanr(a, b).statistic)


def rank_divergence(a: np.ndarray, b: np.ndarray) -> float | None:
    """1 - |Spearman| between two weight vectors, in [0, 1]: 0 when one ranks the components as the other
    does or exactly reversed, 1 when their rankings are unrelated; None if either is constant."""
    rho = spearman_or_none(a, b)
    return None if rho is None else 1.0 - abs(rho)


def signed_rank_divergence(a: np.ndarray, b: np.ndarray) -> float | None:
    """1 - Spearman, in [0, 2] (the audioLIME paper's reading; 2 = exactly reversed); None if constant."""
    rho = spearman_or_none(a, b)
    return None if rho is None else 1.0 - rho


def unrelated_divergence(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> float:
    """The mean of 1 - |Spearman(a, permuted b)| over :data:`N_PERMUTATIONS` random permutations of ``b``:
    what an explanation unrelated to ``a`` (with ``b``'s values, ties included) scores."""
    ranks_a = stats.rankdata(a)
    ranks_b = stats.rankdata(b)[np.argsort(rng.random((N_PERMUTATIONS, len(b))), axis=1)]
    centred_a = ranks_a - ranks_a.mean()
    centred_b = ranks_b - ranks_b.mean(axis=1, keepdims=True)
    rho = centred_b @ centred_a / (np.linalg.norm(centred_b, axis=1) * np.linalg.norm(centred_a))
    return float(np.mean(1.0 - np.abs(rho)))


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen-Shannon divergence in bits (0..1) between two histograms (scipy's distance, squared)."""
    return float(distance.jensenshannon(np.asarray(p, np.float64), np.asarray(q, np.float64), base=2) ** 2)


def normalised_entropy(counts: np.ndarray, n_bins: int | None = None) -> float:
    """Entropy of a histogram divided by the log of its number of bins (1 = uniform over the bins)."""
    counts = np.asarray(counts, np.float64)
    n_bins = len(counts) if n_bins is None else n_bins
    return float(stats.entropy(counts) / np.log(n_bins)) if n_bins > 1 and counts.sum() else 0.0


def changes_more_than_its_noise(divergence: np.ndarray, seed_null: np.ndarray) -> float | None:
    """One-sided p-value (scipy's Wilcoxon signed-rank) that explanations move more when the model is
    randomized (``divergence``) than when the explainer only draws again (``seed_null``), paired per
    instance; None for fewer than two pairs. Zero differences are split between the signs; all zero: 1."""
    differences = np.asarray(divergence, np.float64) - np.asarray(seed_null, np.float64)
    if len(differences) < 2:
        return None
    if not np.any(differences):
        return 1.0
    return float(stats.wilcoxon(differences, zero_method="zsplit", alternative="greater").pvalue)


class RandomizationDivergence(Metric):
    """How much the explanation changes when the model's parameters are re-initialised (Adebayo et al.,
    NeurIPS 2018, Sec. 3.1, "cascading randomization"; as the audioLIME paper applies it, Figs. 2-3).

    Per instance, ``randomization_divergence`` is the mean over ``n_models`` randomized models (seeds
    0..n_models-1) of 1 - |Spearman|(weights of the trained model, weights of the randomized model), in
    [0, 1]. Adebayo et al. report rank correlation with and without absolute values; the ranked score
    takes the absolute value, so an explanation that is exactly reversed on the randomized model (still
    fully determined by the trained ranking) scores 0 like an unchanged one, not 2 ("best"). The signed
    1 - Spearman stays as ``.signed`` (a diagnostic in [0, 2]). Each randomized model is explained with the
    same explainer, factorization (so the same perturbed inputs), target and seed as the explanation it
    checks; explainers that can evaluate several models on one composition of each input (LIME) do so.

    Undefined, with the reason: with fewer than 3 components (|Spearman| is 1 whatever the weights), for a
    constant explanation (it ranks nothing; e.g. Captum's Lasso-fitted Lime returning all zeros), and when
    every randomized model's explanation is constant (constant ones are left out of the mean and of the
    top-1 histograms).

    Read against two references per instance: ``.unrelated``, the mean of 1 - |Spearman| between the
    trained explanation and random permutations of the randomized ones (what an unrelated explanation
    scores; about 0.74 for 10 components), and ``.seed_null``, 1 - |Spearman| between two explanations of
    the trained model with different seeds (the explainer's own noise; 0 for deterministic explainers).
    Per dataset, ``.passes`` is the sanity check as a test: 1 if explanations move significantly more when
    the model is randomized than when the explainer draws again (one-sided Wilcoxon signed-rank over
    instances, ``.p_value``, 5% level), else 0 (the random explainer, whose draws do not depend on the
    model, fails it). With ``curve=true``, ``.layersL`` is the divergence after re-initialising the top L
    layers (cascading), averaged over the same seeds. ``.js`` is the Jensen-Shannon divergence (bits)
    between the top-1 component histograms of trained and randomized models, with their normalised
    entropies: diagnostics (one number per dataset: no test ranks it, and it means little where the truth
    moves between examples).

    **Cost**: ``n_models`` explanations per instance, plus one more of the trained model with another
    seed (answered by the prediction cache for explainers whose masks do not depend on the seed); the curve
    adds ``(n_layers - 1) x n_models`` more.

    Two repairs of the test by Hedström et al. (TMLR 2023, "Sanity checks revisited"): ``.emprt``, their
    efficient MPRT, the ratio of the complexity of the randomized models' explanations to the trained
    model's (the entropy of |w| / sum |w|, :func:`~audiox_bench.metrics.complexity.weight_entropy`; their
    histogram entropy of attribution values means little over ten components), better when higher (an
    explanation of a random model should be less structured), computed from the same explanations at no
    cost; and ``smooth=N``, their smoothed MPRT: every explanation (trained and randomized) is the mean of
    N explanations of noisy copies of the input (Gaussian noise of ``noise`` times the standard deviation of
    the model input, drawn from the instance's seed), which removes the explainer's own noise from the
    comparison (N times the cost).

    Parameters
    ----------
    n_models : int
        Randomized models per instance (the audioLIME paper used 10 random VGGs; 4 keeps the check within
        5x the cost of the explanation).
    order : str
        ``cascading`` (top-down, the default), ``bottom_up`` or ``independent``.
    layers : int, optional
        Layers re-initialised (cascading, bottom_up; default all) or the one re-initialised (independent;
        default 1).
    curve : bool
        Also compute the layer-wise curve (cascading, over the same seeds).
    smooth : int
        Noisy copies per explanation for sMPRT (0: off, the default).
    noise : float
        Standard deviation of the sMPRT noise, relative to the model input's.
    """

    name = "randomization_divergence"
    higher_is_better = True
    description = (
        "1 - |Spearman| between explanations of the trained and of parameter-randomized models (0: unchanged "
        "or reversed; passes: moves more than the explainer's own seed noise)"
    )
    value_roles = (
        ("emprt", "score"),
        ("unrelated", "reference"),
        ("signed", "diagnostic"),
        ("seed_null", "diagnostic"),
        ("passes", "diagnostic"),
        ("p_value", "diagnostic"),
        ("js", "diagnostic"),
        ("layers*", "diagnostic"),
        ("entropy_*", "diagnostic"),
    )

    def __init__(
        self,
        n_models: int = 4,
        order: str = "cascading",
        layers: int | None = None,
        curve: bool = False,
        smooth: int = 0,
        noise: float = 0.1,
    ) -> None:
        if n_models < 1 or smooth < 0 or noise <= 0:
            raise ValueError("n_models >= 1, smooth >= 0 and noise > 0 are needed")
        if order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
        self.n_models, self.order, self.layers, self.curve = int(n_models), order, layers, bool(curve)
        self.smooth, self.noise = int(smooth), float(noise)
        self._models: weakref.WeakKeyDictionary[Classifier, dict] = weakref.WeakKeyDictionary()

    def __getstate__(self) -> dict[str, Any]:  # randomized copies are rebuilt where the metric runs
        return {k: v for k, v in self.__dict__.items() if k != "_models"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._models = weakref.WeakKeyDictionary()

    def value_names(self) -> list[str]:
        return [self.name, *(f"{self.name}.{v}" for v in ("emprt", "signed", "seed_null", "unrelated"))]

    def _randomized(self, model: LayerRandomizable, order: str, layers: int | None) -> list[Classifier]:
        """The ``n_models`` randomized copies for (order, layers), built once per model and kept with it."""
        cache = self._models.setdefault(model, {})
        if (order, layers) not in cache:
            cache[(order, layers)] = [
                model.randomized(order=order, layers=layers, seed=s) for s in range(self.n_models)
            ]
        return cache[(order, layers)]

    def _weights(self, item: MetricInput, models: list[Classifier]) -> list[np.ndarray]:
        """Weights of the explanations of ``models`` (smoothed over noisy copies with ``smooth``), the
        constant ones (which rank nothing) left out."""
        if self.smooth:
            weights = list(np.mean([self._explained(item, models, copy) for copy in self._noisy(item)], axis=0))
        else:
            weights = self._explained(item, models, (item.example, item.factorization))
        return [w for w in weights if np.ptp(w) > 0]

    @staticmethod
    def _explained(item: MetricInput, models: list[Classifier], copy: tuple) -> list[np.ndarray]:
        example, factorization = copy
        explanations = item.explainer.explain_models(models, example, factorization, item.explanation.target, item.seed)
        return [np.asarray(e.weights, dtype=np.float64) for e in explanations]

    def _noisy(self, item: MetricInput) -> list[tuple]:
        """sMPRT's ``smooth`` noisy copies of the instance (example, factorization), from its seed."""
        return noisy_copies(item, self.smooth, self.noise, NOISE_STREAM)

    @staticmethod
    def _seed_null(item: MetricInput, trained: np.ndarray) -> float | None:
        """1 - |Spearman| between the explanation and the trained model's explanation with another seed."""
        seed = int(np.random.SeedSequence([item.seed, NULL_STREAM]).generate_state(1)[0])
        explainer = item.explainer
        factorization = (
            explainer.factorize_for(item.model, item.example, seed)
            if explainer.seeded_factorization
            else item.factorization
        )
        again = explainer.explain(item.model, item.example, factorization, item.explanation.target, seed)
        return rank_divergence(trained, np.asarray(again.weights, dtype=np.float64))

    def score(self, item: MetricInput) -> Scores:
        if item.explainer is None:
            raise NotApplicableError("the randomization check explains again, and this item has no explainer")
        model = require(item.model, LayerRandomizable, "randomization_divergence")
        trained = np.asarray(item.explanation.weights, dtype=np.float64)
        if len(trained) < MIN_COMPONENTS:
            raise NotApplicableError(
                f"{len(trained)} components: |Spearman| between two rankings of 2 components is 1 whatever the weights"
            )
        if np.ptp(trained) == 0:
            raise NotApplicableError("the explanation is constant: it ranks no component, so no rank correlation")
        if self.smooth:  # sMPRT: the trained explanation smoothed like the randomized ones
            smoothed = self._weights(item, [item.model])
            if not smoothed:
                raise NotApplicableError("the smoothed explanation of the trained model is constant")
            trained = smoothed[0]
        randomized = self._weights(item, self._randomized(model, self.order, self.layers))
        if not randomized:
            raise NotApplicableError("every explanation of the randomized models is constant (ranks nothing)")
        rng = np.random.default_rng([item.seed, NULL_STREAM])
        values: dict[str, Any] = {
            self.name: float(np.mean([rank_divergence(trained, w) for w in randomized])),
            f"{self.name}.emprt": float(np.mean([weight_entropy(w) for w in randomized]) / weight_entropy(trained))
            if weight_entropy(trained) > 0
            else None,
            f"{self.name}.signed": float(np.mean([signed_rank_divergence(trained, w) for w in randomized])),
            f"{self.name}.seed_null": self._seed_null(item, trained),
            f"{self.name}.unrelated": float(np.mean([unrelated_divergence(trained, w, rng) for w in randomized])),
        }
        if self.curve:
            n_layers = model.n_layers()
            for count in range(1, n_layers + 1):
                if count == n_layers and self.order == "cascading" and self.layers in (None, n_layers):
                    curve_point = values[self.name]  # all layers: the models of the main value
                else:
                    at_count = self._weights(item, self._randomized(model, "cascading", count))
                    curve_point = float(np.mean([rank_divergence(trained, w) for w in at_count])) if at_count else None
                values[f"{self.name}.layers{count}"] = curve_point
        top1 = {
            "trained": int(np.argmax(trained)),
            "randomized": [int(np.argmax(w)) for w in randomized],
            "n_components": len(trained),
        }
        return Scores(values, {"_top1": top1})

    def summarize(self, records: Sequence[Record]) -> list[GroupRow]:
        trained: dict[tuple[str, str], Counter] = defaultdict(Counter)
        randomized: dict[tuple[str, str], Counter] = defaultdict(Counter)
        pairs: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
        for record in records:
            cell = (record.task, record.explainer)
            divergence, null = record.metrics.get(self.name), record.metrics.get(f"{self.name}.seed_null")
            if divergence is not None and null is not None:
                pairs[cell].append((divergence, null))
            top1 = record.metric_data.get("_top1")
            if not top1:
                continue
            names = record.components
            trained[cell][names[top1["trained"]]] += 1  # by name: examples may have different components
            randomized[cell].update(names[i] for i in top1["randomized"])
        rows = []
        for cell in sorted(set(trained) | set(pairs)):
            values: dict[str, float | None] = {}
            if cell in trained:
                bins = sorted(set(trained[cell]) | set(randomized[cell]))
                p = np.array([trained[cell][b] for b in bins])
                q = np.array([randomized[cell][b] for b in bins])
                values.update(
                    {
                        f"{self.name}.js": js_divergence(p, q),
                        f"{self.name}.entropy_trained": normalised_entropy(p, len(bins)),
                        f"{self.name}.entropy_randomized": normalised_entropy(q, len(bins)),
                    }
                )
            p_value = changes_more_than_its_noise(*np.array(pairs[cell]).T) if len(pairs[cell]) >= 2 else None
            values[f"{self.name}.p_value"] = p_value
            values[f"{self.name}.passes"] = None if p_value is None else float(p_value < SIGNIFICANCE)
            rows.append(GroupRow(cell[0], cell[1], "(dataset)", None, values))
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
        ax.set_ylabel("1 - |Spearman| (trained vs randomized)")
        ax.set_title(f"{task}: parameter randomization (higher: depends on the model)")
        legend = []
        if has_curve:
            curve_ax = axes[0, 1]
            for explainer in explainers:
                if curves[explainer]:
                    layers, divergence = zip(*curves[explainer])
                    curve_ax.plot(layers, divergence, marker="o", label=explainer)
            curve_ax.set_xlabel("top layers randomized (cascading)")
            curve_ax.set_ylabel("1 - |Spearman|")
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
