"""Stronger behavioural checks of a tags clip's truth, beyond presence, necessity and sufficiency.

- **dominance**: over the coalitions of the clip's other sources (the empty one included), the share in which
  adding the truth source raises the tag's probability more than adding any other absent source: the model
  reads the truth source for the tag more than anything else in the mix, wherever it starts from (the 2^n
  sub-mixes are the exact Shapley game of the sources);
- **timbre**: the truth stem swapped for another stem of the same role at equal RMS keeps the tag above its
  level, and swapped for a stem of a role no explained tag of the clip stands for, at equal RMS, takes the
  necessity share of the tag's probability away: the tag follows the instrument's timbre, not the level or
  the position of whatever plays there (no explainer makes these inputs);
- **segments**: the truth source removed from one time segment of the model input at a time; the segments
  whose removal alone takes at least ``segment_share`` of what removing the source everywhere takes are the
  verified temporal truth (``tK``), so explainers over segments are scored on tags too. It is undefined where
  more than half of the segments qualify (the source drives the tag everywhere alike) or none does.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np

from audiox_bench.perturbation.masks import all_masks

Predict = Callable[[np.ndarray], np.ndarray]  # mixes (n, samples) -> probabilities (n, classes)


def mix_of(stems: Mapping[str, np.ndarray], roles: list[str] | tuple[str, ...]) -> np.ndarray:
    """The float32 sum of ``roles``' stems in the stems' order (silence for none)."""
    length = len(next(iter(stems.values())))
    chosen = [stems[r] for r in stems if r in roles]
    return np.sum(np.stack(chosen), axis=0, dtype=np.float32) if chosen else np.zeros(length, np.float32)


def dominance_share(predict: Predict, stems: Mapping[str, np.ndarray], truth: str, tag_index: int) -> float:
    """The share of coalitions of the other sources (those with at least one other source still absent) in
    which the truth source's marginal gain in the tag's probability is the largest of the absent sources'.

    Costs ``2 ** len(stems)`` model inputs (the sub-mixes of the clip)."""
    roles = list(stems)
    masks = all_masks(len(roles))
    probabilities = predict(np.stack([mix_of(stems, [r for r, on in zip(roles, m) if on]) for m in masks]))
    value = {tuple(m): float(p) for m, p in zip(masks, probabilities[:, tag_index])}
    t = roles.index(truth)
    dominant = counted = 0
    for mask in masks:
        absent = [i for i, on in enumerate(mask) if not on]
        if mask[t] or len(absent) < 2:
            continue  # the truth already in, or the only source left to add
        gains = {}
        for i in absent:
            added = list(mask)
            added[i] = True
            gains[i] = value[tuple(added)] - value[tuple(mask)]
        counted += 1
        dominant += gains[t] >= max(g for i, g in gains.items() if i != t)
    return dominant / counted if counted else 1.0


def at_rms(stem: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``stem`` scaled to the RMS of ``reference``."""
    level = float(np.sqrt(np.mean(np.square(stem, dtype=np.float64))))
    target = float(np.sqrt(np.mean(np.square(reference, dtype=np.float64))))
    return (stem * np.float32(target / level if level > 0 else 0.0)).astype(np.float32)


def swapped(stems: Mapping[str, np.ndarray], truth: str, replacement: np.ndarray) -> np.ndarray:
    """The clip's mix with the truth stem replaced by ``replacement`` at the truth stem's RMS."""
    others = mix_of(stems, [r for r in stems if r != truth])
    return (others + at_rms(replacement, stems[truth])).astype(np.float32)


def segment_drops(
    predict: Predict, stems: Mapping[str, np.ndarray], truth: str, bounds: np.ndarray, tag_index: int
) -> np.ndarray:
    """The tag's probability on the mix minus on the mix with the truth source silenced in each segment.

    Parameters
    ----------
    bounds : np.ndarray [shape=(n_segments + 1,)]
        Sample boundaries of the model input's time segments.

    Returns
    -------
    np.ndarray [shape=(n_segments,)]
    """
    mix = mix_of(stems, list(stems))
    probes = [mix]
    for a, b in itertools.pairwise(bounds):
        gated = mix.copy()
        gated[a:b] -= stems[truth][a:b]
        probes.append(gated)
    probabilities = predict(np.stack(probes))[:, tag_index]
    return probabilities[0] - probabilities[1:]


def verified_segments(drops: np.ndarray, whole_drop: float, share: float) -> list[int]:
    """The segments whose drop is at least ``share`` of ``whole_drop`` (the drop when the source is removed
    everywhere); empty where none qualifies, or more than half do (no segment stands out)."""
    if whole_drop <= 0:
        return []
    chosen = [int(k) for k in np.flatnonzero(np.asarray(drops) >= share * whole_drop)]
    return chosen if 0 < len(chosen) <= len(drops) // 2 else []
