"""Every published number means what a paper reader expects (issue 22): one baseline per task, values
that are a score by construction not ranked, randomization without a reward for anti-correlation, truth
for the class it drives, top-k by magnitude, a stated aggregation rule, and reproducible models."""

import gzip
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from audiox_bench import Explainer, register_explainer
from audiox_bench.cli import main
from audiox_bench.core.contracts import Explanation, GroundTruth, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers, metrics
from audiox_bench.engine.plan import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.explainers.slime import SLIME
from audiox_bench.metrics.randomization import (
    RandomizationDivergence,
    changes_more_than_its_noise,
    rank_divergence,
    unrelated_divergence,
)
from audiox_bench.metrics.stability import unique_in_top_k
from audiox_bench.metrics.topk import TopKOverlap
from audiox_bench.perturbation.baselines import switched_off
from audiox_bench.results.leaderboard import tables_of
from audiox_bench.results.publish import table_texts
from tests.conftest import TINY_ADVERSARIAL_SPEC, TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC


@register_explainer("fixed_weights")
class FixedWeights(Explainer):
    """SLIME's segments with weights that ignore the content it is given (1, 2, ..., d)."""

    family = "segmentation"

    def __init__(self, content: str = "zero") -> None:
        self.slime = SLIME(content=content)

    @property
    def seeded_factorization(self) -> bool:
        return self.slime.seeded_factorization

    def factorize(self, model, example):
        return self.slime.factorize(model, example)

    def factorize_for(self, model, example, seed):
        return self.slime.factorize_for(model, example, seed)

    def explain(self, model, example, factorization, target, seed):
        weights = np.arange(1.0, factorization.n_components + 1)
        return Explanation(factorization.names, weights, target)


def _run(task, explainer_specs, metric_specs, n=4, **fields):
    spec = RunSpec(
        tasks=(task,), explainers=tuple(explainer_specs), metrics=tuple(metric_specs), n_examples=n, **fields
    )
    return run_benchmark(spec, progress=False).records


# -- 1. one baseline per task -------------------------------------------------------------------------
def test_equal_weights_score_equal_faithfulness_whatever_content_they_were_fitted_with(tiny_vocals):
    records = _run(
        TINY_VOCALS_SPEC,
        ["fixed_weights:content=zero", "fixed_weights:content=noise_norm", "fixed_weights:content=mean_inp"],
        ["faithfulness_correlation"],
    )
    by_example: dict[str, set[float]] = {}
    for record in records:
        by_example.setdefault(record.example_id, set()).add(record.metrics["faithfulness_correlation"])
    assert len(by_example) == 4 and all(len(values) == 1 for values in by_example.values())
    own = _run(
        TINY_VOCALS_SPEC,
        ["fixed_weights:content=zero", "fixed_weights:content=noise_norm"],
        ["faithfulness_correlation:baseline=own"],
    )
    assert any(  # their own fills score them differently: what the default no longer does
        len({r.metrics["faithfulness_correlation"] for r in own if r.example_id == example}) == 2
        for example in by_example
    )


def test_the_tasks_baseline_is_its_declared_content_and_noise_is_drawn_apart(tiny_vocals):
    default = _run(TINY_VOCALS_SPEC, ["slime:content=noise_norm"], ["faithfulness_correlation"], n=2)
    named = _run(TINY_VOCALS_SPEC, ["slime:content=noise_norm"], ["faithfulness_correlation:baseline=zero"], n=2)
    assert tiny_vocals.baseline == "zero" and tiny_vocals.baseline_reason
    assert [r.metrics for r in default] == [r.metrics for r in named]
    example = tiny_vocals.examples(1)[0]
    slime = explainers.build("slime:content=noise_norm")
    own = slime.factorize_for(tiny_vocals.model, example, 7)
    refilled = switched_off(own, tiny_vocals.model, "noise_norm", 7)
    assert refilled.names == own.names and np.array_equal(refilled.features, own.features)
    assert not np.array_equal(refilled.fill, own.fill)  # the instance's baseline draw, not the explanation's
    assert np.array_equal(refilled.fill, switched_off(own, tiny_vocals.model, "noise_norm", 7).fill)
    assert switched_off(own, tiny_vocals.model, "own", 7) is own


