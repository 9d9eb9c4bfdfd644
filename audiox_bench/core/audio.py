"""Checks and loading of audio at the boundaries (files, user arrays)."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from audiox_bench.core.errors import InvalidInputError

SILENCE_RMS = 1e-5
MIN_FILE_SECONDS = 0.5  # the shortest audio file predict and explain take


def check_audio(audio: np.ndarray, sr: int, min_seconds: float = 0.0, what: str = "audio") -> np.ndarray:
    """Validate a mono waveform and return it as float32.

    Raises
    ------
    InvalidInputError
        If it is not 1-D, empty, shorter than ``min_seconds``, contains NaN or inf, or is silent.
    """
    array = np.asarray(audio)
    if array.ndim != 1:
        raise InvalidInputError(f"{what} must be mono with shape (n_samples,), got shape {array.shape}")
    if array.size == 0:
        raise InvalidInputError(f"{what} is empty")
    if not np.issubdtype(array.dtype, np.number):
        raise InvalidInputError(f"{what} must be numeric, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"{what} contains NaN or infinite samples")
    if array.size < min_seconds * sr:
        raise InvalidInputError(f"{what} is too short: {array.size / sr:.3f} s, at least {min_seconds:.3f} s needed")
    if float(np.sqrt(np.mean(np.square(array, dtype=np.float64)))) < SILENCE_RMS:
        raise InvalidInputError(f"{what} is silent (RMS below {SILENCE_RMS:g})")
    return array.astype(np.float32, copy=False)


def read_audio(path: str | Path, min_seconds: float = MIN_FILE_SECONDS) -> tuple[np.ndarray, int]:
    """Read an audio file and mix it to mono, at its own sample rate.

    Returns
    -------
    (np.ndarray [shape=(n_samples,), dtype=float32], int)
        The mono waveform and its sample rate.

    Raises
    ------
    InvalidInputError
        If the file is missing or unreadable, or its content fails :func:`check_audio`.
    """
    path = Path(path)
    what = f"audio file {str(path)!r}"
    if not path.is_file():
        raise InvalidInputError(f"{what} does not exist")
    try:
        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise InvalidInputError(f"cannot read {what}: {exc}") from exc
    if data.shape[0] == 0:
        raise InvalidInputError(f"{what} is empty")
    if file_sr < 4000 or file_sr > 384_000:
        raise InvalidInputError(f"{what} has an unsupported sample rate {file_sr} Hz")
    return check_audio(data.mean(axis=1), file_sr, min_seconds, what=what), int(file_sr)


def resample(audio: np.ndarray, orig_sr: int, sr: int) -> np.ndarray:
    """``audio`` at ``sr`` Hz (librosa's soxr_hq), float32."""
    if orig_sr == sr:
        return np.asarray(audio, np.float32)
    return librosa.resample(np.asarray(audio, np.float32), orig_sr=orig_sr, target_sr=sr, res_type="soxr_hq").astype(
        np.float32
    )
