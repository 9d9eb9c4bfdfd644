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
