import numpy as np
import pytest

from audiox_bench.core.classifier import FeatureStats
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.core.registry import contents, explainers
from audiox_bench.factorizations.segmentation import (
    SegmentationFactorization,
    segment_components,
    segment_layout,
)
from audiox_bench.perturbation.prediction_cache import cost_meter, forget_predictions


def region_map(n_mels, n_frames, layout, n_time, n_bands):
    cell_map, components = segment_components(n_mels, n_frames, segment_layout(layout, n_time, n_bands))
    return cell_map, tuple(c.name for c in components), components


def test_region_maps_cover_every_cell_once():
    regions, names, components = region_map(128, 63, "temporal", 10, 10)
    assert names == tuple(f"t{k}" for k in range(10)) and set(np.unique(regions)) == set(range(10))
    assert (regions == regions[0]).all()  # temporal: the same segment in every band
    assert components[3].time == 3 and components[3].band is None and components[3].mels == (0, 128)
    regions, names, components = region_map(128, 63, "spectral", 10, 10)
    assert names[0] == "f0" and (regions[:, :1] == regions).all() and components[2].frames == (0, 63)
    regions, names, components = region_map(128, 63, "time_frequency", 5, 4)
    assert len(names) == 20 and names[6] == "f1t1" and set(np.unique(regions)) == set(range(20))
    assert (components[6].band, components[6].time) == (1, 1)
    for j, component in enumerate(components):  # the typed extents are exactly the cells of the component
        (low, high), (start, end) = component.mels, component.frames
        assert (regions[low:high, start:end] == j).all() and (regions == j).sum() == (high - low) * (end - start)


def test_compose_keeps_on_regions_and_fills_off_regions():
    features = np.arange(8 * 10, dtype=np.float32).reshape(8, 10)
    fact = SegmentationFactorization(features, np.float32(-1), "temporal", n_time=2)
    out = fact.compose(np.array([[True, True], [True, False], [False, False]]))
    np.testing.assert_array_equal(out[0], features)
    np.testing.assert_array_equal(out[1][:, :5], features[:, :5])
    assert (out[1][:, 5:] == -1).all() and (out[2] == -1).all()


def test_bad_segmentation_is_rejected():
    with pytest.raises(InvalidInputError, match="time segments"):
        region_map(128, 63, "temporal", 100, 10)


def test_contents():
    rng = np.random.default_rng(0)
    features = rng.normal(-30, 10, size=(4, 6)).astype(np.float32)
    stats = FeatureStats(np.array([0.0, 1, 2, 3]), np.array([1.0, 1, 1, 1]), -80.0)
    fill = lambda name: contents.build(name).fill
    assert (fill("zero")(features, stats, rng) == 0).all()
    assert (fill("min_data")(features, stats, rng) == -80).all()
    assert (fill("min_inp")(features, stats, rng) == features.min()).all()
    np.testing.assert_allclose(fill("mean_inp")(features, stats, rng), features.mean(), rtol=1e-6)
    noise = fill("noise_norm")
    a = noise(features, stats, np.random.default_rng(1))
    assert np.array_equal(a, noise(features, stats, np.random.default_rng(1)))
    assert not np.array_equal(a, noise(features, stats, np.random.default_rng(2)))


@pytest.mark.parametrize("content", ["zero", "min_data", "min_inp", "mean_inp", "noise_norm"])
def test_slime_explains_with_every_content(tiny_confound, content):
    model = tiny_confound.model
    example = tiny_confound.examples(2)[1]
    forget_predictions(model)  # other tests may have explained this example already
    slime = explainers.build(f"slime:content={content}")
    fact = slime.factorize(model, example)
    with cost_meter() as cold:
        first = slime.explain(model, example, fact, target=0, seed=1)
    assert first.components == tuple(f"t{k}" for k in range(10)) and np.isfinite(first.weights).all()
    assert first.n_model_calls == cold.inputs == 1024 and cold.cache_hits == 0
    with cost_meter() as warm:
        again = slime.explain(model, example, fact, target=0, seed=1)
    np.testing.assert_array_equal(first.weights, again.weights)
    assert again.n_model_calls == 1024 and warm.cache_hits == 1024  # every mask cached, the cost still its own
    assert warm.cached_seconds > 0


def test_slime_sampling_evaluates_each_distinct_mask_once(tiny_confound):
    model = tiny_confound.model
    example = tiny_confound.examples(1)[0]
    slime = explainers.build("slime:n_samples=70000")
    explanation = slime.explain(model, example, slime.factorize(model, example), target=1, seed=3)
    assert explanation.extra["n_masks"] == 70000
    assert explanation.n_model_calls == explanation.extra["n_distinct_masks"] <= 1024
