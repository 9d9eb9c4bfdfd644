"""A generic torch classifier with a log-mel front end."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from audiox_bench.contracts import Classifier, as_audio_batch
from audiox_bench.errors import InvalidInputError
from audiox_bench.features import LogMel

DEFAULT_BATCH_SIZE = 256


class TorchClassifier(Classifier):
    """A torch network on log-mel features, evaluated in batches under ``torch.inference_mode``.

    Parameters
    ----------
    network : torch.nn.Module
        Maps features ``(batch, n_mels, frames)`` to logits ``(batch, n_classes)``.
    frontend : LogMel
        Audio -> features.
    classes : sequence of str
        Class names, in logit order.
    device : str
        Torch device for inference (``cpu``, ``cuda``, ...).
    batch_size : int
        Inputs per forward pass.
    """

    def __init__(
        self,
        network: nn.Module,
        frontend: LogMel,
        classes: tuple[str, ...],
        device: str = "cpu",
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.frontend = frontend.to(self.device).eval()
        self.classes = tuple(classes)
        self.sr = frontend.config.sr
        self.batch_size = int(batch_size)

    # -- features ------------------------------------------------------------------------------
    def features(self, audio: np.ndarray) -> np.ndarray:
        batch = as_audio_batch(audio)
        out = []
        with torch.inference_mode():
            for start in range(0, len(batch), self.batch_size):
                chunk = torch.from_numpy(batch[start : start + self.batch_size]).to(self.device)
                out.append(self.frontend(chunk).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0,), np.float32)

    # -- predictions ---------------------------------------------------------------------------
    def predict_features(self, features: np.ndarray) -> np.ndarray:
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim == 2:
            feats = feats[None]
        if feats.ndim != 3:
            raise InvalidInputError(f"features must have shape (n, n_mels, frames), got {feats.shape}")
        out = []
        with torch.inference_mode():
            for start in range(0, len(feats), self.batch_size):
                chunk = torch.from_numpy(np.ascontiguousarray(feats[start : start + self.batch_size]))
                logits = self.network(chunk.to(self.device))
                out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        batch = as_audio_batch(audio)
        out = []
        with torch.inference_mode():
            for start in range(0, len(batch), self.batch_size):
                chunk = torch.from_numpy(batch[start : start + self.batch_size]).to(self.device)
                logits = self.network(self.frontend(chunk))
                out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def predict_stft(self, spectra: torch.Tensor) -> np.ndarray:
        """Class probabilities from complex STFTs ``(n, 1 + n_fft // 2, frames)`` (STFT is linear, so
        source-domain explainers can mix precomputed spectra instead of waveforms)."""
        out = []
        with torch.inference_mode():
            for start in range(0, len(spectra), self.batch_size):
                chunk = spectra[start : start + self.batch_size].to(self.device)
                logits = self.network(self.frontend.from_stft(chunk))
                out.append(torch.softmax(logits, dim=1).cpu().numpy())
        return np.concatenate(out).astype(np.float64)

    def n_parameters(self) -> int:
        """Number of trainable parameters of the network."""
        return sum(p.numel() for p in self.network.parameters())
