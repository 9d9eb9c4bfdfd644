"""An explanation as sound: the top components alone, together, and the input without them, at the input
file's sample rate (the point of audioLIME: an explanation one can listen to).

Per window of the model's input (:func:`~audiox_bench.predict_file.window_starts`), a selection of
components (a set of names) is made audible in one of two ways:

- **time spans** (temporal segments of the model input): a 0/1 gate per sample, which is applied to the
  file's own samples at its rate and channels;
- **separated sources** (audio-domain factorizations): composed at the model's rate from the kept sources,
  mono, and resampled to the file's rate.

Other segmentations (mel bands, time-frequency tiles) have no audio form. Windows are stitched one after
the other, each contributing the samples the windows before it did not cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from audiox_bench.core.audio import resample
from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Factorization, FeatureFactorization

SILENT_PEAK = 1e-4  # a part whose peak stays below this is not written (nothing to hear)


def audible_form(factorization: Factorization, model: Classifier) -> str | None:
    """``gate`` (temporal segments of a feature model's input), ``sources`` (audio-domain), or None."""
    if factorization.domain == "audio":
        return "sources"
    if (
        isinstance(factorization, FeatureFactorization)
        and factorization.layout.kind == "temporal"
        and isinstance(model, FeatureClassifier)
    ):
        return "gate"
    return None


def window_part(
    factorization: Factorization, model: Classifier, audio: np.ndarray, selected: set[str], form: str
) -> np.ndarray:
    """One window's selection at the model's rate: a 0/1 gate per sample (``gate``) or the composed
    sources (``sources``) ``(n_samples,)``."""
    names = list(factorization.names)
    if form == "sources":
        return factorization.compose(np.array([[n in selected for n in names]]))[0]
    assert isinstance(factorization, FeatureFactorization) and isinstance(model, FeatureClassifier)
    n_frames = factorization.features.shape[1]
    gate = np.zeros(audio.size, np.float32)
    for component in factorization.components:
        if component.name in selected and component.frames is not None:
            start, end = model.frame_sample_bounds(np.array(component.frames), n_frames, audio.size)
            gate[start:end] = 1.0
    return gate


def stitch(parts: Sequence[np.ndarray], starts: Sequence[int], n_samples: int) -> np.ndarray:
    """Window parts ``(length,)`` placed at their starts into ``(n_samples,)``, each window writing only
    the samples the windows before it did not cover."""
    out = np.zeros(n_samples, np.float32)
    covered = 0
    for part, start in zip(parts, starts):
        end = min(n_samples, start + part.size)
        if end > covered:
            begin = max(covered, start)
            out[begin:end] = part[begin - start : end - start]
            covered = end
    return out


def at_file_rate(stitched: np.ndarray, form: str, model_sr: int, channels: np.ndarray, file_sr: int) -> np.ndarray:
    """A stitched part at the file's rate: the file's own samples (all channels) under a gate, or the
    sources resampled from the model's rate (mono). ``channels`` ``(n, c)`` is the explained span."""
    if form == "gate":
        positions = np.minimum((np.arange(channels.shape[0]) * model_sr) // file_sr, stitched.size - 1)
        return channels * stitched[positions][:, None]
    audio = resample(stitched, model_sr, file_sr)
    return np.pad(audio, (0, max(0, channels.shape[0] - audio.size)))[: channels.shape[0]]


def write_wav(path: Path, audio: np.ndarray, sr: int) -> float:
    """16-bit PCM WAV (mono or channels last); scaled down if it would clip. Returns the gain applied."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    gain = 0.99 / peak if peak > 0.99 else 1.0
    sf.write(path, (audio * gain).astype(np.float32), sr, subtype="PCM_16")
    return gain


def write_parts(out: Path, parts: Mapping[str, np.ndarray], sr: int, why_silent: Mapping[str, str]) -> dict:
    """Write each part as ``<name>.wav``; a silent one is not written, and the returned mapping says why
    (``why_silent`` names the reason per part, else "silent")."""
    written: dict[str, object] = {}
    for name, audio in parts.items():
        file = f"{name}.wav"
        if audio.size == 0 or float(np.max(np.abs(audio))) < SILENT_PEAK:
            written[file] = f"not written: silent ({why_silent.get(name, 'nothing to hear')})"
            continue
        written[file] = {"gain": write_wav(out / file, audio, sr)}
    return written
