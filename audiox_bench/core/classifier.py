"""What a task's model looks like from outside: a classifier and the capabilities it declares.

Every model is a :class:`Classifier` (audio in, class probabilities out). Further capabilities are
declared by inheriting their contract, never discovered by probing attributes:

============================  ==================================================================
:class:`FeatureClassifier`    features in and out (``features``, ``predict_features``), the frame
                              hop that maps frames to sample spans, training feature statistics
:class:`SpectrumClassifier`   accepts complex STFTs, so mixes of sources are composed as spectra
:class:`Differentiable`       torch forward passes with gradients (gradient explainers, attacks)
:class:`LayerRandomizable`    copies with re-initialised layers (the randomization sanity check)
:class:`Batched`              evaluates inputs in batches of a settable size
============================  ==================================================================

An explainer or metric asks for a capability with :func:`require`; a model without it gets a clear
"not applicable" instead of a crash or a silent slow path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, TypeVar

import numpy as np

from audiox_bench.core.components import segment_edges
from audiox_bench.core.errors import NotApplicableError

if TYPE_CHECKING:
    import torch

M = TypeVar("M")


@dataclass(frozen=True)
class FeatureStats:
    """Statistics of a model's training features, in its input domain.

    Attributes
    ----------
    band_mean, band_std : np.ndarray [shape=(n_mels,)]
        Per-band mean and standard deviation.
    minimum : float
        Smallest value over the training features.
    """

    band_mean: np.ndarray
    band_std: np.ndarray
    minimum: float

    @staticmethod
    def of(features: np.ndarray) -> FeatureStats:
        """Statistics of features ``(n, n_mels, n_frames)``."""
        features = np.asarray(features, dtype=np.float64)
        return FeatureStats(features.mean(axis=(0, 2)), features.std(axis=(0, 2)), float(features.min()))

    def to_dict(self) -> dict:
        return {"band_mean": self.band_mean.tolist(), "band_std": self.band_std.tolist(), "minimum": self.minimum}

    @staticmethod
    def from_dict(data: dict) -> FeatureStats:
        return FeatureStats(np.asarray(data["band_mean"]), np.asarray(data["band_std"]), float(data["minimum"]))


class Classifier(ABC):
    """A trained model: audio ``(n, n_samples)`` at ``sr`` Hz in, probabilities ``(n, n_classes)`` out.

    Attributes
    ----------
    sr : int
        Sample rate the model expects.
    classes : tuple of str
        Class names in output order.
    multi_label : bool
        True if classes are independent tags (sigmoid outputs) rather than exclusive (softmax).
    input_samples : int or None
        The audio length (samples) the model was trained on, if it has one: longer audio is tagged
        window by window (``audiox predict``).
    prediction_cache_size : int
        How many factorizations' mask predictions the shared prediction cache keeps for this model.
    """

    sr: int
    classes: tuple[str, ...]
    multi_label: bool = False
    input_samples: int | None = None  # the audio length the model was trained on, if it has one
    capability: ClassVar[str] = "audio in, class probabilities out"
    prediction_cache_size: int = 256  # factorizations whose mask predictions are kept for this model

    @abstractmethod
    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for audio ``(n, n_samples)``."""


