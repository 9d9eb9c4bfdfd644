"""Captum's methods as explainers, and Captum and Quantus as independent references for what we compute."""

import numpy as np
import pytest
import torch
from scipy import stats

from audiox_bench.core.data import MetricInput
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.registry import explainers
from audiox_bench.explainers.captum_layers import LAYER_METHODS, to_input_grid
from audiox_bench.explainers.captum_methods import GRADIENT, PERTURBATION
from audiox_bench.metrics.faithfulness import FaithfulnessCorrelation
from audiox_bench.metrics.randomization import RandomizationDivergence
from audiox_bench.perturbation.prediction_cache import cost_meter, forget_predictions
from tests.quantus_view import faithfulness_with_quantus

captum_attr = pytest.importorskip("captum.attr")


@pytest.fixture(scope="module")
def confound_case(tiny_confound):
    model = tiny_confound.model
    example = tiny_confound.examples(2)[1]  # piano with drums: three sources
    return model, example


@pytest.mark.parametrize("method", [*PERTURBATION, *GRADIENT, *LAYER_METHODS, "NoiseTunnel"])
def test_every_method_explains_a_segmentation(confound_case, method):
    model, example = confound_case
    # Captum's ShapleyValues walks all d! orderings: 6 segments (720), not 10 (3.6 million)
    spec = (
        f"captum:method={method},n_samples=64,n_steps=8"
        if method != "ShapleyValues"
        else f"captum:method={method},n_segments=6"
    )
    explainer = explainers.build(spec)
    factorization = explainer.factorize(model, example)
    first = explainer.explain(model, example, factorization, 0, seed=3)
    again = explainer.explain(model, example, factorization, 0, seed=3)
    assert first.weights.shape == (factorization.n_components,) and np.isfinite(first.weights).all()
    np.testing.assert_array_equal(first.weights, again.weights)  # seeded


def test_gradient_methods_do_not_apply_to_sources_and_feature_permutation_never(confound_case):
    model, example = confound_case
    saliency = explainers.build("captum:method=Saliency,over=audiolime")
    with pytest.raises(NotApplicableError, match="segmentation of the input"):
        saliency.explain(model, example, saliency.factorize(model, example), 0, 0)
    orderings = explainers.build("captum:method=ShapleyValues")  # 10 segments: 10! orderings
    with pytest.raises(NotApplicableError, match="orderings"):
        orderings.explain(model, example, orderings.factorize(model, example), 0, 0)
    permutation = explainers.build("captum:method=FeaturePermutation")
    with pytest.raises(NotApplicableError, match="batch of different inputs"):
        permutation.explain(model, example, permutation.factorize(model, example), 0, 0)


def test_perturbation_methods_go_through_the_shared_prediction_path(confound_case):
    model, example = confound_case
    forget_predictions(model)
    ablation = explainers.build("captum:method=FeatureAblation,over=audiolime")
    factorization = ablation.factorize(model, example)
    with cost_meter() as cold:
        first = ablation.explain(model, example, factorization, 0, 0)
    with cost_meter() as warm:
        ablation.explain(model, example, factorization, 0, 0)
    assert first.n_model_calls == 4 and cold.cache_hits == 0  # the input and each source off, once each
    assert warm.cache_hits == warm.inputs  # every perturbation answered by the cache


def test_a_mask_asked_for_again_costs_once(confound_case):
    """Shapley value sampling asks for the same coalitions in many permutations: a cold explanation
    evaluates each once, so its cost counts each once (the meter and the record agree)."""
    model, example = confound_case
    forget_predictions(model)
    sampling = explainers.build("captum:method=ShapleyValueSampling,over=audiolime")
    factorization = sampling.factorize(model, example)
    with cost_meter() as cold:
        explanation = sampling.explain(model, example, factorization, 0, 0)
    distinct = 2**factorization.n_components
    assert cold.inputs == explanation.n_model_calls <= distinct and cold.cache_hits == 0
    with cost_meter() as warm:
        sampling.explain(model, example, factorization, 0, 0)
    assert warm.inputs == cold.inputs == warm.cache_hits