def test_sources_are_switched_off_by_removing_them_whatever_the_baseline(tiny_confound):
    example = tiny_confound.examples(2)[1]
    sources = explainers.build("audiolime").factorize(tiny_confound.model, example)
    assert switched_off(sources, tiny_confound.model, "mean_inp", 3) is sources


def test_an_unknown_baseline_is_refused_with_a_hint():
    with pytest.raises(Exception, match="mean_inp"):
        metrics.build("faithfulness_correlation:baseline=mean_input")


# -- 2. values that score by construction --------------------------------------------------------------
def _item(weights, truth=None, **fields):
    names = tuple(f"c{i}" for i in range(len(weights)))
    return MetricInput(Explanation(names, np.asarray(weights, float), 0), truth, None, None, None, **fields)


def test_all_but_one_is_undefined_below_three_truth_components():
    metric = TopKOverlap()
    one = metric.score(_item([0.1, 0.9, 0.3], GroundTruth(frozenset({"c0"}))))
    assert one["topk_overlap"] == 0.0 and one["topk_overlap.all_but_one"] is None
    three = metric.score(_item([0.9, 0.8, -0.1, 0.7], GroundTruth(frozenset({"c0", "c1", "c2"}))))
    assert three["topk_overlap.all_but_one"] == 1.0 and three["topk_overlap.all"] == 0.0


def test_label_flips_by_construction_are_diagnostics():
    flip = metrics.build("label_flip")
    assert flip.value_spec("label_flip").role == "score"
    assert flip.value_spec("label_flip.all_positive").role == "diagnostic"
    assert flip.value_spec("label_flip.oracle").role == "diagnostic"


# -- 3. randomization without a reward for anti-correlation ---------------------------------------------
def test_randomization_divergence_is_one_minus_absolute_spearman():
    x = np.array([0.3, -1.0, 2.0, 0.5, 0.1])
    assert rank_divergence(x, -x) == pytest.approx(0.0)  # reversed: still fully determined by the trained ranking
    assert rank_divergence(x, x**3) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    values = [rank_divergence(x, rng.standard_normal(5)) for _ in range(200)]
    assert all(0.0 <= v <= 1.0 for v in values)
    # the permutation null of 10 distinct values, against an independent Monte Carlo estimate with numpy
    a = np.arange(10.0)
    reference = np.mean([1 - abs(np.corrcoef(a, rng.permutation(10))[0, 1]) for _ in range(20000)])
    assert unrelated_divergence(a, a[::-1].copy(), np.random.default_rng(1)) == pytest.approx(reference, abs=0.01)


@pytest.mark.parametrize(
    "weights, why",
    [([0.2, 0.7], "2 components"), ([0.0, 0.0, 0.0, 0.0], "constant"), ([1.0, 1.0, 1.0], "constant")],
)
def test_randomization_is_undefined_where_a_rank_correlation_means_nothing(tiny_confound, weights, why):
    example = tiny_confound.examples(1)[0]
    factorization = explainers.build("slime").factorize(tiny_confound.model, example)
    item = MetricInput(
        Explanation(tuple(factorization.names[: len(weights)]), np.array(weights), 0),
        None,
        tiny_confound.model,
        example,
        factorization,
        explainers.build("random:over=slime"),
        0,
        0,
    )
    with pytest.raises(NotApplicableError, match=why):
        RandomizationDivergence(n_models=2).score(item)


def test_the_sanity_check_is_a_test_the_random_explainer_fails(tiny_confound):
    result = run_benchmark(
        RunSpec(
            tasks=(TINY_CONFOUND_SPEC,),
            explainers=("random:over=slime", "occlusion:over=slime"),
            metrics=("randomization_divergence:n_models=2",),
            n_examples=8,
        ),
        progress=False,
    )
    records = result.records
    passes = {
        row.explainer: row.metrics["randomization_divergence.passes"]
        for row in result.group_rows
        if "randomization_divergence.passes" in row.metrics
    }
    assert passes == {"random:over=slime": 0.0, "occlusion:over=slime": 1.0}
    for record in records:
        assert 0.0 <= record.metrics["randomization_divergence"] <= 1.0
        assert record.metrics["randomization_divergence.unrelated"] > 0.5  # 10 segments: about 0.74
        if record.explainer == "occlusion:over=slime":
            assert record.metrics["randomization_divergence.seed_null"] == pytest.approx(0.0, abs=1e-12)
    assert result.specs["randomization_divergence.unrelated"].role == "reference"
    assert result.specs["randomization_divergence.js"].role == "diagnostic"


