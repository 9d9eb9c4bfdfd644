"""Where the stems of the built-in tasks come from: synthesised banks (the default), or a local multitrack
dataset in the Slakh2100 or MUSDB18-HQ layout (``stems=DIR``).

- **Slakh2100**: track folders holding ``metadata.yaml`` (each stem's ``inst_class``, ``is_drum``) and
  ``stems/S00.flac``, ... Instrument classes map to roles: Piano -> piano, Guitar -> guitar, Bass -> bass,
  Strings (and Strings (continued)) -> strings, drum stems -> drums; other classes are left out.
- **MUSDB18-HQ**: track folders holding ``vocals.wav``, ``drums.wav``, ``bass.wav`` and ``other.wav``
  (roles vocals, drums, bass, other); a track folder missing one of them is skipped with a warning naming
  it.

The folder given holds the track folders (or split folders of them): a single track is refused.

Tracks are assigned to the train (70%), validation (10%) and test (20%) banks by a stable hash of their
folder name, so no track is shared between training and test data. A bank of a role is ``count`` clips
of ``duration`` seconds, each from a seeded track and offset where the role sounds, the stems of the role
in that track summed, resampled to the model's rate and normalised to the synthesised stems' loudness.
Banks are cached like synthesised ones.
"""

from __future__ import annotations

import hashlib
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from audiox_bench.core.audio import resample
from audiox_bench.core.disk_cache import cache_dir, cache_key, load_arrays, save_arrays
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.tasks.stems.banks import StemBankSet, bank_sizes
from audiox_bench.tasks.stems.synthesis import TARGET_RMS

SLAKH_ROLES = {
    "Piano": "piano",
    "Guitar": "guitar",
    "Bass": "bass",
    "Strings": "strings",
    "Strings (continued)": "strings",
    "Drums": "drums",
}
MUSDB_FILES = ("vocals", "drums", "bass", "other")
SPLIT_SHARES = (("train", 0.7), ("val", 0.1), ("test", 0.2))
SILENT_RMS = 1e-3
MAX_TRIES = 50


@dataclass(frozen=True)
class Track:
    """One track of a dataset: its folder and the audio files of each role."""

    name: str
    files: dict[str, tuple[Path, ...]]


def split_of(track_name: str) -> str:
    """train, val or test, from a stable hash of the track's name."""
    position = zlib.crc32(track_name.encode()) / 2**32
    total = 0.0
    for split, share in SPLIT_SHARES:
        total += share
        if position < total:
            return split
    return "test"


def _slakh_track(folder: Path) -> Track:
    try:
        import yaml
    except ImportError as exc:
        raise InvalidInputError(
            "reading Slakh2100's metadata.yaml needs PyYAML: pip install 'audiox-bench[datasets]'"
        ) from exc
    metadata_path = folder / "metadata.yaml"
    try:
        metadata = yaml.safe_load(metadata_path.read_text())
        stems = metadata["stems"]
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise InvalidInputError(f"cannot read Slakh2100 metadata {str(metadata_path)!r}: {exc}") from exc
    files: dict[str, list[Path]] = {}
    for stem, info in sorted((stems or {}).items()):
        role = "drums" if info.get("is_drum") else SLAKH_ROLES.get(str(info.get("inst_class")))
        path = folder / "stems" / f"{stem}.flac"
        if role is not None and path.is_file():
            files.setdefault(role, []).append(path)
    return Track(folder.name, {role: tuple(paths) for role, paths in files.items()})


def find_tracks(root: str | Path) -> list[Track]:
    """The tracks of a Slakh2100 or MUSDB18-HQ tree (its folders, or split folders of them).

    Raises
    ------
    InvalidInputError
        If ``root`` is missing or holds neither layout, naming the path.
    """
    root = Path(root)
    if not root.is_dir():
        raise InvalidInputError(f"stems directory {str(root)!r} does not exist")
    if (root / "metadata.yaml").is_file() or any((root / f"{name}.wav").is_file() for name in MUSDB_FILES):
        raise InvalidInputError(
            f"{str(root)!r} is one track, not a dataset: give the folder that holds the track folders "
            "(DIR/<track>/vocals.wav, drums.wav, bass.wav, other.wav for MUSDB18-HQ; DIR/<track>/metadata.yaml "
            "and stems/ for Slakh2100)"
        )
    tracks = []
    for folder in sorted(p for p in [*root.glob("*"), *root.glob("*/*")] if p.is_dir()):
        musdb = [name for name in MUSDB_FILES if (folder / f"{name}.wav").is_file()]
        if (folder / "metadata.yaml").is_file():
            tracks.append(_slakh_track(folder))
        elif len(musdb) == len(MUSDB_FILES):
            tracks.append(Track(folder.name, {name: (folder / f"{name}.wav",) for name in MUSDB_FILES}))
        elif musdb:
            missing = ", ".join(f"{name}.wav" for name in MUSDB_FILES if name not in musdb)
            tqdm.write(f"warning: skipping MUSDB18-HQ track {str(folder)!r}: it has no {missing}", file=sys.stderr)
        elif (folder / "stems").is_dir() and not (folder / "metadata.yaml").exists():
            raise InvalidInputError(f"Slakh2100 track {str(folder)!r} has stems but no metadata.yaml")
    if not tracks:
        raise InvalidInputError(
            f"{str(root)!r} holds no Slakh2100 track (a folder with metadata.yaml and stems/) "
            "and no MUSDB18-HQ track (a folder with vocals.wav, drums.wav, bass.wav, other.wav)"
        )
    return tracks


