"""Noisy copies of an instance, for metrics that explain again on slightly changed inputs (robustness,
Yeh et al. 2019; smoothed randomization, Hedström et al. 2023).

Noise is added in the domain the explanation's components live in: to the model input (log-mel) for
segmentations, to the audio for sources (spread over the stems, so they still sum to the mix). Each copy
gets its own example id, so the prediction cache never takes it for the original.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from audiox_bench.core.components import FeatureFactorization
from audiox_bench.core.data import MetricInput, model_input

DISTRIBUTIONS = ("gaussian", "uniform")


def noisy_copies(
    item: MetricInput, count: int, level: float, stream: int, distribution: str = "gaussian"
) -> list[tuple]:
    """``count`` noisy copies of ``item``'s instance with their factorizations ``(example, factorization)``.

    Parameters
    ----------
    item : MetricInput
        The instance and its explainer.
    count : int
    level : float
        The noise's standard deviation (``gaussian``) or half-width (``uniform``), relative to the standard
        deviation of what it is added to.
    stream : int
        The random stream (drawn with the instance's seed), so each metric's noise is its own.
    distribution : str
        ``gaussian`` or ``uniform``.
    """
    rng = np.random.default_rng([item.seed, stream])

    def draw(shape: tuple[int, ...], scale: float) -> np.ndarray:
        if distribution == "uniform":
            return rng.uniform(-level * scale, level * scale, shape)
        return rng.normal(0.0, level * scale, shape)

    copies = []
    for k in range(count):
        name = f"{item.example.id}~noise{stream:x}.{k}"
        if isinstance(item.factorization, FeatureFactorization):
            features = model_input(item.model, item.example)
            noisy = features + draw(features.shape, float(np.std(features)))
            example = replace(item.example, id=name, features=noisy.astype(np.float32))
        else:
            audio = item.example.audio
            noise = draw(audio.shape, float(np.std(audio))).astype(np.float32)
            stems = item.example.stems
            spread = None if stems is None else {role: stem + noise / len(stems) for role, stem in stems.items()}
            example = replace(item.example, id=name, audio=audio + noise, stems=spread)
        copies.append((example, item.explainer.factorize_for(item.model, example, item.seed)))
    return copies