class FeatureClassifier(Classifier):
    """A classifier on log-mel-like features the benchmark can perturb directly.

    Attributes
    ----------
    hop_length : int
        Samples between frames (frames are centred: frame ``k`` is centred on sample ``k * hop_length``).
    feature_stats : FeatureStats or None
        Statistics of the training features (needed by some occlusion contents).
    """

    capability: ClassVar[str] = "features in and out (a feature front end)"
    hop_length: int
    feature_stats: FeatureStats | None = None

    @abstractmethod
    def features(self, audio: np.ndarray) -> np.ndarray:
        """Model input features ``(n, n_mels, n_frames)`` of audio ``(n, n_samples)``."""

    @abstractmethod
    def predict_features(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` for features ``(n, n_mels, n_frames)``."""

    def frame_sample_bounds(self, frame_edges: np.ndarray, n_frames: int, n_samples: int) -> np.ndarray:
        """Sample boundaries of spans of frames: a boundary before frame ``k`` falls half a hop before
        the sample frame ``k`` is centred on; the first is 0 and the last ``n_samples``."""
        edges = np.asarray(frame_edges, dtype=int)
        bounds = np.clip(edges * self.hop_length - self.hop_length // 2, 0, n_samples)
        bounds[edges <= 0] = 0
        bounds[edges >= n_frames] = n_samples
        return bounds

    def segment_sample_bounds(self, n_frames: int, n_segments: int, n_samples: int) -> np.ndarray:
        """Sample boundaries (``n_segments + 1``) of ``n_segments`` equal temporal segments of the input."""
        return self.frame_sample_bounds(segment_edges(n_frames, n_segments), n_frames, n_samples)


class SpectrumClassifier(Classifier):
    """A classifier whose front end starts with an STFT it can skip: it accepts complex spectra.

    The STFT is linear, so the spectrum of a mix of sources is the masked sum of their spectra; source
    factorizations use this to skip one STFT per perturbation.
    """

    capability: ClassVar[str] = "complex STFT input (mixes composed as spectra)"

    @property
    @abstractmethod
    def stft_key(self) -> str:
        """Identifies the STFT configuration (spectra are cached per configuration)."""

    @abstractmethod
    def stft(self, audio: torch.Tensor) -> torch.Tensor:
        """Complex STFTs ``(n, n_freq, n_frames)`` of audio ``(n, n_samples)`` on the model's device."""

    @abstractmethod
    def predict_stft(self, spectra: torch.Tensor) -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` from complex STFTs."""


class Differentiable(FeatureClassifier):
    """A torch model whose output can be differentiated with respect to its features (and audio).

    Attributes
    ----------
    device : torch.device
    network : torch.nn.Module
        Features -> logits (what :meth:`logits` runs), for methods that hook its layers.
    """

    capability: ClassVar[str] = "gradients (a torch network)"
    device: torch.device
    network: torch.nn.Module

    @abstractmethod
    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Logits ``(n, n_classes)`` of features ``(n, n_mels, n_frames)``, with autograd."""

    @abstractmethod
    def audio_features(self, audio: torch.Tensor) -> torch.Tensor:
        """The front end in torch, with autograd: audio ``(n, n_samples)`` -> features."""

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Probabilities from logits: sigmoid for multi-label models, softmax otherwise."""
        return logits.sigmoid() if self.multi_label else logits.softmax(dim=1)


class LayerRandomizable(Classifier):
    """A model that can copy itself with re-initialised layers (Adebayo et al. 2018)."""

    capability: ClassVar[str] = "copies with re-initialised layers"

    @abstractmethod
    def n_layers(self) -> int:
        """Number of layers :meth:`randomized` counts."""

    @abstractmethod
    def randomized(self, order: str = "cascading", layers: int | None = None, seed: int = 0) -> Classifier:
        """A copy with re-initialised parameters: the top ``layers`` layers (``cascading``) or only the
        ``layers``-th from the top (``independent``), deterministically from ``seed``. This model is
        left unchanged."""


class Batched(Classifier):
    """A model that evaluates inputs ``batch_size`` at a time (the size changes speed, not outputs
    beyond float round-off)."""

    capability: ClassVar[str] = "batched evaluation"
    batch_size: int


def require(model: Classifier, capability: type[M], purpose: str) -> M:
    """``model`` as ``capability``, or :class:`NotApplicableError` naming what ``purpose`` needs.

    Parameters
    ----------
    model : Classifier
    capability : type
        One of the capability contracts of this module.
    purpose : str
        Who needs it, for the message (e.g. ``"slime"``).
    """
    if isinstance(model, capability):
        return model
    raise NotApplicableError(
        f"{purpose} needs a model with {capability.capability}; "  # type: ignore[attr-defined]
        f"{type(model).__name__} does not declare {capability.__name__}"
    )