def test_changes_more_than_its_noise_is_a_one_sided_wilcoxon():
    from scipy import stats

    divergence, null = np.array([0.5, 0.6, 0.7, 0.4, 0.8, 0.55]), np.zeros(6)
    expected = stats.wilcoxon(divergence - null, alternative="greater").pvalue
    assert changes_more_than_its_noise(divergence, null) == pytest.approx(expected)
    assert changes_more_than_its_noise(divergence, divergence) == 1.0


# -- 4. truth follows the explained class ---------------------------------------------------------------
def test_truth_is_not_served_for_a_class_it_does_not_drive(tiny_confound):
    records = _run(TINY_CONFOUND_SPEC, ["occlusion"], ["topk_overlap"], n=6, target="piano")
    with_drums = [
        r for r in records if r.example_id in {e.id for e in tiny_confound.examples(6) if e.meta["has_drums"]}
    ]
    assert with_drums
    for record in with_drums:
        assert record.ground_truth is None and record.metrics["topk_overlap"] is None
        assert "drives class 'guitar'" in record.metric_notes["topk_overlap"]
    guitar = _run(TINY_CONFOUND_SPEC, ["occlusion"], ["topk_overlap"], n=6, target="guitar")
    assert all(r.ground_truth == ["drums"] for r in guitar if r.example_id in {w.example_id for w in with_drums})


# -- 5. stability and content agreement rank by magnitude ------------------------------------------------
def test_top3_for_stability_is_by_magnitude():
    names = ["a", "b", "c", "d"]
    strongly_negative = (names, [0.5, -0.9, 0.4, 0.1])
    assert unique_in_top_k([strongly_negative, (names, [0.5, 0.9, 0.4, 0.1])], 3) == 3  # b is top-3 in both


# -- 6. gradient attributions: the aggregation rule is a parameter ---------------------------------------
def test_gradient_aggregation_rules(tiny_confound):
    example = tiny_confound.examples(1)[0]
    model = tiny_confound.model
    summed = explainers.build("captum:method=IntegratedGradients,n_steps=8")
    mean = explainers.build("captum:method=IntegratedGradients,n_steps=8,aggregate=mean")
    absolute = explainers.build("captum:method=IntegratedGradients,n_steps=8,aggregate=abs_sum")
    factorization = summed.factorize(model, example)
    sizes = np.bincount(factorization.cell_map.ravel())
    a, b, c = (e.explain(model, example, factorization, 0, 0).weights for e in (summed, mean, absolute))
    np.testing.assert_allclose(b, a / sizes, rtol=1e-12)
    assert np.all(c >= np.abs(a) - 1e-12)
    assert (
        "aggregate=mean" in mean.weight_rule and "|gradient|" in explainers.build("captum:method=Saliency").weight_rule
    )
    signed = explainers.build("captum:method=Saliency,abs=false").explain(model, example, factorization, 0, 0)
    magnitude = explainers.build("captum:method=Saliency").explain(model, example, factorization, 0, 0)
    assert np.all(magnitude.weights >= np.abs(signed.weights) - 1e-12)  # sum |g| >= |sum g| per segment
    assert not np.allclose(magnitude.weights, signed.weights)
    with pytest.raises(Exception, match="aggregate"):
        explainers.build("gradient:aggregate=median")


# -- 7. reproducible from what we publish ---------------------------------------------------------------
def test_training_does_not_depend_on_the_thread_count():
    from audiox_bench.models.networks import build_network
    from audiox_bench.models.training import TrainingConfig, train_network

    rng = np.random.default_rng(0)
    features, labels = rng.standard_normal((64, 32, 20)).astype(np.float32), rng.integers(0, 2, 64)
    states = []
    before = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            network = build_network("vggish", 32, 2, 0)
            train_network(network, features, labels, TrainingConfig(epochs=2), progress=False)
            states.append(torch.cat([t.flatten().float() for t in network.state_dict().values()]))
    finally:
        torch.set_num_threads(before)
    assert torch.equal(states[0], states[1]) and torch.equal(states[0], states[2])


