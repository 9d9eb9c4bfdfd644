"""A runnable example of registering your own explainer with AudioX-Bench.

``peak`` ranks the components of another explainer's factorization by their peak level alone: it never
asks the model (like the built-in control ``energy``, which uses their RMS). It can look right when the
truth happens to be loud (the drums in ``confound``), and the parameter-randomization check exposes it
(its explanation does not change when the model is randomized, so ``randomization_divergence`` is 0).

Three ways to use it:

1. A file, through ``--plugin``::

       audiox list explainers --plugin examples/my_explainer.py
       audiox run --plugin examples/my_explainer.py --explainer peak --explainer audiolime --quick

2. An installed package: put the class in your package and declare, in its ``pyproject.toml``::

       [project.entry-points."audiox_bench.explainers"]
       peak = "my_package.my_explainer:PeakExplainer"

   ``audiox`` then finds ``peak`` by name, with no ``--plugin``.

3. The Python API: run this file (``python examples/my_explainer.py``); registering the class in the
   running process is enough for ``audiox_bench.run`` to find it.
"""

from __future__ import annotations

import time

import numpy as np

import audiox_bench
from audiox_bench import Classifier, Example, Explainer, Explanation, Factorization
from audiox_bench.core.registry import explainers
from audiox_bench.core.spec import Spec


@audiox_bench.register_explainer("peak")
class PeakExplainer(Explainer):
    """Weights = peak absolute level of each component alone (its audio, or its feature region above
    the fill).

    Parameters
    ----------
    over : str
        Registered explainer whose factorization is ranked (``audiolime``, ``slime``, ...).
    **factorization :
        That explainer's keywords, e.g. ``separator=hpss`` or ``content=mean_inp``.
    """

    family = "any"
    description = "components ranked by their peak level alone, without asking the model (example plugin)"

    def __init__(self, over: str = "audiolime", **factorization) -> None:
        self.over = explainers.build(Spec(over, factorization))
        self.family = self.over.family

    def factorize(self, model: Classifier, example: Example) -> Factorization:
        return self.over.factorize(model, example)

    def explain(self, model, example, factorization, target, seed) -> Explanation:
        start = time.perf_counter()
        alone = factorization.compose(np.eye(factorization.n_components, dtype=bool))
        flat = alone.reshape(len(alone), -1).astype(np.float64)
        if factorization.domain != "audio":  # features: a component's own region above the fill
            flat = flat - factorization.compose(np.zeros((1, factorization.n_components), bool)).reshape(1, -1)
        weights = np.max(np.abs(flat), axis=1)
        return Explanation(tuple(factorization.names), weights, int(target), seconds=time.perf_counter() - start)


if __name__ == "__main__":
    records = audiox_bench.run(
        explainers=["peak", "audiolime"],
        metrics=["topk_overlap", "randomization_divergence:n_models=2,curve=false"],
        n_examples=20,
        progress=True,
    )
    print(records.groupby("explainer")[["topk_overlap", "randomization_divergence"]].mean())
    print(records.attrs["leaderboard"].to_string(index=False))
