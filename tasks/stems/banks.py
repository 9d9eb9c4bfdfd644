"""Banks of synthesised stems per role and split, rendered once and cached on disk.

Mixes are drawn from banks (a stem is reused in several mixes with different partners and gains), so
rendering cost grows with the bank size, not with the number of mixes. Each split has its own banks,
so no stem is shared between training and test data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from audiox_bench.core.disk_cache import cache_dir, cache_key, load_arrays, save_arrays
from audiox_bench.tasks.stems.singing import render_vocal_bank
from audiox_bench.tasks.stems.synthesis import render_role_bank

SPLIT_CODES = {"train": 1, "val": 2, "test": 3}
# Roles synthesised procedurally rather than from the SoundFont: ``(count, seed, sr, duration) -> stems``.
PROCEDURAL_ROLES = {"vocals": render_vocal_bank}


def stem_banks(
    roles: Sequence[str],
    split: str,
    count: int,
    seed: int,
    sr: int,
    duration: float,
    progress: bool = True,
) -> dict[str, np.ndarray]:
    """``count`` stems for each role of ``split``, from the cache or rendered now.

    Returns
    -------
    dict of str to np.ndarray [shape=(count, round(duration * sr)), dtype=float32]
    """
    banks: dict[str, np.ndarray] = {}
    for role in tqdm(roles, desc=f"stems ({split})", unit="role", disable=not progress, leave=False):
        role_seed = [seed, SPLIT_CODES[split], sum(map(ord, role))]
        description = {"kind": "stems", "role": role, "seed": role_seed, "count": count, "sr": sr, "duration": duration}
        path = cache_dir() / "stems" / f"{role}-{split}-{cache_key(description)}.npz"
        cached = load_arrays(path)
        if cached is not None and cached.get("stems", np.zeros(0)).shape == (count, round(duration * sr)):
            banks[role] = cached["stems"]
            continue
        entropy = int(np.random.SeedSequence(role_seed).generate_state(1)[0])
        if role in PROCEDURAL_ROLES:
            banks[role] = PROCEDURAL_ROLES[role](count, entropy, sr, duration)
        else:
            banks[role] = render_role_bank(role, count, entropy, sr, duration)
        save_arrays(path, {"stems": banks[role]})
    return banks


def db_gain(rng: np.random.Generator, centre_db: float, spread_db: float) -> float:
    """A linear gain drawn uniformly in ``centre_db +- spread_db`` decibels."""
    return float(10 ** (rng.uniform(centre_db - spread_db, centre_db + spread_db) / 20))


class StemBankSet:
    """The stem banks of one task: per split (``train``, ``val``, ``test``), ``sizes[split]`` stems of
    every role, loaded on first use and never pickled (a worker reloads them from the disk cache).

    Parameters
    ----------
    roles : sequence of str
    sizes : mapping of split to int
        Stems per role in each split.
    seed : int
    sr : int
    duration : float
        Seconds per stem.
    """

    def __init__(self, roles: Sequence[str], sizes: dict[str, int], seed: int, sr: int, duration: float) -> None:
        self.roles, self.sizes, self.seed, self.sr, self.duration = tuple(roles), dict(sizes), seed, sr, duration
        self.progress = False
        self._banks: dict[str, dict[str, np.ndarray]] = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_banks": {}}

    def describe(self) -> dict:
        return {"synthesised": True, "roles": list(self.roles), "stems_per_role": self.sizes}

    def split(self, split: str) -> dict[str, np.ndarray]:
        """Stems per role of ``split``."""
        if split not in self._banks:
            self._banks[split] = stem_banks(
                self.roles, split, self.sizes[split], self.seed, self.sr, self.duration, self.progress
            )
        return self._banks[split]


def bank_sizes(n_stems: int) -> dict[str, int]:
    """Stems per role for training, and 1/5 and 2/5 of it for validation and test banks."""
    return {"train": int(n_stems), "val": max(2, n_stems // 5), "test": max(2, 2 * n_stems // 5)}
