"""Binary masks over components: exhaustive enumeration, Bernoulli sampling, de-duplication."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def all_masks(n_components: int) -> np.ndarray:
    """All ``2**n_components`` masks, the all-ones mask first.

    Returns
    -------
    np.ndarray [shape=(2**n_components, n_components), dtype=bool]
    """
    codes = np.arange(2**n_components - 1, -1, -1, dtype=np.int64)
    shifts = np.arange(n_components - 1, -1, -1, dtype=np.int64)
    return ((codes[:, None] >> shifts[None, :]) & 1).astype(bool)


def sample_masks(n_components: int, n_samples: int, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """``n_samples`` Bernoulli(p) masks; row 0 is all ones (the unperturbed input), as in LIME.

    Returns
    -------
    np.ndarray [shape=(n_samples, n_components), dtype=bool]
    """
    masks = rng.random((n_samples, n_components)) < p
    masks[0] = True
    return masks


@dataclass(frozen=True)
class DistinctMasks:
    """Masks reduced to their distinct rows.

    Attributes
    ----------
    masks : np.ndarray [shape=(n_distinct, n_components), dtype=bool]
        Each distinct mask once (in order of first appearance).
    counts : np.ndarray [shape=(n_distinct,), dtype=int]
        How often each distinct mask occurred.
    inverse : np.ndarray [shape=(n_total,), dtype=int]
        Row of ``masks`` for each original mask.
    """

    masks: np.ndarray
    counts: np.ndarray
    inverse: np.ndarray


def distinct_masks(masks: np.ndarray) -> DistinctMasks:
    """De-duplicate masks, keeping the order in which each first appears."""
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim == 2 and masks.shape[1] <= 63:  # one integer per row: a 1-D unique, much faster
        rows = masks.astype(np.int64) @ (np.int64(1) << np.arange(masks.shape[1], dtype=np.int64))
    else:
        rows = masks
    _, first, inverse, counts = np.unique(rows, axis=0, return_index=True, return_inverse=True, return_counts=True)
    order = np.argsort(first, kind="stable")  # unique rows sorted by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return DistinctMasks(masks[first[order]], counts[order], rank[inverse.ravel()])
