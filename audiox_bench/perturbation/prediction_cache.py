"""Model evaluation of masks: each distinct mask once, in batches, in the cheapest exact domain, through
a prediction cache shared by every explainer and metric that evaluates the same model.

The cache makes a shared run cheap, but it must not make costs depend on what ran before: a
:class:`CostMeter` opened around one explanation counts the inputs it needed, how many the cache
answered, and the seconds those cached inputs took when they were first evaluated, so the record
reports the cost of the explanation as if it had run alone.
"""

from __future__ import annotations

import contextvars
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from audiox_bench.core import defaults
from audiox_bench.core.classifier import (
    Batched,
    Classifier,
    FeatureClassifier,
    SpectrumClassifier,
    require,
)
from audiox_bench.core.components import Factorization
from audiox_bench.factorizations.sources import SourceFactorization


def model_batch_size(model: Classifier) -> int:
    """How many inputs ``model`` evaluates per forward pass."""
    return model.batch_size if isinstance(model, Batched) else defaults.BATCH_SIZE


def predict_masks(model: Classifier, factorization: Factorization, masks: np.ndarray) -> np.ndarray:
    """Class probabilities for each mask (masks are assumed distinct; see
    :func:`~audiox_bench.perturbation.masks.distinct_masks`).

    Source factorizations are fed to models that accept spectra as mixed spectra; other audio-domain
    factorizations are composed as waveforms; feature-domain ones go to ``predict_features``. Inputs
    are composed one model batch at a time to bound memory.

    Returns
    -------
    np.ndarray [shape=(len(masks), n_classes), dtype=float64]
    """
    return predict_masks_many([model], factorization, masks)[0]


def predict_masks_many(
    models: Sequence[Classifier], factorization: Factorization, masks: np.ndarray
) -> list[np.ndarray]:
    """:func:`predict_masks` for several models of the same input format (e.g. parameter-randomized
    copies of one model): each batch of inputs is composed once and evaluated by every model.

    Returns
    -------
    list of np.ndarray [shape=(len(masks), n_classes), dtype=float64], one per model
    """
    masks = np.asarray(masks, dtype=bool)
    first = models[0]
    batch = model_batch_size(first)
    spectra = all(isinstance(m, SpectrumClassifier) for m in models) and isinstance(factorization, SourceFactorization)
    if factorization.domain == "features":
        for model in models:
            require(model, FeatureClassifier, "a feature factorization")
    parts: list[list[np.ndarray]] = [[] for _ in models]
    for start in range(0, len(masks), batch):
        chunk = masks[start : start + batch]
        if spectra:
            composed = factorization.compose_spectra(chunk, first.stft, first.stft_key)
        else:
            composed = factorization.compose(chunk)
        for out, model in zip(parts, models):
            if factorization.domain == "features":
                out.append(model.predict_features(composed))
            elif spectra:
                out.append(model.predict_stft(composed))
            else:
                out.append(model.predict_proba(composed))
    empty = np.zeros((0, len(first.classes)))
    return [np.concatenate(out) if out else empty for out in parts]


@dataclass
class Cost:
    """What one explanation (or metric) asked of the model.

    Attributes
    ----------
    inputs : int
        Distinct model inputs requested (evaluated now or answered by the cache); an input requested
        again within the block counts once, as a cold explanation would evaluate it once.
    cache_hits : int
        Of those, answered by the cache (first requested in the block but evaluated before it).
    cached_seconds : float
        What the cached inputs cost when they were first evaluated.
    shared_seconds : float
        What results shared by every explainer of an instance and read from a cache (the exact Shapley
        values) cost when first computed (:func:`charge_shared`), so a metric's cost reads as if it had run
        alone.
    """

    inputs: int = 0
    cache_hits: int = 0
    cached_seconds: float = 0.0
    shared_seconds: float = 0.0
    seen: set[tuple[str, bytes]] = field(default_factory=set, repr=False)


_METER: contextvars.ContextVar[Cost | None] = contextvars.ContextVar("audiox_cost_meter", default=None)


@contextmanager
def cost_meter() -> Iterator[Cost]:
    """Count the model inputs requested through prediction caches inside the ``with`` block."""
    cost = Cost()
    token = _METER.set(cost)
    try:
        yield cost
    finally:
        _METER.reset(token)


def charge_shared(seconds: float) -> None:
    """Count ``seconds`` of a shared result read from a cache against the open :func:`cost_meter`, if any."""
    meter = _METER.get()
    if meter is not None:
        meter.shared_seconds += seconds


class PredictionCache:
    """Model outputs per (factorization key, mask), so repeated explanations of one example (for
    stability, several configurations, metrics) evaluate no mask twice.

    Parameters
    ----------
    max_factorizations : int
        How many factorizations are remembered (least recently used ones are dropped).
    """

    def __init__(self, max_factorizations: int = 256) -> None:
        self.max_factorizations = max_factorizations
        # key -> mask bytes -> (probabilities, seconds its evaluation took)
        self._store: OrderedDict[str, dict[bytes, tuple[np.ndarray, float]]] = OrderedDict()

    def predict(self, model: Classifier, factorization: Factorization, masks: np.ndarray) -> np.ndarray:
        """Probabilities ``(len(masks), n_classes)`` for ``masks`` (a mask given twice is evaluated once;
        what the explanation asked for is counted by the open :func:`cost_meter`)."""
        masks = np.asarray(masks, dtype=bool)
        meter = _METER.get()
        if not factorization.key:
            probabilities = predict_masks(model, factorization, masks)
            if meter is not None:
                meter.inputs += len(masks)
            return probabilities
        known = self._store.setdefault(factorization.key, {})
        self._store.move_to_end(factorization.key)
        while len(self._store) > self.max_factorizations:
            self._store.popitem(last=False)
        keys = [np.packbits(row).tobytes() for row in masks]
        first_index: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            first_index.setdefault(key, i)  # a mask given twice is evaluated once
        missing = [i for key, i in first_index.items() if key not in known]
        if meter is not None:
            new_here = [key for key in first_index if (factorization.key, key) not in meter.seen]
            meter.seen.update((factorization.key, key) for key in new_here)
            hits = [key for key in new_here if key in known]
            meter.inputs += len(new_here)
            meter.cache_hits += len(hits)
            meter.cached_seconds += sum(known[key][1] for key in hits)
        if missing:
            start = time.perf_counter()
            fresh = predict_masks(model, factorization, masks[missing])
            each = (time.perf_counter() - start) / len(missing)
            for i, row in zip(missing, fresh):
                known[keys[i]] = (row, each)
        return np.stack([known[key][0] for key in keys])


_SHARED: weakref.WeakKeyDictionary[Classifier, PredictionCache] = weakref.WeakKeyDictionary()


def prediction_cache(model: Classifier) -> PredictionCache:
    """The prediction cache shared by every explainer and metric evaluating ``model`` (e.g. SLIME
    configurations that differ only in N_s reuse each other's model outputs). It lives as long as the
    model and holds ``model.prediction_cache_size`` factorizations."""
    try:
        if model not in _SHARED:
            _SHARED[model] = PredictionCache(model.prediction_cache_size)
        return _SHARED[model]
    except TypeError:  # a model that cannot be weakly referenced gets a cache of its own each time
        return PredictionCache()


def forget_predictions(model: Classifier) -> None:
    """Drop the shared cache of ``model`` (e.g. to measure the model calls of a cold explanation)."""
    _SHARED.pop(model, None)
