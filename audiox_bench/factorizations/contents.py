"""Occlusion contents: what fills a switched-off region of the model's input (SLIME).

Each content is an :class:`~audiox_bench.core.interfaces.OcclusionContent` registered in
:data:`audiox_bench.core.registry.contents`; it works in the **model's input domain** (log-mel in dB,
or log-mel standardised per band if the model standardises). In that domain:

- ``zero``: 0. For a standardised input this is the training set's band mean, not silence; for a dB
  input it is 0 dB (mel power 1).
- ``min_data``: the minimum over the task's training features (one number).
- ``min_inp``: the minimum of this input (one number).
- ``mean_inp``: the mean of this input (one number).
- ``noise_norm``: Gaussian noise with the training set's per-band mean and standard deviation, drawn from
  the explanation's seed (stochastic: each seed gives its own fill).
- ``noisy_linear``: ROAD's noisy linear imputation (:class:`NoisyLinear`): each component imputed from the
  cells around it, plus noise (stochastic).
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.classifier import FeatureStats
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import OcclusionContent


def _need(stats: FeatureStats | None, content: str) -> FeatureStats:
    if stats is None:
        raise NotApplicableError(f"occlusion content {content!r} needs the model's training feature statistics")
    return stats


class Zero(OcclusionContent):
    """Zeros in the model's input domain (the band mean for standardised inputs)."""

    def fill(self, features, stats, rng):
        return np.zeros_like(features)


class MinData(OcclusionContent):
    """The minimum over the training features."""

    def fill(self, features, stats, rng):
        return np.full_like(features, _need(stats, "min_data").minimum)


class MinInput(OcclusionContent):
    """The minimum of this input."""

    def fill(self, features, stats, rng):
        return np.full_like(features, features.min())


class MeanInput(OcclusionContent):
    """The mean of this input."""

    def fill(self, features, stats, rng):
        return np.full_like(features, features.mean())


class BandNoise(OcclusionContent):
    """Gaussian noise with the training set's per-band mean and std (drawn from the explanation's seed)."""

    stochastic = True

    def fill(self, features, stats, rng):
        stats = _need(stats, "noise_norm")
        noise = rng.standard_normal(features.shape)
        return (stats.band_mean[:, None] + stats.band_std[:, None] * noise).astype(features.dtype)


class NoisyLinear(OcclusionContent):
    """ROAD's remedy for masks that leak the class (Rong, Leemann, Borisov, Kasneci, Kasneci, ICML 2022,
    Sec. 4, "noisy linear imputation"): a switched-off component is imputed from the cells bordering it,
    linearly along time (between the frames just before and after it, per band), or along frequency where
    it spans every frame (between the bands just below and above it, per frame), plus Gaussian noise of
    ``noise`` times the input's standard deviation (drawn from the explanation's seed).

    ROAD solves one linear system for all removed cells at once; a fill here is fixed per component, so
    each is imputed from the original cells around it, whichever other components are off.

    Parameters
    ----------
    noise : float
        Standard deviation of the added noise, relative to the input's.
    """

    stochastic = True
    needs_cells = True

    def __init__(self, noise: float = 0.05) -> None:
        if noise < 0:
            raise ValueError("noise must be >= 0")
        self.noise = float(noise)

    def fill(self, features, stats, rng, cells=None):
        if cells is None:
            raise NotApplicableError("noisy_linear imputes a component from the cells around it: it needs the cells")
        features = np.asarray(features, dtype=np.float64)
        out = features.copy()
        for component in np.unique(cells):
            region = cells == component
            imputed = _interpolate(features, region)  # along time, per band
            missing = region & np.isnan(imputed)
            if missing.any():  # runs spanning every frame: along frequency, per frame
                imputed[missing] = _interpolate(features.T, region.T).T[missing]
            out[region] = np.nan_to_num(imputed[region], nan=float(features.mean()))
        out[cells >= 0] += rng.normal(0.0, self.noise * float(features.std()), int((cells >= 0).sum()))
        return out.astype(np.float32)


def _interpolate(features: np.ndarray, region: np.ndarray) -> np.ndarray:
    """Per row, each run of ``region`` cells linearly between the cells just outside it (one side: that
    value); NaN where a run has no neighbour in its row, and outside ``region``."""
    out = np.full(features.shape, np.nan)
    for row in np.flatnonzero(region.any(axis=1)):
        inside = region[row]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], inside.astype(int), [0]])))
        for start, end in zip(edges[::2], edges[1::2]):
            left = features[row, start - 1] if start > 0 else None
            right = features[row, end] if end < features.shape[1] else None
            if left is None and right is None:
                continue
            left = right if left is None else left
            right = left if right is None else right
            out[row, start:end] = np.linspace(left, right, end - start + 2)[1:-1]
    return out


def content_fill(
    content: OcclusionContent,
    features: np.ndarray,
    stats: FeatureStats | None,
    rng: np.random.Generator,
    cells: np.ndarray,
) -> np.ndarray:
    """``content``'s fill of ``features``, given the component of each cell when the content needs it."""
    if getattr(content, "needs_cells", False):
        return content.fill(features, stats, rng, cells=cells)
    return content.fill(features, stats, rng)
