"""Segmentation factorizations (SLIME): regions of the model's log-mel input, filled when "off".

Layouts: ``temporal`` (``t0``..), ``spectral`` (``f0``.., mel bands grouped from low to high) and
``time_frequency`` (``f{b}t{k}``, a grid). A mask keeps the selected regions of the input features and
fills the others with occlusion content (see :mod:`audiox_bench.factorizations.contents`), all in the
model's input domain, so no audio is resynthesised.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.components import (
    Component,
    FeatureFactorization,
    Layout,
    fingerprint,
    segment_edges,
)
from audiox_bench.core.errors import InvalidInputError

LAYOUTS = ("temporal", "spectral", "time_frequency")


def segment_layout(layout: str, n_time: int, n_bands: int) -> Layout:
    """The :class:`Layout` of a segmentation (axes the layout lacks count 1)."""
    if layout not in LAYOUTS:
        raise InvalidInputError(f"segmentation must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    return Layout(layout, n_time=n_time if layout != "spectral" else 1, n_bands=n_bands if layout != "temporal" else 1)


def segment_components(n_mels: int, n_frames: int, layout: Layout) -> tuple[np.ndarray, tuple[Component, ...]]:
    """Component index of every (band, frame) cell, and the typed components, of a segmentation.

    Returns
    -------
    (np.ndarray [shape=(n_mels, n_frames), dtype=int], tuple of Component)
    """
    has_time, has_bands = layout.kind in ("temporal", "time_frequency"), layout.kind in ("spectral", "time_frequency")
    if has_time and not 1 <= layout.n_time <= n_frames:
        raise InvalidInputError(f"need 1 <= time segments <= {n_frames} frames, got {layout.n_time}")
    if has_bands and not 1 <= layout.n_bands <= n_mels:
        raise InvalidInputError(f"need 1 <= bands <= {n_mels} mel bands, got {layout.n_bands}")
    frame_edges = segment_edges(n_frames, layout.n_time)
    mel_edges = segment_edges(n_mels, layout.n_bands)
    time_of = np.searchsorted(frame_edges, np.arange(n_frames), side="right") - 1
    band_of = np.searchsorted(mel_edges, np.arange(n_mels), side="right") - 1
    cell_map = band_of[:, None] * layout.n_time + time_of[None, :]
    components = []
    for b in range(layout.n_bands):
        for k in range(layout.n_time):
            if layout.kind == "temporal":
                name = f"t{k}"
            elif layout.kind == "spectral":
                name = f"f{b}"
            else:
                name = f"f{b}t{k}"
            components.append(
                Component(
                    name,
                    time=k if has_time else None,
                    band=b if has_bands else None,
                    frames=(int(frame_edges[k]), int(frame_edges[k + 1])),
                    mels=(int(mel_edges[b]), int(mel_edges[b + 1])),
                )
            )
    return cell_map, tuple(components)


class SegmentationFactorization(FeatureFactorization):
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

    def __init__(
        self,
        features: np.ndarray,
        fill: np.ndarray,
        layout: str = "temporal",
        n_time: int = 10,
        n_bands: int = 10,
        key: str = "",
    ) -> None:
        features = np.asarray(features, dtype=np.float32)
        if features.ndim != 2:
            raise InvalidInputError(f"features must have shape (n_mels, n_frames), got {features.shape}")
        self.features = features
        self.fill = np.broadcast_to(np.asarray(fill, dtype=np.float32), features.shape)
        self.layout = segment_layout(layout, n_time, n_bands)
        self.cell_map, self.components = segment_components(*features.shape, self.layout)
        self.key = f"{key}|{fingerprint(self.features, self.fill, self.cell_map)}"
