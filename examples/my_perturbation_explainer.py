"""An explainer that asks the model: how to score masks through the shared prediction path.

``permimp`` weighs each component by the average drop in the target score when it is removed from
random contexts (the other components each kept with probability 1/2): a Monte Carlo cousin of
Shapley values. It shows the three things an explainer that queries the model needs:

1. **Borrow a factorization.** ``over=audiolime`` (sources) or ``over=slime`` (segments of the model's
   input) decides what the components are; the keywords after it configure that factorization
   (``permimp:over=slime,content=mean_inp``). ``family`` is then that explainer's family: ``source``
   explanations are scored against a task's source truth (``drums``), ``segmentation`` ones against its
   segment truth (``t3``).
2. **Score masks with** ``prediction_cache(model).predict(model, factorization, masks)``. A mask row
   says which components are kept. The call composes the inputs in the cheapest exact domain (the
   model's features for segmentations; mixed spectra, or waveforms, for sources), evaluates them in the
   model's batches, never evaluates a mask twice for the same factorization (other explainers and the
   metrics share the cache), and its cost is counted for the record. Give it distinct masks
   (``distinct_masks``), then expand the answers back with ``.inverse``.
3. **Call features or audio yourself only when you need the input itself**, e.g. for gradients: ask
   for the capability with ``require(model, Differentiable, "my explainer")`` and read the
   factorization's ``features``; a model without it then gets "not applicable", not a crash.

Use it like the ``peak`` example::

    audiox check --plugin examples/my_perturbation_explainer.py
    audiox run --plugin examples/my_perturbation_explainer.py --explainer permimp --explainer audiolime \\
        --quick --out runs/permimp
    audiox compare runs/permimp --a permimp --b audiolime
"""

from __future__ import annotations

import time

import numpy as np

import audiox_bench
from audiox_bench import Classifier, Example, Explainer, Explanation, Factorization
from audiox_bench.core.registry import explainers
from audiox_bench.core.spec import Spec
from audiox_bench.perturbation.masks import distinct_masks
from audiox_bench.perturbation.prediction_cache import prediction_cache


@audiox_bench.register_explainer("permimp")
class ContextImportance(Explainer):
    """Average drop in the target score when a component is removed from random contexts.

    Parameters
    ----------
    over : str
        Registered explainer whose factorization is used (``audiolime``, ``slime``, ...).
    n_contexts : int
        Random contexts per component.
    **factorization :
        That explainer's keywords, e.g. ``separator=hpss`` or ``content=mean_inp``.
    """

    description = "average score drop when a component leaves random contexts (example plugin)"

    def __init__(self, over: str = "audiolime", n_contexts: int = 32, **factorization) -> None:
        if n_contexts < 1:
            raise ValueError("n_contexts must be at least 1")
        self.over = explainers.build(Spec(over, factorization))
        self.family = self.over.family
        self.n_contexts = int(n_contexts)

    @property
    def seeded_factorization(self) -> bool:  # a noise fill is drawn per seed: follow the borrowed explainer
        return self.over.seeded_factorization

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        return self.over.factorize(model, example)

    def factorize_for(self, model: Classifier, example: Example, seed: int) -> Factorization:
        return self.over.factorize_for(model, example, seed)

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        d, n = factorization.n_components, self.n_contexts
        contexts = np.random.default_rng(seed).random((n, d)) < 0.5
        with_component = np.repeat(contexts, d, axis=0)  # row c * d + i: context c with component i kept
        with_component[np.arange(n * d), np.tile(np.arange(d), n)] = True
        without = with_component.copy()
        without[np.arange(n * d), np.tile(np.arange(d), n)] = False
        distinct = distinct_masks(np.vstack([with_component, without]))
        probabilities = prediction_cache(model).predict(model, factorization, distinct.masks)
        scores = probabilities[distinct.inverse, target]
        drops = (scores[: n * d] - scores[n * d :]).reshape(n, d)
        return Explanation(
            tuple(factorization.names),
            drops.mean(axis=0),
            int(target),
            n_model_calls=len(distinct.masks),
            seconds=time.perf_counter() - start,
        )
