"""What a task's model says about an audio file, before explaining it (``audiox predict``).

The file is read and resampled as ``audiox explain`` reads it. A model trained on a fixed length (e.g.
musicnn's 3 s) sees the file cut into consecutive windows of that length, whose probabilities are
averaged, as musicnn's own tagger does; a remainder shorter than a window is left out, and a file
shorter than one window is padded with silence to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiox_bench.core import registry
from audiox_bench.core.audio import read_audio, resample
from audiox_bench.core.classifier import Classifier


def windows(audio: np.ndarray, length: int | None) -> np.ndarray:
    """Consecutive windows ``(n, length)`` of ``audio`` (the remainder left out; a short clip padded)."""
    if length is None:
        return audio[None]
    if audio.size < length:
        return np.pad(audio, (0, length - audio.size))[None]
    count = audio.size // length
    return audio[: count * length].reshape(count, length)


@dataclass(frozen=True)
class Prediction:
    """A model's probabilities for a file: per label, averaged over ``n_windows`` windows."""

    labels: tuple[str, ...]
    probabilities: np.ndarray
    n_windows: int
    window_seconds: float | None

    def top(self, k: int) -> list[tuple[str, float]]:
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return [(self.labels[i], float(self.probabilities[i])) for i in order]

    def as_dict(self) -> dict[str, float]:
        return {label: float(p) for label, p in zip(self.labels, self.probabilities)}


def predict_audio(model: Classifier, audio: np.ndarray) -> Prediction:
    """The mean probabilities of ``model`` over the windows of ``audio`` (at the model's rate)."""
    cut = windows(audio, model.input_samples)
    window = None if model.input_samples is None else model.input_samples / model.sr
    return Prediction(tuple(model.classes), model.predict_proba(cut).mean(axis=0), len(cut), window)


def predict_file(path: str | Path, task_spec: str, device: str = "cpu", progress: bool = False) -> Prediction:
    """What the model of ``task_spec`` says about the audio file ``path`` (checked before the task is built).

    Raises
    ------
    AudioxError
        For unreadable or unusable audio, or unknown names.
    """
    audio, file_sr = read_audio(path)
    task = registry.tasks.build(task_spec, device=device)
    task.prepare(progress=progress)
    return predict_audio(task.model, resample(audio, file_sr, task.model.sr))
