"""The metrics the audio-XAI literature reports, each against a reference implementation on the same inputs
(Quantus, scikit-learn) or a case with a known answer; the largest difference is asserted."""

import warnings
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from audiox_bench.core.data import Explanation, GroundTruth, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import contents, explainers, metrics
from audiox_bench.factorizations.contents import content_fill
from audiox_bench.factorizations.segmentation import SegmentationFactorization
from audiox_bench.metrics.complexity import gini, weight_entropy
from audiox_bench.metrics.curves import area_under, curve_masks
from audiox_bench.metrics.localisation import rank_auc, segment_labels
from audiox_bench.models.reinitialization import layer_groups, randomized_network

N_DRAWS = 200  # random explanations per cross-check


class _Unused(torch.nn.Module):
    """Quantus' localisation and complexity metrics take a model they do not call for these inputs."""

    def forward(self, x):
        return torch.ones((len(x), 2))


def quantus_on_components(metric, weights: np.ndarray, truth: np.ndarray) -> float:
    """A Quantus metric on the component view: one 'pixel' per component (batch, channel, components)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(
            metric(
                model=_Unused().eval(),
                x_batch=np.ones((1, 1, len(weights)), np.float32),
                y_batch=np.array([0]),
                a_batch=weights[None, None].astype(np.float32),
                s_batch=truth[None, None].astype(np.float32),
                device="cpu",
            )[0]
        )


def draws(seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(N_DRAWS):
        d = int(rng.integers(3, 16))
        truth = np.zeros(d, bool)
        truth[rng.choice(d, int(rng.integers(1, d)), replace=False)] = True
        weights = rng.normal(size=d).astype(np.float32).astype(np.float64)
        if (weights > 0).sum() >= 2:  # Quantus refuses explanations that are all negative or constant
            yield weights, truth


def item_of(model, example, factorization, weights, truth=None, target=0, spans=None) -> MetricInput:
    names = factorization.names
    ground = None if truth is None else GroundTruth(frozenset(n for n, t in zip(names, truth) if t), "truth", target)
    explanation = Explanation(tuple(names), np.asarray(weights, np.float64), target)
    return MetricInput(explanation, ground, model, example, factorization, seed=3, baseline="zero", truth_spans=spans)


def test_localisation_metrics_equal_quantus_and_scikit_learn():
    import quantus

    pointing, mass = metrics.build("pointing_game"), metrics.build("relevance_mass")
    largest = {"pointing": 0.0, "mass": 0.0, "auc": 0.0, "auc_sklearn": 0.0}
    for weights, truth in draws():
        ours = float(truth[int(np.argmax(weights))])
        largest["pointing"] = max(
            largest["pointing"],
            abs(ours - quantus_on_components(quantus.PointingGame(disable_warnings=True), weights, truth)),
        )
        positive = np.clip(weights, 0, None)
        if positive.sum() > 0:
            theirs = quantus_on_components(
                quantus.RelevanceMassAccuracy(abs=False, normalise=False, disable_warnings=True), positive, truth
            )
            largest["mass"] = max(largest["mass"], abs(positive[truth].sum() / positive.sum() - theirs))
        auc = rank_auc(weights, truth)
        theirs = quantus_on_components(quantus.AUC(abs=False, normalise=False, disable_warnings=True), weights, truth)
        largest["auc"] = max(largest["auc"], abs(auc - theirs))
        largest["auc_sklearn"] = max(largest["auc_sklearn"], abs(auc - roc_auc_score(truth, weights)))
    # float32 inputs on Quantus' side: differences are its single precision
    assert largest["pointing"] == 0 and largest["auc_sklearn"] < 1e-12
    assert largest["mass"] < 1e-6 and largest["auc"] < 1e-12
    assert pointing.higher_is_better and mass.higher_is_better


def test_complexity_metrics_equal_quantus():
    import quantus

    largest_gini = largest_entropy = 0.0
    for weights, truth in draws(1):
        largest_gini = max(
            largest_gini,
            abs(gini(weights) - quantus_on_components(quantus.Sparseness(disable_warnings=True), weights, truth)),
        )
        largest_entropy = max(
            largest_entropy,
            abs(
                weight_entropy(weights)
                - quantus_on_components(quantus.Complexity(disable_warnings=True), weights, truth)
            ),
        )
    assert largest_gini < 1e-6 and largest_entropy < 1e-5  # Quantus' float32 entropy
    assert gini(np.ones(5)) == 0 and gini(np.array([0, 0, 0, 1.0])) == pytest.approx(0.75)
    assert metrics.build("sparseness").value_spec("sparseness").role == "diagnostic"  # concentrated is not right


def test_segment_auc_follows_explain_where_and_reads_spans_on_any_grid(tiny_vocals):
    segments = np.array([[i / 10, (i + 1) / 10] for i in range(10)])
    # truth 0.25-0.55 s: 0.3-0.5 inside (positives), 0.2-0.3 and 0.5-0.6 half in (discarded), the rest negative
    labels = segment_labels(segments, [(0.25, 0.55)], min_overlap=0.9)
    assert labels.tolist() == [0, 0, -1, 1, 1, -1, 0, 0, 0, 0]
    example = next(e for e in tiny_vocals.examples(6) if e.meta.get("injected_segments"))
    spans = tiny_vocals.truth_spans(example)
    assert len(spans.intervals) == 3 and spans.target == 1
    slime = explainers.build("slime:n_segments=20")  # not the task's 10-segment grid
    factorization = slime.factorize_for(tiny_vocals.model, example, 0)
    inside = np.array(
        [
            any(a <= (s + e) / 2 < b for a, b in spans.intervals)
            for s, e in _seconds(factorization, tiny_vocals.model, example)
        ]
    )
    metric = metrics.build("segment_auc")
    marked = item_of(tiny_vocals.model, example, factorization, inside.astype(float), spans=spans, target=1)
    assert metric.score(marked)["segment_auc"] == 1.0  # weights that mark exactly the truth's segments
    reversed_ = item_of(tiny_vocals.model, example, factorization, -inside.astype(float), spans=spans, target=1)
    assert metric.score(reversed_)["segment_auc"] == 0.0
    elsewhere = item_of(tiny_vocals.model, example, factorization, inside.astype(float), spans=spans, target=0)
    elsewhere = replace(elsewhere, truth_spans=tiny_vocals.truth_spans(example, 0))
    with pytest.raises(NotApplicableError, match="no time span"):
        metric.score(elsewhere)  # the injected vocals drive 'vocals', not the other class


def _seconds(factorization, model, example):
    n_frames = factorization.features.shape[1]
    return [
        tuple(model.frame_sample_bounds(np.array(c.frames), n_frames, example.audio.size) / example.sr)
        for c in factorization.components
    ]


def test_deletion_insertion_and_mask_fidelity_equal_a_direct_computation(tiny_confound):
    model = tiny_confound.model
    example = tiny_confound.examples(3)[1]
    features = model.features(example.audio)[0]
    factorization = SegmentationFactorization(features, np.zeros_like(features), "temporal", n_time=8)
    weights = np.random.default_rng(4).normal(size=8)
    target = 0
    item = item_of(model, example, factorization, weights, target=target)

    def probability(masks):  # the model on composed inputs, without the prediction cache
        return model.predict_features(factorization.compose(np.asarray(masks, bool)))[:, target]

    order = np.argsort(-weights, kind="stable")
    kept = np.ones((9, 8), bool)
    for k in range(1, 9):
        kept[k, order[:k]] = False
    expected_deletion = np.trapezoid(probability(kept), dx=1 / 8)
    assert metrics.build("deletion").score(item)["deletion"] == pytest.approx(expected_deletion, abs=1e-12)
    inserted = ~kept
    expected_insertion = np.trapezoid(probability(inserted), dx=1 / 8)
    assert metrics.build("insertion").score(item)["insertion"] == pytest.approx(expected_insertion, abs=1e-12)
    assert not metrics.build("deletion").higher_is_better and metrics.build("deletion:order=lerf").higher_is_better
    p, q = probability(np.vstack([np.ones(8, bool), weights > 0]))
    assert metrics.build("average_drop").score(item)["average_drop"] == pytest.approx(max(0, p - q) / p, abs=1e-12)
    assert metrics.build("average_increase").score(item)["average_increase"] == float(q > p)
    assert metrics.build("average_gain").score(item)["average_gain"] == pytest.approx(
        max(0, q - p) / (1 - p), abs=1e-12
    )
    assert area_under(np.array([1.0, 0.0])) == 0.5 and curve_masks(
        np.array([0.1, 0.9]), "deletion", "morf"
    ).tolist() == [
        [True, True],
        [True, False],
        [False, False],
    ]


def test_max_sensitivity_is_zero_for_an_explainer_that_ignores_the_input_and_positive_otherwise(tiny_confound):
    model = tiny_confound.model
    example = tiny_confound.examples(3)[1]
    metric = metrics.build("max_sensitivity:n_samples=3")
    for spec, expected_zero in (("random:over=slime", True), ("occlusion:over=slime", False)):
        explainer = explainers.build(spec)
        factorization = explainer.factorize_for(model, example, 3)
        explanation = explainer.explain(model, example, factorization, 0, 3)
        item = MetricInput(explanation, None, model, example, factorization, explainer, 0, seed=3)
        value = metric.score(item)
        assert (value["max_sensitivity"] == 0.0) == expected_zero and 0 <= value["max_sensitivity.kept"] <= 1


def test_randomization_orders_and_efficient_mprt(tiny_confound):
    network = tiny_confound.model.network
    groups = layer_groups(network)
    up = randomized_network(network, "bottom_up", 1, seed=0)
    first, last = layer_groups(up)[0][0], layer_groups(up)[-1][0]
    assert not torch.equal(first.weight, groups[0][0].weight) and torch.equal(last.weight, groups[-1][0].weight)
    metric = metrics.build("randomization_divergence:n_models=2,order=bottom_up")
    explainer = explainers.build("occlusion:over=slime")
    example = tiny_confound.examples(3)[1]
    factorization = explainer.factorize_for(tiny_confound.model, example, 0)
    explanation = explainer.explain(tiny_confound.model, example, factorization, 0, 0)
    values = metric.score(
        MetricInput(explanation, None, tiny_confound.model, example, factorization, explainer, 0, seed=0)
    )
    assert values["randomization_divergence.emprt"] > 0 and 0 <= values["randomization_divergence"] <= 1
    smoothed = metrics.build("randomization_divergence:n_models=1,smooth=2")
    assert (
        0
        <= smoothed.score(
            MetricInput(explanation, None, tiny_confound.model, example, factorization, explainer, 0, seed=0)
        )["randomization_divergence"]
        <= 1
    )


def test_noisy_linear_imputes_a_ramp_exactly_without_noise():
    features = np.tile(np.arange(12, dtype=np.float32), (4, 1))  # each band rises by 1 per frame
    factorization = SegmentationFactorization(features, features, "temporal", n_time=4)
    fill = content_fill(
        contents.build("noisy_linear:noise=0"), features, None, np.random.default_rng(0), factorization.cell_map
    )
    middle = factorization.cell_map == 1  # frames 3-5: between frames 2 and 6
    assert np.allclose(fill[middle], features[middle])  # linear between its neighbours: the ramp itself
    edge = factorization.cell_map == 0  # frames 0-2: one neighbour (frame 3): its value
    assert np.allclose(fill[edge], 3.0)
    with pytest.raises(NotApplicableError, match="needs the cells"):
        contents.build("noisy_linear").fill(features, None, np.random.default_rng(0))
