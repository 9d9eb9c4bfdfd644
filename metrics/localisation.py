"""Localisation: how well an explanation's weights single out the components the task planted as truth.

- ``pointing_game``: whether the top-1 component is truth (Zhang et al., ECCV 2016, Sec. 4.1: a hit when
  the maximum of the map falls in the object's mask).
- ``relevance_mass``: the share of the positive weight that falls on truth components (relevance mass
  accuracy, Arras, Osman, Samek, Information Fusion 2022, Sec. 4.2, who keep positive relevance only).
- ``localisation_auc``: ROC AUC of the weights as a score for truth membership (the probability that a
  truth component outweighs a non-truth one, ties counting half).
- ``segment_auc``: the relaxed time-segment AUC of explain_where (Bolaños et al. 2025): each time segment
  of the explanation is a positive when it overlaps the truth's time spans by more than ``min_overlap`` of
  its length, a negative when it does not overlap them, and is discarded when it overlaps them partly;
  then the ROC AUC of the weights. It needs the truth's spans in seconds (:class:`TruthSpans`), not its
  components, so it scores segmentations on any grid.

Every value is undefined (with the reason) where the task states no truth for the explanation's class, and
the AUCs where the truth (or its complement) is empty: a ranking needs both.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from scipy import stats

from audiox_bench.core.classifier import FeatureClassifier
from audiox_bench.core.components import Factorization, FeatureFactorization
from audiox_bench.core.data import MetricInput, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.core.task import NO_TRUTH

SIGNS = ("positive", "abs")


def truth_mask(names: Sequence[str], truth: Collection[str]) -> np.ndarray:
    """Whether each component is in ``truth`` ``(len(names),)``."""
    members = set(truth)
    return np.array([name in members for name in names], dtype=bool)


def pointing_game(weights: np.ndarray, mask: np.ndarray) -> float:
    """1.0 if the largest weight (the first, on ties) is on a truth component, else 0.0."""
    return float(mask[int(np.argmax(weights))])


def relevance_mass(weights: np.ndarray, mask: np.ndarray, sign: str = "positive") -> float | None:
    """The share of the relevance (positive weights, or |weights|) on truth components; None when there
    is no relevance at all."""
    relevance = np.clip(weights, 0, None) if sign == "positive" else np.abs(weights)
    total = float(relevance.sum())
    return float(relevance[mask].sum() / total) if total > 0 else None


def rank_auc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """ROC AUC of ``scores`` for ``positive`` (Mann-Whitney U / (n+ n-), ties counting half); None when
    either class is empty."""
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = stats.rankdata(scores)
    u = ranks[positive].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def segment_labels(segments: np.ndarray, spans: Sequence[tuple[float, float]], min_overlap: float) -> np.ndarray:
    """explain_where's labels of time segments ``(n, 2)`` (seconds) against truth ``spans``: 1 when a
    segment overlaps them by more than ``min_overlap`` of its length, 0 when not at all, -1 (discarded)
    when partly."""
    labels = np.zeros(len(segments), dtype=int)
    for i, (start, end) in enumerate(segments):
        overlap = sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)
        if overlap > min_overlap * (end - start):
            labels[i] = 1
        elif overlap > 0:
            labels[i] = -1
    return labels


def component_seconds(item: MetricInput) -> np.ndarray | None:
    """Each component's time span in seconds ``(d, 2)``, or None when some component spans no time
    (sources) or the model cannot say where frames fall."""
    factorization: Factorization = item.factorization
    model, example = item.model, item.example
    spans = []
    for component in factorization.components:
        if component.samples is not None:
            spans.append(component.samples)
        elif (
            component.frames is not None
            and isinstance(factorization, FeatureFactorization)
            and isinstance(model, FeatureClassifier)
        ):
            n_frames = factorization.features.shape[1]
            spans.append(tuple(model.frame_sample_bounds(np.array(component.frames), n_frames, example.audio.size)))
        else:
            return None
    return np.asarray(spans, dtype=np.float64) / example.sr


def _truth(item: MetricInput) -> np.ndarray:
    truth = item.ground_truth
    if truth is None or len(truth) == 0:
        raise NotApplicableError(item.truth_note or NO_TRUTH)
    return truth_mask(item.explanation.components, truth.components)


class PointingGame(Metric):
    """1 when the top-1 component is truth, else 0 (a rate): Zhang et al. (ECCV 2016, Sec. 4.1). Ties for
    the largest weight go to the first component, as ``numpy.argmax`` and Quantus' PointingGame do."""

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "pointing_game"
    higher_is_better = True
    description = "whether the component of largest weight is ground truth (a hit rate)"

    def score(self, item: MetricInput) -> Scores:
        return Scores({self.name: pointing_game(np.asarray(item.explanation.weights, float), _truth(item))})


