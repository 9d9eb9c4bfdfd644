"""SLIME (Mishra, Sturm, Dixon 2017; Mishra et al. 2020): LIME over segments of the log-mel input."""

from __future__ import annotations

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier, require
from audiox_bench.core.components import Factorization
from audiox_bench.core.contracts import Example, model_input
from audiox_bench.core.registry import contents, explainers
from audiox_bench.factorizations.segmentation import LAYOUTS, SegmentationFactorization
from audiox_bench.perturbation.lime import LimeExplainer, LimeSettings


@explainers.register("slime")
class SLIME(LimeExplainer):
    """LIME over temporal, spectral or time-frequency segments of the model input, filled with a content.

    Parameters
    ----------
    segmentation : str
        ``temporal`` (``n_segments`` along time), ``spectral`` (``n_bands`` mel-band groups) or
        ``time_frequency`` (``n_bands`` x ``n_time`` grid).
    content : str
        Occlusion content of "off" segments: ``zero``, ``min_data``, ``min_inp``, ``mean_inp``,
        ``noise_norm``, or a registered plugin content.
    n_segments : int
        Temporal segments (``temporal``).
    n_bands : int, optional
        Mel-band groups (``spectral``, default 10) or rows of the grid (``time_frequency``, default 4).
    n_time : int
        Time blocks of the ``time_frequency`` grid.
    n_samples : int or None
        Sampled masks (N_s; Bernoulli 0.5, row 0 all ones). None enumerates all masks when there are at
        most ``max_exhaustive`` components. Distinct masks are evaluated once either way.
    max_exhaustive, kernel_width, distance, alpha :
        As in LIME (``distance=l2`` is what the reference SLIME code used).
    """

    family = "segmentation"
    description = "LIME over segments of the log-mel input, off segments filled with occlusion content"

    def __init__(
        self,
        segmentation: str = "temporal",
        content: str = "zero",
        n_segments: int = 10,
        n_bands: int | None = None,
        n_time: int = 5,
        n_samples: int | None = None,
        max_exhaustive: int = 12,
        kernel_width: float = 0.25,
        distance: str = "cosine",
        alpha: float = 1.0,
    ) -> None:
        if segmentation not in LAYOUTS:
            raise ValueError(f"segmentation must be one of {', '.join(LAYOUTS)}, got {segmentation!r}")
        self.segmentation, self.content_name = segmentation, content
        self.content = contents.build(content)
        self.n_time = n_segments if segmentation == "temporal" else n_time
        self.n_bands = n_bands if n_bands is not None else (4 if segmentation == "time_frequency" else 10)
        self.settings = LimeSettings(n_samples, max_exhaustive, kernel_width, distance, alpha)

    def factorize_for(self, model: Classifier, example: Example, seed: int) -> SegmentationFactorization:
        """The segmentation of ``example`` with this content's fill; a stochastic fill is drawn from
        ``seed`` (and becomes part of the cache key)."""
        features = model_input(require(model, FeatureClassifier, "slime"), example)
        stochastic = self.content.stochastic
        fill = self.content.fill(features, model.feature_stats, np.random.default_rng(seed if stochastic else 0))
        key = f"{example.id}|slime:{self.segmentation}:{self.n_bands}x{self.n_time}|{self.content_name}"
        return SegmentationFactorization(
            features,
            fill,
            self.segmentation,
            self.n_time,
            self.n_bands,
            key=key + (f"|seed{seed}" if stochastic else ""),
        )

    @property
    def seeded_factorization(self) -> bool:
        return self.content.stochastic

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        return self.factorize_for(model, example, seed=0)