def test_a_layer_map_is_stretched_over_the_inputs_cells_along_the_networks_axes():
    """Known answers: a 1-D map over time is stretched over the frames and repeated over the bands; a 2-D map
    read as (time, mel) is transposed onto the (mel, time) grid, each position covering its block of cells."""
    over_time = torch.tensor([[[1.0, 2.0]]])
    np.testing.assert_array_equal(to_input_grid(over_time, (3, 4), ("mel", "time"), "nearest"), [[1, 1, 2, 2]] * 3)
    time_mel = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])  # 2 frames x 3 bands
    cells = to_input_grid(time_mel, (6, 4), ("time", "mel"), "nearest")
    expected = np.repeat(np.repeat(np.array([[1, 4], [2, 5], [3, 6]]), 2, axis=0), 2, axis=1)
    np.testing.assert_array_equal(cells, expected)
    linear = to_input_grid(over_time, (1, 4), ("mel", "time"), "linear")
    np.testing.assert_allclose(linear, [[1.0, 1.25, 1.75, 2.0]])  # torch's linear, align_corners=False
    shared = to_input_grid(torch.tensor([[[3.0, 6.0]]]), (2, 3), ("mel", "time"), "nearest", conserve=True)
    np.testing.assert_allclose(shared, [[0.75, 0.75, 3.0]] * 2)  # 3 over 2 frames x 2 bands, 6 over 1 x 2
    assert shared.sum() == 9.0


def test_a_layer_is_named_by_its_path_and_a_wrong_one_lists_the_convolutions(confound_case):
    model, example = confound_case
    explainer = explainers.build("captum:method=LayerGradCam,layer=blocks.99")
    with pytest.raises(ValueError, match=r"no module 'blocks\.99'.*blocks\.0"):
        explainer.explain(model, example, explainer.factorize(model, example), 0, 0)
    first = explainers.build("captum:method=LayerGradCam,layer=blocks.0")
    default = explainers.build("captum:method=LayerGradCam")  # the last convolution, blocks.12
    factorization = first.factorize(model, example)
    a = first.explain(model, example, factorization, 0, 0).weights
    b = default.explain(model, example, factorization, 0, 0).weights
    assert model.network.cam_layer == "blocks.12" and not np.allclose(a, b)


# -- cross-checks -------------------------------------------------------------------------------------
def _pair(model, example, ours_spec, captum_spec, seed=0):
    ours, theirs = explainers.build(ours_spec), explainers.build(captum_spec)
    factorization = ours.factorize(model, example)
    return (
        ours.explain(model, example, factorization, 0, seed).weights,
        theirs.explain(model, example, factorization, 0, seed).weights,
    )


@pytest.mark.parametrize("over", ["audiolime", "audiolime:separator=hpss", "slime", "slime:content=mean_inp"])
def test_occlusion_is_captums_feature_ablation(confound_case, over):
    model, example = confound_case
    name, _, rest = over.partition(":")
    extra = f",{rest}" if rest else ""
    ours, theirs = _pair(
        model, example, f"occlusion:over={name}{extra}", f"captum:method=FeatureAblation,over={name}{extra}"
    )
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("over", ["audiolime", "slime,n_segments=7"])
def test_exact_shapley_values_are_captums_shapley_values(confound_case, over):
    model, example = confound_case
    """Equal up to Captum's float32 sums (its totals are ``torch.float``, whatever the model returns): measured
    max |difference| 6.5e-9 over 3 sources, 5.6e-7 over 7 segments (5,040 orderings)."""
    ours, theirs = _pair(model, example, f"kernelshap:over={over}", f"captum:method=ShapleyValues,over={over}")
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-6)


