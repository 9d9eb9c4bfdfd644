"""Segmentation factorizations (SLIME): regions of the model's log-mel input, filled when "off".

Layouts: ``temporal`` (``t0``..), ``spectral`` (``f0``.., mel bands grouped from low to high) and
``time_frequency`` (``f{b}t{k}``, a grid). A mask keeps the selected regions of the input features and
fills the others with occlusion content (see :mod:`audiox_bench.factorizations.contents`), all in the model's input
domain, so no audio is resynthesised.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.contracts import Factorization
from audiox_bench.core.errors import InvalidInputError
from audiox_bench.perturbation.prediction_cache import fingerprint
from audiox_bench.factorizations.sources import segment_edges

LAYOUTS = ("temporal", "spectral", "time_frequency")


def region_map(n_mels: int, n_frames: int, layout: str, n_time: int, n_bands: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """Component index of every (band, frame) cell, and the component names.

    Returns
    -------
    (np.ndarray [shape=(n_mels, n_frames), dtype=int], tuple of str)
    """
    if layout not in LAYOUTS:
        raise InvalidInputError(f"segmentation must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    time_of = np.zeros(n_frames, int)
    band_of = np.zeros(n_mels, int)
    if layout in ("temporal", "time_frequency"):
        if not 1 <= n_time <= n_frames:
            raise InvalidInputError(f"need 1 <= time segments <= {n_frames} frames, got {n_time}")
        time_of = np.searchsorted(segment_edges(n_frames, n_time), np.arange(n_frames), side="right") - 1
    if layout in ("spectral", "time_frequency"):
        if not 1 <= n_bands <= n_mels:
            raise InvalidInputError(f"need 1 <= bands <= {n_mels} mel bands, got {n_bands}")
        band_of = np.searchsorted(segment_edges(n_mels, n_bands), np.arange(n_mels), side="right") - 1
    if layout == "temporal":
        return np.broadcast_to(time_of, (n_mels, n_frames)).copy(), tuple(f"t{k}" for k in range(n_time))
    if layout == "spectral":
        return np.broadcast_to(band_of[:, None], (n_mels, n_frames)).copy(), tuple(f"f{b}" for b in range(n_bands))
    regions = band_of[:, None] * n_time + time_of[None, :]
    return regions, tuple(f"f{b}t{k}" for b in range(n_bands) for k in range(n_time))


def segment_sample_bounds(n_frames: int, n_segments: int, n_samples: int, hop_length: int) -> np.ndarray:
    """Sample boundaries (``n_segments + 1`` values) of temporal segments of ``n_frames`` centred STFT
    frames: frame k is centred on sample k * hop_length, so a boundary between frames falls half a hop
    before the first frame of the next segment."""
    edges = segment_edges(n_frames, n_segments)
    bounds = np.clip(edges * hop_length - hop_length // 2, 0, n_samples)
    bounds[0], bounds[-1] = 0, n_samples
    return bounds


class SegmentationFactorization(Factorization):
    """Regions of one input's features; "off" regions take their values from ``fill``.

    Parameters
    ----------
    features : np.ndarray [shape=(n_mels, n_frames)]
        The model's input for the example.
    fill : np.ndarray [shape=(n_mels, n_frames)]
        Occlusion content used where a region is off.
    layout : str
        ``temporal``, ``spectral`` or ``time_frequency``.
    n_time, n_bands : int
        Time segments and mel-band groups (each used where the layout has that axis).
    key : str
        A readable label (example, layout, content); the cache key adds a digest of the features, the
        fill and the regions, so two factorizations share cached predictions only if they compose
        identical inputs.
    """

    family = "segmentation"
    domain = "features"

    def __init__(self, features: np.ndarray, fill: np.ndarray, layout: str = "temporal", n_time: int = 10,
                 n_bands: int = 10, key: str = "") -> None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2:
            raise InvalidInputError(f"features must have shape (n_mels, n_frames), got {features.shape}")
        fill = np.broadcast_to(np.asarray(fill, dtype=np.float32), features.shape)
        self.features, self.fill = features, fill
        self.layout = layout
        self.regions, self.names = region_map(*features.shape, layout, n_time, n_bands)
        self.key = f"{key}|{fingerprint(self.features, self.fill, self.regions)}"

    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Features ``(n, n_mels, n_frames)`` with the off regions filled."""
        keep = np.asarray(masks, dtype=bool)[:, self.regions]
        return np.where(keep, self.features[None], self.fill[None])
