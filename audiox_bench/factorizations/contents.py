"""Occlusion contents: what fills a switched-off region of the model's input (SLIME).

Each content is a function ``(features, stats, rng) -> fill`` registered in
:data:`audiox_bench.core.registry.contents`; it works in the **model's input domain** (log-mel in dB, or
log-mel standardised per band if the model standardises). In that domain:

- ``zero``: 0. For a standardised input this is the training set's band mean, not silence; for a dB
  input it is 0 dB (mel power 1).
- ``min_data``: the minimum over the task's training features (one number).
- ``min_inp``: the minimum of this input (one number).
- ``mean_inp``: the mean of this input (one number).
- ``noise_norm``: Gaussian noise with the training set's per-band mean and standard deviation, drawn from
  the explanation's seed (stochastic: each seed gives its own fill).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from audiox_bench.core.errors import AudioxError
from audiox_bench.models.frontends import FeatureStats
from audiox_bench.core.registry import contents

Content = Callable[[np.ndarray, FeatureStats | None, np.random.Generator], np.ndarray]


def _need(stats: FeatureStats | None, content: str) -> FeatureStats:
    if stats is None:
        raise AudioxError(f"occlusion content {content!r} needs the model's training feature statistics")
    return stats


@contents.register("zero")
def zero(features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
    """Zeros in the model's input domain (the band mean for standardised inputs)."""
    return np.zeros_like(features)


@contents.register("min_data")
def min_data(features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
    """The minimum over the training features."""
    return np.full_like(features, _need(stats, "min_data").minimum)


@contents.register("min_inp")
def min_inp(features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
    """The minimum of this input."""
    return np.full_like(features, features.min())


@contents.register("mean_inp")
def mean_inp(features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
    """The mean of this input."""
    return np.full_like(features, features.mean())


@contents.register("noise_norm")
def noise_norm(features: np.ndarray, stats: FeatureStats | None, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with the training set's per-band mean and std (seeded)."""
    stats = _need(stats, "noise_norm")
    noise = rng.standard_normal(features.shape)
    return (stats.band_mean[:, None] + stats.band_std[:, None] * noise).astype(features.dtype)


noise_norm.stochastic = True  # type: ignore[attr-defined]


def is_stochastic(content: Content) -> bool:
    """Whether a content depends on the random generator (its fill differs per seed)."""
    return bool(getattr(content, "stochastic", False))
