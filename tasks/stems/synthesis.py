"""Deterministic synthesis of instrument stems from note sequences with a General MIDI SoundFont.

Note sequences are drawn from a seed; they are written as MIDI with ``pretty_midi`` and rendered with the
General MIDI SoundFont that ships inside ``pretty_midi`` (``TimGM6mb.sf2``) by ``midirenderer`` (a
self-contained wheel; ``tinysoundfont``'s wheels depend on ``pyaudio``, which does not install on a fresh
Linux machine). Rendering cost is
proportional to audio length plus a per-call overhead, so all stems of one program are rendered in a
single long MIDI file, one stem per time slot, and cut apart afterwards.

Roles (``piano``, ``guitar``, ``bass``, ``strings``, ``drums``) name what a stem plays; later tasks add
roles (e.g. a vocal synthesiser) by registering a new :class:`RoleStyle`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import librosa
import numpy as np
import pretty_midi
import soundfile as sf

TARGET_RMS = 0.1
SLOT_GAP_SECONDS = 1.0  # silence between stems in one long rendering, for release tails


@dataclass(frozen=True)
class Note:
    """One MIDI note: pitch (MIDI number), start and end in seconds, velocity 1-127."""

    pitch: int
    start: float
    end: float
    velocity: int


@dataclass(frozen=True)
class StemScore:
    """What one stem plays: the GM program, whether it is on the percussion channel, its notes."""

    role: str
    program: int
    is_drum: bool
    notes: tuple[Note, ...]


@lru_cache(maxsize=1)
def soundfont_bytes() -> bytes:
    """The General MIDI SoundFont shipped inside pretty_midi."""
    return (Path(pretty_midi.__file__).parent / "TimGM6mb.sf2").read_bytes()


# ---------------------------------------------------------------------------------------------
# Note-sequence generators, one per role
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Groove:
    """Shared musical frame of a generated stem: tempo, key and scale."""

    seconds_per_beat: float
    root: int
    scale: tuple[int, ...]

    @staticmethod
    def draw(rng: np.random.Generator) -> Groove:
        bpm = rng.uniform(88, 144)
        major = (0, 2, 4, 5, 7, 9, 11)
        minor = (0, 2, 3, 5, 7, 8, 10)
        return Groove(60.0 / bpm, int(rng.integers(0, 12)), major if rng.random() < 0.5 else minor)

    def pitch(self, degree: int, octave: int) -> int:
        n = len(self.scale)
        return 12 * (octave + 1) + self.root + self.scale[degree % n] + 12 * (degree // n)

    def chord(self, degree: int, octave: int) -> list[int]:
        return [self.pitch(degree + step, octave) for step in (0, 2, 4)]


def _beats(groove: Groove, duration: float) -> np.ndarray:
    return np.arange(0.0, duration, groove.seconds_per_beat)


def _piano_notes(rng, groove, duration):
    notes = []
    for i, t in enumerate(_beats(groove, duration)):
        if i % 2 == 0:  # chord every two beats
            degree = int(rng.integers(0, 7))
            for p in groove.chord(degree, 4):
                notes.append(Note(p, t, min(t + 2 * groove.seconds_per_beat, duration), int(rng.integers(60, 96))))
        for half in (0.0, 0.5):  # melody in eighths, some rests
            if rng.random() < 0.7:
                start = t + half * groove.seconds_per_beat
                if start < duration:
                    p = groove.pitch(int(rng.integers(0, 10)), 5)
                    notes.append(
                        Note(p, start, min(start + 0.5 * groove.seconds_per_beat, duration), int(rng.integers(60, 110)))
                    )
    return notes


def _guitar_notes(rng, groove, duration):
    notes = []
    strum = rng.random() < 0.5
    degree = 0
    for i, t in enumerate(_beats(groove, duration)):
        if i % 2 == 0:  # chord change every two beats
            degree = int(rng.integers(0, 7))
        chord = [*groove.chord(degree, 3), groove.pitch(degree + 7, 3)]
        if strum:  # strummed chord each beat, strings a few ms apart
            for j, p in enumerate(chord):
                notes.append(Note(p, t + 0.012 * j, t + groove.seconds_per_beat, int(rng.integers(70, 110))))
        else:  # arpeggio in eighths
            for half in (0.0, 0.5):
                start = t + half * groove.seconds_per_beat
                p = chord[int(rng.integers(0, len(chord)))]
                notes.append(Note(p, start, start + groove.seconds_per_beat, int(rng.integers(70, 110))))
    return notes


def _bass_notes(rng, groove, duration):
    notes = []
    for t in _beats(groove, duration):
        p = groove.pitch(int(rng.choice([0, 0, 3, 4, 5])), 2)
        notes.append(Note(p, t, min(t + 0.9 * groove.seconds_per_beat, duration), int(rng.integers(80, 115))))
    return notes


def _strings_notes(rng, groove, duration):
    notes = []
    bar = 4 * groove.seconds_per_beat
    for t in np.arange(0.0, duration, bar):
        for p in groove.chord(int(rng.integers(0, 7)), 4):
            notes.append(Note(p, t, min(t + bar, duration), int(rng.integers(60, 95))))
    return notes


_KICK, _SNARE, _CLOSED_HAT, _OPEN_HAT, _TOM = 36, 38, 42, 46, 45


def _drum_notes(rng, groove, duration):
    notes = []
    for i, t in enumerate(_beats(groove, duration)):
        if i % 2 == 0 or rng.random() < 0.2:
            notes.append(Note(_KICK, t, t + 0.1, int(rng.integers(90, 127))))
        if i % 2 == 1:
            notes.append(Note(_SNARE, t, t + 0.1, int(rng.integers(85, 120))))
        for half in (0.0, 0.5):
            start = t + half * groove.seconds_per_beat
            if start < duration:
                hat = _OPEN_HAT if rng.random() < 0.1 else _CLOSED_HAT
                notes.append(Note(hat, start, start + 0.05, int(rng.integers(50, 100))))
        if rng.random() < 0.1:
            notes.append(Note(_TOM, t + 0.25 * groove.seconds_per_beat, t + 0.3 * groove.seconds_per_beat, 100))
    return [n for n in notes if n.start < duration]


@dataclass(frozen=True)
class RoleStyle:
    """How a role is played: the GM programs it draws from and its note generator."""

    programs: tuple[int, ...]
    is_drum: bool
    generate: Callable[[np.random.Generator, Groove, float], list[Note]]


ROLE_STYLES: dict[str, RoleStyle] = {
    "piano": RoleStyle((0, 1), False, _piano_notes),
    "guitar": RoleStyle((24, 25, 26, 27, 28, 29, 30), False, _guitar_notes),
    "bass": RoleStyle((32, 33, 34, 35, 36, 37, 38, 39), False, _bass_notes),
    "strings": RoleStyle((48, 49, 50, 51), False, _strings_notes),
    "drums": RoleStyle((0, 8, 16, 24, 25, 32, 40), True, _drum_notes),
}


def draw_score(role: str, rng: np.random.Generator, duration: float) -> StemScore:
    """Draw the note sequence of one stem of ``role`` from ``rng``."""
    style = ROLE_STYLES[role]
    groove = Groove.draw(rng)
    program = int(rng.choice(style.programs))
    notes = tuple(_clip_notes(style.generate(rng, groove, duration), duration))
    return StemScore(role, program, style.is_drum, notes)


def _clip_notes(notes: Sequence[Note], duration: float) -> list[Note]:
    """Cut notes at ``duration`` and drop those left shorter than 10 ms."""
    clipped = [Note(n.pitch, n.start, min(n.end, duration), n.velocity) for n in notes]
    return [n for n in clipped if n.end - n.start >= 0.01]


# ---------------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------------
def _midi_bytes(program: int, is_drum: bool, slots: Sequence[tuple[float, Sequence[Note]]]) -> bytes:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    instrument = pretty_midi.Instrument(program=program, is_drum=is_drum)
    for offset, notes in slots:
        for note in notes:
            instrument.notes.append(pretty_midi.Note(note.velocity, note.pitch, offset + note.start, offset + note.end))
    pm.instruments.append(instrument)
    buffer = io.BytesIO()
    pm.write(buffer)
    return buffer.getvalue()


def _render_mono(midi: bytes, sr: int) -> np.ndarray:
    import midirenderer

    wav = midirenderer.render_wave_from(soundfont_bytes(), midi)
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if rate != sr:
        mono = librosa.resample(mono, orig_sr=rate, target_sr=sr, res_type="soxr_hq")
    return mono.astype(np.float32)


def render_scores(scores: Sequence[StemScore], sr: int, duration: float) -> np.ndarray:
    """Render stems, RMS-normalised to ``TARGET_RMS``.

    Parameters
    ----------
    scores : sequence of StemScore
        What each stem plays.
    sr : int
        Output sample rate in Hz.
    duration : float
        Length of each stem in seconds.

    Returns
    -------
    np.ndarray [shape=(len(scores), round(duration * sr)), dtype=float32]
    """
    n_samples = round(duration * sr)
    slot_seconds = duration + SLOT_GAP_SECONDS
    slot_samples = round(slot_seconds * sr)
    out = np.zeros((len(scores), n_samples), dtype=np.float32)
    groups: dict[tuple[int, bool], list[int]] = {}
    for index, score in enumerate(scores):
        groups.setdefault((score.program, score.is_drum), []).append(index)
    for (program, is_drum), indices in sorted(groups.items()):
        slots = [(slot * slot_seconds, scores[i].notes) for slot, i in enumerate(indices)]
        rendered = _render_mono(_midi_bytes(program, is_drum, slots), sr)
        needed = slot_samples * (len(indices) - 1) + n_samples
        if rendered.size < needed:
            rendered = np.pad(rendered, (0, needed - rendered.size))
        for slot, i in enumerate(indices):
            out[i] = rendered[slot * slot_samples : slot * slot_samples + n_samples]
    rms = np.sqrt(np.mean(out.astype(np.float64) ** 2, axis=1, keepdims=True))
    return (out * (TARGET_RMS / np.maximum(rms, 1e-8))).astype(np.float32)


def render_role_bank(role: str, count: int, seed: int, sr: int, duration: float) -> np.ndarray:
    """``count`` stems of one role, each drawn from its own child of ``seed``.

    Returns
    -------
    np.ndarray [shape=(count, round(duration * sr)), dtype=float32]
    """
    children = np.random.SeedSequence(seed).spawn(count)
    scores = [draw_score(role, np.random.default_rng(child), duration) for child in children]
    return render_scores(scores, sr, duration)
