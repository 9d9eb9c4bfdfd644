"""Typed components and the factorization contract.

A factorization cuts one example into interpretable components. Each component is a
:class:`Component`: its name plus what it is (a source, a time segment, a band, a tile) and where it
lies (a sample span in the audio, a frame span and a mel-band span in the model input). Tasks state
ground truth and metrics map components to audio or features through these fields, never by parsing
names or asking how a factorization was built.
"""

from __future__ import annotations

import copy
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

LAYOUT_KINDS = ("sources", "temporal", "spectral", "time_frequency")
AGGREGATION_RULES = ("sum", "mean", "abs_sum")  # cell attributions -> component weights


@dataclass(frozen=True)
class Component:
    """One interpretable component of an example.

    Attributes
    ----------
    name : str
        Unique within its factorization (``drums``, ``vocals@t3``, ``t3``, ``f2``, ``f1t4``).
    source : str, optional
        Source label (``drums``, ``percussive``, ``vocals`` ...) for source components; NMF components
        ``drums.0``, ``drums.1`` share the label ``drums``.
    time : int, optional
        Index of the time segment the component covers, if it is confined to one.
    band : int, optional
        Index of the mel-band group the component covers, if it is confined to one.
    samples : (int, int), optional
        Sample span ``[start, end)`` in the example's audio of a time-confined source component.
    frames : (int, int), optional
        Frame span ``[start, end)`` in the model input of a segment.
    mels : (int, int), optional
        Mel-band span ``[start, end)`` in the model input of a segment.
    """

    name: str
    source: str | None = None
    time: int | None = None
    band: int | None = None
    samples: tuple[int, int] | None = None
    frames: tuple[int, int] | None = None
    mels: tuple[int, int] | None = None


@dataclass(frozen=True)
class Layout:
    """The grid a factorization lays over an example.

    Attributes
    ----------
    kind : str
        ``sources`` (separated sources, optionally x time segments), ``temporal``, ``spectral`` or
        ``time_frequency`` (segments of the model's log-mel input).
    n_time : int
        Time segments (1 where the layout has no time axis).
    n_bands : int
        Mel-band groups (1 where the layout has no band axis).
    """

    kind: str
    n_time: int = 1
    n_bands: int = 1

    def __post_init__(self) -> None:
        if self.kind not in LAYOUT_KINDS:
            raise ValueError(f"layout kind must be one of {', '.join(LAYOUT_KINDS)}, got {self.kind!r}")


class Factorization(ABC):
    """The interpretable components of one example and how to compose model inputs from masks.

    Attributes
    ----------
    family : str
        ``"source"`` (audio-domain sources, optionally x time) or ``"segmentation"`` (regions of the
        model's input features).
    domain : str
        ``"audio"`` if :meth:`compose` returns waveforms, ``"features"`` if it returns model features.
    components : tuple of Component
        The components, in mask-column order.
    layout : Layout
        The grid the components form.
    key : str
        Identifies what :meth:`compose` produces (for caching predictions): two factorizations with
        the same key compose identical inputs from the same mask.
    """

    family: ClassVar[str]
    domain: ClassVar[str]
    components: tuple[Component, ...]
    layout: Layout
    key: str

    @property
    def names(self) -> tuple[str, ...]:
        """Component names, in mask-column order."""
        return tuple(c.name for c in self.components)

    @property
    def n_components(self) -> int:
        return len(self.components)

    def names_where(self, predicate: Callable[[Component], bool]) -> frozenset[str]:
        """Names of the components for which ``predicate`` holds (how tasks state their truth)."""
        return frozenset(c.name for c in self.components if predicate(c))

    @abstractmethod
    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Model inputs for boolean masks ``(n, n_components)`` (True = component kept)."""


class FeatureFactorization(Factorization):
    """A factorization of the model's input features: components are groups of (band, frame) cells.

    Attributes
    ----------
    features : np.ndarray [shape=(n_mels, n_frames)]
        The model input of the example.
    fill : np.ndarray [shape=(n_mels, n_frames)]
        What replaces a switched-off cell (the occlusion content).
    cell_map : np.ndarray [shape=(n_mels, n_frames), dtype=int]
        Component index of every cell (Captum's ``feature_mask``).
    """

    domain = "features"
    features: np.ndarray
    fill: np.ndarray
    cell_map: np.ndarray

    def compose(self, masks: np.ndarray) -> np.ndarray:
        """Features ``(n, n_mels, n_frames)`` with the off components filled."""
        keep = np.asarray(masks, dtype=bool)[:, self.cell_map]
        return np.where(keep, self.features[None], self.fill[None])

    def cell_masks(self) -> np.ndarray:
        """One 0/1 mask over the cells per component ``(n_components, n_mels, n_frames)``."""
        return (self.cell_map[None] == np.arange(self.n_components)[:, None, None]).astype(np.float32)

    def with_fill(self, fill: np.ndarray) -> FeatureFactorization:
        """The same components of the same features, with ``fill`` in switched-off cells (a metric's
        baseline). Its cache key depends only on features, fill and cells, so every explainer with these
        components shares the predictions of its masks."""
        refilled = copy.copy(self)
        refilled.fill = np.broadcast_to(np.asarray(fill, dtype=np.float32), self.features.shape)
        refilled.key = f"refilled|{fingerprint(self.features, refilled.fill, self.cell_map)}"
        return refilled

    def per_component(self, cells: np.ndarray, rule: str = "sum") -> np.ndarray:
        """Component weights from attributions of every cell ``(n_mels, n_frames)``.

        Parameters
        ----------
        cells : np.ndarray [shape=(n_mels, n_frames)]
            An attribution per cell of the model input.
        rule : str
            ``sum`` (a component's share of an additive attribution: for IntegratedGradients and DeepLift
            the sums add up to f(input) - f(baseline)), ``mean`` (per cell: components of unequal size
            weigh alike) or ``abs_sum`` (magnitude, whatever the sign).

        Returns
        -------
        np.ndarray [shape=(n_components,), dtype=float64]
        """
        if rule not in AGGREGATION_RULES:
            raise ValueError(f"aggregate must be one of {', '.join(AGGREGATION_RULES)}, got {rule!r}")
        values = np.asarray(cells, dtype=np.float64).ravel()
        if rule == "abs_sum":
            values = np.abs(values)
        index = self.cell_map.ravel()
        weights = np.bincount(index, weights=values, minlength=self.n_components)
        if rule == "mean":
            weights = weights / np.maximum(np.bincount(index, minlength=self.n_components), 1)
        return weights


def segment_edges(n: int, n_segments: int) -> np.ndarray:
    """Boundaries (``n_segments + 1`` indices) of ``n_segments`` equal segments of ``0..n``."""
    return np.round(np.linspace(0, n, n_segments + 1)).astype(int)


def fingerprint(*arrays: np.ndarray | Sequence) -> str:
    """A short digest of array contents, so cache keys change whenever composed inputs would."""
    digest = hashlib.blake2b(digest_size=8)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.data)
    return digest.hexdigest()
