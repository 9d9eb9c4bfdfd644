"""What a task's model says about an audio file, before explaining it (``audiox predict``).

The file is read and resampled as ``audiox explain`` reads it. A model trained on a fixed length (e.g.
musicnn's 3 s) sees the file cut into windows of that length that cover it (:func:`window_starts`: one
after the other, the last ending where the file ends), whose probabilities are averaged; a file shorter
than one window is padded with silence to it. ``audiox explain`` explains the same windows. Only the
model is loaded (:meth:`~audiox_bench.core.task.Task.load_model`): no task data is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiox_bench.core import registry
from audiox_bench.core.audio import read_audio, resample
from audiox_bench.core.classifier import Classifier


def window_starts(n_samples: int, length: int | None) -> list[int]:
    """Start samples of the windows of ``length`` that cover ``n_samples``: consecutive, and a last one
    ending at the end when a remainder is left (it overlaps the one before); ``[0]`` for one window."""
    if length is None or n_samples <= length:
        return [0]
    starts = list(range(0, n_samples - length + 1, length))
    if starts[-1] + length < n_samples:
        starts.append(n_samples - length)
    return starts


def windows(audio: np.ndarray, length: int | None) -> np.ndarray:
    """The windows ``(n, length)`` of :func:`window_starts` (a clip shorter than ``length`` padded)."""
    if length is None:
        return audio[None]
    if audio.size < length:
        return np.pad(audio, (0, length - audio.size))[None]
    return np.stack([audio[start : start + length] for start in window_starts(audio.size, length)])


@dataclass(frozen=True)
class Prediction:
    """A model's probabilities for a file: per label, averaged over ``n_windows`` windows (of
    ``window_seconds``, None for a model of any length)."""

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
    model = registry.tasks.build(task_spec, device=device).load_model(progress=progress)
    return predict_audio(model, resample(audio, file_sr, model.sr))
