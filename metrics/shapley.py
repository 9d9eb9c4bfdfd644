"""Agreement with the exact Shapley values of the model: a second kind of truth, computed from the model
rather than planted in the data (XAI-Bench: Liu, Khandagale, White, Neiswanger, "Synthetic Benchmarks for
Scientific Research in Explainable Machine Learning", NeurIPS Datasets and Benchmarks 2021, Sec. 3-4)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from audiox_bench.core.data import MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.metrics.topk import top_positive
from audiox_bench.perturbation.baselines import TASK, check_baseline, switched_off
from audiox_bench.perturbation.shapley import shapley_game

MAX_COMPONENTS = 12  # 4,096 model inputs per example and class


class ShapleyAgreement(Metric):
    """Spearman correlation between an explanation's weights and the exact Shapley values of the target
    probability over the same components, and the overlap of their top-k positive components.

    The Shapley values are those of the game "the target class's probability with a coalition of
    components kept, the others switched off to the task's baseline" (segments refilled with it, sources
    removed), computed exactly from its 2^d coalitions (XAI-Bench, Liu et al. 2021, Sec. 3: Shapley values
    as a model-exact ground truth), once per example, class and kind of components, shared by every
    explainer of those components and kept on disk
    (:func:`~audiox_bench.perturbation.shapley.shapley_game`). Not applicable above ``max_components``.

    Values: ``shapley_agreement`` (Spearman rho, the weights' order against the values'; undefined for
    constant weights or values), ``.topk`` (how many of the explanation's top-k positive components are
    among the Shapley values' top-k positive ones, over k), and diagnostics that are the same for every
    explainer of an example: where the task plants a truth, ``.truth_topk`` (1 when the Shapley values'
    top-|truth| positive components are exactly the truth: the model relies on the planted truth and on
    nothing else as much, per example) and ``.truth_overlap`` (their share in the truth); ``.model_inputs``
    (2^d, what the values cost once per example).

    Parameters
    ----------
    k : int, optional
        Components compared at the top; default: the size of the task's truth where it states one, else 3
        (at most d - 1).
    max_components : int
        Largest d for which the values are computed (2^d model inputs per example).
    baseline : str
        What switched-off segments are filled with: ``task`` (the task's baseline, the default), an occlusion
        content, or ``own`` (the explanation's own fill: then the game differs per explainer).
    disk_cache : bool
        Keep the values on disk (``$AUDIOX_CACHE/shapley``), keyed by the model's tensors, the composed
        inputs and the class.
    """

    name = "shapley_agreement"
    higher_is_better = True
    primary = False  # a second kind of truth, ranked on its own; the planted truth decides the verdict
    description = "Spearman rho and top-k overlap with the exact Shapley values of the target score (2^d inputs)"
    value_roles = (("topk", "score"),)

    def __init__(
        self, k: int | None = None, max_components: int = MAX_COMPONENTS, baseline: str = TASK, disk_cache: bool = True
    ) -> None:
        if (k is not None and k < 1) or not 2 <= max_components <= 16:
            raise ValueError("k >= 1 and 2 <= max_components <= 16 are needed")
        self.k, self.max_components, self.disk_cache = k, int(max_components), bool(disk_cache)
        self.baseline = check_baseline(baseline)

    def value_names(self) -> list[str]:
        return [self.name, *(f"{self.name}.{v}" for v in ("topk", "truth_topk", "truth_overlap", "model_inputs"))]

    def score(self, item: MetricInput) -> Scores:
        d = item.factorization.n_components
        if d > self.max_components:
            raise NotApplicableError(
                f"exact Shapley values of {d} components need 2^{d} model inputs; computed for at most "
                f"{self.max_components} components"
            )
        if d < 3:
            raise NotApplicableError(f"a rank correlation over {d} components is +-1 by construction")
        baseline = item.baseline if self.baseline == TASK else self.baseline
        factorization = switched_off(item.factorization, item.model, baseline, item.seed)
        game = shapley_game(item.model, factorization, item.explanation.target, disk=self.disk_cache)
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        names = list(item.explanation.components)
        truth = item.ground_truth
        k = min(self.k or (len(truth) if truth else 3), d - 1)
        explained, exact = top_positive(names, weights, k), top_positive(names, game.values, k)
        rho = None
        if np.ptp(weights) > 0 and np.ptp(game.values) > 0:
            rho = float(stats.spearmanr(weights, game.values).statistic)
        truth_topk = truth_overlap = None
        if truth:
            by_truth = top_positive(names, game.values, len(truth))
            truth_overlap = len(set(by_truth) & truth.components) / len(truth)
            truth_topk = float(set(by_truth) == set(truth.components))
        return Scores(
            {
                self.name: rho,
                f"{self.name}.topk": len(set(explained) & set(exact)) / k,
                f"{self.name}.truth_topk": truth_topk,
                f"{self.name}.truth_overlap": truth_overlap,
                f"{self.name}.model_inputs": float(game.n_inputs),
            }
        )
