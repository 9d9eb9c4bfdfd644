"""The checks of a registered model: it builds a Classifier with probabilities per class in [0, 1],
is deterministic, agrees with its features path, and pickles."""

from __future__ import annotations

import pickle

import numpy as np

from audiox_bench.core.classifier import Classifier, FeatureClassifier
from audiox_bench.testing.subject import Check, Subject, expect, same_values


# -- models ---------------------------------------------------------------------------------------
def _model_audio(model: Classifier) -> np.ndarray:
    length = model.input_samples or 2 * model.sr
    return (0.1 * np.random.default_rng(0).standard_normal((3, length))).astype(np.float32)


def _model_builds(s: Subject) -> None:
    expect(isinstance(s.obj, Classifier), f"built a {type(s.obj).__name__}")
    expect(s.obj.sr > 0 and len(s.obj.classes) > 0, "sr and classes must be set")
    expect(len(set(s.obj.classes)) == len(s.obj.classes), "class names must be unique")


def _model_probabilities(s: Subject) -> None:
    model = s.obj
    probabilities = np.asarray(model.predict_proba(_model_audio(model)))
    expect(
        probabilities.shape == (3, len(model.classes)),
        f"probabilities of shape {probabilities.shape}, expected (3, {len(model.classes)})",
    )
    expect(
        bool(np.all(np.isfinite(probabilities))) and probabilities.min() >= 0 and probabilities.max() <= 1,
        "probabilities must be finite and in [0, 1]",
    )
    if not model.multi_label:
        expect(np.allclose(probabilities.sum(axis=1), 1, atol=1e-4), "rows must sum to 1 (or multi_label)")


def _model_deterministic(s: Subject) -> None:
    audio = _model_audio(s.obj)
    expect(
        same_values(s.obj.predict_proba(audio), s.obj.predict_proba(audio)), "two predictions of the same audio differ"
    )


def _model_features_path(s: Subject) -> None:
    model = s.obj
    if isinstance(model, FeatureClassifier):
        audio = _model_audio(model)
        expect(
            np.allclose(model.predict_features(model.features(audio)), model.predict_proba(audio), atol=1e-5),
            "predict_features(features(audio)) differs from predict_proba(audio)",
        )


def _model_pickles(s: Subject) -> None:
    audio = _model_audio(s.obj)
    expect(
        same_values(pickle.loads(pickle.dumps(s.obj)).predict_proba(audio), s.obj.predict_proba(audio)),
        "the unpickled model predicts differently",
    )


MODEL_CHECKS: list[Check] = [
    ("builds a Classifier", _model_builds),
    ("gives probabilities per class", _model_probabilities),
    ("is deterministic", _model_deterministic),
    ("agrees with its features path", _model_features_path),
    ("pickles for worker processes", _model_pickles),
]
