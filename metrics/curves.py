"""Perturbation curves and mask fidelity: what the model says as an explanation's components are switched
off (to the task's baseline, as every metric here) or kept alone.

- ``deletion`` / ``insertion`` (Petsiuk, Das, Saenko, BMVC 2018, RISE, Sec. 4.1): components are switched
  off (deletion), or switched on from the all-off input (insertion), one by one in the explanation's order,
  and the target's probability is read after each step; the value is the area under that curve over the
  fraction of components changed, [0, 1] (trapezoids). ``order=morf`` goes most relevant first (the paper's),
  ``lerf`` least relevant first (Samek et al. 2017; Rong et al. 2022 read the two together: a mask that
  leaks the label makes them disagree). Deletion in MoRF order is better when lower, insertion when higher;
  LeRF reverses both. ``relative=True`` divides the curve by the probability on the full input.
- ``average_drop``, ``average_increase``, ``average_gain`` as the audio papers report them (L-MAC, Paissan
  et al. 2024, Sec. 4, SpeechBrain's interpretability recipes, after Chattopadhyay et al. 2018 for AD and
  AI): the input is kept only on the explanation's positive components (the rest switched off) and, with
  p the probability of the explained class on the input and q on the kept part, per instance
  AD = max(0, p - q) / p, AI = [q > p], AG = max(0, q - p) / (1 - p); the leaderboard's mean over instances
  is the papers' figure (they print it in percent).

Each instance costs one model input per step of the curve (d + 1), or one for the mask fidelity, through
the shared prediction cache (an input another explainer of the instance already needed is not evaluated
again).
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.data import MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.perturbation.baselines import TASK, check_baseline, switched_off
from audiox_bench.perturbation.prediction_cache import prediction_cache

ORDERS = ("morf", "lerf")
CURVES = ("deletion", "insertion")


def masked_scores(item: MetricInput, masks: np.ndarray, baseline: str) -> np.ndarray:
    """The target's probability for each mask ``(n, d)`` (True: the component is kept), the rest switched
    off to ``baseline`` (``task``: the task's), through the shared prediction cache."""
    chosen = item.baseline if baseline == TASK else baseline
    factorization = switched_off(item.factorization, item.model, chosen, item.seed)
    probabilities = prediction_cache(item.model).predict(item.model, factorization, np.asarray(masks, bool))
    return probabilities[:, item.explanation.target]


def curve_masks(weights: np.ndarray, curve: str, order: str) -> np.ndarray:
    """The masks ``(d + 1, d)`` of a deletion or insertion curve: step k has the first k components of the
    order switched off (deletion) or on (insertion). Ties keep component order."""
    weights = np.asarray(weights, dtype=np.float64)
    d = len(weights)
    ranking = np.argsort(-weights if order == "morf" else weights, kind="stable")
    changed = np.zeros((d + 1, d), bool)
    for k in range(1, d + 1):
        changed[k, ranking[:k]] = True
    return ~changed if curve == "deletion" else changed


def area_under(scores: np.ndarray) -> float:
    """Trapezoid area of ``scores`` over equally spaced points of [0, 1]."""
    scores = np.asarray(scores, dtype=np.float64)
    return float(np.sum((scores[1:] + scores[:-1]) / 2) / (len(scores) - 1))


class PerturbationCurve(Metric):
    """Deletion or insertion area (see the module): RISE (Petsiuk et al. 2018, Sec. 4.1) over components.

    Parameters
    ----------
    curve : str
        ``deletion`` (switch off, in order) or ``insertion`` (switch on from all off, in order).
    order : str
        ``morf`` (most relevant first, the default and the paper's) or ``lerf``.
    relative : bool
        Divide the curve by the probability on the full input (default False: the paper's raw probability).
    baseline : str
        What switched-off segments are filled with: ``task`` (default) or an occlusion content.
    """

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "deletion"
    description = "area under the target probability as components are switched off, most relevant first"

    def __init__(self, curve: str = "deletion", order: str = "morf", relative: bool = False, baseline: str = TASK):
        if curve not in CURVES or order not in ORDERS:
            raise ValueError(f"curve must be one of {', '.join(CURVES)} and order one of {', '.join(ORDERS)}")
        self.curve, self.order, self.relative = curve, order, bool(relative)
        self.baseline = check_baseline(baseline)
        # a faithful explanation drops the score fast when deleting its best first, raises it fast when
        # inserting them; least relevant first reverses both
        self.higher_is_better = (curve == "insertion") == (order == "morf")

    def score(self, item: MetricInput) -> Scores:
        d = item.factorization.n_components
        if d < 2:
            raise NotApplicableError("a curve needs at least 2 components")
        masks = curve_masks(item.explanation.weights, self.curve, self.order)
        scores = masked_scores(item, np.vstack([np.ones((1, d), bool), masks]), self.baseline)
        full, steps = scores[0], scores[1:]
        if self.relative:
            if full <= 0:
                raise NotApplicableError("the full input's probability is 0: a relative curve is undefined")
            steps = steps / full
        return Scores({self.name: area_under(steps)})


class Deletion(PerturbationCurve):
    """Deletion area (RISE, Petsiuk et al. 2018, Sec. 4.1): lower is better in MoRF order."""

    name = "deletion"
    higher_is_better = False
    description = "area under the target probability as components are switched off in the explanation's order"

    def __init__(self, order: str = "morf", relative: bool = False, baseline: str = TASK) -> None:
        super().__init__("deletion", order, relative, baseline)


class Insertion(PerturbationCurve):
    """Insertion area (RISE, Petsiuk et al. 2018, Sec. 4.1): higher is better in MoRF order."""

    name = "insertion"
    higher_is_better = True
    description = "area under the target probability as components are switched on in the explanation's order"

    def __init__(self, order: str = "morf", relative: bool = False, baseline: str = TASK) -> None:
        super().__init__("insertion", order, relative, baseline)


class KeptPositive(Metric):
    """The probability of the explained class on the full input (p) and on the input kept only on the
    explanation's positive components (q), for the mask-fidelity values of L-MAC (Paissan et al. 2024,
    Sec. 4) and SpeechBrain's recipes (after Chattopadhyay et al. 2018). Both inputs go through the shared
    prediction cache, so the three metrics of an instance cost one model input between them.

    Parameters
    ----------
    baseline : str
        What the switched-off segments are filled with: ``task`` (default) or an occlusion content.
    """

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta

    def __init__(self, baseline: str = TASK) -> None:
        self.baseline = check_baseline(baseline)

    def kept(self, item: MetricInput) -> tuple[float, float]:
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        kept = weights > 0
        if not kept.any():
            raise NotApplicableError("no component has a positive weight: nothing to keep")
        p, q = masked_scores(item, np.vstack([np.ones((1, len(weights)), bool), kept[None]]), self.baseline)
        return float(p), float(q)


class AverageDrop(KeptPositive):
    """Per instance max(0, p - q) / p: the share of the class's probability lost when only the positive
    components are kept (its mean over instances is the papers' average drop). Lower is better."""

    name = "average_drop"
    higher_is_better = False
    description = "relative drop of the class's probability when only the positive components are kept"

    def score(self, item: MetricInput) -> Scores:
        p, q = self.kept(item)
        if p <= 0:
            raise NotApplicableError("the class's probability on the full input is 0")
        return Scores({self.name: max(0.0, p - q) / p})


class AverageIncrease(KeptPositive):
    """Per instance 1 when the kept positive components alone raise the class's probability (q > p), else 0
    (its mean is the papers' average increase, a rate). Higher is better."""

    name = "average_increase"
    higher_is_better = True
    description = "whether keeping only the positive components raises the class's probability (a rate)"

    def score(self, item: MetricInput) -> Scores:
        p, q = self.kept(item)
        return Scores({self.name: float(q > p)})


class AverageGain(KeptPositive):
    """Per instance max(0, q - p) / (1 - p): the share of the room above p the kept positive components
    gain (its mean is L-MAC's average gain). Higher is better."""

    name = "average_gain"
    higher_is_better = True
    description = "relative gain of the class's probability when only the positive components are kept"

    def score(self, item: MetricInput) -> Scores:
        p, q = self.kept(item)
        if p >= 1:
            raise NotApplicableError("the class's probability on the full input is 1: no room to gain")
        return Scores({self.name: max(0.0, q - p) / (1 - p)})
