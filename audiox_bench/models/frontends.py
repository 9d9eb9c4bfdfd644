"""Log-mel front end in torch (batched, on the model's device), equal to librosa's within float error."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import librosa
import numpy as np
import torch
from torch import nn


def librosa_framed_stft(audio: torch.Tensor, n_fft: int, hop_length: int, window: torch.Tensor) -> torch.Tensor:
    """Complex STFT ``(batch, 1 + n_fft // 2, frames)`` of ``audio`` ``(batch, samples)``, framed as
    librosa frames it (centred, zero padding), so torch and librosa features agree."""
    return torch.stft(
        audio, n_fft=n_fft, hop_length=hop_length, window=window, center=True, pad_mode="constant", return_complex=True
    )


@dataclass(frozen=True)
class LogMelConfig:
    """Parameters of the log-mel front end.

    Parameters
    ----------
    sr : int
        Sample rate of the audio in Hz.
    n_fft : int
        FFT size in samples.
    hop_length : int
        Hop between frames in samples.
    n_mels : int
        Number of mel bands.
    amin : float
        Floor of the mel power before the logarithm.
    """

    sr: int = 16_000
    n_fft: int = 1024
    hop_length: int = 512
    n_mels: int = 128
    amin: float = 1e-10

    def n_frames(self, n_samples: int) -> int:
        """Number of frames of a centred STFT of ``n_samples`` samples."""
        return 1 + n_samples // self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)

    def key(self) -> str:
        """Identifies the STFT this configuration computes (spectra are cached per key)."""
        return f"stft:sr={self.sr},n_fft={self.n_fft},hop={self.hop_length}"


class LogMel(nn.Module):
    """Audio ``(batch, samples)`` -> log-mel in dB ``(batch, n_mels, frames)``.

    Matches ``librosa.power_to_db(librosa.feature.melspectrogram(y, sr, n_fft, hop_length, n_mels),
    ref=1.0, top_db=None)`` (centred frames, zero padding, Hann window, Slaney mel filters).
    If band statistics are given, each band is standardised: ``(x - mean) / std``.
    """

    def __init__(
        self,
        config: LogMelConfig,
        band_mean: np.ndarray | None = None,
        band_std: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        mel = librosa.filters.mel(sr=config.sr, n_fft=config.n_fft, n_mels=config.n_mels)
        self.register_buffer("mel_basis", torch.from_numpy(mel.astype(np.float32)))
        self.register_buffer("window", torch.hann_window(config.n_fft, periodic=True))
        self.standardised = band_mean is not None
        mean = np.zeros(config.n_mels) if band_mean is None else np.asarray(band_mean)
        std = np.ones(config.n_mels) if band_std is None else np.asarray(band_std)
        self.register_buffer("band_mean", torch.tensor(mean, dtype=torch.float32)[:, None])
        self.register_buffer("band_std", torch.tensor(std, dtype=torch.float32)[:, None])

    def set_band_stats(self, band_mean: np.ndarray, band_std: np.ndarray) -> None:
        """Standardise each band with these statistics from now on (e.g. the training set's)."""
        self.band_mean.copy_(torch.as_tensor(np.asarray(band_mean), dtype=torch.float32)[:, None])
        self.band_std.copy_(torch.as_tensor(np.asarray(band_std), dtype=torch.float32)[:, None])
        self.standardised = True

    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        """Complex STFT ``(batch, 1 + n_fft // 2, frames)`` with librosa's framing."""
        return librosa_framed_stft(audio, self.config.n_fft, self.config.hop_length, self.window)

    def from_stft(self, spectrum: torch.Tensor) -> torch.Tensor:
        """Log-mel (standardised if configured) from a complex STFT."""
        power = spectrum.real.square() + spectrum.imag.square()
        mel_power = torch.matmul(self.mel_basis, power)
        log_mel = 10.0 * torch.log10(torch.clamp(mel_power, min=self.config.amin))
        if self.standardised:
            log_mel = (log_mel - self.band_mean) / self.band_std
        return log_mel

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.from_stft(self.stft(audio))
