"""The label-flip test of Praher et al. (ISMIR 2021): keep an adversarial perturbation only inside the
explainer's top-k regions and see whether the model's decision still flips.

Reported next to the same rate for the **norm oracle** (the k regions where the perturbation has the
most energy), an upper bound an explainer's regions can be read against, and for all regions with a
positive weight (the reference's second criterion).
"""

from __future__ import annotations

import numpy as np
from audiox_bench.metrics.topk import top_positive

from audiox_bench.core.contracts import Metric, MetricInput
from audiox_bench.core.registry import metrics
from audiox_bench.factorizations.segmentation import segment_sample_bounds


def component_masks(factorization, domain: str, shape: tuple[int, ...], hop_length: int | None) -> np.ndarray | None:
    """A 0/1 mask per component in the perturbation's domain ``(n_components, *shape)``, or None where
    components cannot be mapped there (audio perturbations need temporal segments)."""
    regions = getattr(factorization, "regions", None)
    if regions is None:
        return None
    if domain == "features":
        return np.stack([(regions == j) for j in range(factorization.n_components)]).astype(np.float32)
    if getattr(factorization, "layout", None) != "temporal" or not hop_length:
        return None
    bounds = segment_sample_bounds(regions.shape[1], factorization.n_components, shape[0], hop_length)
    masks = np.zeros((factorization.n_components, shape[0]), np.float32)
    for k in range(factorization.n_components):
        masks[k, bounds[k] : bounds[k + 1]] = 1.0
    return masks


@metrics.register("label_flip")
class LabelFlip(Metric):
    """1 if the adversarial perturbation kept only inside the explanation's top-k positive regions still
    gives the adversarial label (k = number of perturbed regions), else 0; the mean is the flip rate.

    Also ``label_flip.all_positive`` (inside every positive-weight region) and ``label_flip.oracle``
    (inside the k regions of largest perturbation energy). Undefined for examples without a perturbation
    or factorizations that cannot be mapped onto it.
    """

    name = "label_flip"
    higher_is_better = True
    description = "adversarial perturbation kept inside the top-k regions only still flips the label"

    def score(self, item: MetricInput) -> dict[str, float | None]:
        example, meta = item.example, item.example.meta
        empty = {self.name: None, f"{self.name}.all_positive": None, f"{self.name}.oracle": None}
        if "perturbation" not in example.arrays or "adversarial_label" not in meta:
            return empty
        clean, delta = example.arrays["clean"], example.arrays["perturbation"]
        hop = getattr(getattr(getattr(item.model, "frontend", None), "config", None), "hop_length", None)
        masks = component_masks(item.factorization, meta["domain"], delta.shape, hop)
        if masks is None:
            return empty
        names = list(item.factorization.names)
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        k = len(meta["regions"])
        energy = np.array([np.sum((delta * m) ** 2) for m in masks])
        selections = {
            self.name: [names.index(n) for n in top_positive(names, weights, k)],
            f"{self.name}.all_positive": list(np.flatnonzero(weights > 0)),
            f"{self.name}.oracle": list(np.argsort(-energy, kind="stable")[:k]),
        }
        inputs = np.stack([clean + delta * np.clip(masks[chosen].sum(axis=0), 0, 1) if chosen else clean
                           for chosen in selections.values()]).astype(np.float32)
        predict = item.model.predict_features if meta["domain"] == "features" else item.model.predict_proba
        flipped = predict(inputs).argmax(axis=1) == meta["adversarial_label"]
        return {key: float(flip) for key, flip in zip(selections, flipped)}
