"""A component-mask view of a model for the reference implementations the tests check our metrics against
(Quantus), and our faithfulness next to Quantus' on the same subsets."""

from __future__ import annotations

from typing import Any

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Factorization
from audiox_bench.core.data import MetricInput
from audiox_bench.perturbation.prediction_cache import prediction_cache


def component_mask_model(model: Classifier, factorization: Factorization) -> Any:
    """A torch module (in eval mode) from masks over the components ``(n, 1, d)`` (or ``(n, d)``; > 0.5 is
    on) to the model's probabilities, through the shared prediction path: the view of an explanation that
    tools working on a model's input (Quantus, Captum) need to check our metrics on the same components.
    """
    import torch

    d = factorization.n_components

    class ComponentMasks(torch.nn.Module):
        def forward(self, masks: torch.Tensor) -> torch.Tensor:
            binary = masks.detach().cpu().numpy().reshape(len(masks), d) > 0.5
            probabilities = prediction_cache(model).predict(model, factorization, binary)
            return torch.from_numpy(probabilities)

    return ComponentMasks().eval()


def faithfulness_with_quantus(
    item: MetricInput, target: int, n_runs: int = 50, subset_size: int = 3
) -> tuple[float, float]:
    """Quantus' FaithfulnessCorrelation and ours on the same subsets of ``item``'s components.

    Quantus runs on :func:`component_mask_model` (input: all components on; baseline: off) and draws its
    subsets from numpy's global generator, seeded with ``item.seed``; replaying that generator gives the
    same subsets to :func:`faithfulness_of_subsets`. Needs ``quantus`` (the test extra).

    Returns
    -------
    (quantus, ours) : tuple of float
    """
    import quantus

    from audiox_bench.metrics.faithfulness import faithfulness_of_subsets

    d = item.factorization.n_components
    state = np.random.get_state()
    try:
        np.random.seed(item.seed)
        theirs = quantus.FaithfulnessCorrelation(
            nr_runs=n_runs,
            subset_size=subset_size,
            perturb_baseline=0.0,
            abs=False,
            normalise=False,
            return_aggregate=False,
            disable_warnings=True,
        )(
            model=component_mask_model(item.model, item.factorization),
            x_batch=np.ones((1, 1, d), np.float32),  # (batch, channel, components)
            y_batch=np.array([target]),
            a_batch=item.explanation.weights[None, None].astype(np.float32),
            softmax=False,
            device="cpu",
        )[0]
        np.random.seed(item.seed)
        subsets = np.zeros((n_runs, d), bool)
        for row in subsets:
            row[np.random.choice(d, subset_size, replace=False)] = True
    finally:
        np.random.set_state(state)
    return float(theirs), float(faithfulness_of_subsets(item, subsets))
