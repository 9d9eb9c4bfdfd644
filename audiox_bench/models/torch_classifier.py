"""A torch classifier with a log-mel front end: every capability of :mod:`audiox_bench.core.classifier`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from audiox_bench.core import defaults
from audiox_bench.core.classifier import (
    Batched,
    Differentiable,
    FeatureStats,
    LayerRandomizable,
    SpectrumClassifier,
)
from audiox_bench.core.data import as_audio_batch
from audiox_bench.core.errors import InvalidInputError


class TorchClassifier(Differentiable, SpectrumClassifier, LayerRandomizable, Batched):
    """A torch network on log-mel features, evaluated in batches under ``torch.inference_mode``.

    Parameters
    ----------
    network : torch.nn.Module
        Maps features ``(batch, n_mels, frames)`` to logits ``(batch, n_classes)``.
    frontend : torch.nn.Module
        Audio -> features, with ``stft(audio)``, ``from_stft(spectrum)`` and a ``config`` giving ``sr``,
        ``hop_length`` and ``key()`` (e.g. :class:`~audiox_bench.models.frontends.LogMel`).
    classes : sequence of str
        Class names, in logit order.
    device : str
        Torch device for inference (``cpu``, ``cuda``, ...).
    batch_size : int
        Inputs per forward pass.
    feature_stats : FeatureStats, optional
        Statistics of the training features in the network's input domain (for occlusion contents
        such as ``min_data`` and ``noise_norm``).
    multi_label : bool
        Independent tags (sigmoid outputs) rather than exclusive classes (softmax).
    input_samples : int, optional
        The audio length the network was trained on, if it has one (longer files are explained or
        tagged window by window).
    """

    def __init__(
        self,
        network: nn.Module,
        frontend: nn.Module,
        classes: tuple[str, ...],
        device: str = defaults.DEVICE,
        batch_size: int = defaults.BATCH_SIZE,
        feature_stats: FeatureStats | None = None,
        multi_label: bool = False,
        input_samples: int | None = None,
    ) -> None:
        self.device = torch.device(device)
        self.network = network.to(self.device).eval()
        self.frontend = frontend.to(self.device).eval()
        self.classes = tuple(classes)
        self.sr = frontend.config.sr
        self.hop_length = frontend.config.hop_length
        self.batch_size = int(batch_size)
        self.feature_stats = feature_stats
        self.multi_label = bool(multi_label)
        self.input_samples = input_samples

    def _batched(self, inputs, step: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
        """Apply ``step`` (tensor on device -> tensor) to ``inputs`` one batch at a time.

        A lone input is evaluated as a batch of two (itself twice): CPU kernels take another path for a
        batch of one, so its output would differ in the last bits from the same input's in any larger
        batch (:mod:`audiox_bench.core.threads`)."""
        out = []
        with torch.inference_mode():
            for start in range(0, len(inputs), self.batch_size):
                chunk = inputs[start : start + self.batch_size]
                chunk = torch.from_numpy(np.ascontiguousarray(chunk)) if isinstance(chunk, np.ndarray) else chunk
                lone = len(chunk) == 1
                if lone:
                    chunk = torch.cat([chunk, chunk])
                result = step(chunk.to(self.device))
                out.append((result[:1] if lone else result).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0,), np.float32)

    # -- Differentiable ------------------------------------------------------------------------
    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return self.network(features)

    def audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        return self.frontend(audio)

    def _probabilities_of_features(self, features: torch.Tensor) -> torch.Tensor:
        return self.probabilities(self.network(features))

    # -- FeatureClassifier ---------------------------------------------------------------------
    def features(self, audio: np.ndarray) -> np.ndarray:
        return self._batched(as_audio_batch(audio), self.frontend)

    def predict_features(self, features: np.ndarray) -> np.ndarray:
        feats = np.asarray(features, dtype=np.float32)
        if feats.ndim == 2:
            feats = feats[None]
        if feats.ndim != 3:
            raise InvalidInputError(f"features must have shape (n, n_mels, frames), got {feats.shape}")
        return self._batched(feats, self._probabilities_of_features).astype(np.float64)

    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        return self._batched(as_audio_batch(audio), lambda x: self._probabilities_of_features(self.frontend(x))).astype(
            np.float64
        )

    # -- SpectrumClassifier --------------------------------------------------------------------
    @property
    def stft_key(self) -> str:
        return self.frontend.config.key()

    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        return self.frontend.stft(audio.to(self.device))

    def predict_stft(self, spectra: torch.Tensor) -> np.ndarray:
        return self._batched(spectra, lambda x: self._probabilities_of_features(self.frontend.from_stft(x))).astype(
            np.float64
        )

    # -- LayerRandomizable ---------------------------------------------------------------------
    def randomized(self, order: str = "cascading", layers: int | None = None, seed: int = 0) -> TorchClassifier:
        """A copy with re-initialised parameters (see
        :func:`audiox_bench.models.reinitialization.randomized_network`); the front end, classes and
        feature statistics are shared, this classifier is left as it was."""
        from audiox_bench.models.reinitialization import randomized_network

        network = randomized_network(self.network, order, layers, seed)
        copy = TorchClassifier(
            network,
            self.frontend,
            self.classes,
            str(self.device),
            self.batch_size,
            self.feature_stats,
            self.multi_label,
            self.input_samples,
        )
        copy.prediction_cache_size = 2  # explained once per instance: caching its outputs saves nothing
        return copy

    def n_layers(self) -> int:
        from audiox_bench.models.reinitialization import layer_groups

        return len(layer_groups(self.network))

    def n_parameters(self) -> int:
        """Number of trainable parameters of the network."""
        return sum(p.numel() for p in self.network.parameters())
