"""Adversarial regions on the tiny singing-voice detector: confinement, success, truth, label flip."""

import numpy as np
import pytest

from audiox_bench.core.data import Explanation, MetricInput
from audiox_bench.core.registry import explainers, tasks
from audiox_bench.factorizations.segmentation import segment_components, segment_layout
from audiox_bench.metrics.label_flip import LabelFlip
from tests.conftest import TINY_ADVERSARIAL_SPEC


@pytest.fixture(scope="module", params=["features", "audio"])
def adversarial(request, tiny_vocals):
    task = tasks.build(f"{TINY_ADVERSARIAL_SPEC},domain={request.param}")
    task.prepare(progress=False)
    return task, task.select(3)


def test_perturbation_is_exactly_zero_outside_its_regions(adversarial):
    task, selection = adversarial
    examples = selection.examples
    assert examples, selection.facts
    for example in examples:
        perturbation = example.perturbation
        delta, chosen = perturbation.delta, [time for _, time in perturbation.regions]
        features = task.model.features(perturbation.clean)[0] if task.domain == "audio" else delta
        cell_map, _ = segment_components(*features.shape, segment_layout("temporal", 10, 4))
        if task.domain == "features":
            inside = np.isin(cell_map, chosen)
        else:
            bounds = task.model.segment_sample_bounds(features.shape[1], 10, delta.size)
            inside = np.zeros(delta.size, bool)
            for k in chosen:
                inside[bounds[k] : bounds[k + 1]] = True
        assert np.all(delta[~inside] == 0.0) and np.any(delta[inside] != 0.0)
        assert np.abs(delta).max() <= task.settings.epsilon + 1e-6


def test_successful_examples_flip_the_model_and_clean_ones_did_not(adversarial):
    task, selection = adversarial
    examples = selection.examples
    model = task.model
    for example in examples:
        clean = example.perturbation.clean
        if task.domain == "features":
            before, after = model.predict_features(np.stack([clean, example.features])).argmax(1)
        else:
            before, after = model.predict_proba(np.stack([clean, example.audio])).argmax(1)
        assert before == task.clean_label and after == task.adversarial_label
    assert task.validity_checks[0].name == "attack_success_rate_to_vocals"
    assert selection.facts["successful"] == len(examples) and selection.facts["mean_snr_db"] > 0


def test_truth_is_the_perturbed_regions_for_the_same_segmentation(adversarial):
    task, selection = adversarial
    examples = selection.examples
    example = examples[0]
    temporal = explainers.build("slime").factorize(task.model, example)
    assert task.truth_for(example, temporal).components == {f"t{t}" for _, t in example.perturbation.regions}
    assert task.truth_for(example, explainers.build("slime:n_segments=5").factorize(task.model, example)) is None


def test_label_flip_on_hand_made_explanations(adversarial):
    task, selection = adversarial
    examples = selection.examples
    example = examples[0]
    factorization = explainers.build("slime").factorize(task.model, example)
    names = list(factorization.names)
    regions = {f"t{t}" for _, t in example.perturbation.regions}
    on_truth = np.array([1.0 if n in regions else -1.0 for n in names])
    off_truth = -on_truth  # positive weight only where nothing was perturbed
    metric = LabelFlip()
    right = metric.score(MetricInput(Explanation(tuple(names), on_truth, 1), None, task.model, example, factorization))
    wrong = metric.score(MetricInput(Explanation(tuple(names), off_truth, 1), None, task.model, example, factorization))
    assert right == {"label_flip": 1.0, "label_flip.all_positive": 1.0, "label_flip.oracle": 1.0}
    assert wrong["label_flip"] == 0.0 and wrong["label_flip.all_positive"] == 0.0  # the clean input again
    assert wrong["label_flip.oracle"] == 1.0  # the oracle does not depend on the explanation


def test_bad_parameters_are_named():
    with pytest.raises(ValueError, match="detector settings start with detector_"):
        tasks.build("adversarial:n_stems=3")
    with pytest.raises(ValueError, match="layout=temporal"):
        tasks.build("adversarial:domain=audio,layout=time_frequency")
