"""The baseline metrics switch components off to: one per task, the same for every explainer.

An explainer fits itself with its own occlusion content (SLIME's ``zero``, ``noise_norm`` ...). A metric
that asks what happens when components are switched off must not reuse it: SLIME with ``noise_norm``
scored on the very noise draw its surrogate was fit on looks more faithful than on any other baseline
(vocals, 10 examples: 0.91 on its own fill, 0.54 on ``zero``), and explainers fitted with different
contents would be scored on different perturbations. So every explainer is scored on the task's baseline
(:attr:`audiox_bench.core.task.Task.baseline`), over its own components: a segmentation is refilled with the
baseline content; sources are switched off by removing them (silence), whatever the baseline. A stochastic
baseline (``noise_norm``) is drawn from the instance's seed on a stream of its own, independent of the
draws the explanation made from that seed.
"""

from __future__ import annotations

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.core.components import Factorization, FeatureFactorization
from audiox_bench.core.registry import contents
from audiox_bench.factorizations.contents import content_fill

OWN = "own"  # the explanation's own fill: today's behaviour before one baseline per task, by request only
TASK = "task"  # a metric parameter meaning: the task's baseline
BASELINE_STREAM = 0xBA5E  # the baseline's random stream, apart from the explanation's draws


def check_baseline(name: str) -> str:
    """``name`` if it is ``task``, ``own`` or a registered occlusion content (an unknown one fails with the
    closest names)."""
    if name not in (TASK, OWN):
        contents.get(name)
    return name


def switched_off(factorization: Factorization, model: Classifier, baseline: str, seed: int) -> Factorization:
    """The factorization whose compose fills switched-off components with ``baseline``.

    Parameters
    ----------
    factorization : Factorization
        The explanation's components.
    model : Classifier
        The task's model (its training feature statistics feed some contents).
    baseline : str
        An occlusion content, or ``own`` (the factorization as the explanation used it).
    seed : int
        The instance's seed; a stochastic content draws from it on :data:`BASELINE_STREAM`.

    Raises
    ------
    NotApplicableError
        If the content needs training statistics the model does not have.
    """
    if baseline == OWN or not isinstance(factorization, FeatureFactorization):
        return factorization
    stats = model.feature_stats if isinstance(model, FeatureClassifier) else None
    rng = np.random.default_rng([seed, BASELINE_STREAM])
    fill = content_fill(contents.build(baseline), factorization.features, stats, rng, factorization.cell_map)
    return factorization.with_fill(fill)
