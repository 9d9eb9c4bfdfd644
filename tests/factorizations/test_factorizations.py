import numpy as np
import pytest
import torch

from audiox_bench.core.data import Example
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.core.registry import separators
from audiox_bench.factorizations.sources import SourceFactorization
from audiox_bench.models.frontends import LogMel, LogMelConfig
from audiox_bench.perturbation.masks import all_masks
from audiox_bench.perturbation.prediction_cache import predict_masks
from audiox_bench.tasks.stems.synthesis import render_role_bank


@pytest.fixture(scope="module")
def stems():
    sr, duration = 16_000, 1.0
    return {role: render_role_bank(role, 1, seed=3, sr=sr, duration=duration)[0] for role in ("piano", "bass", "drums")}


def test_all_ones_reproduces_the_mix_and_empty_is_silence(stems):
    fact = SourceFactorization(stems)
    mix = np.sum(list(stems.values()), axis=0)
    composed = fact.compose(np.array([[True] * 3, [False] * 3]))
    np.testing.assert_allclose(composed[0], mix, atol=1e-6)
    assert not composed[1].any()


def test_sources_x_time_components(stems):
    fact = SourceFactorization(stems, n_segments=4)
    assert fact.names[:4] == ("piano@t0", "piano@t1", "piano@t2", "piano@t3")
    drums_t2 = fact.components[fact.names.index("drums@t2")]
    assert (drums_t2.source, drums_t2.time, drums_t2.samples) == ("drums", 2, (8000, 12000))
    mix = np.sum(list(stems.values()), axis=0)
    np.testing.assert_allclose(fact.compose(np.ones((1, 12), bool))[0], mix, atol=1e-6)
    only_t1 = np.zeros((1, 12), bool)
    only_t1[0, [1, 5, 9]] = True
    out = fact.compose(only_t1)[0]
    assert not out[:4000].any() and not out[8000:].any()
    np.testing.assert_allclose(out[4000:8000], mix[4000:8000], atol=1e-6)


def test_spectral_composition_equals_waveform_composition(stems, tiny_confound):
    model = tiny_confound.model
    fact = SourceFactorization({k: np.tile(v, 2) for k, v in stems.items()})
    masks = all_masks(3)
    via_spectra = predict_masks(model, fact, masks)
    via_audio = model.predict_proba(fact.compose(masks))
    np.testing.assert_allclose(via_spectra, via_audio, atol=1e-4)


def test_mismatched_sources_are_rejected():
    with pytest.raises(InvalidInputError, match="equal length"):
        SourceFactorization({"a": np.zeros(10), "b": np.zeros(11)})


def test_hpss_sources_sum_to_the_mix(stems):
    mix = np.sum(list(stems.values()), axis=0).astype(np.float32)
    sources = separators.build("hpss").separate(Example("x", mix, 16_000))
    assert list(sources) == ["harmonic", "percussive"]
    np.testing.assert_allclose(sources["harmonic"] + sources["percussive"], mix, atol=1e-4)


def test_nmf_components_are_named_after_the_dominant_stem(stems):
    mix = np.sum(list(stems.values()), axis=0).astype(np.float32)
    sources = separators.build("nmf:n_components=6").separate(Example("x", mix, 16_000, stems=stems))
    labels = {name.split(".")[0] for name in sources}
    assert len(sources) == 6 and labels <= set(stems)
    assert "drums" in labels
    np.testing.assert_allclose(np.sum(list(sources.values()), axis=0), mix, atol=1e-3)
    unnamed = separators.build("nmf:n_components=3").separate(Example("x", mix, 16_000))
    assert list(unnamed) == ["nmf0", "nmf1", "nmf2"]


def test_oracle_without_stems_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="no oracle stems"):
        separators.build("oracle").separate(Example("x", np.ones(100, np.float32), 16_000))


def test_spectra_are_cached_per_front_end_configuration(stems):
    """Two models with different STFTs explaining one factorization each get their own spectra."""
    fact = SourceFactorization(stems)
    masks = all_masks(3)
    for n_fft, hop in ((1024, 512), (512, 256), (1024, 512)):
        frontend = LogMel(LogMelConfig(sr=16_000, n_fft=n_fft, hop_length=hop, n_mels=40))
        mixed = fact.compose_spectra(masks, frontend.stft, frontend.config.key())
        direct = frontend.stft(torch.from_numpy(fact.compose(masks)))
        assert mixed.shape == direct.shape == (8, 1 + n_fft // 2, 1 + 16_000 // hop)
        np.testing.assert_allclose(torch.view_as_real(mixed).numpy(), torch.view_as_real(direct).numpy(), atol=1e-4)
