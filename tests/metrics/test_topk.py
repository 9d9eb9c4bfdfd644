import numpy as np
import pytest

from audiox_bench.core.data import Explanation, GroundTruth, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.metrics.topk import TopKOverlap, top_positive, topk_overlap

NAMES = ("guitar", "bass", "drums", "strings")


def test_top_positive_ignores_negative_weights_and_breaks_ties_by_order():
    assert top_positive(NAMES, np.array([0.1, -0.5, 0.9, 0.1]), 3) == ["drums", "guitar", "strings"]
    assert top_positive(NAMES, np.array([-1.0, -1, -1, 0.2]), 3) == ["strings"]


@pytest.mark.parametrize(
    "weights, truth, expected",
    [
        ([0.0, 0.1, 0.9, 0.0], {"drums"}, 1),
        ([0.9, 0.1, 0.5, 0.0], {"drums"}, 0),
        ([0.9, 0.1, -0.5, 0.0], {"drums"}, 0),
        ([0.3, 0.1, 0.9, 0.0], {"drums", "guitar"}, 2),
        ([0.3, 0.5, 0.9, 0.0], {"drums", "guitar"}, 1),
        ([-0.3, -0.5, 0.9, 0.0], {"drums", "guitar"}, 1),
    ],
)
def test_topk_overlap_hand_made(weights, truth, expected):
    assert topk_overlap(NAMES, np.array(weights), truth) == expected


def test_metric_reports_fraction_and_count_and_skips_missing_truth():
    explanation = Explanation(NAMES, np.array([0.3, 0.5, 0.9, 0.0]), target=0)
    metric = TopKOverlap()
    with_truth = MetricInput(explanation, GroundTruth(frozenset({"drums", "guitar"})), None, None, None)
    assert metric.score(with_truth) == {
        "topk_overlap": 0.5,
        "topk_overlap.n_ce": 1.0,
        "topk_overlap.all": 0.0,
        "topk_overlap.all_but_one": None,  # a rate of 3 or more truth components
    }
    without = MetricInput(explanation, None, None, None, None)
    with pytest.raises(NotApplicableError, match="no ground truth"):
        metric.score(without)


def test_wrong_weight_shape_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        topk_overlap(NAMES, np.ones(3), {"drums"})


def _item(weights, truth=None, **fields):
    names = tuple(f"c{i}" for i in range(len(weights)))
    return MetricInput(Explanation(names, np.asarray(weights, float), 0), truth, None, None, None, **fields)


def test_all_but_one_is_undefined_below_three_truth_components():
    metric = TopKOverlap()
    one = metric.score(_item([0.1, 0.9, 0.3], GroundTruth(frozenset({"c0"}))))
    assert one["topk_overlap"] == 0.0 and one["topk_overlap.all_but_one"] is None
    three = metric.score(_item([0.9, 0.8, -0.1, 0.7], GroundTruth(frozenset({"c0", "c1", "c2"}))))
    assert three["topk_overlap.all_but_one"] == 1.0 and three["topk_overlap.all"] == 0.0