class RelevanceMass(Metric):
    """Relevance mass accuracy (Arras, Osman, Samek 2022, Sec. 4.2): the share of the explanation's
    relevance that falls on truth components.

    Parameters
    ----------
    sign : str
        ``positive`` (default, as the paper: negative relevance set to 0) or ``abs`` (|w|, as Quantus'
        default ``abs=True``).
    """

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "relevance_mass"
    higher_is_better = True
    description = "share of the positive weight on ground-truth components"

    def __init__(self, sign: str = "positive") -> None:
        if sign not in SIGNS:
            raise ValueError(f"sign must be one of {', '.join(SIGNS)}")
        self.sign = sign

    def score(self, item: MetricInput) -> Scores:
        mask = _truth(item)
        value = relevance_mass(np.asarray(item.explanation.weights, float), mask, self.sign)
        if value is None:
            raise NotApplicableError("no component has relevance (every weight is 0 or negative)")
        return Scores({self.name: value})


class LocalisationAUC(Metric):
    """ROC AUC of the weights as a score for truth membership: the probability that a truth component
    weighs more than a non-truth one (ties half). 0.5 is chance, whatever the share of truth. Undefined
    when every component or none is truth (``scipy.stats.mannwhitneyu``'s U / (n+ n-); equal to
    ``sklearn.metrics.roc_auc_score``)."""

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "localisation_auc"
    higher_is_better = True
    description = "ROC AUC of the weights for ground-truth membership (0.5: chance)"

    def score(self, item: MetricInput) -> Scores:
        value = rank_auc(np.asarray(item.explanation.weights, float), _truth(item))
        if value is None:
            raise NotApplicableError("every component is ground truth, or none: an AUC needs both")
        return Scores({self.name: value})


class SegmentAUC(Metric):
    """The relaxed time-segment AUC of explain_where (Bolaños et al. 2025, "relaxed AUC"): time segments
    that overlap the truth's spans by more than ``min_overlap`` of their length are positives, those that
    do not overlap them negatives, and those in between are discarded; then the ROC AUC of the weights
    (ties half: explain_where breaks ties by position, which makes equal weights score by order).

    It reads the truth's time spans (:meth:`~audiox_bench.core.task.Task.truth_spans`), so it scores
    temporal segmentations on any grid, not only the task's.

    Parameters
    ----------
    min_overlap : float
        Share of a segment's length the truth must cover for it to count as truth (explain_where: 0.09 s
        of 0.1 s segments, 0.9).
    """

    primary = False  # ranked on its own, not (yet) in the overall verdict: see audiox meta
    name = "segment_auc"
    higher_is_better = True
    description = "relaxed ROC AUC of time segments against the truth's time spans (partial overlaps discarded)"

    def __init__(self, min_overlap: float = 0.9) -> None:
        if not 0 < min_overlap <= 1:
            raise ValueError("min_overlap must be in (0, 1]")
        self.min_overlap = float(min_overlap)

    def score(self, item: MetricInput) -> Scores:
        spans = item.truth_spans
        if spans is None:
            raise NotApplicableError(
                item.truth_note or "the task states no time span of its truth for the class explained"
            )
        segments = component_seconds(item)
        if segments is None:
            raise NotApplicableError("the components are not time segments (sources have no span of their own)")
        labels = segment_labels(segments, spans.intervals, self.min_overlap)
        kept = labels >= 0
        value = rank_auc(np.asarray(item.explanation.weights, float)[kept], labels[kept] == 1)
        if value is None:
            raise NotApplicableError("no segment lies inside the truth's spans, or none outside: an AUC needs both")
        return Scores({self.name: value})
