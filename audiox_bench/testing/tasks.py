"""The checks of a task: it prepares a classifier with validity checks and a JSON model card, serves the
same examples every time, states truth in a factorization's own component names for one of its classes,
and pickles with its model."""

from __future__ import annotations

import pickle

import numpy as np

from audiox_bench.core import registry
from audiox_bench.core.classifier import Classifier
from audiox_bench.core.data import GroundTruth
from audiox_bench.core.documents import ValidityCheck
from audiox_bench.core.errors import NotApplicableError
from audiox_bench.testing.subject import N_EXAMPLES, Check, Subject, expect, is_json, same_values


# -- tasks ----------------------------------------------------------------------------------------
def _task_prepares(s: Subject) -> None:
    task = s.obj
    task.prepare(progress=False)
    expect(isinstance(task.model, Classifier), "model is not an audiox_bench.Classifier")
    expect(all(isinstance(c, ValidityCheck) for c in task.validity_checks), "validity_checks must be ValidityChecks")
    expect(is_json(dict(task.model_card)), "the model card is not JSON-serialisable")


def _task_examples(s: Subject) -> None:
    task = s.obj
    examples, again = task.examples(N_EXAMPLES), task.examples(N_EXAMPLES)
    expect(len(examples) > 0, "no examples")
    expect(len({e.id for e in examples}) == len(examples), "example ids are not unique")
    expect([e.id for e in examples] == [e.id for e in again], "two calls serve different examples")
    expect(all(np.array_equal(a.audio, b.audio) for a, b in zip(examples, again)), "audio differs between calls")
    for example in examples:
        audio = np.asarray(example.audio)
        expect(
            audio.ndim == 1 and audio.size > 0 and bool(np.all(np.isfinite(audio))),
            f"example {example.id!r}: audio must be finite, 1-D and non-empty",
        )
        expect(
            example.sr == task.model.sr, f"example {example.id!r} is at {example.sr} Hz, the model at {task.model.sr}"
        )


def _task_truth(s: Subject) -> None:
    task = s.obj
    for name in ("audiolime", "slime"):
        explainer = registry.explainers.build(name)
        for example in task.examples(N_EXAMPLES):
            try:
                factorization = explainer.factorize(task.model, example)
            except NotApplicableError:
                continue
            truth = task.truth_for(example, factorization)
            expect(truth is None or isinstance(truth, GroundTruth), f"truth_for returned {type(truth).__name__}")
            if isinstance(truth, GroundTruth):
                unknown = set(truth.components) - set(factorization.names)
                expect(not unknown, f"truth names components the {name} factorization lacks: {sorted(unknown)}")
                expect(
                    truth.target is None or 0 <= truth.target < len(task.model.classes),
                    f"truth drives class {truth.target}, which the model does not have",
                )


def _task_pickles(s: Subject) -> None:
    task = s.obj
    copy = pickle.loads(pickle.dumps(task))
    audio = np.stack([e.audio for e in task.examples(N_EXAMPLES)])
    expect(
        same_values(copy.model.predict_proba(audio), task.model.predict_proba(audio)),
        "the unpickled task's model predicts differently",
    )


TASK_CHECKS: list[Check] = [
    ("builds and prepares its model", _task_prepares),
    ("serves examples deterministically", _task_examples),
    ("states truth in the factorization's component names, for one of its classes", _task_truth),
    ("pickles with its model for worker processes", _task_pickles),
]
