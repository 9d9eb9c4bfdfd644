"""Checks and loading of audio at the boundaries (files, user arrays)."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from audiox_bench.core.errors import InvalidInputError

SILENCE_RMS = 1e-5


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
        raise InvalidInputError(
            f"{what} is too short: {array.size / sr:.3f} s, at least {min_seconds:.3f} s needed"
        )
    if float(np.sqrt(np.mean(np.square(array, dtype=np.float64)))) < SILENCE_RMS:
        raise InvalidInputError(f"{what} is silent (RMS below {SILENCE_RMS:g})")
    return array.astype(np.float32, copy=False)


def load_audio(path: str | Path, sr: int) -> np.ndarray:
    """Read an audio file, mix it to mono and resample it to ``sr`` Hz.

    Raises
    ------
    InvalidInputError
        If the file cannot be read or its content fails :func:`check_audio`.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"audio file {str(path)!r} does not exist")
    try:
        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise InvalidInputError(f"cannot read audio file {str(path)!r}: {exc}") from exc
    if data.shape[0] == 0:
        raise InvalidInputError(f"audio file {str(path)!r} is empty")
    if file_sr < 4000 or file_sr > 384_000:
        raise InvalidInputError(f"audio file {str(path)!r} has an unsupported sample rate {file_sr} Hz")
    mono = data.mean(axis=1)
    if not np.all(np.isfinite(mono)):
        raise InvalidInputError(f"audio file {str(path)!r} contains NaN or infinite samples")
    if file_sr != sr:
        mono = librosa.resample(mono, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return check_audio(mono, sr, what=f"audio file {str(path)!r}")
