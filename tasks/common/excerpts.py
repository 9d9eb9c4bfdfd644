"""Excerpts for singing-voice detection: an instrumental bed and a sung vocal at a random level.

The ``vocals`` task trains and validates its detector on them and builds its hybrids from them; the
``adversarial`` task attacks the same detector on excerpts of a split of its own. Each (split, index)
is drawn from its own generator, so an excerpt does not depend on which others were drawn.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.tasks.common.stem_banks import StemBankSet, bank_sizes, db_gain

BED_ROLES = ("piano", "guitar", "bass", "drums", "strings")
# Probability that a bed contains each role besides its lead (piano or guitar), and mixing gains in dB.
ROLE_PROBABILITY = {"piano": 0.4, "guitar": 0.4, "bass": 0.8, "drums": 0.6, "strings": 0.3}
GAINS_DB = {"piano": (-3, 3), "guitar": (-3, 3), "bass": (-4, 3), "drums": (-2, 3), "strings": (-6, 3)}
SNR_DB = (-6.0, 3.0)  # vocal-to-bed level
# Each consumer of excerpts draws from splits of its own; test-time splits share the test stem banks.
SPLIT_CODES = {"train": 1, "val": 2, "validity": 3, "hybrids": 4, "test": 5, "adversarial": 6}
BANK_OFFSET = 1000  # stem banks of the vocal task's seed s are drawn from seed s + 1000


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


class VocalExcerpts:
    """Beds and vocals drawn per (split, index) from stem banks.

    Parameters
    ----------
    seed : int
        Seed of the stems and of every draw.
    n_stems : int
        Stems per role in the training banks (validation and test banks get 1/5 and 2/5 of it).
    sr : int
    duration : float
        Seconds per excerpt.
    """

    def __init__(self, seed: int, n_stems: int, sr: int, duration: float) -> None:
        self.seed, self.sr, self.duration = int(seed), int(sr), float(duration)
        self.banks = StemBankSet((*BED_ROLES, "vocals"), bank_sizes(n_stems), self.seed + BANK_OFFSET, sr, duration)

    def excerpt(self, split: str, index: int) -> tuple[np.ndarray, np.ndarray, np.random.Generator]:
        """The instrumental bed of excerpt ``index`` of ``split``, its vocal (scaled to a random SNR),
        and the excerpt's generator for any further choices.

        Parameters
        ----------
        split : str
            One of ``train``, ``val``, ``validity``, ``hybrids``, ``test``, ``adversarial``.
        index : int
        """
        rng = np.random.default_rng([self.seed, SPLIT_CODES[split], index])
        banks = self.banks.split(split if split in ("train", "val") else "test")
        lead = str(rng.choice(["piano", "guitar"]))
        roles = [lead] + [r for r in BED_ROLES if r != lead and rng.random() < ROLE_PROBABILITY[r]]
        bed = np.zeros(round(self.sr * self.duration), np.float32)
        for role in roles:  # fixed role order, so the float32 sum is reproducible
            bank = banks[role]
            bed += bank[int(rng.integers(len(bank)))] * np.float32(db_gain(rng, *GAINS_DB[role]))
        vocal = banks["vocals"][int(rng.integers(len(banks["vocals"])))]
        snr = rng.uniform(*SNR_DB)
        vocal = vocal * np.float32(rms(bed) / max(rms(vocal), 1e-8) * 10 ** (snr / 20))
        return bed, vocal.astype(np.float32), rng
