"""Stability U_n, content agreement, sweeps (a|b SPECs) and the shared prediction cache."""

import numpy as np
import pytest

from audiox_bench.core.errors import SpecError
from audiox_bench.core.records import Record
from audiox_bench.core.registry import explainers
from audiox_bench.core.spec import expand_grid
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.metrics.stability import (
    ContentAgreement,
    Stability,
    common_in_top_k,
    unique_in_top_k,
)
from audiox_bench.perturbation.lime import lime_explain
from audiox_bench.perturbation.masks import sample_masks
from audiox_bench.perturbation.prediction_cache import cost_meter, forget_predictions
from audiox_bench.perturbation.surrogate import (
    distances_to_original,
    exponential_kernel,
    fit_surrogate,
)
from tests.conftest import TINY_CONFOUND_SPEC

NAMES = ["t0", "t1", "t2", "t3", "t4"]


def record(explainer, example, repeat, weights, task="vocals"):
    return Record(task, explainer, example, repeat, components=NAMES, weights=list(weights))


def test_unique_in_top_k_hand_made():
    same = (NAMES, [5, 4, 3, 0, 0])
    assert unique_in_top_k([same, same, same], 3) == 3
    assert unique_in_top_k([same, (NAMES, [0, 4, 3, 5, 0])], 3) == 4
    assert unique_in_top_k([same, (NAMES, [0, 0, 1, 2, 3])], 3) == 5
    assert common_in_top_k(same, (NAMES, [0, 0, 1, 2, 3]), 3) == 1


def test_stability_groups_repeats_and_needs_two():
    records = [record("slime", "a", r, w) for r, w in enumerate([[5, 4, 3, 0, 0], [0, 4, 3, 5, 0]])]
    records.append(record("slime", "b", 0, [1, 2, 3, 4, 5]))
    rows = {row.example_id: row for row in Stability().score_records(records)}
    assert rows["a"].metrics["stability"] == 4 and rows["a"].repeat is None
    assert rows["b"].metrics["stability"] is None  # one repeat says nothing about stability


def test_content_agreement_pairs_with_the_reference_content():
    metric = ContentAgreement()
    assert metric.companions("slime:content=mean_inp,n_samples=1000") == ["slime:n_samples=1000"]
    assert metric.companions("slime") == []  # already the reference
    assert metric.companions("audiolime") == []  # no content parameter
    records = [
        record("slime:content=mean_inp", "a", 0, [5, 4, 3, 0, 0]),
        record("slime", "a", 0, [5, 0, 3, 4, 0]),
        record("slime:content=mean_inp", "b", 0, [5, 4, 3, 0, 0]),
    ]
    rows = {row.example_id: row.metrics for row in metric.score_records(records)}
    assert rows["a"] == {"content_agreement": 2 / 3, "content_agreement.n_ce": 2}
    assert rows["b"]["content_agreement"] is None  # the reference record is missing


def test_expand_grid():
    assert expand_grid("slime") == ["slime"]
    assert expand_grid("slime:content=zero|mean_inp,n_samples=10|none") == [
        "slime:content=zero,n_samples=10",
        "slime:content=zero,n_samples=none",
        "slime:content=mean_inp,n_samples=10",
        "slime:content=mean_inp,n_samples=none",
    ]
    with pytest.raises(SpecError, match="empty alternative"):
        expand_grid("slime:content=zero|")


def test_sweep_run_adds_the_reference_and_scores_group_metrics(tiny_confound, tmp_path):
    spec = RunSpec(
        tasks=(TINY_CONFOUND_SPEC,),
        explainers=("slime:content=mean_inp,n_samples=200|400",),
        metrics=("topk_overlap", "stability", "content_agreement"),
        n_examples=3,
        repeats=2,
    )
    result = run_benchmark(spec, out=tmp_path / "run", progress=False)
    explainers_run = {r.explainer for r in result.records}
    assert explainers_run == {
        "slime:content=mean_inp,n_samples=200",
        "slime:content=mean_inp,n_samples=400",
        "slime:n_samples=200",
        "slime:n_samples=400",
    }
    table = result.leaderboard
    stability = table[table.metric == "stability"]
    assert len(stability) == 4 and (stability["n"] == 3).all() and (stability["mean"] >= 3).all()
    agreement = table[table.metric == "content_agreement"]
    assert set(agreement.explainer) == {"slime:content=mean_inp,n_samples=200", "slime:content=mean_inp,n_samples=400"}
    assert (agreement["n"] == 6).all()
    assert (tmp_path / "run" / "group_metrics.jsonl").is_file()
    # Configurations share the instance's seed; the second N_s reuses the first one's predictions.
    seeds = {}
    for r in result.records:
        seeds.setdefault((r.example_id, r.repeat), set()).add(r.seed)
    assert all(len(s) == 1 for s in seeds.values())


def test_configurations_share_model_outputs(tiny_confound):
    model = tiny_confound.model
    example = tiny_confound.examples(5)[4]
    forget_predictions(model)
    first, second = explainers.build("slime:content=min_inp"), explainers.build("slime:content=min_inp,n_samples=5000")
    with cost_meter() as cost_a:
        first.explain(model, example, first.factorize(model, example), target=0, seed=0)
    with cost_meter() as cost_b:
        second.explain(model, example, second.factorize(model, example), target=0, seed=0)
    assert cost_a.inputs == 1024 and cost_a.cache_hits == 0
    assert cost_b.inputs == cost_b.cache_hits <= 1024  # every distinct mask of N_s = 5000 was evaluated for the first


def test_slime_dedup_fit_equals_the_naive_fit_on_a_real_model(tiny_vocals):
    """N_s = 3,000 sampled masks: evaluating the distinct ones once with multiplicities gives the fit of
    evaluating every sample."""
    model = tiny_vocals.model
    example = tiny_vocals.detector.hybrid("test", 1, model, "features")
    slime = explainers.build("slime:content=mean_inp,n_samples=3000")
    factorization = slime.factorize(model, example)
    fast = lime_explain(model, factorization, 1, seed=7, settings=slime.settings)
    masks = sample_masks(10, 3000, np.random.default_rng(7))
    scores = model.predict_features(factorization.compose(masks))[:, 1]  # every sample, duplicates too
    kernel = exponential_kernel(distances_to_original(masks, "cosine"), 0.25)
    naive = fit_surrogate(masks, scores, kernel, 1.0)
    assert fast.n_model_calls < 3000
    np.testing.assert_allclose(fast.weights, naive.weights, rtol=0, atol=1e-8)
    assert abs(fast.intercept - naive.intercept) < 1e-8


def test_top3_for_stability_is_by_magnitude():
    names = ["a", "b", "c", "d"]
    strongly_negative = (names, [0.5, -0.9, 0.4, 0.1])
    assert unique_in_top_k([strongly_negative, (names, [0.5, 0.9, 0.4, 0.1])], 3) == 3  # b is top-3 in both
