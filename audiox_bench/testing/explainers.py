"""The checks of an explainer: it builds, factorizes into typed components, returns finite weights for
every class, is deterministic under a seed, pickles, and answers a model without the capabilities it
needs with "not applicable"."""

from __future__ import annotations

import pickle

import numpy as np

from audiox_bench.core.classifier import Classifier
from audiox_bench.core.components import Component, Factorization
from audiox_bench.core.data import Explanation
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.core.interfaces import Explainer
from audiox_bench.perturbation.prediction_cache import forget_predictions
from audiox_bench.testing.subject import SEEDS, Check, Subject, expect, explain_once, is_json, same_values


class AudioOnlyClassifier(Classifier):
    """A classifier that declares no capability beyond ``predict_proba`` (the not-applicable path)."""

    def __init__(self, model: Classifier) -> None:
        self.sr, self.classes, self._model = model.sr, model.classes, model

    def predict_proba(self, audio: np.ndarray) -> np.ndarray:
        return self._model.predict_proba(audio)


# -- explainers -----------------------------------------------------------------------------------
def _explainer_builds(s: Subject) -> None:
    expect(isinstance(s.obj, Explainer), f"built a {type(s.obj).__name__}")
    expect(s.obj.family in ("source", "segmentation", "any"), f"family is {s.obj.family!r}")


def _explainer_factorizes(s: Subject) -> None:
    for example in s.examples:
        factorization = s.obj.factorize_for(s.task.model, example, SEEDS[0])
        components = factorization.components
        expect(isinstance(factorization, Factorization), f"factorize returned {type(factorization).__name__}")
        expect(
            len(components) > 0 and all(isinstance(c, Component) for c in components),
            "components must be a non-empty tuple of audiox_bench.Component",
        )
        expect(len(set(factorization.names)) == len(components), "component names must be unique")
        composed = factorization.compose(np.ones((2, len(components)), bool))
        expect(len(composed) == 2, f"compose of 2 masks returned {len(composed)} inputs")


def _explainer_weights(s: Subject) -> None:
    for example, target, factorization, explanation in s.explained:
        where = f"{example.id!r}, class {s.task.model.classes[target]!r}"
        expect(isinstance(explanation, Explanation), f"explain returned {type(explanation).__name__}")
        weights = np.asarray(explanation.weights, dtype=np.float64)
        expect(
            weights.shape == (factorization.n_components,),
            f"weights of shape {weights.shape}, expected ({factorization.n_components},) on {where}",
        )
        expect(bool(np.all(np.isfinite(weights))), f"NaN or infinite weights on {where}")
        expect(explanation.target == target, f"explained class {explanation.target} when asked for {target}")
        expect(tuple(explanation.components) == factorization.names, "components differ from the factorization's")
        expect(is_json(dict(explanation.extra)), "extra is not JSON-serialisable")


def _explainer_deterministic(s: Subject) -> None:
    model = s.task.model
    for example, target, _, first in s.explained[:2]:
        forget_predictions(model)
        _, again = explain_once(s.obj, model, example, SEEDS[0], target)
        expect(
            same_values(first.weights, again.weights),
            f"two explanations of {example.id!r} with seed {SEEDS[0]} differ "
            f"(max |difference| {np.max(np.abs(np.subtract(first.weights, again.weights))):.3g})",
        )


def _explainer_pickles(s: Subject) -> None:
    copy = pickle.loads(pickle.dumps(s.obj))
    example, target, _, first = s.explained[0]
    _, again = explain_once(copy, s.task.model, example, SEEDS[0], target)
    expect(same_values(first.weights, again.weights), "the unpickled explainer explains differently")


def _explainer_not_applicable(s: Subject) -> None:
    try:
        factorization, explanation = explain_once(s.obj, AudioOnlyClassifier(s.task.model), s.examples[0], SEEDS[0])
    except NotApplicableError:
        return
    expect(
        np.asarray(explanation.weights).shape == (factorization.n_components,),
        "on a predict_proba-only model: weights of the wrong shape",
    )


EXPLAINER_CHECKS: list[Check] = [
    ("builds from its SPEC", _explainer_builds),
    ("factorizes into typed components", _explainer_factorizes),
    ("returns finite weights, one per component, for every class", _explainer_weights),
    ("is deterministic under a fixed seed", _explainer_deterministic),
    ("pickles for worker processes", _explainer_pickles),
    ("is not applicable, not broken, without model capabilities", _explainer_not_applicable),
]
