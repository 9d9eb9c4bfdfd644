"""The label-flip test of Praher et al. (ISMIR 2021): keep an adversarial perturbation only inside the
explainer's top-k regions and see whether the model's decision still flips.

Reported next to the same rate for the **norm oracle** (the k regions where the perturbation has the
most energy) and for all regions with a positive weight (the reference's second criterion). Both are
diagnostics, never ranked: the oracle flips by construction (the perturbation is zero outside its k
regions, so its k regions of most energy hold all of it), and every explanation whose weights are all
positive (Captum's Saliency, which returns |gradient|) keeps the whole perturbation and always flips.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Factorization, FeatureFactorization
from audiox_bench.core.data import Figure, MetricInput, Perturbation, Scores
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Metric
from audiox_bench.core.records import GroupRow, Record
from audiox_bench.metrics.topk import top_positive
from audiox_bench.results.plots import (
    explainer_ticks,
    figure_path,
    natural_order,
    save,
    values_by_explainer,
)


def component_masks(factorization: Factorization, perturbation: Perturbation, model: Classifier) -> np.ndarray | None:
    """A 0/1 mask per component in the perturbation's domain ``(n_components, *delta.shape)``, or None
    where components cannot be mapped there (audio perturbations need temporal segments of a model
    whose frames map to samples)."""
    if not isinstance(factorization, FeatureFactorization):
        return None
    if perturbation.domain == "features":
        return factorization.cell_masks()
    if factorization.layout.kind != "temporal" or not isinstance(model, FeatureClassifier):
        return None
    n_frames, n_samples = factorization.features.shape[1], perturbation.delta.shape[0]
    masks = np.zeros((factorization.n_components, n_samples), np.float32)
    for j, component in enumerate(factorization.components):
        start, end = model.frame_sample_bounds(np.array(component.frames), n_frames, n_samples)
        masks[j, start:end] = 1.0
    return masks


class LabelFlip(Metric):
    """1 if the adversarial perturbation kept only inside the explanation's top-k positive regions still
    gives the adversarial label (k = number of perturbed regions), else 0; the mean is the flip rate.

    Also ``label_flip.all_positive`` (inside every positive-weight region) and ``label_flip.oracle``
    (inside the k regions of largest perturbation energy), diagnostics: both flip by construction in the
    cases the module says. Undefined for examples without a perturbation, factorizations that cannot be
    mapped onto it, and explanations of another class than the adversarial one.
    """

    name = "label_flip"
    higher_is_better = True
    description = "adversarial perturbation kept inside the top-k regions only still flips the label"
    value_roles = (("all_positive", "diagnostic"), ("oracle", "diagnostic"))

    def value_names(self) -> list[str]:
        return [self.name, f"{self.name}.all_positive", f"{self.name}.oracle"]

    def score(self, item: MetricInput) -> Scores:
        perturbation = item.example.perturbation
        if perturbation is None:
            raise NotApplicableError("the example carries no adversarial perturbation")
        if item.explanation.target != perturbation.adversarial_label:
            raise NotApplicableError(
                "the explanation is not of the adversarial class, whose regions the perturbation drives"
            )
        masks = component_masks(item.factorization, perturbation, item.model)
        if masks is None:
            raise NotApplicableError(
                f"{item.factorization.layout.kind} components cannot be mapped onto a "
                f"perturbation in the {perturbation.domain} domain"
            )
        names = list(item.factorization.names)
        weights = np.asarray(item.explanation.weights, dtype=np.float64)
        k = len(perturbation.regions)
        delta = perturbation.delta
        energy = np.array([np.sum((delta * m) ** 2) for m in masks])
        selections = {
            self.name: [names.index(n) for n in top_positive(names, weights, k)],
            f"{self.name}.all_positive": list(np.flatnonzero(weights > 0)),
            f"{self.name}.oracle": list(np.argsort(-energy, kind="stable")[:k]),
        }
        clean = perturbation.clean
        inputs = np.stack(
            [
                clean + delta * np.clip(masks[chosen].sum(axis=0), 0, 1) if chosen else clean
                for chosen in selections.values()
            ]
        ).astype(np.float32)
        if perturbation.domain == "features":
            probabilities = item.model.predict_features(inputs)
        else:
            probabilities = item.model.predict_proba(inputs)
        flipped = probabilities.argmax(axis=1) == perturbation.adversarial_label
        return Scores({key: float(flip) for key, flip in zip(selections, flipped)})

    def plot(
        self, plt: Any, task: str, records: Sequence[Record], group_rows: Sequence[GroupRow], out: Path
    ) -> list[Figure]:
        """``label_flip_<task>.png``: flip rates of each explainer's top-k regions next to the norm oracle."""
        rates = {key: values_by_explainer(records, key) for key in (self.name, f"{self.name}.oracle")}
        if not rates[self.name]:
            return [
                Figure(
                    f"label_flip ({task})",
                    skipped="no example of this task carries a perturbation that its explanations' components map onto",
                )
            ]
        explainers = natural_order(rates[self.name])
        x = np.arange(len(explainers))
        fig, ax = plt.subplots(figsize=(max(7, 0.8 * len(explainers) + 3), 4.5))
        for i, (key, label) in enumerate(
            ((self.name, "explainer's top-k regions"), (f"{self.name}.oracle", "norm oracle (reference)"))
        ):
            heights = [np.mean(rates[key].get(e, [0.0])) for e in explainers]
            ax.bar(x + (i - 0.5) * 0.4, heights, 0.4, label=label)
        explainer_ticks(ax, explainers)
        ax.set_ylabel("label-flip rate")
        ax.set_ylim(0, 1)
        ax.set_title(f"{task}: the perturbation kept inside the top-k regions only still flips the label")
        return [Figure(f"label_flip ({task})", save(fig, figure_path(out, "label_flip", task), [ax]))]
