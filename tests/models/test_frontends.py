import librosa
import numpy as np
import torch

from audiox_bench.models.frontends import LogMel, LogMelConfig


def test_torch_log_mel_matches_librosa():
    rng = np.random.default_rng(0)
    t = np.arange(16_000) / 16_000
    audio = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(16_000)).astype(np.float32)
    config = LogMelConfig()
    reference = librosa.power_to_db(
        librosa.feature.melspectrogram(
            y=audio, sr=config.sr, n_fft=config.n_fft, hop_length=config.hop_length, n_mels=config.n_mels
        ),
        ref=1.0,
        amin=config.amin,
        top_db=None,
    )
    with torch.inference_mode():
        ours = LogMel(config)(torch.from_numpy(audio)[None])[0].numpy()
    assert ours.shape == reference.shape == (128, config.n_frames(16_000))
    np.testing.assert_allclose(ours, reference, atol=2e-3)


def test_band_standardisation():
    config = LogMelConfig()
    mean, std = np.full(128, -20.0), np.full(128, 5.0)
    audio = torch.randn(1, 8000)
    with torch.inference_mode():
        raw = LogMel(config)(audio)
        standardised = LogMel(config, mean, std)(audio)
    torch.testing.assert_close(standardised, (raw + 20.0) / 5.0)
