"""faithfulness_correlation (Bhatt et al. 2020): one baseline per task for every explainer, the own fill
only on request, undefined below 10 distinct subsets, and the sign follows the explanation."""

import numpy as np
import pytest

from audiox_bench import Explainer, register_explainer
from audiox_bench.core.data import Explanation, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers, metrics
from audiox_bench.engine.run_spec import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.explainers.slime import SLIME
from audiox_bench.factorizations.segmentation import SegmentationFactorization
from audiox_bench.metrics.faithfulness import FaithfulnessCorrelation, SurrogateFidelity
from audiox_bench.perturbation.baselines import switched_off
from tests.conftest import TINY_CONFOUND_SPEC, TINY_VOCALS_SPEC, run_records


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


def test_equal_weights_score_equal_faithfulness_whatever_content_they_were_fitted_with(tiny_vocals):
    records = run_records(
        TINY_VOCALS_SPEC,
        ["fixed_weights:content=zero", "fixed_weights:content=noise_norm", "fixed_weights:content=mean_inp"],
        ["faithfulness_correlation"],
    )
    by_example: dict[str, set[float]] = {}
    for record in records:
        by_example.setdefault(record.example_id, set()).add(record.metrics["faithfulness_correlation"])
    assert len(by_example) == 4 and all(len(values) == 1 for values in by_example.values())
    own = run_records(
        TINY_VOCALS_SPEC,
        ["fixed_weights:content=zero", "fixed_weights:content=noise_norm"],
        ["faithfulness_correlation:baseline=own"],
    )
    assert any(  # their own fills score them differently: what the default no longer does
        len({r.metrics["faithfulness_correlation"] for r in own if r.example_id == example}) == 2
        for example in by_example
    )


def test_the_tasks_baseline_is_its_declared_content_and_noise_is_drawn_apart(tiny_vocals):
    default = run_records(TINY_VOCALS_SPEC, ["slime:content=noise_norm"], ["faithfulness_correlation"], n=2)
    named = run_records(
        TINY_VOCALS_SPEC, ["slime:content=noise_norm"], ["faithfulness_correlation:baseline=noise_norm"], n=2
    )
    assert tiny_vocals.baseline == "noise_norm" and tiny_vocals.baseline_reason
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


def test_faithfulness_on_its_own_fill_on_request_uses_the_fill_the_explanation_saw(tiny_confound):
    spec = RunSpec(
        tasks=(TINY_CONFOUND_SPEC,),
        explainers=("slime:content=noise_norm",),
        metrics=("faithfulness_correlation:baseline=own",),
        n_examples=3,
        seed=4,
    )
    result = run_benchmark(spec, progress=False)
    slime = explainers.build("slime:content=noise_norm")
    examples = {e.id: e for e in tiny_confound.examples(3)}
    assert result.records
    for record in result.records:
        example = examples[record.example_id]
        own = slime.factorize_for(tiny_confound.model, example, record.seed)  # the seed's noise
        assert not np.array_equal(own.fill, slime.factorize(tiny_confound.model, example).fill)
        explanation = Explanation(tuple(record.components), np.array(record.weights), record.target)
        expected = FaithfulnessCorrelation(baseline="own").score(
            MetricInput(explanation, None, tiny_confound.model, example, own, seed=record.seed, baseline="zero")
        )
        assert record.metrics["faithfulness_correlation"] == pytest.approx(
            expected["faithfulness_correlation"], abs=1e-12
        )


@pytest.mark.parametrize("n_components, defined", [(2, False), (3, False), (4, False), (5, True), (10, True)])
def test_faithfulness_needs_enough_distinct_subsets(tiny_confound, n_components, defined):
    model = tiny_confound.model
    example = tiny_confound.examples(2)[1]
    features = model.features(example.audio)[0]
    factorization = SegmentationFactorization(features, features.min(), "temporal", n_time=n_components)
    weights = np.arange(1, n_components + 1) * 1e-9  # tiny weights: with 2 components r was -1 or +1 anyway
    item = MetricInput(Explanation(factorization.names, weights, 0), None, model, example, factorization, seed=3)
    if defined:
        value = FaithfulnessCorrelation().score(item)["faithfulness_correlation"]
        assert value is None or -1 <= value <= 1
    else:
        with pytest.raises(NotApplicableError, match="distinct subsets of 1, fewer than the 10"):
            FaithfulnessCorrelation().score(item)


def test_undefined_faithfulness_is_skipped_with_its_reason_in_the_record(tiny_confound):
    spec = RunSpec(
        tasks=(TINY_CONFOUND_SPEC,), explainers=("audiolime",), metrics=("faithfulness_correlation",), n_examples=2
    )
    records = run_benchmark(spec, progress=False).records
    assert all(r.metrics["faithfulness_correlation"] is None for r in records)
    assert all("distinct subsets" in r.metric_notes["faithfulness_correlation"] for r in records)


def test_faithfulness_flips_sign_with_the_explanation_and_needs_variation(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(4)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    explanation = slime.explain(model, example, factorization, target=0, seed=0)
    negated = Explanation(explanation.components, -explanation.weights, 0)
    metric = FaithfulnessCorrelation()
    value = metric.score(MetricInput(explanation, None, model, example, factorization, seed=5))
    flipped = metric.score(MetricInput(negated, None, model, example, factorization, seed=5))
    assert -1 <= value["faithfulness_correlation"] <= 1
    assert flipped["faithfulness_correlation"] == pytest.approx(-value["faithfulness_correlation"])


@pytest.mark.parametrize("n_components, defined", [(2, False), (3, False), (4, True), (10, True)])
def test_surrogate_fidelity_needs_enough_coalitions(tiny_confound, n_components, defined):
    """With 2 components a linear surrogate's 3 parameters fit the 4 possible coalitions (audioLIME's R^2
    on the 2-3 source confound mixes was 0.9997): such an R^2 is not a score."""
    model = tiny_confound.model
    example = tiny_confound.examples(2)[1]
    features = model.features(example.audio)[0]
    factorization = SegmentationFactorization(features, features.min(), "temporal", n_time=n_components)
    explanation = Explanation(factorization.names, np.ones(n_components), 0, score=0.42)
    item = MetricInput(explanation, None, model, example, factorization, seed=3)
    if defined:
        assert SurrogateFidelity().score(item)["surrogate_fidelity"] == 0.42
    else:
        with pytest.raises(NotApplicableError, match=f"{2**n_components} distinct coalitions, fewer than the 10"):
            SurrogateFidelity().score(item)
