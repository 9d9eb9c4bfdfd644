"""Exact Shapley values of a model's score over components, from all 2^d coalitions, cached on disk.

The game is the target class's probability with the components of a coalition kept and the others switched
off (Shapley 1953; as a truth for explanations: Liu et al., "Synthetic Benchmarks for Scientific Research in
Explainable Machine Learning" (XAI-Bench), NeurIPS Datasets and Benchmarks 2021, Sec. 3). Its 2^d inputs go
through the shared prediction cache (an explainer of the same components that asked for some of them shares
them), and the values are kept on disk, keyed by the model's parameters, the composed inputs (the
factorization's key) and the class, so every explainer, run and metric setting of an example reads them once
computed.
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization, fingerprint
from audiox_bench.core.disk_cache import cache_dir, cache_key, load_arrays, save_arrays
from audiox_bench.perturbation.masks import all_masks
from audiox_bench.perturbation.prediction_cache import charge_shared, cost_meter, prediction_cache

SHAPLEY_DIR = "shapley"


def exact_shapley(masks: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Shapley values from the values of all ``2**d`` coalitions.

    Parameters
    ----------
    masks : np.ndarray [shape=(2**d, d), dtype=bool]
        Every coalition once, in any order.
    values : np.ndarray [shape=(2**d,)]
        The value of each coalition.

    Returns
    -------
    np.ndarray [shape=(d,)]
    """
    masks = np.asarray(masks, dtype=bool)
    d = masks.shape[1]
    codes = masks.astype(np.int64) @ (np.int64(1) << np.arange(d, dtype=np.int64))
    by_code = np.empty(2**d)
    by_code[codes] = values
    sizes = masks.sum(axis=1)
    all_codes = np.arange(2**d)
    size_of = np.empty(2**d, dtype=np.int64)
    size_of[codes] = sizes
    shapley_weight = np.array([math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d) for s in range(d)])
    phi = np.zeros(d)
    for i in range(d):
        bit = 1 << i
        without = all_codes[(all_codes & bit) == 0]
        phi[i] = np.sum(shapley_weight[size_of[without]] * (by_code[without | bit] - by_code[without]))
    return phi


@dataclass(frozen=True)
class ShapleyGame:
    """The exact Shapley values of one example's components for one class.

    Attributes
    ----------
    values : np.ndarray [shape=(d,)]
        Each component's Shapley value of the class probability.
    full, empty : float
        The probability with every component kept, and with none (the values sum to their difference).
    n_inputs : int
        Model inputs the game needs (2^d).
    seconds : float
        What computing it took when it was first computed (model calls included; cached inputs at the
        seconds they took when first evaluated).
    from_disk : bool
        Whether this call read it from the disk cache.
    """

    values: np.ndarray
    full: float
    empty: float
    n_inputs: int
    seconds: float
    from_disk: bool = False


_DIGESTS: weakref.WeakKeyDictionary[Classifier, tuple[tuple[int, ...], str]] = weakref.WeakKeyDictionary()


def model_digest(model: Classifier) -> str | None:
    """A digest of what a torch model computes (its class, classes, device, network and front-end tensors),
    or None for a model whose parameters are not visible (it is then not cached on disk). Remembered per
    model while its tensors are unchanged (torch's in-place version counters)."""
    network = getattr(model, "network", None)
    if network is None or not hasattr(network, "state_dict"):
        return None
    modules = [m for m in (network, getattr(model, "frontend", None)) if m is not None and hasattr(m, "state_dict")]
    tensors = [t for m in modules for t in m.state_dict().values()]
    versions = tuple(t._version for t in tensors)
    kept = _DIGESTS.get(model)
    if kept is None or kept[0] != versions:
        arrays = [t.detach().cpu().contiguous().numpy() for t in tensors]
        names = [type(model).__name__, type(network).__name__, str(getattr(model, "device", "")), *model.classes]
        kept = _DIGESTS[model] = (versions, fingerprint(np.array(names), *arrays))
    return kept[1]


def shapley_game(model: Classifier, factorization: Factorization, target: int, disk: bool = True) -> ShapleyGame:
    """The exact Shapley values of ``target``'s probability over ``factorization``'s components, where a
    switched-off component is what ``factorization`` composes it as (refill it with the task's baseline
    first: :func:`~audiox_bench.perturbation.baselines.switched_off`).

    Parameters
    ----------
    disk : bool
        Read and write the on-disk cache (where the model and the factorization can be keyed).
    """
    d = factorization.n_components
    digest = model_digest(model) if disk and factorization.key else None
    path = None
    if digest is not None:
        key = cache_key({"shapley": digest, "factorization": factorization.key, "target": int(target), "d": d})
        path = cache_dir() / SHAPLEY_DIR / f"{key}.npz"
        stored = load_arrays(path)
        if stored is not None and stored.get("values", np.empty(0)).shape == (d,):
            charge_shared(float(stored["seconds"]))  # a metric's cost reads as if it had computed them
            return ShapleyGame(
                stored["values"],
                float(stored["full"]),
                float(stored["empty"]),
                int(stored["n_inputs"]),
                float(stored["seconds"]),
                from_disk=True,
            )
    start = time.perf_counter()
    masks = all_masks(d)  # the full coalition first, the empty one last
    with cost_meter() as cost:  # inputs an explainer already asked for count at what they cost then
        scores = prediction_cache(model).predict(model, factorization, masks)[:, int(target)]
    phi = exact_shapley(masks, scores)
    charge_shared(cost.cached_seconds)  # inputs an explainer evaluated before: counted as if evaluated now
    seconds = time.perf_counter() - start + cost.cached_seconds
    game = ShapleyGame(phi, float(scores[0]), float(scores[-1]), len(masks), seconds)
    if path is not None:
        save_arrays(
            path,
            {
                "values": game.values,
                "full": np.float64(game.full),
                "empty": np.float64(game.empty),
                "n_inputs": np.int64(game.n_inputs),
                "seconds": np.float64(game.seconds),
            },
        )
    return game
