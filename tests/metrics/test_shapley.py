"""Exact Shapley values as a truth: the game against Captum's ShapleyValues (all orderings) on the same inputs,
the agreement metric on known answers, and its disk cache."""

from dataclasses import replace

import numpy as np
import pytest

from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers, metrics
from audiox_bench.engine.items import metric_input
from audiox_bench.perturbation.baselines import switched_off
from audiox_bench.perturbation.prediction_cache import cost_meter
from audiox_bench.perturbation.shapley import SHAPLEY_DIR, shapley_game

captum_attr = pytest.importorskip("captum.attr")


@pytest.fixture(scope="module")
def vocals_case(tiny_vocals):
    example = tiny_vocals.examples(1)[0]
    explainer = explainers.build("slime:n_segments=10")
    factorization = explainer.factorize(tiny_vocals.model, example)
    return tiny_vocals, example, explainer, factorization


def _item(task, example, explainer, factorization, weights, target=1):
    explanation = explainer.explain(task.model, example, factorization, target, 0)
    weighted = replace(explanation, weights=np.asarray(weights, dtype=np.float64))
    return metric_input(task, explainer, example, factorization, weighted, target, 0)


def test_the_game_is_captums_shapley_values_on_the_tasks_baseline(tiny_vocals):
    """Captum's ShapleyValues walks all 7! = 5,040 orderings of 7 segments, refilled with the task's baseline;
    ours sums the 2^7 coalitions. Measured max |difference| 6.6e-6 on values up to 0.57 (Captum accumulates the
    5,040 marginal contributions in float32)."""
    example = tiny_vocals.examples(1)[0]
    model = tiny_vocals.model
    factorization = explainers.build("slime:n_segments=7").factorize(model, example)
    refilled = switched_off(factorization, model, tiny_vocals.baseline, seed=0)
    ours = shapley_game(model, refilled, 1, disk=False)
    theirs = explainers.build("captum:method=ShapleyValues,n_segments=7").explain(model, example, refilled, 1, 0)
    assert np.abs(ours.values - theirs.weights).max() < 1e-5
    assert ours.n_inputs == 128 and ours.values.sum() == pytest.approx(ours.full - ours.empty, abs=1e-12)


def test_the_exact_values_agree_with_themselves_and_not_with_their_reverse(vocals_case):
    task, example, explainer, factorization = vocals_case
    refilled = switched_off(factorization, task.model, task.baseline, seed=0)
    values = shapley_game(task.model, refilled, 1).values
    metric = metrics.build("shapley_agreement")
    same = metric.score(_item(task, example, explainer, factorization, values))
    assert same["shapley_agreement"] == pytest.approx(1.0) and same["shapley_agreement.topk"] == 1.0
    reverse = metric.score(_item(task, example, explainer, factorization, -values))
    assert reverse["shapley_agreement"] == pytest.approx(-1.0) and reverse["shapley_agreement.topk"] == 0.0
    # the truth diagnostics are the values' own: the same whatever the explanation says
    assert same["shapley_agreement.truth_topk"] == reverse["shapley_agreement.truth_topk"] in (0.0, 1.0)
    assert same["shapley_agreement.model_inputs"] == 1024.0


def test_the_values_are_kept_on_disk_per_model_inputs_and_class(vocals_case, private_cache):
    task, _, _, factorization = vocals_case
    refilled = switched_off(factorization, task.model, task.baseline, seed=0)
    first = shapley_game(task.model, refilled, 0)
    with cost_meter() as cost:  # read from disk: charged what it cost when computed (as if it ran alone)
        again = shapley_game(task.model, refilled, 0)
    other_class = shapley_game(task.model, refilled, 1)
    assert again.from_disk and np.array_equal(first.values, again.values)
    assert cost.shared_seconds == again.seconds > 0
    assert not np.allclose(first.values, other_class.values)
    assert len(list((private_cache / SHAPLEY_DIR).glob("*.npz"))) >= 2


def test_too_many_or_too_few_components_are_not_applicable(vocals_case, tiny_confound):
    task, example, explainer, factorization = vocals_case
    few = metrics.build("shapley_agreement:max_components=8")
    with pytest.raises(NotApplicableError, match="2\\^10 model inputs"):
        few.score(_item(task, example, explainer, factorization, np.arange(10.0)))
    confound_example = tiny_confound.examples(2)[0]
    two = explainers.build("audiolime:separator=hpss")  # harmonic and percussive
    hpss = two.factorize(tiny_confound.model, confound_example)
    with pytest.raises(NotApplicableError, match="by construction"):
        metrics.build("shapley_agreement").score(
            _item(tiny_confound, confound_example, two, hpss, np.arange(float(hpss.n_components)), target=0)
        )
