"""A formant singing-voice synthesiser: vowel sequences on a melody, with vibrato and note onsets.

Why not the SoundFont's choir and voice programs: a detector trained on them stays far less accurate
than one trained on sung voices, because choir pads look like strings. A sung voice is a harmonic
source whose spectral envelope moves between vowel formants, with pitch vibrato and consonant onsets;
this module synthesises exactly that, additively:

- a melody of notes (0.15-0.6 s, short rests) on a scale inside a voice range (bass to soprano);
- per sample, the fundamental ``f0`` glides between notes (portamento), carries vibrato (4.5-6.5 Hz,
  0.2-0.8 semitones, fading in after the onset) and a little jitter;
- every harmonic ``k f0`` below Nyquist gets the amplitude of a vowel's formant envelope (three
  resonances, interpolated from one vowel to the next) times a glottal spectral tilt;
- each note has an attack/release envelope, and many begin with a short noise burst (a consonant).

Everything is numpy, deterministic from the seed, and rendered at the caller's rate.
"""

from __future__ import annotations

import numpy as np

TARGET_RMS = 0.1  # the same loudness as the SoundFont stems (synthesis.TARGET_RMS)

# Formant frequencies (Hz) of sung vowels for an adult male voice; other voices scale them.
VOWEL_FORMANTS = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (290.0, 2250.0, 2890.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (325.0, 870.0, 2250.0),
}
FORMANT_BANDWIDTHS = (80.0, 100.0, 140.0)
FORMANT_GAINS_DB = (0.0, -6.0, -14.0)
# Voice types: MIDI pitch range and formant scale.
VOICES = {"bass": (40, 60, 1.0), "tenor": (48, 67, 1.05), "alto": (53, 72, 1.12), "soprano": (60, 79, 1.18)}
SCALES = ((0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10))


def _midi_to_hz(pitch: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=np.float64) - 69.0) / 12.0)


def _smooth(values: np.ndarray, sr: int, seconds: float) -> np.ndarray:
    """Causal moving average over ``seconds`` (glides between note pitches and between vowels)."""
    width = max(1, int(seconds * sr))
    kernel = np.ones(width) / width
    padded = np.concatenate([np.repeat(values[:1], width - 1, axis=0), values])
    if values.ndim == 1:
        return np.convolve(padded, kernel, mode="valid")
    return np.stack([np.convolve(padded[:, j], kernel, mode="valid") for j in range(values.shape[1])], axis=1)


def _melody(rng: np.random.Generator, duration: float, low: int, high: int) -> list[tuple[float, float, int, str]]:
    """Notes ``(start, end, midi pitch, vowel)`` filling ``duration`` seconds, with short rests."""
    root, scale = int(rng.integers(0, 12)), SCALES[int(rng.integers(len(SCALES)))]
    pitches = [p for p in range(low, high + 1) if (p - root) % 12 in scale]
    notes, t = [], float(rng.uniform(0.0, 0.15))
    index = int(rng.integers(len(pitches)))
    while t < duration:
        length = float(rng.uniform(0.15, 0.6))
        index = int(np.clip(index + rng.integers(-3, 4), 0, len(pitches) - 1))  # stepwise melodies
        notes.append((t, min(t + length, duration), pitches[index], str(rng.choice(list(VOWEL_FORMANTS)))))
        t += length + (float(rng.uniform(0.05, 0.2)) if rng.random() < 0.3 else 0.0)
    return notes


def _formant_envelope(frequencies: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Linear amplitude of three resonances at ``frequencies`` (k, n) for formants (n, 3)."""
    envelope = np.zeros_like(frequencies)
    for j, (bandwidth, gain_db) in enumerate(zip(FORMANT_BANDWIDTHS, FORMANT_GAINS_DB)):
        detune = (frequencies - formants[None, :, j]) / (bandwidth / 2.0)
        envelope += 10 ** (gain_db / 20) / (1.0 + detune**2)
    return envelope


def sing(rng: np.random.Generator, sr: int, duration: float) -> np.ndarray:
    """One sung phrase of ``duration`` seconds, drawn from ``rng``, RMS-normalised.

    Returns
    -------
    np.ndarray [shape=(round(duration * sr),), dtype=float32]
    """
    n = round(duration * sr)
    voice = list(VOICES)[int(rng.integers(len(VOICES)))]
    low, high, formant_scale = VOICES[voice]
    notes = _melody(rng, duration, low, high)
    t = np.arange(n) / sr
    pitch = np.full(n, float(notes[0][2]))
    formants = np.tile(np.array(VOWEL_FORMANTS[notes[0][3]]) * formant_scale, (n, 1))
    gate = np.zeros(n)
    since_onset = np.full(n, 1.0)
    attack, release = float(rng.uniform(0.02, 0.06)), float(rng.uniform(0.03, 0.08))
    consonants = np.zeros(n)
    for start, end, note_pitch, vowel in notes:
        a, b = int(start * sr), int(end * sr)
        pitch[a:] = note_pitch
        formants[a:] = np.array(VOWEL_FORMANTS[vowel]) * formant_scale * rng.uniform(0.95, 1.05)
        local = t[a:b] - start
        gate[a:b] = np.minimum(1.0, local / attack) * np.clip((end - t[a:b]) / release, 0.0, 1.0)
        since_onset[a:b] = local
        if rng.random() < 0.6:  # a consonant: a short noise burst before the vowel
            burst = min(b - a, int(rng.uniform(0.02, 0.05) * sr))
            consonants[a : a + burst] += np.hanning(burst) if burst > 1 else 0.0
    pitch = _smooth(pitch, sr, float(rng.uniform(0.03, 0.08)))
    formants = _smooth(formants, sr, 0.05)
    rate, depth = rng.uniform(4.5, 6.5), rng.uniform(0.2, 0.8)
    vibrato = depth * np.clip(since_onset / 0.3, 0.0, 1.0) * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
    jitter = _smooth(rng.standard_normal(n) * 0.3, sr, 0.02)
    f0 = _midi_to_hz(pitch + vibrato + jitter)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    n_harmonics = int((0.45 * sr) // f0.min())
    k = np.arange(1, n_harmonics + 1)[:, None]
    frequencies = k * f0[None, :]
    tilt = k ** -float(rng.uniform(0.6, 1.2))
    amplitude = np.where(frequencies < 0.45 * sr, tilt * _formant_envelope(frequencies, formants), 0.0)
    voiced = np.sum(amplitude * np.sin(k * phase[None, :]), axis=0) * gate
    noise = np.diff(rng.standard_normal(n + 1))  # first difference: a high-passed, fricative-like hiss
    breath = noise * (0.02 * gate + 0.3 * consonants)
    audio = voiced + breath * np.sqrt(np.mean(voiced**2) + 1e-12)
    rms = np.sqrt(np.mean(audio**2))
    return (audio * (TARGET_RMS / max(rms, 1e-8))).astype(np.float32)


def render_vocal_bank(count: int, seed: int, sr: int, duration: float) -> np.ndarray:
    """``count`` sung phrases, each drawn from its own child of ``seed``.

    Returns
    -------
    np.ndarray [shape=(count, round(duration * sr)), dtype=float32]
    """
    children = np.random.SeedSequence(seed).spawn(count)
    return np.stack([sing(np.random.default_rng(child), sr, duration) for child in children])
