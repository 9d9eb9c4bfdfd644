"""Model evaluation of masks: each distinct mask once, in batches, in the cheapest exact domain."""

from __future__ import annotations

import hashlib
import weakref
from collections import OrderedDict

import numpy as np

from audiox_bench.models.torch_classifier import DEFAULT_BATCH_SIZE, TorchClassifier
from audiox_bench.core.contracts import Classifier, Factorization


def predict_masks(model: Classifier, factorization: Factorization, masks: np.ndarray) -> np.ndarray:
    """Class probabilities for each mask (masks are assumed distinct; see :func:`distinct_masks`).

    Audio-domain factorizations that can mix spectra are fed to torch models as spectra; other
    audio-domain factorizations are composed as waveforms; feature-domain ones go to
    ``predict_features``. Inputs are composed one model batch at a time to bound memory.

    Returns
    -------
    np.ndarray [shape=(len(masks), n_classes), dtype=float64]
    """
    masks = np.asarray(masks, dtype=bool)
    batch = getattr(model, "batch_size", DEFAULT_BATCH_SIZE)
    parts = []
    for start in range(0, len(masks), batch):
        chunk = masks[start : start + batch]
        if factorization.domain == "features":
            parts.append(model.predict_features(factorization.compose(chunk)))
        elif isinstance(model, TorchClassifier) and hasattr(factorization, "compose_spectra"):
            spectra = factorization.compose_spectra(chunk, lambda x: model.frontend.stft(x.to(model.device)))
            parts.append(model.predict_stft(spectra))
        else:
            parts.append(model.predict_proba(factorization.compose(chunk)))
    return np.concatenate(parts) if parts else np.zeros((0, len(model.classes)))


class PredictionCache:
    """Model outputs per (factorization key, mask), so repeated explanations of one example (for
    stability, or several seeds) evaluate no mask twice.

    Parameters
    ----------
    max_factorizations : int
        How many factorizations are remembered (least recently used ones are dropped).
    """

    def __init__(self, max_factorizations: int = 256) -> None:
        self.max_factorizations = max_factorizations
        self._store: OrderedDict[str, dict[bytes, np.ndarray]] = OrderedDict()

    def predict(self, model: Classifier, factorization: Factorization, masks: np.ndarray) -> tuple[np.ndarray, int]:
        """Probabilities for distinct ``masks`` and the number of new model evaluations."""
        masks = np.asarray(masks, dtype=bool)
        if not factorization.key:
            return predict_masks(model, factorization, masks), len(masks)
        known = self._store.setdefault(factorization.key, {})
        self._store.move_to_end(factorization.key)
        while len(self._store) > self.max_factorizations:
            self._store.popitem(last=False)
        keys = [np.packbits(row).tobytes() for row in masks]
        missing = [i for i, key in enumerate(keys) if key not in known]
        if missing:
            fresh = predict_masks(model, factorization, masks[missing])
            for i, row in zip(missing, fresh):
                known[keys[i]] = row
        return np.stack([known[key] for key in keys]), len(missing)


_SHARED: weakref.WeakKeyDictionary[Classifier, PredictionCache] = weakref.WeakKeyDictionary()


def prediction_cache(model: Classifier) -> PredictionCache:
    """The prediction cache shared by every explainer evaluating ``model`` (e.g. SLIME configurations
    that differ only in N_s reuse each other's model outputs). It lives as long as the model and holds
    ``model.prediction_cache_size`` factorizations (default 256)."""
    try:
        if model not in _SHARED:
            _SHARED[model] = PredictionCache(getattr(model, "prediction_cache_size", 256))
        return _SHARED[model]
    except TypeError:  # a model that cannot be weakly referenced gets a cache of its own each time
        return PredictionCache()


def forget_predictions(model: Classifier) -> None:
    """Drop the shared cache of ``model`` (e.g. to measure the model calls of a cold explanation)."""
    _SHARED.pop(model, None)


def fingerprint(*arrays: np.ndarray) -> str:
    """A short digest of array contents, so cache keys change whenever the composed inputs would."""
    digest = hashlib.blake2b(digest_size=8)
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(str((array.shape, array.dtype.str)).encode())
        digest.update(array.data)
    return digest.hexdigest()
