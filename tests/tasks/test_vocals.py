"""The vocal-injection task on a tiny detector trained in seconds (real synthesis, real model)."""

import librosa
import numpy as np
import pytest

from audiox_bench.core.data import predict_examples
from audiox_bench.core.registry import explainers
from audiox_bench.factorizations.sources import segment_edges
from audiox_bench.tasks.detector import CROSSFADE_SECONDS, N_SEGMENTS, SR, segment_gate
from audiox_bench.tasks.stems.banks import stem_banks
from audiox_bench.tasks.stems.singing import render_vocal_bank


def test_singing_is_deterministic_normalised_and_harmonic():
    bank = render_vocal_bank(3, seed=5, sr=SR, duration=1.0)
    assert bank.shape == (3, SR) and bank.dtype == np.float32 and np.isfinite(bank).all()
    np.testing.assert_allclose(np.sqrt((bank.astype(np.float64) ** 2).mean(axis=1)), 0.1, rtol=1e-3)
    assert np.array_equal(bank, render_vocal_bank(3, seed=5, sr=SR, duration=1.0))
    assert not np.array_equal(bank, render_vocal_bank(3, seed=6, sr=SR, duration=1.0))
    voice = np.median(librosa.feature.spectral_flatness(y=bank[0]))
    noise = np.median(librosa.feature.spectral_flatness(y=np.random.default_rng(0).standard_normal(SR)))
    assert voice < 0.05 and noise > 0.3  # peaky frames (harmonics under formants), unlike noise


def test_vocals_role_is_served_by_the_stem_banks():
    banks = stem_banks(["vocals"], "val", 2, seed=1, sr=SR, duration=0.5, progress=False)
    assert banks["vocals"].shape == (2, SR // 2)


def test_segment_gate_is_one_inside_zero_outside_with_short_crossfades():
    n = 32_000
    gate = segment_gate(n, [2, 3, 7], N_SEGMENTS, SR)
    edges = segment_edges(n, N_SEGMENTS)
    margin = int(CROSSFADE_SECONDS * SR)
    inside = np.r_[edges[2] + margin : edges[4] - margin, edges[7] + margin : edges[8] - margin]
    assert np.allclose(gate[inside], 1.0)
    outside = np.ones(n, bool)
    outside[edges[2] - margin : edges[4] + margin] = False
    outside[edges[7] - margin : edges[8] + margin] = False
    assert np.allclose(gate[outside], 0.0)
    assert abs(gate[edges[2]] - 0.5) < 0.1  # the crossfade is centred on the boundary


def test_detector_validity_values_are_measured(tiny_vocals):
    card = tiny_vocals.model_card
    names = [c.name for c in tiny_vocals.validity_checks]
    assert names == [
        "accuracy_full_vocal_vs_instrumental",
        "hybrid_detection_rate_features",
        "noise_called_vocals_rate",
        "instrumental_with_noise_segments_called_vocals_rate",
    ]
    assert card["standardised_input"] is True and 0.5 < card["accuracy_full_vocal_vs_instrumental"] <= 1.0
    stats = tiny_vocals.model.feature_stats  # standardised input: band means near 0, stds near 1
    assert np.abs(stats.band_mean).max() < 1e-3 and np.allclose(stats.band_std, 1.0, atol=0.02)


def test_feature_hybrids_swap_exactly_the_injected_columns(tiny_vocals):
    model = tiny_vocals.model
    bed, vocal, _ = tiny_vocals.detector.excerpts.excerpt("test", 0)
    example = tiny_vocals.detector.hybrid("test", 0, model, "features")
    injected = example.meta["injected_segments"]
    assert len(injected) == 3 and example.features is not None and example.stems is None
    plain, sung = model.features(np.stack([bed, bed + vocal]))
    frames = segment_edges(plain.shape[1], N_SEGMENTS)
    for k in range(N_SEGMENTS):
        columns = slice(frames[k], frames[k + 1])
        expected = sung if k in injected else plain
        np.testing.assert_array_equal(example.features[:, columns], expected[:, columns])


def test_examples_are_detected_true_positives_and_counted(tiny_vocals):
    chosen = tiny_vocals.select(8)
    examples, selection = chosen.examples, chosen.facts
    assert selection["hybrids_kept"] == len(examples) <= 8
    assert selection["hybrids_made"] >= len(examples)
    if examples:
        assert predict_examples(tiny_vocals.model, examples).argmax(axis=1).tolist() == [1] * len(examples)
        assert [e.id for e in tiny_vocals.examples(8)] == [e.id for e in examples]  # deterministic


def test_truth_is_the_injected_segments_for_temporal_slime_only(tiny_vocals):
    model = tiny_vocals.model
    example = tiny_vocals.detector.hybrid("test", 3, model, "features")
    expected = {f"t{k}" for k in example.meta["injected_segments"]}
    temporal = explainers.build("slime").factorize(model, example)
    assert tiny_vocals.truth_for(example, temporal).components == expected
    for spec in ("slime:segmentation=spectral", "slime:n_segments=5"):
        assert tiny_vocals.truth_for(example, explainers.build(spec).factorize(model, example)) is None


def test_feature_form_refuses_source_explainers(tiny_vocals):
    example = tiny_vocals.detector.hybrid("test", 0, tiny_vocals.model, "features")
    with pytest.raises(Exception, match="form=audio"):
        explainers.build("audiolime").factorize(tiny_vocals.model, example)


def test_audio_form_gates_the_vocal_stem_and_serves_source_truth(tiny_vocals_audio):
    model = tiny_vocals_audio.model
    example = tiny_vocals_audio.detector.hybrid("test", 3, model, "audio")
    injected = example.meta["injected_segments"]
    assert set(example.stems) == {"vocals", "accompaniment"}
    np.testing.assert_allclose(example.stems["vocals"] + example.stems["accompaniment"], example.audio, atol=1e-6)
    edges = segment_edges(example.audio.size, N_SEGMENTS)
    margin = int(CROSSFADE_SECONDS * SR)
    for k in set(range(N_SEGMENTS)) - set(injected):
        quiet = example.stems["vocals"][edges[k] + margin : edges[k + 1] - margin]
        assert np.abs(quiet).max() == 0.0
    sources = explainers.build("audiolime:n_segments=10").factorize(model, example)
    truth = tiny_vocals_audio.truth_for(example, sources)
    assert truth.components == {f"vocals@t{k}" for k in injected}
    temporal = explainers.build("slime").factorize(model, example)
    assert tiny_vocals_audio.truth_for(example, temporal).components == {f"t{k}" for k in injected}


def test_the_detector_does_not_call_noise_vocals(tiny_vocals):
    checks = {c.name: c for c in tiny_vocals.validity_checks}
    for name in ("noise_called_vocals_rate", "instrumental_with_noise_segments_called_vocals_rate"):
        assert checks[name].passed and checks[name].value <= 0.5
    assert tiny_vocals.model_card["n_augmented"] > 0
