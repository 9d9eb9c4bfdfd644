"""SLIME (Mishra, Sturm, Dixon 2017; Mishra et al. 2020): LIME over segments of the log-mel input."""

from __future__ import annotations

from typing import Any

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier, require
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import DefaultConfiguration, Example, model_input
from audiox_bench.core.registry import contents
from audiox_bench.explainers import SKIP_ON_TAGS
from audiox_bench.factorizations.contents import content_fill
from audiox_bench.factorizations.segmentation import (
    LAYOUTS,
    SegmentationFactorization,
    segment_components,
    segment_layout,
)
from audiox_bench.perturbation.lime import LIME, LimeExplainer, LimeSettings

CONTENTS = ("zero", "min_data", "min_inp", "mean_inp", "noise_norm")  # the paper's five occlusion contents
DEFAULT_BANDS = {"temporal": 10, "spectral": 10, "time_frequency": 4}  # when n_bands is None (unused in temporal)


class SLIME(LimeExplainer):
    """LIME over temporal, spectral or time-frequency segments of the model input, filled with a content.

    ``n_samples`` (N_s in the paper), ``max_exhaustive``, ``kernel_width``, ``distance`` (``l2`` is what the
    reference SLIME code used) and ``alpha`` are LIME's (:class:`~audiox_bench.perturbation.lime.LimeSettings`).

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
    """

    family = "segmentation"
    description = "LIME over segments of the log-mel input, off segments filled with occlusion content"
    factorization_keys = ("segmentation", "content", "n_segments", "n_bands", "n_time")
    parameters_documented_by = (LimeSettings,)
    default_benchmark = (DefaultConfiguration(f"slime:content={'|'.join(CONTENTS)}", skip_tasks=SKIP_ON_TAGS),)

    def __init__(
        self,
        segmentation: str = "temporal",
        content: str = "zero",
        n_segments: int = 10,
        n_bands: int | None = None,
        n_time: int = 5,
        n_samples: int | None = LIME.n_samples,
        max_exhaustive: int = LIME.max_exhaustive,
        kernel_width: float = LIME.kernel_width,
        distance: str = LIME.distance,
        alpha: float = LIME.alpha,
    ) -> None:
        if segmentation not in LAYOUTS:
            raise ValueError(f"segmentation must be one of {', '.join(LAYOUTS)}, got {segmentation!r}")
        self.segmentation, self.content_name = segmentation, content
        self.content = contents.build(content)
        self.n_time = n_segments if segmentation == "temporal" else n_time
        self.n_bands = n_bands if n_bands is not None else DEFAULT_BANDS[segmentation]
        self.settings = LimeSettings(n_samples, max_exhaustive, kernel_width, distance, alpha)

    def factorize_for(self, model: Classifier, example: Example, seed: int) -> SegmentationFactorization:
        """The segmentation of ``example`` with this content's fill; a stochastic fill is drawn from
        ``seed`` (and becomes part of the cache key)."""
        features = model_input(require(model, FeatureClassifier, "slime"), example)
        stochastic = self.content.stochastic
        key = f"{example.id}|slime:{self.segmentation}:{self.n_bands}x{self.n_time}|{self.content_name}"
        layout = segment_layout(self.segmentation, self.n_time, self.n_bands)
        cells, _ = segment_components(*features.shape, layout)
        rng = np.random.default_rng(seed if stochastic else 0)
        return SegmentationFactorization(
            features,
            content_fill(self.content, features, model.feature_stats, rng, cells),
            self.segmentation,
            self.n_time,
            self.n_bands,
            key=key + (f"|seed{seed}" if stochastic else ""),
        )

    @property
    def seeded_factorization(self) -> bool:
        return self.content.stochastic

    def canonical_params(self) -> dict[str, Any]:
        """Non-default parameters, without those this segmentation does not use (``n_time`` of a temporal
        one, a band count equal to the layout's default ...), so equal configurations share one SPEC."""
        params = super().canonical_params()
        if self.segmentation != "temporal":
            params.pop("n_segments", None)
        if self.segmentation != "time_frequency":
            params.pop("n_time", None)
        if self.segmentation == "temporal" or self.n_bands == DEFAULT_BANDS[self.segmentation]:
            params.pop("n_bands", None)
        if self.settings.n_samples is not None:
            params.pop("max_exhaustive", None)
        return params

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        return self.factorize_for(model, example, seed=0)