def test_sampled_kernel_shap_and_captums_both_approach_the_exact_values(confound_case):
    """With 14 components our Kernel SHAP samples coalitions (above max_exhaustive = 12). Captum's
    KernelShap fits the same Shapley kernel, but draws its own coalitions and leaves out the efficiency
    constraint: both estimate the exact Shapley values, neither equals the other. Measured (max error /
    max |value|, seeds 0-1): ours 0.25, 0.13 at 1,024 samples and 0.05, 0.05 at 16,384; Captum's 0.18,
    0.34 and 0.05, 0.08."""
    model, example = confound_case
    over = "over=slime,n_segments=14"
    exact = explainers.build(f"kernelshap:{over},max_exhaustive=14")
    factorization = exact.factorize(model, example)
    truth = exact.explain(model, example, factorization, 0, 0).weights
    scale = np.abs(truth).max()

    def error(spec, n_samples, seed):
        explainer = explainers.build(f"{spec}{over},n_samples={n_samples}")
        weights = explainer.explain(model, example, factorization, 0, seed).weights
        assert stats.spearmanr(weights, truth).statistic > 0.7
        return np.abs(weights - truth).max() / scale

    for spec in ("kernelshap:", "captum:method=KernelShap,"):
        few = np.mean([error(spec, 1024, seed) for seed in (0, 1)])
        many = [error(spec, 16384, seed) for seed in (0, 1)]
        assert max(many) < 0.1 and np.mean(many) < few, spec


def test_faithfulness_is_quantus_faithfulness_correlation_on_the_same_subsets(confound_case):
    """Quantus' FaithfulnessCorrelation on a component-mask view of the model (input: a mask over the
    components, all ones; baseline 0; predictions through the factorization) draws its subsets with numpy's
    global generator; replaying that generator gives the subsets to our metric: the values are equal."""
    pytest.importorskip("quantus")
    model, example = confound_case
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    compared = 0
    for seed in range(6):
        explanation = slime.explain(model, example, factorization, 0, seed)
        item = MetricInput(explanation, None, model, example, factorization, seed=seed)
        theirs, ours = faithfulness_with_quantus(item, target=0)
        assert ours == pytest.approx(theirs, abs=1e-6)
        compared += 1
    assert compared == 6
    # Our own draws (from the instance's seed, not numpy's global state) give a value of the same metric.
    assert -1 <= FaithfulnessCorrelation().score(item)["faithfulness_correlation"] <= 1


def test_randomization_divergence_is_one_minus_scipys_absolute_spearman(confound_case):
    model, example = confound_case
    slime = explainers.build("slime")
    factorization = slime.factorize(model, example)
    explanation = slime.explain(model, example, factorization, 0, 2)
    item = MetricInput(explanation, None, model, example, factorization, slime, 0, 2)
    value = RandomizationDivergence(n_models=3).score(item)["randomization_divergence"]
    randomized = [slime.explain(model.randomized(seed=s), example, factorization, 0, 2).weights for s in range(3)]
    expected = np.mean([1 - abs(stats.spearmanr(explanation.weights, w).statistic) for w in randomized])
    assert value == pytest.approx(expected, abs=1e-12)


def test_captum_appears_in_the_listing(capsys):
    from audiox_bench.cli import main

    assert main(["list", "explainers", "captum"]) == 0
    assert "method (str), default 'FeatureAblation'" in capsys.readouterr().out


def test_the_hookable_copy_is_made_once_and_redone_when_weights_change():
    import torch
    from torch import nn

    from audiox_bench.explainers.captum_methods import _relu_modules

    network = nn.Sequential(nn.Linear(3, 3), nn.ReLU(inplace=True))
    first = _relu_modules(network)
    assert _relu_modules(network) is first and not first[1].inplace and network[1].inplace
    with torch.no_grad():
        network[0].weight.add_(1.0)
    again = _relu_modules(network)
    assert again is not first and torch.equal(again[0].weight, network[0].weight)


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


def test_layer_integrated_gradients_sum_to_the_change_in_score(confound_case):
    """Completeness (Dhamdhere et al. 2019): integrated gradients to a layer's units sum to f(input) -
    f(baseline) up to the integral's error; shared among the cells nearest each position, the components'
    weights keep that sum."""
    from audiox_bench.explainers.captum_methods import _Probability

    model, example = confound_case
    explainer = explainers.build("captum:method=LayerIntegratedGradients,n_steps=64,layer=blocks.0")
    factorization = explainer.factorize(model, example)
    weights = explainer.explain(model, example, factorization, 0, 0).weights
    forward = _Probability(model, model.network).eval()
    with torch.no_grad():
        full, empty = (
            forward(torch.tensor(factorization.features[None])),
            forward(torch.tensor(factorization.fill[None])),
        )
        change = (full - empty)[0, 0]
    assert abs(weights.sum() - float(change)) < 0.02 * max(abs(float(change)), 1e-3)