def _read(path: Path, start_seconds: float, seconds: float, sr: int) -> np.ndarray:
    """``seconds`` of mono audio from ``path`` at ``start_seconds``, resampled to ``sr``."""
    try:
        info = sf.info(path)
        start = int(start_seconds * info.samplerate)
        data, rate = sf.read(path, start=start, frames=int(seconds * info.samplerate), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for unreadable files
        raise InvalidInputError(f"cannot read audio file {str(path)!r}: {exc}") from exc
    audio = resample(data.mean(axis=1), rate, sr)
    n = round(seconds * sr)
    return np.pad(audio, (0, max(0, n - audio.size)))[:n].astype(np.float32)


def _duration(path: Path) -> float:
    try:
        info = sf.info(path)
    except Exception as exc:
        raise InvalidInputError(f"cannot read audio file {str(path)!r}: {exc}") from exc
    return info.frames / info.samplerate


class DatasetStems:
    """Banks of clips per role and split, cut from a local multitrack dataset (see the module).

    Parameters
    ----------
    root : str
        The dataset's folder.
    roles : sequence of str
        Roles the task needs banks of (roles the dataset lacks are left out of :attr:`roles`).
    sizes : dict of split to int
        Clips per role in each split's bank.
    seed, sr, duration :
        Seed of the clips, their sample rate and length in seconds.
    """

    def __init__(
        self, root: str, roles: Sequence[str], sizes: dict[str, int], seed: int, sr: int, duration: float
    ) -> None:
        self.root, self.sizes, self.seed, self.sr, self.duration = str(root), dict(sizes), int(seed), int(sr), duration
        self.tracks = find_tracks(root)
        present = {role for track in self.tracks for role in track.files}
        self.roles = tuple(role for role in roles if role in present)
        if len(self.roles) < 2:
            raise InvalidInputError(
                f"no track under {str(root)!r} has the roles needed ({', '.join(roles)}); "
                f"found: {', '.join(sorted(present)) or 'none'}"
            )
        self.progress = False
        self._banks: dict[str, dict[str, np.ndarray]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_banks": {}}

    def describe(self) -> dict:
        return {
            "dataset": self.root,
            "tracks": len(self.tracks),
            "roles": list(self.roles),
            "fingerprint": self._fingerprint(),
        }

    def fingerprint(self) -> str:
        """A digest of the dataset's files (names, sizes, times): changes when the data does."""
        return self._fingerprint()

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for track in self.tracks:
            for role, paths in sorted(track.files.items()):
                for path in paths:
                    stat = path.stat()
                    digest.update(f"{track.name}|{role}|{path.name}|{stat.st_size}|{stat.st_mtime_ns}".encode())
        return digest.hexdigest()[:16]

    def split(self, split: str) -> dict[str, np.ndarray]:
        """``sizes[split]`` clips of every role, from the split's tracks (cached).

        Raises
        ------
        InvalidInputError
            If no track of the split has a role the bank needs.
        """
        if split in self._banks:
            return self._banks[split]
        description = {
            "kind": "dataset-stems",
            "dataset": self._fingerprint(),
            "split": split,
            "roles": self.roles,
            "count": self.sizes[split],
            "seed": self.seed,
            "sr": self.sr,
            "duration": self.duration,
        }
        path = cache_dir() / "stems" / f"dataset-{split}-{cache_key(description)}.npz"
        cached = load_arrays(path)
        if cached is not None and set(cached) == set(self.roles):
            self._banks[split] = cached
            return cached
        tracks = [t for t in self.tracks if split_of(t.name) == split] or self.tracks
        banks = {role: self._bank(role, split, [t for t in tracks if role in t.files]) for role in self.roles}
        save_arrays(path, banks)
        self._banks[split] = banks
        return banks

    def _bank(self, role: str, split: str, tracks: list[Track]) -> np.ndarray:
        if not tracks:
            raise InvalidInputError(f"no {split} track under {str(self.root)!r} has a {role} stem")
        rng = np.random.default_rng([self.seed, sum(map(ord, role)), sum(map(ord, split))])
        clips = []
        for _ in range(self.sizes[split]):
            for _ in range(MAX_TRIES):
                track = tracks[int(rng.integers(len(tracks)))]
                length = min(_duration(path) for path in track.files[role])
                start = float(rng.uniform(0.0, max(0.0, length - self.duration)))
                clip = np.sum([_read(path, start, self.duration, self.sr) for path in track.files[role]], axis=0)
                rms = float(np.sqrt(np.mean(np.square(clip, dtype=np.float64))))
                if rms >= SILENT_RMS:
                    clips.append((clip * (TARGET_RMS / rms)).astype(np.float32))
                    break
            else:
                raise InvalidInputError(f"the {role} stems of the {split} tracks under {str(self.root)!r} are silent")
        return np.stack(clips)


def stems_given(source: StemBankSet | DatasetStems) -> bool:
    """Whether ``source`` is a local dataset (whose fingerprint belongs in a model's cache key)."""
    return isinstance(source, DatasetStems)


def open_stem_source(
    stems: str | None, roles: Sequence[str], n_stems: int, seed: int, sr: int, duration: float, progress: bool = False
) -> StemBankSet | DatasetStems:
    """Synthesised stem banks, or banks cut from the multitrack dataset at ``stems``."""
    if stems is None:
        source = StemBankSet(roles, bank_sizes(n_stems), seed, sr, duration)
    else:
        source = DatasetStems(stems, roles, bank_sizes(n_stems), seed, sr, duration)
    source.progress = progress
    return source
