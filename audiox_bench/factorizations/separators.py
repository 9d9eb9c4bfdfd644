"""Separators: they split an example into named sources whose sum is the example's audio.

Registered in :data:`audiox_bench.core.registry.separators`:

- ``oracle``: the example's own stems (synthetic tasks know them).
- ``hpss``: librosa's harmonic/percussive separation (soft masks): ``harmonic``, ``percussive``.
- ``nmf``: scikit-learn NMF of the magnitude spectrogram, each component turned into audio with a soft
  (Wiener-like) mask. **Naming**: when the example has oracle stems, each component is named after the
  stem with the most energy inside its mask, numbered per stem (``drums.0``, ``drums.1``, ``bass.0``,
  ...); otherwise ``nmf0``, ``nmf1``, ... The part before the dot is the component's *source label*.

Soft masks sum to one, so for every separator the sources add up to the input (up to STFT round-off).
"""

from __future__ import annotations

import warnings

import librosa
import numpy as np
from sklearn.decomposition import NMF
from sklearn.exceptions import ConvergenceWarning

from audiox_bench.core.data import Example
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.core.interfaces import Separator

N_FFT = 1024
HOP = 256


def _stft(audio: np.ndarray) -> np.ndarray:
    return librosa.stft(audio, n_fft=N_FFT, hop_length=HOP)


def _istft(spectrum: np.ndarray, length: int) -> np.ndarray:
    return librosa.istft(spectrum, hop_length=HOP, n_fft=N_FFT, length=length).astype(np.float32)


class OracleSeparator(Separator):
    """The example's true stems (only for tasks that synthesise their data)."""

    def separate(self, example: Example) -> dict[str, np.ndarray]:
        if not example.stems:
            raise InvalidInputError(f"example {example.id!r} has no oracle stems; use separator=hpss or nmf")
        return {name: np.asarray(audio, np.float32) for name, audio in example.stems.items()}


class HPSSSeparator(Separator):
    """librosa harmonic/percussive source separation with soft masks.

    Parameters
    ----------
    margin : float
        librosa's ``margin`` (1 = the masks sum to one).
    """

    def __init__(self, margin: float = 1.0) -> None:
        self.margin = float(margin)

    def separate(self, example: Example) -> dict[str, np.ndarray]:
        spectrum = _stft(example.audio)
        harmonic, percussive = librosa.decompose.hpss(spectrum, margin=self.margin)
        n = len(example.audio)
        return {"harmonic": _istft(harmonic, n), "percussive": _istft(percussive, n)}


class NMFSeparator(Separator):
    """Non-negative matrix factorisation of the magnitude spectrogram (scikit-learn).

    Parameters
    ----------
    n_components : int
        Number of NMF components.
    seed : int
        Initialisation seed of NMF.
    """

    def __init__(self, n_components: int = 6, seed: int = 0) -> None:
        if n_components < 1:
            raise ValueError("n_components must be at least 1")
        self.n_components = int(n_components)
        self.seed = int(seed)

    def separate(self, example: Example) -> dict[str, np.ndarray]:
        spectrum = _stft(example.audio)
        magnitude = np.abs(spectrum)
        model = NMF(self.n_components, init="nndsvda", max_iter=400, random_state=self.seed)
        with warnings.catch_warnings():  # a not fully converged NMF is still a valid factorisation
            warnings.simplefilter("ignore", ConvergenceWarning)
            activations = model.fit_transform(magnitude.T)  # (frames, k)
        templates = model.components_  # (k, freq)
        parts = templates[:, :, None] * activations.T[:, None, :]  # (k, freq, frames)
        masks = parts / np.maximum(parts.sum(axis=0, keepdims=True), 1e-12)
        n = len(example.audio)
        sources = [_istft(mask * spectrum, n) for mask in masks]
        return dict(zip(self._names(example, masks), sources))

    def _names(self, example: Example, masks: np.ndarray) -> list[str]:
        if not example.stems:
            return [f"nmf{i}" for i in range(len(masks))]
        stem_names = list(example.stems)
        stem_power = np.stack([np.abs(_stft(np.asarray(example.stems[s]))) ** 2 for s in stem_names])
        energy = np.einsum("kft,sft->ks", masks, stem_power)  # stem energy inside each component's mask
        labels = [stem_names[i] for i in energy.argmax(axis=1)]
        counters: dict[str, int] = {}
        names = []
        for label in labels:
            names.append(f"{label}.{counters.get(label, 0)}")
            counters[label] = counters.get(label, 0) + 1
        return names
