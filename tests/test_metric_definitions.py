"""The numbers mean what they say (issue 17): metrics see the explanation's own factorization, a
correlation over too few subsets is undefined, the enumerated LIME fit has the sampled fit's scale, and
the detector does not call noise vocals."""

import numpy as np
import pytest

from audiox_bench.core.contracts import Explanation, MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers
from audiox_bench.engine.plan import RunSpec
from audiox_bench.engine.runner import run_benchmark
from audiox_bench.factorizations.segmentation import SegmentationFactorization
from audiox_bench.metrics.faithfulness import FaithfulnessCorrelation
from audiox_bench.perturbation.lime import REFERENCE_N_SAMPLES, LimeSettings, expected_counts
from audiox_bench.perturbation.masks import all_masks, distinct_masks, sample_masks
from audiox_bench.perturbation.surrogate import distances_to_original, exponential_kernel, fit_surrogate
from tests.conftest import TINY_CONFOUND_SPEC


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


def test_enumerated_masks_carry_their_expected_count_under_the_reference_draws():
    settings = LimeSettings()
    neighbourhood = settings.neighbourhood(4, seed=0)
    kernel = exponential_kernel(distances_to_original(all_masks(4)), 0.25)
    np.testing.assert_allclose(neighbourhood.weights, kernel * expected_counts(all_masks(4), REFERENCE_N_SAMPLES))
    assert neighbourhood.n_masks == REFERENCE_N_SAMPLES and len(neighbourhood.masks) == 16
    counts = expected_counts(all_masks(4), 1000)
    assert counts.sum() == pytest.approx(1000) and counts[0] == pytest.approx(1 + 999 / 16)


@pytest.mark.parametrize("d", [3, 4, 6])
def test_the_enumerated_fit_is_the_limit_of_the_sampled_fit(d):
    """Weighting every mask by its expected count under N draws gives the fit of N sampled masks up to
    sampling noise, which vanishes as N grows; unit weights (the old enumeration) do not."""
    rng = np.random.default_rng(d)
    true_weights = rng.normal(size=d)

    def model(masks):  # a non-linear score with an interaction, like a classifier's
        return 1 / (1 + np.exp(-(masks @ true_weights + 0.8 * masks[:, 0] * masks[:, 1])))

    n_draws = 200_000
    sampled = distinct_masks(sample_masks(d, n_draws, np.random.default_rng(0)))
    kernel = lambda masks: exponential_kernel(distances_to_original(masks), 0.25)
    reference = fit_surrogate(sampled.masks, model(sampled.masks), kernel(sampled.masks) * sampled.counts)
    masks = all_masks(d)
    enumerated = fit_surrogate(masks, model(masks), kernel(masks) * expected_counts(masks, n_draws))
    unit = fit_surrogate(masks, model(masks), kernel(masks))
    np.testing.assert_allclose(enumerated.weights, reference.weights, rtol=0.02, atol=2e-3)
    assert enumerated.r2 == pytest.approx(reference.r2, abs=0.01)
    unit_error = np.abs(unit.weights - reference.weights).max()  # over-regularised, smaller weights
    assert np.linalg.norm(unit.weights) < np.linalg.norm(reference.weights)
    assert unit_error > 5 * np.abs(enumerated.weights - reference.weights).max()


def test_the_detector_does_not_call_noise_vocals(tiny_vocals):
    checks = {c.name: c for c in tiny_vocals.validity_checks}
    for name in ("noise_called_vocals_rate", "instrumental_with_noise_segments_called_vocals_rate"):
        assert checks[name].passed and checks[name].value <= 0.5
    assert tiny_vocals.model_card["n_augmented"] > 0


def test_randomization_curve_averages_the_seeds_of_the_main_value(tiny_confound):
    from audiox_bench.metrics.randomization import RandomizationDivergence, rank_divergence

    model, example = tiny_confound.model, tiny_confound.examples(2)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    explanation = slime.explain(model, example, factorization, 0, 5)
    item = MetricInput(explanation, None, model, example, factorization, slime, 0, 5)
    values = RandomizationDivergence(n_models=3, curve=True).score(item)
    n_layers = model.n_layers()
    assert values[f"randomization_divergence.layers{n_layers}"] == values["randomization_divergence"]
    for count in (1, 3):
        by_seed = [
            rank_divergence(
                explanation.weights,
                slime.explain(model.randomized("cascading", count, seed), example, factorization, 0, 5).weights,
            )
            for seed in range(3)
        ]
        assert values[f"randomization_divergence.layers{count}"] == pytest.approx(np.mean(by_seed), abs=1e-9)


def test_randomized_models_reuse_the_explanations_inputs_composed_once(tiny_confound):
    model, example = tiny_confound.model, tiny_confound.examples(2)[1]
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    composed = []
    original = factorization.compose
    factorization.compose = lambda masks: composed.append(len(masks)) or original(masks)
    models = [model.randomized(seed=seed) for seed in range(3)]
    together = slime.explain_models(models, example, factorization, 0, 5)
    assert sum(composed) == 1024  # every mask composed once for the three models
    factorization.compose = original
    for copy, explanation in zip(models, together):
        alone = slime.explain(copy, example, factorization, 0, 5)
        np.testing.assert_allclose(explanation.weights, alone.weights, atol=1e-12)