def test_an_input_gives_the_same_bits_in_any_batch_with_any_thread_count(tiny_confound):
    model = tiny_confound.model
    audio = np.stack([e.audio for e in tiny_confound.examples(20)])
    reference = model.predict_proba(audio)
    before = torch.get_num_threads()
    try:
        for threads in (1, 3):
            torch.set_num_threads(threads)
            assert np.array_equal(model.predict_proba(audio), reference)
            assert np.array_equal(model.predict_proba(audio[:1]), reference[:1])  # a lone input
            assert np.array_equal(model.predict_proba(audio[[5, 2, 9]]), reference[[5, 2, 9]])
    finally:
        torch.set_num_threads(before)


ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = [ROOT / "leaderboard", ROOT / "leaderboard" / "tags"]


@pytest.mark.parametrize("run_dir", PUBLISHED, ids=lambda p: str(p.relative_to(ROOT)))
def test_published_tables_rebuild_byte_for_byte_from_their_records(run_dir):
    assert (run_dir / "records.jsonl.gz").is_file() or (run_dir / "records.jsonl").is_file()
    for name, text in table_texts(tables_of(run_dir)).items():
        assert (run_dir / name).read_text(encoding="utf-8") == text, f"{name} is stale: regenerate it"


def test_the_leaderboard_command_prints_the_published_csv(capsys):
    assert main(["leaderboard", str(ROOT / "leaderboard"), "--format", "csv"]) == 0
    assert capsys.readouterr().out == (ROOT / "leaderboard" / "leaderboard.csv").read_text(encoding="utf-8")


def test_large_records_are_kept_compressed_and_read_transparently(tiny_confound, tmp_path, monkeypatch):
    from audiox_bench.results import store

    monkeypatch.setattr(store, "COMPRESS_ABOVE", 0)
    spec = RunSpec(tasks=(TINY_CONFOUND_SPEC,), explainers=("random",), metrics=("topk_overlap",), n_examples=3)
    first = run_benchmark(spec, out=tmp_path / "run", progress=False)
    assert (tmp_path / "run" / "records.jsonl.gz").is_file() and not (tmp_path / "run" / "records.jsonl").exists()
    assert gzip.decompress((tmp_path / "run" / "records.jsonl.gz").read_bytes()).count(b"\n") == 3
    extended = run_benchmark(replace(spec, n_examples=5), out=tmp_path / "run", progress=False)  # resumed
    assert len(extended.records) == 5 and len(store.read_records(tmp_path / "run")) == 5
    assert [r.without_timing() for r in extended.records[:3]] == [r.without_timing() for r in first.records]


def test_reproduce_prints_each_papers_protocol_next_to_ours(tiny_confound, tiny_vocals, tmp_path, capsys):
    from audiox_bench.reproduce import PROTOCOLS, reproduce

    tiny = {"confound": TINY_CONFOUND_SPEC, "vocals": TINY_VOCALS_SPEC, "adversarial": TINY_ADVERSARIAL_SPEC}
    protocols = [
        replace(p, spec=replace(p.spec, tasks=tuple(tiny[t] for t in p.spec.tasks)), quick_examples=n)
        for p, n in zip(PROTOCOLS, (12, 2, 2))
    ]
    table = reproduce(tmp_path, quick=True, progress=False, protocols=protocols)
    assert set(table["protocol"]) == {"audioLIME", "SLIME contents", "veracity"}
    rows = table.set_index("quantity")
    assert rows.loc["accuracy_t_dr-pno of the confounded classifier", "paper"] == "0.1258"
    assert any(q.startswith("mean_inp: mean N_ce") for q in rows.index)
    assert (tmp_path / "reproduce.md").read_text().startswith("| protocol | quantity | paper | ours | n |")
    assert all((tmp_path / name / "run.json").is_file() for name in ("audiolime", "mishra", "praher"))
